# pooled.R — benchmark 5's baseline: R's coxph (stratified by station) and
# glm binomial on the pooled CSVs of all stations, timed in this process.
# Usage: Rscript pooled.R REPS CSV...   Prints "metric<TAB>value" lines:
# r.read.seconds once, then per repetition r.cox.seconds/.cpu_seconds and
# r.glm.seconds/.cpu_seconds (system.time around the fit only), and the
# coefficients, for a check against pht sim.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
reps <- as.integer(args[1])
files <- args[-1]
t <- system.time({
  parts <- lapply(seq_along(files), function(i) {
    d <- read.csv(files[i], na.strings = c("", "NA"))
    d$station <- i
    d
  })
  d <- do.call(rbind, parts)
  d$sex <- factor(d$sex, levels = c("female", "male"))
  d$braf <- factor(d$braf, levels = c("wildtype", "V600"))
  d$ldh_elevated <- d$ldh_elevated == 1
  d$ae_grade3 <- d$ae_grade3 == 1
})
out <- function(k, v) cat(sprintf("%s\t%.9g\n", k, v))
out("r.read.seconds", t[["elapsed"]])
out("r.rows", nrow(d))
for (r in seq_len(reps)) {
  t <- system.time(fc <- coxph(Surv(os_days, os_event) ~ age + sex + ecog +
    ldh_elevated + line + braf + strata(station), data = d, ties = "efron"))
  out("r.cox.seconds", t[["elapsed"]])
  out("r.cox.cpu_seconds", t[["user.self"]] + t[["sys.self"]])
  t <- system.time(fg <- glm(ae_grade3 ~ age + sex + ecog + ldh_elevated +
    line + braf, family = binomial, data = d))
  out("r.glm.seconds", t[["elapsed"]])
  out("r.glm.cpu_seconds", t[["user.self"]] + t[["sys.self"]])
}
for (n in names(coef(fc))) out(paste0("r.cox.coef.", n), coef(fc)[[n]])
for (n in names(coef(fg))) out(paste0("r.glm.coef.", n), coef(fg)[[n]])
