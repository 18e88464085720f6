-- tiny_row: hostile train for the sandbox suite.
-- expect: disclosure subset smaller than k (1 rows, k = 5)
return {
  name = "tiny_row", version = "1",
  station = function(data, params, round)
    return data:where("id", "==", 5):column("age")[1]
  end,
  combine = function(results) return {done = true, result = 0} end,
}
