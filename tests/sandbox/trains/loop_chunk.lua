-- loop_chunk: an endless loop while the chunk itself runs.
-- expect: limit instruction budget of 1000000 exceeded
while true do pcall(function() while true do end end) end
return {}
