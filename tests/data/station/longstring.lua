-- longstring.lua — a train whose output holds one long string (over a
-- station's max_string cap of 256, under the runtime's byte cap).
return {
  name = "longstring", version = "1.0.0",
  station = function(data, params, round) return { text = string.rep("x", 300) } end,
  combine = function(results, params, round) return { done = true, result = results[1] } end,
}
