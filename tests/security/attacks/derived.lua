-- derived.lua — attack: a derived column that is zero (or missing) outside a small group, aggregated over all rows (params.mode, params.c: the group is cost > c).
--   "times":  sum of cost * (cost > c)       (a boolean is 0/1 in arithmetic)
--   "ifelse": sum of (cost > c):ifelse(cost, 0)
--   "count":  sum of (cost > c) as 0/1, and the mean of it over all rows
--   "with":   the same indicator named by data:with{} and summed through aggregate{}
--   "shift":  sum of cost * (cost > c) + 1 (no zero anywhere), the analyst subtracts the row count
--   "softmax": sum of exp(cost * params.scale): its log / scale is the largest cost (no comparison at all)
--   "intersect": sum of cost * (age >= params.a) * (cost >= params.b): two predicates of k rows or more each
--               whose intersection is one patient
--   "km_event": data:km with the event (cost > c), derived
--   "union":    the sums of cost over A = (age >= a), B = (cost >= b) and the view where(A | B):
--               A + B - (A u B) is the sum over A n B
--   "quantile": the top quantile (a block mean of at least k values) of (cost > c):ifelse(cost, 0)
return {
  name = "derived", version = "1",
  station = function(data, params)
    local cost = data:column("cost")
    local big = cost:gt(params.c)
    if params.mode == "times" then
      return { sum = (cost * big):sum() }
    elseif params.mode == "ifelse" then
      return { sum = big:ifelse(cost, 0):sum() }
    elseif params.mode == "count" then
      local one = big:ifelse(1, 0)
      return { sum = one:sum(), mean = one:mean() }
    elseif params.mode == "shift" then
      return { sum = (cost * big + 1):sum(), n = data:nrows() }
    elseif params.mode == "softmax" then
      return { sum = (cost * params.scale):exp():sum() }
    elseif params.mode == "intersect" then
      local age = data:column("age")
      return { sum = (cost * age:ge(params.a) * cost:ge(params.b)):sum() }
    elseif params.mode == "union" then
      local age = data:column("age")
      local A, B = age:ge(params.a), cost:ge(params.b)
      return { a = (cost * A):sum(), b = (cost * B):sum(), u = data:where(A | B):column("cost"):sum() }
    elseif params.mode == "km_event" then
      local d = data:with{ big = big }
      return { km = d:km{ time = "os_days", event = "big", interval = 30 } }
    elseif params.mode == "quantile" then
      local d = data:with{ big_cost = big:ifelse(cost, 0) }
      local q, m = d:quantile("big_cost", 1)
      return { q = q, m = m }
    elseif params.mode == "with" then
      local d = data:with{ big_cost = big:ifelse(cost, 0) }
      return { sum = d:aggregate({ "big_cost" }).stats.big_cost.sum }
    end
    error("mode: unknown", 0)
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
