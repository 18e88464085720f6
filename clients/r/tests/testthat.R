library(testthat)
library(pht)

test_check("pht")
