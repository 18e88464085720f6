-- mean_rounds.lua: pooled count and mean of a column over all stations, in two rounds
-- (round 1 counts, round 2 sums), to exercise pht sim's round loop.
return {
  name = "mean_rounds", version = "1.0.0",
  params = { column = "string" },
  station = function(data, params, round)
    local col = data:column(params.column)
    if round == 1 then return { n = col:count() } end
    return { n = col:count(), sum = col:sum(), sumsq = col:sumsq() }
  end,
  combine = function(results, params, round)
    local n, s, ss = 0, 0, 0
    for i, r in ipairs(results) do
      n = n + r.n
      if round > 1 then s, ss = s + r.sum, ss + r.sumsq end
    end
    if round == 1 then
      return { done = false, params = { column = params.column, n1 = n } }
    end
    return { done = true, result = { n = n, n_round1 = params.n1, mean = s / n,
      var = (ss - s * s / n) / (n - 1), stations = #results,
      first = results.stations[1] } }
  end,
}
