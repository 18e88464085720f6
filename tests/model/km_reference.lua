-- km_reference.lua — the station side of the standard km.lua as it was
-- before data:km (trains/std/km.lua at 49ee9ae: E.column, E.min_count,
-- E.event_fn, E.complete_cases, K.grid, K.station_steps and station(),
-- unchanged). tests/model/test_kernels.c hands it to kernels_check.lua as
-- the independent reference data:km must equal: km.lua itself now calls
-- data:km, so it can no longer serve as one.
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

local K = {}

-- Coarsens t up to the grid.
function K.grid(t, interval)
  return math.ceil(t / interval) * interval
end

-- Per-grid-time counts of events and censorings, merged so that each
-- released step covers >= m rows. Returns steps {t, d, c} ascending, or nil
-- when all rows together are fewer than m.
function K.station_steps(time, status, interval, m)
  local by = {}
  local ts = {}
  for i = 1, #time do
    local g = K.grid(time[i], interval)
    local cell = by[g]
    if not cell then cell = { t = g, d = 0, c = 0 }; by[g] = cell; ts[#ts + 1] = g end
    if status[i] then cell.d = cell.d + 1 else cell.c = cell.c + 1 end
  end
  table.sort(ts)
  local out, pd, pc = {}, 0, 0
  for _, g in ipairs(ts) do
    pd, pc = pd + by[g].d, pc + by[g].c
    if pd + pc >= m then
      out[#out + 1] = { t = g, d = pd, c = pc }
      pd, pc = 0, 0
    end
  end
  if pd + pc > 0 then
    if #out == 0 then return nil end
    out[#out].d = out[#out].d + pd
    out[#out].c = out[#out].c + pc
  end
  return out
end

local function label(v)
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
    return string.format("%d", v)
  end
  return tostring(v)
end

local function check_params(params)
  local iv = params.interval
  if type(iv) ~= "number" or not (iv > 0) or iv == math.huge then
    error("interval: a positive grid width in the time unit is required", 0)
  end
  if params.min_cell ~= nil and (type(params.min_cell) ~= "number" or params.min_cell < 1) then
    error("min_cell: must be a number >= 1", 0)
  end
end

local function station(data, params, round)
  check_params(params)
  if round > 1 then error("refused: km answers one round only", 0) end
  local k = E.min_count(data, params)
  local m = math.max(k, params.min_cell or 1)
  local tcol = E.column(data, params.time, "time")
  if tcol.type ~= "number" and tcol.type ~= "integer" then
    error("time: column '" .. params.time .. "' must be number or integer", 0)
  end
  local ecol = E.column(data, params.event, "event")
  local is_event = E.event_fn(ecol, params.event, params.event_value)
  local cols = { { col = tcol }, { col = ecol } }
  local gcol
  if params.group ~= nil then
    gcol = E.column(data, params.group, "group")
    if gcol.type ~= "category" and gcol.type ~= "boolean" and gcol.type ~= "integer" then
      error("group: column '" .. params.group .. "' must be category, boolean or integer", 0)
    end
    cols[3] = { col = gcol }
  end
  local arr, n, dropped = E.complete_cases(cols, data:nrows())
  local groups, order = {}, {}
  for i = 1, n do
    local t = arr[1][i]
    if t < 0 then error("time: negative follow-up time at this station", 0) end
    local key = gcol and arr[3][i] or "all"
    local g = groups[key]
    if not g then
      g = { time = {}, status = {} }
      groups[key] = g
      order[#order + 1] = key
    end
    g.time[#g.time + 1] = t
    g.status[#g.status + 1] = is_event(arr[2][i])
  end
  local rank = {}
  if gcol and gcol.type == "category" then
    for j, lv in ipairs(gcol.levels) do rank[lv] = j end
  end
  local out, suppressed = {}, 0
  for _, key in ipairs(order) do
    local g = groups[key]
    local steps = K.station_steps(g.time, g.status, params.interval, m)
    if steps then
      local ord = rank[key] or (key == true and 1) or (key == false and 0) or (type(key) == "number" and key) or 0
      out[#out + 1] = { group = gcol and label(key) or nil, order = ord, steps = steps }
    else
      suppressed = suppressed + 1
    end
  end
  return { n = n, dropped = dropped, min_cell = m, groups = out, suppressed_groups = suppressed }
end


return { station = station, station_steps = K.station_steps }
