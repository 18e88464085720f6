-- out_huge_array: hostile train for the sandbox suite.
-- expect: disclosure more than 100000 numeric values
-- limits: instructions=2000000000
return {
  name = "out_huge_array", version = "1",
  station = function(data, params, round)
    local t = {}
    for i = 1, 200000 do t[i] = i end
    return t
  end,
  combine = function(results) return {done = true, result = 0} end,
}
