-- loop_co_nested: hostile train for the sandbox suite: the spin runs two
-- coroutines deep, so the CPU timer must hook the thread running now.
-- expect: limit instruction budget of 1000000 exceeded
-- limits: wall=20
return {
  name = "loop_co_nested", version = "1",
  station = function(data, params, round)
    local inner = coroutine.wrap(function() while true do end end)
    local outer = coroutine.create(function() inner() end)
    coroutine.resume(outer)
    return {}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
