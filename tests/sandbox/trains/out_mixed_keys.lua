-- out_mixed_keys: hostile train for the sandbox suite.
-- expect: disclosure output: table mixes integer and string keys
return {
  name = "out_mixed_keys", version = "1",
  station = function(data, params, round)
    return {1, 2, x = 3}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
