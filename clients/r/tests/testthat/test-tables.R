# pht_crosstab, pht_summary and pht_count against base R on the pooled data.

test_that("pht_crosstab equals table() on the pooled data (k = 1)", {
  skip_without_pht()
  x <- pht_crosstab(pht_local(ref_stations("colon"), k = 1), rows = "rx", cols = "obstruct")
  expect_s3_class(x, "pht_crosstab")
  d <- ref_pooled("colon")
  r <- table(d$rx, d$obstruct)
  expect_equal(dimnames(x$table)$rx, levels(d$rx))
  expect_equal(dimnames(x$table)$obstruct, c("false", "true"))
  expect_equal(unname(x$table), unname(unclass(r)[, c("0", "1")]))
  expect_false(any(x$incomplete))
  expect_length(x$stations, 5L)
  st <- Reduce(`+`, x$stations)
  expect_equal(st, x$table)
  df <- as.data.frame(x)
  expect_equal(names(df), c("rx", "obstruct", "count", "incomplete"))
  expect_equal(sum(df$count), nrow(d))
  s <- summary(x)
  expect_rel(unname(s$test$statistic),
             unname(stats::chisq.test(r, correct = FALSE)$statistic))
  expect_output(print(x), "Lev\\+5FU")
  path <- tempfile(fileext = ".png")
  open_png(path, 600, 500)
  plot(x)
  grDevices::dev.off()
  expect_plot_file(path)
})

test_that("suppressed cells are NA at the station and mark the pooled cell incomplete", {
  skip_without_pht()
  x <- pht_crosstab(pht_local(ref_stations("veteran"), k = 5), rows = "celltype",
                    cols = "prior")
  expect_true(any(vapply(x$stations, function(m) anyNA(m), TRUE)))
  expect_true(any(x$incomplete))
  expect_output(print(x), "\\*")
})

test_that("pht_summary pools means and sds exactly; histograms plot", {
  skip_without_pht()
  s <- pht_summary(pht_local(ref_stations("pbc"), k = 1),
                   columns = c("age", "albumin", "sex", "ascites"),
                   histograms = list(age = c(from = 20, to = 80, width = 10)),
                   quantiles = c(0.25, 0.5))
  expect_s3_class(s, "pht_summary")
  d <- ref_pooled("pbc")
  num <- s$numeric
  expect_equal(num$column, c("age", "albumin"))
  expect_rel(num$mean, c(mean(d$age), mean(d$albumin)), 1e-12)
  expect_rel(num$sd, c(stats::sd(d$age), stats::sd(d$albumin)), 1e-10)
  expect_equal(num$n, c(nrow(d), nrow(d)))
  expect_true(all(c("q25", "q50") %in% names(num)))
  cats <- s$categories[s$categories$column == "sex" & !is.na(s$categories$value), ]
  expect_equal(cats$value, levels(d$sex))
  expect_equal(cats$count, as.vector(table(d$sex)))
  asc <- s$categories[s$categories$column == "ascites" & !is.na(s$categories$value), ]
  expect_equal(asc$value, c("false", "true"))
  h <- s$histograms$age
  expect_equal(h$from, seq(20, 70, 10))
  expect_equal(h$count, as.vector(table(cut(d$age, seq(20, 80, 10)))))
  expect_equal(as.data.frame(s), s$numeric)
  expect_output(print(s), "albumin")
  path <- tempfile(fileext = ".png")
  open_png(path, 600, 450)
  bars <- plot(s)
  grDevices::dev.off()
  expect_equal(bars, nrow(h))
  expect_plot_file(path)
})

test_that("pht_count counts rows, overall and by a column", {
  skip_without_pht()
  w <- pht_local(ref_stations("lung"), k = 1)
  d <- ref_pooled("lung")
  n <- pht_count(w)
  expect_s3_class(n, "pht_count")
  expect_equal(n$total, nrow(d))
  expect_equal(n$stations$count, as.vector(table(d$station)))
  by <- pht_count(w, by = "ph_ecog")
  expect_equal(by$cells$value, c("0", "1", "2", "3"))
  expect_equal(by$cells$count, as.vector(table(d$ph_ecog)))
  expect_equal(by$missing, sum(is.na(d$ph_ecog)))
  expect_output(print(by), "missing")
})
