-- combine_loop: the analyst side is sandboxed too.
-- expect: limit instruction budget of 1000000 exceeded
-- mode: combine
return {
  name = "c", version = "1",
  station = function(data) return {n = data:nrows()} end,
  combine = function(results, params, round) while true do pcall(error) end end,
}
