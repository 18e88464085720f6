# pht_cox against survival::coxph on the pooled data, stratified by station:
# PHT follows coxph.fit step for step, so coefficients, standard errors,
# tests and even the iteration count equal R's (docs/std-trains.md).

skip_if_not_installed("survival")
suppressPackageStartupMessages(library(survival))

cox_cases <- list(
  lung = Surv(time, status) ~ age + sex + ph_ecog,
  veteran = Surv(time, status) ~ trt + celltype + karno + age,
  colon = Surv(time, status) ~ rx + sex + age + nodes,
  pbc = Surv(time, status) ~ age + edema + log_bili + albumin + log_protime + trt)

for (ds in names(cox_cases)) for (ties in c("efron", "breslow")) {
  test_that(paste("pht_cox equals coxph + strata(station):", ds, ties), {
    skip_without_pht()
    f <- cox_cases[[ds]]
    fit <- pht_cox(pht_local(ref_stations(ds), k = 1), f, ties = ties)
    expect_s3_class(fit, "pht_cox")
    d <- ref_pooled(ds)
    rf <- stats::update(f, . ~ . + strata(station))
    r <- survival::coxph(rf, data = d, ties = ties)
    rs <- summary(r)
    expect_equal(names(coef(fit)), names(coef(r)))
    expect_rel(coef(fit), coef(r))
    expect_rel(fit$coefficients$se, sqrt(diag(r$var)))
    expect_rel(fit$coefficients$exp_coef, rs$conf.int[, "exp(coef)"])
    expect_rel(fit$coefficients$lower95, rs$conf.int[, "lower .95"])
    expect_rel(fit$coefficients$upper95, rs$conf.int[, "upper .95"])
    expect_rel(fit$coefficients$z, rs$coefficients[, "z"])
    expect_rel(fit$coefficients$p, rs$coefficients[, "Pr(>|z|)"])
    expect_rel(fit$loglik, r$loglik)
    expect_rel(fit$lr_test[["chisq"]], rs$logtest[["test"]])
    expect_rel(fit$wald_test[["chisq"]], r$wald.test)
    expect_rel(fit$score_test[["chisq"]], r$score)
    expect_equal(fit$iterations, r$iter)
    expect_equal(fit$n, r$n)
    expect_equal(fit$events, r$nevent)
    expect_equal(nrow(fit$stations), length(ref_stations(ds)))
    ci <- confint(fit)
    expect_rel(ci, confint(r))
    expect_rel(confint(fit, "age", level = 0.9), confint(r, "age", level = 0.9))
    df <- as.data.frame(fit)
    expect_equal(df$name, names(coef(r)))
    expect_output(print(fit), "Likelihood ratio test")
    expect_output(print(summary(fit)), "Score \\(logrank\\) test")
  })
}

test_that("pht_cox takes columns as arguments, as the formula", {
  skip_without_pht()
  w <- pht_local(ref_stations("lung"), k = 1)
  a <- pht_cox(w, time = "time", event = "status", covariates = c("age", "sex"))
  b <- pht_cox(w, survival::Surv(time, status) ~ age + sex)
  expect_identical(coef(a), coef(b))
  one <- pht_cox(w, Surv(time, status) ~ age)
  expect_identical(names(coef(one)), "age")
})

test_that("the forest plot of a Cox model is written", {
  skip_without_pht()
  fit <- pht_cox(pht_local(ref_stations("veteran"), k = 1),
                 Surv(time, status) ~ trt + celltype + karno + age)
  path <- tempfile(fileext = ".png")
  open_png(path, 800, 450)
  drawn <- plot(fit)
  grDevices::dev.off()
  expect_equal(drawn, length(coef(fit)))
  expect_plot_file(path)
})

test_that("a failing run is an error carrying pht's message", {
  skip_without_pht()
  w <- pht_local(ref_stations("lung"), k = 1)
  err <- tryCatch(pht_cox(w, Surv(time, status) ~ nosuch), error = function(e) e)
  expect_s3_class(err, "pht_error")
  expect_match(conditionMessage(err), "nosuch")
})
