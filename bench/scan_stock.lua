-- scan_stock.lua — benchmark 2's baseline: the same scan in the stock lua5.4
-- interpreter over Lua tables. Usage: lua5.4 scan_stock.lua ROWS REPS
-- Builds the columns with the same splitmix64 as pht-bench-scan gen (not
-- timed), then times the fused loop REPS times with os.clock (CPU seconds).
local rows, reps = tonumber(arg[1]), tonumber(arg[2])
local age, tr, cost = {}, {}, {}
for i = 1, rows do
  local z = i * 0x9E3779B97F4A7C15
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  z = z ~ (z >> 31)
  age[i] = 18 + (z >> 33) % 78
  tr[i] = (z >> 20) % 8 + 1
  cost[i] = ((z >> 40) % 100000) / 100
end
local n, sum
for _ = 1, reps do
  local t0 = os.clock()
  local gn, gs = { 0, 0, 0, 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0, 0, 0, 0 }
  n, sum = 0, 0.0
  for i = 1, rows do
    if age[i] >= 65 then
      local c, t = cost[i], tr[i]
      n = n + 1
      sum = sum + c
      gn[t] = gn[t] + 1
      gs[t] = gs[t] + c
    end
  end
  local mean = sum / n
  io.write(string.format("scan.lua.seconds\t%.9g\n", os.clock() - t0))
  assert(mean == mean)
end
io.write(string.format("scan.lua.count\t%d\nscan.lua.sum\t%.17g\n", n, sum))
