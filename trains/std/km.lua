--[[
km.lua — Kaplan-Meier survival on a time grid, optionally by group, with
the log-rank test (PHT standard train).

Params and what a station releases: declared in TRAIN below (`pht train
describe trains/std/km.lua` prints them; pht run and pht sim check the
params against it and the stations' dictionaries before anything runs).

Output (combine result)
  interval (the stations' grid), n, events, stations (per station: id, n,
  dropped, min_cell, interval, suppressed_groups)
  curves: one per group (or one, group absent), each {group (typed: a
    level name, a number for an integer column, a boolean), n, events,
    median, median_lower, median_upper (absent when not reached, as R's NA),
    table = sequence of {time, n_risk, n_event, n_censor, surv, std_err,
    lower, upper}} — std_err is Greenwood's standard error of surv; lower
    and upper are the 95% log-log interval (R's survfit conf.type =
    "log-log"), absent where R gives NA (surv 1 or 0); median and its
    interval as R's quantile.survfit.
  logrank (with group): {chisq, df, p, groups = sequence of {group, n,
    observed, expected}} as R's survdiff on the coarsened times.
  notes: what was merged or suppressed.
]]
local TRAIN = {
  name = "km",
  version = "2.0.0",
  params = {
    { name = "time", type = "column", required = true, column_types = { "number", "integer" },
      doc = "follow-up time column" },
    { name = "event", type = "column", required = true, column_types = { "boolean", "number", "integer", "category" },
      doc = "event indicator column: boolean, numeric 0/1, or any code given by event_value" },
    { name = "event_value", type = "number|string",
      doc = "the code of `event` meaning an event (default true / 1; a level for a category column)" },
    { name = "interval", type = "number",
      doc = [[grid width in the time unit: each time t is coarsened up to the grid,
t' = ceil(t / w) * w, where the station's grid w is the larger of its time
resolution (policy time_resolution_days, default 30 days) and interval,
rounded up to a multiple of the resolution; default: the resolution]] },
    { name = "group", type = "column", column_types = { "category", "boolean", "integer" },
      doc = "column whose values define the curves; adds the log-rank test" },
    { name = "min_cell", type = "integer", min = 1,
      doc = [[each released step must cover at least this many patients; the station
uses the largest of this, its k and its policy's minimum (default: k)]] },
    { name = "k", type = "integer", min = 1, doc = "may raise the station's k (data:k()), never lower it" },
  },
  releases = [[
What a station releases: per group, the grid times at which it has events
or censorings, with the number of events and of censorings there; plus n
and the number of rows dropped for missing values. Never a raw time.
The station computes them in its kernel data:km, on its own terms: times
are coarsened to the station's grid (never finer than its resolution,
whatever `interval` asks); consecutive grid steps are merged forward until
a released step covers at least max(min_cell, k, the policy's minimum)
patients and leaves at least k at risk (a short tail is merged back into
the last released step); a group with fewer patients than that is not
released at all (the output says so), and when the groups left out have
fewer than that many patients together, the smallest released group is
left out too (so n minus the released groups shows no small group). The
analyst's parameters can only coarsen the grid or raise the minimum, so
they cannot aim a step at a single time. With merging or suppression the
pooled curve is that of the released steps; with k = 1 and min_cell = 1
it equals R's survfit on the times coarsened to the grid exactly.]],
}
--#include "lib/stats.lua"
--#include "lib/linalg.lua"
--#include "lib/design.lua"
--#include "lib/km.lua"

---------------------------------------------------------------------------
-- The train
---------------------------------------------------------------------------
local function check_params(params)
  local iv = params.interval
  if iv ~= nil and (type(iv) ~= "number" or not (iv > 0) or iv == math.huge) then
    error("interval: a positive grid width in the time unit", 0)
  end
  if params.min_cell ~= nil and (type(params.min_cell) ~= "number" or params.min_cell < 1) then
    error("min_cell: must be a number >= 1", 0)
  end
end

local function station(data, params, round)
  check_params(params)
  if round > 1 then error("refused: km answers one round only", 0) end
  local k = E.min_count(data, params)
  E.time_column(data, params.time)
  E.event_check(E.column(data, params.event, "event"), params.event, params.event_value)
  local gcol
  if params.group ~= nil then gcol = E.group_column(data, params.group, "group") end
  local out = data:km({ time = params.time, event = params.event, event_value = params.event_value,
    group = params.group, interval = params.interval, min_cell = math.max(k, params.min_cell or 1) })
  for _, g in ipairs(out.groups) do g.group = E.typed_key(gcol, g.group) end
  return { n = out.n, dropped = out.dropped, min_cell = out.min_cell, interval = out.interval,
    groups = out.groups, suppressed_groups = out.suppressed_groups }
end

local function combine(results, params, round)
  check_params(params)
  local by, keys, notes, per = {}, {}, {}, {}
  local n, dropped, grid = 0, 0, nil
  for i, r in ipairs(results) do
    per[i] = { id = results.stations[i], n = r.n, dropped = r.dropped, min_cell = r.min_cell,
      interval = r.interval, suppressed_groups = r.suppressed_groups }
    if not grid then grid = r.interval
    elseif r.interval ~= grid then
      notes[#notes + 1] = string.format("station %s releases on a grid of %s (another on %s): the pooled steps mix grids",
        results.stations[i], tostring(r.interval), tostring(grid))
      if r.interval > grid then grid = r.interval end
    end
    n = n + r.n
    dropped = dropped + r.dropped
    if r.suppressed_groups > 0 then
      notes[#notes + 1] = string.format("station %s: %d group(s) with fewer than %d patients not released",
        results.stations[i], r.suppressed_groups, r.min_cell)
    end
    if r.min_cell > 1 then
      notes[#notes + 1] = string.format("station %s: steps merged to cover at least %d patients each",
        results.stations[i], r.min_cell)
    end
    for _, g in ipairs(r.groups) do
      local key = g.group
      if key == nil then key = "all" end
      if not by[key] then
        by[key] = { group = g.group, order = g.order, steps = {} }
        keys[#keys + 1] = key
      end
      local b = by[key]
      b.steps[#b.steps + 1] = g.steps
    end
  end
  table.sort(keys, function(a, b)
    if by[a].order ~= by[b].order then return by[a].order < by[b].order end
    return tostring(a) < tostring(b)
  end)
  local curves, pooled, events = {}, {}, 0
  for i, key in ipairs(keys) do
    pooled[i] = KM.pool(by[key].steps)
    local c = KM.curve(pooled[i], 0.95)
    c.group = by[key].group
    curves[i] = c
    events = events + c.events
  end
  local res = { interval = grid, n = n, dropped = dropped, events = events,
    curves = curves, stations = per, notes = notes }
  if params.group ~= nil then
    if #keys < 2 then
      notes[#notes + 1] = "log-rank test not computed: fewer than two groups released"
    else
      local lr, why = KM.logrank(pooled)
      if lr then
        local gs = {}
        for i, key in ipairs(keys) do
          gs[i] = { group = by[key].group, n = curves[i].n, observed = lr.observed[i], expected = lr.expected[i] }
        end
        res.logrank = { chisq = lr.chisq, df = lr.df, p = lr.p, groups = gs }
      else
        notes[#notes + 1] = "log-rank test not computed: " .. why
      end
    end
  end
  return { done = true, result = res }
end

TRAIN.station = station
TRAIN.combine = combine
TRAIN.math = { pool = KM.pool, findq = KM.findq, curve = KM.curve, logrank = KM.logrank, stats = S, linalg = L }
return TRAIN
