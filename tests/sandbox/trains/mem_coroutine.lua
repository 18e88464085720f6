-- mem_coroutine: hostile train for the sandbox suite.
-- expect: limit memory cap of 33554432 bytes exceeded
-- limits: instructions=2000000000
return {
  name = "mem_coroutine", version = "1",
  station = function(data, params, round)
    while true do
      local co = coroutine.create(function() local t = {} for i = 1, 1e9 do t[i] = i end end)
      coroutine.resume(co)
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
