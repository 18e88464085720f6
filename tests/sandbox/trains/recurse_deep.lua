-- recurse_deep: hostile train for the sandbox suite: unbounded recursion
-- ends with Lua's own stack overflow error (memory stays under the cap).
-- expect: train stack overflow
-- limits: instructions=2000000000 memory_mb=256 wall=20
return {
  name = "recurse_deep", version = "1",
  station = function(data, params, round)
    local function f(n) return f(n + 1) + 1 end
    return {f(1)}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
