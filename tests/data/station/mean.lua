-- mean.lua — a small train for the station tests: count, sum and mean of a
-- numeric column, optionally among one sex, optionally with a random draw
-- (params.noise) so that replays must use the recorded seed.
return {
  name = "mean", version = "1.0.0",
  params = { column = "string", sex = "string (optional)", noise = "boolean (optional)" },
  station = function(data, params, round)
    local view = data
    if params.sex ~= nil then view = data:where("sex", "==", params.sex) end
    local col = view:column(params.column)
    local out = { n = col:count(), sum = col:sum(), mean = col:mean() }
    if params.noise then out.noise = math.random() end
    return out
  end,
  combine = function(results, params, round)
    local n, s, per = 0, 0, {}
    for i = 1, #results do
      n = n + results[i].n; s = s + results[i].sum
      per[i] = results[i]
    end
    return { done = true, result = { n = n, sum = s, mean = s / n, stations = per } }
  end,
}
