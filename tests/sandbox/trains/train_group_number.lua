-- train_group_number: hostile train for the sandbox suite.
-- expect: train group_by: column age is a number column
return {
  name = "train_group_number", version = "1",
  station = function(data, params, round)
    return #data:group_by("age")
  end,
  combine = function(results) return {done = true, result = 0} end,
}
