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
