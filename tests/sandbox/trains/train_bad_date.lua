-- train_bad_date: hostile train for the sandbox suite.
-- expect: train where: '2020-02-30' is not a date YYYY-MM-DD (column dx)
return {
  name = "train_bad_date", version = "1",
  station = function(data, params, round)
    return data:where("dx", ">", "2020-02-30"):nrows()
  end,
  combine = function(results) return {done = true, result = 0} end,
}
