-- out_userdata: hostile train for the sandbox suite.
-- expect: disclosure output: userdata is not plain data
return {
  name = "out_userdata", version = "1",
  station = function(data, params, round)
    return data
  end,
  combine = function(results) return {done = true, result = 0} end,
}
