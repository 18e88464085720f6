-- loop_close: hostile train for the sandbox suite.
-- expect: limit instruction budget of 1000000 exceeded
return {
  name = "loop_close", version = "1",
  station = function(data, params, round)
    while true do
      local co = coroutine.create(function() while true do end end)
      coroutine.resume(co)
      coroutine.close(co)
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
