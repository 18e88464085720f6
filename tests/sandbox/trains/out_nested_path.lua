-- out_nested_path: hostile train for the sandbox suite.
-- expect: disclosure output.groups[3].f: function is not plain data
return {
  name = "out_nested_path", version = "1",
  station = function(data, params, round)
    return {groups = {{a = 1}, {a = 2}, {f = function() end}}}
  end,
  combine = function(results) return {done = true, result = 0} end,
}
