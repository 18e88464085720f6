-- out_cycle: hostile train for the sandbox suite.
-- expect: disclosure output.self: cycle: the table contains itself
return {
  name = "out_cycle", version = "1",
  station = function(data, params, round)
    local t = {}
    t.self = t
    return t
  end,
  combine = function(results) return {done = true, result = 0} end,
}
