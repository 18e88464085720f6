-- escape_collectgarbage: hostile train for the sandbox suite.
-- expect: train only "count" is allowed
return {
  name = "escape_collectgarbage", version = "1",
  station = function(data, params, round)
    collectgarbage("stop")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
