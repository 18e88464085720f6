-- train_error_table: hostile train for the sandbox suite.
-- expect: train (error object is a table value)
return {
  name = "train_error_table", version = "1",
  station = function(data, params, round)
    error({code = 1})
  end,
  combine = function(results) return {done = true, result = 0} end,
}
