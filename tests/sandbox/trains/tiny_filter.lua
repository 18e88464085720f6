-- tiny_filter: hostile train for the sandbox suite.
-- expect: disclosure subset smaller than k (2 rows, k = 5)
return {
  name = "tiny_filter", version = "1",
  station = function(data, params, round)
    local v = data:filter(function(row) return row.id == 7 or row.id == 9 end)
    return v:column("smoker"):mean()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
