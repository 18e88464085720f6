-- samecoef.lua — checks that two model results (cox.lua or glm.lua JSON) hold
-- the same coefficients: benchmark 5, `pht run` against `pht sim`.
-- Usage: lua5.4 samecoef.lua A.json B.json KEY MAX_REL_DIFF
-- KEY is the coefficient's field ("coef" for Cox, "estimate" for GLM).
-- Prints the largest relative difference over all terms; exits 1 when a
-- term is missing from either side, when there is none, or when a
-- difference exceeds MAX_REL_DIFF.
local a_path, b_path, key, tol = arg[1], arg[2], arg[3], tonumber(arg[4])
if not (a_path and b_path and key and tol) then
  io.stderr:write("usage: lua5.4 samecoef.lua A.json B.json KEY MAX_REL_DIFF\n")
  os.exit(2)
end

local function coefs(p)
  local f = assert(io.open(p, "r"))
  local s = f:read("a")
  f:close()
  local out, n = {}, 0
  local list = s:match('"coefficients"%s*:%s*(%b[])')
  if not list then return out, 0 end
  for obj in list:gmatch("%b{}") do
    local name = obj:match('"name"%s*:%s*"([^"]*)"')
    local v = obj:match('"' .. key .. '"%s*:%s*([-%d.eE+]+)')
    if name and v then out[name] = tonumber(v); n = n + 1 end
  end
  return out, n
end

local a, na = coefs(a_path)
local b, nb = coefs(b_path)
if na == 0 or nb == 0 then
  io.stderr:write(string.format("samecoef: no coefficients in %s\n", na == 0 and a_path or b_path))
  os.exit(1)
end
local worst = 0
for name, x in pairs(a) do
  local y = b[name]
  if y == nil then
    io.stderr:write(string.format("samecoef: term %s of %s is missing from %s\n", name, a_path, b_path))
    os.exit(1)
  end
  local d = x == y and 0 or math.abs(x - y) / math.max(math.abs(y), 1e-300)
  worst = math.max(worst, d)
end
for name in pairs(b) do
  if a[name] == nil then
    io.stderr:write(string.format("samecoef: term %s of %s is missing from %s\n", name, b_path, a_path))
    os.exit(1)
  end
end
print(string.format("%.9g", worst))
if worst > tol then
  io.stderr:write(string.format("samecoef: %s and %s differ: largest relative difference %.3g > %g\n",
    a_path, b_path, worst, tol))
  os.exit(1)
end
