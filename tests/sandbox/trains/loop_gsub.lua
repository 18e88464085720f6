-- loop_gsub: hostile train for the sandbox suite.
-- expect: limit instruction budget of 1000000 exceeded
return {
  name = "loop_gsub", version = "1",
  station = function(data, params, round)
    local s = string.rep("a", 1000)
    while true do
      pcall(string.gsub, s, "a", function() while true do end end)
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
