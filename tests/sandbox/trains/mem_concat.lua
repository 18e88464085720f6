-- mem_concat: hostile train for the sandbox suite.
-- expect: limit memory cap of 33554432 bytes exceeded
-- limits: instructions=2000000000
return {
  name = "mem_concat", version = "1",
  station = function(data, params, round)
    local s = "x"
    while true do s = s .. s end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
