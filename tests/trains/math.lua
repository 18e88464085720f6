-- math.lua — unit tests (TAP) of the standard trains' math at the analyst
-- and of their shared library, run by stock lua5.4 on the trains as
-- `pht train assemble` assembles them (what is signed and run):
--   lua5.4 math.lua PHT_SRC PHT
-- Known answers are R's (stats and survival, quoted with the call that
-- gives them) or worked by hand.
local src = arg[1] or os.getenv("PHT_SRC") or "."
local pht = arg[2] or os.getenv("PHT") or "pht"
local std = src .. "/trains/std/"
local lib = src .. "/trains/lib/"
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

local function read(path)
  local f = assert(io.open(path))
  local text = f:read("a")
  f:close()
  return text
end

local NAMES = { "count", "crosstab", "summary", "km", "cox", "glm", "outcomes" }

local function load_train(name)
  local p = assert(io.popen("'" .. pht .. "' train assemble '" .. std .. name .. ".lua'"))
  local text = p:read("a")
  local good = p:close()
  ok(good and #text > 0, name .. ".lua assembles")
  local chunk, err = load(text, "=" .. name .. ".lua", "t")
  local t = chunk and chunk()
  ok(type(t) == "table" and t.name == name and type(t.version) == "string" and type(t.params) == "table"
    and type(t.station) == "function" and type(t.combine) == "function",
    name .. ".lua returns name, version, params, station and combine", err)
  return t or {}, text
end

local trains, texts = {}, {}
for _, name in ipairs(NAMES) do trains[name], texts[name] = load_train(name) end
local cox, glm, km = trains.cox, trains.glm, trains.km
local summary, outcomes = trains.summary, trains.outcomes

-- every train documents its output in its header comment and declares
-- its params and what a station releases in its table (one copy: the
-- header points to the declaration, pht train describe prints it)
local PARAM_FIELDS = { name = true, type = true, doc = true, required = true, default = true,
  column_types = true, values = true, min = true, max = true, set_by = true, empty = true,
  only_with = true }
for _, name in ipairs(NAMES) do
  local header = read(std .. name .. ".lua"):match("^%-%-%[%[(.-)%]%]")
  ok(header and header:find("Output") and header:find("declared in TRAIN below", 1, true)
    and not header:find("\nParams\n") and not header:find("What a station releases", 1, true),
    name .. ".lua documents its output and points to its declaration for params and releases")
  local t, good, why = trains[name], #trains[name].params > 0, nil
  for i, p in ipairs(t.params) do
    if type(p) ~= "table" or type(p.name) ~= "string" or type(p.type) ~= "string" or type(p.doc) ~= "string" then
      good, why = false, "params[" .. i .. "] lacks a name, type or doc"
    end
    for key in pairs(type(p) == "table" and p or {}) do
      if not PARAM_FIELDS[key] then good, why = false, "params[" .. i .. "]." .. key end
    end
  end
  ok(good and type(t.releases) == "string" and #t.releases > 100,
    name .. ".lua declares each param (name, type, doc) and what a station releases", why)
end

-- shared code is written once: no helper (function X.name) is defined in
-- two source files, and no train carries a copied block
local files = {}
for _, name in ipairs(NAMES) do files[#files + 1] = std .. name .. ".lua" end
local p = assert(io.popen("ls '" .. lib .. "'"))
for f in p:lines() do if f:match("%.lua$") then files[#files + 1] = lib .. f end end
p:close()
local defined, twice = {}, {}
for _, path in ipairs(files) do
  local text = read(path)
  for fname in text:gmatch("\nfunction ([%a_][%w_]*%.[%w_]+)%(") do
    if defined[fname] then twice[#twice + 1] = fname .. " in " .. defined[fname] .. " and " .. path end
    defined[fname] = path
  end
  ok(not text:find("shared block", 1, true), path:match("[^/]+/[^/]+$") .. " carries no copied shared block")
end
ok(#twice == 0, "every helper is defined in one file only", table.concat(twice, "; "))
ok(defined["S.qnorm"] and defined["L.chol"] and defined["E.column"] and defined["KM.curve"] and defined["T.pool"],
  "the library defines S, L, E, KM and T")

-- no standard train reaches for a row: the removed calls appear nowhere
for _, path in ipairs(files) do
  local text = read(path):gsub("%-%-[^\n]*", "")
  local bad = text:match(":values%(") or text:match(":filter%(") or text:match(":order%(") or
    text:match(":min%(%)") or text:match(":max%(%)")
  ok(not bad, path:match("[^/]+/[^/]+$") .. " uses no row-level call", tostring(bad))
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

-- Cox at the analyst: the first Newton step from beta = 0 with score 1/6
-- and information 17/36 (the stratum worked by hand in tests/model) is
-- I^-1 U = 6/17; the score test U' I^-1 U = 1/17.
local _, st = cox.math.step({ iter = 0, halving = false }, -math.log(6), { 1 / 6 }, { 17 / 36 }, 1, { "x" }, 20, 1e-9)
near(st.newbeta[1], 6 / 17, 1e-15, "Cox: first Newton step from beta = 0")
near(st.score_chisq, 1 / 17, 1e-15, "Cox: score test at beta = 0")

-- Kaplan-Meier at the analyst (the stations' steps come from the km kernel)
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

-- GLM links named as R names them
ok(glm.math.links.binomial == "logit" and glm.math.links.poisson == "log" and glm.math.links.gaussian == "identity",
  "glm links: logit, log, identity")

-- summary: moments pooled exactly from n, sum and variance (1..10: mean
-- 5.5, sd sqrt(55/6); var(1:4) = 5/3, var(5:10) = 3.5)
local pooled = summary.math.pool({ { n = 4, sum = 10, var = 5 / 3 }, { n = 6, sum = 45, var = 3.5 } })
near(pooled.mean, 5.5, 1e-15, "pooled mean")
near(pooled.sd, math.sqrt(55 / 6), 1e-14, "pooled sd")
local one = summary.math.pool({ { n = 1, sum = 3 }, { n = 2, sum = 2, var = 0 } })
near(one.sd, math.sqrt(4 / 3), 1e-15, "pooled sd with a piece of one value (no variance): 3 and 1, 1 -> sd sqrt(4/3)")

-- complementary suppression: while the suppressed cells hold 0 < n < k
-- rows together (the total minus the released cells), the smallest
-- released non-zero cell is suppressed too
local comp = summary.math.complement
local cells = comp({ { count = 9 }, { suppressed = true }, { count = 6 }, { count = 0 } }, 17, 5)
ok(cells[3].suppressed and cells[3].count == nil and cells[1].count == 9 and cells[4].count == 0,
  "one suppressed cell of 2: the smallest non-zero other (6) is suppressed too")
cells = comp({ { suppressed = true }, { suppressed = true }, { count = 3 }, { count = 8 } }, 14, 5)
ok(cells[3].suppressed and cells[4].count == 8,
  "two suppressed cells of 3 rows together: still under k, the 3 goes too (6 rows)")
cells = comp({ { suppressed = true }, { suppressed = true }, { count = 9 } }, 15, 5)
ok(cells[3].count == 9, "two suppressed cells of 6 rows together: nothing more")
cells = comp({ { count = 7 }, { count = 5 } }, 12, 5)
ok(cells[1].count == 7 and cells[2].count == 5, "no suppressed cell: nothing suppressed")
cells = comp({ { suppressed = true }, { count = 0 } }, 3, 5)
ok(cells[2].count == 0, "nothing non-zero left to suppress: zeros stay")

-- outcomes: a proportion is released only when both parts are 0 or >= k
ok(outcomes.math.proportion(3, 20, 5).suppressed, "3 of 20 is suppressed")
ok(outcomes.math.proportion(0, 20, 5).num == 0, "0 of 20 is released")
ok(outcomes.math.proportion(17, 20, 5).suppressed, "17 of 20 is suppressed (3 non-events)")

-- the station-side round cap and round 1's fixed start refuse before any
-- data is read, whatever the params say
local function fake_data()
  local cols = { time = { type = "integer" }, status = { type = "boolean" }, x = { type = "number" } }
  return { column = function(_, name) return cols[name] end, k = function() return 5 end }
end
local okc, err = pcall(cox.station, fake_data(), { time = "time", event = "status", covariates = { "x" } }, 23)
ok(not okc and err == "refused: round 23 exceeds the cap of 22 rounds", "cox station refuses round 23",
  tostring(err))
local okg, errg = pcall(glm.station, fake_data(), { family = "gaussian", outcome = "time", covariates = { "x" } }, 28)
ok(not okg and errg == "refused: round 28 exceeds the cap of 27 rounds", "glm station refuses round 28",
  tostring(errg))
local okb, errb = pcall(cox.station, fake_data(), { time = "time", event = "status", covariates = { "x" }, beta = { 30 } }, 1)
ok(not okb and errb == "beta: set by combine between rounds; round 1 starts from the values the train fixes",
  "cox refuses an analyst's beta in round 1", tostring(errb))
local okn, errn = pcall(glm.station, fake_data(), { family = "gaussian", outcome = "time", covariates = { "x" },
  nullmu = 2 }, 1)
ok(not okn and errn == "nullmu: set by combine between rounds; round 1 starts from the values the train fixes",
  "glm refuses an analyst's nullmu in round 1", tostring(errn))

-- a restarted iteration (a station dropped out): its first round is fixed
-- like round 1, its cap counts from the restart, and a start the round has
-- not reached is refused
local COXP = { time = "time", event = "status", covariates = { "x" } }
local function with(t, extra)
  local c = {}
  for key, v in pairs(t) do c[key] = v end
  for key, v in pairs(extra) do c[key] = v end
  return c
end
local ok1, e1 = pcall(cox.station, fake_data(), with(COXP, { beta = { 30 },
  iteration = { start = 5, stations = { "a" }, dropped = {} } }), 5)
ok(not ok1 and e1 == "beta: set by combine between rounds; round 5 restarts the iteration from the values the train fixes",
  "cox refuses a beta in the first round of a restarted iteration", tostring(e1))
local ok2, e2 = pcall(glm.station, fake_data(), { family = "gaussian", outcome = "time", covariates = { "x" },
  nullmu = 2, iteration = { start = 3, stations = { "a" }, dropped = {} } }, 3)
ok(not ok2 and e2 == "nullmu: set by combine between rounds; round 3 restarts the iteration from the values the train fixes",
  "glm refuses a nullmu in the first round of a restarted iteration", tostring(e2))
local ok3, e3 = pcall(cox.station, fake_data(), with(COXP, { iteration = { start = 4 } }), 26)
ok(not ok3 and e3 == "refused: round 26 exceeds the cap of 22 rounds of the iteration restarted at round 4",
  "cox counts its round cap from the restart", tostring(e3))
local ok4, e4 = pcall(cox.station, fake_data(), with(COXP, { iteration = { start = 7 } }), 5)
ok(not ok4 and e4 == "iteration: start must be an integer round from 1 to the current round 5",
  "an iteration starting after the current round is refused", tostring(e4))
local ok5, e5 = pcall(cox.station, fake_data(), with(COXP, { iteration = { start = 1 } }), 1)
ok(not ok5 and e5 == "iteration: set by combine between rounds; round 1 starts from the values the train fixes",
  "an iteration record in round 1 is refused", tostring(e5))

-- at the analyst: a round whose results lack a station of the iteration is
-- not used; combine returns the params of a restart on the others
local res = { { names = { "x" } }, { names = { "x" } }, stations = { "a", "b" } }
local it3 = { start = 1, stations = { "a", "b", "c" }, dropped = {} }
local r1 = cox.combine(res, with(COXP, { iteration = it3, beta = { 0.5 }, state = { iter = 2 } }), 3)
local ip = r1.params and r1.params.iteration
ok(r1.done == false and r1.params.beta == nil and r1.params.state == nil and r1.params.time == "time"
  and ip.start == 4 and #ip.stations == 2 and ip.stations[1] == "a" and ip.stations[2] == "b"
  and #ip.dropped == 1 and ip.dropped[1].id == "c" and ip.dropped[1].round == 3,
  "cox: c missing from round 3's results: restart at round 4 on a and b, beta and state dropped, c named")
local r2 = glm.combine(res, { family = "gaussian", outcome = "y", covariates = { "x" }, iteration = it3,
  beta = { 1, 2 }, nullmu = 3, state = { iter = 1 } }, 2)
ok(r2.done == false and r2.params.beta == nil and r2.params.nullmu == nil and r2.params.state == nil
  and r2.params.iteration.start == 3, "glm: the same restart, nullmu dropped too")
local ok6, e6 = pcall(cox.combine, { { names = { "x" } }, stations = { "d" } },
  with(COXP, { iteration = { start = 1, stations = { "a" }, dropped = {} } }), 2)
ok(not ok6 and e6 == "station d answered round 2 but not round 1, where the iteration started",
  "a station the iteration did not start with is an error", tostring(e6))
local okk, errk = pcall(km.station, fake_data(), { time = "time", event = "status", interval = 5 }, 2)
ok(not okk and errk == "refused: km answers one round only", "km answers one round only", tostring(errk))

print("1.." .. n)
os.exit(failed == 0 and 0 or 1)
