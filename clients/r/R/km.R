# Kaplan-Meier curves (km.lua).

#' Kaplan-Meier survival curves on the stations' time grid
#'
#' Runs the standard train \code{km.lua}: the pooled Kaplan-Meier estimate
#' on the stations' time grid, optionally one curve per group with the
#' log-rank test, with Greenwood standard errors and R's log-log 95\%
#' interval.
#'
#' @inheritParams pht_cox
#' @param formula \code{Surv(time, event) ~ 1} or \code{Surv(time, event) ~
#'   group}; or give \code{time}, \code{event} and \code{group}.
#' @param time,event,event_value,group columns and the event's code.
#' @param interval grid width in the time unit (the stations' resolution is
#'   the floor).
#' @param min_cell patients per released step (the stations' k and policy
#'   are the floor).
#' @param train the train file (default: the standard \code{km.lua}).
#' @return an object of class \code{pht_km}: \code{curves} (a list of
#'   \code{group, n, events, median, median_lower, median_upper} and
#'   \code{table}, a data frame: time, n_risk, n_event, n_censor, surv,
#'   std_err, lower, upper), \code{logrank}, \code{interval}, \code{n},
#'   \code{events}, \code{stations}, \code{notes} and the parsed JSON.
#' @export
pht_km <- function(where, formula = NULL, time = NULL, event = NULL, group = NULL,
                   event_value = NULL, interval = NULL, min_cell = NULL, k = NULL,
                   train = "km") {
  if (!is.null(formula)) {
    s <- formula_surv(formula)
    time <- s$time
    event <- s$event
    if (!is.null(s$event_value)) event_value <- s$event_value
    g <- formula_rhs(formula)$covariates
    if (length(g) > 1L) stop("formula: one group column at most", call. = FALSE)
    if (length(g) == 1L) group <- g
  }
  if (is.null(time) || is.null(event)) stop("pht_km: time and event are needed", call. = FALSE)
  params <- drop_null(list(time = time, event = event, event_value = event_value,
                           group = group, interval = interval, min_cell = min_cell, k = k))
  obj <- pht_train(where, train, params, type = "km")
  obj$call <- match.call()
  obj
}

km_cols <- c("time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper")

new_pht_km <- function(json) {
  curves <- lapply(json$curves %||% list(), function(c) {
    list(group = pht_key(c$group), n = pht_num(c$n), events = pht_num(c$events),
         median = pht_num(c$median), median_lower = pht_num(c$median_lower),
         median_upper = pht_num(c$median_upper),
         table = pht_records(c$table, cols = km_cols, only = TRUE))
  })
  names(curves) <- vapply(curves, function(c) if (is.na(c$group)) "all" else c$group, "")
  lr <- json$logrank
  logrank <- if (is.null(lr)) NULL else list(
    chisq = pht_num(lr$chisq), df = pht_num(lr$df), p = pht_num(lr$p),
    groups = pht_records(lr$groups, cols = c("group", "n", "observed", "expected"),
                         keys = "group"))
  structure(list(curves = curves, logrank = logrank, interval = pht_num(json$interval),
                 n = pht_num(json$n), events = pht_num(json$events),
                 dropped = pht_num(json$dropped), stations = pht_stations(json),
                 notes = pht_strings(json$notes), json = json), class = "pht_km")
}

km_summary_matrix <- function(x) {
  m <- t(vapply(x$curves, function(c) c(n = c$n, events = c$events, median = c$median,
                                        `0.95LCL` = c$median_lower,
                                        `0.95UCL` = c$median_upper), numeric(5)))
  rownames(m) <- km_labels(x)
  m
}

km_labels <- function(x) {
  g <- names(x$curves)
  if (length(g) == 1L && is.na(x$curves[[1L]]$group)) return("all")
  col <- x$json$group %||% x$params$group
  if (is.character(col) && length(col) == 1L) paste0(col, "=", g) else g
}

#' @export
print.pht_km <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  if (!is.null(x$call)) {
    cat("Call: ")
    print(x$call)
    cat("\n")
  }
  print(km_summary_matrix(x), digits = digits)
  cat("Times on a grid of ", format(x$interval), " (the stations'); ", x$dropped,
      " rows dropped for missing values\n", sep = "")
  if (!is.null(x$logrank)) {
    cat("\nLog-rank test:\n")
    g <- x$logrank$groups
    m <- cbind(N = g$n, Observed = g$observed, Expected = g$expected,
               `(O-E)^2/E` = (g$observed - g$expected)^2 / g$expected)
    rownames(m) <- g$group
    print(m, digits = digits)
    cat("\n Chisq= ", format(round(x$logrank$chisq, 1)), "  on ", x$logrank$df,
        " degrees of freedom, p= ", format.pval(x$logrank$p, digits = 2L), "\n", sep = "")
  }
  print_notes(x)
  invisible(x)
}

#' @export
summary.pht_km <- function(object, ...) {
  structure(list(tables = lapply(object$curves, `[[`, "table"), labels = km_labels(object),
                 medians = km_summary_matrix(object), logrank = object$logrank,
                 notes = object$notes, json = object$json), class = "summary.pht_km")
}

#' @export
print.summary.pht_km <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  for (i in seq_along(x$tables)) {
    cat("               ", x$labels[i], "\n", sep = "")
    t <- x$tables[[i]]
    names(t) <- c("time", "n.risk", "n.event", "n.censor", "survival", "std.err",
                  "lower 95% CI", "upper 95% CI")
    print(t, digits = digits, row.names = FALSE)
    cat("\n")
  }
  print(x$medians, digits = digits)
  print_notes(x)
  invisible(x)
}

#' @export
as.data.frame.pht_km <- function(x, row.names = NULL, optional = FALSE, ...) {
  parts <- lapply(x$curves, function(c) {
    cbind(group = rep(c$group, nrow(c$table)), c$table, stringsAsFactors = FALSE)
  })
  out <- do.call(rbind, parts)
  rownames(out) <- NULL
  out
}

#' Medians of Kaplan-Meier curves with their 95\% interval
#'
#' @param object a \code{pht_km} result.
#' @param parm curves (group names or indices; default all).
#' @param level only 0.95 (the interval the stations' curves carry).
#' @param ... unused.
#' @return a matrix, one row per curve: median, lower and upper limit
#'   (\code{NA} where not reached), as R's \code{quantile.survfit}.
#' @export
confint.pht_km <- function(object, parm, level = 0.95, ...) {
  if (!isTRUE(all.equal(level, 0.95))) stop("the curves carry 95% intervals only")
  m <- km_summary_matrix(object)[, c("median", "0.95LCL", "0.95UCL"), drop = FALSE]
  colnames(m) <- c("median", "2.5 %", "97.5 %")
  if (!missing(parm)) m <- m[parm, , drop = FALSE]
  m
}
