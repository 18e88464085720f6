-- escape_string_mt: hostile train for the sandbox suite.
-- expect: train attempt to index a boolean value
return {
  name = "escape_string_mt", version = "1",
  station = function(data, params, round)
    getmetatable("").__index = {upper = function() return "pwned" end}
    return ("x"):upper()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
