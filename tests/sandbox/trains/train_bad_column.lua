-- train_bad_column: hostile train for the sandbox suite.
-- expect: train no column 'weight' in dataset reg
return {
  name = "train_bad_column", version = "1",
  station = function(data, params, round)
    return data:column("weight"):mean()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
