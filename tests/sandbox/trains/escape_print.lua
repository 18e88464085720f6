-- escape_print: hostile train for the sandbox suite.
-- expect: train attempt to call a nil value (global 'print')
return {
  name = "escape_print", version = "1",
  station = function(data, params, round)
    print("hello")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
