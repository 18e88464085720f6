-- kernels_check.lua — a test train (run by test_kernels.c through the real
-- runtime) that checks the release kernels data:km, data:histogram and
-- data:quantile against independent computations: km.lua's station() as
-- it was before data:km (tests/model/km_reference.lua, in params.km_src)
-- run over a stand-in of the data API built from the rows
-- the test passes in params.rows, and brute-force counts and sorts over
-- the same rows. station() returns {checks = {{name =, ok =, diag =}, ...}};
-- params.case picks the checks.
local checks = {}

local function check(ok, name, diag)
  checks[#checks + 1] = { name = name, ok = ok and true or false, diag = (not ok and diag ~= nil) and tostring(diag) or nil }
end

local function show(t)
  if type(t) ~= "table" then return tostring(t) end
  local parts = {}
  for _, s in ipairs(t) do parts[#parts + 1] = string.format("(%s,%s,%s)", tostring(s.t), tostring(s.d), tostring(s.c)) end
  return table.concat(parts, " ")
end

-- The columns of the test dataset as km.lua sees them (type, levels).
local DICT = {
  time = { type = "integer" }, ftime = { type = "number" }, wtime = { type = "number" },
  status = { type = "boolean" }, ev = { type = "integer" },
  arm = { type = "category", levels = { "a", "b", "c" } }, sex = { type = "boolean" },
  site = { type = "integer" }, age = { type = "number" },
}

-- A stand-in for the data API over plain rows (the API km.lua's station() used).
local function mock(rows, k)
  local d = {}
  function d.column(_, name)
    local c = DICT[name]
    if c == nil then error("no column '" .. tostring(name) .. "'", 0) end
    local vals = {}
    for i, r in ipairs(rows) do vals[i] = r[name] end
    return { type = c.type, levels = c.levels, values = function() return vals end }
  end
  function d.nrows() return #rows end
  function d.k() return k end
  return d
end

-- Compares data:km's output with km.lua's station() output.
local function cmp_km(got, want, what)
  check(got.n == want.n and got.dropped == want.dropped and got.min_cell == want.min_cell and
    got.suppressed_groups == want.suppressed_groups, what .. ": n, dropped, min_cell, suppressed groups",
    string.format("got %s %s %s %s, want %s %s %s %s", got.n, got.dropped, got.min_cell, got.suppressed_groups,
      want.n, want.dropped, want.min_cell, want.suppressed_groups))
  -- km.lua keys its groups by `gcol and value or "all"`, so a boolean
  -- group's false rows come out labelled "all" there; the kernel says "false"
  local by = {}
  for _, g in ipairs(want.groups) do
    local key = g.group or "(all)"
    if key == "all" and g.order == 0 then key = "false" end
    by[key] = g
  end
  check(#got.groups == #want.groups, what .. ": the same groups", #got.groups .. " vs " .. #want.groups)
  local prev
  for _, g in ipairs(got.groups) do
    local w = by[g.group or "(all)"]
    local ok = w ~= nil and g.order == w.order and #g.steps == #w.steps
    if ok then
      for i, s in ipairs(g.steps) do
        local ws = w.steps[i]
        if not (s.t == ws.t and s.d == ws.d and s.c == ws.c and math.type(s.d) == "integer") then ok = false end
      end
    end
    check(ok, what .. ": group " .. tostring(g.group) .. " steps", show(g.steps) .. " | " .. show(w and w.steps))
    check(prev == nil or g.order > prev, what .. ": groups in their order", tostring(g.order))
    prev = g.order
  end
end

local cases = {}

local function km_lua(params)
  return load(params.km_src, "=km_reference.lua", "t")()
end

-- k = 1, min_cell = 1, the station's resolution dividing interval: km.lua's numbers exactly
function cases.km_equal(data, params)
  local km = km_lua(params)
  local ref = mock(params.rows, 1)
  local runs = {
    { time = "time", event = "status", interval = 30 },
    { time = "time", event = "status", interval = 60, group = "arm" },
    { time = "time", event = "status", interval = 90, group = "sex" },
    { time = "time", event = "status", interval = 30, group = "site" },
    { time = "ftime", event = "ev", interval = 30, group = "arm" },
    { time = "time", event = "ev", event_value = 0, interval = 120 },
    { time = "time", event = "arm", event_value = "b", interval = 30, group = "sex" },
  }
  for _, p in ipairs(runs) do
    local what = string.format("km %s/%s every %s by %s", p.time, p.event, p.interval, tostring(p.group))
    local got = data:km(p)
    local want = km.station(ref, p, 1)
    cmp_km(got, want, what)
    check(got.interval == p.interval, what .. ": released on the interval asked", got.interval)
  end
end

-- the station's k and min_cell: merged steps as km.lua merges them
function cases.km_merge(data, params)
  local km = km_lua(params)
  local ref = mock(params.rows, 5)
  for _, p in ipairs({
    { time = "time", event = "status", interval = 30 },
    { time = "time", event = "status", interval = 30, min_cell = 12 },
    { time = "time", event = "status", interval = 60, group = "arm", min_cell = 9 },
    { time = "ftime", event = "ev", interval = 30, group = "sex", min_cell = 20 },
  }) do
    local what = string.format("km merged, k 5, min_cell %s, by %s", tostring(p.min_cell), tostring(p.group))
    cmp_km(data:km(p), km.station(ref, p, 1), what)
  end
  -- the merged steps still sum to the group, and each covers m
  local out = data:km({ time = "time", event = "status", interval = 30, min_cell = 12, group = "arm" })
  local ok = true
  for _, g in ipairs(out.groups) do
    for _, s in ipairs(g.steps) do if s.d + s.c < 12 then ok = false end end
  end
  check(ok and out.min_cell == 12, "every released step covers min_cell patients", nil)
  -- a group under m is suppressed: integer sites with few rows are not shown by key
  local bysite = data:km({ time = "time", event = "status", interval = 30, group = "site" })
  local shown = {}
  for _, g in ipairs(bysite.groups) do shown[g.group] = true end
  check(not shown["6"] and not shown["7"], "integer group keys with fewer than k rows are not shown", nil)
  check(bysite.suppressed_groups >= 2, "the small sites are counted as suppressed", bysite.suppressed_groups)
end

-- the policy: grid and minimum cell from the station, never finer
function cases.km_policy(data, params)
  local km = km_lua(params)
  local ref = mock(params.rows, 1)
  check(data:time_resolution() == 60, "time_resolution() is the policy's days", data:time_resolution())
  check(math.abs(data:time_resolution("wtime") - 60 / 7) < 1e-12, "a weeks column: 60/7 weeks",
    data:time_resolution("wtime"))
  for _, iv in ipairs({ { 30, 60 }, { 60, 60 }, { 90, 120 }, { 120, 120 }, { 0.001, 60 } }) do
    local got = data:km({ time = "time", event = "status", interval = iv[1], group = "arm" })
    check(got.interval == iv[2], "interval " .. iv[1] .. " is released on a grid of " .. iv[2], got.interval)
    local want = km.station(ref, { time = "time", event = "status", interval = iv[2], group = "arm",
      min_cell = 4 }, 1)
    cmp_km(got, want, "km at interval " .. iv[1] .. " under policy (60 days, km_min_cell 4)")
  end
  local none = data:km({ time = "time", event = "status" })
  check(none.interval == 60 and none.min_cell == 4, "no interval: the station's grid; m from the policy",
    tostring(none.interval) .. " " .. tostring(none.min_cell))
end

-- bad arguments: ordinary (catchable) errors that depend on no data value
function cases.km_errors(data)
  for _, e in ipairs({
    { { time = "time", event = "status", interval = 0 }, "km: interval: a finite number > 0.0 is required" },
    { { time = "time", event = "status", min_cell = 0.5 }, "km: min_cell: a finite number >= 1.0 is required" },
    { { time = "arm", event = "status" }, "km: time: column 'arm' is a category column; it must be number or integer" },
    { { time = "time", event = "status", group = "age" }, "km: group: column 'age' must be category, boolean or integer" },
    { { event = "status" }, "km: time: a column name is required" },
    { { time = "time", event = "arm" }, "km: event_value: column 'arm' is a category; name the level meaning an event" },
  }) do
    local ok, err = pcall(data.km, data, e[1])
    check(not ok and tostring(err):find(e[2], 1, true) ~= nil, "error: " .. e[2], err)
  end
end

-- histogram: brute force over the rows
local function brute_hist(rows, name, e)
  local c, below, above = {}, 0, 0
  for i = 1, #e - 1 do c[i] = 0 end
  for _, r in ipairs(rows) do
    local v = r[name]
    if v ~= nil then
      if v <= e[1] then below = below + 1
      elseif v > e[#e] then above = above + 1
      else
        for i = 2, #e do if v <= e[i] then c[i - 1] = c[i - 1] + 1; break end end
      end
    end
  end
  return c, below, above
end

function cases.histogram(data, params)
  local k = params.k
  for _, e in ipairs({ { 20, 30, 40, 50, 60, 70, 80 }, { 35, 45, 55, 65 }, { 0, 100 }, { 50, 51, 52, 53, 90 } }) do
    local h = data:histogram("age", e)
    local c, below, above = brute_hist(params.rows, "age", h.edges)
    local what = "histogram age " .. table.concat(e, ",")
    local ok, nsupp = true, 0
    for i, b in ipairs(h.bins) do
      if b.from ~= h.edges[i] or b.to ~= h.edges[i + 1] then ok = false end
      if b.suppressed then
        nsupp = nsupp + 1
        if b.count ~= nil then ok = false end
      elseif b.count ~= c[i] then ok = false end
      if c[i] > 0 and c[i] < k and not b.suppressed then ok = false end
    end
    if h.below_suppressed then nsupp = nsupp + 1 elseif h.below ~= below then ok = false end
    if h.above_suppressed then nsupp = nsupp + 1 elseif h.above ~= above then ok = false end
    if below > 0 and below < k and not h.below_suppressed then ok = false end
    if (above > 0 and above < k) and not h.above_suppressed then ok = false end
    check(ok, what .. ": counts equal a brute-force count, cells under k suppressed", nil)
    check(nsupp ~= 1, what .. ": never exactly one suppressed cell", nsupp)
  end
  -- snapping: 2 significant digits without a grid; the policy grid for `ftime`
  local s = data:snap("age", { 0.012345, 33.3, 47.77, 1234 })
  check(#s == 4 and s[1] == 0.012 and s[2] == 33 and s[3] == 48 and s[4] == 1200,
    "edges snap to 2 significant digits", table.concat(s, ","))
  s = data:snap("ftime", { 7, 31, 44, 46 })
  check(#s == 3 and s[1] == 0 and s[2] == 30 and s[3] == 45, "edges snap to the column's grid (15), equal ones merged",
    table.concat(s, ","))
  local ok, err = pcall(data.snap, data, "ftime", { 1, 2 })
  check(not ok and tostring(err):find("fewer than two distinct edges", 1, true), "edges that collapse are an error", err)
  ok, err = pcall(data.histogram, data, "age", { 3, 2 })
  check(not ok and tostring(err):find("strictly increasing", 1, true), "decreasing edges are an error", err)
  ok, err = pcall(data.histogram, data, "arm", { 1, 2 })
  check(not ok and tostring(err):find("must be number or integer", 1, true), "a category column is an error", err)
end

-- quantile: the mean of the block of m sorted values holding the rank
function cases.quantile(data, params)
  local k = params.k
  local x = {}
  for _, r in ipairs(params.rows) do if r.age ~= nil then x[#x + 1] = r.age end end
  table.sort(x)
  local n = #x
  for _, mc in ipairs({ 1, 7 }) do
    local m = math.max(k, 2, mc)
    for _, p in ipairs({ 0, 0.1, 0.25, 0.5, 0.75, 0.9, 1 }) do
      local h = math.floor((n - 1) * p + 0.5)
      local nb = n // m
      local b = math.min(h // m, nb - 1)
      local a, z = b * m + 1, (b == nb - 1) and n or (b * m + m)
      local s = 0
      for i = a, z do s = s + x[i] end
      local got, cnt = data:quantile("age", p, mc)
      check(math.abs(got - s / (z - a + 1)) < 1e-9 and cnt == z - a + 1 and cnt >= m,
        string.format("quantile p = %g, min_cell %d: mean of sorted values %d..%d", p, mc, a, z),
        tostring(got) .. " vs " .. tostring(s / (z - a + 1)))
    end
  end
  -- a nearby p lands in the same block: the release does not move by one row
  local q1 = data:quantile("age", 0.50)
  local q2 = data:quantile("age", 0.501)
  check(q1 == q2, "nearby p: the same block", tostring(q1) .. " " .. tostring(q2))
  local small = data:where("id", "<=", 5)
  local v, c = small:quantile("age", 0.5, 6)
  check(v == nil and c == 0, "fewer values than m: nil", tostring(v))
end

-- kernels on a view under k end the run (not catchable)
function cases.under_k(data)
  local tiny = data:where("id", "<=", 3)
  pcall(function() return tiny:km({ time = "time", event = "status", interval = 30 }) end)
  check(false, "the run should have ended with subset smaller than k", nil)
end

function cases.km_negative(data)
  pcall(function() return data:km({ time = "negt", event = "status", interval = 30 }) end)
  check(false, "the run should have ended with a refusal", nil)
end

-- hand cases: return the kernel's output (test_kernels.c checks it and its row sets)
function cases.hand_km(data, params)
  return data:km({ time = "time", event = "status", interval = params.interval, min_cell = params.min_cell })
end

function cases.hand_hist(data, params)
  return data:histogram("age", params.edges)
end

function cases.hand_model(data)
  return data:glm_step({ family = "gaussian", outcome = "age", covariates = { "status", "time" } })
end

function cases.hand_quantile(data, params)
  local v, c = data:quantile("age", params.p)
  return { value = v, count = c }
end

return {
  name = "kernels_check", version = "1",
  station = function(data, params, round)
    local r = cases[params.case](data, params, round)
    if r ~= nil then return r end
    return { checks = checks }
  end,
  combine = function() return { done = true, result = 0 } end,
}
