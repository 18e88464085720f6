-- loop_error_retry: hostile train for the sandbox suite.
-- expect: limit instruction budget of 1000000 exceeded
return {
  name = "loop_error_retry", version = "1",
  station = function(data, params, round)
    local n = 0
    while true do
      local ok, e = pcall(function() for i = 1, 1e12 do n = n + 1 end end)
      n = 0
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
