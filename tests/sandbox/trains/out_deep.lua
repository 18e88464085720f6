-- out_deep: hostile train for the sandbox suite.
-- expect: disclosure tables nested deeper than 60 levels
return {
  name = "out_deep", version = "1",
  station = function(data, params, round)
    local t = {}
    local cur = t
    for i = 1, 100 do cur.x = {} cur = cur.x end
    return t
  end,
  combine = function(results) return {done = true, result = 0} end,
}
