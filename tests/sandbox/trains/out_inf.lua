-- out_inf: hostile train for the sandbox suite.
-- expect: disclosure output[2]: infinity is not plain data
return {
  name = "out_inf", version = "1",
  station = function(data, params, round)
    return {1, -math.huge}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
