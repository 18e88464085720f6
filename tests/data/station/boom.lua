-- boom.lua — a train whose station function raises an error (station tests).
return {
  name = "boom", version = "1.0.0",
  station = function(data, params, round) error("boom: deliberate failure", 0) end,
  combine = function(results, params, round) return { done = true, result = {} } end,
}
