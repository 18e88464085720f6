-- escape_mode_b: hostile train for the sandbox suite.
-- expect: train attempt to load a binary chunk (mode is 't')
return {
  name = "escape_mode_b", version = "1",
  station = function(data, params, round)
    local f, e = load("\27LuaT", "x", "b", {})
    error(e, 0)
  end,
  combine = function(results) return {done = true, result = 0} end,
}
