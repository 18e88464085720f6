--[[
glm.lua — generalized linear models by federated IRLS (PHT standard train).

Params
  family      (string) "binomial" (logit link), "poisson" (log link) or
              "gaussian" (identity link); default "gaussian"
  outcome     (string, required) outcome column. binomial: boolean, 0/1, or
              a two-level category (the second level is 1, as R's factors)
  covariates  (array of strings, required) covariate columns; numbers as
              they are, booleans as 0/1 under their own name, categories one 0/1 term per
              level after the dictionary's first (sizeLARGE); an intercept
              "(Intercept)" always comes first
  offset      (string, optional) offset column (on the link scale; poisson:
              log exposure)
  max_iter    (integer) IRLS iterations, default 25 (R's glm.control)
  epsilon     (number) convergence |dev - devold|/(|dev| + 0.1) < epsilon,
              default 1e-8 (R's glm.control)
  k           (integer, optional) may raise the station's k (data:k()),
              never lower it
  (beta, nullmu, state: set by combine between rounds)

Rounds follow R's glm.fit exactly: round 1 evaluates the starting means
(binomial (y + 0.5)/2, poisson y + 0.1, gaussian y); each later round
evaluates the analyst's beta. Each round the stations return the weighted
cross-products of the IRLS step and the deviance at the current means; the
analyst sums, checks convergence and solves for the next beta. The null
deviance comes in round 2 from the pooled intercept-only fit, which has a
closed form (pooled mean of y; poisson with offset log(sum y / sum e^offset)).

Output (combine result)
  coefficients   per term: name, estimate, se, z (or t for gaussian), p
  deviance, null_deviance, df_residual, df_null, aic, dispersion
  iterations, converged, family, link, n
  stations       per station: id, n (complete cases), dropped (rows with a
                 missing value in a used column)

What a station releases, per round: n, dropped, X'WX (p x p), X'Wz (p),
its deviance and log-likelihood sums, round 1 the sum of y (and of
e^offset), round 2 its null-deviance sum, and a flag saying whether any
fitted mean is numerically 0 or 1. Not disclosive because: the station
refuses unless n >= 3 x p (DataSHIELD's nfilter.glm), every binary
covariate's smaller class and, for binomial, the outcome's smaller class
is 0 (absent) or >= k (outcome: >= k), and it answers no more than
max_iter + 2 rounds.
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
-- GLM math over plain arrays (R's family objects and glm.fit)
---------------------------------------------------------------------------
local G = {}
local DBL_EPS = 2.220446049250313e-16
local THRESH, MTHRESH, INVEPS = 30, -30, 1 / DBL_EPS

local function ylogy(y, mu)
  if y == 0 then return 0 end
  return y * math.log(y / mu)
end

G.families = {
  binomial = {
    link = "logit",
    start = function(y) return (y + 0.5) / 2 end,
    linkfun = function(mu) return math.log(mu / (1 - mu)) end,
    linkinv = function(eta)
      local t = eta < MTHRESH and DBL_EPS or (eta > THRESH and INVEPS or math.exp(eta))
      return t / (1 + t)
    end,
    mu_eta = function(eta)
      if eta > THRESH or eta < MTHRESH then return DBL_EPS end
      local o = 1 + math.exp(eta)
      return math.exp(eta) / (o * o)
    end,
    variance = function(mu) return mu * (1 - mu) end,
    dev = function(y, mu) return 2 * (ylogy(y, mu) + ylogy(1 - y, 1 - mu)) end,
    loglik = function(y, mu)
      if y == 1 then return math.log(mu) end
      return math.log(1 - mu)
    end,
    extreme = function(mu) return mu > 1 - 10 * DBL_EPS or mu < 10 * DBL_EPS end,
  },
  poisson = {
    link = "log",
    start = function(y) return y + 0.1 end,
    linkfun = function(mu) return math.log(mu) end,
    linkinv = function(eta) return math.max(math.exp(eta), DBL_EPS) end,
    mu_eta = function(eta) return math.max(math.exp(eta), DBL_EPS) end,
    variance = function(mu) return mu end,
    dev = function(y, mu)
      local r = mu
      if y > 0 then r = y * math.log(y / mu) - (y - mu) end
      return 2 * r
    end,
    loglik = function(y, mu) return y * math.log(mu) - mu - S.lgamma(y + 1) end,
    extreme = function(mu) return mu < 10 * DBL_EPS end,
  },
  gaussian = {
    link = "identity",
    start = function(y) return y end,
    linkfun = function(mu) return mu end,
    linkinv = function(eta) return eta end,
    mu_eta = function() return 1 end,
    variance = function() return 1 end,
    dev = function(y, mu) return (y - mu) ^ 2 end,
    loglik = function() return 0 end,
    extreme = function() return false end,
  },
}

-- One station's IRLS pieces. y[i], X[j][i] (X[1] the intercept), off[i];
-- beta nil means R's starting values. nullmu(i) gives the null model's
-- mean for row i (round 2) or is nil.
function G.station(fam, y, X, off, p, beta, nullmu)
  local n = #y
  local XtWX, XtWz = L.zeros(p * p), L.zeros(p)
  local dev, ll, sumy, sumexpoff, nulldev = 0, 0, 0, 0, 0
  local extreme = false
  for i = 1, n do
    local eta, mu
    if beta == nil then
      mu = fam.start(y[i])
      eta = fam.linkfun(mu)
      mu = fam.linkinv(eta)
    else
      eta = off[i]
      for j = 1, p do eta = eta + X[j][i] * beta[j] end
      mu = fam.linkinv(eta)
      if fam.extreme(mu) then extreme = true end
    end
    dev = dev + fam.dev(y[i], mu)
    ll = ll + fam.loglik(y[i], mu)
    local me = fam.mu_eta(eta)
    local z = (eta - off[i]) + (y[i] - mu) / me
    local w = me * me / fam.variance(mu)
    for j = 1, p do
      local xj = X[j][i]
      XtWz[j] = XtWz[j] + w * xj * z
      for k = j, p do
        XtWX[(j - 1) * p + k] = XtWX[(j - 1) * p + k] + w * xj * X[k][i]
      end
    end
    sumy = sumy + y[i]
    sumexpoff = sumexpoff + math.exp(off[i])
    if nullmu then nulldev = nulldev + fam.dev(y[i], nullmu(off[i])) end
  end
  for j = 1, p do
    for k = 1, j - 1 do XtWX[(j - 1) * p + k] = XtWX[(k - 1) * p + j] end
  end
  return { XtWX = XtWX, XtWz = XtWz, deviance = dev, loglik = ll, sum_y = sumy,
    sum_exp_offset = sumexpoff, null_deviance = nullmu and nulldev or nil, extreme = extreme }
end

local function sum_pieces(results, p)
  local A, b, dev, ll, n = L.zeros(p * p), L.zeros(p), 0, 0, 0
  local sumy, sumexp, nulldev, extreme = 0, 0, 0, {}
  for i, r in ipairs(results) do
    for j = 1, p * p do A[j] = A[j] + r.XtWX[j] end
    for j = 1, p do b[j] = b[j] + r.XtWz[j] end
    dev = dev + r.deviance
    ll = ll + r.loglik
    n = n + r.n
    sumy = sumy + r.sum_y
    sumexp = sumexp + r.sum_exp_offset
    nulldev = nulldev + (r.null_deviance or 0)
    if r.extreme then extreme[#extreme + 1] = results.stations[i] end
  end
  return { A = A, b = b, deviance = dev, loglik = ll, n = n, sum_y = sumy,
    sum_exp_offset = sumexp, null_deviance = nulldev, extreme = extreme }
end

local function solve_or_error(A, p, names, b)
  local R, bad = L.chol(A, p)
  if not R then
    error(string.format("singular X'WX: covariate '%s' is collinear with the terms before it", names[bad]), 0)
  end
  return L.chol_solve(R, p, b), R
end

-- One combine step. st carries devold, beta, iter, prevA. tot: summed pieces
-- at the means of st.beta (or of the start). Returns "continue"/"done", st.
function G.step(st, tot, p, names, max_iter, epsilon)
  if st.iter == 0 then
    st.devold = tot.deviance
    st.beta = solve_or_error(tot.A, p, names, tot.b)
    st.prevA = tot.A
    st.iter = 1
    return "continue", st
  end
  local dev = tot.deviance
  if dev ~= dev or dev == math.huge then
    error("the deviance is not finite at iteration " .. st.iter, 0)
  end
  if math.abs(dev - st.devold) / (math.abs(dev) + 0.1) < epsilon then
    st.converged, st.deviance = true, dev
    return "done", st
  end
  if st.iter >= max_iter then
    st.converged, st.deviance = false, dev
    return "done", st
  end
  st.devold = dev
  st.beta = solve_or_error(tot.A, p, names, tot.b)
  st.prevA = tot.A
  st.iter = st.iter + 1
  return "continue", st
end

-- Final table. tot: pieces at the estimate; st.prevA the X'WX the estimate
-- was solved from (R's summary.glm uses that fit's QR).
function G.report(st, tot, fam, family, p, names)
  local n = tot.n
  local dfr = n - p
  local _, R = solve_or_error(st.prevA, p, names, L.zeros(p))
  local V = L.chol_inverse(R, p)
  local dispersion = 1
  if family == "gaussian" then dispersion = st.deviance / dfr end
  local coefs = {}
  for j = 1, p do
    local se = math.sqrt(V[(j - 1) * p + j] * dispersion)
    local stat = st.beta[j] / se
    local rec = { name = names[j], estimate = st.beta[j], se = se }
    if family == "gaussian" then
      rec.t = stat
      rec.p = S.pt_two_sided(stat, dfr)
    else
      rec.z = stat
      rec.p = S.pnorm_two_sided(stat)
    end
    coefs[j] = rec
  end
  local aic
  if family == "gaussian" then
    aic = n * (math.log(2 * math.pi * st.deviance / n) + 1) + 2 + 2 * p
  else
    aic = -2 * tot.loglik + 2 * p
  end
  return { coefficients = coefs, deviance = st.deviance, null_deviance = st.null_deviance,
    df_residual = dfr, df_null = n - 1, aic = aic, dispersion = dispersion,
    iterations = st.iter, converged = st.converged, family = family, link = fam.link, n = n }
end

---------------------------------------------------------------------------
-- The train
---------------------------------------------------------------------------
local MAX_ITER_CAP = 50

local function settings(params)
  local family = params.family or "gaussian"
  local fam = G.families[family]
  if not fam then
    error("family: must be binomial, poisson or gaussian, not " .. tostring(family), 0)
  end
  local max_iter = params.max_iter or 25
  if type(max_iter) ~= "number" or max_iter < 1 or max_iter > MAX_ITER_CAP then
    error("max_iter: must be a number from 1 to " .. MAX_ITER_CAP, 0)
  end
  if type(params.covariates) ~= "table" then
    error("covariates: a list of column names is required", 0)
  end
  return family, fam, max_iter, params.epsilon or 1e-8
end

local function outcome_fn(col, name, family)
  if col.type == "boolean" then return function(v) return v and 1 or 0 end end
  if family ~= "binomial" then
    if col.type ~= "number" and col.type ~= "integer" then
      error("outcome: column '" .. name .. "' must be numeric for family " .. family, 0)
    end
    if family == "poisson" then
      return function(v)
        if v < 0 or v ~= math.floor(v) then
          error("outcome: column '" .. name .. "' has the value " .. tostring(v) ..
            "; poisson needs non-negative counts", 0)
        end
        return v
      end
    end
    return function(v) return v end
  end
  if col.type == "category" then
    if type(col.levels) ~= "table" or #col.levels ~= 2 then
      error("outcome: category column '" .. name .. "' must have exactly two levels for binomial", 0)
    end
    local one = col.levels[2]
    return function(v) return v == one and 1 or 0 end
  end
  if col.type == "number" or col.type == "integer" then
    return function(v)
      if v ~= 0 and v ~= 1 then
        error("outcome: column '" .. name .. "' has the value " .. tostring(v) .. "; binomial needs 0/1", 0)
      end
      return v
    end
  end
  error("outcome: column '" .. name .. "' has type " .. tostring(col.type), 0)
end

local function station(data, params, round)
  local family, fam, max_iter = settings(params)
  local k = E.min_count(data, params)
  local ycol = E.column(data, params.outcome, "outcome")
  local yval = outcome_fn(ycol, params.outcome, family)
  local glm_step = K.kernel(data, "glm_step")
  if glm_step then
    -- the same quantities, guards and refusals as the plain-Lua path below
    local names = K.term_names(data, params.covariates)
    table.insert(names, 1, "(Intercept)")
    local p = #names
    if params.offset ~= nil then
      local ocol = E.column(data, params.offset, "offset")
      if ocol.type ~= "number" and ocol.type ~= "integer" then
        error("offset: column '" .. params.offset .. "' must be numeric", 0)
      end
    end
    K.round_cap(round, max_iter + 2)
    if params.beta ~= nil and #params.beta ~= p then error("beta: expected " .. p .. " values", 0) end
    local out = glm_step(data, { family = family, outcome = params.outcome, covariates = params.covariates,
      offset = params.offset, beta = params.beta, nullmu = params.nullmu })
    K.guards(out, p, k)
    if out.invalid_value ~= nil then
      yval(out.invalid_value) -- raises the outcome column's own message
      error("outcome: column '" .. params.outcome .. "' has the value " .. tostring(out.invalid_value), 0)
    end
    if family == "binomial" and math.min(out.y_ones, out.n - out.y_ones) < k then
      error(string.format("refused: the outcome's smaller class has %d rows at this station, fewer than k = %d",
        math.min(out.y_ones, out.n - out.y_ones), k), 0)
    end
    return { XtWX = out.XtWX, XtWz = out.XtWz, deviance = out.deviance, loglik = out.loglik,
      sum_y = out.sum_y, sum_exp_offset = out.sum_exp_offset, null_deviance = out.null_deviance,
      extreme = out.extreme, names = out.names, n = out.n, dropped = out.dropped }
  end
  local cols = { { col = ycol } }
  for _, c in ipairs(params.covariates) do
    cols[#cols + 1] = { col = E.column(data, c, "covariates") }
  end
  local has_offset = params.offset ~= nil
  if has_offset then
    local ocol = E.column(data, params.offset, "offset")
    if ocol.type ~= "number" and ocol.type ~= "integer" then
      error("offset: column '" .. params.offset .. "' must be numeric", 0)
    end
    cols[#cols + 1] = { col = ocol }
  end
  local arr, n, dropped = E.complete_cases(cols, data:nrows())
  local raw = {}
  for j, c in ipairs(params.covariates) do raw[c] = arr[j + 1] end
  local names, X, binary = E.design(data, params.covariates, raw)
  local one = {}
  for i = 1, n do one[i] = 1 end
  table.insert(names, 1, "(Intercept)")
  table.insert(X, 1, one)
  table.insert(binary, 1, false)
  local p = #names
  E.model_guards(n, p, names, X, binary, k, round, max_iter + 2)
  local y = {}
  local ones = 0
  for i = 1, n do
    y[i] = yval(arr[1][i])
    if y[i] == 1 then ones = ones + 1 end
  end
  if family == "binomial" and math.min(ones, n - ones) < k then
    error(string.format("refused: the outcome's smaller class has %d rows at this station, fewer than k = %d",
      math.min(ones, n - ones), k), 0)
  end
  local off = has_offset and arr[#cols] or {}
  if not has_offset then for i = 1, n do off[i] = 0 end end
  local beta = params.beta
  if beta ~= nil and #beta ~= p then error("beta: expected " .. p .. " values", 0) end
  local nullmu
  if params.nullmu ~= nil then
    local c = params.nullmu
    if family == "poisson" and has_offset then
      nullmu = function(o) return math.exp(c + o) end
    else
      nullmu = function() return c end
    end
  end
  local out = G.station(fam, y, X, off, p, beta, nullmu)
  out.names, out.n, out.dropped = names, n, dropped
  return out
end

local function combine(results, params, round)
  local family, fam, max_iter, epsilon = settings(params)
  local names = results[1].names
  local p = #names
  for i, r in ipairs(results) do
    if #r.names ~= p then error("station " .. results.stations[i] .. " has different model terms", 0) end
    for j = 1, p do
      if r.names[j] ~= names[j] then
        error("station " .. results.stations[i] .. " names term " .. j .. " '" .. r.names[j] ..
          "', another '" .. names[j] .. "'", 0)
      end
    end
  end
  local tot = sum_pieces(results, p)
  local st = params.state or { iter = 0 }
  if round == 2 then st.null_deviance = tot.null_deviance end
  local status
  status, st = G.step(st, tot, p, names, max_iter, epsilon)
  local nextp = {}
  for key, v in pairs(params) do nextp[key] = v end
  if round == 1 then
    if family == "poisson" and params.offset ~= nil then
      nextp.nullmu = math.log(tot.sum_y / tot.sum_exp_offset)
    else
      nextp.nullmu = tot.sum_y / tot.n
    end
  else
    nextp.nullmu = nil
  end
  if status == "done" and #tot.extreme > 0 then
    error("separation: fitted " .. (family == "binomial" and "probabilities numerically 0 or 1" or
      "means numerically 0") .. " at station(s) " .. table.concat(tot.extreme, ", ") ..
      " (complete or quasi-complete separation; coefficients diverge)", 0)
  end
  if status == "done" and not st.converged and family == "binomial" then
    error("did not converge in " .. max_iter .. " iterations (separation: coefficients diverge)", 0)
  end
  if status == "continue" then
    nextp.state = st
    nextp.beta = st.beta
    return { done = false, params = nextp }
  end
  local res = G.report(st, tot, fam, family, p, names)
  local per = {}
  for i, r in ipairs(results) do
    per[i] = { id = results.stations[i], n = r.n, dropped = r.dropped }
  end
  res.stations = per
  if not st.converged then
    res.notes = { "did not converge in " .. max_iter .. " iterations" }
  end
  return { done = true, result = res }
end

return {
  name = "glm",
  version = "1.0.0",
  params = {
    family = "string: binomial, poisson or gaussian (default gaussian)",
    outcome = "string: outcome column (required)",
    covariates = "array of strings: covariate columns (required; may be empty)",
    offset = "string: offset column (optional)",
    max_iter = "integer: IRLS iterations, default 25",
    epsilon = "number: deviance convergence, default 1e-8",
    k = "integer: may raise the station's k (data:k()), never lower it",
  },
  station = station,
  combine = combine,
  math = { families = G.families, station = G.station, step = G.step, report = G.report, stats = S, linalg = L },
}
