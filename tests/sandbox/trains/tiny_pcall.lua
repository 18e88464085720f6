-- tiny_pcall: hostile train for the sandbox suite.
-- expect: disclosure subset smaller than k (3 rows, k = 5)
return {
  name = "tiny_pcall", version = "1",
  station = function(data, params, round)
    local ok = pcall(function() return data:where("id", "<=", 3):nrows() end)
    return {ok = ok}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
