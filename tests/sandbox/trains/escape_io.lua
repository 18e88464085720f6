-- escape_io: hostile train for the sandbox suite.
-- expect: train attempt to index a nil value (global 'io')
return {
  name = "escape_io", version = "1",
  station = function(data, params, round)
    return io.open("/etc/passwd"):read("a")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
