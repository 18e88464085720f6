--[[
cox.lua — Cox proportional hazards, stratified by station, by federated
Newton-Raphson (PHT standard train).

Params and what a station releases: declared in TRAIN below (`pht train
describe trains/std/cox.lua` prints them; pht run and pht sim check the
params against it and the stations' dictionaries before anything runs).

Each station is its own stratum with its own baseline hazard, which is
exactly R's coxph(Surv(time, event) ~ covariates + strata(station)).
Round 1 evaluates beta = 0, fixed by the train (a beta from the analyst
in round 1 is refused); combine sums the stations' log partial
likelihood, score and information, takes a Newton step (halving it, as
R's coxph.fit does, when the log likelihood falls) and sends the next
beta, until the relative change of the log likelihood is at most eps.
When a station drops out (a round's results come from fewer stations than
the iteration started with), combine restarts the iteration at beta = 0 on
the stations left, and the notes say so.
The station's work is the data API's kernel data:cox_stratum (in C).

Output (combine result)
  coefficients  one record per term: name, coef, exp_coef, se, z, p,
                lower95, upper95 (of exp(coef))
  loglik        {at beta = 0, at the estimate}
  lr_test, wald_test, score_test  {chisq, df, p}
  iterations, converged, n, events, ties
  stations      per station the result covers: id, n (complete cases),
                dropped (rows with a missing value in a used column), events
  aliased        present when covariates are aliased (constant among the
                 events, or a linear combination of those before them):
                 their names; their coefficients are null (R's NA)
  stations_dropped  present when stations dropped out during the run: per
                station id and the first round without its result; the
                iteration restarted on the others (lib/design.lua,
                E.iteration) and the result covers only them
  notes         e.g. stations without events (they add nothing: a stratum
                without events has no partial likelihood)
]]
local TRAIN = {
  name = "cox",
  version = "2.0.0",
  params = {
    { name = "time", type = "column", required = true, column_types = { "number", "integer" },
      doc = "follow-up time column" },
    { name = "event", type = "column", required = true, column_types = { "boolean", "number", "integer", "category" },
      doc = "event indicator column: boolean (true = event), numeric coded 0/1, or any code given by event_value" },
    { name = "event_value", type = "number|string",
      doc = "the code of `event` that means an event (required for a category column, e.g. 2 for R's lung)" },
    { name = "covariates", type = "columns", required = true,
      column_types = { "number", "integer", "boolean", "category" },
      doc = [[covariate columns; numbers enter as they are, booleans as 0/1 under their
own name, categories as one 0/1 term per level after the dictionary's
first (sexfemale), as R does]] },
    { name = "ties", type = "string", values = { "efron", "breslow" }, default = "efron",
      doc = "the handling of tied event times" },
    { name = "max_iter", type = "integer", min = 0, max = 50, default = 20,
      doc = "Newton iterations (R's coxph.control)" },
    { name = "eps", type = "number", default = 1e-9,
      doc = "convergence: |1 - loglik_old/loglik| <= eps (R's coxph.control)" },
    { name = "k", type = "integer", min = 1, doc = "may raise the station's k (data:k()), never lower it" },
    { name = "beta", type = "numbers", set_by = "combine",
      doc = "the coefficients of the next round; refused in the first round of an iteration" },
    { name = "state", type = "object", set_by = "combine",
      doc = "the Newton iteration's state; refused in the first round of an iteration" },
    { name = "iteration", type = "object", set_by = "combine",
      doc = "the iteration's start and stations (lib/design.lua, E.iteration)" },
  },
  releases = [[
What a station releases, each round: n, number dropped, number of events,
the log partial likelihood (a scalar), the score vector (p numbers) and the
information matrix (p x p) of its own stratum at beta. Never an event time
or a row. Not disclosive because: the station refuses unless n >= 3 x p
(so the p(p+1)/2 + p + 1 numbers cannot be solved for the rows), every
binary covariate's smaller class is 0 or >= k, its number of events is 0
or >= k, the rows dropped for a missing value are 0 or >= k (else the
complete cases would differ from all rows by a few), and no more than
max_iter + 2 rounds of one iteration are answered; stratifying by
station means no event times ever leave (the WebDISCO leak). Round 1 (and
the first round of a restarted iteration) is at beta = 0 whatever the
params say, so its release is a fixed function of the data; the kernel refuses a beta at which a fitted value would be
clamped (no release turns into a count across a chosen hyperplane).]],
}
--#include "lib/stats.lua"
--#include "lib/linalg.lua"
--#include "lib/design.lua"

---------------------------------------------------------------------------
-- Cox at the analyst: R's coxph.fit Newton iteration over the summed strata
---------------------------------------------------------------------------
local C = {}

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

-- The Newton step over the estimable terms st.keep: delta (p values, 0 at
-- the aliased terms) and the Cholesky factor of their information.
local function kept_step(st, U, I, p, names)
  local q = #st.keep
  local R = chol_or_error(L.sub(I, p, st.keep), q, L.pick(names, st.keep))
  return L.spread(L.chol_solve(R, q, L.pick(U, st.keep)), st.keep, p), R
end

-- One combine step of R's coxph.fit Newton iteration (coxfit6.c).
-- st: {iter, halving, beta, newbeta, loglik0, loglik1}; ll, U, I at newbeta.
-- Returns "continue", st with st.newbeta to evaluate nextp; or "done", st.
function C.step(st, ll, U, I, p, names, max_iter, eps)
  if st.iter == 0 then
    st.loglik0, st.loglik1 = ll, ll
    -- terms aliased at beta = 0 stay out of the fit (R's coxph: NA)
    st.keep, st.aliased = L.aliased(I, p)
    if #st.keep == 0 then
      error("singular information matrix: every covariate is constant among the events", 0)
    end
    local delta, R = kept_step(st, U, I, p, names)
    local q = #st.keep
    st.score_chisq = L.quad(L.chol_inverse(R, q), q, L.pick(U, st.keep))
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
    local delta = kept_step(st, U, I, p, names)
    for j = 1, p do
      st.beta[j] = st.newbeta[j]
      st.newbeta[j] = st.newbeta[j] + delta[j]
    end
  end
  st.iter = st.iter + 1
  return "continue", st
end

-- The final table from the state and the information at the estimate.
-- An aliased term's row: its name and JSON nulls (R's NA).
function C.aliased_row(name)
  local n = json_null
  return { name = name, coef = n, exp_coef = n, se = n, z = n, p = n, lower95 = n, upper95 = n,
    aliased = true }
end

function C.report(st, I, p, names)
  local keep = st.keep or L.aliased(I, p)
  local q = #keep
  local R = chol_or_error(L.sub(I, p, keep), q, L.pick(names, keep))
  local V = L.chol_inverse(R, q)
  local z975 = S.qnorm(0.975)
  local coefs = {}
  local b = st.newbeta
  for j = 1, p do coefs[j] = C.aliased_row(names[j]) end
  for a, j in ipairs(keep) do
    local se = math.sqrt(V[(a - 1) * q + a])
    local z = b[j] / se
    coefs[j] = { name = names[j], coef = b[j], exp_coef = math.exp(b[j]), se = se, z = z,
      p = S.pnorm_two_sided(z),
      lower95 = math.exp(b[j] - z975 * se), upper95 = math.exp(b[j] + z975 * se) }
  end
  local lr = 2 * (st.loglik1 - st.loglik0)
  local wald = L.quad(L.sub(I, p, keep), q, L.pick(b, keep))
  local res = {
    coefficients = coefs,
    loglik = { st.loglik0, st.loglik1 },
    lr_test = { chisq = lr, df = q, p = S.pchisq_upper(lr, q) },
    wald_test = { chisq = wald, df = q, p = S.pchisq_upper(wald, q) },
    score_test = { chisq = st.score_chisq, df = q, p = S.pchisq_upper(st.score_chisq, q) },
    iterations = st.iter,
    converged = st.converged,
  }
  if st.aliased and #st.aliased > 0 then res.aliased = L.pick(names, st.aliased) end
  return res
end

---------------------------------------------------------------------------
-- The train
---------------------------------------------------------------------------
local MAX_ITER_CAP = 50

local function settings(params)
  local ties = E.param(TRAIN, params, "ties")
  if ties ~= "efron" and ties ~= "breslow" then
    error("ties: must be \"efron\" or \"breslow\", not " .. tostring(ties), 0)
  end
  local max_iter = E.param(TRAIN, params, "max_iter")
  if type(max_iter) ~= "number" or max_iter < 0 or max_iter > MAX_ITER_CAP then
    error("max_iter: must be a number from 0 to " .. MAX_ITER_CAP, 0)
  end
  if type(params.covariates) ~= "table" or #params.covariates == 0 then
    error("covariates: a non-empty list of column names is required", 0)
  end
  return ties, max_iter, E.param(TRAIN, params, "eps")
end


-- Set by combine between rounds, absent from the first round of an iteration.
local FIXED = { "beta", "state" }

local function station(data, params, round)
  local ties, max_iter = settings(params)
  local k = E.min_count(data, params)
  E.time_column(data, params.time)
  E.event_check(E.column(data, params.event, "event"), params.event, params.event_value)
  local names = E.term_names(data, params.covariates)
  local p = #names
  local start = E.iteration_start(params, round)
  E.round_cap(round, max_iter + 2, start)
  E.round1_fixed(params, round, FIXED, start)
  if params.beta ~= nil and (type(params.beta) ~= "table" or #params.beta ~= p) then
    error("beta: expected " .. p .. " values", 0)
  end
  local out = data:cox_stratum({ time = params.time, event = params.event,
    event_value = params.event_value, covariates = params.covariates, beta = params.beta, ties = ties })
  E.model_guards(out, p, k)
  E.dropped_guard(out, k)
  if out.events > 0 and out.events < k then
    error(string.format("refused: %d events at this station, fewer than k = %d", out.events, k), 0)
  end
  return { names = out.names, n = out.n, dropped = out.dropped, events = out.events,
    loglik = out.loglik, score = out.score, info = out.info }
end

local function combine(results, params, round)
  local ties, max_iter, eps = settings(params)
  local it, restart = E.iteration(results, params, round, FIXED)
  if restart then return { done = false, params = restart } end
  local names, p = E.same_terms(results, "covariate")
  local ll, U, I = C.sum(results, p)
  local st = params.state or { iter = 0, halving = false }
  local status
  status, st = C.step(st, ll, U, I, p, names, max_iter, eps)
  if status == "continue" then
    local nextp = {}
    for key, v in pairs(params) do nextp[key] = v end
    nextp.state = st
    nextp.beta = st.newbeta
    nextp.iteration = it
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
  if res.aliased then
    notes[#notes + 1] = E.aliased_note(res.aliased)
  end
  res.stations_dropped = E.coverage(it, notes)
  res.n, res.events, res.ties, res.stations, res.notes = n, events, ties, per, notes
  return { done = true, result = res }
end

TRAIN.station = station
TRAIN.combine = combine
TRAIN.math = { step = C.step, report = C.report, stats = S, linalg = L }
return TRAIN
