-- combine_bad_shape: combine must say whether it is done.
-- expect: train combine must return {done = true, result = ...} or {done = false, params = {...}}
-- mode: combine
return {
  name = "c", version = "1",
  station = function(data) return {n = data:nrows()} end,
  combine = function(results, params, round) return {result = results[1].n} end,
}
