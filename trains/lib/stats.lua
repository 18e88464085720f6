-- lib/stats.lua — distributions for the standard trains' tests and intervals: log Gamma,
-- the normal, chi-squared and t tail probabilities, the normal quantile.
-- Defines S. Included with --#include "lib/stats.lua" (docs/std-trains.md).
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
