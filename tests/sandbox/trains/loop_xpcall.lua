-- loop_xpcall: hostile train for the sandbox suite.
-- expect: limit instruction budget of 1000000 exceeded
return {
  name = "loop_xpcall", version = "1",
  station = function(data, params, round)
    while true do
      xpcall(function() while true do end end, function(e) while true do end end)
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
