-- out_boolean_key: hostile train for the sandbox suite.
-- expect: disclosure output: table key of type boolean is not a string
return {
  name = "out_boolean_key", version = "1",
  station = function(data, params, round)
    return {[true] = 1}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
