-- out_float_key: hostile train for the sandbox suite.
-- expect: disclosure output: table key 1.5 is not a string or integer
return {
  name = "out_float_key", version = "1",
  station = function(data, params, round)
    return {[1.5] = 1}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
