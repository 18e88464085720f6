--[[
outcomes.lua — the registry report a payer asks for, per treatment:
patients, median overall and progression-free survival (with 95% CI), 1-
and 2-year survival, response rate, grade 3+ adverse event rate and mean
cost (PHT standard train). The defaults fit the example registry of
tools/registry (docs/registry.md).

Params and what a station releases: declared in TRAIN below (`pht train
describe trains/std/outcomes.lua` prints them; pht run and pht sim check the
params against it and the stations' dictionaries before anything runs).

Output (combine result)
  treatments: one record per arm, in dictionary order:
    treatment, patients, os and pfs = {n, events, median, median_lower,
    median_upper, surv_1y, surv_2y (from the pooled grid Kaplan-Meier at
    the last grid time at or before 365.25 and 730.5 days; absent when not
    reached / not estimable)}, response = {evaluable,
    responders, rate}, ae_grade3 = {n, events, rate}, cost = {n, mean},
    incomplete (true when some station suppressed a part of this arm)
  stations: per station id and patients per arm (or suppressed)
  notes
]]
local TRAIN = {
  name = "outcomes",
  version = "2.0.0",
  params = {
    { name = "treatment", type = "column", default = "treatment",
      column_types = { "category", "boolean", "integer" }, doc = "column of the arms" },
    { name = "os_time", type = "column", default = "os_days", empty = true, only_with = "os_event",
      column_types = { "number", "integer" }, doc = "overall survival time (\"\" leaves OS out)" },
    { name = "os_event", type = "column", default = "os_event", empty = true, only_with = "os_time",
      column_types = { "boolean", "number", "integer", "category" }, doc = "overall survival event" },
    { name = "pfs_time", type = "column", default = "", empty = true, only_with = "pfs_event",
      column_types = { "number", "integer" },
      doc = [[progression-free survival time: set it (e.g. "pfs_days") to report PFS,
and os_time to "" to leave OS out. One output carries one survival
endpoint: the OS and PFS steps of the same patients differ by a few
patients at some grid times, and the station's release audit withholds two
row sets that differ by fewer than k]] },
    { name = "pfs_event", type = "column", default = "pfs_event", empty = true, only_with = "pfs_time",
      column_types = { "boolean", "number", "integer", "category" }, doc = "progression-free survival event" },
    { name = "event_value", type = "number|string",
      doc = "code of the event columns meaning an event (default true / 1)" },
    { name = "response", type = "column", default = "best_response", empty = true,
      column_types = { "category" }, doc = "best response column" },
    { name = "responders", type = "strings", default = { "CR", "PR" },
      doc = "levels of the response column counted as responses" },
    { name = "ae", type = "column", default = "ae_grade3", empty = true,
      column_types = { "boolean", "number", "integer" }, doc = "grade 3+ adverse event column (boolean or 0/1)" },
    { name = "cost", type = "column", default = "cost_eur", empty = true,
      column_types = { "number", "integer" }, doc = "cost column" },
    { name = "interval", type = "number",
      doc = "survival grid width in days (default: the station's time resolution, 30 days by default; never finer than it)" },
    { name = "min_cell", type = "integer", min = 1,
      doc = "patients per released survival step (at least k and the station's policy minimum)" },
    { name = "k", type = "integer", min = 1, doc = "may raise the station's k (data:k()), never lower it" },
  },
  releases = [[
What a station releases, per arm: the number of patients (the runtime's
aggregate_by: an arm with fewer than k is suppressed, and while the
suppressed arms hold fewer than k patients together the smallest other
one too, since the arms add up to the station's rows); survival steps
exactly as km.lua (the station's kernel data:km on its own grid, steps
merged to at least max(min_cell, k, policy minimum) patients with k at
risk; an arm with fewer is suppressed, and with it the smallest other
arm when the suppressed ones are fewer than that together); for response
a numerator and denominator (a crosstab of arm by the best response
recoded into responders and the rest: cells under k suppressed and
complemented by the runtime), for adverse events a numerator and
denominator (aggregate_by's count and sum of the 0/1 column), each
released only when the numerator and the rest are each 0 or >= k; for cost n and sum,
released only when n >= k. Nothing row-level, no raw times or values.]],
}
--#include "lib/stats.lua"
--#include "lib/linalg.lua"
--#include "lib/design.lua"
--#include "lib/tables.lua"
--#include "lib/km.lua"

---------------------------------------------------------------------------
-- The report
---------------------------------------------------------------------------
local O = {}
local YEAR = 365.25

-- A proportion released as numerator/denominator only when both the
-- numerator and the rest are 0 or >= k.
function O.proportion(num, den, k)
  local rest = den - num
  if (num > 0 and num < k) or (rest > 0 and rest < k) then return { suppressed = true } end
  return { num = num, den = den }
end

-- Survival read off a pooled grid curve at time t: the last row at or
-- before t (1 before the first row); nil beyond the last row if censored.
function O.surv_at(curve, t)
  local s = 1
  local last = 0
  for _, row in ipairs(curve.table) do
    if row.time <= t + 1e-9 then s = row.surv; last = row.time else break end
  end
  local rows = curve.table
  if #rows > 0 and t > rows[#rows].time + 1e-9 and rows[#rows].surv > 0 then return nil end
  return s, last
end

-- The column a param names (given, or its declared default); nil for "".
local function opt_name(params, key)
  local name = E.param(TRAIN, params, key)
  if name == "" then return nil end
  return name
end

-- A group key's order as the km kernel gives it: a level's rank, false 0,
-- true 1, an integer itself.
local function key_order(col, key)
  if col.type == "category" then
    for j, lv in ipairs(col.levels) do if lv == key then return j end end
    return 0
  elseif col.type == "boolean" then
    return key and 1 or 0
  end
  return key
end

-- The name of the best response recoded into responders ("R") and the
-- rest ("N").
local RESPONDED = "_responded"

local function station(data, params, round)
  if round > 1 then error("refused: outcomes answers one round only", 0) end
  local k = E.min_count(data, params)
  local interval = params.interval
  if interval ~= nil and (type(interval) ~= "number" or not (interval > 0)) then
    error("interval: a positive number of days", 0)
  end
  local m = math.max(k, params.min_cell or 1)
  local tname = opt_name(params, "treatment")
  if not tname then error("treatment: a column is required", 0) end
  local tcol = E.group_column(data, tname, "treatment")
  -- survival per arm: the station's km kernel, grouped by arm
  local surv, grid, min_cell = {}, nil, m
  for _, spec in ipairs({ { "os", "os_time", "os_event" }, { "pfs", "pfs_time", "pfs_event" } }) do
    local tn, en = opt_name(params, spec[2]), opt_name(params, spec[3])
    if tn and en then
      local tc = E.column(data, tn, spec[2])
      if tc.type ~= "number" and tc.type ~= "integer" then
        error(spec[2] .. ": column '" .. tn .. "' must be number or integer", 0)
      end
      E.event_check(E.column(data, en, spec[3]), en, params.event_value)
      local out = data:km({ time = tn, event = en, event_value = params.event_value, group = tname,
        interval = interval, min_cell = m })
      local by = {}
      for _, g in ipairs(out.groups) do by[g.group] = g.steps end
      surv[spec[1]] = by
      grid, min_cell = out.interval, out.min_cell
    end
  end
  -- patients, cost, adverse events and responders per arm in one pass
  local cols = {}
  local cname = opt_name(params, "cost")
  if cname then
    local ccol = E.column(data, cname, "cost")
    if ccol.type ~= "number" and ccol.type ~= "integer" then
      error("cost: column '" .. cname .. "' must be numeric", 0)
    end
    cols[#cols + 1] = cname
  end
  local aname = opt_name(params, "ae")
  if aname then
    local acol = E.column(data, aname, "ae")
    if acol.type ~= "boolean" and acol.type ~= "integer" and acol.type ~= "number" then
      error("ae: column '" .. aname .. "' must be boolean or coded 0/1", 0)
    end
    cols[#cols + 1] = aname
  end
  -- responders and the rest per arm: the best response recoded into two
  -- levels, crosstabulated by arm (cells under k suppressed, complemented
  -- by the runtime)
  local rname = opt_name(params, "response")
  local responded = {}
  if rname then
    local rcol = E.column(data, rname, "response")
    if rcol.type ~= "category" then error("response: column '" .. rname .. "' must be a category", 0) end
    local responders = E.param(TRAIN, params, "responders")
    if type(responders) ~= "table" or #responders == 0 then
      error("responders: a non-empty list of levels", 0)
    end
    local map = {}
    for _, l in ipairs(rcol.levels) do map[l] = "N" end
    for _, lv in ipairs(responders) do
      if map[lv] == nil then error("responders: '" .. tostring(lv) .. "' is not a level of column '" .. rname .. "'", 0) end
      map[lv] = "R"
    end
    local tab = data:with({ [RESPONDED] = rcol:recode(map) }):crosstab(tname, RESPONDED)
    local ri, ni
    for j, v in ipairs(tab.cols) do if v == "R" then ri = j elseif v == "N" then ni = j end end
    for i, key in ipairs(tab.rows) do
      local r = ri and tab.counts[i][ri] or 0
      local nr = ni and tab.counts[i][ni] or 0
      if type(r) == "table" or type(nr) == "table" then
        responded[T.label(key)] = { suppressed = true }
      else
        responded[T.label(key)] = O.proportion(r, r + nr, k)
      end
    end
  end
  -- the arms' patients and the rows without an arm add up to the station's
  -- rows: the suppressed arms must hold 0 or at least k patients together
  local groups, total = data:aggregate_by(tname, cols)
  local cells = {}
  for i, g in ipairs(groups) do cells[i] = g.suppressed and { suppressed = true } or { count = g.n } end
  T.complement(cells, total.n, k)
  local arms, others = {}, false
  for i, g in ipairs(groups) do
    if g.missing then
      -- rows without an arm are in no arm's figures
    elseif g.key == nil then
      others = true
    else
      local label = T.label(g.key)
      local rec = { treatment = label, order = key_order(tcol, g.key) }
      if cells[i].suppressed then
        rec.suppressed = true
      else
        rec.patients = g.n
        if g.n > 0 then
          for name, by in pairs(surv) do rec[name] = by[label] or { suppressed = true } end
          if aname then
            local a = g.stats[aname]
            if a.suppressed then rec.ae = { suppressed = true } else
              if a.n > 0 and a.sumsq ~= a.sum then
                error("ae: column '" .. aname .. "' must be boolean or coded 0/1", 0)
              end
              rec.ae = O.proportion(a.sum, a.n, k)
            end
          end
          if rname then rec.response = responded[label] or { num = 0, den = 0 } end
          if cname then
            local c = g.stats[cname]
            if c.suppressed then rec.cost = { suppressed = true }
            elseif c.n > 0 then rec.cost = { n = c.n, sum = c.sum } end
          end
        end
      end
      arms[#arms + 1] = rec
    end
  end
  return { arms = arms, others_suppressed = others, interval = grid, min_cell = min_cell }
end

local function combine(results, params, round)
  local by, keys, per, notes = {}, {}, {}, {}
  local interval
  local function note(s)
    for _, v in ipairs(notes) do if v == s then return end end
    notes[#notes + 1] = s
  end
  for i, r in ipairs(results) do
    local st = { id = results.stations[i], arms = {} }
    per[i] = st
    interval = interval or r.interval
    if r.others_suppressed then note("arms with fewer than k patients at a station are left out there") end
    for _, a in ipairs(r.arms) do
      st.arms[#st.arms + 1] = { treatment = a.treatment, patients = a.patients, suppressed = a.suppressed }
      local b = by[a.treatment]
      if not b then
        b = { treatment = a.treatment, order = a.order, patients = 0, incomplete = false,
          os = {}, pfs = {}, resp = { 0, 0 }, ae = { 0, 0 }, cost = { 0, 0 }, has = {} }
        by[a.treatment] = b
        keys[#keys + 1] = a.treatment
      end
      if a.suppressed then
        b.incomplete = true
        note("arms with fewer than k patients at a station are left out there")
      elseif a.patients > 0 then
        b.patients = b.patients + a.patients
        for _, name in ipairs({ "os", "pfs" }) do
          local steps = a[name]
          if steps then
            b.has[name] = true
            if steps.suppressed then b.incomplete = true else b[name][#b[name] + 1] = steps end
          end
        end
        for _, pair in ipairs({ { "response", "resp" }, { "ae", "ae" } }) do
          local p = a[pair[1]]
          if p then
            b.has[pair[2]] = true
            if p.suppressed then
              b.incomplete = true
              note("proportions with a numerator or remainder under k at a station are left out there")
            else
              b[pair[2]][1] = b[pair[2]][1] + p.num
              b[pair[2]][2] = b[pair[2]][2] + p.den
            end
          end
        end
        if a.cost then
          b.has.cost = true
          if a.cost.suppressed then b.incomplete = true else
            b.cost[1] = b.cost[1] + a.cost.n
            b.cost[2] = b.cost[2] + a.cost.sum
          end
        end
      end
    end
    if r.min_cell > 1 then note("survival steps merged at the stations to cover at least k patients each") end
  end
  table.sort(keys, function(x, y) return by[x].order < by[y].order end)
  local out = {}
  for _, key in ipairs(keys) do
    local b = by[key]
    local rec = { treatment = b.treatment, patients = b.patients, incomplete = b.incomplete }
    for _, name in ipairs({ "os", "pfs" }) do
      if b.has[name] and #b[name] > 0 then
        local c = KM.curve(KM.pool(b[name]), 0.95)
        rec[name] = { n = c.n, events = c.events, median = c.median, median_lower = c.median_lower,
          median_upper = c.median_upper, surv_1y = O.surv_at(c, YEAR),
          surv_2y = O.surv_at(c, 2 * YEAR) }
      end
    end
    if b.has.resp and b.resp[2] > 0 then
      rec.response = { responders = b.resp[1], evaluable = b.resp[2], rate = b.resp[1] / b.resp[2] }
    end
    if b.has.ae and b.ae[2] > 0 then
      rec.ae_grade3 = { events = b.ae[1], n = b.ae[2], rate = b.ae[1] / b.ae[2] }
    end
    if b.has.cost and b.cost[1] > 0 then
      rec.cost = { n = b.cost[1], mean = b.cost[2] / b.cost[1] }
    end
    if rec.patients > 0 or rec.incomplete then out[#out + 1] = rec end
  end
  return { done = true, result = { treatments = out, stations = per, interval = interval, notes = notes } }
end

TRAIN.station = station
TRAIN.combine = combine
TRAIN.math = { proportion = O.proportion, surv_at = O.surv_at, curve = KM.curve }
return TRAIN
