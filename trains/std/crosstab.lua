--[[
crosstab.lua — contingency table of two columns, by station and pooled
(PHT standard train).

Params
  rows     (string, required) category, boolean or integer column
  cols     (string, required) category, boolean or integer column

Rows with a missing value in either column are left out (by the runtime's
crosstab).

Output (combine result)
  rows, cols               the column names
  row_values, col_values   the values (dictionary order for categories and
                           booleans, ascending for integers)
  stations   per station: id, cells = sequence of {row, col, count} or
             {row, col, suppressed = true}
  pooled     cells = sequence of {row, col, count, incomplete}: sums of the
             released cells only; `incomplete` marks cells where some
             station suppressed its count (a note says so)

What a station releases: the cell counts of the runtime's crosstab, which
suppresses every count between 1 and k - 1 with the station's own k. No
margins are released, so a suppressed cell cannot be recovered from a
released total by this train.
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


local function category_like(data, name, what)
  local col = E.column(data, name, what)
  if col.type ~= "category" and col.type ~= "boolean" and col.type ~= "integer" then
    error(what .. ": column '" .. name .. "' must be category, boolean or integer", 0)
  end
  return col
end

-- The runtime's crosstab {rows, cols, counts[i][j] = n | {suppressed}} as a
-- flat sequence of cells.
function T.cells(tab)
  local cells = {}
  for i, x in ipairs(tab.rows) do
    for j, y in ipairs(tab.cols) do
      local c = tab.counts[i][j]
      if type(c) == "table" and c.suppressed then
        cells[#cells + 1] = { row = x, col = y, suppressed = true }
      else
        cells[#cells + 1] = { row = x, col = y, count = c }
      end
    end
  end
  return cells
end

local function station(data, params, round)
  if round > 1 then error("refused: crosstab answers one round only", 0) end
  category_like(data, params.rows, "rows")
  category_like(data, params.cols, "cols")
  local tab = data:crosstab(params.rows, params.cols)
  return { cells = T.cells(tab), row_values = tab.rows, col_values = tab.cols }
end

local function combine(results, params, round)
  local per, notes = {}, {}
  local by = {}
  local rv, cv, rseen, cseen = {}, {}, {}, {}
  for i, r in ipairs(results) do
    per[i] = { id = results.stations[i], cells = r.cells }
    for _, v in ipairs(r.row_values) do
      if not rseen[T.label(v)] then rseen[T.label(v)] = true; rv[#rv + 1] = v end
    end
    for _, v in ipairs(r.col_values) do
      if not cseen[T.label(v)] then cseen[T.label(v)] = true; cv[#cv + 1] = v end
    end
    for _, c in ipairs(r.cells) do
      local key = T.label(c.row) .. "\0" .. T.label(c.col)
      local p = by[key]
      if not p then
        p = { row = c.row, col = c.col, count = 0, incomplete = false }
        by[key] = p
      end
      if c.suppressed then p.incomplete = true else p.count = p.count + c.count end
    end
  end
  local function sorted(vals)
    if #vals > 0 and type(vals[1]) == "number" then table.sort(vals) end
  end
  sorted(rv)
  sorted(cv)
  local pooled, incomplete = {}, false
  for _, x in ipairs(rv) do
    for _, y in ipairs(cv) do
      local p = by[T.label(x) .. "\0" .. T.label(y)] or { row = x, col = y, count = 0, incomplete = false }
      pooled[#pooled + 1] = p
      if p.incomplete then incomplete = true end
    end
  end
  if incomplete then
    notes[#notes + 1] = "pooled cells sum released counts only; cells marked incomplete were under k at some station"
  end
  return { done = true, result = { rows = params.rows, cols = params.cols, row_values = rv, col_values = cv,
    stations = per, pooled = { cells = pooled }, notes = notes } }
end

return {
  name = "crosstab",
  version = "1.0.0",
  params = {
    rows = "string: row column (required)",
    cols = "string: column column (required)",
  },
  station = station,
  combine = combine,
  math = { cells = T.cells, pool = T.pool, label = T.label },
}
