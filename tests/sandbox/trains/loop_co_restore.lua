-- loop_co_restore: hostile train for the sandbox suite: coroutine.close
-- of a normal coroutine raises inside the wrapped close, then the
-- coroutine that called it spins; the thread the timer hooks must be
-- restored on that error path (else the spin is never stopped by the
-- budget).
-- expect: limit instruction budget of 1000000 exceeded
-- limits: wall=20
return {
  name = "loop_co_restore", version = "1",
  station = function(data, params, round)
    local co1
    co1 = coroutine.create(function()
      local co2 = coroutine.create(function()
        local ok = pcall(coroutine.close, co1)
        assert(not ok)
        while true do end
      end)
      coroutine.resume(co2)
    end)
    coroutine.resume(co1)
    return {}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
