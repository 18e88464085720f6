-- loop_tbc: hostile train for the sandbox suite.
-- expect: limit instruction budget of 1000000 exceeded
return {
  name = "loop_tbc", version = "1",
  station = function(data, params, round)
    while true do
      pcall(function()
        local x <close> = setmetatable({}, {__close = function() while true do end end})
        while true do end
      end)
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
