-- tiny_where: hostile train for the sandbox suite.
-- expect: disclosure subset smaller than k (3 rows, k = 5)
return {
  name = "tiny_where", version = "1",
  station = function(data, params, round)
    return data:where("id", "<=", 3):column("age"):sum()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
