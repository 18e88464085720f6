-- escape_gc: hostile train for the sandbox suite.
-- expect: train __gc metamethods are not allowed in the sandbox
return {
  name = "escape_gc", version = "1",
  station = function(data, params, round)
    setmetatable({}, {__gc = function() while true do end end})
    for i = 1, 1e6 do local t = {} end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
