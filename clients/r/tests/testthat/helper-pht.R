# Where the tests find pht and the reference data: the pht executable as
# pht_path() finds it (the test suite sets PHT), the PHT sources from PHT_SRC
# or the executable's build. Tests that need them skip without them.

pht_bin <- function() pht::pht_path(required = FALSE)

pht_src <- function() {
  s <- Sys.getenv("PHT_SRC")
  if (nzchar(s) && dir.exists(file.path(s, "tests", "reference"))) return(s)
  b <- pht_bin()
  if (is.na(b)) return(NA_character_)
  pht:::pht_source_of(b)
}

skip_without_pht <- function() {
  if (is.na(pht_bin())) skip("the pht executable was not found (set PHT)")
  if (is.na(pht_src())) skip("the PHT sources were not found (set PHT_SRC)")
}

# The station files of a reference dataset (tests/reference/data), named
# station1, station2, ...
ref_stations <- function(ds) {
  f <- sort(list.files(file.path(pht_src(), "tests", "reference", "data", ds),
                       "^station[0-9]+\\.csv$", full.names = TRUE))
  stats::setNames(f, sub("\\.csv$", "", basename(f)))
}

# The stations' rows pooled, with a column `station`; category columns become
# factors with the dictionary's levels (its first is R's reference level, as
# in the trains).
ref_pooled <- function(ds) {
  files <- ref_stations(ds)
  dict <- jsonlite::fromJSON(sub("\\.csv$", ".dict.json", files[[1L]]),
                             simplifyVector = FALSE)
  parts <- lapply(names(files), function(s) {
    d <- utils::read.csv(files[[s]], na.strings = c("", "NA"), stringsAsFactors = FALSE)
    d$station <- s
    d
  })
  d <- do.call(rbind, parts)
  for (c in dict$columns)
    if (identical(c$type, "category"))
      d[[c$name]] <- factor(d[[c$name]], levels = unlist(c$levels))
  d
}

# Relative difference, elementwise: |a - b| / max(|b|, floor).
rel_diff <- function(a, b, floor = 1e-300) abs(a - b) / pmax(abs(b), floor)

expect_rel <- function(object, expected, tol = 1e-6, floor = 1e-300) {
  expect_equal(length(object), length(expected))
  d <- max(c(0, rel_diff(unname(object), unname(expected), floor)))
  expect_lt(d, tol)
}

# A file written by a plot: exists and holds more than `min` bytes.
expect_plot_file <- function(path, min = 3000) {
  expect_true(file.exists(path))
  expect_gt(file.size(path), min)
}

open_png <- function(path, width = 900, height = 650) {
  if (capabilities("png")) grDevices::png(path, width = width, height = height)
  else grDevices::pdf(path, width = width / 100, height = height / 100)
}
