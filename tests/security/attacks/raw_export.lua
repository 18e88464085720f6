-- raw_export.lua — attack: hand every row's value to the analyst (col:values(), col[i]) for every column the train can name.
-- params.columns: extra column names to try (e.g. an identifier the dictionary hides).
local function try(f, ...)
  local ok, v = pcall(f, ...)
  if ok then return v end
  return nil
end

local function plain(v)
  if v == nil then return false end
  return v
end

return {
  name = "raw_export", version = "1",
  station = function(data, params)
    local out = { values = {}, index = {}, columns = {} }
    local names, seen = {}, {}
    for _, n in ipairs(try(data.columns, data) or {}) do
      names[#names + 1] = n; seen[n] = true; out.columns[#out.columns + 1] = n
    end
    for _, n in ipairs(params.columns or {}) do
      if not seen[n] then names[#names + 1] = n end
    end
    local nrows = data:nrows()
    for _, name in ipairs(names) do
      local col = try(data.column, data, name)
      if col ~= nil then
        local vals = try(function() return col:values() end)
        if type(vals) == "table" then
          local t = {}
          for i = 1, nrows do t[i] = plain(vals[i]) end
          out.values[name] = t
        end
        local t = {}
        for i = 1, nrows do
          local v = try(function() return col[i] end)
          if v ~= nil then t[#t + 1] = v end
        end
        if #t > 0 then out.index[name] = t end
      end
    end
    return out
  end,
  combine = function(results) return { done = true, result = results[1] } end,
}
