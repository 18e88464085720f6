-- escape_debug: hostile train for the sandbox suite.
-- expect: train attempt to index a nil value (global 'debug')
return {
  name = "escape_debug", version = "1",
  station = function(data, params, round)
    return debug.getregistry()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
