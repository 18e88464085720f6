-- tiny_crosstab: hostile train for the sandbox suite.
-- expect: disclosure subset smaller than k (2 rows, k = 5)
return {
  name = "tiny_crosstab", version = "1",
  station = function(data, params, round)
    return data:where("id", "<", 3):crosstab("sex", "stage")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
