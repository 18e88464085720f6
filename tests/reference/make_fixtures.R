# make_fixtures.R — splits R's public survival datasets into stations and computes the pooled reference results the standard trains must reproduce.
#
# Run from the repository root:   Rscript tests/reference/make_fixtures.R
# Needs R (>= 4.0) and the survival package (Debian: r-base-core, r-cran-survival).
# Writes, replacing what is there:
#   tests/reference/data/<dataset>/<station>.csv and <station>.dict.json
#   tests/reference/expected/{km,cox}_<dataset>.json, glm_<family>_<dataset>.json
# Every fixture is computed from the station CSV files as written and read back
# (never from R's in-memory copy), so the trains and R see the same numbers.
# JSON is written by hand (jsonlite is not assumed): numbers in the shortest of
# %.15g/%.16g/%.17g that reads back as the same IEEE double (checked), NA/NaN
# as null, +-Inf as the strings "Inf"/"-Inf". CSV numbers likewise.
# tests/reference/README.md explains the conventions.

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
root <- if (length(script) == 1) normalizePath(file.path(dirname(script), "..", "..")) else getwd()
ref_dir <- file.path(root, "tests", "reference")
data_dir <- file.path(ref_dir, "data")
exp_dir <- file.path(ref_dir, "expected")
if (!file.exists(file.path(root, "meson.build")))
  stop("run from the PHT repository root (no meson.build in ", root, ")")

ZVAL <- qnorm(0.975)
INTERVAL <- 30  # days: the km time grid

provenance <- list(
  generator = "tests/reference/make_fixtures.R",
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  r_version_string = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  number_format = "shortest of %.15g/%.16g/%.17g that reads back as the same double; null = NA/NaN; \"Inf\"/\"-Inf\" = infinities"
)

# ---- number formatting and JSON writer --------------------------------------

# The shortest of %.15g, %.16g, %.17g that reads back as the same double
# (%.17g always does): full precision without 0.29999999999999999 for 0.3.
fmt_num <- function(x) {
  out <- sprintf("%.15g", x)
  for (p in c(16, 17)) {
    redo <- !is.na(x) & is.finite(x) & suppressWarnings(as.numeric(out)) != x
    if (!any(redo)) break
    out[redo] <- sprintf(paste0("%.", p, "g"), x[redo])
  }
  stopifnot(all(is.na(x) | !is.finite(x) | suppressWarnings(as.numeric(out)) == x))
  out
}

# Marks an atomic vector to be written as a JSON array even when of length 1.
A <- function(x) structure(x, jarray = TRUE)

json_str <- function(s) {
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  s <- gsub("\"", "\\\"", s, fixed = TRUE)
  s <- gsub("\n", "\\n", s, fixed = TRUE)
  s <- gsub("\t", "\\t", s, fixed = TRUE)
  paste0("\"", s, "\"")
}

json_atom <- function(x) {
  if (is.character(x) || is.factor(x)) {
    x <- as.character(x)
    return(ifelse(is.na(x), "null", json_str(x)))
  }
  if (is.logical(x))
    return(ifelse(is.na(x), "null", ifelse(x, "true", "false")))
  x <- as.double(x)
  out <- fmt_num(x)
  out[is.infinite(x) & x > 0] <- "\"Inf\""
  out[is.infinite(x) & x < 0] <- "\"-Inf\""
  out[is.na(x)] <- "null"
  out
}

to_json <- function(x, indent = 0) {
  pad <- strrep("  ", indent)
  pad1 <- strrep("  ", indent + 1)
  if (is.null(x))
    return("null")
  if (is.list(x)) {
    if (length(x) == 0)
      return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, "", indent = indent + 1)
    if (!is.null(names(x))) {
      if (any(names(x) == "")) stop("mixed named/unnamed list")
      items <- paste0(json_str(names(x)), ": ", items)
      return(paste0("{\n", pad1, paste(items, collapse = paste0(",\n", pad1)), "\n", pad, "}"))
    }
    return(paste0("[\n", pad1, paste(items, collapse = paste0(",\n", pad1)), "\n", pad, "]"))
  }
  if (is.matrix(x))
    return(to_json(lapply(seq_len(nrow(x)), function(i) A(unname(x[i, ]))), indent))
  if (length(x) == 1 && is.null(attr(x, "jarray")))
    return(json_atom(x))
  paste0("[", paste(json_atom(unname(x)), collapse = ", "), "]")
}

write_json <- function(obj, path) {
  con <- file(path, "wb")
  on.exit(close(con))
  writeLines(to_json(obj), con, sep = "\n", useBytes = TRUE)
}

# ---- datasets, dictionaries, stations --------------------------------------

# A column spec: name, type, unit, description, levels (category only).
col <- function(name, type, unit = "", description = "", levels = NULL)
  list(name = name, type = type, unit = unit, description = description, levels = levels)

# The four datasets: the cleaned data frame, its columns, the station of each
# row (the documented split rule) and a description.
prepare <- function() {
  out <- list()

  # lung (NCCTG advanced lung cancer). Station = inst %% 4 + 1; the one row
  # without an institution is dropped. status 1/2 recoded to 0/1 (2 = dead).
  d <- lung[!is.na(lung$inst), ]
  out$lung <- list(
    description = "NCCTG advanced lung cancer (R survival::lung), split by institution",
    rule = "station = inst %% 4 + 1 (inst = institution code); rows with inst NA dropped",
    station = d$inst %% 4 + 1,
    data = data.frame(
      time = as.integer(d$time),
      status = as.integer(d$status == 2),
      age = as.integer(d$age),
      sex = factor(ifelse(d$sex == 1, "male", "female"), levels = c("male", "female")),
      ph_ecog = as.integer(d$ph.ecog),
      ph_karno = as.integer(d$ph.karno),
      wt_loss = as.integer(d$wt.loss)),
    cols = list(
      col("time", "integer", "days", "survival time"),
      col("status", "boolean", "", "1 = dead, 0 = censored (R's lung codes 2/1)"),
      col("age", "integer", "years", "age"),
      col("sex", "category", "", "sex (R's lung: 1 male, 2 female)", c("male", "female")),
      col("ph_ecog", "integer", "", "ECOG performance score by the physician (0-3)"),
      col("ph_karno", "integer", "", "Karnofsky score by the physician"),
      col("wt_loss", "integer", "pounds", "weight loss in the last six months")))

  # veteran (VA lung cancer trial). Station = (row - 1) %% 3 + 1.
  d <- veteran
  out$veteran <- list(
    description = "Veterans' Administration lung cancer trial (R survival::veteran), split by row number",
    rule = "station = (row - 1) %% 3 + 1, rows in R's order",
    station = (seq_len(nrow(d)) - 1) %% 3 + 1,
    data = data.frame(
      time = as.integer(d$time),
      status = as.integer(d$status),
      trt = factor(ifelse(d$trt == 1, "standard", "test"), levels = c("standard", "test")),
      celltype = factor(as.character(d$celltype), levels = levels(d$celltype)),
      karno = as.integer(d$karno),
      diagtime = as.integer(d$diagtime),
      age = as.integer(d$age),
      prior = as.integer(d$prior)),
    cols = list(
      col("time", "integer", "days", "survival time"),
      col("status", "boolean", "", "1 = dead, 0 = censored"),
      col("trt", "category", "", "treatment (R's 1 standard, 2 test)", c("standard", "test")),
      col("celltype", "category", "", "cell type", levels(veteran$celltype)),
      col("karno", "integer", "", "Karnofsky performance score"),
      col("diagtime", "integer", "months", "months from diagnosis to randomisation"),
      col("age", "integer", "years", "age"),
      col("prior", "integer", "", "prior therapy (0 = no, 10 = yes, as coded in R)")))

  # colon (adjuvant chemotherapy trial), death records (etype == 2).
  # Station = id %% 5 + 1. nodes and differ keep their NAs.
  d <- colon[colon$etype == 2, ]
  out$colon <- list(
    description = "Colon cancer adjuvant chemotherapy trial, deaths (R survival::colon, etype 2), split by patient id",
    rule = "station = id %% 5 + 1 (id = patient id); rows with etype 2 (death) only",
    station = d$id %% 5 + 1,
    data = data.frame(
      time = as.integer(d$time),
      status = as.integer(d$status),
      rx = factor(as.character(d$rx), levels = levels(colon$rx)),
      sex = factor(ifelse(d$sex == 1, "male", "female"), levels = c("female", "male")),
      age = as.integer(d$age),
      obstruct = as.integer(d$obstruct),
      perfor = as.integer(d$perfor),
      adhere = as.integer(d$adhere),
      nodes = as.integer(d$nodes),
      differ = as.integer(d$differ),
      extent = as.integer(d$extent),
      surg = as.integer(d$surg),
      node4 = as.integer(d$node4),
      log_years = log(d$time / 365.25)),
    cols = list(
      col("time", "integer", "days", "days until death or censoring"),
      col("status", "boolean", "", "1 = dead, 0 = censored"),
      col("rx", "category", "", "treatment: observation, levamisole, levamisole + 5-FU", levels(colon$rx)),
      col("sex", "category", "", "sex (R's colon: 0 female, 1 male)", c("female", "male")),
      col("age", "integer", "years", "age"),
      col("obstruct", "boolean", "", "obstruction of colon by tumour"),
      col("perfor", "boolean", "", "perforation of colon"),
      col("adhere", "boolean", "", "adherence to nearby organs"),
      col("nodes", "integer", "", "number of lymph nodes with detectable cancer"),
      col("differ", "integer", "", "differentiation of tumour (1 well, 2 moderate, 3 poor)"),
      col("extent", "integer", "", "extent of local spread (1 submucosa .. 4 contiguous structures)"),
      col("surg", "boolean", "", "long time from surgery to registration"),
      col("node4", "boolean", "", "more than 4 positive lymph nodes"),
      col("log_years", "number", "log(years)", "log(time / 365.25): the Poisson offset (log person-years)")))

  # colon_aliased: colon's rows and stations with two covariates R's coxph
  # and glm drop as aliased (NA): age_months = 12 x age (collinear with
  # age) and one = 1 (constant: collinear with glm's intercept, no
  # information in a Cox model).
  a <- out$colon
  keep <- c("time", "status", "rx", "sex", "age", "differ")
  out$colon_aliased <- list(
    description = paste0(a$description, ", with an aliased and a constant covariate"),
    rule = a$rule, station = a$station,
    data = cbind(a$data[keep], age_months = 12L * a$data$age, one = rep(1L, nrow(a$data))),
    cols = c(a$cols[match(keep, vapply(a$cols, function(c) c$name, ""))],
             list(col("age_months", "integer", "months", "age in months (12 x age: aliased with age)"),
                  col("one", "integer", "", "1 for every row (constant: aliased)"))))

  # pbc (Mayo primary biliary cholangitis), the 312 randomised patients.
  # Station = id %% 4 + 1. status: death = 1; transplant and alive = 0.
  d <- pbc[!is.na(pbc$trt), ]
  out$pbc <- list(
    description = "Mayo Clinic primary biliary cholangitis trial, randomised patients (R survival::pbc), split by patient id",
    rule = "station = id %% 4 + 1 (id = case number); the 106 non-randomised rows (trt NA) dropped",
    station = d$id %% 4 + 1,
    data = data.frame(
      time = as.integer(d$time),
      status = as.integer(d$status == 2),
      trt = factor(ifelse(d$trt == 1, "D-penicillamine", "placebo"), levels = c("D-penicillamine", "placebo")),
      age = d$age,
      sex = factor(as.character(d$sex), levels = levels(pbc$sex)),
      ascites = as.integer(d$ascites),
      hepato = as.integer(d$hepato),
      edema = d$edema,
      bili = d$bili,
      albumin = d$albumin,
      protime = d$protime,
      stage = as.integer(d$stage),
      log_bili = log(d$bili),
      log_protime = log(d$protime)),
    cols = list(
      col("time", "integer", "days", "days from registration to death, transplant or end of follow-up"),
      col("status", "boolean", "", "1 = dead; 0 = alive or transplanted (R's pbc status 2 vs 0/1)"),
      col("trt", "category", "", "treatment (R's 1 D-penicillamine, 2 placebo)", c("D-penicillamine", "placebo")),
      col("age", "number", "years", "age"),
      col("sex", "category", "", "sex (m, f)", levels(pbc$sex)),
      col("ascites", "boolean", "", "presence of ascites"),
      col("hepato", "boolean", "", "presence of hepatomegaly"),
      col("edema", "number", "", "0 none, 0.5 untreated or successfully treated, 1 despite diuretics"),
      col("bili", "number", "mg/dl", "serum bilirubin"),
      col("albumin", "number", "g/dl", "serum albumin"),
      col("protime", "number", "s", "standardised blood clotting time"),
      col("stage", "integer", "", "histologic stage (1-4)"),
      col("log_bili", "number", "", "log(bili)"),
      col("log_protime", "number", "", "log(protime)")))
  out
}

format_column <- function(x, type) {
  out <- character(length(x))
  ok <- !is.na(x)
  if (type == "integer" || type == "boolean") {
    if (any(x[ok] != round(x[ok]))) stop("non-integer value in an integer column")
    out[ok] <- sprintf("%d", as.integer(x[ok]))
  } else if (type == "number") {
    out[ok] <- fmt_num(as.double(x[ok]))
  } else if (type == "category") {
    out[ok] <- as.character(x[ok])
    if (any(grepl("[\",\n\r]", out))) stop("category level needs quoting")
  } else stop("unknown type ", type)
  out[!ok] <- "NA"
  out
}

dict_json <- function(name, description, cols) {
  list(dataset = name, description = description,
       columns = lapply(cols, function(c) {
         o <- list(name = c$name, type = c$type, unit = c$unit, description = c$description)
         if (!is.null(c$levels)) o$levels <- A(c$levels)
         o$missing <- A(c("", "NA"))
         o
       }))
}

write_station <- function(name, ds, st, dir) {
  rows <- ds$station == st
  d <- ds$data[rows, , drop = FALSE]
  cells <- mapply(function(x, c) format_column(x, c$type), d, ds$cols, SIMPLIFY = FALSE)
  lines <- c(paste(names(d), collapse = ","), do.call(paste, c(cells, sep = ",")))
  sname <- paste0("station", st)
  con <- file(file.path(dir, paste0(sname, ".csv")), "wb")
  writeLines(lines, con, sep = "\n")
  close(con)
  write_json(dict_json(name, paste0(ds$description, "; ", sname, " (", ds$rule, ")"), ds$cols),
             file.path(dir, paste0(sname, ".dict.json")))
  sum(rows)
}

# Reads the station files back into one pooled data frame with a station factor.
read_pooled <- function(name, ds, dir) {
  stations <- sort(unique(ds$station))
  parts <- lapply(stations, function(st) {
    raw <- read.csv(file.path(dir, paste0("station", st, ".csv")), colClasses = "character",
                    na.strings = c("", "NA"))
    d <- raw
    for (c in ds$cols) {
      v <- raw[[c$name]]
      d[[c$name]] <- switch(c$type,
        integer = as.integer(v), boolean = as.integer(v), number = as.numeric(v),
        category = factor(v, levels = c$levels))
      if (c$type == "category" && any(!is.na(v) & is.na(d[[c$name]]))) stop("level outside dictionary")
    }
    d$station <- paste0("station", st)
    d
  })
  pooled <- do.call(rbind, parts)
  pooled$station <- factor(pooled$station, levels = paste0("station", stations))
  # the files must carry the data exactly: compare with the source, station by station
  src <- do.call(rbind, lapply(stations, function(st) ds$data[ds$station == st, , drop = FALSE]))
  for (c in ds$cols)
    if (!identical(as.vector(src[[c$name]]), as.vector(pooled[[c$name]])) &&
        !(c$type == "category" && identical(as.character(src[[c$name]]), as.character(pooled[[c$name]]))))
      stop(name, ": column ", c$name, " does not round-trip through CSV")
  rownames(pooled) <- NULL
  pooled
}

# ---- Kaplan-Meier ----------------------------------------------------------

# survival's log-log interval and Greenwood SE, recomputed from the fit's
# counts, so that README's formulas are checked against survfit itself.
check_km_formulas <- function(fit) {
  se <- sqrt(cumsum(ifelse(fit$n.risk > fit$n.event, fit$n.event / (fit$n.risk * (fit$n.risk - fit$n.event)), Inf)))
  s <- fit$surv
  lo <- ifelse(s > 0 & s < 1, s^exp(-ZVAL * se / log(s)), NA)
  hi <- ifelse(s > 0 & s < 1, s^exp(ZVAL * se / log(s)), NA)
  i <- s > 0 & s < 1 & is.finite(se)
  stopifnot(isTRUE(all.equal(se[i], fit$std.err[i], tolerance = 1e-12)),
            isTRUE(all.equal(lo[i], fit$lower[i], tolerance = 1e-12)),
            isTRUE(all.equal(hi[i], fit$upper[i], tolerance = 1e-12)))
}

km_steps <- function(fit) {
  list(time = A(fit$time), n_risk = A(fit$n.risk), n_event = A(fit$n.event),
       n_censor = A(fit$n.censor), surv = A(fit$surv), std_err = A(fit$std.err),
       lower = A(fit$lower), upper = A(fit$upper))
}

km_median <- function(fit) {
  q <- quantile(fit, probs = 0.5)
  list(median = unname(q$quantile[1]), lower = unname(q$lower[1]), upper = unname(q$upper[1]))
}

km_curve <- function(d, grid) {
  fit <- survfit(Surv(time, status) ~ 1, data = d, conf.type = "log-log")
  check_km_formulas(fit)
  sg <- summary(fit, times = grid, extend = TRUE)
  dc <- d
  dc$time <- ceiling(d$time / INTERVAL) * INTERVAL
  fitc <- survfit(Surv(time, status) ~ 1, data = dc, conf.type = "log-log")
  check_km_formulas(fitc)
  list(
    n = nrow(d), events = sum(d$status),
    exact = list(steps = km_steps(fit), median = km_median(fit),
                 at_grid = list(time = A(sg$time), n_risk = A(sg$n.risk), n_event = A(sg$n.event),
                                surv = A(sg$surv), std_err = A(sg$std.err),
                                lower = A(sg$lower), upper = A(sg$upper))),
    grid = list(steps = km_steps(fitc), median = km_median(fitc)))
}

logrank <- function(formula, d) {
  sd <- survdiff(formula, data = d)
  df <- sum(sd$exp > 0) - 1
  list(chisq = sd$chisq, df = df, p = pchisq(sd$chisq, df, lower.tail = FALSE),
       n = A(as.vector(sd$n)), observed = A(as.vector(sd$obs)), expected = A(as.vector(sd$exp)),
       var = sd$var)
}

km_fixture <- function(name, d, group) {
  grid <- seq(INTERVAL, ceiling(max(d$time) / INTERVAL) * INTERVAL, by = INTERVAL)
  lv <- levels(d[[group]])
  curves <- lapply(lv, function(l) km_curve(d[!is.na(d[[group]]) & d[[group]] == l, ], grid))
  names(curves) <- lv
  dc <- d
  dc$time <- ceiling(d$time / INTERVAL) * INTERVAL
  f <- as.formula(paste("Surv(time, status) ~", group))
  c(provenance, list(
    dataset = name, train = "km", time = "time", event = "status",
    interval = INTERVAL, conf_type = "log-log", conf_int = 0.95,
    calls = list(
      exact = "survfit(Surv(time, status) ~ 1, conf.type = \"log-log\")",
      at_grid = "summary(fit, times = seq(interval, ceiling(max(time) / interval) * interval, by = interval), extend = TRUE)",
      grid = "survfit on time rounded up to the grid: ceiling(time / interval) * interval",
      logrank = paste0("survdiff(Surv(time, status) ~ ", group, ")")),
    overall = km_curve(d, grid),
    group = group, levels = A(lv), by_group = curves,
    logrank = list(exact = logrank(f, d), grid = logrank(f, dc))))
}

# ---- Cox ---------------------------------------------------------------------

# The same fit iterated to convergence far below R's default tolerance: how
# far R's default answer is from the limit, so that a train converging more
# (or less) tightly knows what agreement to expect.
tight_summary <- function(cf_default, se_default, cf_tight, se_tight, iter, extra) {
  rel <- function(a, b) max(abs(a - b) / pmax(abs(b), 1e-300), na.rm = TRUE)
  c(list(iterations = iter, coef = A(unname(cf_tight)), se = A(unname(se_tight)),
         max_rel_diff_coef = rel(cf_default, cf_tight), max_rel_diff_se = rel(se_default, se_tight)),
    extra)
}

cox_fit <- function(formula, d, ties) {
  fit <- coxph(formula, data = d, ties = ties)
  # (coxph.control warns that toler.chol is not below eps; the fits here are far from singular)
  tfit <- coxph(formula, data = d, ties = ties,
                control = suppressWarnings(coxph.control(eps = 1e-14, iter.max = 100)))
  s <- summary(fit)
  cf <- s$coefficients
  terms <- names(coef(fit))
  # an aliased term (coef NA) has NA everywhere, null in JSON (coxph's var
  # holds 0 for it, so its se(coef) prints as 0: NA here)
  coefs <- lapply(terms, function(t) list(
    coef = cf[t, "coef"], se = if (is.na(cf[t, "coef"])) NA else cf[t, "se(coef)"], z = cf[t, "z"], p = cf[t, "Pr(>|z|)"],
    hr = exp(cf[t, "coef"]),
    hr_lower = exp(cf[t, "coef"] - ZVAL * cf[t, "se(coef)"]),
    hr_upper = exp(cf[t, "coef"] + ZVAL * cf[t, "se(coef)"])))
  names(coefs) <- terms
  k <- sum(!is.na(coef(fit)))
  lr <- 2 * (fit$loglik[2] - fit$loglik[1])
  stopifnot(isTRUE(all.equal(lr, unname(s$logtest["test"]))))
  list(ties = ties, terms = A(terms), coefficients = coefs,
       var = unname(fit$var),
       loglik = list(initial = fit$loglik[1], final = fit$loglik[2]),
       wald = list(chisq = unname(fit$wald.test), df = k, p = pchisq(unname(fit$wald.test), k, lower.tail = FALSE)),
       lr = list(chisq = lr, df = k, p = pchisq(lr, k, lower.tail = FALSE)),
       score = list(chisq = unname(fit$score), df = k, p = pchisq(unname(fit$score), k, lower.tail = FALSE)),
       n = fit$n, events = fit$nevent, iterations = fit$iter,
       n_dropped = nrow(d) - fit$n,
       aliased = if (any(is.na(coef(fit)))) A(terms[is.na(coef(fit))]) else NULL,
       tight = tight_summary(coef(fit), sqrt(diag(fit$var)), coef(tfit), sqrt(diag(tfit$var)),
                             tfit$iter, list(eps = 1e-14, loglik_final = tfit$loglik[2])))
}

cox_fixture <- function(name, d, covariates) {
  f <- as.formula(paste("Surv(time, status) ~", paste(covariates, collapse = " + "), "+ strata(station)"))
  fstr <- paste(deparse(f, width.cutoff = 500), collapse = "")
  c(provenance, list(
    dataset = name, train = "cox", time = "time", event = "status", covariates = A(covariates),
    strata = "station",
    calls = list(efron = paste0("coxph(", fstr, ", ties = \"efron\")"),
                 breslow = paste0("coxph(", fstr, ", ties = \"breslow\")")),
    control = list(eps = coxph.control()$eps, toler_chol = coxph.control()$toler.chol,
                   iter_max = coxph.control()$iter.max),
    efron = cox_fit(f, d, "efron"),
    breslow = cox_fit(f, d, "breslow")))
}

# ---- GLM ---------------------------------------------------------------------

glm_fixture <- function(name, d, family, outcome, covariates, offset = NULL, event_value = NULL) {
  rhs <- paste(covariates, collapse = " + ")
  if (!is.null(offset)) rhs <- paste0(rhs, " + offset(", offset, ")")
  # event_value: a logistic model of one code of the outcome (the train's
  # param of that name): R's I(outcome == code)
  lhs <- if (is.null(event_value)) outcome else
    paste0("I(", outcome, " == ", if (is.character(event_value)) dQuote(event_value, FALSE) else event_value, ")")
  f <- as.formula(paste(lhs, "~", rhs))
  fam <- switch(family, binomial = binomial(link = "logit"), poisson = poisson(link = "log"),
                gaussian = gaussian(link = "identity"))
  fit <- glm(f, family = fam, data = d)
  # the tight fit leaves aliased terms out (numeric covariates: the term is
  # the column): with them R's IRLS need not settle at 1e-14
  al <- names(coef(fit))[is.na(coef(fit))]
  tf <- if (length(al) == 0) f else
    as.formula(paste(lhs, "~", paste(c(setdiff(covariates, al), if (!is.null(offset))
      paste0("offset(", offset, ")")), collapse = " + ")))
  tfit <- glm(tf, family = fam, data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
  stopifnot(fit$converged, tfit$converged)
  s <- summary(fit)
  cf <- s$coefficients
  terms <- names(coef(fit))
  stat <- if (family == "gaussian") "t" else "z"
  # summary() leaves an aliased term (coef NA) out: NA everywhere, null in JSON
  coefs <- lapply(terms, function(t) {
    o <- if (t %in% rownames(cf)) list(coef = cf[t, 1], se = cf[t, 2], stat = cf[t, 3], p = cf[t, 4])
         else list(coef = NA, se = NA, stat = NA, p = NA)
    names(o)[3] <- stat
    o
  })
  names(coefs) <- terms
  fstr <- paste(deparse(f, width.cutoff = 500), collapse = "")
  c(provenance, list(
    dataset = name, train = "glm", family = family, link = fam$link,
    outcome = outcome, event_value = event_value, covariates = A(covariates), offset = offset,
    aliased = if (any(is.na(coef(fit)))) A(terms[is.na(coef(fit))]) else NULL,
    station_terms = FALSE,
    call = paste0("glm(", fstr, ", family = ", family, "(link = \"", fam$link, "\"))"),
    control = list(epsilon = glm.control()$epsilon, maxit = glm.control()$maxit),
    terms = A(terms), coefficients = coefs, statistic = stat,
    cov_unscaled = unname(s$cov.unscaled),
    dispersion = s$dispersion,
    deviance = fit$deviance, null_deviance = fit$null.deviance,
    df_residual = fit$df.residual, df_null = fit$df.null,
    aic = fit$aic, loglik = as.numeric(logLik(fit)),
    iterations = fit$iter, n = nrow(model.frame(fit)),
    n_dropped = nrow(d) - nrow(model.frame(fit)),
    tight = tight_summary(coef(fit)[!is.na(coef(fit))], sqrt(diag(vcov(fit))), coef(tfit),
                          sqrt(diag(vcov(tfit))),
                          tfit$iter, list(epsilon = 1e-14, deviance = tfit$deviance))))
}

# ---- main --------------------------------------------------------------------

dir.create(exp_dir, recursive = TRUE, showWarnings = FALSE)
sets <- prepare()
pooled <- list()
split_summary <- list()
for (name in names(sets)) {
  ds <- sets[[name]]
  stopifnot(identical(names(ds$data), vapply(ds$cols, function(c) c$name, "")))
  dir <- file.path(data_dir, name)
  unlink(dir, recursive = TRUE)
  dir.create(dir, recursive = TRUE)
  n <- vapply(sort(unique(ds$station)), function(st) write_station(name, ds, st, dir), 0)
  names(n) <- paste0("station", sort(unique(ds$station)))
  pooled[[name]] <- read_pooled(name, ds, dir)
  split_summary[[name]] <- list(rule = ds$rule, rows = as.list(n))
  cat(sprintf("%-8s %4d rows: %s\n", name, nrow(pooled[[name]]),
              paste(names(n), n, sep = "=", collapse = " ")))
}

fixtures <- list(
  km_lung = km_fixture("lung", pooled$lung, "sex"),
  km_veteran = km_fixture("veteran", pooled$veteran, "celltype"),
  km_colon = km_fixture("colon", pooled$colon, "rx"),
  km_pbc = km_fixture("pbc", pooled$pbc, "trt"),
  cox_lung = cox_fixture("lung", pooled$lung, c("age", "sex", "ph_ecog")),
  cox_veteran = cox_fixture("veteran", pooled$veteran, c("trt", "celltype", "karno", "age")),
  cox_colon = cox_fixture("colon", pooled$colon, c("rx", "sex", "age", "nodes")),
  cox_pbc = cox_fixture("pbc", pooled$pbc, c("age", "edema", "log_bili", "albumin", "log_protime", "trt")),
  glm_binomial_colon = glm_fixture("colon", pooled$colon, "binomial", "status",
                                   c("rx", "sex", "age", "obstruct", "node4")),
  glm_poisson_colon = glm_fixture("colon", pooled$colon, "poisson", "status",
                                  c("rx", "age", "node4", "extent"), offset = "log_years"),
  glm_gaussian_pbc = glm_fixture("pbc", pooled$pbc, "gaussian", "albumin",
                                 c("age", "sex", "log_bili", "edema")),
  glm_gaussian_lung = glm_fixture("lung", pooled$lung, "gaussian", "wt_loss",
                                  c("age", "sex", "ph_ecog")),
  glm_binomial_event_colon = glm_fixture("colon", pooled$colon, "binomial", "differ",
                                         c("rx", "sex", "age"), event_value = 3L),
  glm_poisson_nodes_colon = glm_fixture("colon", pooled$colon, "poisson", "nodes",
                                        c("rx", "sex", "age", "differ")),
  cox_aliased_colon = cox_fixture("colon_aliased", pooled$colon_aliased,
                                  c("rx", "sex", "age", "age_months", "one")),
  glm_aliased_colon = glm_fixture("colon_aliased", pooled$colon_aliased, "binomial", "status",
                                  c("rx", "sex", "age", "age_months", "one")),
  glm_gaussian_aliased_colon = glm_fixture("colon_aliased", pooled$colon_aliased, "gaussian", "differ",
                                           c("age", "one", "sex", "age_months")))

for (f in names(fixtures)) {
  fx <- fixtures[[f]]
  fx$stations <- split_summary[[fx$dataset]]
  write_json(fx, file.path(exp_dir, paste0(f, ".json")))
  cat("wrote", file.path("tests/reference/expected", paste0(f, ".json")), "\n")
}
write_json(c(provenance, list(datasets = split_summary)), file.path(exp_dir, "index.json"))
