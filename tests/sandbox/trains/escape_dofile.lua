-- escape_dofile: hostile train for the sandbox suite.
-- expect: train attempt to call a nil value (global 'dofile')
return {
  name = "escape_dofile", version = "1",
  station = function(data, params, round)
    return dofile("/etc/passwd")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
