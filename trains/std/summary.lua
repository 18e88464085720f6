--[[
summary.lua — descriptive statistics by station and pooled (PHT standard
train). No raw minima or maxima are ever released.

Params
  columns     (array of strings, optional) columns to describe; default all
              columns of the dictionary (dates are skipped, with a note)
  histograms  (object, optional) per numeric column a grid chosen by the
              analyst (never from the data): { age = { from = 20, to = 90,
              width = 10 } }. Bins are [from + i*width, from + (i+1)*width);
              values below `from` or at/above `to` go to the open bins
              "below" and "above".
  k           (integer, optional) may raise the station's k (data:k()),
              never lower it

Output (combine result)
  numeric    per numeric column: n, missing, mean, sd — pooled exactly from
             each station's n, sum and sum of squares
  categories per category/boolean column: missing and level counts
  histograms per column: bins {from, to, count, incomplete} plus below/above
  stations   the same per station (suppressed where under k)
  notes

What a station releases: per numeric column n, number missing, sum and sum
of squares (the runtime's data:aggregate, under the station's k); per
category level a count (the runtime's group_by, which suppresses counts
under the station's k); per histogram bin a count. Missing counts and bin
counts between 1 and k - 1 are released only as "suppressed" (k here is
the station's, from data:k(); params.k may only raise it), and a column whose non-missing n is under k releases no sum.
Histogram edges come from the analyst's params, so no data value (minimum,
maximum, quantile) is ever released.
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


---------------------------------------------------------------------------
-- Moments over plain arrays
---------------------------------------------------------------------------
local M = {}

-- n, sum and sum of squares of a sequence of numbers.
function M.moments(x)
  local n, s, ss = #x, 0, 0
  for i = 1, n do s = s + x[i]; ss = ss + x[i] * x[i] end
  return { n = n, sum = s, sumsq = ss }
end

-- Pools {n, sum, sumsq} pieces: mean and sample sd of the union, exactly
-- as from the pooled data: var = (sumsq - sum^2 / n) / (n - 1).
function M.pool(pieces)
  local n, s, ss = 0, 0, 0
  for _, p in ipairs(pieces) do n = n + p.n; s = s + p.sum; ss = ss + p.sumsq end
  if n == 0 then return { n = 0 } end
  local mean = s / n
  local out = { n = n, mean = mean }
  if n > 1 then out.sd = math.sqrt(math.max(0, (ss - s * mean) / (n - 1))) end
  return out
end

-- Bin counts on the analyst's grid: counts[1..nb], below, above.
function M.histogram(x, from, to, width)
  local nb = math.ceil((to - from) / width - 1e-12)
  local counts = {}
  for i = 1, nb do counts[i] = 0 end
  local below, above = 0, 0
  for i = 1, #x do
    local v = x[i]
    if v < from then below = below + 1
    elseif v >= to then above = above + 1
    else
      local b = math.floor((v - from) / width) + 1
      if b > nb then b = nb end
      counts[b] = counts[b] + 1
    end
  end
  return counts, below, above, nb
end

local function values(col, nrows)
  local x, missing = {}, 0
  for i = 1, nrows do
    local v = col[i]
    if v == nil then missing = missing + 1 else x[#x + 1] = v end
  end
  return x, missing
end

local function check_grid(name, h)
  if type(h) ~= "table" or type(h.from) ~= "number" or type(h.to) ~= "number" or type(h.width) ~= "number"
      or not (h.width > 0) or not (h.to > h.from) or (h.to - h.from) / h.width > 1000 then
    error("histograms." .. name .. ": needs numbers from < to and width > 0, at most 1000 bins", 0)
  end
end

local function column_list(data, params)
  if params.columns ~= nil then
    if type(params.columns) ~= "table" then error("columns: a list of column names", 0) end
    return params.columns
  end
  local dict = data:dictionary()
  local out = {}
  for i, c in ipairs(dict.columns) do out[i] = c.name end
  return out
end

local function station(data, params, round)
  if round > 1 then error("refused: summary answers one round only", 0) end
  local k = E.min_count(data, params)
  local nrows = data:nrows()
  local out = { numeric = {}, categories = {}, histograms = {}, skipped = {} }
  for _, name in ipairs(column_list(data, params)) do
    local col = E.column(data, name, "columns")
    if col.type == "number" or col.type == "integer" then
      -- n, sum and sum of squares in one pass in the runtime, under the
      -- station's k; only a column with 0 < n < that k is read row by row
      -- (for its missing count)
      local a = data:aggregate({ name }).stats[name]
      local n, missing
      if a.suppressed then
        local x
        x, missing = values(col, nrows)
        n = #x
      else
        n, missing = a.n, nrows - a.n
      end
      local rm = T.release(missing, k)
      local rec = { column = name, missing = rm.count, missing_suppressed = rm.suppressed }
      if n >= k then
        rec.n, rec.sum, rec.sumsq = a.n, a.sum, a.sumsq
      else
        rec.suppressed = true
      end
      out.numeric[#out.numeric + 1] = rec
    elseif col.type == "category" or col.type == "boolean" then
      -- the runtime's group_by suppresses level counts under the station's k
      local cells, rec = {}, { column = name, missing = 0 }
      for _, g in ipairs(data:group_by(name)) do
        if g.missing then
          rec.missing, rec.missing_suppressed = g.n, g.suppressed
        else
          cells[#cells + 1] = { value = g.key, count = g.n, suppressed = g.suppressed }
        end
      end
      rec.levels = cells
      out.categories[#out.categories + 1] = rec
    else
      out.skipped[#out.skipped + 1] = name
    end
  end
  local hnames = {}
  for name in pairs(params.histograms or {}) do hnames[#hnames + 1] = name end
  table.sort(hnames)
  for _, name in ipairs(hnames) do
    local h = params.histograms[name]
    check_grid(name, h)
    local col = E.column(data, name, "histograms")
    if col.type ~= "number" and col.type ~= "integer" then
      error("histograms." .. name .. ": column must be numeric", 0)
    end
    local x = values(col, nrows)
    local counts, below, above, nb = M.histogram(x, h.from, h.to, h.width)
    local bins = {}
    for b = 1, nb do
      local r = T.release(counts[b], k)
      bins[b] = { count = r.count, suppressed = r.suppressed }
    end
    local rb, ra = T.release(below, k), T.release(above, k)
    out.histograms[#out.histograms + 1] = { column = name, bins = bins,
      below = rb.count, below_suppressed = rb.suppressed, above = ra.count, above_suppressed = ra.suppressed }
  end
  return out
end

local function combine(results, params, round)
  local notes, per = {}, {}
  local numeric, cats, hists = {}, {}, {}
  local norder, corder, horder = {}, {}, {}
  local function note(s)
    for _, v in ipairs(notes) do if v == s then return end end
    notes[#notes + 1] = s
  end
  for i, r in ipairs(results) do
    local id = results.stations[i]
    per[i] = { id = id, numeric = {}, categories = r.categories, histograms = r.histograms }
    for _, rec in ipairs(r.numeric) do
      local p = numeric[rec.column]
      if not p then
        p = { pieces = {}, missing = 0, incomplete = false }
        numeric[rec.column] = p
        norder[#norder + 1] = rec.column
      end
      if rec.suppressed then
        p.incomplete = true
        note("numeric columns under k at a station are left out of the pooled figures (marked incomplete)")
        per[i].numeric[#per[i].numeric + 1] = { column = rec.column, suppressed = true }
      else
        p.pieces[#p.pieces + 1] = rec
        local one = M.pool({ rec })
        per[i].numeric[#per[i].numeric + 1] = { column = rec.column, n = one.n, mean = one.mean, sd = one.sd,
          missing = rec.missing, missing_suppressed = rec.missing_suppressed }
      end
      if rec.missing_suppressed then
        p.missing_incomplete = true
        note("missing counts under k at a station are suppressed: pooled missing counts are then incomplete")
      else
        p.missing = p.missing + rec.missing
      end
    end
    for _, rec in ipairs(r.categories) do
      local p = cats[rec.column]
      if not p then
        p = { lists = {}, missing = 0 }
        cats[rec.column] = p
        corder[#corder + 1] = rec.column
      end
      p.lists[#p.lists + 1] = rec.levels
      if rec.missing_suppressed then p.missing_incomplete = true else p.missing = p.missing + rec.missing end
    end
    for _, h in ipairs(r.histograms) do
      local p = hists[h.column]
      if not p then
        p = { bins = {}, below = 0, above = 0 }
        for b = 1, #h.bins do p.bins[b] = { count = 0, incomplete = false } end
        hists[h.column] = p
        horder[#horder + 1] = h.column
      end
      for b, bin in ipairs(h.bins) do
        if bin.suppressed then p.bins[b].incomplete = true else p.bins[b].count = p.bins[b].count + bin.count end
      end
      if h.below_suppressed then p.below_incomplete = true else p.below = p.below + h.below end
      if h.above_suppressed then p.above_incomplete = true else p.above = p.above + h.above end
    end
    for _, name in ipairs(r.skipped) do note("column " .. name .. " skipped (dates are not summarised)") end
  end
  local res = { numeric = {}, categories = {}, histograms = {}, stations = per, notes = notes }
  for _, name in ipairs(norder) do
    local p = numeric[name]
    local pooled = M.pool(p.pieces)
    res.numeric[#res.numeric + 1] = { column = name, n = pooled.n, mean = pooled.mean, sd = pooled.sd,
      missing = p.missing, incomplete = p.incomplete or p.missing_incomplete or false }
  end
  for _, name in ipairs(corder) do
    local p = cats[name]
    local levels = T.pool(p.lists)
    local inc = p.missing_incomplete or false
    for _, l in ipairs(levels) do if l.incomplete then inc = true end end
    if inc then note("pooled level counts sum released counts only; counts under k were suppressed") end
    res.categories[#res.categories + 1] = { column = name, missing = p.missing, levels = levels, incomplete = inc }
  end
  for _, name in ipairs(horder) do
    local h = params.histograms[name]
    local p = hists[name]
    local bins = {}
    for b, bin in ipairs(p.bins) do
      bins[b] = { from = h.from + (b - 1) * h.width, to = math.min(h.from + b * h.width, h.to),
        count = bin.count, incomplete = bin.incomplete }
    end
    res.histograms[#res.histograms + 1] = { column = name, bins = bins,
      below = { count = p.below, incomplete = p.below_incomplete or false },
      above = { count = p.above, incomplete = p.above_incomplete or false } }
  end
  return { done = true, result = res }
end

return {
  name = "summary",
  version = "1.0.0",
  params = {
    columns = "array of strings: columns to describe (default: all)",
    histograms = "object: per numeric column {from, to, width} (optional)",
    k = "integer: may raise the station's k (data:k()), never lower it",
  },
  station = station,
  combine = combine,
  math = { moments = M.moments, pool = M.pool, histogram = M.histogram },
}
