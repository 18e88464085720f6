-- model_check.lua — a test train (run by test_model.c through
-- pht_train_run_station) that checks the model kernels data:cox_stratum and
-- data:glm_step against straightforward Lua computations written from the
-- definitions (risk sets by brute force, R's family formulas row by row),
-- and the standard trains' kernel path against their plain-Lua path.
-- It runs with row access (struct pht_limits.row_access, as a data permit
-- grants it): the references read the rows through col:values().
-- station() returns {checks = {{name =, ok =, diag =}, ...}}; params.case
-- picks the checks, params.cox_src / params.glm_src carry the standard
-- trains' text.
local checks = {}

local function check(ok, name, diag)
  checks[#checks + 1] = { name = name, ok = ok and true or false, diag = (not ok and diag) and tostring(diag) or nil }
end

local function close(a, b, tol)
  if type(a) ~= "number" or type(b) ~= "number" then return a == b end
  return math.abs(a - b) <= tol * math.max(1, math.abs(b))
end

-- compares numbers, arrays and records deeply; returns ok, path of the first difference
local function same(a, b, tol, path)
  path = path or "out"
  if type(a) == "table" and type(b) == "table" then
    for key, v in pairs(b) do
      local ok, where = same(a[key], v, tol, path .. "." .. tostring(key))
      if not ok then return false, where end
    end
    for key in pairs(a) do
      if b[key] == nil then return false, path .. "." .. tostring(key) .. " only in the first" end
    end
    return true
  end
  if close(a, b, tol) then return true end
  return false, string.format("%s: %s vs %s", path, tostring(a), tostring(b))
end

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return "(no error)" end
  return tostring(e)
end

-- the message without the position luaL_error puts in front (the caller's chunk:line)
local function check_error(want, name, f, ...)
  local got = errmsg(f, ...):gsub("^model_check%.lua:%d+: ", "")
  check(got == want, name, "got: " .. got)
end

---------------------------------------------------------------------------
-- the references: plain definitions, no sorting, no running sums
---------------------------------------------------------------------------

-- Design over the complete cases of the listed columns, coded as the
-- standard trains document it. Returns rows (list of {x = {...}, ...}).
local function design(data, covariates, extra)
  local cols, vals = {}, {}
  local all = {}
  for _, c in ipairs(extra) do all[#all + 1] = c end
  for _, c in ipairs(covariates) do all[#all + 1] = c end
  for _, c in ipairs(all) do
    cols[c] = data:column(c)
    vals[c] = cols[c]:values()
  end
  local rows, dropped = {}, 0
  for i = 1, data:nrows() do
    local complete = true
    for _, c in ipairs(all) do if vals[c][i] == nil then complete = false end end
    if complete then
      local x = {}
      for _, c in ipairs(covariates) do
        local col, v = cols[c], vals[c][i]
        if col.type == "category" then
          for l = 2, #col.levels do x[#x + 1] = (v == col.levels[l]) and 1 or 0 end
        elseif col.type == "boolean" then
          x[#x + 1] = v and 1 or 0
        else
          x[#x + 1] = v
        end
      end
      local row = { x = x }
      for _, c in ipairs(extra) do row[c] = vals[c][i] end
      rows[#rows + 1] = row
    else
      dropped = dropped + 1
    end
  end
  return rows, dropped
end

-- Cox log partial likelihood, score and information by brute force: for
-- each distinct death time, the risk set is everyone with time >= it.
local function ref_cox(rows, p, beta, ties, is_event)
  local eta, r = {}, {}
  for i, row in ipairs(rows) do
    local e = 0
    for j = 1, p do e = e + row.x[j] * beta[j] end
    eta[i], r[i] = e, math.exp(e)
  end
  local times, seen = {}, {}
  for i, row in ipairs(rows) do
    if is_event(row) and not seen[row.t] then seen[row.t] = true; times[#times + 1] = row.t end
  end
  local ll, U, I, events = 0, {}, {}, 0
  for j = 1, p do U[j] = 0; for k = 1, p do I[(j - 1) * p + k] = 0 end end
  for _, t in ipairs(times) do
    local S0, S1, S2, D0, D1, D2, d = 0, {}, {}, 0, {}, {}, 0
    for j = 1, p do S1[j], D1[j] = 0, 0; for k = 1, p do S2[(j - 1) * p + k], D2[(j - 1) * p + k] = 0, 0 end end
    for i, row in ipairs(rows) do
      if row.t >= t then
        S0 = S0 + r[i]
        for j = 1, p do
          S1[j] = S1[j] + r[i] * row.x[j]
          for k = 1, p do S2[(j - 1) * p + k] = S2[(j - 1) * p + k] + r[i] * row.x[j] * row.x[k] end
        end
      end
      if row.t == t and is_event(row) then
        d = d + 1
        ll = ll + eta[i]
        D0 = D0 + r[i]
        for j = 1, p do
          U[j] = U[j] + row.x[j]
          D1[j] = D1[j] + r[i] * row.x[j]
          for k = 1, p do D2[(j - 1) * p + k] = D2[(j - 1) * p + k] + r[i] * row.x[j] * row.x[k] end
        end
      end
    end
    events = events + d
    for m = 0, d - 1 do
      local f = (ties == "efron") and m / d or 0
      local s0 = S0 - f * D0
      ll = ll - math.log(s0)
      for j = 1, p do
        local a = S1[j] - f * D1[j]
        U[j] = U[j] - a / s0
        for k = 1, p do
          local b = S1[k] - f * D1[k]
          I[(j - 1) * p + k] = I[(j - 1) * p + k] + (S2[(j - 1) * p + k] - f * D2[(j - 1) * p + k]) / s0 - a * b / (s0 * s0)
        end
      end
    end
  end
  return { loglik = ll, score = U, info = I, events = events }
end

-- R's families, written out (binomial/logit, poisson/log, gaussian/identity).
local EPS = 2.220446049250313e-16
local FAM = {
  binomial = {
    start = function(y) return (y + 0.5) / 2 end,
    linkfun = function(mu) return math.log(mu / (1 - mu)) end,
    linkinv = function(eta)
      local t = eta < -30 and EPS or (eta > 30 and 1 / EPS or math.exp(eta))
      return t / (1 + t)
    end,
    mu_eta = function(eta)
      if eta > 30 or eta < -30 then return EPS end
      return math.exp(eta) / (1 + math.exp(eta)) ^ 2
    end,
    var = function(mu) return mu * (1 - mu) end,
    dev = function(y, mu)
      local a = y == 0 and 0 or y * math.log(y / mu)
      local b = y == 1 and 0 or (1 - y) * math.log((1 - y) / (1 - mu))
      return 2 * (a + b)
    end,
    ll = function(y, mu) return y == 1 and math.log(mu) or math.log(1 - mu) end,
  },
  poisson = {
    start = function(y) return y + 0.1 end,
    linkfun = math.log,
    linkinv = function(eta) return math.max(math.exp(eta), EPS) end,
    mu_eta = function(eta) return math.max(math.exp(eta), EPS) end,
    var = function(mu) return mu end,
    dev = function(y, mu) return 2 * (y > 0 and (y * math.log(y / mu) - (y - mu)) or mu) end,
    ll = function(y, mu)
      local lf = 0
      for i = 2, y do lf = lf + math.log(i) end
      return y * math.log(mu) - mu - lf
    end,
  },
  gaussian = {
    start = function(y) return y end,
    linkfun = function(mu) return mu end,
    linkinv = function(eta) return eta end,
    mu_eta = function() return 1 end,
    var = function() return 1 end,
    dev = function(y, mu) return (y - mu) ^ 2 end,
    ll = function() return 0 end,
  },
}

local function ref_glm(rows, p, family, beta, yof, offcol, nullmu)
  local F = FAM[family]
  local A, b = {}, {}
  for j = 1, p * p do A[j] = 0 end
  for j = 1, p do b[j] = 0 end
  local dev, ll, sumy, sumexp, nulldev, ones = 0, 0, 0, 0, 0, 0
  for _, row in ipairs(rows) do
    local x = { 1 }
    for j = 1, #row.x do x[j + 1] = row.x[j] end
    local y = yof(row)
    local off = offcol and row[offcol] or 0
    local eta, mu
    if beta then
      eta = off
      for j = 1, p do eta = eta + x[j] * beta[j] end
      mu = F.linkinv(eta)
    else
      eta = F.linkfun(F.start(y))
      mu = F.linkinv(eta)
    end
    dev = dev + F.dev(y, mu)
    ll = ll + F.ll(y, mu)
    local me = F.mu_eta(eta)
    local z = eta - off + (y - mu) / me
    local w = me * me / F.var(mu)
    for j = 1, p do
      b[j] = b[j] + w * x[j] * z
      for k = 1, p do A[(j - 1) * p + k] = A[(j - 1) * p + k] + w * x[j] * x[k] end
    end
    sumy = sumy + y
    if y == 1 then ones = ones + 1 end
    sumexp = sumexp + math.exp(off)
    if nullmu then
      local m0 = (family == "poisson" and offcol) and math.exp(nullmu + off) or nullmu
      nulldev = nulldev + F.dev(y, m0)
    end
  end
  return { XtWX = A, XtWz = b, deviance = dev, loglik = ll, sum_y = sumy, sum_exp_offset = sumexp,
    y_ones = ones, null_deviance = nullmu and nulldev or nil }
end

local TOL = 1e-11

local function cmp_cox(got, want, n, dropped, what)
  check(got.n == n and got.dropped == dropped, what .. ": n " .. n .. ", dropped " .. dropped,
    string.format("n %s dropped %s", tostring(got.n), tostring(got.dropped)))
  check(got.events == want.events, what .. ": events " .. want.events, "got " .. tostring(got.events))
  check(close(got.loglik, want.loglik, TOL), what .. ": log partial likelihood",
    string.format("%.17g vs %.17g", got.loglik, want.loglik))
  local ok, where = same(got.score, want.score, TOL, "score")
  check(ok, what .. ": score", where)
  ok, where = same(got.info, want.info, TOL, "info")
  check(ok, what .. ": information", where)
end

local function cmp_glm(got, want, n, what)
  check(got.n == n, what .. ": n " .. n, "got " .. tostring(got.n))
  for _, key in ipairs({ "deviance", "loglik", "sum_y", "sum_exp_offset", "y_ones", "null_deviance" }) do
    check(close(got[key], want[key], TOL), what .. ": " .. key,
      string.format("%s vs %s", tostring(got[key]), tostring(want[key])))
  end
  local ok, where = same(got.XtWX, want.XtWX, TOL, "XtWX")
  check(ok, what .. ": X'WX", where)
  ok, where = same(got.XtWz, want.XtWz, TOL, "XtWz")
  check(ok, what .. ": X'Wz", where)
end

local function copy(t)
  local o = {}
  for key, v in pairs(t) do o[key] = v end
  return o
end

-- station() of a standard train (assembled, as signed): on success, its
-- output carries exactly the figures of its kernel called directly
local function std_kernel(train, data, params, round, what)
  local ok, out = pcall(train.station, data, copy(params), round)
  if not ok then return ok, out end
  local direct, keys
  if train.name == "cox" then
    direct = data:cox_stratum({ time = params.time, event = params.event, event_value = params.event_value,
      covariates = params.covariates, beta = params.beta, ties = params.ties })
    keys = { "names", "n", "dropped", "events", "loglik", "score", "info" }
  else
    direct = data:glm_step({ family = params.family, outcome = params.outcome, covariates = params.covariates,
      offset = params.offset, beta = params.beta, nullmu = params.nullmu })
    keys = { "names", "n", "dropped", "XtWX", "XtWz", "deviance", "loglik", "sum_y", "sum_exp_offset",
      "null_deviance" }
  end
  local got, want = {}, {}
  for _, key in ipairs(keys) do got[key], want[key] = out[key], direct[key] end
  local same_out, where = same(got, want, 0)
  check(same_out, what .. ": the train releases its kernel's figures", where)
  return true, out
end

---------------------------------------------------------------------------
-- the cases
---------------------------------------------------------------------------
local cases = {}

local COV = { "x1", "grp", "flag", "age" }

function cases.cox(data)
  local rows, dropped = design(data, COV, { "time", "status" })
  local ev = function(row) return row.status end
  for _, ties in ipairs({ "efron", "breslow" }) do
    for _, beta in ipairs({ { 0, 0, 0, 0, 0 }, { 0.05, -0.4, 0.7, 0.3, -0.02 } }) do
      local what = string.format("cox %s beta (%g, %g, ...)", ties, beta[1], beta[2])
      local got = data:cox_stratum({ time = "time", event = "status", covariates = COV, beta = beta, ties = ties })
      for i, row in ipairs(rows) do rows[i].t = row.time end
      cmp_cox(got, ref_cox(rows, 5, beta, ties, ev), #rows, dropped, what)
    end
  end
  local got = data:cox_stratum({ time = "time", event = "status", covariates = COV })
  local nm = got.names
  check(#nm == 5 and nm[1] == "x1" and nm[2] == "grpg2" and nm[3] == "grpg3" and nm[4] == "flag" and nm[5] == "age",
    "cox term names x1, grpg2, grpg3, flag, age", table.concat(nm, ","))
  local ones = { 0, 0, 0, 0, 0 }
  for _, row in ipairs(rows) do for j = 1, 5 do if row.x[j] == 1 then ones[j] = ones[j] + 1 end end end
  local ok, where = same(got.ones, ones, 0, "ones")
  check(ok, "cox: ones per term counted over the complete cases", where)
  check(got.binary[1] == false and got.binary[2] and got.binary[3] and got.binary[4] and got.binary[5] == false,
    "cox: binary flags (categories and booleans)", nil)
  -- no beta is beta = 0
  local zero = data:cox_stratum({ time = "time", event = "status", covariates = COV, beta = { 0, 0, 0, 0, 0 } })
  check(same(got, zero, 0), "cox: no beta is beta = 0", nil)
  -- event codes: integer 0/1, an integer code via event_value, a category level
  local r01 = data:cox_stratum({ time = "time", event = "ev01", covariates = { "x1" } })
  local rows01, d01 = design(data, { "x1" }, { "time", "ev01" })
  for i, row in ipairs(rows01) do rows01[i].t = row.time end
  cmp_cox(r01, ref_cox(rows01, 1, { 0 }, "efron", function(row) return row.ev01 == 1 end), #rows01, d01,
    "cox event coded 0/1 (integer)")
  local rc = data:cox_stratum({ time = "time", event = "evcode", event_value = 2, covariates = { "x1" }, beta = { 0.1 } })
  local rowsc, dc = design(data, { "x1" }, { "time", "evcode" })
  for i, row in ipairs(rowsc) do rowsc[i].t = row.time end
  cmp_cox(rc, ref_cox(rowsc, 1, { 0.1 }, "efron", function(row) return row.evcode == 2 end), #rowsc, dc,
    "cox event_value 2 on an integer code")
  local rl = data:cox_stratum({ time = "time", event = "bin", event_value = "yes", covariates = { "age" }, ties = "breslow" })
  local rowsl, dl = design(data, { "age" }, { "time", "bin" })
  for i, row in ipairs(rowsl) do rowsl[i].t = row.time end
  cmp_cox(rl, ref_cox(rowsl, 1, { 0 }, "breslow", function(row) return row.bin == "yes" end), #rowsl, dl,
    "cox event_value naming a category level")
  local rn = data:cox_stratum({ time = "time", event = "bin", event_value = "nosuch", covariates = { "age" } })
  check(rn.events == 0 and rn.loglik == 0, "cox: an event_value that is no level gives no events", nil)
  -- invalid cells end the run (cases invalid_*), no value reaches the train
  check(got.invalid == nil, "cox: valid data reports nothing invalid", nil)
end

-- strata: each site a stratum of its own
function cases.strata(data)
  for _, site in ipairs({ "a", "b", "c" }) do
    local v = data:where("site", "==", site)
    local rows, dropped = design(v, COV, { "time", "status" })
    for i, row in ipairs(rows) do rows[i].t = row.time end
    local beta = { 0.1, 0.2, -0.3, 0.4, 0.01 }
    local got = v:cox_stratum({ time = "time", event = "status", covariates = COV, beta = beta })
    cmp_cox(got, ref_cox(rows, 5, beta, "efron", function(row) return row.status end), #rows, dropped,
      "stratum " .. site)
    local g = v:glm_step({ family = "poisson", outcome = "cnt", covariates = COV, offset = "off",
      beta = { 0.1, 0.01, 0.2, -0.1, 0.3, 0.001 } })
    local grows = design(v, COV, { "cnt", "off" })
    cmp_glm(g, ref_glm(grows, 6, "poisson", { 0.1, 0.01, 0.2, -0.1, 0.3, 0.001 },
      function(row) return row.cnt end, "off", nil), #grows, "stratum " .. site .. " poisson")
  end
end

function cases.glm(data)
  local beta6 = { -0.3, 0.02, 0.4, -0.2, 0.5, 0.01 }
  local specs = {
    { family = "binomial", outcome = "bin", yof = function(row) return row.bin == "yes" and 1 or 0 end },
    { family = "binomial", outcome = "status", yof = function(row) return row.status and 1 or 0 end },
    { family = "binomial", outcome = "ev01", yof = function(row) return row.ev01 end },
    { family = "poisson", outcome = "cnt", yof = function(row) return row.cnt end, offset = "off" },
    { family = "poisson", outcome = "cnt", yof = function(row) return row.cnt end },
    { family = "gaussian", outcome = "y", yof = function(row) return row.y end },
  }
  for _, s in ipairs(specs) do
    local extra = { s.outcome }
    if s.offset then extra[2] = s.offset end
    local rows, dropped = design(data, COV, extra)
    for _, beta in ipairs({ false, beta6 }) do
      local nullmu = beta and 0.4 or nil
      local what = string.format("glm %s %s%s, %s", s.family, s.outcome, s.offset and " offset" or "",
        beta and "at beta, null mean 0.4" or "start")
      local got = data:glm_step({ family = s.family, outcome = s.outcome, covariates = COV, offset = s.offset,
        beta = beta or nil, nullmu = nullmu })
      cmp_glm(got, ref_glm(rows, 6, s.family, beta or nil, s.yof, s.offset, nullmu), #rows, what)
      check(got.dropped == dropped, what .. ": dropped " .. dropped, tostring(got.dropped))
    end
  end
  local g = data:glm_step({ family = "gaussian", outcome = "y", covariates = COV })
  check(g.names[1] == "(Intercept)" and g.names[2] == "x1" and #g.names == 6 and g.binary[1] == false,
    "glm: (Intercept) first, not binary", table.concat(g.names, ","))
  check(g.extreme == nil, "glm: no extreme flag (an extreme beta ends the run instead)", tostring(g.extreme))
  local e = data:glm_step({ family = "binomial", outcome = "bin", covariates = { "x1" }, beta = { 29, 0 } })
  check(e.n > 0, "glm: fitted probabilities short of the clamp are computed", nil)
  local ni = data:glm_step({ family = "gaussian", outcome = "y", covariates = { "x1" }, intercept = false })
  check(#ni.names == 1 and ni.names[1] == "x1" and #ni.XtWX == 1, "glm: intercept = false leaves it out", nil)
  local io = data:glm_step({ family = "gaussian", outcome = "y", covariates = {} })
  check(#io.names == 1 and io.XtWX[1] == io.n, "glm: intercept only: X'WX = n (gaussian)", nil)
end

-- by hand (as tests/trains/math.lua): times 1, 2, 3 all events, x = 0, 1, 0,
-- beta 0: loglik -log 6, score 1/6, information 17/36; a tie at time 4
-- of x = 0, 1 alone: Breslow -2 log 2, Efron -log 2
function cases.hand(data)
  local a = data:where("part", "==", "a"):cox_stratum({ time = "time", event = "status", covariates = { "x" } })
  check(close(a.loglik, -math.log(6), 1e-15) and close(a.score[1], 1 / 6, 1e-15) and close(a.info[1], 17 / 36, 1e-15)
    and a.events == 3 and a.n == 3, "by hand: loglik -log 6, score 1/6, information 17/36",
    string.format("%.17g %.17g %.17g", a.loglik, a.score[1], a.info[1]))
  local tie = data:where("part", "==", "b")
  local b = tie:cox_stratum({ time = "time", event = "status", covariates = { "x" }, ties = "breslow" })
  local e = tie:cox_stratum({ time = "time", event = "status", covariates = { "x" }, ties = "efron" })
  check(close(b.loglik, -2 * math.log(2), 1e-15), "by hand: Breslow loglik of a tie -2 log 2", tostring(b.loglik))
  check(close(e.loglik, -math.log(2), 1e-15), "by hand: Efron loglik of a tie -log 2", tostring(e.loglik))
  -- information of the tie: Breslow 2 (1/2 - 1/4); Efron (1/2 - 1/4) for the first death plus, with half
  -- of the deaths' share removed (s0 = 1, s1 = s2 = 1/2), 1/2 - 1/4 for the second: 1/2 both
  check(close(e.info[1], 0.5, 1e-15) and close(b.info[1], 0.5, 1e-15) and close(e.score[1], 0, 1e-15),
    "by hand: information of the tie 1/2 (Efron and Breslow), score 0", string.format("%.17g %.17g", e.info[1], b.info[1]))
end

-- a single event; everyone censored
function cases.few(data)
  local one = data:where("part", "==", "one")
  local rows, dropped = design(one, { "x" }, { "time", "status" })
  for i, row in ipairs(rows) do rows[i].t = row.time end
  for _, ties in ipairs({ "efron", "breslow" }) do
    local got = one:cox_stratum({ time = "time", event = "status", covariates = { "x" }, beta = { 0.3 }, ties = ties })
    cmp_cox(got, ref_cox(rows, 1, { 0.3 }, ties, function(row) return row.status end), #rows, dropped,
      "a single event, " .. ties)
  end
  local none = data:where("part", "==", "none"):cox_stratum({ time = "time", event = "status", covariates = { "x" }, beta = { 0.3 } })
  check(none.events == 0 and none.loglik == 0 and none.score[1] == 0 and none.info[1] == 0 and none.n == 8,
    "all censored: no events, loglik, score and information 0", string.format("%s %s", none.events, none.loglik))
  local empty = data:where("time", ">", 1000)
  local ev = empty:cox_stratum({ time = "time", event = "status", covariates = { "x" } })
  check(ev.n == 0 and ev.dropped == 0 and ev.events == 0 and ev.loglik == 0, "an empty view: n 0, no events", nil)
end

function cases.errors(data)
  local cs = function(a) return data:cox_stratum(a) end
  local gs = function(a) return data:glm_step(a) end
  check_error("cox_stratum: expects a table of arguments, {time = ..., event = ..., covariates = {...}}",
    "cox_stratum without a table", function() return data:cox_stratum() end)
  check_error("cox_stratum: time: a column name is required", "cox: no time", cs, { event = "status", covariates = { "x1" } })
  check_error("cox_stratum: time: a column name is required, not a number", "cox: time a number", cs,
    { time = 5, event = "status", covariates = { "x1" } })
  check_error("no column 'nosuch' in dataset model", "cox: unknown time column", cs,
    { time = "nosuch", event = "status", covariates = { "x1" } })
  check_error("cox_stratum: time: column 'grp' is a category column; it must be number or integer", "cox: category time",
    cs, { time = "grp", event = "status", covariates = { "x1" } })
  check_error("cox_stratum: event: a column name is required", "cox: no event", cs, { time = "time", covariates = { "x1" } })
  check_error("cox_stratum: event_value: column 'grp' is a category; name the level meaning an event",
    "cox: category event without event_value", cs, { time = "time", event = "grp", covariates = { "x1" } })
  check_error("cox_stratum: event_value: column 'ev01' is numeric, event_value must be a number",
    "cox: numeric event with a string event_value", cs, { time = "time", event = "ev01", event_value = "1", covariates = { "x1" } })
  check_error("cox_stratum: event: column 'dx' has type date, which cannot be an event indicator", "cox: date event", cs,
    { time = "time", event = "dx", covariates = { "x1" } })
  check_error("cox_stratum: covariates: a non-empty list of column names is required", "cox: empty covariates", cs,
    { time = "time", event = "status", covariates = {} })
  check_error("cox_stratum: covariates: a non-empty list of column names is required", "cox: no covariates", cs,
    { time = "time", event = "status" })
  check_error("cox_stratum: covariates[2]: a column name is required, not a number", "cox: a covariate not a string", cs,
    { time = "time", event = "status", covariates = { "x1", 7 } })
  check_error("no column 'nosuch' in dataset model", "cox: unknown covariate", cs,
    { time = "time", event = "status", covariates = { "nosuch" } })
  check_error("cox_stratum: covariates: column 'dx' has type date, which cannot be a covariate", "cox: date covariate", cs,
    { time = "time", event = "status", covariates = { "dx" } })
  check_error("cox_stratum: covariates: category column 'one' needs at least two levels in the dictionary",
    "cox: one-level category", cs, { time = "time", event = "status", covariates = { "one" } })
  local many = {}
  for i = 1, 257 do many[i] = "x1" end
  check_error("cox_stratum: covariates: more than 256 design terms", "cox: 257 terms", cs,
    { time = "time", event = "status", covariates = many })
  check_error("cox_stratum: beta: expected 3 numbers (one per design term), got 2", "cox: beta too short", cs,
    { time = "time", event = "status", covariates = { "x1", "grp" }, beta = { 0, 0 } })
  check_error("cox_stratum: beta[2]: a number is required, not a string", "cox: beta not numbers", cs,
    { time = "time", event = "status", covariates = { "x1", "grp" }, beta = { 0, "a", 0 } })
  check_error("cox_stratum: beta: a list of 1 numbers is required, not a number", "cox: beta a number", cs,
    { time = "time", event = "status", covariates = { "x1" }, beta = 0 })
  check_error('cox_stratum: ties: must be "efron" or "breslow", not exact', "cox: unknown ties", cs,
    { time = "time", event = "status", covariates = { "x1" }, ties = "exact" })
  check_error("glm_step: expects a table of arguments, {outcome = ..., covariates = {...}, family = ...}",
    "glm_step without a table", function() return data:glm_step("y") end)
  check_error("glm_step: family: must be binomial, poisson or gaussian, not gamma", "glm: unknown family", gs,
    { family = "gamma", outcome = "y", covariates = {} })
  check_error("glm_step: link: family binomial has the logit link only, not probit", "glm: unsupported link", gs,
    { family = "binomial", link = "probit", outcome = "bin", covariates = {} })
  check_error("glm_step: outcome: a column name is required", "glm: no outcome", gs, { family = "gaussian", covariates = {} })
  check_error("glm_step: outcome: column 'grp' must be numeric for family poisson", "glm: category poisson outcome", gs,
    { family = "poisson", outcome = "grp", covariates = {} })
  check_error("glm_step: outcome: category column 'grp' must have exactly two levels for binomial",
    "glm: three-level binomial outcome", gs, { family = "binomial", outcome = "grp", covariates = {} })
  check_error("glm_step: outcome: column 'dx' has type date", "glm: date binomial outcome", gs,
    { family = "binomial", outcome = "dx", covariates = {} })
  check_error("glm_step: offset: column 'grp' must be numeric", "glm: category offset", gs,
    { family = "poisson", outcome = "cnt", offset = "grp", covariates = {} })
  check_error("glm_step: covariates: a list of column names is required", "glm: no covariates list", gs,
    { family = "gaussian", outcome = "y" })
  check_error("glm_step: covariates: no design terms (no covariates and no intercept)", "glm: nothing to fit", gs,
    { family = "gaussian", outcome = "y", covariates = {}, intercept = false })
  check_error("glm_step: intercept: true or false, not a number", "glm: intercept not boolean", gs,
    { family = "gaussian", outcome = "y", covariates = {}, intercept = 1 })
  check_error("glm_step: nullmu: a number is required, not a string", "glm: nullmu not a number", gs,
    { family = "gaussian", outcome = "y", covariates = {}, nullmu = "x" })
  check_error("glm_step: beta: expected 2 numbers (one per design term), got 1", "glm: beta without the intercept", gs,
    { family = "gaussian", outcome = "y", covariates = { "x1" }, beta = { 1 } })
end

-- the standard trains (assembled, as signed): their releases are their
-- kernels' figures, round 1 from the values they fix, and every refusal
function cases.std(data, params)
  local cox = load(params.cox_src, "=cox.lua", "t")()
  local glm = load(params.glm_src, "=glm.lua", "t")()
  for _, ties in ipairs({ "efron", "breslow" }) do
    std_kernel(cox, data, { time = "time", event = "status", covariates = COV, ties = ties }, 1, "cox.lua " .. ties .. " round 1")
    std_kernel(cox, data, { time = "time", event = "status", covariates = COV, ties = ties,
      beta = { 0.05, -0.4, 0.7, 0.3, -0.02 } }, 3, "cox.lua " .. ties .. " round 3")
  end
  std_kernel(cox, data, { time = "time", event = "evcode", event_value = 2, covariates = { "x1", "age" } }, 1,
    "cox.lua event_value")
  for _, fam in ipairs({ { "binomial", "bin" }, { "poisson", "cnt", "off" }, { "gaussian", "y" } }) do
    std_kernel(glm, data, { family = fam[1], outcome = fam[2], offset = fam[3], covariates = COV }, 1,
      "glm.lua " .. fam[1] .. " round 1")
    std_kernel(glm, data, { family = fam[1], outcome = fam[2], offset = fam[3], covariates = COV,
      beta = { -0.3, 0.02, 0.4, -0.2, 0.5, 0.01 }, nullmu = 0.3 }, 2, "glm.lua " .. fam[1] .. " round 2")
  end
  -- refusals
  local fixed = "set by combine between rounds; round 1 starts from the values the train fixes"
  local refusals = {
    { cox, { time = "time", event = "status", covariates = { "x1" } }, "refused: round 23 exceeds the cap of 22 rounds", 23 },
    { cox, { time = "time", event = "status", covariates = { "x1" }, beta = { 1, 2 } }, "beta: expected 1 values", 2 },
    { cox, { time = "time", event = "status", covariates = { "x1" }, beta = { 5 } }, "beta: " .. fixed },
    { glm, { family = "gaussian", outcome = "y", covariates = { "x1" } }, "refused: round 28 exceeds the cap of 27 rounds", 28 },
    { glm, { family = "binomial", outcome = "bin", covariates = { "x1" }, beta = { 0, 30 } }, "beta: " .. fixed },
    { glm, { family = "gaussian", outcome = "y", covariates = { "x1" }, nullmu = 1 }, "nullmu: " .. fixed },
  }
  for _, rf in ipairs(refusals) do
    local ok, msg = std_kernel(rf[1], data, rf[2], rf[4] or 1, "refusal \"" .. rf[3] .. "\"")
    check(not ok and tostring(msg):find(rf[3], 1, true) ~= nil, "refusal \"" .. rf[3] .. "\" is raised", tostring(msg))
  end
  -- n >= 3 x parameters on a small stratum (numeric covariates only: a 0/1
  -- column's cells over so few rows would end the run in the kernel first)
  local small = data:where("id", "<=", 11)
  local ok, msg = std_kernel(glm, small, { family = "gaussian", outcome = "y", covariates = { "x1", "age", "off" } }, 1,
    "small stratum")
  check(not ok and tostring(msg):find("a model needs n >= 3 x parameters", 1, true), "n >= 3 x parameters refusal",
    tostring(msg))
end

-- a 0/1 column with fewer than k rows of one value, as a covariate, an outcome
-- or an event: the kernel ends the run (not catchable) before the train's own
-- check of its classes could run
function cases.rare_cov_cox(data)
  pcall(function() return data:cox_stratum({ time = "time", event = "status", covariates = { "x1", "rare" } }) end)
  check(false, "the run should have ended with subset smaller than k", nil)
end

function cases.rare_event_cox(data)
  pcall(function() return data:cox_stratum({ time = "time", event = "rareev", covariates = { "x1" } }) end)
  check(false, "the run should have ended with subset smaller than k", nil)
end

function cases.rare_cov_glm(data)
  pcall(function() return data:glm_step({ family = "gaussian", outcome = "y", covariates = { "x1", "rare" } }) end)
  check(false, "the run should have ended with subset smaller than k", nil)
end

function cases.rare_outcome_glm(data)
  pcall(function() return data:glm_step({ family = "binomial", outcome = "rareev", covariates = { "x1" } }) end)
  check(false, "the run should have ended with subset smaller than k", nil)
end

-- a 0/1 outcome crossed with a level: 2 events among the 6 rows of level g3 of grp
-- at site a (the cell of a crosstab grp x status), and a custom glm_step over them
function cases.outcome_cell_glm(data)
  local v = data:where("id", "<=", 60)
  pcall(function() return v:glm_step({ family = "gaussian", outcome = "cellev", covariates = { "cellgrp" } }) end)
  check(false, "the run should have ended with a cell under k", nil)
end

function cases.outcome_cell_cox(data)
  local v = data:where("id", "<=", 60)
  pcall(function() return v:cox_stratum({ time = "time", event = "cellev", covariates = { "cellgrp" } }) end)
  check(false, "the run should have ended with a cell under k", nil)
end

-- a view under k: the kernel ends the run like any aggregate (not catchable)
function cases.under_k(data)
  local tiny = data:where("id", "<=", 3)
  pcall(function() return tiny:cox_stratum({ time = "time", event = "status", covariates = { "x1" } }) end)
  check(false, "the run should have ended with subset smaller than k", nil)
end

function cases.under_k_glm(data)
  local tiny = data:where("id", "<=", 2)
  pcall(function() return tiny:glm_step({ family = "gaussian", outcome = "y", covariates = { "x1" } }) end)
  check(false, "the run should have ended with subset smaller than k", nil)
end

-- a beta at which a fitted value is clamped or exp() overflows: the kernel
-- refuses the run (not catchable), it does not flag
function cases.extreme_glm(data)
  pcall(function() return data:glm_step({ family = "binomial", outcome = "bin", covariates = { "x1" },
    beta = { 40, 0 } }) end)
  check(false, "the run should have ended with a refusal", nil)
end

function cases.extreme_glm_low(data)
  pcall(function() return data:glm_step({ family = "binomial", outcome = "bin", covariates = { "x1" },
    beta = { -31, 0 } }) end)
  check(false, "the run should have ended with a refusal", nil)
end

function cases.extreme_poisson(data)
  pcall(function() return data:glm_step({ family = "poisson", outcome = "status", covariates = { "x1" },
    beta = { 0, 1e6 } }) end)
  check(false, "the run should have ended with a refusal", nil)
end

function cases.extreme_cox(data)
  pcall(function() return data:cox_stratum({ time = "time", event = "status", covariates = { "x1" },
    beta = { 1e6 } }) end)
  check(false, "the run should have ended with a refusal", nil)
end

-- a beta at which one row carries more than 90% of the weights (a soft
-- maximum) with nothing clamped: the kernel refuses the run
function cases.dominant_cox(data)
  pcall(function() return data:cox_stratum({ time = "time", event = "status", covariates = { "y" },
    beta = { 10 } }) end)
  check(false, "the run should have ended with a refusal", nil)
end

function cases.dominant_poisson(data)
  -- ids 141..240, each row e^3 times the weight of the one before: the last carries 95%
  local v = data:where("id", ">", 140)
  pcall(function() return v:glm_step({ family = "poisson", outcome = "cnt", covariates = { "id" },
    beta = { -453, 3 } }) end)
  check(false, "the run should have ended with a refusal", nil)
end

-- invalid cells: the kernel ends the run (not catchable) and names no value
function cases.invalid_time(data)
  pcall(function() return data:cox_stratum({ time = "negt", event = "status", covariates = { "x1" } }) end)
  check(false, "the run should have ended with a refusal", nil)
end

function cases.invalid_event(data)
  pcall(function() return data:cox_stratum({ time = "time", event = "evcode", covariates = { "x1" } }) end)
  check(false, "the run should have ended with a refusal", nil)
end

function cases.invalid_poisson(data)
  pcall(function() return data:glm_step({ family = "poisson", outcome = "y", covariates = { "x1" } }) end)
  check(false, "the run should have ended with a refusal", nil)
end

function cases.invalid_binomial(data, params)
  -- through the standard train as well: the kernel path ends the run before glm.lua sees anything
  local glm = load(params.glm_src, "=glm.lua", "t")()
  pcall(glm.station, data, { family = "binomial", outcome = "evcode", covariates = { "x1" } }, 1)
  check(false, "the run should have ended with a refusal", nil)
end

-- rows and columns read: the kernel alone records its view's rows and its columns
function cases.accounting(data)
  local out = data:cox_stratum({ time = "time", event = "status", covariates = { "x1" } })
  return { n = out.n, dropped = out.dropped }
end

return {
  name = "model_check", version = "1",
  station = function(data, params, round)
    local r = cases[params.case](data, params, round)
    if r ~= nil then return r end
    return { checks = checks }
  end,
  combine = function() return { done = true, result = 0 } end,
}
