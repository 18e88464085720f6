# pht_km against survival::survfit and survdiff on the pooled data with the
# times coarsened to the stations' 30-day grid: with k = 1 and min_cell = 1
# no step is merged and the curves equal R's (docs/std-trains.md, km.lua).

skip_if_not_installed("survival")
suppressPackageStartupMessages(library(survival))

grid_fit <- function(ds, group = NULL) {
  d <- ref_pooled(ds)
  d$tc <- ceiling(d$time / 30) * 30
  f <- if (is.null(group)) Surv(tc, status) ~ 1 else
    stats::as.formula(paste("Surv(tc, status) ~", group))
  list(d = d, f = f, fit = survfit(f, data = d, conf.type = "log-log"))
}

# Compares one pht curve with stratum i of a survfit (all strata when NULL).
expect_curve <- function(curve, fit, i = NULL) {
  s <- if (is.null(i)) fit else fit[i]
  tab <- curve$table
  expect_equal(tab$time, s$time)
  expect_equal(tab$n_risk, s$n.risk)
  expect_equal(tab$n_event, s$n.event)
  expect_equal(tab$n_censor, s$n.censor)
  expect_rel(tab$surv, s$surv, 1e-9, floor = 1)
  # pht releases Greenwood's SE of surv (summary.survfit's std.err); survfit
  # keeps that of the cumulative hazard; Inf in R is absent in pht
  se <- s$std.err * s$surv
  expect_identical(is.na(tab$std_err), !is.finite(s$std.err))
  ok <- is.finite(s$std.err)
  expect_rel(tab$std_err[ok], se[ok], 1e-9, floor = 1)
  expect_identical(is.na(tab$lower), is.na(s$lower))
  expect_rel(tab$lower[!is.na(tab$lower)], s$lower[!is.na(s$lower)], 1e-9, floor = 1)
  expect_rel(tab$upper[!is.na(tab$upper)], s$upper[!is.na(s$upper)], 1e-9, floor = 1)
  q <- stats::quantile(s, 0.5)
  expect_equal(c(curve$median, curve$median_lower, curve$median_upper),
               unname(c(q$quantile, q$lower, q$upper)))
  expect_equal(curve$n, s$n)
  expect_equal(curve$events, sum(s$n.event))
}

test_that("pht_km equals survfit on the grid: one curve", {
  skip_without_pht()
  k <- pht_km(pht_local(ref_stations("veteran"), k = 1), Surv(time, status) ~ 1,
              min_cell = 1)
  expect_s3_class(k, "pht_km")
  r <- grid_fit("veteran")
  expect_length(k$curves, 1L)
  expect_curve(k$curves[[1L]], r$fit)
  expect_null(k$logrank)
  expect_equal(k$interval, 30)
  expect_output(print(k), "median")
})

test_that("pht_km equals survfit and survdiff on the grid: by group", {
  skip_without_pht()
  k <- pht_km(pht_local(ref_stations("lung"), k = 1), time = "time", event = "status",
              group = "sex", min_cell = 1)
  r <- grid_fit("lung", "sex")
  expect_equal(names(k$curves), c("male", "female"))
  for (i in 1:2) expect_curve(k$curves[[i]], r$fit, i)
  sd <- survdiff(r$f, data = r$d)
  expect_rel(k$logrank$chisq, sd$chisq)
  expect_rel(k$logrank$groups$observed, sd$obs)
  expect_rel(k$logrank$groups$expected, sd$exp)
  expect_equal(k$logrank$df, 1)
  expect_rel(k$logrank$p, stats::pchisq(sd$chisq, 1, lower.tail = FALSE))
  ci <- confint(k)
  expect_equal(rownames(ci), c("sex=male", "sex=female"))
  expect_equal(unname(ci[, "median"]), unname(summary(r$fit)$table[, "median"]))
  df <- as.data.frame(k)
  expect_equal(nrow(df), length(r$fit$time))
  expect_equal(unique(df$group), c("male", "female"))
  expect_output(print(summary(k)), "n.risk")
})

test_that("pht_km by a boolean column: keys read as false/true, in dictionary order", {
  skip_without_pht()
  k <- pht_km(pht_local(ref_stations("colon"), k = 1), Surv(time, status) ~ obstruct,
              min_cell = 1)
  r <- grid_fit("colon", "obstruct")
  expect_equal(names(k$curves), c("false", "true"))
  for (i in 1:2) expect_curve(k$curves[[i]], r$fit, i)
})

test_that("the KM plot draws every step of the result, with bands and numbers at risk", {
  skip_without_pht()
  k <- pht_km(pht_local(ref_stations("lung"), k = 1), Surv(time, status) ~ sex,
              min_cell = 1)
  path <- tempfile(fileext = ".png")
  open_png(path)
  steps <- plot(k, main = "lung: overall survival by sex", xlab = "days")
  grDevices::dev.off()
  expect_plot_file(path, min = 10000)
  expect_equal(steps, sum(vapply(k$curves, function(c) nrow(c$table), 0L)))
  expect_equal(steps, nrow(as.data.frame(k)))
  expect_equal(steps, length(grid_fit("lung", "sex")$fit$time))

  # merged steps (the default k = 5): fewer steps, still all drawn
  m <- pht_km(pht_local(ref_stations("lung")), Surv(time, status) ~ sex)
  path2 <- tempfile(fileext = ".pdf")
  grDevices::pdf(path2)
  steps2 <- plot(m, conf.int = FALSE, risk.table = FALSE)
  grDevices::dev.off()
  expect_plot_file(path2, min = 3000)
  expect_equal(steps2, nrow(as.data.frame(m)))
  expect_lt(steps2, steps)
  expect_true(length(m$notes) > 0L)
})
