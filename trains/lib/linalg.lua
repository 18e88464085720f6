-- lib/linalg.lua — small dense linear algebra for the standard trains' combine steps.
-- Defines L. Symmetric matrices are flat arrays, element (i, j) at
-- (i - 1) * p + j.
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

-- The terms of the symmetric p x p matrix A (X'WX, an information matrix)
-- that are estimable, as R's glm and coxph choose them: term j is aliased
-- when its pivot in a Cholesky factorisation over the terms kept before
-- it is not positive or under 1e-9 of its diagonal (a constant term, or a
-- linear combination of earlier ones; the later of two collinear terms is
-- the one dropped). Returns keep and aliased, ascending index lists.
function L.aliased(A, p)
  local keep, aliased, col, diag = {}, {}, {}, {}
  for j = 1, p do
    local c, s = {}, A[(j - 1) * p + j]
    for a, k in ipairs(keep) do
      local t = A[(k - 1) * p + j]
      for b = 1, a - 1 do t = t - col[k][b] * c[b] end
      c[a] = t / diag[k]
      s = s - c[a] ^ 2
    end
    if s == s and s > 1e-9 * math.abs(A[(j - 1) * p + j]) then
      keep[#keep + 1] = j
      col[j], diag[j] = c, math.sqrt(s)
    else
      aliased[#aliased + 1] = j
    end
  end
  return keep, aliased
end

-- The rows and columns keep of the p x p matrix A, flat (#keep square).
function L.sub(A, p, keep)
  local q, S = #keep, {}
  for a = 1, q do
    for b = 1, q do S[(a - 1) * q + b] = A[(keep[a] - 1) * p + keep[b]] end
  end
  return S
end

-- The elements keep of v.
function L.pick(v, keep)
  local out = {}
  for a, j in ipairs(keep) do out[a] = v[j] end
  return out
end

-- x (one value per kept term) spread over p terms, 0 at the others.
function L.spread(x, keep, p)
  local out = L.zeros(p)
  for a, j in ipairs(keep) do out[j] = x[a] end
  return out
end
