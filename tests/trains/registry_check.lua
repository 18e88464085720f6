-- registry_check.lua — checks count, crosstab, summary and outcomes results
-- on the example registry against the same figures computed here directly
-- from the pooled CSV files, and outcomes against km and count (TAP lines,
-- no plan). lua5.4 registry_check.lua DATA_DIR RESULTS_DIR
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/?.lua;" .. package.path
local json = require("json")
local data_dir, res_dir = arg[1], arg[2]
local n, failed = 0, 0

local function tap(ok, what, diag)
  n = n + 1
  print((ok and "ok" or "not ok") .. " - " .. what)
  if not ok then
    failed = failed + 1
    if diag then print("# " .. diag) end
  end
end

local function close(got, want, tol, what)
  local ok = type(got) == "number" and math.abs(got - want) <= tol * math.max(math.abs(want), 1)
  tap(ok, what, string.format("got %s, want %.17g", tostring(got), want))
end

local function result(name)
  local f = assert(io.open(res_dir .. "/" .. name .. ".json"))
  local r = json.decode(f:read("a"))
  f:close()
  return r
end

-- pooled rows of every hospital_*.csv (the registry has no quoted fields)
local rows = {}
local p = io.popen("ls " .. data_dir .. "/hospital_*.csv")
for path in p:lines() do
  local header
  for line in io.lines(path) do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
    if not header then header = cells else
      local r = {}
      for i, h in ipairs(header) do r[h] = cells[i] ~= "NA" and cells[i] or nil end
      rows[#rows + 1] = r
    end
  end
end
p:close()

-- count
local count = result("count")
tap(count.pooled.total == #rows, "count: total " .. #rows .. " rows", "got " .. tostring(count.pooled.total))
local by_arm = {}
for _, r in ipairs(rows) do by_arm[r.treatment] = (by_arm[r.treatment] or 0) + 1 end
local cbt = result("count_by_treatment")
for _, c in ipairs(cbt.pooled.cells) do
  if not c.incomplete then
    tap(c.count == by_arm[c.value], "count by treatment: " .. c.value, "got " .. c.count .. ", want " .. tostring(by_arm[c.value]))
  end
end

-- crosstab treatment x best_response
local xt = result("crosstab")
local cells, checked = {}, 0
for _, r in ipairs(rows) do
  if r.best_response then
    local key = r.treatment .. "|" .. r.best_response
    cells[key] = (cells[key] or 0) + 1
  end
end
for _, c in ipairs(xt.pooled.cells) do
  if not c.incomplete then
    checked = checked + 1
    tap(c.count == (cells[c.row .. "|" .. c.col] or 0), "crosstab: " .. c.row .. " x " .. c.col,
      "got " .. c.count .. ", want " .. tostring(cells[c.row .. "|" .. c.col]))
  end
end
-- a coverage floor: complementary suppression withholds a released cell
-- beside every lone suppressed one, so fewer of the 40 cells are complete
tap(checked >= 12, "crosstab: at least 12 complete pooled cells checked (" .. checked .. ")")

-- summary of age and cost: n, mean, sd (two-pass, here)
local sm = result("summary")
for _, col in ipairs({ "age", "cost_eur" }) do
  local x = {}
  for _, r in ipairs(rows) do if r[col] then x[#x + 1] = tonumber(r[col]) end end
  local s = 0
  for _, v in ipairs(x) do s = s + v end
  local mean = s / #x
  local ss = 0
  for _, v in ipairs(x) do ss = ss + (v - mean) ^ 2 end
  local got
  for _, rec in ipairs(sm.numeric) do if rec.column == col then got = rec end end
  got = got or {}
  tap(got.n == #x, "summary: " .. col .. " n", "got " .. tostring(got.n))
  close(got.mean, mean, 1e-12, "summary: " .. col .. " mean")
  close(got.sd, math.sqrt(ss / (#x - 1)), 1e-9, "summary: " .. col .. " sd")
end

-- outcomes against the rows, km by treatment and count by treatment
local oc = result("outcomes")
local km = result("km_by_treatment")
local curves = {}
for _, c in ipairs(km.curves) do curves[c.group] = c end
for _, arm in ipairs(oc.treatments) do
  local t = arm.treatment
  if not arm.incomplete then
    tap(arm.patients == by_arm[t], "outcomes: " .. t .. " patients", "got " .. tostring(arm.patients))
    local resp, eval, ae, cost, ncost = 0, 0, 0, 0, 0
    for _, r in ipairs(rows) do
      if r.treatment == t then
        if r.best_response then
          eval = eval + 1
          if r.best_response == "CR" or r.best_response == "PR" then resp = resp + 1 end
        end
        if r.ae_grade3 == "1" then ae = ae + 1 end
        if r.cost_eur then cost = cost + tonumber(r.cost_eur); ncost = ncost + 1 end
      end
    end
    close(arm.response and arm.response.rate, resp / eval, 1e-15, "outcomes: " .. t .. " response rate")
    close(arm.ae_grade3 and arm.ae_grade3.rate, ae / by_arm[t], 1e-15, "outcomes: " .. t .. " grade 3+ AE rate")
    close(arm.cost and arm.cost.mean, cost / ncost, 1e-12, "outcomes: " .. t .. " mean cost")
  end
  local c = curves[t]
  if c and arm.os then
    tap(arm.os.median == c.median and arm.os.median_lower == c.median_lower and arm.os.median_upper == c.median_upper,
      "outcomes: " .. t .. " OS median and CI equal km's by treatment",
      string.format("%s (%s, %s) vs %s (%s, %s)", tostring(arm.os.median), tostring(arm.os.median_lower),
        tostring(arm.os.median_upper), tostring(c.median), tostring(c.median_lower), tostring(c.median_upper)))
    local s1
    for _, row in ipairs(c.table) do if row.time <= 365.25 then s1 = row.surv end end
    close(arm.os.surv_1y, s1 or 1, 1e-15, "outcomes: " .. t .. " 1-year OS equals km's curve at 365.25 days")
  end
end
os.exit(failed == 0 and 0 or 1)
