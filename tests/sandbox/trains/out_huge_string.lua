-- out_huge_string: hostile train for the sandbox suite.
-- expect: disclosure output exceeds the cap of 1048576 bytes
-- limits: instructions=2000000000
return {
  name = "out_huge_string", version = "1",
  station = function(data, params, round)
    return {s = string.rep("x", 2000000)}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
