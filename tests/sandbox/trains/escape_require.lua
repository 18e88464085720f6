-- escape_require: hostile train for the sandbox suite.
-- expect: train attempt to call a nil value (global 'require')
return {
  name = "escape_require", version = "1",
  station = function(data, params, round)
    return require("os")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
