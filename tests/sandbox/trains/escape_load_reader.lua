-- escape_load_reader: hostile train for the sandbox suite.
-- expect: train attempt to load a binary chunk (mode is 't')
return {
  name = "escape_load_reader", version = "1",
  station = function(data, params, round)
    local parts, i = {"\27Lua", "T\0"}, 0
    local f, e = load(function() i = i + 1 return parts[i] end, "x", "bt")
    error(e, 0)
  end,
  combine = function(results) return {done = true, result = 0} end,
}
