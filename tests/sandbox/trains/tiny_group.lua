-- tiny_group: hostile train for the sandbox suite.
-- expect: disclosure subset smaller than k (3 rows, k = 5)
return {
  name = "tiny_group", version = "1",
  station = function(data, params, round)
    return data:where("id", "in", {1, 2, 3}):group_by("sex")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
