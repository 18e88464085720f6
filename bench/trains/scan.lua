--[[
scan.lua — benchmark train: the filtered count/sum/mean and group-by of
benchmark 2 through the data API (where, count, sum, mean, group_by).
Runs the scan params.reps times (0 = only the fixed cost of a run) and
returns the last result: n, sum, mean and per treatment {n, sum}.
]]
return {
  name = "bench-scan", version = "1.0.0",
  params = { reps = "integer" },
  station = function(data, params)
    local out = { n = 0, sum = 0, mean = 0, groups = {} }
    for _ = 1, params.reps do
      local v = data:where("age", ">=", 65)
      local cost = v:column("cost")
      local groups = {}
      for _, g in ipairs(v:group_by("treatment")) do
        if g.data then
          groups[g.key] = { n = g.n, sum = g.data:column("cost"):sum() }
        end
      end
      out = { n = cost:count(), sum = cost:sum(), mean = cost:mean(), groups = groups }
    end
    return out
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
