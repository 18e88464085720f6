--[[
crosstab.lua — contingency table of two columns, by station and pooled
(PHT standard train).

Params and what a station releases: declared in TRAIN below (`pht train
describe trains/std/crosstab.lua` prints them; pht run and pht sim check the
params against it and the stations' dictionaries before anything runs).

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
]]
local TRAIN = {
  name = "crosstab",
  version = "2.0.0",
  params = {
    { name = "rows", type = "column", required = true, column_types = { "category", "boolean", "integer" },
      doc = "the table's rows: values of this column" },
    { name = "cols", type = "column", required = true, column_types = { "category", "boolean", "integer" },
      doc = "the table's columns: values of this column" },
  },
  releases = [[
What a station releases: the cell counts of the runtime's crosstab, which
suppresses every count between 1 and k - 1 with the station's own k
(primary suppression) and then, while the suppressed cells of a row or
column, with its rows missing the other column, hold fewer than k rows
(or it has exactly one suppressed cell), its smallest released non-zero
cell, and likewise over the whole table (complementary suppression), so
that margins (a count train's totals or group counts) do not give back
a small group. No margins are released here.]],
}
--#include "lib/design.lua"
--#include "lib/tables.lua"

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
  E.group_column(data, params.rows, "rows")
  E.group_column(data, params.cols, "cols")
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

TRAIN.station = station
TRAIN.combine = combine
TRAIN.math = { cells = T.cells, pool = T.pool, label = T.label }
return TRAIN
