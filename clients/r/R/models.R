# Cox models (cox.lua) and generalized linear models (glm.lua).

# The variables of a one-sided or two-sided model formula's right-hand side
# (plain column names only) and its offset, if any.
formula_rhs <- function(f) {
  tt <- stats::terms(f)
  labels <- attr(tt, "term.labels")
  bad <- labels[!grepl("^[A-Za-z.][A-Za-z0-9._]*$|^`[^`]+`$", labels)]
  if (length(bad))
    stop("formula: only column names are supported on the right-hand side, not ",
         paste(bad, collapse = ", "), " (interactions and transformations are columns the ",
         "station must hold)", call. = FALSE)
  offset <- NULL
  oi <- attr(tt, "offset")
  if (length(oi)) {
    if (length(oi) > 1L) stop("formula: at most one offset()", call. = FALSE)
    oc <- attr(tt, "variables")[[oi + 1L]]
    if (!is.name(oc[[2L]])) stop("formula: offset() of a column name", call. = FALSE)
    offset <- as.character(oc[[2L]])
  }
  list(covariates = gsub("`", "", labels), offset = offset)
}

# Surv(time, event) or Surv(time, event == value) on a formula's left side.
formula_surv <- function(f) {
  lhs <- if (length(f) == 3L) f[[2L]] else NULL
  fn <- if (is.call(lhs)) lhs[[1L]] else NULL
  if (is.call(fn) && identical(as.character(fn[[1L]]), "::")) fn <- fn[[3L]]
  if (!is.name(fn) || !identical(as.character(fn), "Surv") || length(lhs) != 3L)
    stop("formula: the left-hand side must be Surv(time, event)", call. = FALSE)
  ev <- lhs[[3L]]
  value <- NULL
  if (is.call(ev) && identical(as.character(ev[[1L]]), "==")) {
    value <- ev[[3L]]
    ev <- ev[[2L]]
  }
  if (!is.name(lhs[[2L]]) || !is.name(ev))
    stop("formula: Surv() of column names", call. = FALSE)
  list(time = as.character(lhs[[2L]]), event = as.character(ev), event_value = value)
}

drop_null <- function(l) l[!vapply(l, is.null, TRUE)]

#' Cox proportional hazards model, stratified by station
#'
#' Runs the standard train \code{cox.lua}: R's
#' \code{coxph(Surv(time, event) ~ covariates + strata(station))}, fitted by
#' federated Newton-Raphson.
#'
#' @param where \code{\link{pht_local}()} or \code{\link{pht_federation}()},
#'   or the stations' CSV files.
#' @param formula \code{Surv(time, event) ~ x1 + x2} (column names; the event
#'   may be written \code{event == value}), or give \code{time}, \code{event}
#'   and \code{covariates}.
#' @param time,event,covariates,event_value columns and the event's code.
#' @param ties \code{"efron"} or \code{"breslow"}.
#' @param max_iter,eps iteration limit and convergence criterion (the
#'   train's defaults: 20 and 1e-9, as R's \code{coxph.control}).
#' @param k raises the stations' k (never lowers it).
#' @param train the train file (default: the standard \code{cox.lua}).
#' @return an object of class \code{pht_cox}: \code{coefficients} (a data
#'   frame: name, coef, exp_coef, se, z, p, lower95, upper95), \code{loglik},
#'   \code{lr_test}, \code{wald_test}, \code{score_test}, \code{iterations},
#'   \code{converged}, \code{n}, \code{events}, \code{ties}, \code{stations},
#'   \code{notes} and the parsed JSON (\code{json}).
#' @export
pht_cox <- function(where, formula = NULL, time = NULL, event = NULL, covariates = NULL,
                    event_value = NULL, ties = c("efron", "breslow"), max_iter = NULL,
                    eps = NULL, k = NULL, train = "cox") {
  if (!is.null(formula)) {
    s <- formula_surv(formula)
    time <- s$time
    event <- s$event
    if (!is.null(s$event_value)) event_value <- s$event_value
    covariates <- formula_rhs(formula)$covariates
  }
  if (is.null(time) || is.null(event) || length(covariates) == 0L)
    stop("pht_cox: time, event and at least one covariate are needed", call. = FALSE)
  params <- drop_null(list(time = time, event = event, covariates = I(covariates),
                           event_value = event_value, ties = match.arg(ties),
                           max_iter = max_iter, eps = eps, k = k))
  obj <- pht_train(where, train, params, type = "cox")
  obj$call <- match.call()
  obj
}

new_pht_cox <- function(json) {
  co <- pht_records(json$coefficients,
                    cols = c("name", "coef", "exp_coef", "se", "z", "p", "lower95", "upper95"))
  structure(list(
    coefficients = co,
    loglik = vapply(json$loglik %||% list(), pht_num, 0),
    lr_test = pht_test(json$lr_test), wald_test = pht_test(json$wald_test),
    score_test = pht_test(json$score_test),
    iterations = pht_int(json$iterations), converged = pht_lgl(json$converged),
    n = pht_num(json$n), events = pht_num(json$events),
    ties = if (is.null(json$ties)) NA_character_ else json$ties,
    stations = pht_stations(json), notes = pht_strings(json$notes),
    json = json), class = "pht_cox")
}

`%||%` <- function(a, b) if (is.null(a)) b else a

#' @export
coef.pht_cox <- function(object, ...) {
  stats::setNames(object$coefficients$coef, object$coefficients$name)
}

#' Wald confidence intervals of a PHT model's coefficients
#'
#' For \code{pht_cox} on the log hazard ratio scale (as \code{confint} of a
#' \code{coxph} fit; \code{exp()} gives the hazard ratios' interval), for
#' \code{pht_glm} on the link scale: estimate plus or minus the normal (or,
#' for a gaussian model, Student's t) quantile times the standard error.
#'
#' @param object a \code{pht_cox} or \code{pht_glm} result.
#' @param parm coefficient names or indices (default all).
#' @param level the confidence level.
#' @param ... unused.
#' @return a matrix with one row per coefficient.
#' @export
confint.pht_cox <- function(object, parm, level = 0.95, ...) {
  wald_confint(coef(object), object$coefficients$se, parm, level, Inf)
}

wald_confint <- function(est, se, parm, level, df) {
  names(se) <- names(est)
  if (!missing(parm)) {
    est <- est[parm]
    se <- se[parm]
  }
  a <- (1 - level) / 2
  q <- if (is.finite(df)) stats::qt(1 - a, df) else stats::qnorm(1 - a)
  ci <- cbind(est - q * se, est + q * se)
  dimnames(ci) <- list(names(est), paste(format(100 * c(a, 1 - a), trim = TRUE,
                                                scientific = FALSE, digits = 3L), "%"))
  ci
}

#' @export
as.data.frame.pht_cox <- function(x, row.names = NULL, optional = FALSE, ...) {
  x$coefficients
}

#' @export
print.pht_cox <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  if (!is.null(x$call)) {
    cat("Call:\n")
    print(x$call)
    cat("\n")
  }
  co <- x$coefficients
  m <- cbind(coef = co$coef, `exp(coef)` = co$exp_coef, `se(coef)` = co$se, z = co$z, p = co$p)
  rownames(m) <- co$name
  stats::printCoefmat(m, digits = digits, P.values = TRUE, has.Pvalue = TRUE,
                      signif.stars = FALSE, ...)
  cat("\nLikelihood ratio test=", format(round(x$lr_test[["chisq"]], 2)), "  on ",
      x$lr_test[["df"]], " df, p=", fmt_p(x$lr_test[["p"]]), "\n", sep = "")
  cat("n= ", x$n, ", number of events= ", x$events, "\n", sep = "")
  cat("Stratified by station (", nrow(x$stations), " stations), ties: ", x$ties,
      if (isFALSE(x$converged)) ", NOT converged" else "",
      ", iterations: ", x$iterations, "\n", sep = "")
  print_notes(x)
  invisible(x)
}

#' @export
summary.pht_cox <- function(object, conf.int = 0.95, ...) {
  co <- object$coefficients
  m <- cbind(coef = co$coef, `exp(coef)` = co$exp_coef, `se(coef)` = co$se,
             z = co$z, `Pr(>|z|)` = co$p)
  rownames(m) <- co$name
  ci <- exp(confint(object, level = conf.int))
  ci <- cbind(`exp(coef)` = co$exp_coef, `exp(-coef)` = 1 / co$exp_coef, ci)
  colnames(ci)[3:4] <- paste(c("lower", "upper"), format(conf.int))
  structure(list(call = object$call, coefficients = m, conf.int = ci, n = object$n,
                 events = object$events, loglik = object$loglik, logtest = object$lr_test,
                 waldtest = object$wald_test, sctest = object$score_test,
                 stations = object$stations, iterations = object$iterations,
                 converged = object$converged, notes = object$notes, json = object$json),
            class = "summary.pht_cox")
}

#' @export
print.summary.pht_cox <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  if (!is.null(x$call)) {
    cat("Call:\n")
    print(x$call)
    cat("\n")
  }
  cat("  n= ", x$n, ", number of events= ", x$events, "\n\n", sep = "")
  stats::printCoefmat(x$coefficients, digits = digits, signif.stars = TRUE, ...)
  cat("\n")
  print(x$conf.int, digits = digits)
  cat("\n")
  tl <- function(lab, t) cat(sprintf("%-26s= %s  on %s df,   p=%s\n", lab,
                                     format(round(t[["chisq"]], 2)), t[["df"]],
                                     fmt_p(t[["p"]])))
  tl("Likelihood ratio test", x$logtest)
  tl("Wald test", x$waldtest)
  tl("Score (logrank) test", x$sctest)
  cat("\nStations:\n")
  print(x$stations, row.names = FALSE)
  print_notes(x)
  invisible(x)
}

#' Generalized linear model
#'
#' Runs the standard train \code{glm.lua}: R's \code{glm(outcome ~
#' covariates, family)} on the pooled data (one model for all stations), by
#' federated IRLS.
#'
#' @inheritParams pht_cox
#' @param formula \code{y ~ x1 + x2} with column names, optionally
#'   \code{+ offset(column)}; or give \code{outcome}, \code{covariates} and
#'   \code{offset}.
#' @param family \code{"gaussian"}, \code{"binomial"} (logit) or
#'   \code{"poisson"} (log), or the family function or object of that name.
#' @param outcome,covariates,offset columns.
#' @param max_iter,epsilon as R's \code{glm.control} (25 and 1e-8).
#' @param train the train file (default: the standard \code{glm.lua}).
#' @return an object of class \code{pht_glm}: \code{coefficients} (a data
#'   frame: name, estimate, se, z or t, p), \code{deviance},
#'   \code{null_deviance}, \code{df_residual}, \code{df_null}, \code{aic},
#'   \code{dispersion}, \code{iterations}, \code{converged}, \code{family},
#'   \code{link}, \code{n}, \code{stations}, \code{notes} and the parsed JSON.
#' @export
pht_glm <- function(where, formula = NULL, family = "gaussian", outcome = NULL,
                    covariates = character(), offset = NULL, max_iter = NULL,
                    epsilon = NULL, k = NULL, train = "glm") {
  if (is.function(family)) family <- family()
  if (is.list(family)) family <- family$family
  family <- match.arg(family, c("gaussian", "binomial", "poisson"))
  if (!is.null(formula)) {
    if (length(formula) != 3L || !is.name(formula[[2L]]))
      stop("formula: the left-hand side must be a column name", call. = FALSE)
    outcome <- as.character(formula[[2L]])
    r <- formula_rhs(formula)
    covariates <- r$covariates
    if (!is.null(r$offset)) offset <- r$offset
  }
  if (is.null(outcome)) stop("pht_glm: an outcome is needed", call. = FALSE)
  params <- drop_null(list(family = family, outcome = outcome,
                           covariates = I(as.character(covariates)), offset = offset,
                           max_iter = max_iter, epsilon = epsilon, k = k))
  obj <- pht_train(where, train, params, type = "glm")
  obj$call <- match.call()
  obj
}

new_pht_glm <- function(json) {
  co <- pht_records(json$coefficients, cols = c("name", "estimate", "se"))
  stat <- if ("t" %in% names(co)) "t" else "z"
  co <- co[, unique(c("name", "estimate", "se", intersect(c("z", "t"), names(co)), "p",
                      names(co))), drop = FALSE]
  structure(list(
    coefficients = co, statistic = stat,
    deviance = pht_num(json$deviance), null_deviance = pht_num(json$null_deviance),
    df_residual = pht_num(json$df_residual), df_null = pht_num(json$df_null),
    aic = pht_num(json$aic), dispersion = pht_num(json$dispersion),
    iterations = pht_int(json$iterations), converged = pht_lgl(json$converged),
    family = json$family %||% NA_character_, link = json$link %||% NA_character_,
    n = pht_num(json$n), stations = pht_stations(json), notes = pht_strings(json$notes),
    json = json), class = "pht_glm")
}

#' @export
coef.pht_glm <- function(object, ...) {
  stats::setNames(object$coefficients$estimate, object$coefficients$name)
}

#' @rdname confint.pht_cox
#' @export
confint.pht_glm <- function(object, parm, level = 0.95, ...) {
  df <- if (object$statistic == "t") object$df_residual else Inf
  wald_confint(coef(object), object$coefficients$se, parm, level, df)
}

#' @export
as.data.frame.pht_glm <- function(x, row.names = NULL, optional = FALSE, ...) {
  x$coefficients
}

glm_coefmat <- function(x) {
  co <- x$coefficients
  m <- cbind(co$estimate, co$se, co[[x$statistic]], co$p)
  dimnames(m) <- list(co$name, c("Estimate", "Std. Error", paste(x$statistic, "value"),
                                 paste0("Pr(>|", x$statistic, "|)")))
  m
}

#' @export
print.pht_glm <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  if (!is.null(x$call)) {
    cat("Call:  ")
    print(x$call)
  }
  cat("\nFamily:", x$family, " Link:", x$link, "\n\nCoefficients:\n")
  print.default(format(coef(x), digits = digits), print.gap = 2L, quote = FALSE)
  cat("\nDegrees of Freedom:", x$df_null, "Total (i.e. Null); ", x$df_residual, "Residual\n")
  cat("Null Deviance:\t   ", format(signif(x$null_deviance, digits)),
      "\nResidual Deviance:", format(signif(x$deviance, digits)), "\tAIC:",
      format(signif(x$aic, digits)), "\n")
  print_notes(x)
  invisible(x)
}

#' @export
summary.pht_glm <- function(object, ...) {
  structure(c(object, list(coefmat = glm_coefmat(object))), class = "summary.pht_glm")
}

#' @export
print.summary.pht_glm <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  if (!is.null(x$call)) {
    cat("Call:\n")
    print(x$call)
  }
  cat("\nCoefficients:\n")
  stats::printCoefmat(x$coefmat, digits = digits, signif.stars = TRUE, ...)
  cat("\n(Dispersion parameter for ", x$family, " family taken to be ",
      format(x$dispersion), ")\n\n", sep = "")
  cat(sprintf("    Null deviance: %s  on %s  degrees of freedom\n",
              format(signif(x$null_deviance, 5L)), x$df_null))
  cat(sprintf("Residual deviance: %s  on %s  degrees of freedom\n",
              format(signif(x$deviance, 5L)), x$df_residual))
  cat("AIC: ", format(signif(x$aic, 5L)), "\n\n", sep = "")
  cat("Number of Fisher Scoring iterations: ", x$iterations,
      if (isFALSE(x$converged)) " (NOT converged)" else "", "\n", sep = "")
  cat("n = ", x$n, " on ", nrow(x$stations), " stations\n", sep = "")
  print_notes(x)
  invisible(x)
}
