-- histogram.lua — attack: a histogram with an edge the analyst moves (params.edges as given to data:histogram(params.column, edges)).
return {
  name = "histogram", version = "1",
  station = function(data, params)
    return { h = data:histogram(params.column, params.edges), n = data:column(params.column):count() }
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
