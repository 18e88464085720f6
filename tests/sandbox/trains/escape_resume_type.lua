-- escape_resume_type: the checked coroutine.resume still checks its argument.
-- expect: train bad argument #1 to 'resume' (coroutine expected, got table)
return {
  name = "escape_resume_type", version = "1",
  station = function(data, params, round)
    return coroutine.resume({})
  end,
  combine = function(results) return {done = true, result = 0} end,
}
