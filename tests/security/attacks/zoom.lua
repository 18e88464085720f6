-- zoom.lua — attack: the histogram kernel on a derived column shifted by the analyst (cost - params.shift), so that a grid relative to the values' magnitude gets finer around one patient.
return {
  name = "zoom", version = "1",
  station = function(data, params)
    local d = data:with{ x = data:column("cost") - params.shift }
    return { h = d:histogram("x", params.edges), n = d:column("x"):count() }
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
