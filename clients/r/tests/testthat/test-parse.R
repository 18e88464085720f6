# Parsing results without running pht: group keys as strings or typed
# (numbers, booleans), unknown fields ignored, empty notes as {}.

km_json <- function(keys) {
  curve <- function(g) sprintf(
    '{"group": %s, "n": 10, "events": 4, "median": 60, "future_field": {"a": 1},
      "table": [{"time": 30, "n_risk": 10, "n_event": 2, "n_censor": 0, "surv": 0.8,
                 "std_err": 0.1265, "lower": 0.41, "upper": 0.95, "extra": "x"},
                {"time": 60, "n_risk": 8, "n_event": 2, "n_censor": 6, "surv": 0.6,
                 "std_err": 0.155, "lower": 0.25, "upper": 0.83}]}', g)
  sprintf('{"interval": 30, "n": 20, "events": 8, "dropped": 0, "notes": {},
    "stations_included": ["a", "b"], "stations_missing": [{"id": "c", "reason": "refused"}],
    "curves": [%s, %s],
    "logrank": {"chisq": 0, "df": 1, "p": 1, "groups": [
      {"group": %s, "n": 10, "observed": 4, "expected": 4},
      {"group": %s, "n": 10, "observed": 4, "expected": 4}]},
    "stations": [{"id": "a", "n": 10, "dropped": 0, "new": true},
                 {"id": "b", "n": 10, "dropped": 0}]}',
    curve(keys[1]), curve(keys[2]), keys[1], keys[2])
}

test_that("km group keys parse the same as strings or typed", {
  for (keys in list(c('"false"', '"true"'), c("false", "true"))) {
    k <- pht_result(km_json(keys))
    expect_s3_class(k, "pht_km")
    expect_equal(names(k$curves), c("false", "true"))
    expect_equal(k$logrank$groups$group, c("false", "true"))
    expect_equal(names(k$curves$true$table), c("time", "n_risk", "n_event", "n_censor",
                                                "surv", "std_err", "lower", "upper"))
  }
  for (keys in list(c('"1"', '"2"'), c("1", "2"), c("1.0", "2.0"))) {
    k <- pht_result(km_json(keys))
    expect_equal(names(k$curves), c("1", "2"))
    expect_equal(as.data.frame(k)$group, rep(c("1", "2"), each = 2))
  }
  k <- pht_result(km_json(c('"1"', '"2"')))
  expect_identical(k$notes, character())
  expect_output(print(k), "stations missing: c")
})

test_that("crosstab and count cells parse typed and string keys alike", {
  for (v in list(c('"false"', '"true"', '"0"', '"1"'), c("false", "true", "0", "1"))) {
    j <- sprintf('{"rows": "a", "cols": "b", "row_values": [%s, %s], "col_values": [%s, %s],
      "notes": ["n1"], "unknown": 3,
      "pooled": {"cells": [{"row": %s, "col": %s, "count": 5, "incomplete": false},
                           {"row": %s, "col": %s, "count": 6, "incomplete": true},
                           {"row": %s, "col": %s, "count": 0, "incomplete": false},
                           {"row": %s, "col": %s, "count": 7, "incomplete": false}]},
      "stations": [{"id": "s1", "cells": [{"row": %s, "col": %s, "suppressed": true}]}]}',
      v[1], v[2], v[3], v[4], v[1], v[3], v[1], v[4], v[2], v[3], v[2], v[4], v[1], v[4])
    x <- pht_result(j)
    expect_s3_class(x, "pht_crosstab")
    expect_equal(dimnames(x$table), list(a = c("false", "true"), b = c("0", "1")))
    expect_equal(x$table["false", "1"], 6)
    expect_true(x$incomplete["false", "1"])
    expect_true(is.na(x$stations$s1["false", "1"]))
    expect_equal(x$notes, "n1")
  }
  n <- pht_result('{"by": "x", "notes": {}, "pooled": {"cells": [{"value": 0, "count": 5},
    {"value": "1", "count": 6}], "missing": 0}, "stations": [{"id": "s1"}]}')
  expect_s3_class(n, "pht_count")
  expect_equal(n$cells$value, c("0", "1"))
})

test_that("models ignore unknown fields and keep the JSON", {
  j <- '{"coefficients": [{"name": "age", "coef": 0.1, "exp_coef": 1.105, "se": 0.05,
    "z": 2, "p": 0.0455, "lower95": 1.002, "upper95": 1.219, "later": [1, 2]}],
    "loglik": [-10, -8], "lr_test": {"chisq": 4, "df": 1, "p": 0.0455},
    "wald_test": {"chisq": 4, "df": 1, "p": 0.0455},
    "score_test": {"chisq": 4, "df": 1, "p": 0.0455}, "iterations": 3, "converged": true,
    "n": 50, "events": 20, "ties": "efron", "notes": ["a note"],
    "stations": [{"id": 1, "n": 50, "dropped": 0, "events": 20}],
    "stations_dropped": [{"id": "x", "round": 2}], "brand_new": {"x": 1}}'
  f <- pht_result(j)
  expect_s3_class(f, "pht_cox")
  expect_equal(coef(f), c(age = 0.1))
  expect_equal(f$stations$id, "1")
  expect_equal(f$json$brand_new$x, 1)
  out <- capture.output(print(f))
  expect_true(any(grepl("Stations dropped: x", out)))
  expect_true(any(grepl("Note: a note", out)))
  ci <- confint(f)
  expect_equal(unname(ci[1, ]), 0.1 + c(-1, 1) * stats::qnorm(0.975) * 0.05)
  expect_equal(colnames(ci), c("2.5 %", "97.5 %"))
})

test_that("aliased terms are NA and the stations missing from a round are printed", {
  j <- '{"coefficients": [{"name": "age", "coef": 0.1, "exp_coef": 1.105, "se": 0.05,
    "z": 2, "p": 0.0455, "lower95": 1.002, "upper95": 1.219},
    {"name": "age_months", "coef": null, "exp_coef": null, "se": null, "z": null,
    "p": null, "lower95": null, "upper95": null, "aliased": true}],
    "aliased": ["age_months"], "loglik": [-10, -8], "lr_test": {"chisq": 4, "df": 1, "p": 0.0455},
    "wald_test": {"chisq": 4, "df": 1, "p": 0.0455},
    "score_test": {"chisq": 4, "df": 1, "p": 0.0455}, "iterations": 3, "converged": true,
    "n": 50, "events": 20, "ties": "efron", "stations": [{"id": "a", "n": 50}],
    "participation": [{"round": 1, "included": ["a"],
      "missing": [{"station": "c", "reason": "rejected: refused: too few rows"}]}]}'
  f <- pht_result(j)
  expect_equal(coef(f), c(age = 0.1, age_months = NA))
  out <- capture.output(print(f))
  expect_true(any(grepl("Round 1, missing: c (rejected: refused: too few rows)", out,
                        fixed = TRUE)))
})

test_that("an unrecognised result stays the parsed JSON", {
  r <- pht_result('{"answer": 42, "rows": [{"a": 1}, {"a": 2}]}')
  expect_s3_class(r, "pht_result")
  expect_equal(r$json$answer, 42)
  expect_output(print(r), "answer")
})

test_that("formulas become the trains' params", {
  s <- pht:::formula_surv(Surv(t, d == 2) ~ a + b)
  expect_equal(s[c("time", "event")], list(time = "t", event = "d"))
  expect_equal(s$event_value, 2)
  r <- pht:::formula_rhs(y ~ a + b + offset(lt))
  expect_equal(r, list(covariates = c("a", "b"), offset = "lt"))
  expect_error(pht:::formula_rhs(y ~ log(a)), "only column names")
  expect_error(pht:::formula_surv(y ~ a), "Surv")
  expect_equal(pht:::pht_params_json(list(covariates = I("age"), k = 1)),
               '{"covariates":["age"],"k":1}')
  expect_equal(pht:::pht_params_json(list()), "{}")
})

test_that("stations parse as records, plain ids, or an object with `included`", {
  base <- '{"coefficients": [{"name": "x", "estimate": 1, "se": 0.5, "z": 2, "p": 0.05}],
    "family": "gaussian", "link": "identity", %s}'
  a <- pht_result(sprintf(base, '"stations": [{"id": "a", "n": 10, "dropped": 0}]'))
  expect_equal(a$stations$id, "a")
  b <- pht_result(sprintf(base, '"stations": ["a", "b"]'))
  expect_equal(b$stations$id, c("a", "b"))
  c <- pht_result(sprintf(base, '"stations": {"included": [{"id": "a", "n": 3}],
    "missing": [{"id": "b", "reason": "refused"}]}'))
  expect_equal(c$stations$id, "a")
  expect_equal(c$json$stations$missing[[1]]$reason, "refused")
})
