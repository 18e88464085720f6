-- math.lua — unit tests (TAP) of the standard trains' plain-Lua math, run
-- by stock lua5.4: lua5.4 math.lua PHT_SRC. Known answers are R's (stats
-- and survival, quoted with the call that gives them) or worked by hand.
local src = arg[1] or os.getenv("PHT_SRC") or "."
local std = src .. "/trains/std/"
local n, failed = 0, 0

local function ok(cond, what, diag)
  n = n + 1
  print((cond and "ok " or "not ok ") .. n .. " - " .. what)
  if not cond then
    failed = failed + 1
    if diag then print("# " .. diag) end
  end
end

local function near(got, want, tol, what)
  local good = type(got) == "number" and math.abs(got - want) <= tol * math.max(math.abs(want), 1e-300)
  ok(good, what, string.format("got %s, want %.17g", tostring(got), want))
end

local function load_train(name)
  local t = dofile(std .. name .. ".lua")
  ok(type(t) == "table" and t.name == name and type(t.version) == "string" and type(t.params) == "table"
    and type(t.station) == "function" and type(t.combine) == "function",
    name .. ".lua returns name, version, params, station and combine")
  return t
end

local cox, glm, km = load_train("cox"), load_train("glm"), load_train("km")
local count, crosstab, summary, outcomes =
  load_train("count"), load_train("crosstab"), load_train("summary"), load_train("outcomes")

-- every train documents its params in its header comment
for _, name in ipairs({ "count", "crosstab", "summary", "km", "cox", "glm", "outcomes" }) do
  local f = assert(io.open(std .. name .. ".lua"))
  local text = f:read("a")
  f:close()
  local header = text:match("^%-%-%[%[(.-)%]%]")
  ok(header and header:find("Params") and header:find("Output") and header:find("What a station releases"),
    name .. ".lua documents params, output and what a station releases")
end

-- shared blocks are the same text in every train that carries them
local blocks = {}
for _, name in ipairs({ "count", "crosstab", "summary", "km", "cox", "glm", "outcomes" }) do
  local f = assert(io.open(std .. name .. ".lua"))
  local text = f:read("a")
  f:close()
  local rule = string.rep("-", 75)
  local pos = 1
  while true do
    local s, e, bname = text:find(string.rep("%-", 75) .. "\n%-%- shared block: ([%w ]+)", pos)
    if not s then break end
    local nxt = text:find("\n" .. rule .. "\n", e, true) or #text
    local body = text:sub(s, nxt)
    bname = bname:gsub("%s+$", "")
    blocks[bname] = blocks[bname] or {}
    table.insert(blocks[bname], { train = name, body = body })
    pos = nxt
  end
end
for bname, list in pairs(blocks) do
  local same = true
  for i = 2, #list do if list[i].body ~= list[1].body then same = false end end
  ok(same and #list >= 2, "shared block '" .. bname .. "' is identical in " .. #list .. " trains")
end

-- distributions (R: qnorm(0.975); pnorm(-1.5); pchisq(3.2, 1, lower = FALSE);
-- pchisq(7.1, 3, lower = FALSE); 2 * pt(-2.1, 10); lgamma(4.5))
local S = cox.math.stats
near(S.qnorm(0.975), 1.959963984540054, 1e-15, "qnorm(0.975)")
near(S.pnorm(-1.5), 0.066807201268858071, 1e-13, "pnorm(-1.5)")
near(S.pchisq_upper(3.2, 1), 0.073638270120302773, 1e-12, "pchisq(3.2, 1) upper tail")
near(S.pchisq_upper(7.1, 3), 0.068777819365799756, 1e-12, "pchisq(7.1, 3) upper tail")
near(S.pt_two_sided(2.1, 10), 0.062077244202218468, 1e-12, "two-sided t p-value (2.1, 10 df)")
near(S.lgamma(4.5), 2.4537365708424423, 1e-14, "lgamma(4.5)")
near(S.pnorm_two_sided(6.5), 8.0320011677182356e-11, 1e-12, "two-sided z p-value far in the tail")

-- linear algebra: a 2 x 2 system by hand; a singular matrix names its column
local L = cox.math.linalg
local R = L.chol({ 4, 2, 2, 3 }, 2)
local x = L.chol_solve(R, 2, { 2, 1 })
near(x[1], 0.5, 1e-15, "chol_solve x1 of [[4,2],[2,3]] x = [2,1]")
ok(math.abs(x[2]) < 1e-15, "chol_solve x2 = 0")
local bad, j = L.chol({ 1, 2, 2, 4 }, 2)
ok(bad == nil and j == 2, "chol of a singular matrix fails at column 2")

-- Cox: one stratum by hand. Times 1, 2, 3 all events, x = 0, 1, 0, beta 0:
-- loglik = -log 3 - log 2 - log 1; score = (1 - 1/3) + (0 - 1/2) = 1/6;
-- information = (1/3)(2/3) + (1/2)(1/2) = 17/36.
local st = cox.math.stratum({ 1, 2, 3 }, { true, true, true }, { { 0, 1, 0 } }, 1, { 0 }, "efron")
near(st.loglik, -math.log(6), 1e-15, "Cox loglik by hand")
near(st.score[1], 1 / 6, 1e-15, "Cox score by hand")
near(st.info[1], 17 / 36, 1e-15, "Cox information by hand")
-- Efron vs Breslow on a tie: times 1, 1, both events, x = 0, 1, beta 0.
-- Breslow: loglik = -2 log 2; Efron: -log 2 - log(2 - 1) = -log 2.
local b = cox.math.stratum({ 1, 1 }, { true, true }, { { 0, 1 } }, 1, { 0 }, "breslow")
local e = cox.math.stratum({ 1, 1 }, { true, true }, { { 0, 1 } }, 1, { 0 }, "efron")
near(b.loglik, -2 * math.log(2), 1e-15, "Breslow loglik on a tie")
near(e.loglik, -math.log(2), 1e-15, "Efron loglik on a tie")

-- Kaplan-Meier: merging at a station; every step covers >= m patients
local steps = km.math.station_steps({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
  { true, true, true, true, true, true, true, true, true, true, false, true }, 1, 5)
ok(#steps == 2 and steps[1].t == 5 and steps[1].d == 5 and steps[2].t == 10 and steps[2].d == 6
  and steps[2].c == 1, "steps merged forward to 5 patients, the short tail merged back")
ok(km.math.station_steps({ 1, 2 }, { true, true }, 1, 5) == nil, "a group under m patients is not released")
ok(km.math.grid(31, 30) == 60 and km.math.grid(30, 30) == 30 and km.math.grid(0, 30) == 0,
  "times coarsen up to the grid")
-- R: survfit(Surv(1:7, c(0,0,1,1,0,1,1)) ~ 1, conf.type = "log-log"):
-- median 6, lower 3, upper NA; surv at 6 = 0.3, lower 0.01230153
local c = km.math.curve({ { t = 1, d = 0, c = 1 }, { t = 2, d = 0, c = 1 }, { t = 3, d = 1, c = 0 },
  { t = 4, d = 1, c = 0 }, { t = 5, d = 0, c = 1 }, { t = 6, d = 1, c = 0 }, { t = 7, d = 1, c = 0 } }, 0.95)
ok(c.median == 6 and c.median_lower == 3 and c.median_upper == nil, "median 6 (3, NA) as quantile.survfit")
near(c.table[6].surv, 0.3, 1e-15, "surv at 6")
near(c.table[6].lower, 0.01230153, 1e-6, "log-log lower at 6")
ok(c.table[1].lower == nil and c.table[7].lower == nil, "no interval where surv is 1 or 0 (R: NA)")
-- log-rank on two identical groups: chisq 0
local g = { { t = 1, d = 1, c = 0 }, { t = 2, d = 1, c = 1 } }
local lr = km.math.logrank({ g, g })
ok(lr and math.abs(lr.chisq) < 1e-15 and lr.df == 1, "log-rank of identical groups is 0 on 1 df")

-- GLM families (R: binomial()$linkinv(40) = 1 - 2.2e-16 clamp; mu.eta
-- floor DBL_EPSILON beyond |eta| > 30)
local fam = glm.math.families
ok(fam.binomial.linkinv(40) < 1 and fam.binomial.mu_eta(40) == 2.220446049250313e-16,
  "binomial link clamps as R's C code")
near(fam.poisson.dev(0, 2), 4, 1e-15, "poisson deviance at y = 0 is 2 mu")

-- summary: moments pooled exactly (1..10: mean 5.5, sd sqrt(55/6))
local pooled = summary.math.pool({ summary.math.moments({ 1, 2, 3, 4 }), summary.math.moments({ 5, 6, 7, 8, 9, 10 }) })
near(pooled.mean, 5.5, 1e-15, "pooled mean")
near(pooled.sd, math.sqrt(55 / 6), 1e-14, "pooled sd")
local hc, below, above = summary.math.histogram({ -1, 0, 9.99, 10, 25, 30 }, 0, 30, 10)
ok(below == 1 and above == 1 and hc[1] == 2 and hc[2] == 1 and hc[3] == 1, "histogram bins [0,10) [10,20) [20,30)")

-- outcomes: a proportion is released only when both parts are 0 or >= k
ok(outcomes.math.proportion(3, 20, 5).suppressed, "3 of 20 is suppressed")
ok(outcomes.math.proportion(0, 20, 5).num == 0, "0 of 20 is released")
ok(outcomes.math.proportion(17, 20, 5).suppressed, "17 of 20 is suppressed (3 non-events)")

-- the station-side round cap refuses, whatever the params say
local function fake_data()
  local cols = {
    time = { type = "integer" }, status = { type = "boolean" }, x = { type = "number" } }
  for i = 1, 30 do
    cols.time[i] = i
    cols.status[i] = (i % 3 ~= 0)
    cols.x[i] = (i * 7) % 11
  end
  return { column = function(_, name) return cols[name] end, nrows = function() return 30 end }
end
local okc, err = pcall(cox.station, fake_data(), { time = "time", event = "status", covariates = { "x" } }, 23)
ok(not okc and err == "refused: round 23 exceeds the cap of 22 rounds", "cox station refuses round 23",
  tostring(err))
local okg, errg = pcall(glm.station, fake_data(), { family = "gaussian", outcome = "time", covariates = { "x" } }, 28)
ok(not okg and errg == "refused: round 28 exceeds the cap of 27 rounds", "glm station refuses round 28",
  tostring(errg))
local okk, errk = pcall(km.station, fake_data(), { time = "time", event = "status", interval = 5 }, 2)
ok(not okk and errk == "refused: km answers one round only", "km answers one round only", tostring(errk))

print("1.." .. n)
os.exit(failed == 0 and 0 or 1)
