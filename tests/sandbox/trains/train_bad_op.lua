-- train_bad_op: hostile train for the sandbox suite.
-- expect: train where: operator < is not defined for category column sex
return {
  name = "train_bad_op", version = "1",
  station = function(data, params, round)
    return data:where("sex", "<", "M"):nrows()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
