-- tiny_k10: hostile train for the sandbox suite.
-- expect: disclosure subset smaller than k (8 rows, k = 10)
-- limits: k=10
return {
  name = "tiny_k10", version = "1",
  station = function(data, params, round)
    return data:where("id", "<=", 8):column("age"):count()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
