-- mem_table: hostile train for the sandbox suite.
-- expect: limit memory cap of 33554432 bytes exceeded
-- limits: instructions=2000000000
return {
  name = "mem_table", version = "1",
  station = function(data, params, round)
    local t = {}
    for i = 1, 1e9 do t[i] = {i} end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
