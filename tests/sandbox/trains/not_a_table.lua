-- not_a_table: the chunk must return the train table.
-- expect: train the train must return a table, not a number value
return 42
