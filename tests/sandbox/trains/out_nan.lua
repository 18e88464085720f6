-- out_nan: hostile train for the sandbox suite.
-- expect: disclosure output.x: NaN is not plain data
return {
  name = "out_nan", version = "1",
  station = function(data, params, round)
    return {x = 0/0}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
