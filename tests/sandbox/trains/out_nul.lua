-- out_nul: hostile train for the sandbox suite.
-- expect: disclosure output.s: string contains a NUL byte
return {
  name = "out_nul", version = "1",
  station = function(data, params, round)
    return {s = "a\0b"}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
