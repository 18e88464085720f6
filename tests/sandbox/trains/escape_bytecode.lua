-- escape_bytecode: hostile train for the sandbox suite.
-- expect: train attempt to load a binary chunk (mode is 't')
return {
  name = "escape_bytecode", version = "1",
  station = function(data, params, round)
    local f, e = load("\27Lua\84\0\25\147\13\10\26\10\4\8\8")
    error(e, 0)
  end,
  combine = function(results) return {done = true, result = 0} end,
}
