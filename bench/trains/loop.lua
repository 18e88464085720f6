--[[
loop.lua — benchmark train and script: a CPU-bound Lua loop (arithmetic,
table reads and writes, short strings, a small table allocated every 8th
iteration) run both inside PHT's runtime (as a train) and by the stock
lua5.4 interpreter (as a script: lua5.4 loop.lua N), so both run the very
same function.
]]
local function work(n)
  local acc, t, keep = 0.0, {}, nil
  for i = 1, n do
    local j = i % 64 + 1
    t[j] = (t[j] or 0) + i * 0.5
    acc = acc + t[j] / j
    if i % 8 == 0 then keep = { i, acc, tostring(j) } end
  end
  return acc + (keep and #keep or 0)
end

if arg ~= nil then
  print(work(tonumber(arg[1])))
  return
end

return {
  name = "bench-loop", version = "1.0.0",
  params = { n = "integer" },
  station = function(data, params) return { acc = work(params.n) } end,
  combine = function(results) return { done = true, result = results[1] } end,
}
