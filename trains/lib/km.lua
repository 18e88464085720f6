-- lib/km.lua — Kaplan-Meier at the analyst: pools the stations' released
-- steps and computes the curve, Greenwood errors, log-log intervals, the
-- median as R's quantile.survfit and the log-rank test as R's survdiff.
-- Defines KM; needs S (lib/stats.lua) and L (lib/linalg.lua) before it.
-- The stations' steps come from the data API's km kernel (data:km).
local KM = {}

-- Pools steps (lists of {t, d, c}) into one table ascending in time.
function KM.pool(list_of_steps)
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
function KM.findq(x, y, p, tol)
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
function KM.curve(steps, conf)
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
    median = KM.findq(x, y, 0.5, tol),
    median_lower = KM.findq(x, ylo, 0.5, tol),
    median_upper = KM.findq(x, yhi, 0.5, tol) }
end

-- The log-rank test (R's survdiff, rho = 0) over groups' pooled steps.
-- Returns {chisq, df, p, observed[], expected[]} or nil, reason.
function KM.logrank(group_steps)
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
-- The train
