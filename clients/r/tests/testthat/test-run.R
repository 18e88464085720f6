# The command lines pht_sim and pht_run build (with a stand-in pht that
# records its arguments), and, where the test suite started a federation on
# this machine (PHT_TEST_ANALYST_CONFIG), pht_run through it.

fake_pht <- function(result) {
  dir <- tempfile("fake-pht-")
  dir.create(dir)
  out <- file.path(dir, "result.json")
  writeLines(result, out)
  args <- file.path(dir, "args")
  bin <- file.path(dir, "pht")
  writeLines(c("#!/bin/sh", sprintf("printf '%%s\\n' \"$@\" > '%s'", args),
               sprintf("cat '%s'", out)), bin)
  Sys.chmod(bin, "0755")
  list(bin = bin, args = args)
}

count_json <- '{"notes": {}, "pooled": {"total": 12}, "stations": [{"id": "a", "count": 12}]}'

test_that("pht_sim passes the stations, params and policy to pht sim", {
  f <- fake_pht(count_json)
  train <- tempfile(fileext = ".lua")
  writeLines("-- a train", train)
  csv <- tempfile(fileext = ".csv")
  writeLines("x\n1", csv)
  r <- pht_sim(train, c(h1 = csv), params = list(by = "x", columns = I("x")), k = 7,
               time_resolution = 10, km_min_cell = 3, grid = c(age = 5), seed = 1,
               pht = f$bin)
  expect_s3_class(r, "pht_count")
  expect_equal(r$total, 12)
  a <- readLines(f$args)
  expect_equal(a[1:5], c("sim", normalizePath(train), "--station",
                         paste0("h1=", normalizePath(csv)), "--params"))
  expect_equal(a[6], '{"by":"x","columns":["x"]}')
  expect_equal(a[7:16], c("--k", "7", "--time-resolution", "10", "--km-min-cell", "3",
                          "--seed", "1", "--grid", "age=5"))
})

test_that("pht_run passes the config, stations and run options to pht run", {
  f <- fake_pht(count_json)
  train <- tempfile(fileext = ".lua")
  writeLines("-- a train", train)
  cfg <- tempfile(fileext = ".json")
  writeLines("{}", cfg)
  r <- pht_run(train, config = cfg, stations = c("a", "b"), params = list(by = "x"),
               timeout = "2m", min_stations = 1, args = c("--permit-file", "p"),
               pht = f$bin)
  expect_s3_class(r, "pht_count")
  a <- readLines(f$args)
  expect_equal(a, c("run", normalizePath(train), "--params", '{"by":"x"}', "--config",
                    normalizePath(cfg), "--stations", "a,b", "--timeout", "2m",
                    "--min-stations", "1", "--permit-file", "p"))
})

test_that("a train that is not there is an error naming it", {
  f <- fake_pht(count_json)
  expect_error(pht_sim(file.path(tempdir(), "nosuch", "x.lua"), c(a = f$bin), pht = f$bin),
               "no train file")
})

test_that("pht_run through a federation equals pht_sim on the same files", {
  cfg <- Sys.getenv("PHT_TEST_ANALYST_CONFIG")
  data <- Sys.getenv("PHT_TEST_STATION_FILES")
  if (!nzchar(cfg) || !nzchar(data)) skip("no federation started (PHT_TEST_ANALYST_CONFIG)")
  skip_without_pht()
  files <- strsplit(strsplit(data, ",")[[1L]], "=")
  files <- stats::setNames(vapply(files, `[`, "", 2L), vapply(files, `[`, "", 1L))
  fed <- pht_federation(cfg, stations = names(files), timeout = "120s")
  loc <- pht_local(files)
  f <- Surv(time, status) ~ rx + sex + age
  a <- pht_cox(fed, f)
  b <- pht_cox(loc, f)
  expect_identical(a$json, b$json)
  expect_identical(coef(a), coef(b))
  ka <- pht_km(fed, Surv(time, status) ~ rx)
  kb <- pht_km(loc, Surv(time, status) ~ rx)
  expect_identical(ka$json, kb$json)
  expect_equal(sort(a$stations$id), sort(names(files)))
})
