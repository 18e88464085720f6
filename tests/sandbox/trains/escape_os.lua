-- escape_os: hostile train for the sandbox suite.
-- expect: train attempt to index a nil value (global 'os')
return {
  name = "escape_os", version = "1",
  station = function(data, params, round)
    return os.execute("id")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
