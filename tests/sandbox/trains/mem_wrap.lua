-- mem_wrap: hostile train for the sandbox suite.
-- expect: limit memory cap of 33554432 bytes exceeded
return {
  name = "mem_wrap", version = "1",
  station = function(data, params, round)
    while true do
      pcall(coroutine.wrap(function() return string.rep("ab", 1e8) end))
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
