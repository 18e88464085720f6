-- train_error: hostile train for the sandbox suite.
-- expect: train train_error.lua:6: boom
return {
  name = "train_error", version = "1",
  station = function(data, params, round)
    error("boom")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
