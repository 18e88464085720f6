-- removed_order: hostile train for the sandbox suite (a removed row-level method).
-- expect: train data:order() is not available: no row-level value reaches a train (docs/train-api.md)
return {
  name = "removed_order", version = "1",
  station = function(data, params, round)
    return data:order("age", "desc"):column("id"):sum()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
