-- escape_package: hostile train for the sandbox suite.
-- expect: train attempt to index a nil value (global 'package')
return {
  name = "escape_package", version = "1",
  station = function(data, params, round)
    return package.loaded.os
  end,
  combine = function(results) return {done = true, result = 0} end,
}
