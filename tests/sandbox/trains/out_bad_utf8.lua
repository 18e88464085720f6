-- out_bad_utf8: hostile train for the sandbox suite.
-- expect: disclosure output.s: string is not valid UTF-8
return {
  name = "out_bad_utf8", version = "1",
  station = function(data, params, round)
    return {s = "\255\254"}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
