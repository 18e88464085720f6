-- km_grid.lua — attack: the Kaplan-Meier kernel asked for a grid finer than a day and one patient per step (params.args as given to data:km).
return {
  name = "km_grid", version = "1",
  station = function(data, params)
    return { km = data:km(params.args) }
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
