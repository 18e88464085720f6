# pht_outcomes on the example registry (the demo's: 3 hospitals, 3000
# patients, seed 2026): the report's arms against pht_count and pht_km on the
# same files.

registry <- function() {
  reg <- tryCatch(pht_example_registry(), error = function(e) NULL)
  if (is.null(reg)) skip("pht-registry-gen was not found (set PHT_REGISTRY_GEN)")
  reg
}

test_that("the outcomes report agrees with count and km by treatment", {
  skip_without_pht()
  reg <- registry()
  expect_equal(names(reg), c("hospital_01", "hospital_02", "hospital_03"))
  hosp <- pht_local(reg)
  out <- pht_outcomes(hosp)
  expect_s3_class(out, "pht_outcomes")
  t <- as.data.frame(out)
  dict <- jsonlite::fromJSON(sub("\\.csv$", ".dict.json", reg[[1L]]))
  arms <- dict$columns$levels[[which(dict$columns$name == "treatment")]]
  expect_equal(t$treatment, arms)
  expect_equal(sum(t$patients), 3000)
  n <- pht_count(hosp, by = "treatment")
  expect_equal(n$cells$value, arms)
  expect_equal(n$cells$count, t$patients)
  km <- pht_km(hosp, Surv(os_days, os_event) ~ treatment)
  ci <- confint(km)
  expect_equal(unname(ci[, "median"]), t$os_median)
  expect_equal(unname(ci[, "2.5 %"]), t$os_median_lower)
  expect_equal(unname(ci[, "97.5 %"]), t$os_median_upper)
  expect_equal(t$response_rate, t$responders / t$evaluable)
  expect_output(print(out), "ipilimumab\\+nivolumab")
  path <- tempfile(fileext = ".png")
  open_png(path, 800, 450)
  drawn <- plot(out)
  grDevices::dev.off()
  expect_equal(drawn, sum(is.finite(t$os_median) & is.finite(t$os_median_lower) &
                            is.finite(t$os_median_upper)))
  expect_plot_file(path)
})
