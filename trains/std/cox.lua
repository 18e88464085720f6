--[[
cox.lua — Cox proportional hazards, stratified by station, by federated
Newton-Raphson (PHT standard train).

Params
  time        (string, required) follow-up time column (number/integer)
  event       (string, required) event indicator column: boolean (true =
              event), numeric coded 0/1, or any code given by event_value
  event_value (number|string, optional) the code of `event` that means an
              event (required for a category column, e.g. 2 for R's lung)
  covariates  (array of strings, required) covariate columns; numbers enter
              as they are, booleans as 0/1 under their own name, categories as one 0/1 term
              per level after the dictionary's first (sexfemale), as R does
  ties        (string) "efron" (default) or "breslow"
  max_iter    (integer) Newton iterations, default 20 (R's coxph.control)
  eps         (number) convergence: |1 - loglik_old/loglik| <= eps, default
              1e-9 (R's coxph.control)
  k           (integer, optional) may raise the station's k (data:k()),
              never lower it
  (beta, state: set by combine between rounds)

Each station is its own stratum with its own baseline hazard, which is
exactly R's coxph(Surv(time, event) ~ covariates + strata(station)).
Round 1 evaluates beta = 0; combine sums the stations' log partial
likelihood, score and information, takes a Newton step (halving it, as R's
coxph.fit does, when the log likelihood falls) and sends the next beta,
until the relative change of the log likelihood is at most eps.

Output (combine result)
  coefficients  one record per term: name, coef, exp_coef, se, z, p,
                lower95, upper95 (of exp(coef))
  loglik        {at beta = 0, at the estimate}
  lr_test, wald_test, score_test  {chisq, df, p}
  iterations, converged, n, events, ties
  stations      per station: id, n (complete cases), dropped (rows with a
                missing value in a used column), events
  notes         e.g. stations without events (they add nothing: a stratum
                without events has no partial likelihood)

What a station releases, each round: n, number dropped, number of events,
the log partial likelihood (a scalar), the score vector (p numbers) and the
information matrix (p x p) of its own stratum at the analyst's beta. Never
an event time or a row. Not disclosive because: the station refuses unless
n >= 3 x p (so the p(p+1)/2 + p + 1 numbers cannot be solved for the
rows), every binary covariate's smaller class is 0 or >= k, its number of
events is 0 or >= k, and no more than max_iter + 2 rounds are answered;
stratifying by station means no event times ever leave (the WebDISCO leak).
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
-- shared block: model kernels (the same text in cox and glm)
-- Where the runtime offers them, the station's work is done in C by the
-- data API's model kernels (data:cox_stratum, data:glm_step;
-- docs/train-api.md): complete cases, design and sums straight from the
-- column arrays. They return sums and the counts the guards need; the
-- guards stay here, in Lua, and only the documented quantities leave.
-- Elsewhere (stock lua5.4, tests/trains/mocksim.lua) the plain-Lua path
-- of each train computes the same quantities from E.complete_cases.
---------------------------------------------------------------------------
local K = {}

-- The kernel method `name` of the view `data`, or nil when the runtime has
-- none (a plain table standing in for data, an older runtime).
function K.kernel(data, name)
  if type(data) ~= "userdata" then return nil end
  local ok, f = pcall(function() return data[name] end)
  if ok and type(f) == "function" then return f end
  return nil
end

-- The design's term names for the covariate columns (E.terms), checked
-- and named as E.design names them, without reading any data.
function K.term_names(data, covariates)
  local names = {}
  for _, cname in ipairs(covariates) do
    local col = E.column(data, cname, "covariates")
    for _, term in ipairs(E.terms(col, cname, "covariates")) do names[#names + 1] = term.name end
  end
  return names
end

-- E.model_guards on a kernel's counts: out.n complete rows, and per term
-- out.binary[j] (0/1 term) and out.ones[j] (rows where it is 1). The round
-- cap is checked before the kernel runs.
function K.guards(out, nparam, k)
  if out.n < 3 * nparam then
    error(string.format("refused: %d complete rows for %d parameters; a model needs n >= 3 x parameters at each station",
      out.n, nparam), 0)
  end
  for j = 1, #out.names do
    if out.binary[j] then
      local small = math.min(out.ones[j], out.n - out.ones[j])
      if small > 0 and small < k then
        error(string.format("refused: binary covariate '%s' has a class of %d rows at this station, fewer than k = %d",
          out.names[j], small, k), 0)
      end
    end
  end
end

function K.round_cap(round, max_rounds)
  if round > max_rounds then
    error(string.format("refused: round %d exceeds the cap of %d rounds", round, max_rounds), 0)
  end
end

---------------------------------------------------------------------------
-- Cox math over plain arrays
---------------------------------------------------------------------------
local C = {}

-- Log partial likelihood, score and information of one stratum at beta.
-- time[i], status[i] (boolean), X[j][i] (p columns), ties "efron"/"breslow".
function C.stratum(time, status, X, p, beta, ties)
  local n = #time
  local order = {}
  for i = 1, n do order[i] = i end
  table.sort(order, function(a, b)
    if time[a] ~= time[b] then return time[a] > time[b] end
    return a < b
  end)
  local eta, r = {}, {}
  for i = 1, n do
    local e = 0
    for j = 1, p do e = e + X[j][i] * beta[j] end
    eta[i] = e
    r[i] = math.exp(e)
  end
  local ll, U, I = 0, L.zeros(p), L.zeros(p * p)
  local S0, S1, S2 = 0, L.zeros(p), L.zeros(p * p)
  local events = 0
  local pos = 1
  while pos <= n do
    local t = time[order[pos]]
    local d, e0, e1, e2 = 0, 0, L.zeros(p), L.zeros(p * p)
    local q = pos
    while q <= n and time[order[q]] == t do
      local i = order[q]
      local ri = r[i]
      S0 = S0 + ri
      for j = 1, p do
        local xj = X[j][i]
        S1[j] = S1[j] + ri * xj
        for k = 1, p do S2[(j - 1) * p + k] = S2[(j - 1) * p + k] + ri * xj * X[k][i] end
      end
      if status[i] then
        d = d + 1
        e0 = e0 + ri
        ll = ll + eta[i]
        for j = 1, p do
          local xj = X[j][i]
          U[j] = U[j] + xj
          e1[j] = e1[j] + ri * xj
          for k = 1, p do e2[(j - 1) * p + k] = e2[(j - 1) * p + k] + ri * xj * X[k][i] end
        end
      end
      q = q + 1
    end
    if d > 0 then
      events = events + d
      if ties == "breslow" or d == 1 then
        ll = ll - d * math.log(S0)
        for j = 1, p do
          U[j] = U[j] - d * S1[j] / S0
          for k = 1, p do
            local jk = (j - 1) * p + k
            I[jk] = I[jk] + d * (S2[jk] / S0 - S1[j] * S1[k] / (S0 * S0))
          end
        end
      else
        for m = 0, d - 1 do
          local f = m / d
          local s0 = S0 - f * e0
          ll = ll - math.log(s0)
          for j = 1, p do
            local s1j = S1[j] - f * e1[j]
            U[j] = U[j] - s1j / s0
            for k = 1, p do
              local jk = (j - 1) * p + k
              local s1k = S1[k] - f * e1[k]
              I[jk] = I[jk] + (S2[jk] - f * e2[jk]) / s0 - s1j * s1k / (s0 * s0)
            end
          end
        end
      end
    end
    pos = q
  end
  return { loglik = ll, score = U, info = I, events = events }
end

-- Sums the stations' pieces. Returns loglik, score, info.
function C.sum(results, p)
  local ll, U, I = 0, L.zeros(p), L.zeros(p * p)
  for _, r in ipairs(results) do
    ll = ll + r.loglik
    for j = 1, p do U[j] = U[j] + r.score[j] end
    for j = 1, p * p do I[j] = I[j] + r.info[j] end
  end
  return ll, U, I
end

local function chol_or_error(I, p, names)
  local R, bad = L.chol(I, p)
  if not R then
    error(string.format("singular information matrix: covariate '%s' is collinear with the covariates before it " ..
      "(or constant among the events)", names[bad]), 0)
  end
  return R
end

-- One combine step of R's coxph.fit Newton iteration (coxfit6.c).
-- st: {iter, halving, beta, newbeta, loglik0, loglik1}; ll, U, I at newbeta.
-- Returns "continue", st with st.newbeta to evaluate nextp; or "done", st.
function C.step(st, ll, U, I, p, names, max_iter, eps)
  if st.iter == 0 then
    st.loglik0, st.loglik1 = ll, ll
    local R = chol_or_error(I, p, names)
    local delta = L.chol_solve(R, p, U)
    st.score_chisq = L.quad(L.chol_inverse(R, p), p, U)
    st.beta = L.zeros(p)
    st.newbeta = {}
    for j = 1, p do st.newbeta[j] = delta[j] end
    st.iter = 1
    if max_iter == 0 then st.newbeta = L.zeros(p); st.converged = false; return "done", st end
    return "continue", st
  end
  local finite = ll == ll and ll > -math.huge and ll < math.huge
  if finite and math.abs(1 - st.loglik1 / ll) <= eps and not st.halving then
    st.loglik1 = ll
    st.converged = true
    return "done", st
  end
  if st.iter >= max_iter then
    st.loglik1 = ll
    st.converged = false
    return "done", st
  end
  if not finite or ll < st.loglik1 then
    st.halving = true
    for j = 1, p do st.newbeta[j] = (st.newbeta[j] + st.beta[j]) / 2 end
  else
    st.halving = false
    st.loglik1 = ll
    local R = chol_or_error(I, p, names)
    local delta = L.chol_solve(R, p, U)
    for j = 1, p do
      st.beta[j] = st.newbeta[j]
      st.newbeta[j] = st.newbeta[j] + delta[j]
    end
  end
  st.iter = st.iter + 1
  return "continue", st
end

-- The final table from the state and the information at the estimate.
function C.report(st, I, p, names)
  local R = chol_or_error(I, p, names)
  local V = L.chol_inverse(R, p)
  local z975 = S.qnorm(0.975)
  local coefs = {}
  local b = st.newbeta
  for j = 1, p do
    local se = math.sqrt(V[(j - 1) * p + j])
    local z = b[j] / se
    coefs[j] = { name = names[j], coef = b[j], exp_coef = math.exp(b[j]), se = se, z = z,
      p = S.pnorm_two_sided(z),
      lower95 = math.exp(b[j] - z975 * se), upper95 = math.exp(b[j] + z975 * se) }
  end
  local lr = 2 * (st.loglik1 - st.loglik0)
  local wald = L.quad(I, p, b)
  return {
    coefficients = coefs,
    loglik = { st.loglik0, st.loglik1 },
    lr_test = { chisq = lr, df = p, p = S.pchisq_upper(lr, p) },
    wald_test = { chisq = wald, df = p, p = S.pchisq_upper(wald, p) },
    score_test = { chisq = st.score_chisq, df = p, p = S.pchisq_upper(st.score_chisq, p) },
    iterations = st.iter,
    converged = st.converged,
  }
end

---------------------------------------------------------------------------
-- The train
---------------------------------------------------------------------------
local MAX_ITER_CAP = 50

local function settings(params)
  local ties = params.ties or "efron"
  if ties ~= "efron" and ties ~= "breslow" then
    error("ties: must be \"efron\" or \"breslow\", not " .. tostring(ties), 0)
  end
  local max_iter = params.max_iter or 20
  if type(max_iter) ~= "number" or max_iter < 0 or max_iter > MAX_ITER_CAP then
    error("max_iter: must be a number from 0 to " .. MAX_ITER_CAP, 0)
  end
  if type(params.covariates) ~= "table" or #params.covariates == 0 then
    error("covariates: a non-empty list of column names is required", 0)
  end
  return ties, max_iter, params.eps or 1e-9
end

local function station(data, params, round)
  local ties, max_iter = settings(params)
  local k = E.min_count(data, params)
  local tcol = E.column(data, params.time, "time")
  if tcol.type ~= "number" and tcol.type ~= "integer" then
    error("time: column '" .. params.time .. "' must be number or integer", 0)
  end
  local ecol = E.column(data, params.event, "event")
  local is_event = E.event_fn(ecol, params.event, params.event_value)
  local cox_stratum = K.kernel(data, "cox_stratum")
  if cox_stratum then
    -- the same quantities, guards and refusals as the plain-Lua path below
    local names = K.term_names(data, params.covariates)
    local p = #names
    K.round_cap(round, max_iter + 2)
    if params.beta ~= nil and #params.beta ~= p then error("beta: expected " .. p .. " values", 0) end
    local out = cox_stratum(data, { time = params.time, event = params.event,
      event_value = params.event_value, covariates = params.covariates, beta = params.beta, ties = ties })
    K.guards(out, p, k)
    if out.invalid == "time" then error("time: negative follow-up time at this station", 0) end
    if out.invalid == "event" then
      is_event(out.invalid_value) -- raises the event column's own message
      error("event: column '" .. params.event .. "' has the value " .. tostring(out.invalid_value), 0)
    end
    if out.events > 0 and out.events < k then
      error(string.format("refused: %d events at this station, fewer than k = %d", out.events, k), 0)
    end
    return { names = out.names, n = out.n, dropped = out.dropped, events = out.events,
      loglik = out.loglik, score = out.score, info = out.info }
  end
  local cols = { { col = tcol }, { col = ecol } }
  for _, c in ipairs(params.covariates) do
    cols[#cols + 1] = { col = E.column(data, c, "covariates") }
  end
  local arr, n, dropped = E.complete_cases(cols, data:nrows())
  local raw = {}
  for j, c in ipairs(params.covariates) do raw[c] = arr[j + 2] end
  local names, X, binary = E.design(data, params.covariates, raw)
  local p = #names
  E.model_guards(n, p, names, X, binary, k, round, max_iter + 2)
  local time, status = arr[1], {}
  local events = 0
  for i = 1, n do
    if time[i] < 0 then error("time: negative follow-up time at this station", 0) end
    status[i] = is_event(arr[2][i])
    if status[i] then events = events + 1 end
  end
  if events > 0 and events < k then
    error(string.format("refused: %d events at this station, fewer than k = %d", events, k), 0)
  end
  local beta = params.beta or L.zeros(p)
  if #beta ~= p then error("beta: expected " .. p .. " values", 0) end
  local out = C.stratum(time, status, X, p, beta, ties)
  return { names = names, n = n, dropped = dropped, events = events,
    loglik = out.loglik, score = out.score, info = out.info }
end

local function combine(results, params, round)
  local ties, max_iter, eps = settings(params)
  local names = results[1].names
  local p = #names
  for i, r in ipairs(results) do
    if #r.names ~= p then error("station " .. results.stations[i] .. " has different covariate terms", 0) end
    for j = 1, p do
      if r.names[j] ~= names[j] then
        error("station " .. results.stations[i] .. " names term " .. j .. " '" .. r.names[j] ..
          "', another '" .. names[j] .. "'", 0)
      end
    end
  end
  local ll, U, I = C.sum(results, p)
  local st = params.state or { iter = 0, halving = false }
  local status
  status, st = C.step(st, ll, U, I, p, names, max_iter, eps)
  if status == "continue" then
    local nextp = {}
    for key, v in pairs(params) do nextp[key] = v end
    nextp.state = st
    nextp.beta = st.newbeta
    return { done = false, params = nextp }
  end
  local res = C.report(st, I, p, names)
  local n, events, per, notes = 0, 0, {}, {}
  for i, r in ipairs(results) do
    n = n + r.n
    events = events + r.events
    per[i] = { id = results.stations[i], n = r.n, dropped = r.dropped, events = r.events }
    if r.events == 0 then
      notes[#notes + 1] = "station " .. results.stations[i] .. " has no events: its stratum adds nothing to the partial likelihood"
    end
  end
  if not st.converged then
    notes[#notes + 1] = "did not converge in " .. max_iter .. " iterations (coefficients may be infinite)"
  end
  res.n, res.events, res.ties, res.stations, res.notes = n, events, ties, per, notes
  return { done = true, result = res }
end

return {
  name = "cox",
  version = "1.0.0",
  params = {
    time = "string: follow-up time column (required)",
    event = "string: event indicator column (required)",
    event_value = "number|string: code of the event column meaning an event (default 1 / true)",
    covariates = "array of strings: covariate columns (required)",
    ties = "string: efron (default) or breslow",
    max_iter = "integer: Newton iterations, default 20",
    eps = "number: relative loglik convergence, default 1e-9",
    k = "integer: may raise the station's k (data:k()), never lower it",
  },
  station = station,
  combine = combine,
  math = { stratum = C.stratum, step = C.step, report = C.report, stats = S, linalg = L },
}
