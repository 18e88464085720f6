-- syntax_error: a train that does not parse.
-- expect: train 'end' expected (to close 'if' at line 4)
return {
  name = "s", version = "1", station = function() if true then return 1
}
