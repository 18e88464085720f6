-- escape_loadfile: hostile train for the sandbox suite.
-- expect: train attempt to call a nil value (global 'loadfile')
return {
  name = "escape_loadfile", version = "1",
  station = function(data, params, round)
    return loadfile("/etc/passwd")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
