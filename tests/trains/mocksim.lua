-- mocksim.lua — development stand-in for `pht sim` under stock lua5.4:
--   lua5.4 mocksim.lua TRAIN.lua --station NAME=PATH.csv ... [--params JSON] [--k N]
-- Loads each CSV with its NAME.dict.json, offers the part of the data API the
-- standard trains use (column, #col, col[i], type, levels, values, count,
-- sum, sumsq, nrows, dictionary, group_by, aggregate, aggregate_by, crosstab — with the runtime's
-- "subset smaller than k" and suppressed cells), runs station() and
-- combine() round after round and prints the result as JSON.
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/?.lua;" .. package.path
local json = require("json")

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function split_csv_line(line)
  local out, i, n = {}, 1, #line
  while i <= n + 1 do
    if line:sub(i, i) == '"' then
      local j, buf = i + 1, {}
      while true do
        local c = line:sub(j, j)
        if c == '"' then
          if line:sub(j + 1, j + 1) == '"' then buf[#buf + 1] = '"'; j = j + 2
          else j = j + 1; break end
        else buf[#buf + 1] = c; j = j + 1 end
      end
      out[#out + 1] = table.concat(buf)
      i = j + 1
    else
      local j = line:find(",", i, true) or (n + 1)
      out[#out + 1] = line:sub(i, j - 1)
      i = j + 1
    end
  end
  return out
end

local function load_dataset(csv_path, k)
  local dict_path = csv_path:gsub("%.csv$", ".dict.json")
  local dict = json.decode(read(dict_path))
  local lines = {}
  for l in read(csv_path):gmatch("[^\r\n]+") do lines[#lines + 1] = l end
  local header = split_csv_line(lines[1])
  local idx = {}
  for i, h in ipairs(header) do idx[h] = i end
  local nall = #lines - 1
  local cells = {}
  for r = 1, nall do cells[r] = split_csv_line(lines[r + 1]) end
  local raw, meta = {}, {}
  for _, c in ipairs(dict.columns) do
    local miss = {}
    for _, m in ipairs(c.missing or { "", "NA" }) do miss[m] = true end
    local vals = {}
    for r = 1, nall do
      local cell = cells[r][idx[c.name]]
      local v
      if cell == nil or miss[cell] then v = nil
      elseif c.type == "integer" then v = math.tointeger(tonumber(cell)) or error(cell)
      elseif c.type == "number" then v = tonumber(cell) + 0.0
      elseif c.type == "boolean" then v = (cell == "1" or cell == "true")
      else v = cell end
      vals[r] = v
    end
    raw[c.name] = vals
    meta[c.name] = c
  end
  local function guard(m)
    if m > 0 and m < k then error("subset smaller than k (" .. m .. " rows, k = " .. k .. ")") end
  end
  local make_view
  local function make_col(sel, name)
    local c = meta[name] or error("no column '" .. tostring(name) .. "'")
    local vals = raw[name]
    local n = #sel
    local col = { type = c.type, levels = c.levels, name = name }
    local function num(v) return v == true and 1 or v == false and 0 or v end
    local methods = {}
    function methods.values() guard(n); local t = {} for i = 1, n do t[i] = vals[sel[i]] end return t end
    local function agg(f)
      local m, t = 0, 0
      for i = 1, n do local v = vals[sel[i]]; if v ~= nil then m = m + 1; t = t + f(num(v)) end end
      guard(n); guard(m)
      return m, t
    end
    function methods.count() local m = agg(function() return 0 end) return m end
    function methods.sum() local _, t = agg(function(v) return v end) return t end
    function methods.sumsq() local _, t = agg(function(v) return v * v end) return t end
    return setmetatable(col, { __len = function() guard(n) return n end,
      __index = function(_, i)
        if type(i) == "number" then guard(n) return sel[i] and vals[sel[i]] end
        return methods[i]
      end })
  end
  -- the distinct keys of a column over sel: dictionary order for categories
  -- and booleans, ascending otherwise (as the runtime)
  local function keys_of(sel, name)
    local c = meta[name]
    if c.type == "category" then return c.levels end
    if c.type == "boolean" then return { false, true } end
    local seen, out = {}, {}
    for _, r in ipairs(sel) do
      local v = raw[name][r]
      if v ~= nil and not seen[v] then seen[v] = true; out[#out + 1] = v end
    end
    table.sort(out)
    return out
  end
  make_view = function(sel)
    local data = {}
    function data:column(name) return make_col(sel, name) end
    function data:nrows() guard(#sel) return #sel end
    function data:dictionary() return dict end
    function data:where(name, op, value)
      if not meta[name] then error("no column '" .. tostring(name) .. "'") end
      local out = {}
      for _, r in ipairs(sel) do
        local v = raw[name][r]
        local keep
        if op == "notnull" then keep = v ~= nil
        elseif op == "isnull" then keep = v == nil
        elseif v == nil then keep = false
        elseif op == "==" then keep = v == value
        elseif op == "~=" then keep = v ~= value
        elseif op == "<" then keep = v < value
        elseif op == "<=" then keep = v <= value
        elseif op == ">" then keep = v > value
        elseif op == ">=" then keep = v >= value
        else error("where: unknown operator " .. tostring(op)) end
        if keep then out[#out + 1] = r end
      end
      return make_view(out)
    end
    function data:group_by(name)
      guard(#sel)
      if not meta[name] then error("no column '" .. tostring(name) .. "'") end
      local out, miss = {}, {}
      for _, key in ipairs(keys_of(sel, name)) do
        local rows = {}
        for _, r in ipairs(sel) do if raw[name][r] == key then rows[#rows + 1] = r end end
        if #rows > 0 and #rows < k then out[#out + 1] = { key = key, suppressed = true }
        else out[#out + 1] = { key = key, n = #rows, data = make_view(rows) } end
      end
      for _, r in ipairs(sel) do if raw[name][r] == nil then miss[#miss + 1] = r end end
      if #miss > 0 then
        if #miss < k then out[#out + 1] = { missing = true, suppressed = true }
        else out[#out + 1] = { missing = true, n = #miss, data = make_view(miss) } end
      end
      return out
    end
    -- aggregate / aggregate_by: per column n, sum, sumsq, mean, min, max,
    -- {suppressed = true} over 0 < n < k values (as the runtime)
    local function stats_of(rows, name)
      local c = meta[name] or error("no column '" .. tostring(name) .. "'")
      if c.type ~= "number" and c.type ~= "integer" and c.type ~= "boolean" then
        error("aggregate: column " .. name .. " is a " .. c.type .. " column, not numeric")
      end
      local m, s, ss, mn, mx = 0, 0, 0.0, nil, nil
      for _, r in ipairs(rows) do
        local v = raw[name][r]
        if v ~= nil then
          local x = v == true and 1 or v == false and 0 or v
          m, s, ss = m + 1, s + x, ss + x * x
          if mn == nil or x < mn then mn = x end
          if mx == nil or x > mx then mx = x end
        end
      end
      if m > 0 and m < k then return { suppressed = true } end
      local out = { n = m, sum = c.type == "number" and s + 0.0 or s, sumsq = ss }
      if m > 0 then
        out.mean = s / m
        if c.type == "boolean" then out.min, out.max = mn == 1, mx == 1
        else out.min, out.max = mn, mx end
      end
      return out
    end
    local function record(rows, cols)
      local st = {}
      for _, name in ipairs(cols) do st[name] = stats_of(rows, name) end
      return { n = #rows, stats = st }
    end
    function data:aggregate(cols)
      guard(#sel)
      return record(sel, cols)
    end
    function data:aggregate_by(name, cols)
      guard(#sel)
      if not meta[name] then error("no column '" .. tostring(name) .. "'") end
      local out, miss = {}, {}
      for _, key in ipairs(keys_of(sel, name)) do
        local rows = {}
        for _, r in ipairs(sel) do if raw[name][r] == key then rows[#rows + 1] = r end end
        if #rows > 0 and #rows < k then out[#out + 1] = { key = key, suppressed = true }
        else
          local rec = record(rows, cols)
          rec.key = key
          out[#out + 1] = rec
        end
      end
      for _, r in ipairs(sel) do if raw[name][r] == nil then miss[#miss + 1] = r end end
      if #miss > 0 then
        if #miss < k then out[#out + 1] = { missing = true, suppressed = true }
        else
          local rec = record(miss, cols)
          rec.missing = true
          out[#out + 1] = rec
        end
      end
      return out, record(sel, cols)
    end
    function data:crosstab(a, b)
      guard(#sel)
      local ka, kb = keys_of(sel, a), keys_of(sel, b)
      local counts = {}
      for i, x in ipairs(ka) do
        counts[i] = {}
        for j, y in ipairs(kb) do
          local m = 0
          for _, r in ipairs(sel) do if raw[a][r] == x and raw[b][r] == y then m = m + 1 end end
          counts[i][j] = (m > 0 and m < k) and { suppressed = true } or m
        end
      end
      return { rows = ka, cols = kb, counts = counts }
    end
    return data
  end
  local all = {}
  for r = 1, nall do all[r] = r end
  return make_view(all)
end

local train_path = arg[1]
local stations, params, k = {}, {}, 5
local i = 2
while i <= #arg do
  if arg[i] == "--station" then
    local name, path = arg[i + 1]:match("^([^=]+)=(.*)$")
    stations[#stations + 1] = { name = name, path = path }
    i = i + 2
  elseif arg[i] == "--params" then params = json.decode(arg[i + 1]); i = i + 2
  elseif arg[i] == "--k" then k = tonumber(arg[i + 1]); i = i + 2
  else error("unknown argument " .. arg[i]) end
end
local train = dofile(train_path)
for _, s in ipairs(stations) do s.data = load_dataset(s.path, k) end
for round = 1, 100 do
  local results = { stations = {} }
  for j, s in ipairs(stations) do
    local out = train.station(s.data, json.decode(json.encode(params)), round)
    results[j] = json.decode(json.encode(out))
    results.stations[j] = s.name
  end
  local c = train.combine(results, params, round)
  if c.done then
    print(json.encode(c.result))
    os.exit(0)
  end
  params = json.decode(json.encode(c.params))
end
error("no result after 100 rounds")
