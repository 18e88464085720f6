-- out_deep_cycle: hostile train for the sandbox suite.
-- expect: disclosure output.a.b[1]: cycle
return {
  name = "out_deep_cycle", version = "1",
  station = function(data, params, round)
    local t = {a = {b = {}}}
    t.a.b[1] = t.a
    return t
  end,
  combine = function(results) return {done = true, result = 0} end,
}
