-- loop_recurse_pcall: hostile train for the sandbox suite: the stack
-- overflow of a deep recursion caught by pcall, again and again.
-- expect: limit instruction budget of 1000000 exceeded
-- limits: memory_mb=256 wall=20
return {
  name = "loop_recurse_pcall", version = "1",
  station = function(data, params, round)
    local function f(n) return f(n + 1) + 1 end
    while true do pcall(f, 1) end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
