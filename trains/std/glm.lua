--[[
glm.lua — generalized linear models by federated IRLS (PHT standard train).

Params and what a station releases: declared in TRAIN below (`pht train
describe trains/std/glm.lua` prints them; pht run and pht sim check the
params against it and the stations' dictionaries before anything runs).

Rounds follow R's glm.fit exactly: round 1 evaluates R's starting means
(binomial (y + 0.5)/2, poisson y + 0.1, gaussian y), fixed by the train (a
beta from the analyst in round 1 is refused); each later round evaluates
the beta combine computed. Each round the stations return the weighted
cross-products of the IRLS step and the deviance at the current means; the
analyst sums, checks convergence and solves for the next beta. The null
deviance comes in round 2 from the pooled intercept-only fit, which has a
closed form (pooled mean of y; poisson with offset log(sum y / sum e^offset)).
When a station drops out (a round's results come from fewer stations than
the iteration started with), combine restarts the iteration at the starting
means on the stations left, and the notes say so.
The station's work is the data API's kernel data:glm_step (in C).

Output (combine result)
  coefficients   per term: name, estimate, se, z (or t for gaussian), p
  deviance, null_deviance, df_residual, df_null, aic, dispersion
  iterations, converged, family, link, n
  stations       per station the result covers: id, n (complete cases),
                 dropped (rows with a missing value in a used column)
  aliased        present when terms are aliased (constant, or a linear
                 combination of the terms before them): their names; their
                 coefficients are null (R's NA), as R's glm
  stations_dropped  present when stations dropped out during the run: per
                 station id and the first round without its result; the
                 iteration restarted on the others (lib/design.lua,
                 E.iteration) and the result covers only them
  notes          when it did not converge or stations dropped out
]]
local TRAIN = {
  name = "glm",
  version = "2.0.0",
  params = {
    { name = "family", type = "string", values = { "binomial", "poisson", "gaussian" }, default = "gaussian",
      doc = "binomial (logit link), poisson (log link) or gaussian (identity link)" },
    { name = "outcome", type = "column", required = true,
      column_types = { "boolean", "number", "integer", "category" },
      doc = [[outcome column. binomial: boolean, 0/1, or a two-level category (the
second level is 1, as R's factors), or any column with event_value]] },
    { name = "event_value", type = "number|string|boolean",
      doc = [[binomial only: the code of outcome that is 1, all others 0 (a level of a
category of any number of levels, a number, false for a boolean): a
logistic model of any coded outcome; rows with the outcome missing are
dropped as for any column]] },
    { name = "link", type = "string", values = { "logit", "log", "identity" },
      doc = [[the family's link, the only one there is: logit (binomial), log
(poisson), identity (gaussian)]] },
    { name = "covariates", type = "columns", required = true,
      column_types = { "number", "integer", "boolean", "category" },
      doc = [[covariate columns (may be empty); numbers as they are, booleans as 0/1
under their own name, categories one 0/1 term per level after the
dictionary's first (sizeLARGE); an intercept "(Intercept)" always comes
first]] },
    { name = "offset", type = "column", column_types = { "number", "integer" },
      doc = "offset column (on the link scale; poisson: log exposure)" },
    { name = "max_iter", type = "integer", min = 1, max = 50, default = 25,
      doc = "IRLS iterations (R's glm.control)" },
    { name = "epsilon", type = "number", default = 1e-8,
      doc = "convergence |dev - devold|/(|dev| + 0.1) < epsilon (R's glm.control)" },
    { name = "k", type = "integer", min = 1, doc = "may raise the station's k (data:k()), never lower it" },
    { name = "beta", type = "numbers", set_by = "combine",
      doc = "the coefficients of the next round; refused in the first round of an iteration" },
    { name = "nullmu", type = "number", set_by = "combine",
      doc = "the null model's mean (round 2); refused in the first round of an iteration" },
    { name = "state", type = "object", set_by = "combine",
      doc = "the IRLS iteration's state; refused in the first round of an iteration" },
    { name = "iteration", type = "object", set_by = "combine",
      doc = "the iteration's start and stations (lib/design.lua, E.iteration)" },
  },
  releases = [[
What a station releases, per round: n, dropped, X'WX (p x p), X'Wz (p),
its deviance and log-likelihood sums, round 1 the sum of y (and of
e^offset), round 2 its null-deviance sum. Not disclosive because: the
station refuses unless n >= 3 x p (DataSHIELD's nfilter.glm), every binary
covariate's smaller class and, for binomial, the outcome's smaller class
is 0 (absent) or >= k (outcome: >= k), the rows dropped for a missing
value are 0 or >= k, and it answers no more than max_iter + 2 rounds of
one iteration. Round 1 (and the first round of a restarted iteration) is at
R's starting means whatever the params say, so its release is a fixed function of the data; the kernel refuses
a beta at which a fitted mean would be clamped to 0 or 1 (at a huge beta
the deviance would count the rows on one side of a chosen hyperplane).]],
}
--#include "lib/stats.lua"
--#include "lib/linalg.lua"
--#include "lib/design.lua"

---------------------------------------------------------------------------
-- GLM at the analyst: R's glm.fit IRLS over the summed stations' pieces
---------------------------------------------------------------------------
local G = {}

-- The link of each family (the kernel computes R's family functions).
G.links = { binomial = "logit", poisson = "log", gaussian = "identity" }

local function sum_pieces(results, p)
  local A, b, dev, ll, n = L.zeros(p * p), L.zeros(p), 0, 0, 0
  local sumy, sumexp, nulldev = 0, 0, 0
  for _, r in ipairs(results) do
    for j = 1, p * p do A[j] = A[j] + r.XtWX[j] end
    for j = 1, p do b[j] = b[j] + r.XtWz[j] end
    dev = dev + r.deviance
    ll = ll + r.loglik
    n = n + r.n
    sumy = sumy + r.sum_y
    sumexp = sumexp + r.sum_exp_offset
    nulldev = nulldev + (r.null_deviance or 0)
  end
  return { A = A, b = b, deviance = dev, loglik = ll, n = n, sum_y = sumy,
    sum_exp_offset = sumexp, null_deviance = nulldev }
end

local function solve_or_error(A, p, names, b)
  local R, bad = L.chol(A, p)
  if not R then
    error(string.format("singular X'WX: covariate '%s' is collinear with the terms before it", names[bad]), 0)
  end
  return L.chol_solve(R, p, b), R
end

-- The IRLS solve over the estimable terms st.keep: beta (p values, 0 at
-- the aliased terms, which so drop out of the fit) and the Cholesky factor.
local function kept_solve(st, A, b, p, names)
  local q = #st.keep
  local x, R = solve_or_error(L.sub(A, p, st.keep), q, L.pick(names, st.keep), L.pick(b, st.keep))
  return L.spread(x, st.keep, p), R
end

-- One combine step. st carries devold, beta, iter, prevA, keep, aliased. tot: summed pieces
-- at the means of st.beta (or of the start). Returns "continue"/"done", st.
function G.step(st, tot, p, names, max_iter, epsilon)
  if st.iter == 0 then
    st.devold = tot.deviance
    -- terms aliased at the starting means stay out of the fit (R's glm: NA)
    st.keep, st.aliased = L.aliased(tot.A, p)
    if #st.keep == 0 then error("singular X'WX: every term is constant zero", 0) end
    st.beta = kept_solve(st, tot.A, tot.b, p, names)
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
  st.beta = kept_solve(st, tot.A, tot.b, p, names)
  st.prevA = tot.A
  st.iter = st.iter + 1
  return "continue", st
end

-- Final table. tot: pieces at the estimate; st.prevA the X'WX the estimate
-- was solved from (R's summary.glm uses that fit's QR).
function G.report(st, tot, link, family, p, names)
  local n = tot.n
  st.keep = st.keep or L.aliased(st.prevA, p)
  local q = #st.keep
  local dfr = n - q
  local _, R = kept_solve(st, st.prevA, L.zeros(p), p, names)
  local V = L.chol_inverse(R, q)
  local dispersion = 1
  if family == "gaussian" then dispersion = st.deviance / dfr end
  local coefs = {}
  local N = json_null
  for j = 1, p do
    coefs[j] = { name = names[j], estimate = N, se = N, p = N, aliased = true }
    if family == "gaussian" then coefs[j].t = N else coefs[j].z = N end
  end
  for a, j in ipairs(st.keep) do
    local se = math.sqrt(V[(a - 1) * q + a] * dispersion)
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
    aic = n * (math.log(2 * math.pi * st.deviance / n) + 1) + 2 + 2 * q
  else
    aic = -2 * tot.loglik + 2 * q
  end
  local aliased
  if st.aliased and #st.aliased > 0 then aliased = L.pick(names, st.aliased) end
  return { coefficients = coefs, aliased = aliased, deviance = st.deviance, null_deviance = st.null_deviance,
    df_residual = dfr, df_null = n - 1, aic = aic, dispersion = dispersion,
    iterations = st.iter, converged = st.converged, family = family, link = link, n = n }
end

---------------------------------------------------------------------------
-- The train
---------------------------------------------------------------------------
local MAX_ITER_CAP = 50

local function settings(params)
  local family = E.param(TRAIN, params, "family")
  local link = G.links[family]
  if not link then
    error("family: must be binomial, poisson or gaussian, not " .. tostring(family), 0)
  end
  if params.link ~= nil and params.link ~= link then
    error("link: family " .. family .. " takes link " .. link .. " (the only one the kernel computes), not " ..
      tostring(params.link), 0)
  end
  if params.event_value ~= nil and family ~= "binomial" then
    error("event_value: only for family binomial (a logistic model of one code of the outcome)", 0)
  end
  local max_iter = E.param(TRAIN, params, "max_iter")
  if type(max_iter) ~= "number" or max_iter < 1 or max_iter > MAX_ITER_CAP then
    error("max_iter: must be a number from 1 to " .. MAX_ITER_CAP, 0)
  end
  if type(params.covariates) ~= "table" then
    error("covariates: a list of column names is required", 0)
  end
  return family, link, max_iter, E.param(TRAIN, params, "epsilon")
end

-- Checks the outcome column's type for the family, from the dictionary (a
-- value the family cannot take ends the run in the kernel, naming none).
local function outcome_check(col, name, family)
  if col.type == "boolean" then return end
  if family ~= "binomial" then
    if col.type ~= "number" and col.type ~= "integer" then
      error("outcome: column '" .. name .. "' must be numeric for family " .. family, 0)
    end
    return
  end
  if col.type == "category" then
    if type(col.levels) ~= "table" or #col.levels ~= 2 then
      error("outcome: category column '" .. name .. "' must have exactly two levels for binomial", 0)
    end
    return
  end
  if col.type == "number" or col.type == "integer" then return end
  error("outcome: column '" .. name .. "' has type " .. tostring(col.type), 0)
end

-- Set by combine between rounds, absent from the first round of an iteration.
local FIXED = { "beta", "nullmu", "state" }

-- The outcome as the kernel takes it: the column, or with event_value a
-- derived 0/1 column "outcome_is" (outcome == event_value) on a view of
-- the same rows.
local function outcome_view(data, params)
  local ycol = E.column(data, params.outcome, "outcome")
  if params.event_value == nil then return data, params.outcome, ycol end
  local v = params.event_value
  local t = ycol.type
  local ok = (t == "category" and type(v) == "string") or (t == "boolean" and type(v) == "boolean") or
    ((t == "number" or t == "integer") and math.type(v) ~= nil)
  if not ok then
    error("event_value: " .. tostring(v) .. " is not a code of " .. tostring(t) .. " column '" .. params.outcome ..
      "' (a level name, a number or a boolean as the column holds)", 0)
  end
  local d = data:with({ outcome_is = data:column(params.outcome):eq(v) })
  return d, "outcome_is", { type = "boolean" }
end

local function station(data, params, round)
  local family, _, max_iter = settings(params)
  local k = E.min_count(data, params)
  local ycol, yname
  data, yname, ycol = outcome_view(data, params)
  outcome_check(ycol, params.outcome, family)
  local names = E.term_names(data, params.covariates)
  table.insert(names, 1, "(Intercept)")
  local p = #names
  if params.offset ~= nil then
    local ocol = E.column(data, params.offset, "offset")
    if ocol.type ~= "number" and ocol.type ~= "integer" then
      error("offset: column '" .. params.offset .. "' must be numeric", 0)
    end
  end
  local start = E.iteration_start(params, round)
  E.round_cap(round, max_iter + 2, start)
  E.round1_fixed(params, round, FIXED, start)
  if params.beta ~= nil and (type(params.beta) ~= "table" or #params.beta ~= p) then
    error("beta: expected " .. p .. " values", 0)
  end
  local out = data:glm_step({ family = family, outcome = yname, covariates = params.covariates,
    offset = params.offset, beta = params.beta, nullmu = params.nullmu })
  E.model_guards(out, p, k)
  E.dropped_guard(out, k)
  if family == "binomial" and math.min(out.y_ones, out.n - out.y_ones) < k then
    error(string.format("refused: the outcome's smaller class has %d rows at this station, fewer than k = %d",
      math.min(out.y_ones, out.n - out.y_ones), k), 0)
  end
  return { XtWX = out.XtWX, XtWz = out.XtWz, deviance = out.deviance, loglik = out.loglik,
    sum_y = out.sum_y, sum_exp_offset = out.sum_exp_offset, null_deviance = out.null_deviance,
    names = out.names, n = out.n, dropped = out.dropped }
end

local function combine(results, params, round)
  local family, link, max_iter, epsilon = settings(params)
  local it, restart = E.iteration(results, params, round, FIXED)
  if restart then return { done = false, params = restart } end
  local iround = round - it.start + 1 -- the round of this iteration
  local names, p = E.same_terms(results, "model")
  local tot = sum_pieces(results, p)
  local st = params.state or { iter = 0 }
  if iround == 2 then st.null_deviance = tot.null_deviance end
  local status
  status, st = G.step(st, tot, p, names, max_iter, epsilon)
  local nextp = {}
  for key, v in pairs(params) do nextp[key] = v end
  if iround == 1 then
    if family == "poisson" and params.offset ~= nil then
      nextp.nullmu = math.log(tot.sum_y / tot.sum_exp_offset)
    else
      nextp.nullmu = tot.sum_y / tot.n
    end
  else
    nextp.nullmu = nil
  end
  if status == "done" and not st.converged and family == "binomial" then
    error("did not converge in " .. max_iter .. " iterations (separation: coefficients diverge)", 0)
  end
  if status == "continue" then
    nextp.state = st
    nextp.beta = st.beta
    nextp.iteration = it
    return { done = false, params = nextp }
  end
  local res = G.report(st, tot, link, family, p, names)
  local per = {}
  for i, r in ipairs(results) do
    per[i] = { id = results.stations[i], n = r.n, dropped = r.dropped }
  end
  res.stations = per
  local notes = {}
  if not st.converged then
    notes[#notes + 1] = "did not converge in " .. max_iter .. " iterations"
  end
  if res.aliased then notes[#notes + 1] = E.aliased_note(res.aliased) end
  res.stations_dropped = E.coverage(it, notes)
  if #notes > 0 then res.notes = notes end
  return { done = true, result = res }
end

TRAIN.station = station
TRAIN.combine = combine
TRAIN.math = { links = G.links, step = G.step, report = G.report, stats = S, linalg = L }
return TRAIN
