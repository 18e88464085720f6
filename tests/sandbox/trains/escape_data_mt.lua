-- escape_data_mt: hostile train for the sandbox suite.
-- expect: train attempt to index a boolean value
return {
  name = "escape_data_mt", version = "1",
  station = function(data, params, round)
    local mt = getmetatable(data)
    return mt.__index
  end,
  combine = function(results) return {done = true, result = 0} end,
}
