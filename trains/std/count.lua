--[[
count.lua — row counts by station and pooled (PHT standard train).

Params
  columns  (array of strings, optional) count only rows with a value in
           every one of these columns (complete cases); default: all rows
  by       (string, optional) a category, boolean or integer column: counts
           per value of it (rows missing it are counted as "missing")

Output (combine result)
  stations   per station: id, and either count (by absent) or cells =
             sequence of {value, count} / {value, suppressed = true}, and
             missing / missing_suppressed
  pooled     total (by absent) or cells = sequence of {value, count,
             incomplete}; the pooled figures are sums of the released
             counts only, and `incomplete` (with a note) says that some
             station's count was suppressed.

What a station releases: counts of rows, computed by the runtime's own
primitives (nrows, where, group_by), so the station's k applies: a count
between 1 and k - 1 is released only as "suppressed" (group_by), and a
station whose selected rows number 1 to k - 1 refuses the whole count
("subset smaller than k"). Zero is released as 0 (it identifies no one).
]]
---------------------------------------------------------------------------
-- shared block: extract (the same text in every standard train)
-- Turns the station's data view into plain Lua arrays; the math never
-- sees `data`.
---------------------------------------------------------------------------
local E = {}

-- The column `name` of `data`, or a clear error naming the parameter.
function E.column(data, name, what)
  if type(name) ~= "string" or name == "" then
    error(what .. ": a column name is required", 0)
  end
  local ok, col = pcall(data.column, data, name)
  if not ok or col == nil then
    error(what .. ": no column '" .. name .. "' in this dataset", 0)
  end
  return col
end

-- The smallest count a station releases: the station's k from the data
-- API (data:k()); params.k, which the analyst controls, may only raise
-- it. Only where data:k() is missing (an older runtime) params.k, else 5
-- (the design's default).
function E.min_count(data, params)
  local pk = type(params.k) == "number" and params.k or nil
  local ok, k = pcall(function() return data:k() end)
  if ok and type(k) == "number" then
    if pk ~= nil and pk > k then return pk end
    return k
  end
  return pk or 5
end

-- A covariate column turned into design terms named as R names them:
-- numbers and booleans (0/1, as R reads them from the CSV) keep their
-- name, categories give one 0/1 term per level after the dictionary's
-- first (NAMElevel).
function E.terms(col, name, what)
  local ty = col.type
  if ty == "number" or ty == "integer" then
    return { { name = name, value = function(v) return v end } }
  elseif ty == "boolean" then
    return { { name = name, binary = true,
      value = function(v) return v and 1 or 0 end } }
  elseif ty == "category" then
    local levels = col.levels
    if type(levels) ~= "table" or #levels < 2 then
      error(what .. ": category column '" .. name .. "' needs at least two levels in the dictionary", 0)
    end
    local out = {}
    for j = 2, #levels do
      local lv = levels[j]
      out[#out + 1] = { name = name .. lv, binary = true,
        value = function(v) return v == lv and 1 or 0 end }
    end
    return out
  end
  error(what .. ": column '" .. name .. "' has type " .. tostring(ty) .. ", which cannot be a covariate", 0)
end

-- The event indicator as a function of a cell: booleans true, numbers equal
-- to event_value (default: the column must be coded 0/1), categories equal
-- to the level event_value (required).
function E.event_fn(col, name, event_value)
  local ty = col.type
  if ty == "boolean" then
    if event_value == nil or event_value == true then return function(v) return v == true end end
    return function(v) return v == event_value end
  elseif ty == "number" or ty == "integer" then
    if event_value ~= nil then
      if type(event_value) ~= "number" then
        error("event_value: column '" .. name .. "' is numeric, event_value must be a number", 0)
      end
      return function(v) return v == event_value end
    end
    return function(v)
      if v == 1 then return true elseif v == 0 then return false end
      error("event: column '" .. name .. "' has the value " .. tostring(v) ..
        "; code it 0/1 or give params.event_value (the code meaning an event)", 0)
    end
  elseif ty == "category" then
    if type(event_value) ~= "string" then
      error("event_value: column '" .. name .. "' is a category; name the level meaning an event", 0)
    end
    return function(v) return v == event_value end
  end
  error("event: column '" .. name .. "' has type " .. tostring(ty) .. ", which cannot be an event indicator", 0)
end

-- Reads columns by name into plain arrays over the complete cases.
-- cols: sequence of {name=, col=}. Returns arrays (keyed by position in
-- cols), the number of complete rows and the number of rows dropped.
function E.complete_cases(cols, nrows)
  local out, src = {}, {}
  for j = 1, #cols do
    out[j] = {}
    -- the whole column in one call where the data API offers it
    local c = cols[j].col
    local ok, vals = pcall(function() return c:values() end)
    src[j] = (ok and type(vals) == "table") and vals or c
  end
  local n, dropped = 0, 0
  for i = 1, nrows do
    local ok = true
    local row = {}
    for j = 1, #cols do
      local v = src[j][i]
      if v == nil then ok = false; break end
      row[j] = v
    end
    if ok then
      n = n + 1
      for j = 1, #cols do out[j][n] = row[j] end
    else
      dropped = dropped + 1
    end
  end
  return out, n, dropped
end

-- Builds the design (term names, columns X[j][i], binary flags) for the
-- covariate names from the complete-case arrays raw[name].
function E.design(data, covariates, raw)
  local names, X, binary = {}, {}, {}
  for _, cname in ipairs(covariates) do
    local col = E.column(data, cname, "covariates")
    for _, term in ipairs(E.terms(col, cname, "covariates")) do
      local x = {}
      local vals = raw[cname]
      local is01 = true
      for i = 1, #vals do
        local v = term.value(vals[i])
        x[i] = v
        if v ~= 0 and v ~= 1 then is01 = false end
      end
      names[#names + 1] = term.name
      X[#X + 1] = x
      binary[#binary + 1] = term.binary or is01
    end
  end
  return names, X, binary
end

-- Station guards for models (DataSHIELD's nfilter.glm and the design):
-- n >= 3 x parameters, every binary column's smaller class 0 or >= k,
-- rounds capped.
function E.model_guards(n, nparam, names, X, binary, k, round, max_rounds)
  if round > max_rounds then
    error(string.format("refused: round %d exceeds the cap of %d rounds", round, max_rounds), 0)
  end
  if n < 3 * nparam then
    error(string.format("refused: %d complete rows for %d parameters; a model needs n >= 3 x parameters at each station",
      n, nparam), 0)
  end
  for j = 1, #names do
    if binary[j] then
      local ones = 0
      for i = 1, n do if X[j][i] == 1 then ones = ones + 1 end end
      local small = math.min(ones, n - ones)
      if small > 0 and small < k then
        error(string.format("refused: binary covariate '%s' has a class of %d rows at this station, fewer than k = %d",
          names[j], small, k), 0)
      end
    end
  end
end

---------------------------------------------------------------------------
-- shared block: tally (the same text in count, crosstab, summary and
-- outcomes): counting over plain arrays
---------------------------------------------------------------------------
local T = {}

-- A printable key for a cell value (integers without ".0").
function T.label(v)
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
    return string.format("%d", v)
  end
  return tostring(v)
end

-- The values a column can take, in dictionary order where there is one.
function T.domain(col)
  if col.type == "category" then
    local out = {}
    for i, lv in ipairs(col.levels) do out[i] = lv end
    return out
  elseif col.type == "boolean" then
    return { false, true }
  end
  return nil
end

-- A released count: the number, or suppressed when 0 < n < k.
function T.release(n, k)
  if n > 0 and n < k then return { suppressed = true } end
  return { count = n }
end

-- Sums released cells keyed by label across stations, in first-seen
-- order. cells_per_station: sequences of {value, count|suppressed}.
function T.pool(cells_per_station)
  local by, order = {}, {}
  for _, cells in ipairs(cells_per_station) do
    for _, c in ipairs(cells) do
      local key = T.label(c.value)
      local p = by[key]
      if not p then
        p = { value = c.value, count = 0, incomplete = false }
        by[key] = p
        order[#order + 1] = key
      end
      if c.suppressed then p.incomplete = true else p.count = p.count + c.count end
    end
  end
  local out = {}
  for i, key in ipairs(order) do out[i] = by[key] end
  return out
end


local function station(data, params, round)
  if round > 1 then error("refused: count answers one round only", 0) end
  local view = data
  if params.columns ~= nil and type(params.columns) ~= "table" then
    error("columns: a list of column names", 0)
  end
  for _, name in ipairs(params.columns or {}) do
    E.column(data, name, "columns")
    view = view:where(name, "notnull")
  end
  if params.by == nil then
    return { count = view:nrows() }
  end
  local bycol = E.column(data, params.by, "by")
  if bycol.type ~= "category" and bycol.type ~= "boolean" and bycol.type ~= "integer" then
    error("by: column '" .. params.by .. "' must be category, boolean or integer", 0)
  end
  local cells, out = {}, {}
  for _, g in ipairs(view:group_by(params.by)) do
    if g.missing then
      out.missing, out.missing_suppressed = g.n, g.suppressed
    else
      cells[#cells + 1] = { value = g.key, count = g.n, suppressed = g.suppressed }
    end
  end
  out.cells = cells
  return out
end

local function combine(results, params, round)
  local per, notes = {}, {}
  if params.by == nil then
    local total = 0
    for i, r in ipairs(results) do
      per[i] = { id = results.stations[i], count = r.count }
      total = total + r.count
    end
    return { done = true, result = { stations = per, pooled = { total = total }, notes = notes } }
  end
  local lists = {}
  local missing, missing_incomplete = 0, false
  for i, r in ipairs(results) do
    per[i] = { id = results.stations[i], cells = r.cells, missing = r.missing or 0,
      missing_suppressed = r.missing_suppressed }
    lists[#lists + 1] = r.cells
    if r.missing_suppressed then missing_incomplete = true else missing = missing + (r.missing or 0) end
  end
  local pooled = T.pool(lists)
  for _, c in ipairs(pooled) do
    if c.incomplete then
      notes[#notes + 1] = "pooled counts sum released cells only; cells under k were suppressed at some stations"
      break
    end
  end
  return { done = true, result = { by = params.by, stations = per,
    pooled = { cells = pooled, missing = missing, missing_incomplete = missing_incomplete }, notes = notes } }
end

return {
  name = "count",
  version = "1.0.0",
  params = {
    columns = "array of strings: count rows complete in these columns (optional)",
    by = "string: count per value of this column (optional)",
  },
  station = station,
  combine = combine,
  math = { label = T.label, release = T.release, pool = T.pool },
}
