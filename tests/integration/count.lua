-- count.lua — the integration suite's small train: rows per station, summed.
return {
  name = "count", version = "1.0.0",
  params = { spin = "integer" },
  station = function(data, params, round)
    -- spin: busy iterations first, so that a run lasts long enough to be interrupted
    local x = 0
    for i = 1, (params.spin or 0) do x = x + i end
    return { n = data:nrows(), spun = x > 0 }
  end,
  combine = function(results, params, round)
    local n = 0
    for _, r in ipairs(results) do n = n + r.n end
    return { done = true, result = { n = n, stations = #results } }
  end,
}
