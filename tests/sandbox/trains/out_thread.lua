-- out_thread: hostile train for the sandbox suite.
-- expect: disclosure output.co: thread is not plain data
return {
  name = "out_thread", version = "1",
  station = function(data, params, round)
    return {co = coroutine.create(function() end)}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
