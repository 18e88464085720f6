-- escape_row_keep: hostile train for the sandbox suite.
-- expect: train row used outside its filter() call
return {
  name = "escape_row_keep", version = "1",
  station = function(data, params, round)
    local kept
    data:filter(function(row) kept = row return false end)
    return kept.age
  end,
  combine = function(results) return {done = true, result = 0} end,
}
