-- mem_rep_pcall: hostile train for the sandbox suite.
-- expect: limit memory cap of 33554432 bytes exceeded
return {
  name = "mem_rep_pcall", version = "1",
  station = function(data, params, round)
    while true do pcall(string.rep, "x", 1e9) end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
