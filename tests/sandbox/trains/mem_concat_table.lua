-- mem_concat_table: hostile train for the sandbox suite.
-- expect: limit memory cap of 33554432 bytes exceeded
-- limits: instructions=2000000000
return {
  name = "mem_concat_table", version = "1",
  station = function(data, params, round)
    local t = {}
    for i = 1, 100 do t[i] = string.rep("y", 1e6) end
    return table.concat(t)
  end,
  combine = function(results) return {done = true, result = 0} end,
}
