-- mem_rep: hostile train for the sandbox suite.
-- expect: limit memory cap of 33554432 bytes exceeded
return {
  name = "mem_rep", version = "1",
  station = function(data, params, round)
    return string.rep("x", 1e9)
  end,
  combine = function(results) return {done = true, result = 0} end,
}
