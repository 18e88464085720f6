-- gen_edge.lua — writes the small datasets of the edge-case tests (edge.sh)
-- into DIR: lua5.4 gen_edge.lua DIR. Deterministic (a fixed LCG), so every
-- run writes the same files.
local dir = assert(arg[1], "usage: gen_edge.lua DIR")
local state = 12345
local function rand() -- uniform (0, 1)
  state = (state * 1103515245 + 12345) % 2147483648
  return (state + 0.5) / 2147483648
end

local function write(name, cols, rows)
  local f = assert(io.open(dir .. "/" .. name .. ".csv", "w"))
  local names = {}
  for i, c in ipairs(cols) do names[i] = c.name end
  f:write(table.concat(names, ","), "\n")
  for _, r in ipairs(rows) do
    local cells = {}
    for i, c in ipairs(cols) do
      local v = r[c.name]
      if v == nil then cells[i] = "NA"
      elseif c.type == "boolean" then cells[i] = v and "1" or "0"
      elseif c.type == "number" then cells[i] = string.format("%.17g", v)
      else cells[i] = tostring(v) end
    end
    f:write(table.concat(cells, ","), "\n")
  end
  f:close()
  local d = assert(io.open(dir .. "/" .. name .. ".dict.json", "w"))
  local parts = {}
  for i, c in ipairs(cols) do
    local lv = ""
    if c.levels then lv = ',"levels":["' .. table.concat(c.levels, '","') .. '"]' end
    parts[i] = string.format('{"name":"%s","type":"%s"%s}', c.name, c.type, lv)
  end
  d:write('{"dataset":"', name, '","columns":[', table.concat(parts, ","), "]}\n")
  d:close()
end

local COLS = {
  { name = "time", type = "integer" },
  { name = "status", type = "boolean" },
  { name = "x1", type = "number" },
  { name = "x2", type = "number" },
  { name = "grp", type = "category", levels = { "a", "b", "c" } },
  { name = "flag", type = "boolean" },
  { name = "y", type = "number" },
  { name = "code", type = "integer" },
}

-- n rows of survival-and-regression data; opts: events (false = none),
-- levels (which grp levels occur), nmissing (x1 missing in the first rows),
-- flag_ones (how many rows have flag = 1, default about half)
local function rows(n, opts)
  local out = {}
  for i = 1, n do
    local x1 = rand() * 4 - 2
    local lv = opts.levels[(i - 1) % #opts.levels + 1]
    local hz = math.exp(0.5 * x1 + (lv == "b" and 0.4 or lv == "c" and -0.3 or 0))
    local t = math.floor(-math.log(rand()) / hz * 100) + 1
    local c = math.floor(rand() * 120) + 1
    local r = { time = math.min(t, c), status = t <= c, x1 = x1, x2 = rand() * 10, grp = lv,
      flag = (opts.flag_ones and i <= opts.flag_ones) or (not opts.flag_ones and rand() < 0.5),
      code = (t <= c) and 2 or 1 }
    r.y = 1 + 2 * x1 + (lv == "b" and 1 or 0) + rand()
    if opts.events == false then r.status = false; r.code = 1 end
    if opts.nmissing and i <= opts.nmissing then r.x1 = nil end
    out[i] = r
  end
  return out
end

local abc = { "a", "b", "c" }
local a = rows(60, { levels = abc, nmissing = 6 })
local b = rows(50, { levels = { "a", "b" } })
local c = rows(40, { levels = abc, events = false })
write("st_a", COLS, a)
write("st_b", COLS, b)
write("st_c", COLS, c)
local ab = {}
for _, r in ipairs(a) do ab[#ab + 1] = r end
for _, r in ipairs(b) do ab[#ab + 1] = r end
write("st_ab", COLS, ab)

-- 2 events among 40 rows
local few = rows(40, { levels = abc, events = false })
few[1].status, few[2].status = true, true
write("few_events", COLS, few)

-- logistic separation: flag = (x1 > 0) exactly
local sep = rows(60, { levels = abc })
for _, r in ipairs(sep) do r.flag = r.x1 > 0 end
write("separated", COLS, sep)

-- collinear: x2 = 2 * x1 - 1 exactly
local col = rows(60, { levels = abc })
for _, r in ipairs(col) do r.x2 = 2 * r.x1 - 1 end
write("collinear", COLS, col)

-- five rows: too few for a model with two parameters (n < 3 x p)
write("five_rows", COLS, rows(5, { levels = abc }))

-- a binary covariate (flag) with 2 rows in its smaller class
write("rare_flag", COLS, rows(40, { levels = abc, flag_ones = 2 }))

-- a binary outcome (flag) with 3 ones
write("rare_outcome", COLS, rows(40, { levels = abc, flag_ones = 3 }))

-- x1 missing in 2 rows (fewer than k = 5): a model on x1 is refused
write("few_missing", COLS, rows(40, { levels = abc, nmissing = 2 }))

-- three rows in all (fewer than k = 5)
write("three_rows", COLS, rows(3, { levels = abc }))
