-- escape_setmetatable: hostile train for the sandbox suite.
-- expect: train bad argument #1 to 'setmetatable' (table expected, got pht.view)
return {
  name = "escape_setmetatable", version = "1",
  station = function(data, params, round)
    setmetatable(data, {})
  end,
  combine = function(results) return {done = true, result = 0} end,
}
