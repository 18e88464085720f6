# pht_glm against stats::glm on the pooled data (one model, no station
# terms). PHT iterates R's glm.fit step for step, with its standard errors
# from the X'WX the final beta was solved from, as R's summary.glm: it equals
# R's default fit, compared at 1e-6 relative as tests/trains/compare.lua does.

glm_cases <- list(
  binomial_colon = list(ds = "colon", family = "binomial",
                        f = status ~ rx + sex + age + obstruct + node4),
  poisson_colon = list(ds = "colon", family = "poisson",
                       f = status ~ rx + age + node4 + extent + offset(log_years)),
  gaussian_pbc = list(ds = "pbc", family = "gaussian",
                      f = albumin ~ age + sex + log_bili + edema),
  gaussian_lung = list(ds = "lung", family = "gaussian", f = wt_loss ~ age + sex + ph_ecog))

for (case in names(glm_cases)) {
  test_that(paste("pht_glm equals glm:", case), {
    skip_without_pht()
    cc <- glm_cases[[case]]
    fit <- pht_glm(pht_local(ref_stations(cc$ds), k = 1), cc$f, family = cc$family)
    expect_s3_class(fit, "pht_glm")
    d <- ref_pooled(cc$ds)
    fam <- get(cc$family, mode = "function")()
    r <- stats::glm(cc$f, family = fam, data = d)
    rs <- summary(r)
    expect_equal(names(coef(fit)), names(coef(r)))
    expect_rel(coef(fit), coef(r))
    expect_rel(fit$coefficients$se, rs$coefficients[, "Std. Error"])
    expect_rel(fit$coefficients[[fit$statistic]], rs$coefficients[, 3L])
    expect_rel(fit$deviance, r$deviance)
    expect_rel(fit$null_deviance, r$null.deviance)
    expect_rel(fit$aic, r$aic)
    expect_rel(fit$dispersion, rs$dispersion)
    expect_equal(fit$df_residual, r$df.residual)
    expect_equal(fit$df_null, r$df.null)
    expect_equal(fit$n, nrow(stats::model.frame(r)))
    expect_equal(fit$statistic, if (cc$family == "gaussian") "t" else "z")
    expect_equal(fit$iterations, r$iter)
    # Wald intervals: normal quantiles, or Student's t for a gaussian model
    # (as confint.lm); relative to the interval's scale (limits near 0)
    rci <- if (cc$family == "gaussian") stats::confint.lm(r) else stats::confint.default(r)
    expect_rel(confint(fit), rci, floor = 1)
    expect_equal(names(as.data.frame(fit))[1:3], c("name", "estimate", "se"))
    expect_output(print(fit), "Residual Deviance")
    expect_output(print(summary(fit)), "Number of Fisher Scoring iterations")
  })
}

test_that("the forest plot of a logistic model shows odds ratios", {
  skip_without_pht()
  fit <- pht_glm(pht_local(ref_stations("colon"), k = 1), family = stats::binomial,
                 outcome = "status", covariates = c("rx", "sex", "age", "obstruct", "node4"))
  path <- tempfile(fileext = ".png")
  open_png(path, 800, 450)
  drawn <- plot(fit)
  grDevices::dev.off()
  expect_equal(drawn, length(coef(fit)) - 1L)  # all but the intercept
  expect_plot_file(path)
})
