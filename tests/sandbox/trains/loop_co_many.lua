-- loop_co_many: hostile train for the sandbox suite: the work is spread
-- over many short coroutines, each finishing before the next starts.
-- expect: limit instruction budget of 1000000 exceeded
-- limits: wall=20
return {
  name = "loop_co_many", version = "1",
  station = function(data, params, round)
    while true do
      coroutine.wrap(function() local x = 0 for i = 1, 100 do x = x + i end end)()
    end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
