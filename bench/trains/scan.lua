--[[
scan.lua — benchmark train: the filtered count/sum/mean and group-by of
benchmark 2 through the data API (where, then aggregate_by: per group and in all).
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
      -- per treatment and in all: count and sum of cost in one pass
      -- (groups under k come back suppressed); no var or sd asked for,
      -- so no second pass over cost
      local by, all = v:aggregate_by("treatment", { "cost" }, { second = false })
      local groups = {}
      for _, g in ipairs(by) do
        if g.key ~= nil and not g.suppressed then
          groups[g.key] = { n = g.n, sum = g.stats.cost.sum }
        end
      end
      local cost = all.stats.cost
      out = { n = cost.n, sum = cost.sum, mean = cost.mean, groups = groups }
    end
    return out
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
