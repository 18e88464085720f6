-- escape_dump: hostile train for the sandbox suite.
-- expect: train attempt to call a nil value (field 'dump')
return {
  name = "escape_dump", version = "1",
  station = function(data, params, round)
    return load(string.dump(function() return 1 end))()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
