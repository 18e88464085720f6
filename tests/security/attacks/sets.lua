-- sets.lua — attack: count and sum of a column over sets the analyst picks (differencing: three sets, n sets, shifting windows, complete cases, identifier lists).
-- params.sets: a list of sets, each {column = C, values = {...}} (rows whose C is in the list),
-- {column = C, from = A, to = B} (A <= C <= B), {column = C, notnull = true} or {} (all rows);
-- params.sum: the column summed (default "cost").
local function view(data, s)
  if s.values ~= nil then return data:where(s.column, "in", s.values) end
  if s.from ~= nil then return data:where(s.column, ">=", s.from):where(s.column, "<=", s.to) end
  if s.notnull then return data:where(s.column, "notnull") end
  return data
end

return {
  name = "sets", version = "1",
  station = function(data, params)
    local out = {}
    for i, s in ipairs(params.sets) do
      local v = view(data, s)
      local c = v:column(params.sum or "cost")
      out[i] = { n = c:count(), sum = c:sum() }
    end
    return { sets = out }
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
