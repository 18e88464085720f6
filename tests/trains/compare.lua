-- compare.lua — compares a standard train's result (JSON from `pht sim`)
-- with the pooled-R fixture under tests/reference/expected, by name, and
-- prints one TAP line per quantity (no plan: the driver prints it).
--   lua5.4 compare.lua cox   FIXTURE RESULT TIES     (efron | breslow)
--   lua5.4 compare.lua glm   FIXTURE RESULT
--   lua5.4 compare.lua km    FIXTURE RESULT [group]  (group: by_group + log-rank)
--   lua5.4 compare.lua params FIXTURE [TIES|group]   (prints the train's params)
-- Tolerances (issue 5): coefficients, SE and statistics 1e-6 relative;
-- survival estimates 1e-9.
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/?.lua;" .. package.path
local json = require("json")

local function read_json(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local s = f:read("a")
  f:close()
  return json.decode(s)
end

local function isnull(v) return v == nil or v == json.null end

local kind, fixture_path, result_path, extra = arg[1], arg[2], arg[3], arg[4]
local fx = read_json(fixture_path)

-- `compare.lua params FIXTURE [ties|group]` prints the train's params for
-- the fixture's analysis, so that the columns come from the fixture.
if kind == "params" then
  local p = { time = fx.time, event = fx.event }
  if fx.train == "cox" then
    p.covariates = fx.covariates
    p.ties = result_path
  elseif fx.train == "glm" then
    p = { family = fx.family, outcome = fx.outcome, covariates = fx.covariates }
    if not isnull(fx.offset) then p.offset = fx.offset end
    if not isnull(fx.event_value) then p.event_value = fx.event_value end
  elseif fx.train == "km" then
    p.interval = fx.interval
    if result_path == "group" then p.group = fx.group end
  end
  -- k = 1 (with `pht sim --k 1`): no merging of small steps, so that the
  -- pooled result must equal R's exactly
  p.k = 1
  print(json.encode(p))
  os.exit(0)
end
local res = read_json(result_path)
local res = read_json(result_path)
local label = fixture_path:match("([^/]+)%.json$")
local failures = 0

local function tap(ok, what, diag)
  print((ok and "ok" or "not ok") .. " - " .. label .. ": " .. what)
  if not ok then
    failures = failures + 1
    if diag then print("# " .. diag) end
  end
end

local function num(v)
  if v == "Inf" then return math.huge elseif v == "-Inf" then return -math.huge end
  return v
end

-- |got - want| <= tol * max(|want|, floor); nulls must match absences.
local function close(what, got, want, tol, floor)
  want = num(want)
  if isnull(want) then
    tap(isnull(got), what .. " is absent (R: NA)", "got " .. tostring(got))
    return
  end
  if type(got) ~= "number" then
    tap(false, what, "missing in result; R: " .. string.format("%.17g", want))
    return
  end
  local err = math.abs(got - want)
  local scale = math.max(math.abs(want), floor or 0)
  local ok = (got == want) or err <= tol * scale
  tap(ok, string.format("%s = %.10g", what, want),
    string.format("got %.17g, R %.17g, relative difference %.3g (tolerance %g)", got, want,
      scale > 0 and err / scale or err, tol))
end

local function equal(what, got, want)
  tap(got == want, what .. " = " .. tostring(want), "got " .. tostring(got))
end

local COEF_TOL = 1e-6
local SURV_TOL = 1e-9

local function by_name(list, key)
  local out = {}
  for _, r in ipairs(list or {}) do out[r[key]] = r end
  return out
end

if kind == "cox" then
  local ties = extra
  local want = fx[ties]
  equal("ties", res.ties, ties)
  local got = by_name(res.coefficients, "name")
  equal("number of terms", #res.coefficients, #want.terms)
  for _, term in ipairs(want.terms) do
    local w, g = want.coefficients[term], got[term] or {}
    close(term .. " coef", g.coef, w.coef, COEF_TOL)
    close(term .. " se", g.se, w.se, COEF_TOL)
    close(term .. " z", g.z, w.z, COEF_TOL)
    close(term .. " p", g.p, w.p, COEF_TOL)
    close(term .. " hazard ratio", g.exp_coef, w.hr, COEF_TOL)
    close(term .. " HR lower 95%", g.lower95, w.hr_lower, COEF_TOL)
    close(term .. " HR upper 95%", g.upper95, w.hr_upper, COEF_TOL)
  end
  close("loglik at 0", res.loglik and res.loglik[1], want.loglik.initial, COEF_TOL)
  close("loglik at estimate", res.loglik and res.loglik[2], want.loglik.final, COEF_TOL)
  for _, t in ipairs({ { "lr_test", "lr" }, { "wald_test", "wald" }, { "score_test", "score" } }) do
    local g, w = res[t[1]] or {}, want[t[2]]
    close(t[2] .. " chisq", g.chisq, w.chisq, COEF_TOL)
    equal(t[2] .. " df", g.df, w.df)
    close(t[2] .. " p", g.p, w.p, COEF_TOL)
  end
  equal("iterations", res.iterations, want.iterations)
  equal("n", res.n, want.n)
  equal("events", res.events, want.events)
  equal("aliased terms", table.concat(isnull(res.aliased) and {} or res.aliased, ","),
    table.concat(isnull(want.aliased) and {} or want.aliased, ","))
elseif kind == "glm" then
  equal("family", res.family, fx.family)
  local got = by_name(res.coefficients, "name")
  equal("number of terms", #res.coefficients, #fx.terms)
  for _, term in ipairs(fx.terms) do
    local w, g = fx.coefficients[term], got[term] or {}
    close(term .. " estimate", g.estimate, w.coef, COEF_TOL)
    close(term .. " se", g.se, w.se, COEF_TOL)
    close(term .. " " .. fx.statistic, g[fx.statistic], w[fx.statistic], COEF_TOL)
    close(term .. " p", g.p, w.p, COEF_TOL)
  end
  close("deviance", res.deviance, fx.deviance, COEF_TOL)
  close("null deviance", res.null_deviance, fx.null_deviance, COEF_TOL)
  close("AIC", res.aic, fx.aic, COEF_TOL)
  close("dispersion", res.dispersion, fx.dispersion, COEF_TOL)
  equal("df residual", res.df_residual, fx.df_residual)
  equal("df null", res.df_null, fx.df_null)
  equal("iterations", res.iterations, fx.iterations)
  equal("aliased terms", table.concat(isnull(res.aliased) and {} or res.aliased, ","),
    table.concat(isnull(fx.aliased) and {} or fx.aliased, ","))
  equal("n", res.n, fx.n)
elseif kind == "km" then
  local function curve(what, got, want)
    equal(what .. " n", got.n, want.n)
    equal(what .. " events", got.events, want.events)
    local steps = want.grid.steps
    equal(what .. " number of times", #got.table, #steps.time)
    local bytime = {}
    for _, row in ipairs(got.table) do bytime[row.time] = row end
    for i, t in ipairs(steps.time) do
      local row = bytime[t]
      local w = string.format("%s t=%g", what, t)
      if not row then
        tap(false, w, "time missing in result")
      else
        equal(w .. " n_risk", row.n_risk, steps.n_risk[i])
        equal(w .. " n_event", row.n_event, steps.n_event[i])
        equal(w .. " n_censor", row.n_censor, steps.n_censor[i])
        close(w .. " surv", row.surv, steps.surv[i], SURV_TOL, 1)
        -- R's survfit std.err is that of the cumulative hazard; the train
        -- releases Greenwood's SE of surv (summary.survfit's std.err).
        local se = num(steps.std_err[i])
        if se == math.huge then
          tap(isnull(row.std_err), w .. " std_err absent (R: Inf)", "got " .. tostring(row.std_err))
        else
          close(w .. " std_err", row.std_err, se * steps.surv[i], SURV_TOL, 1)
        end
        close(w .. " lower", row.lower, steps.lower[i], SURV_TOL, 1)
        close(w .. " upper", row.upper, steps.upper[i], SURV_TOL, 1)
      end
    end
    close(what .. " median", got.median, want.grid.median.median, SURV_TOL, 1)
    close(what .. " median lower", got.median_lower, want.grid.median.lower, SURV_TOL, 1)
    close(what .. " median upper", got.median_upper, want.grid.median.upper, SURV_TOL, 1)
  end
  equal("interval", res.interval, fx.interval)
  if extra == "group" then
    local got = by_name(res.curves, "group")
    equal("number of curves", #res.curves, #fx.levels)
    for _, lv in ipairs(fx.levels) do
      if got[lv] then curve(fx.group .. "=" .. lv, got[lv], fx.by_group[lv])
      else tap(false, "curve " .. lv, "missing in result") end
    end
    local w, g = fx.logrank.grid, res.logrank or {}
    close("log-rank chisq", g.chisq, w.chisq, COEF_TOL)
    equal("log-rank df", g.df, w.df)
    close("log-rank p", g.p, w.p, COEF_TOL)
    for i, lv in ipairs(fx.levels) do
      local gg = (g.groups or {})[i] or {}
      equal("log-rank group " .. i, gg.group, lv)
      equal("log-rank " .. lv .. " n", gg.n, w.n[i])
      equal("log-rank " .. lv .. " observed", gg.observed, w.observed[i])
      close("log-rank " .. lv .. " expected", gg.expected, w.expected[i], SURV_TOL, 1)
    end
  else
    equal("number of curves", #res.curves, 1)
    curve("overall", res.curves[1] or { table = {} }, fx.overall)
  end
else
  error("usage: compare.lua cox|glm|km FIXTURE RESULT [ties|group]")
end
os.exit(failures == 0 and 0 or 1)
