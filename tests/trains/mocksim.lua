-- mocksim.lua — development stand-in for `pht sim` under stock lua5.4:
--   lua5.4 mocksim.lua TRAIN.lua --station NAME=PATH.csv ... [--params JSON] [--k N]
-- Loads each CSV with its NAME.dict.json, offers the per-row part of the data
-- API (column, #col, col[i], type, levels, nrows, dictionary), runs station()
-- and combine() round after round and prints the result as JSON.
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
  local cols = {}
  for _, c in ipairs(dict.columns) do
    local miss = {}
    for _, m in ipairs(c.missing or { "", "NA" }) do miss[m] = true end
    local vals = {}
    local nrows = #lines - 1
    for r = 1, nrows do
      local cell = split_csv_line(lines[r + 1])[idx[c.name]]
      local v
      if cell == nil or miss[cell] then v = nil
      elseif c.type == "number" or c.type == "integer" then v = assert(tonumber(cell), cell)
      elseif c.type == "boolean" then v = (cell == "1" or cell == "true")
      else v = cell end
      vals[r] = v
    end
    local col = { type = c.type, levels = c.levels, name = c.name }
    setmetatable(col, { __len = function() return nrows end,
      __index = function(_, i) return vals[i] end })
    cols[c.name] = col
  end
  local data = {}
  function data:column(name) return cols[name] or error("no column " .. tostring(name)) end
  function data:nrows() return #lines - 1 end
  function data:dictionary() return dict end
  function data:k() return k end
  return data
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
