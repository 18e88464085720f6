-- removed_max: hostile train for the sandbox suite (a removed row-level method).
-- expect: train col:max() is not available: no row-level value reaches a train (docs/train-api.md)
return {
  name = "removed_max", version = "1",
  station = function(data, params, round)
    return data:where("sex", "==", "F"):column("dx"):max()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
