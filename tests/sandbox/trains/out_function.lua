-- out_function: hostile train for the sandbox suite.
-- expect: disclosure output.f: function is not plain data
return {
  name = "out_function", version = "1",
  station = function(data, params, round)
    return {f = function() end}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
