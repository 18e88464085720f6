-- removed_filter: hostile train for the sandbox suite (a removed row-level method).
-- expect: train data:filter() is not available: no row-level value reaches a train (docs/train-api.md)
return {
  name = "removed_filter", version = "1",
  station = function(data, params, round)
    local v = data:filter(function(row) return row.id == 7 or row.id == 9 end)
    return v:column("smoker"):mean()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
