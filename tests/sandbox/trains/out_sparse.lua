-- out_sparse: hostile train for the sandbox suite.
-- expect: disclosure output: sparse array
return {
  name = "out_sparse", version = "1",
  station = function(data, params, round)
    return {[1] = 1, [3] = 3}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
