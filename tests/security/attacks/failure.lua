-- failure.lua — attack: a yes/no question about one row answered by how the run ends, not by its output.
-- params.mode:
--   "guard":    uses the view of the rows with params.column > params.c; the station's small-subset
--               guard ends the run when 0 < rows < k, so released vs failed says whether the largest
--               value lies above c;
--   "guard_shift": the same through a derived comparison, (column - params.shift) > params.c;
--   "category": asks "is the three-set difference of params.sets above c?" (one patient's value when
--               the sets are S1 = {p} u A u B, S2 = A, S3 = B) and answers by failing on the memory cap
--               (yes) or with a train error (no); nothing is returned either way;
--   "outcome":  the same question answered by releasing {} (yes) or failing (no);
--   "metadata": the same question answered by failing with one message or another, each worded as
--               an error that depends on metadata alone (a column not in the dictionary, a missing
--               param), which a station tells precisely when the run read no data.
local function diff3(data, sets, col)
  local s = {}
  for i, set in ipairs(sets) do
    s[i] = data:where(set.column, "in", set.values):column(col):sum()
  end
  return s[1] - s[2] - s[3]
end

return {
  name = "failure", version = "1",
  station = function(data, params)
    if params.mode == "guard" then
      local n = data:where(params.column, ">", params.c):nrows()
      return { n = n > 0 and "some" or "none" }
    end
    if params.mode == "guard_shift" then
      local n = data:where((data:column(params.column) - params.shift):gt(params.c)):nrows()
      return { n = n > 0 and "some" or "none" }
    end
    local yes = diff3(data, params.sets, params.column) > params.c
    if params.mode == "outcome" then
      if yes then return {} end
      error("no", 0)
    end
    if params.mode == "metadata" then
      if yes then error("params: by: column 'cost' is not in dataset reg; did you mean 'cost2'?", 0) end
      error("params: missing param 'by' (required)", 0)
    end
    if yes then
      local t = {}
      for i = 1, 1e9 do t[i] = string.rep("x", 64) .. i end
      return { len = #t }
    end
    error("no", 0)
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
