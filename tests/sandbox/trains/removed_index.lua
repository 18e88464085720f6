-- removed_index: hostile train for the sandbox suite (a removed row-level method).
-- expect: train col[i] is not available: no row-level value reaches a train (docs/train-api.md)
return {
  name = "removed_index", version = "1",
  station = function(data, params, round)
    return data:where("id", "==", 5):column("age")[1]
  end,
  combine = function(results) return {done = true, result = 0} end,
}
