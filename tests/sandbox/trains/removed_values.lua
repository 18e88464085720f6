-- removed_values: hostile train for the sandbox suite (a removed row-level method).
-- expect: train col:values() is not available: no row-level value reaches a train (docs/train-api.md)
return {
  name = "removed_values", version = "1",
  station = function(data, params, round)
    return data:column("age"):values()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
