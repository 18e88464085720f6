-- loop_yield: hostile train for the sandbox suite.
-- expect: limit instruction budget of 1000000 exceeded
return {
  name = "loop_yield", version = "1",
  station = function(data, params, round)
    local co = coroutine.wrap(function() while true do coroutine.yield(pcall(function() while true do end end)) end end)
    while true do pcall(co) end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
