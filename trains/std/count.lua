--[[
count.lua — row counts by station and pooled (PHT standard train).

Params and what a station releases: declared in TRAIN below (`pht train
describe trains/std/count.lua` prints them; pht run and pht sim check the
params against it and the stations' dictionaries before anything runs).

Output (combine result)
  stations   per station: id, and either count (by absent) or cells =
             sequence of {value, count} / {value, suppressed = true}, and
             missing / missing_suppressed; others_suppressed when integer
             values with fewer than k rows were folded away (no key shown)
  pooled     total (by absent) or cells = sequence of {value, count,
             incomplete}; the pooled figures are sums of the released
             counts only, and `incomplete` (with a note) says that some
             station's count was suppressed.
]]
local TRAIN = {
  name = "count",
  version = "2.0.0",
  params = {
    { name = "columns", type = "columns",
      doc = "count only rows with a value in every one of these columns (complete cases); default: all rows" },
    { name = "by", type = "column", column_types = { "category", "boolean", "integer" },
      doc = "counts per value of this column (rows missing it are counted as \"missing\")" },
    { name = "k", type = "integer", min = 1,
      doc = "may raise the station's k (data:k()), never lower it" },
  },
  releases = [[
Counts of rows, computed by the runtime's own primitives (nrows, where,
group_by), so the station's k applies: a count between 1 and k - 1 is
released only as "suppressed" (group_by), and a station whose selected
rows number 1 to k - 1 refuses the whole count ("subset smaller than
k"). Zero is released as 0 (it identifies no one). Because the cells and
the missing count add up to the station's total (a count without `by`),
while the suppressed cells hold fewer than k rows together the smallest
released non-zero cell is suppressed too (complementary suppression).]],
}
--#include "lib/design.lua"
--#include "lib/tables.lua"

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
  E.group_column(data, params.by, "by")
  local cells, out, all = {}, {}, {}
  local miss = { count = 0 }
  for _, g in ipairs(view:group_by(params.by)) do
    local cell = g.suppressed and { suppressed = true } or { count = g.n }
    all[#all + 1] = cell
    if g.missing then
      miss = cell
    elseif g.key == nil then
      -- integer values with 0 < n < k, folded by the runtime without their keys
      out.others_suppressed = true
    else
      cell.value = g.key
      cells[#cells + 1] = cell
    end
  end
  -- the cells and the missing count add up to the rows a count without
  -- `by` releases: suppressed cells must hold 0 or at least k rows together
  T.complement(all, view:nrows(), E.min_count(data, params))
  out.missing, out.missing_suppressed = miss.count, miss.suppressed
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
    if r.others_suppressed then
      per[i].others_suppressed = true
      notes[#notes + 1] = "station " .. results.stations[i] .. ": values with fewer than k rows are not shown"
    end
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

TRAIN.station = station
TRAIN.combine = combine
TRAIN.math = { label = T.label, release = T.release, pool = T.pool }
return TRAIN
