-- check.lua — small assertions on train results for edge.sh; exit 0 when
-- the check holds, 1 with a reason on stderr otherwise.
--   lua5.4 check.lua get FILE PATH                 prints the value at PATH
--   lua5.4 check.lua same-coefs FILE1 FILE2 KEY TOL  coefficient lists agree
--                                                  by name (field KEY)
--   lua5.4 check.lua has-note FILE SUBSTRING       a note contains SUBSTRING
--   lua5.4 check.lua km-complete FILE              km's table accounts for
--                                                  every patient and event
-- PATH is dot-separated, numbers index arrays: stations.1.dropped
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/?.lua;" .. package.path
local json = require("json")

local function load(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local s = f:read("a")
  f:close()
  return json.decode(s)
end

local function fail(msg)
  io.stderr:write(msg, "\n")
  os.exit(1)
end

local cmd = arg[1]
if cmd == "get" then
  local v = load(arg[2])
  for part in arg[3]:gmatch("[^.]+") do
    if type(v) ~= "table" then fail("no " .. arg[3]) end
    v = v[tonumber(part) or part]
  end
  if type(v) == "table" then print(json.encode(v)) else print(tostring(v)) end
elseif cmd == "same-coefs" then
  local a, b = load(arg[2]), load(arg[3])
  local key, tol = arg[4], tonumber(arg[5])
  if #a.coefficients ~= #b.coefficients then fail("different numbers of coefficients") end
  local bb = {}
  for _, c in ipairs(b.coefficients) do bb[c.name] = c end
  for _, c in ipairs(a.coefficients) do
    local o = bb[c.name] or fail("no coefficient " .. c.name .. " in " .. arg[3])
    for _, f in ipairs({ key, "se" }) do
      local d = math.abs(c[f] - o[f]) / math.max(math.abs(o[f]), 1e-300)
      if d > tol then fail(string.format("%s %s: %.17g vs %.17g", c.name, f, c[f], o[f])) end
    end
  end
elseif cmd == "has-note" then
  local r = load(arg[2])
  for _, n in ipairs(r.notes or {}) do
    if n:find(arg[3], 1, true) then os.exit(0) end
  end
  fail("no note containing '" .. arg[3] .. "' in " .. json.encode(r.notes or {}))
elseif cmd == "km-complete" then
  local r = load(arg[2])
  local c = r.curves[1] or fail("no curve")
  local ev, out = 0, 0
  for _, row in ipairs(c.table) do
    ev = ev + row.n_event
    out = out + row.n_event + row.n_censor
    if row.n_event + row.n_censor < 5 then fail("a step with fewer than 5 patients at time " .. row.time) end
  end
  if ev ~= r.events or out ~= r.n or c.table[1].n_risk ~= r.n then
    fail(string.format("events %d vs %d, patients %d vs %d", ev, r.events, out, r.n))
  end
else
  fail("usage: check.lua get|same-coefs|has-note|km-complete ...")
end
