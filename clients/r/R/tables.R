# Counts (count.lua), contingency tables (crosstab.lua), descriptive
# statistics (summary.lua) and the registry report (outcomes.lua).

#' Contingency table of two columns
#'
#' Runs the standard train \code{crosstab.lua}.
#'
#' @inheritParams pht_cox
#' @param rows,cols category, boolean or integer columns.
#' @param train the train file (default: the standard \code{crosstab.lua}).
#' @return an object of class \code{pht_crosstab}: \code{table} (the pooled
#'   counts, a matrix: sums of the released cells), \code{incomplete} (a
#'   logical matrix: some station suppressed that cell), \code{stations} (one
#'   matrix per station, \code{NA} where suppressed), \code{notes} and the
#'   parsed JSON.
#' @export
pht_crosstab <- function(where, rows, cols, k = NULL, train = "crosstab") {
  params <- drop_null(list(rows = rows, cols = cols, k = k))
  obj <- pht_train(where, train, params, type = "crosstab")
  obj$call <- match.call()
  obj
}

cells_matrix <- function(cells, rv, cv, field) {
  m <- matrix(NA, length(rv), length(cv), dimnames = list(rv, cv))
  for (c in cells) {
    r <- pht_key(c$row)
    k <- pht_key(c$col)
    if (r %in% rv && k %in% cv) {
      v <- c[[field]]
      m[r, k] <- if (is.null(v)) NA else v
    }
  }
  m
}

new_pht_crosstab <- function(json) {
  rv <- vapply(json$row_values %||% list(), pht_key, "")
  cv <- vapply(json$col_values %||% list(), pht_key, "")
  dn <- function(m) {
    names(dimnames(m)) <- c(json$rows %||% "rows", json$cols %||% "cols")
    m
  }
  tab <- dn(cells_matrix(json$pooled$cells, rv, cv, "count"))
  storage.mode(tab) <- "numeric"
  inc <- dn(cells_matrix(json$pooled$cells, rv, cv, "incomplete"))
  storage.mode(inc) <- "logical"
  inc[is.na(inc)] <- FALSE
  st <- lapply(json$stations %||% list(), function(s) {
    m <- dn(cells_matrix(s$cells, rv, cv, "count"))
    storage.mode(m) <- "numeric"
    m
  })
  names(st) <- vapply(json$stations %||% list(), function(s) pht_key(s$id), "")
  structure(list(table = tab, incomplete = inc, stations = st,
                 notes = pht_strings(json$notes), json = json), class = "pht_crosstab")
}

#' @export
print.pht_crosstab <- function(x, ...) {
  m <- x$table
  f <- matrix(format(m), nrow(m), dimnames = dimnames(m))
  f[x$incomplete] <- paste0(f[x$incomplete], "*")
  print(f, quote = FALSE, right = TRUE)
  if (any(x$incomplete))
    cat("* some station suppressed its count of this cell (under k): the pooled count",
        "is a lower bound\n")
  print_notes(x)
  invisible(x)
}

#' @export
summary.pht_crosstab <- function(object, ...) {
  tab <- object$table
  test <- suppressWarnings(stats::chisq.test(tab[rowSums(tab) > 0, colSums(tab) > 0,
                                                 drop = FALSE], correct = FALSE))
  structure(list(table = tab, test = test, incomplete = sum(object$incomplete),
                 notes = object$notes, json = object$json), class = "summary.pht_crosstab")
}

#' @export
print.summary.pht_crosstab <- function(x, ...) {
  cat("Pooled table:", sum(x$table), "rows in", nrow(x$table), "x", ncol(x$table),
      "cells\n")
  cat("Pearson's chi-squared test of independence: X-squared = ",
      format(round(x$test$statistic, 4)), ", df = ", x$test$parameter, ", p = ",
      fmt_p(x$test$p.value), "\n", sep = "")
  if (x$incomplete > 0L)
    cat("(on released counts only:", x$incomplete, "cells are incomplete)\n")
  print_notes(x)
  invisible(x)
}

#' @export
as.data.frame.pht_crosstab <- function(x, row.names = NULL, optional = FALSE, ...) {
  d <- dimnames(x$table)
  out <- expand.grid(row = d[[1L]], col = d[[2L]], stringsAsFactors = FALSE)
  out$count <- as.vector(x$table)
  out$incomplete <- as.vector(x$incomplete)
  names(out)[1:2] <- names(d)
  out
}

#' @export
as.table.pht_crosstab <- function(x, ...) as.table(x$table)

#' @export
plot.pht_crosstab <- function(x, main = NULL, ...) {
  if (is.null(main)) main <- paste(names(dimnames(x$table)), collapse = " by ")
  graphics::mosaicplot(x$table, main = main, color = TRUE, las = 2, ...)
  invisible(sum(x$table > 0))
}

#' Descriptive statistics by station and pooled
#'
#' Runs the standard train \code{summary.lua}.
#'
#' @inheritParams pht_cox
#' @param columns columns to describe (default: all).
#' @param histograms a named list: per numeric column \code{c(from = ,
#'   to = , width = )}.
#' @param quantiles probabilities, e.g. \code{c(0.25, 0.5, 0.75)}.
#' @param train the train file (default: the standard \code{summary.lua}).
#' @return an object of class \code{pht_summary}: \code{numeric} (a data
#'   frame: column, n, missing, mean, sd, incomplete, and one column per
#'   quantile), \code{categories} (a data frame: column, value, count,
#'   incomplete), \code{histograms} (a list of data frames: from, to, count,
#'   incomplete), \code{notes} and the parsed JSON.
#' @export
pht_summary <- function(where, columns = NULL, histograms = NULL, quantiles = NULL,
                        k = NULL, train = "summary") {
  h <- if (is.null(histograms)) NULL else lapply(histograms, function(v) as.list(v))
  params <- drop_null(list(columns = if (!is.null(columns)) I(columns), histograms = h,
                           quantiles = if (!is.null(quantiles)) I(quantiles), k = k))
  obj <- pht_train(where, train, params, type = "summary")
  obj$call <- match.call()
  obj
}

new_pht_summary <- function(json) {
  num <- pht_records(json$numeric, cols = c("column", "n", "missing", "mean", "sd",
                                             "incomplete"))
  for (i in seq_along(json$numeric)) {
    for (q in json$numeric[[i]]$quantiles %||% list()) {
      nm <- paste0("q", format(100 * pht_num(q$p)))
      if (is.null(num[[nm]])) num[[nm]] <- NA_real_
      num[[nm]][i] <- pht_num(q$mean)
    }
  }
  cats <- do.call(rbind, c(list(data.frame(column = character(), value = character(),
                                           count = numeric(), incomplete = logical())),
                           lapply(json$categories %||% list(), function(c) {
    lv <- pht_records(c$levels, cols = c("value", "count", "incomplete"), keys = "value",
                      only = TRUE)
    miss <- data.frame(value = NA_character_, count = pht_num(c$missing),
                       incomplete = isTRUE(c$missing_incomplete))
    lv <- rbind(lv, miss)
    cbind(column = rep(pht_key(c$column), nrow(lv)), lv, stringsAsFactors = FALSE)
  })))
  hist <- lapply(json$histograms %||% list(), function(h) {
    b <- pht_records(h$bins, cols = c("from", "to", "count", "incomplete"), only = TRUE)
    attr(b, "below") <- pht_num(h$below$count %||% h$below)
    attr(b, "above") <- pht_num(h$above$count %||% h$above)
    b
  })
  names(hist) <- vapply(json$histograms %||% list(), function(h) pht_key(h$column), "")
  structure(list(numeric = num, categories = cats, histograms = hist,
                 notes = pht_strings(json$notes), json = json), class = "pht_summary")
}

#' @export
print.pht_summary <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  if (nrow(x$numeric)) {
    cat("Numeric columns (pooled):\n")
    print(x$numeric, digits = digits, row.names = FALSE)
  }
  if (nrow(x$categories)) {
    cat("\nCategories (pooled; value NA = missing):\n")
    print(x$categories, row.names = FALSE)
  }
  if (length(x$histograms))
    cat("\nHistograms of:", paste(names(x$histograms), collapse = ", "), "(plot() draws them)\n")
  print_notes(x)
  invisible(x)
}

#' @export
summary.pht_summary <- function(object, ...) object

#' @export
as.data.frame.pht_summary <- function(x, row.names = NULL, optional = FALSE, ...) {
  x$numeric
}

#' @export
plot.pht_summary <- function(x, which = names(x$histograms), ...) {
  if (length(which) == 0L) stop("no histograms: ask for them with pht_summary(histograms = )")
  op <- graphics::par(mfrow = grDevices::n2mfrow(length(which)))
  on.exit(graphics::par(op))
  bars <- 0L
  for (w in which) {
    b <- x$histograms[[w]]
    graphics::plot(range(c(b$from, b$to)), c(0, max(b$count, 1, na.rm = TRUE)), type = "n",
                   xlab = w, ylab = "count", main = paste("Histogram of", w), ...)
    graphics::rect(b$from, 0, b$to, b$count, col = ifelse(b$incomplete, "grey85", "grey60"))
    bars <- bars + nrow(b)
  }
  invisible(bars)
}

#' Row counts by station and pooled
#'
#' Runs the standard train \code{count.lua}.
#'
#' @inheritParams pht_cox
#' @param columns count only rows with a value in all of these.
#' @param by a column: counts per value.
#' @param train the train file (default: the standard \code{count.lua}).
#' @return an object of class \code{pht_count}: \code{total} or \code{cells}
#'   (a data frame: value, count, incomplete), \code{stations}, \code{notes}
#'   and the parsed JSON.
#' @export
pht_count <- function(where, columns = NULL, by = NULL, k = NULL, train = "count") {
  params <- drop_null(list(columns = if (!is.null(columns)) I(columns), by = by, k = k))
  obj <- pht_train(where, train, params, type = "count")
  obj$call <- match.call()
  obj
}

new_pht_count <- function(json) {
  p <- json$pooled
  cells <- if (is.null(p$cells)) NULL else
    pht_records(p$cells, cols = c("value", "count", "incomplete"), keys = "value")
  st <- pht_records(json$stations, cols = c("id"), keys = "id")
  structure(list(total = pht_num(p$total), cells = cells, missing = pht_num(p$missing),
                 stations = st, notes = pht_strings(json$notes), json = json),
            class = "pht_count")
}

#' @export
print.pht_count <- function(x, ...) {
  if (is.null(x$cells)) {
    cat("Rows:", x$total, "\n")
    print(x$stations, row.names = FALSE)
  } else {
    print(x$cells, row.names = FALSE)
    if (!is.na(x$missing)) cat("missing:", x$missing, "\n")
  }
  print_notes(x)
  invisible(x)
}

#' @export
as.data.frame.pht_count <- function(x, row.names = NULL, optional = FALSE, ...) {
  if (is.null(x$cells)) data.frame(total = x$total) else x$cells
}

#' The registry report per treatment arm
#'
#' Runs the standard train \code{outcomes.lua} (see \code{docs/std-trains.md}).
#'
#' @inheritParams pht_cox
#' @param ... the train's params (\code{treatment}, \code{os_time},
#'   \code{pfs_time}, \code{interval}, ...).
#' @param train the train file (default: the standard \code{outcomes.lua}).
#' @return an object of class \code{pht_outcomes}: \code{treatments} (a data
#'   frame, one row per arm) and the parsed JSON.
#' @export
pht_outcomes <- function(where, ..., train = "outcomes") {
  params <- list(...)
  obj <- pht_train(where, train, params, type = "outcomes")
  obj$call <- match.call()
  obj
}

new_pht_outcomes <- function(json) {
  flat <- lapply(json$treatments %||% list(), function(t) {
    r <- list(treatment = pht_key(t$treatment), patients = pht_num(t$patients))
    for (part in c("os", "pfs")) {
      p <- t[[part]]
      if (is.null(p) || length(p) == 0L) next
      for (f in c("n", "events", "median", "median_lower", "median_upper", "surv_1y",
                  "surv_2y"))
        r[[paste0(part, "_", f)]] <- pht_num(p[[f]])
    }
    r$responders <- pht_num(t$response$responders)
    r$evaluable <- pht_num(t$response$evaluable)
    r$response_rate <- pht_num(t$response$rate)
    r$ae_grade3 <- pht_num(t$ae_grade3$events)
    r$ae_n <- pht_num(t$ae_grade3$n)
    r$ae_rate <- pht_num(t$ae_grade3$rate)
    r$cost_n <- pht_num(t$cost$n)
    r$cost_mean <- pht_num(t$cost$mean)
    r$incomplete <- pht_lgl(t$incomplete)
    r
  })
  tr <- pht_records(flat, keys = "treatment")
  structure(list(treatments = tr, stations = pht_stations(json),
                 notes = pht_strings(json$notes), json = json), class = "pht_outcomes")
}

#' @export
print.pht_outcomes <- function(x, ...) {
  t <- x$treatments
  days <- function(v) ifelse(is.na(v), "n/a", as.character(round(v)))
  pct <- function(v) ifelse(is.na(v), "n/a", sprintf("%.0f%%", 100 * v))
  out <- data.frame(treatment = t$treatment, patients = t$patients,
                    `median OS` = paste0(days(t$os_median), " (", days(t$os_median_lower),
                                         "-", days(t$os_median_upper), ")"),
                    `OS 1y` = pct(t$os_surv_1y), `OS 2y` = pct(t$os_surv_2y),
                    resp = pct(t$response_rate), `AE3+` = pct(t$ae_rate),
                    `mean cost` = ifelse(is.na(t$cost_mean), "n/a",
                                         sprintf("EUR %.0f", t$cost_mean)),
                    check.names = FALSE)
  if (!is.null(t$pfs_median))
    out$`median PFS` <- paste0(days(t$pfs_median), " (", days(t$pfs_median_lower), "-",
                               days(t$pfs_median_upper), ")")
  cat("Outcomes by treatment across", nrow(x$stations),
      "stations (days; 95% CI of the median)\n\n")
  print(out, row.names = FALSE, right = FALSE)
  print_notes(x)
  invisible(x)
}

#' @export
as.data.frame.pht_outcomes <- function(x, row.names = NULL, optional = FALSE, ...) {
  x$treatments
}

#' @export
plot.pht_outcomes <- function(x, main = "Median overall survival (95% CI)",
                              xlab = "days", ...) {
  t <- x$treatments
  forest_plot(t$os_median, t$os_median_lower, t$os_median_upper, t$treatment,
              ref = NA, log = FALSE, xlab = xlab, main = main,
              label = "median (95% CI)", fmt = "%.0f (%.0f-%.0f)", ...)
}
