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

-- summary's histogram of age: bins (a, b] as R's cut, from the rows
for _, h in ipairs(sm.histograms) do
  if h.column == "age" then
    for _, bin in ipairs(h.bins) do
      if not bin.incomplete then
        local c = 0
        for _, r in ipairs(rows) do
          local v = tonumber(r.age)
          if v and v > bin.from and v <= bin.to then c = c + 1 end
        end
        tap(bin.count == c, string.format("summary: age bin (%g, %g]", bin.from, bin.to),
          "got " .. tostring(bin.count) .. ", want " .. c)
      end
    end
  end
end

-- summary's quantiles per station: the mean of a block of at least k
-- sorted values that holds the quantile's rank (R's type 7: h = (n-1) p)
local by_station = {}
for path in io.popen("ls " .. data_dir .. "/hospital_*.csv"):lines() do
  local id = path:match("([^/]+)%.csv$")
  local x, header = {}, nil
  for line in io.lines(path) do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
    if not header then header = cells else
      for i, hname in ipairs(header) do
        if hname == "age" and cells[i] ~= "NA" and cells[i] ~= "" then x[#x + 1] = tonumber(cells[i]) end
      end
    end
  end
  table.sort(x)
  by_station[id] = x
end
local qchecked = 0
for _, st in ipairs(sm.stations) do
  local x = by_station[st.id]
  for _, rec in ipairs(st.numeric) do
    if rec.column == "age" and rec.quantiles then
      for _, q in ipairs(rec.quantiles) do
        local h = (#x - 1) * q.p + 1
        local lo, hi = math.max(1, math.floor(h) - q.n + 1), math.min(#x, math.ceil(h) + q.n - 1)
        local ok = q.n >= 5 and q.mean >= x[lo] and q.mean <= x[hi]
        -- the mean of some q.n consecutive sorted values around the rank
        local found = false
        for a = lo, hi - q.n + 1 do
          local s = 0
          for i = a, a + q.n - 1 do s = s + x[i] end
          if math.abs(s / q.n - q.mean) <= 1e-9 * math.max(1, math.abs(q.mean)) then found = true end
        end
        qchecked = qchecked + 1
        tap(ok and found, string.format("summary: %s age quantile %g is the mean of %d sorted values around its rank",
          st.id, q.p, q.n), string.format("mean %s, n %s", tostring(q.mean), tostring(q.n)))
      end
    end
  end
end
tap(qchecked == 9, "summary: 3 quantiles at each of 3 stations checked (" .. qchecked .. ")")

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
