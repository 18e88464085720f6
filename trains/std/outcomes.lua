--[[
outcomes.lua — the registry report a payer asks for, per treatment:
patients, median overall and progression-free survival (with 95% CI), 1-
and 2-year survival, response rate, grade 3+ adverse event rate and mean
cost (PHT standard train). The defaults fit the example registry of
tools/registry (docs/registry.md).

Params (all optional; defaults in brackets)
  treatment   column of the arms ["treatment"] (category, boolean, integer)
  os_time, os_event     overall survival ["os_days", "os_event"]
  pfs_time, pfs_event   progression-free survival ["pfs_days", "pfs_event"]
  event_value code of the event columns meaning an event [true / 1]
  response    best response column ["best_response"]
  responders  levels counted as responses [{"CR", "PR"}]
  ae          grade 3+ adverse event column (boolean or 0/1) ["ae_grade3"]
  cost        cost column ["cost_eur"]
  interval    survival grid width in days [30.4375 = 365.25 / 12, a month,
              so that 1 and 2 years (365.25, 730.5 days) are grid points]
  min_cell    patients per released survival step (at least k)
  k           (integer, optional) may raise the station's k (data:k()),
              never lower it
  A column set to "" is left out of the report.

Output (combine result)
  treatments: one record per arm, in dictionary order:
    treatment, patients, os and pfs = {n, events, median, median_lower,
    median_upper, surv_1y, surv_2y (from the pooled grid Kaplan-Meier;
    absent when not reached / not estimable)}, response = {evaluable,
    responders, rate}, ae_grade3 = {n, events, rate}, cost = {n, mean},
    incomplete (true when some station suppressed a part of this arm)
  stations: per station id and patients per arm (or suppressed)
  notes

What a station releases, per arm: the number of patients; survival steps
exactly as km.lua (grid times with event and censoring counts, merged to
at least max(min_cell, k) patients each; an arm with fewer is suppressed);
for response and adverse events a numerator and denominator, released only
when the numerator and the rest are each 0 or >= k; for cost n and sum,
released only when n >= k. Nothing row-level, no raw times or values.
]]
---------------------------------------------------------------------------
-- shared block: stats (the same text in km, cox, glm and outcomes; a train
-- is one file, so helpers are repeated rather than required)
---------------------------------------------------------------------------
local S = {}

-- log Gamma(x), x > 0: Lanczos (g = 7, 9 terms), relative error ~1e-15;
-- exact sums of logs for small integers.
local LANCZOS = { 0.99999999999980993, 676.5203681218851, -1259.1392167224028,
  771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7 }
function S.lgamma(x)
  if x == math.floor(x) and x >= 1 and x <= 171 then
    local s = 0
    for i = 2, x - 1 do s = s + math.log(i) end
    return s
  end
  if x < 0.5 then
    return math.log(math.pi / math.abs(math.sin(math.pi * x))) - S.lgamma(1 - x)
  end
  x = x - 1
  local a = LANCZOS[1]
  local t = x + 7.5
  for i = 1, 8 do a = a + LANCZOS[i + 1] / (x + i) end
  return 0.5 * math.log(2 * math.pi) + (x + 0.5) * math.log(t) - t + math.log(a)
end

-- erfc(x) by W. J. Cody's rational approximations (relative error < 1e-15).
local function erfc_cody(x)
  local ax = math.abs(x)
  local r
  if ax < 0.5 then
    local a = { 3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1 }
    local b = { 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03 }
    local y = x * x
    local num, den = a[5] * y, y
    for i = 1, 3 do num = (num + a[i]) * y; den = (den + b[i]) * y end
    return 1 - x * (num + a[4]) / (den + b[4])
  elseif ax < 4 then
    local c = { 5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8 }
    local d = { 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03 }
    local num, den = c[9] * ax, ax
    for i = 1, 7 do num = (num + c[i]) * ax; den = (den + d[i]) * ax end
    r = (num + c[8]) / (den + d[8])
  else
    local p = { 3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2 }
    local q = { 2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3 }
    local y = 1 / (ax * ax)
    local num, den = p[6] * y, y
    for i = 1, 4 do num = (num + p[i]) * y; den = (den + q[i]) * y end
    r = y * (num + p[5]) / (den + q[5])
    r = (0.564189583547756287 - r) / ax
  end
  -- exp(-x^2) split to keep precision, as Cody does
  local ysq = math.floor(ax * 16) / 16
  local del = (ax - ysq) * (ax + ysq)
  r = math.exp(-ysq * ysq) * math.exp(-del) * r
  if x < 0 then r = 2 - r end
  return r
end

-- P(Z <= x) for a standard normal Z.
function S.pnorm(x)
  return 0.5 * erfc_cody(-x / math.sqrt(2))
end

-- Quantile of the standard normal (Wichura's AS 241, ~1e-16).
function S.qnorm(p)
  assert(p > 0 and p < 1, "qnorm: p outside (0, 1)")
  local q = p - 0.5
  local r, v
  if math.abs(q) <= 0.425 then
    r = 0.180625 - q * q
    return q * (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r
      + 45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r
      + 133.14166789178437745) * r + 3.387132872796366608)
      / (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) * r
      + 21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r
      + 42.313330701600911252) * r + 1)
  end
  r = q < 0 and p or 1 - p
  r = math.sqrt(-math.log(r))
  if r <= 5 then
    r = r - 1.6
    v = (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r
      + 1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r
      + 4.6303378461565452959) * r + 1.42343711074968357734)
      / (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r
      + 0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r
      + 2.05319162663775882187) * r + 1)
  else
    r = r - 5
    v = (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r
      + 0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r
      + 5.4637849111641143699) * r + 6.6579046435011037772)
      / (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r
      + 7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
      + 0.59983220655588793769) * r + 1)
  end
  if q < 0 then v = -v end
  return v
end

-- Upper regularized incomplete gamma Q(a, x).
local function gammq(a, x)
  if x <= 0 then return 1 end
  local gln = S.lgamma(a)
  if x < a + 1 then
    local ap, sum = a, 1 / a
    local del = sum
    for _ = 1, 10000 do
      ap = ap + 1
      del = del * x / ap
      sum = sum + del
      if math.abs(del) < math.abs(sum) * 1e-16 then break end
    end
    return 1 - sum * math.exp(-x + a * math.log(x) - gln)
  end
  local tiny = 1e-300
  local b = x + 1 - a
  local c, d = 1 / tiny, 1 / b
  local h = d
  for i = 1, 10000 do
    local an = -i * (i - a)
    b = b + 2
    d = an * d + b
    if math.abs(d) < tiny then d = tiny end
    c = b + an / c
    if math.abs(c) < tiny then c = tiny end
    d = 1 / d
    local del = d * c
    h = h * del
    if math.abs(del - 1) < 1e-16 then break end
  end
  return math.exp(-x + a * math.log(x) - gln) * h
end

-- P(X > x) for X chi-squared with df degrees of freedom.
function S.pchisq_upper(x, df)
  if df == 1 then return erfc_cody(math.sqrt(x / 2)) end
  return gammq(df / 2, x / 2)
end

-- Regularized incomplete beta I_x(a, b) (continued fraction).
local function betacf(a, b, x)
  local tiny = 1e-300
  local qab, qap, qam = a + b, a + 1, a - 1
  local c, d = 1, 1 - qab * x / qap
  if math.abs(d) < tiny then d = tiny end
  d = 1 / d
  local h = d
  for m = 1, 10000 do
    local m2 = 2 * m
    local aa = m * (b - m) * x / ((qam + m2) * (a + m2))
    d = 1 + aa * d; if math.abs(d) < tiny then d = tiny end
    c = 1 + aa / c; if math.abs(c) < tiny then c = tiny end
    d = 1 / d
    h = h * d * c
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
    d = 1 + aa * d; if math.abs(d) < tiny then d = tiny end
    c = 1 + aa / c; if math.abs(c) < tiny then c = tiny end
    d = 1 / d
    local del = d * c
    h = h * del
    if math.abs(del - 1) < 1e-16 then break end
  end
  return h
end
local function pbeta(x, a, b)
  if x <= 0 then return 0 end
  if x >= 1 then return 1 end
  local bt = math.exp(S.lgamma(a + b) - S.lgamma(a) - S.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
  if x < (a + 1) / (a + b + 2) then return bt * betacf(a, b, x) / a end
  return 1 - bt * betacf(b, a, 1 - x) / b
end

-- Two-sided p-value of a t statistic with df degrees of freedom.
function S.pt_two_sided(t, df)
  return pbeta(df / (df + t * t), df / 2, 0.5)
end

-- Two-sided p-value of a z statistic.
function S.pnorm_two_sided(z)
  return erfc_cody(math.abs(z) / math.sqrt(2))
end
---------------------------------------------------------------------------
-- shared block: linalg (the same text in cox, glm, km and outcomes)
-- Symmetric matrices are flat arrays, element (i, j) at (i - 1) * p + j.
---------------------------------------------------------------------------
local L = {}

-- Cholesky factor of the symmetric p x p matrix A (A = R'R with R upper
-- triangular, returned flat). Returns nil, j when pivot j is not positive
-- or under 1e-9 of its diagonal, i.e. column j is (nearly) a linear
-- combination of the columns before it.
function L.chol(A, p)
  local R = {}
  for i = 1, p * p do R[i] = 0 end
  for j = 1, p do
    local s = A[(j - 1) * p + j]
    for k = 1, j - 1 do s = s - R[(k - 1) * p + j] ^ 2 end
    if not (s > 1e-9 * math.abs(A[(j - 1) * p + j])) or s ~= s then return nil, j end
    local rjj = math.sqrt(s)
    R[(j - 1) * p + j] = rjj
    for i = j + 1, p do
      local t = A[(j - 1) * p + i]
      for k = 1, j - 1 do t = t - R[(k - 1) * p + j] * R[(k - 1) * p + i] end
      R[(j - 1) * p + i] = t / rjj
    end
  end
  return R
end

-- Solves R'R x = b for x, R from chol.
function L.chol_solve(R, p, b)
  local y = {}
  for i = 1, p do
    local s = b[i]
    for k = 1, i - 1 do s = s - R[(k - 1) * p + i] * y[k] end
    y[i] = s / R[(i - 1) * p + i]
  end
  local x = {}
  for i = p, 1, -1 do
    local s = y[i]
    for k = i + 1, p do s = s - R[(i - 1) * p + k] * x[k] end
    x[i] = s / R[(i - 1) * p + i]
  end
  return x
end

-- Inverse of A = R'R, flat.
function L.chol_inverse(R, p)
  local inv = {}
  for j = 1, p do
    local e = {}
    for i = 1, p do e[i] = (i == j) and 1 or 0 end
    local col = L.chol_solve(R, p, e)
    for i = 1, p do inv[(i - 1) * p + j] = col[i] end
  end
  return inv
end

-- x' A y.
function L.quad(A, p, x)
  local s = 0
  for i = 1, p do
    for j = 1, p do s = s + x[i] * A[(i - 1) * p + j] * x[j] end
  end
  return s
end

function L.zeros(n)
  local z = {}
  for i = 1, n do z[i] = 0 end
  return z
end
---------------------------------------------------------------------------
-- shared block: extract (the same text in every standard train)
-- Turns the station's data view into plain Lua arrays; the math never
-- sees `data`.
---------------------------------------------------------------------------
local E = {}

-- The column `name` of `data`, or a clear error naming the parameter.
function E.column(data, name, what)
  if type(name) ~= "string" or name == "" then
    error(what .. ": a column name is required", 0)
  end
  local ok, col = pcall(data.column, data, name)
  if not ok or col == nil then
    error(what .. ": no column '" .. name .. "' in this dataset", 0)
  end
  return col
end

-- The smallest count a station releases: the station's k from the data
-- API (data:k()); params.k, which the analyst controls, may only raise
-- it. Only where data:k() is missing (an older runtime) params.k, else 5
-- (the design's default).
function E.min_count(data, params)
  local pk = type(params.k) == "number" and params.k or nil
  local ok, k = pcall(function() return data:k() end)
  if ok and type(k) == "number" then
    if pk ~= nil and pk > k then return pk end
    return k
  end
  return pk or 5
end

-- A covariate column turned into design terms named as R names them:
-- numbers and booleans (0/1, as R reads them from the CSV) keep their
-- name, categories give one 0/1 term per level after the dictionary's
-- first (NAMElevel).
function E.terms(col, name, what)
  local ty = col.type
  if ty == "number" or ty == "integer" then
    return { { name = name, value = function(v) return v end } }
  elseif ty == "boolean" then
    return { { name = name, binary = true,
      value = function(v) return v and 1 or 0 end } }
  elseif ty == "category" then
    local levels = col.levels
    if type(levels) ~= "table" or #levels < 2 then
      error(what .. ": category column '" .. name .. "' needs at least two levels in the dictionary", 0)
    end
    local out = {}
    for j = 2, #levels do
      local lv = levels[j]
      out[#out + 1] = { name = name .. lv, binary = true,
        value = function(v) return v == lv and 1 or 0 end }
    end
    return out
  end
  error(what .. ": column '" .. name .. "' has type " .. tostring(ty) .. ", which cannot be a covariate", 0)
end

-- The event indicator as a function of a cell: booleans true, numbers equal
-- to event_value (default: the column must be coded 0/1), categories equal
-- to the level event_value (required).
function E.event_fn(col, name, event_value)
  local ty = col.type
  if ty == "boolean" then
    if event_value == nil or event_value == true then return function(v) return v == true end end
    return function(v) return v == event_value end
  elseif ty == "number" or ty == "integer" then
    if event_value ~= nil then
      if type(event_value) ~= "number" then
        error("event_value: column '" .. name .. "' is numeric, event_value must be a number", 0)
      end
      return function(v) return v == event_value end
    end
    return function(v)
      if v == 1 then return true elseif v == 0 then return false end
      error("event: column '" .. name .. "' has the value " .. tostring(v) ..
        "; code it 0/1 or give params.event_value (the code meaning an event)", 0)
    end
  elseif ty == "category" then
    if type(event_value) ~= "string" then
      error("event_value: column '" .. name .. "' is a category; name the level meaning an event", 0)
    end
    return function(v) return v == event_value end
  end
  error("event: column '" .. name .. "' has type " .. tostring(ty) .. ", which cannot be an event indicator", 0)
end

-- Reads columns by name into plain arrays over the complete cases.
-- cols: sequence of {name=, col=}. Returns arrays (keyed by position in
-- cols), the number of complete rows and the number of rows dropped.
function E.complete_cases(cols, nrows)
  local out, src = {}, {}
  for j = 1, #cols do
    out[j] = {}
    -- the whole column in one call where the data API offers it
    local c = cols[j].col
    local ok, vals = pcall(function() return c:values() end)
    src[j] = (ok and type(vals) == "table") and vals or c
  end
  local n, dropped = 0, 0
  for i = 1, nrows do
    local ok = true
    local row = {}
    for j = 1, #cols do
      local v = src[j][i]
      if v == nil then ok = false; break end
      row[j] = v
    end
    if ok then
      n = n + 1
      for j = 1, #cols do out[j][n] = row[j] end
    else
      dropped = dropped + 1
    end
  end
  return out, n, dropped
end

-- Builds the design (term names, columns X[j][i], binary flags) for the
-- covariate names from the complete-case arrays raw[name].
function E.design(data, covariates, raw)
  local names, X, binary = {}, {}, {}
  for _, cname in ipairs(covariates) do
    local col = E.column(data, cname, "covariates")
    for _, term in ipairs(E.terms(col, cname, "covariates")) do
      local x = {}
      local vals = raw[cname]
      local is01 = true
      for i = 1, #vals do
        local v = term.value(vals[i])
        x[i] = v
        if v ~= 0 and v ~= 1 then is01 = false end
      end
      names[#names + 1] = term.name
      X[#X + 1] = x
      binary[#binary + 1] = term.binary or is01
    end
  end
  return names, X, binary
end

-- Station guards for models (DataSHIELD's nfilter.glm and the design):
-- n >= 3 x parameters, every binary column's smaller class 0 or >= k,
-- rounds capped.
function E.model_guards(n, nparam, names, X, binary, k, round, max_rounds)
  if round > max_rounds then
    error(string.format("refused: round %d exceeds the cap of %d rounds", round, max_rounds), 0)
  end
  if n < 3 * nparam then
    error(string.format("refused: %d complete rows for %d parameters; a model needs n >= 3 x parameters at each station",
      n, nparam), 0)
  end
  for j = 1, #names do
    if binary[j] then
      local ones = 0
      for i = 1, n do if X[j][i] == 1 then ones = ones + 1 end end
      local small = math.min(ones, n - ones)
      if small > 0 and small < k then
        error(string.format("refused: binary covariate '%s' has a class of %d rows at this station, fewer than k = %d",
          names[j], small, k), 0)
      end
    end
  end
end

---------------------------------------------------------------------------
-- shared block: tally (the same text in count, crosstab, summary and
-- outcomes): counting over plain arrays
---------------------------------------------------------------------------
local T = {}

-- A printable key for a cell value (integers without ".0").
function T.label(v)
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
    return string.format("%d", v)
  end
  return tostring(v)
end

-- The values a column can take, in dictionary order where there is one.
function T.domain(col)
  if col.type == "category" then
    local out = {}
    for i, lv in ipairs(col.levels) do out[i] = lv end
    return out
  elseif col.type == "boolean" then
    return { false, true }
  end
  return nil
end

-- A released count: the number, or suppressed when 0 < n < k.
function T.release(n, k)
  if n > 0 and n < k then return { suppressed = true } end
  return { count = n }
end

-- Sums released cells keyed by label across stations, in first-seen
-- order. cells_per_station: sequences of {value, count|suppressed}.
function T.pool(cells_per_station)
  local by, order = {}, {}
  for _, cells in ipairs(cells_per_station) do
    for _, c in ipairs(cells) do
      local key = T.label(c.value)
      local p = by[key]
      if not p then
        p = { value = c.value, count = 0, incomplete = false }
        by[key] = p
        order[#order + 1] = key
      end
      if c.suppressed then p.incomplete = true else p.count = p.count + c.count end
    end
  end
  local out = {}
  for i, key in ipairs(order) do out[i] = by[key] end
  return out
end


---------------------------------------------------------------------------
-- shared block: km math (the same text in km and outcomes):
-- Kaplan-Meier over plain arrays
---------------------------------------------------------------------------
local K = {}

-- Coarsens t up to the grid.
function K.grid(t, interval)
  return math.ceil(t / interval) * interval
end

-- Per-grid-time counts of events and censorings, merged so that each
-- released step covers >= m rows. Returns steps {t, d, c} ascending, or nil
-- when all rows together are fewer than m.
function K.station_steps(time, status, interval, m)
  local by = {}
  local ts = {}
  for i = 1, #time do
    local g = K.grid(time[i], interval)
    local cell = by[g]
    if not cell then cell = { t = g, d = 0, c = 0 }; by[g] = cell; ts[#ts + 1] = g end
    if status[i] then cell.d = cell.d + 1 else cell.c = cell.c + 1 end
  end
  table.sort(ts)
  local out, pd, pc = {}, 0, 0
  for _, g in ipairs(ts) do
    pd, pc = pd + by[g].d, pc + by[g].c
    if pd + pc >= m then
      out[#out + 1] = { t = g, d = pd, c = pc }
      pd, pc = 0, 0
    end
  end
  if pd + pc > 0 then
    if #out == 0 then return nil end
    out[#out].d = out[#out].d + pd
    out[#out].c = out[#out].c + pc
  end
  return out
end

-- Pools steps (lists of {t, d, c}) into one table ascending in time.
function K.pool(list_of_steps)
  local by, ts = {}, {}
  for _, steps in ipairs(list_of_steps) do
    for _, s in ipairs(steps) do
      local cell = by[s.t]
      if not cell then cell = { t = s.t, d = 0, c = 0 }; by[s.t] = cell; ts[#ts + 1] = s.t end
      cell.d = cell.d + s.d
      cell.c = cell.c + s.c
    end
  end
  table.sort(ts)
  local out = {}
  for i, t in ipairs(ts) do out[i] = by[t] end
  return out
end

-- R's survival:::findq: the time at which y = 1 - S first reaches p.
-- x, y: sequences (y[i] may be false for NA); returns a number or nil.
function K.findq(x, y, p, tol)
  local maxy
  for i = 1, #y do if y[i] and (not maxy or y[i] > maxy) then maxy = y[i] end end
  if not maxy or maxy < p then return nil end
  local xmax = x[#x]
  -- drop duplicated y values (NA counts as a value), keep the first
  local xs, ys, seen, seen_na = {}, {}, {}, false
  for i = 1, #y do
    local v = y[i]
    local dup
    if v then dup = seen[v]; seen[v] = true else dup = seen_na; seen_na = true end
    if not dup then xs[#xs + 1] = x[i]; ys[#ys + 1] = v end
  end
  local n = #ys
  -- approx(y +- tol, 1:n, p, method = "constant", f = 1), NA pairs dropped
  local function approx_index(shift)
    local px, pi = {}, {}
    for i = 1, n do
      if ys[i] then px[#px + 1] = ys[i] + shift; pi[#pi + 1] = i end
    end
    if #px == 0 or p < px[1] or p > px[#px] then return nil end
    for j = 1, #px do
      if px[j] >= p then return pi[j] end
    end
    return nil
  end
  local i1, i2 = approx_index(tol), approx_index(-tol)
  local q
  if i1 and i2 then q = (xs[i1] + xs[i2]) / 2 end
  if p == 0 then q = xs[1] end
  if ys[n] and math.abs(p - ys[n]) < tol then
    q = i1 and (xs[i1] + xmax) / 2 or nil
  end
  return q
end

-- The Kaplan-Meier table of pooled steps: rows {time, n_risk, n_event,
-- n_censor, surv, std_err, lower, upper} and the median with its interval.
function K.curve(steps, conf)
  local z = S.qnorm(1 - (1 - (conf or 0.95)) / 2)
  local total = 0
  for _, s in ipairs(steps) do total = total + s.d + s.c end
  local nrisk, surv, gw = total, 1, 0
  local rows, events = {}, 0
  local x, y, ylo, yhi = { 0 }, { 0 }, { 0 }, { 0 }
  for i, s in ipairs(steps) do
    local row = { time = s.t, n_risk = nrisk, n_event = s.d, n_censor = s.c }
    if s.d > 0 then
      surv = surv * (1 - s.d / nrisk)
      if nrisk > s.d then gw = gw + s.d / (nrisk * (nrisk - s.d)) else gw = math.huge end
    end
    events = events + s.d
    row.surv = surv
    local se = math.sqrt(gw)
    if se < math.huge then row.std_err = surv * se end
    if surv > 0 and surv < 1 and se < math.huge then
      local lls = math.log(surv)
      local w = z * se / lls
      row.lower = math.exp(-math.exp(math.log(-lls) - w))
      row.upper = math.exp(-math.exp(math.log(-lls) + w))
    end
    rows[i] = row
    x[i + 1] = s.t
    y[i + 1] = 1 - surv
    ylo[i + 1] = row.lower and (1 - row.lower) or false
    yhi[i + 1] = row.upper and (1 - row.upper) or false
    nrisk = nrisk - s.d - s.c
  end
  local tol = math.sqrt(2.220446049250313e-16)
  return { n = total, events = events, table = rows,
    median = K.findq(x, y, 0.5, tol),
    median_lower = K.findq(x, ylo, 0.5, tol),
    median_upper = K.findq(x, yhi, 0.5, tol) }
end

-- The log-rank test (R's survdiff, rho = 0) over groups' pooled steps.
-- Returns {chisq, df, p, observed[], expected[]} or nil, reason.
function K.logrank(group_steps)
  local G = #group_steps
  local by, ts = {}, {}
  for g, steps in ipairs(group_steps) do
    for _, s in ipairs(steps) do
      local cell = by[s.t]
      if not cell then
        cell = { d = L.zeros(G), c = L.zeros(G) }
        by[s.t] = cell
        ts[#ts + 1] = s.t
      end
      cell.d[g] = cell.d[g] + s.d
      cell.c[g] = cell.c[g] + s.c
    end
  end
  table.sort(ts)
  local atrisk = L.zeros(G)
  for g, steps in ipairs(group_steps) do
    for _, s in ipairs(steps) do atrisk[g] = atrisk[g] + s.d + s.c end
  end
  local O, Ex, V = L.zeros(G), L.zeros(G), L.zeros(G * G)
  for _, t in ipairs(ts) do
    local cell = by[t]
    local n, d = 0, 0
    for g = 1, G do n = n + atrisk[g]; d = d + cell.d[g] end
    if d > 0 then
      for g = 1, G do
        O[g] = O[g] + cell.d[g]
        Ex[g] = Ex[g] + d * atrisk[g] / n
      end
      if n > 1 then
        local f = d * (n - d) / (n - 1)
        for g = 1, G do
          for h = 1, G do
            local delta = (g == h) and 1 or 0
            V[(g - 1) * G + h] = V[(g - 1) * G + h] + f * (atrisk[g] / n) * (delta - atrisk[h] / n)
          end
        end
      end
    end
    for g = 1, G do atrisk[g] = atrisk[g] - cell.d[g] - cell.c[g] end
  end
  local q = G - 1
  local Vs, diff = {}, {}
  for g = 1, q do
    diff[g] = O[g] - Ex[g]
    for h = 1, q do Vs[(g - 1) * q + h] = V[(g - 1) * G + h] end
  end
  local R = L.chol(Vs, q)
  if not R then return nil, "the log-rank variance is singular (a group has no one at risk at any event time)" end
  local chisq = L.quad(L.chol_inverse(R, q), q, diff)
  return { chisq = chisq, df = q, p = S.pchisq_upper(chisq, q), observed = O, expected = Ex }
end


---------------------------------------------------------------------------
-- The report over plain arrays
---------------------------------------------------------------------------
local O = {}
local MONTH = 365.25 / 12

-- A proportion released as numerator/denominator only when both the
-- numerator and the rest are 0 or >= k.
function O.proportion(num, den, k)
  local rest = den - num
  if (num > 0 and num < k) or (rest > 0 and rest < k) then return { suppressed = true } end
  return { num = num, den = den }
end

-- Survival read off a pooled grid curve at time t: the last row at or
-- before t (1 before the first row); nil beyond the last row if censored.
function O.surv_at(curve, t)
  local s = 1
  local last = 0
  for _, row in ipairs(curve.table) do
    if row.time <= t + 1e-9 then s = row.surv; last = row.time else break end
  end
  local rows = curve.table
  if #rows > 0 and t > rows[#rows].time + 1e-9 and rows[#rows].surv > 0 then return nil end
  return s, last
end

local function opt_column(data, params, key, default)
  local name = params[key]
  if name == nil then name = default end
  if name == "" then return nil end
  return name, E.column(data, name, key)
end

local function station(data, params, round)
  if round > 1 then error("refused: outcomes answers one round only", 0) end
  local k = E.min_count(data, params)
  local interval = params.interval or MONTH
  if type(interval) ~= "number" or not (interval > 0) then error("interval: a positive number of days", 0) end
  local m = math.max(k, params.min_cell or 1)
  local tname, tcol = opt_column(data, params, "treatment", "treatment")
  if not tname then error("treatment: a column is required", 0) end
  if tcol.type ~= "category" and tcol.type ~= "boolean" and tcol.type ~= "integer" then
    error("treatment: column '" .. tname .. "' must be category, boolean or integer", 0)
  end
  local nrows = data:nrows()
  local function whole(col)
    local ok, vals = pcall(function() return col:values() end)
    if ok and type(vals) == "table" then return vals end
    local t = {}
    for i = 1, nrows do t[i] = col[i] end
    return t
  end
  local arm = whole(tcol)
  local parts = {}
  for _, spec in ipairs({ { "os", "os_time", "os_days", "os_event", "os_event" },
      { "pfs", "pfs_time", "pfs_days", "pfs_event", "pfs_event" } }) do
    local tn, tc = opt_column(data, params, spec[2], spec[3])
    local en, ec = opt_column(data, params, spec[4], spec[5])
    if tn and en then
      parts[spec[1]] = { time = whole(tc), event = whole(ec), is_event = E.event_fn(ec, en, params.event_value) }
    end
  end
  local rname, rcol = opt_column(data, params, "response", "best_response")
  local responders = {}
  for _, lv in ipairs(params.responders or { "CR", "PR" }) do responders[lv] = true end
  local resp = rname and whole(rcol)
  local aname, acol = opt_column(data, params, "ae", "ae_grade3")
  local ae = aname and whole(acol)
  local ae_event = aname and E.event_fn(acol, aname, nil)
  local cname, ccol = opt_column(data, params, "cost", "cost_eur")
  if cname and ccol.type ~= "number" and ccol.type ~= "integer" then
    error("cost: column '" .. cname .. "' must be numeric", 0)
  end
  -- n and sum of cost per arm in one pass in the runtime (groups and
  -- figures under the station's k come back suppressed)
  local cost_by
  if cname then
    cost_by = {}
    for _, grp in ipairs(data:aggregate_by(tname, { cname })) do
      if grp.key ~= nil and grp.stats then cost_by[grp.key] = grp.stats[cname] end
    end
  end
  -- rows by arm, in dictionary order
  local order, rows = {}, {}
  if tcol.type == "category" then
    for _, lv in ipairs(tcol.levels) do order[#order + 1] = lv end
  elseif tcol.type == "boolean" then
    order = { false, true }
  end
  local missing_arm = 0
  for i = 1, nrows do
    local a = arm[i]
    if a == nil then
      missing_arm = missing_arm + 1
    else
      if not rows[a] then
        rows[a] = {}
        if tcol.type == "integer" then order[#order + 1] = a end
      end
      local r = rows[a]
      r[#r + 1] = i
    end
  end
  if tcol.type == "integer" then table.sort(order) end
  local arms = {}
  for idx, a in ipairs(order) do
    local ix = rows[a] or {}
    local rec = { treatment = T.label(a), order = idx }
    local pr = T.release(#ix, k)
    rec.patients, rec.suppressed = pr.count, pr.suppressed
    if not pr.suppressed and #ix > 0 then
      for name, part in pairs(parts) do
        local tt, st = {}, {}
        for _, i in ipairs(ix) do
          if part.time[i] ~= nil and part.event[i] ~= nil then
            tt[#tt + 1] = part.time[i]
            st[#st + 1] = part.is_event(part.event[i])
          end
        end
        rec[name] = K.station_steps(tt, st, interval, m) or { suppressed = true }
      end
      if resp then
        local num, den = 0, 0
        for _, i in ipairs(ix) do
          if resp[i] ~= nil then
            den = den + 1
            if responders[resp[i]] then num = num + 1 end
          end
        end
        rec.response = O.proportion(num, den, k)
      end
      if ae then
        local num, den = 0, 0
        for _, i in ipairs(ix) do
          if ae[i] ~= nil then
            den = den + 1
            if ae_event(ae[i]) then num = num + 1 end
          end
        end
        rec.ae = O.proportion(num, den, k)
      end
      local c = cost_by and cost_by[a]
      if c then
        if c.suppressed then rec.cost = { suppressed = true }
        elseif c.n >= k then rec.cost = { n = c.n, sum = c.sum }
        elseif c.n > 0 then rec.cost = { suppressed = true } end
      end
    end
    arms[#arms + 1] = rec
  end
  return { arms = arms, interval = interval, min_cell = m }
end

local function combine(results, params, round)
  local interval = params.interval or MONTH
  local by, keys, per, notes = {}, {}, {}, {}
  local function note(s)
    for _, v in ipairs(notes) do if v == s then return end end
    notes[#notes + 1] = s
  end
  for i, r in ipairs(results) do
    local st = { id = results.stations[i], arms = {} }
    per[i] = st
    for _, a in ipairs(r.arms) do
      st.arms[#st.arms + 1] = { treatment = a.treatment, patients = a.patients, suppressed = a.suppressed }
      local b = by[a.treatment]
      if not b then
        b = { treatment = a.treatment, order = a.order, patients = 0, incomplete = false,
          os = {}, pfs = {}, resp = { 0, 0 }, ae = { 0, 0 }, cost = { 0, 0 }, has = {} }
        by[a.treatment] = b
        keys[#keys + 1] = a.treatment
      end
      if a.suppressed then
        b.incomplete = true
        note("arms with fewer than k patients at a station are left out there")
      elseif a.patients > 0 then
        b.patients = b.patients + a.patients
        for _, name in ipairs({ "os", "pfs" }) do
          local steps = a[name]
          if steps then
            b.has[name] = true
            if steps.suppressed then b.incomplete = true else b[name][#b[name] + 1] = steps end
          end
        end
        for _, pair in ipairs({ { "response", "resp" }, { "ae", "ae" } }) do
          local p = a[pair[1]]
          if p then
            b.has[pair[2]] = true
            if p.suppressed then
              b.incomplete = true
              note("proportions with a numerator or remainder under k at a station are left out there")
            else
              b[pair[2]][1] = b[pair[2]][1] + p.num
              b[pair[2]][2] = b[pair[2]][2] + p.den
            end
          end
        end
        if a.cost then
          b.has.cost = true
          if a.cost.suppressed then b.incomplete = true else
            b.cost[1] = b.cost[1] + a.cost.n
            b.cost[2] = b.cost[2] + a.cost.sum
          end
        end
      end
    end
    if r.min_cell > 1 then note("survival steps merged at the stations to cover at least k patients each") end
  end
  table.sort(keys, function(x, y) return by[x].order < by[y].order end)
  local out = {}
  for _, key in ipairs(keys) do
    local b = by[key]
    local rec = { treatment = b.treatment, patients = b.patients, incomplete = b.incomplete }
    for _, name in ipairs({ "os", "pfs" }) do
      if b.has[name] and #b[name] > 0 then
        local c = K.curve(K.pool(b[name]), 0.95)
        rec[name] = { n = c.n, events = c.events, median = c.median, median_lower = c.median_lower,
          median_upper = c.median_upper, surv_1y = O.surv_at(c, 12 * interval),
          surv_2y = O.surv_at(c, 24 * interval) }
      end
    end
    if b.has.resp and b.resp[2] > 0 then
      rec.response = { responders = b.resp[1], evaluable = b.resp[2], rate = b.resp[1] / b.resp[2] }
    end
    if b.has.ae and b.ae[2] > 0 then
      rec.ae_grade3 = { events = b.ae[1], n = b.ae[2], rate = b.ae[1] / b.ae[2] }
    end
    if b.has.cost and b.cost[1] > 0 then
      rec.cost = { n = b.cost[1], mean = b.cost[2] / b.cost[1] }
    end
    if rec.patients > 0 or rec.incomplete then out[#out + 1] = rec end
  end
  return { done = true, result = { treatments = out, stations = per, interval = interval, notes = notes } }
end

return {
  name = "outcomes",
  version = "1.0.0",
  params = {
    treatment = "string: arm column [treatment]",
    os_time = "string: overall survival time [os_days]",
    os_event = "string: overall survival event [os_event]",
    pfs_time = "string: progression-free survival time [pfs_days]",
    pfs_event = "string: progression-free survival event [pfs_event]",
    event_value = "number|string: event code of the event columns [true / 1]",
    response = "string: best response column [best_response]",
    responders = "array of strings: response levels [CR, PR]",
    ae = "string: grade 3+ adverse event column [ae_grade3]",
    cost = "string: cost column [cost_eur]",
    interval = "number: survival grid in days [365.25/12]",
    min_cell = "integer: patients per released survival step (at least k)",
    k = "integer: may raise the station's k (data:k()), never lower it",
  },
  station = station,
  combine = combine,
  math = { proportion = O.proportion, surv_at = O.surv_at, curve = K.curve, station_steps = K.station_steps },
}
