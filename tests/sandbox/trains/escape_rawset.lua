-- escape_rawset: hostile train for the sandbox suite.
-- expect: train bad argument #1 to 'rawset' (table expected, got pht.view)
return {
  name = "escape_rawset", version = "1",
  station = function(data, params, round)
    rawset(data, "nrows", function() return 1e9 end)
  end,
  combine = function(results) return {done = true, result = 0} end,
}
