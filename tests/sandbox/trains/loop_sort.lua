-- loop_sort: hostile train for the sandbox suite.
-- expect: limit instruction budget of 1000000 exceeded
return {
  name = "loop_sort", version = "1",
  station = function(data, params, round)
    local t = {}
    for i = 1, 100 do t[i] = i end
    while true do pcall(table.sort, t, function(a, b) while true do end end) end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
