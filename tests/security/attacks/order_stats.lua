-- order_stats.lua — attack: one order statistic or the sorted values of a column (params.method, params.column; params.id names the identifier).
local function try(f)
  local ok, v = pcall(f)
  if ok then return v end
  return nil
end

local methods = {
  max = function(d, c) return d:column(c):max() end,
  min = function(d, c) return d:column(c):min() end,
  aggregate = function(d, c)
    local s = d:aggregate({ c }).stats[c]
    return { s.min, s.max }
  end,
  aggregate_by = function(d, c, p)
    local out = {}
    for _, g in ipairs(d:aggregate_by(p.by, { c })) do
      local s = g.stats and g.stats[c]
      if s then out[#out + 1] = { s.min or false, s.max or false } end
    end
    return out
  end,
  order_index = function(d, c) return d:order(c, "desc"):column(c)[1] end,
  order_id = function(d, c, p) return d:order(c, "desc"):column(p.id)[1] end,
  sorted = function(d, c) return d:order(c):column(c):values() end,
  quantile = function(d, c)
    if d.quantile then return { d:quantile(c, 1), d:quantile(c, 0), d:quantile(c, 1, 1) } end
    return { d:column(c):quantile(1), d:column(c):quantile(0) }
  end,
}

return {
  name = "order_stats", version = "1",
  station = function(data, params)
    local f = methods[params.method]
    if f == nil then error("method: unknown", 0) end
    local got = try(function() return f(data, params.column, params) end)
    if type(got) == "table" then
      local t = {}
      for i = 1, #got do t[i] = got[i] == nil and false or got[i] end
      got = t
    end
    return { got = got == nil and false or got, n = data:nrows() }
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
