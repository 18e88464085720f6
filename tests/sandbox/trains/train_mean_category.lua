-- train_mean_category: hostile train for the sandbox suite.
-- expect: train mean: column sex is a category column, not numeric
return {
  name = "train_mean_category", version = "1",
  station = function(data, params, round)
    return data:column("sex"):mean()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
