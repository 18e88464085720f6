-- describe_no_version: a train table must carry a string version.
-- expect: train train field 'version' must be a string
-- mode: describe
return {
  name = "d", version = 1,
  station = function(data) return 1 end,
  combine = function(results) return {done = true, result = 1} end,
}
