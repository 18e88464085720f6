-- loop_xpcall_handler_error: hostile train for the sandbox suite.
-- expect: limit instruction budget of 1000000 exceeded
return {
  name = "loop_xpcall_handler_error", version = "1",
  station = function(data, params, round)
    while true do
      xpcall(function() while true do end end, function(e) error(e) end)
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
