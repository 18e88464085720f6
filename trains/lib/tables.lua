-- lib/tables.lua — released counts and their pooling across stations for the
-- standard trains. Defines T.
local T = {}

-- A printable key for a cell value (integers without ".0").
function T.label(v)
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
    return string.format("%d", v)
  end
  return tostring(v)
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

-- Complementary suppression over cells that add up to `total` rows, a
-- figure the analyst may know (a column's levels and its missing count add
-- up to the station's rows): the suppressed cells together are the total
-- minus the released ones, so while they hold more than 0 and fewer than k
-- rows, the smallest released non-zero cell is suppressed too. cells:
-- {count = n} or {suppressed = true}; changed in place and returned.
function T.complement(cells, total, k)
  local hidden = total
  for _, c in ipairs(cells) do if not c.suppressed then hidden = hidden - c.count end end
  while hidden > 0 and hidden < k do
    local best
    for _, c in ipairs(cells) do
      if not c.suppressed and c.count > 0 and (best == nil or c.count < best.count) then best = c end
    end
    if best == nil then break end
    hidden = hidden + best.count
    best.count, best.suppressed = nil, true
  end
  return cells
end
