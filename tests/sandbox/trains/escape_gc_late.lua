-- escape_gc_late: hostile train for the sandbox suite.
-- expect: limit instruction budget of 1000000 exceeded
return {
  name = "escape_gc_late", version = "1",
  station = function(data, params, round)
    local mt = {}
    local t = setmetatable({}, mt)
    mt.__gc = function() while true do end end
    t = nil
    while true do local x = {} end
  end,
  combine = function(results) return {done = true, result = 0} end,
}
