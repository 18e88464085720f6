-- loop_filter: hostile train for the sandbox suite.
-- expect: limit instruction budget of 1000000 exceeded
return {
  name = "loop_filter", version = "1",
  station = function(data, params, round)
    while true do
      pcall(data.filter, data, function(row) while true do end end)
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
