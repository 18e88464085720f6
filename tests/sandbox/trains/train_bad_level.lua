-- train_bad_level: hostile train for the sandbox suite.
-- expect: train where: column sex has no level 'Q'
return {
  name = "train_bad_level", version = "1",
  station = function(data, params, round)
    return data:where("sex", "==", "Q"):nrows()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
