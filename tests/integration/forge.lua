-- forge.lua — builds the body of a result post that re-uses another train's
-- genuine result: reads a node results reply (JSON) on stdin and prints
-- {"round": ROUND, "result": <the result string STATION sent>, "log_head": ...}.
-- usage: lua5.4 forge.lua JSONLUA_DIR ROUND STATION < results.json
package.path = arg[1] .. "/?.lua;" .. package.path
local json = require("json")
local reply = json.decode(io.read("a"))
local first
for _, r in ipairs(reply.results) do
  if r.station == arg[3] and first == nil then first = r end
end
assert(first, "no result of " .. arg[3] .. " to re-use")
io.write(json.encode({ round = tonumber(arg[2]), result = first.result,
  log_head = { seq = 0, hash = string.rep("0", 64) } }))
