-- slow_find: hostile train for the sandbox suite.
-- expect: limit wall-clock limit of 2 s exceeded
-- limits: wall=2
return {
  name = "slow_find", version = "1",
  station = function(data, params, round)
    local s = string.rep("a", 20000)
    return {string.find(s, string.rep("a*", 30) .. "b")}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
