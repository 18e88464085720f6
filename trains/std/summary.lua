--[[
summary.lua — descriptive statistics by station and pooled (PHT standard
train). No minimum, maximum or single value is ever released.

Params and what a station releases: declared in TRAIN below (`pht train
describe trains/std/summary.lua` prints them; pht run and pht sim check the
params against it and the stations' dictionaries before anything runs).

Output (combine result)
  numeric    per numeric column: n, missing, mean, sd — pooled exactly from
             each station's n, sum and variance; quantiles = sequence of
             {p, mean, n}: the count-weighted mean of the stations' blocks
             (an approximation of the pooled quantile, not R's quantile)
  categories per category/boolean column: missing and level counts
  histograms per column: bins {from, to, count, incomplete} plus below/above
  stations   the same per station (suppressed where under k)
  notes
]]
local TRAIN = {
  name = "summary",
  version = "2.0.0",
  params = {
    { name = "columns", type = "columns",
      doc = "columns to describe; default all columns of the dictionary (dates are skipped, with a note)" },
    { name = "histograms", type = "column map", column_types = { "number", "integer" },
      doc = [[per numeric column a grid asked by the analyst: { age = { from = 20, to = 90, width = 10 } }.
The station snaps the edges from, from + width, ..., to onto its own grid
for the column (policy; never finer) and counts bins (a, b] as R's
cut(right = TRUE); values at or below the first edge go to "below", values
above the last to "above".]] },
    { name = "quantiles", type = "numbers", min = 0, max = 1,
      doc = [[per numeric column the quantiles to describe, e.g. [0.25, 0.5, 0.75];
default none. Each is released as the mean of a block of at least k values
around the quantile (data:quantile), never as one value. The blocks are
small row sets: after a data update the station's release auditing may
withhold them, so they are asked for, not given by default]] },
    { name = "k", type = "integer", min = 1, doc = "may raise the station's k (data:k()), never lower it" },
  },
  releases = [[
What a station releases: per numeric column n, number missing, sum and
the exact sample variance (the runtime's data:aggregate, under the
station's k); per quantile the mean and size of a block of at least k
sorted values (data:quantile); per category level a count (the runtime's
group_by); per histogram bin a count (data:histogram, on the station's
grid). Counts between 1 and k - 1 are released only as "suppressed" (k
here is the station's, from data:k(); params.k may only raise it), and
because a column's counts add up to the station's rows, suppressed counts
are complemented: a numeric column with 0 < missing < k releases neither
n nor missing (n would give the missing count), and among a category's
levels and missing count, or a histogram's bins, while the suppressed
cells hold fewer than k rows together the smallest released non-zero cell
is suppressed too. Histogram
edges are the station's grid, so a moving edge cannot isolate a value.]],
}
--#include "lib/design.lua"
--#include "lib/tables.lua"

---------------------------------------------------------------------------
-- Pooling at the analyst
---------------------------------------------------------------------------
local M = {}

-- Pools {n, sum, var} pieces into the n, mean and sample sd of the union,
-- exactly: (N - 1) var = sum of (n_i - 1) var_i + n_i (mean_i - mean)^2.
function M.pool(pieces)
  local n, s = 0, 0
  for _, p in ipairs(pieces) do n = n + p.n; s = s + p.sum end
  if n == 0 then return { n = 0 } end
  local mean = s / n
  local out = { n = n, mean = mean }
  if n > 1 then
    local ss = 0
    for _, p in ipairs(pieces) do
      if p.n > 0 then
        local d = p.sum / p.n - mean
        ss = ss + (p.n > 1 and (p.n - 1) * p.var or 0) + p.n * d * d
      end
    end
    out.sd = math.sqrt(ss / (n - 1))
  end
  return out
end

---------------------------------------------------------------------------
-- The train
---------------------------------------------------------------------------
local MAX_BINS = 1000

local function check_grid(name, h)
  if type(h) ~= "table" or type(h.from) ~= "number" or type(h.to) ~= "number" or type(h.width) ~= "number"
      or not (h.width > 0) or not (h.to > h.from) or (h.to - h.from) / h.width > MAX_BINS then
    error("histograms." .. name .. ": needs numbers from < to and width > 0, at most " .. MAX_BINS .. " bins", 0)
  end
  local edges, nb = {}, math.ceil((h.to - h.from) / h.width - 1e-12)
  for i = 0, nb - 1 do edges[#edges + 1] = h.from + i * h.width end
  edges[#edges + 1] = h.to
  return edges
end

local function quantile_list(params)
  local q = params.quantiles or {}
  if type(q) ~= "table" or #q > 99 then error("quantiles: a list of at most 99 numbers in [0, 1]", 0) end
  for _, p in ipairs(q) do
    if type(p) ~= "number" or not (p >= 0 and p <= 1) then
      error("quantiles: a list of at most 99 numbers in [0, 1]", 0)
    end
  end
  return q
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

-- A numeric column's release from the aggregate over the view's nrows rows.
local function numeric_record(data, name, nrows, a, k, quantiles)
  local rec = { column = name }
  local missing = a.n and nrows - a.n
  if a.suppressed or (a.n > 0 and a.n < k) or (missing > 0 and missing < k) then
    -- n would give the missing count (n + missing = the station's rows)
    rec.suppressed, rec.missing_suppressed = true, true
    return rec
  end
  rec.n, rec.sum, rec.var, rec.missing = a.n, a.sum, a.var, missing
  if a.n > 0 and #quantiles > 0 then
    rec.quantiles = {}
    for i, p in ipairs(quantiles) do
      local mean, count = data:quantile(name, p, k)
      rec.quantiles[i] = { p = p, mean = mean, n = count }
    end
  end
  return rec
end

local function station(data, params, round)
  if round > 1 then error("refused: summary answers one round only", 0) end
  local k = E.min_count(data, params)
  local quantiles = quantile_list(params)
  local out = { numeric = {}, categories = {}, histograms = {}, skipped = {} }
  local numeric, kinds = {}, {}
  for _, name in ipairs(column_list(data, params)) do
    local col = E.column(data, name, "columns")
    kinds[#kinds + 1] = { name = name, type = col.type }
    if col.type == "number" or col.type == "integer" then numeric[#numeric + 1] = name end
  end
  -- n, sum and exact variance of every numeric column, in the runtime
  local agg = #numeric > 0 and data:aggregate(numeric) or nil
  local nrows = agg and agg.n or data:nrows()
  for _, c in ipairs(kinds) do
    if c.type == "number" or c.type == "integer" then
      out.numeric[#out.numeric + 1] = numeric_record(data, c.name, agg.n, agg.stats[c.name], k, quantiles)
    elseif c.type == "category" or c.type == "boolean" then
      -- the runtime's group_by suppresses counts under its k; here under k
      -- (params.k may raise it) and complemented with the missing count
      local cells, miss = {}, { count = 0 }
      for _, g in ipairs(data:group_by(c.name)) do
        local cell = g.suppressed and { suppressed = true } or T.release(g.n, k)
        if g.missing then miss = cell else
          cell.value = g.key
          cells[#cells + 1] = cell
        end
      end
      local all = {}
      for i, cell in ipairs(cells) do all[i] = cell end
      all[#all + 1] = miss
      T.complement(all, nrows, k)
      out.categories[#out.categories + 1] = { column = c.name, levels = cells,
        missing = miss.count, missing_suppressed = miss.suppressed }
    else
      out.skipped[#out.skipped + 1] = c.name
    end
  end
  local hnames = {}
  for name in pairs(params.histograms or {}) do hnames[#hnames + 1] = name end
  table.sort(hnames)
  for _, name in ipairs(hnames) do
    local edges = check_grid(name, params.histograms[name])
    local col = E.column(data, name, "histograms")
    if col.type ~= "number" and col.type ~= "integer" then
      error("histograms." .. name .. ": column must be numeric", 0)
    end
    local h = data:histogram(name, edges)
    local cells = {}
    for b, bin in ipairs(h.bins) do
      cells[b] = bin.suppressed and { suppressed = true } or T.release(bin.count, k)
      cells[b].from, cells[b].to = bin.from, bin.to
    end
    local below = h.below_suppressed and { suppressed = true } or T.release(h.below, k)
    local above = h.above_suppressed and { suppressed = true } or T.release(h.above, k)
    local all = {}
    for b, cell in ipairs(cells) do all[b] = cell end
    all[#all + 1] = below
    all[#all + 1] = above
    -- the bins add up to the column's values (released as n, or fewer than
    -- k): the runtime's histogram has complemented them under the station's
    -- k, alone and with the rows missing the column; a larger k from params
    -- is complemented here, against n when n is released
    local a = data:aggregate({ name }).stats[name]
    if not a.suppressed then
      T.complement(all, a.n, k)
    elseif k > data:k() then
      for _, cell in ipairs(all) do cell.count, cell.suppressed = nil, true end
    end
    out.histograms[#out.histograms + 1] = { column = name, bins = cells,
      below = below.count, below_suppressed = below.suppressed,
      above = above.count, above_suppressed = above.suppressed }
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
        p = { pieces = {}, missing = 0, incomplete = false, quantiles = {} }
        numeric[rec.column] = p
        norder[#norder + 1] = rec.column
      end
      if rec.suppressed then
        p.incomplete = true
        note("numeric columns with fewer than k values or fewer than k missing at a station are left out of " ..
          "the pooled figures there (marked incomplete)")
        per[i].numeric[#per[i].numeric + 1] = { column = rec.column, suppressed = true }
      else
        p.pieces[#p.pieces + 1] = rec
        p.missing = p.missing + rec.missing
        local one = M.pool({ rec })
        per[i].numeric[#per[i].numeric + 1] = { column = rec.column, n = one.n, mean = one.mean, sd = one.sd,
          missing = rec.missing, quantiles = rec.quantiles }
        for j, q in ipairs(rec.quantiles or {}) do
          local pq = p.quantiles[j] or { p = q.p, sum = 0, n = 0 }
          p.quantiles[j] = pq
          if q.mean ~= nil then pq.sum, pq.n = pq.sum + q.mean * q.n, pq.n + q.n else pq.incomplete = true end
        end
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
        for b, bin in ipairs(h.bins) do p.bins[b] = { from = bin.from, to = bin.to, count = 0, incomplete = false } end
        hists[h.column] = p
        horder[#horder + 1] = h.column
      end
      local same = #h.bins == #p.bins
      for b, bin in ipairs(h.bins) do
        if not same or bin.from ~= p.bins[b].from or bin.to ~= p.bins[b].to then same = false end
      end
      if not same then
        note("histogram of " .. h.column .. ": station " .. id .. " counts on another grid; left out of the pooled bins")
        for _, bin in ipairs(p.bins) do bin.incomplete = true end
      else
        for b, bin in ipairs(h.bins) do
          if bin.suppressed then p.bins[b].incomplete = true else p.bins[b].count = p.bins[b].count + bin.count end
        end
        if h.below_suppressed then p.below_incomplete = true else p.below = p.below + h.below end
        if h.above_suppressed then p.above_incomplete = true else p.above = p.above + h.above end
      end
    end
    for _, name in ipairs(r.skipped) do note("column " .. name .. " skipped (dates are not summarised)") end
  end
  local res = { numeric = {}, categories = {}, histograms = {}, stations = per, notes = notes }
  for _, name in ipairs(norder) do
    local p = numeric[name]
    local pooled = M.pool(p.pieces)
    local qs = {}
    for j, q in ipairs(p.quantiles) do
      qs[j] = { p = q.p, mean = q.n > 0 and q.sum / q.n or nil, n = q.n, incomplete = q.incomplete or false }
    end
    res.numeric[#res.numeric + 1] = { column = name, n = pooled.n, mean = pooled.mean, sd = pooled.sd,
      missing = p.missing, quantiles = #qs > 0 and qs or nil, incomplete = p.incomplete }
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
    local p = hists[name]
    res.histograms[#res.histograms + 1] = { column = name, bins = p.bins,
      below = { count = p.below, incomplete = p.below_incomplete or false },
      above = { count = p.above, incomplete = p.above_incomplete or false } }
  end
  if #quantile_list(params) > 0 and #norder > 0 then
    note("quantiles are means of blocks of at least k values around each station's quantile, pooled by count")
  end
  return { done = true, result = res }
end

TRAIN.station = station
TRAIN.combine = combine
TRAIN.math = { pool = M.pool, complement = T.complement }
return TRAIN
