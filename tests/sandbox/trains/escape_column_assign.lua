-- escape_column_assign: hostile train for the sandbox suite.
-- expect: train attempt to index a pht.column value
return {
  name = "escape_column_assign", version = "1",
  station = function(data, params, round)
    local c = data:column("age")
    c.sum = function() return 0 end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
