-- mem_rep_grow: hostile train for the sandbox suite: a string.rep bomb
-- doubling its string, caught by pcall and started again.
-- expect: limit memory cap of 33554432 bytes exceeded
-- limits: instructions=2000000000 wall=20
return {
  name = "mem_rep_grow", version = "1",
  station = function(data, params, round)
    while true do
      pcall(function() local s = "x" while true do s = string.rep(s, 2) end end)
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
