-- tiny_chain: hostile train for the sandbox suite.
-- expect: disclosure subset smaller than k (4 rows, k = 5)
return {
  name = "tiny_chain", version = "1",
  station = function(data, params, round)
    local v = data:where("id", "<=", 100):where("id", ">", 96)
    return #v:column("age")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
