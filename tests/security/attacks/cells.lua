-- cells.lua — attack: a count under k as the sum of a 0/1 column (readmitted patients of stage IV, a
-- crosstab cell that crosstab(stage, readmit) suppresses), through the data API instead of a table.
-- params.mode:
--   "sum":          the sum of params.flag over the rows of params.column in params.values;
--   "mean":         its mean there (with the view's row count, the same count);
--   "aggregate_by": aggregate_by(params.column, {params.flag}): the sum per group;
--   "product":      the sum of params.flag * 1 over those rows (a derived column of the flag).
return {
  name = "cells", version = "1",
  station = function(data, params)
    if params.mode == "aggregate_by" then
      local groups, total = data:aggregate_by(params.column, { params.flag })
      return { groups = groups, total = total }
    end
    local v = data:where(params.column, "in", params.values)
    local c = v:column(params.flag)
    if params.mode == "mean" then return { n = v:nrows(), mean = c:mean() } end
    if params.mode == "product" then return { sum = (c * 1):sum() } end
    return { sum = c:sum() }
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
