-- lib/design.lua — the standard trains' view of a station's dataset: columns
-- named by parameters, the station's k, covariate terms as R names them,
-- event codes, and the guards on what the data API's kernels return.
-- Defines E. A train never sees a row: every number comes from the data
-- API's aggregates and kernels (docs/train-api.md).
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

-- params[key], or else the default the train declares for it (train.params,
-- docs/train-api.md "Declaring params"): the declaration is the one copy of
-- a default. A key the train does not declare is an error.
function E.param(train, params, key)
  for _, p in ipairs(train.params) do
    if p.name == key then
      if params[key] ~= nil then return params[key] end
      return p.default
    end
  end
  error("param " .. tostring(key) .. " is not declared", 0)
end

-- The smallest count a station releases: the station's k (data:k());
-- params.k, which the analyst controls, may only raise it.
function E.min_count(data, params)
  local k = data:k()
  if type(params.k) == "number" and params.k > k then return params.k end
  return k
end

-- The design terms a covariate column gives, named as R names them:
-- numbers and booleans (0/1, as R reads them from the CSV) keep their
-- name, categories give one 0/1 term per level after the dictionary's
-- first (NAMElevel). The kernels build the same terms.
function E.terms(col, name, what)
  local ty = col.type
  if ty == "number" or ty == "integer" or ty == "boolean" then
    return { name }
  elseif ty == "category" then
    local levels = col.levels
    if type(levels) ~= "table" or #levels < 2 then
      error(what .. ": category column '" .. name .. "' needs at least two levels in the dictionary", 0)
    end
    local out = {}
    for j = 2, #levels do out[#out + 1] = name .. levels[j] end
    return out
  end
  error(what .. ": column '" .. name .. "' has type " .. tostring(ty) .. ", which cannot be a covariate", 0)
end

-- The term names of the covariate columns, checked, without reading data.
function E.term_names(data, covariates)
  if type(covariates) ~= "table" then error("covariates: a list of column names is required", 0) end
  local names = {}
  for _, cname in ipairs(covariates) do
    local col = E.column(data, cname, "covariates")
    for _, term in ipairs(E.terms(col, cname, "covariates")) do names[#names + 1] = term end
  end
  return names
end

-- Checks that the event column can code events with event_value (from the
-- dictionary alone): booleans (true = event, or event_value), numbers
-- (coded 0/1 unless event_value is a number), categories (event_value a
-- level name). A cell that is not a valid code ends the run in the kernel.
function E.event_check(col, name, event_value)
  local ty = col.type
  if ty == "number" or ty == "integer" then
    if event_value ~= nil and type(event_value) ~= "number" then
      error("event_value: column '" .. name .. "' is numeric, event_value must be a number", 0)
    end
  elseif ty == "category" then
    if type(event_value) ~= "string" then
      error("event_value: column '" .. name .. "' is a category; name the level meaning an event", 0)
    end
  elseif ty ~= "boolean" then
    error("event: column '" .. name .. "' has type " .. tostring(ty) .. ", which cannot be an event indicator", 0)
  end
end

-- A time column: number or integer.
function E.time_column(data, name)
  local col = E.column(data, name, "time")
  if col.type ~= "number" and col.type ~= "integer" then
    error("time: column '" .. name .. "' must be number or integer", 0)
  end
  return col
end

-- A grouping column: category, boolean or integer.
function E.group_column(data, name, what)
  local col = E.column(data, name, what)
  if col.type ~= "category" and col.type ~= "boolean" and col.type ~= "integer" then
    error(what .. ": column '" .. name .. "' must be category, boolean or integer", 0)
  end
  return col
end

-- The station guards of a model round on a kernel's counts (DataSHIELD's
-- nfilter.glm and the design): out.n complete rows >= 3 x parameters, and
-- per term out.binary[j] (a 0/1 term) with out.ones[j] rows at 1 whose
-- smaller class is 0 or >= k.
function E.model_guards(out, nparam, k)
  if out.n < 3 * nparam then
    error(string.format("refused: %d complete rows for %d parameters; a model needs n >= 3 x parameters at each station",
      out.n, nparam), 0)
  end
  for j = 1, #out.names do
    if out.binary[j] then
      local small = math.min(out.ones[j], out.n - out.ones[j])
      if small > 0 and small < k then
        error(string.format("refused: binary covariate '%s' has a class of %d rows at this station, fewer than k = %d",
          out.names[j], small, k), 0)
      end
    end
  end
end

-- A model's complete cases must not differ from the view by a few rows:
-- with 0 < dropped < k, the model's sums minus sums over all rows (another
-- release) would be those rows' values. out.dropped: rows left out for a
-- missing value.
function E.dropped_guard(out, k)
  if out.dropped > 0 and out.dropped < k then
    error(string.format("refused: %d rows at this station miss a value the model uses, fewer than k = %d " ..
      "(the complete cases would differ from all rows by them)", out.dropped, k), 0)
  end
end

-- At the analyst: the stations' term names (results[i].names) must agree;
-- returns them and their number. what: "covariate" or "model".
function E.same_terms(results, what)
  local names = results[1].names
  local p = #names
  for i, r in ipairs(results) do
    if #r.names ~= p then error("station " .. results.stations[i] .. " has different " .. what .. " terms", 0) end
    for j = 1, p do
      if r.names[j] ~= names[j] then
        error("station " .. results.stations[i] .. " names term " .. j .. " '" .. r.names[j] ..
          "', another '" .. names[j] .. "'", 0)
      end
    end
  end
  return names, p
end

---------------------------------------------------------------------------
-- Iterations and the stations they run on (docs/train-api.md, "Rounds and
-- stations that drop out")
---------------------------------------------------------------------------
-- An iterative train's rounds form iterations. The first starts at round 1;
-- combine starts another when the stations in a round's results are fewer
-- than those the iteration started with (a station dropped out: pht run
-- --min-stations goes on without it), because sums over a mixed set of
-- stations give a wrong model. Combine carries params.iteration = {start,
-- stations, dropped} from round to round: start is the round at which the
-- current iteration began, stations its stations, dropped the stations lost
-- so far ({id, round}: the first round without their result). A station reads
-- start only.

-- The round at which the current iteration started: 1, or params.iteration.start,
-- which must lie in 1..round (above 1: a restart).
function E.iteration_start(params, round)
  local it = params.iteration
  if it == nil then return 1 end
  if round == 1 then
    error("iteration: set by combine between rounds; round 1 starts from the values the train fixes", 0)
  end
  local start = type(it) == "table" and it.start or nil
  if math.type(start) ~= "integer" or start < 1 or start > round then
    error("iteration: start must be an integer round from 1 to the current round " .. round, 0)
  end
  return start
end

-- Iterative trains answer a bounded number of rounds per iteration: round
-- may be at most start + max_rounds - 1.
function E.round_cap(round, max_rounds, start)
  start = start or 1
  if round - start + 1 > max_rounds then
    if start == 1 then
      error(string.format("refused: round %d exceeds the cap of %d rounds", round, max_rounds), 0)
    end
    error(string.format("refused: round %d exceeds the cap of %d rounds of the iteration restarted at round %d",
      round, max_rounds, start), 0)
  end
end

-- The first round of an iteration (round 1, or a restart) starts from values
-- the train fixes: a parameter the analyst could aim at a row (a chosen
-- beta) is refused. Later rounds take these parameters from combine.
function E.round1_fixed(params, round, names, start)
  if round ~= (start or 1) then return end
  for _, key in ipairs(names) do
    if params[key] ~= nil then
      if round == 1 then
        error(key .. ": set by combine between rounds; round 1 starts from the values the train fixes", 0)
      end
      error(key .. ": set by combine between rounds; round " .. round ..
        " restarts the iteration from the values the train fixes", 0)
    end
  end
end

-- At the analyst, first thing in combine: the iteration this round belongs
-- to. Returns it = {start, stations, dropped} (to carry as params.iteration)
-- when the round's results come from the iteration's stations; or nil and
-- the params of a restart when some of them are missing: the iteration
-- begins again at round + 1 on the stations that answered, from the fixed
-- start (the keys in fixed, e.g. beta and state, are removed). A station in
-- the results that the iteration did not start with is an error.
function E.iteration(results, params, round, fixed)
  local it = params.iteration
  local now, seen = {}, {}
  for i = 1, #results do
    local id = results.stations[i]
    now[i], seen[id] = id, true
  end
  local dropped = {}
  for i, d in ipairs(it and it.dropped or {}) do dropped[i] = { id = d.id, round = d.round } end
  local lost = {}
  if it ~= nil then
    local had = {}
    for _, id in ipairs(it.stations) do
      had[id] = true
      if not seen[id] then
        lost[#lost + 1] = id
        dropped[#dropped + 1] = { id = id, round = round }
      end
    end
    for _, id in ipairs(now) do
      if not had[id] then
        error("station " .. id .. " answered round " .. round .. " but not round " .. it.start ..
          ", where the iteration started", 0)
      end
    end
  end
  if it == nil or it.start == round or #lost == 0 then
    return { start = it and it.start or round, stations = now, dropped = dropped }
  end
  local nextp = {}
  for key, v in pairs(params) do nextp[key] = v end
  for _, key in ipairs(fixed) do nextp[key] = nil end
  nextp.iteration = { start = round + 1, stations = now, dropped = dropped }
  return nil, nextp
end

-- What a result says about the stations it covers: the stations dropped
-- (nil when none) and notes naming them.
function E.coverage(it, notes)
  if #it.dropped == 0 then return nil end
  local ids = {}
  for i, d in ipairs(it.dropped) do
    ids[i] = d.id
    notes[#notes + 1] = string.format("station %s dropped out: no result in round %d", d.id, d.round)
  end
  notes[#notes + 1] = string.format("the iteration restarted at round %d from the fixed start; the result covers " ..
    "stations %s only, not %s", it.start, table.concat(it.stations, ", "), table.concat(ids, ", "))
  return it.dropped
end

-- The note of a model that dropped aliased terms (names), as R's print
-- says "(N not defined because of singularities)".
function E.aliased_note(names)
  return string.format("%d coefficient%s not defined because of singularities (aliased: constant, or a " ..
    "linear combination of the terms before it; NA as in R): %s", #names, #names == 1 and "" or "s",
    table.concat(names, ", "))
end

-- A group key as the column holds it (docs/std-trains.md, "Typed group
-- keys"): the data API keys groups by their text ("3", "true"); an
-- integer column's key becomes a number, a boolean's a boolean, a
-- category's stays its level name.
function E.typed_key(col, key)
  if key == nil or col == nil then return key end
  if col.type == "integer" then return math.tointeger(tonumber(key)) or key end
  if col.type == "boolean" then
    if key == "true" then return true elseif key == "false" then return false end
  end
  return key
end
