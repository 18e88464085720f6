# Plots in base graphics: forest plots of model coefficients and
# Kaplan-Meier curves with their bands and a numbers-at-risk table.

# The margin, in lines, that the widest of `labels` needs (a character is
# about 0.6 lines wide, with room to spare at cex 1).
text_lines <- function(labels) 0.6 * max(nchar(labels, type = "width"), 1L)

# A forest plot: one row per estimate with its interval, labels on the left
# and the figures on the right. Returns, invisibly, the number of rows drawn.
forest_plot <- function(est, lower, upper, labels, ref = 1, log = TRUE, xlab = "",
                        main = NULL, label = "estimate (95% CI)", col = "black",
                        fmt = "%.2f (%.2f-%.2f)", ...) {
  n <- length(est)
  ok <- is.finite(est) & is.finite(lower) & is.finite(upper)
  if (!any(ok)) stop("nothing to plot: no finite estimate with an interval")
  xr <- range(c(lower[ok], upper[ok], if (!is.na(ref)) ref))
  if (log) xr <- exp(log(xr) + c(-0.05, 0.05) * diff(log(xr))) else
    xr <- xr + c(-0.05, 0.05) * diff(xr)
  fig <- ifelse(ok, sprintf(fmt, est, lower, upper), "n/a")
  op <- graphics::par(mar = c(4.5, 1 + text_lines(labels), if (is.null(main)) 1.5 else 3.5,
                              1 + text_lines(c(fig, label))))
  on.exit(graphics::par(op))
  y <- rev(seq_len(n))
  graphics::plot.new()
  graphics::plot.window(xlim = xr, ylim = c(0.5, n + 0.5), log = if (log) "x" else "")
  if (!is.na(ref)) graphics::abline(v = ref, lty = 2, col = "grey50")
  graphics::segments(lower[ok], y[ok], upper[ok], y[ok], col = col, lwd = 1.5)
  graphics::points(est[ok], y[ok], pch = 15, col = col, cex = 1.2)
  graphics::axis(1)
  graphics::axis(2, at = y, labels = labels, las = 1, tick = FALSE)
  graphics::axis(4, at = y, labels = fig, las = 1, tick = FALSE)
  graphics::mtext(label, side = 4, at = n + 0.5, las = 1, line = 1, adj = 0, cex = 0.8,
                  padj = -1)
  graphics::box()
  graphics::title(main = main, xlab = xlab)
  invisible(sum(ok))
}

#' Forest plot of a Cox model's hazard ratios
#'
#' @param x a \code{pht_cox} result.
#' @param main,xlab titles.
#' @param ... passed to the plot (e.g. \code{col}).
#' @return invisibly, the number of coefficients drawn.
#' @export
plot.pht_cox <- function(x, main = "Hazard ratios (95% CI)", xlab = "hazard ratio", ...) {
  co <- x$coefficients
  forest_plot(co$exp_coef, co$lower95, co$upper95, co$name, ref = 1, log = TRUE,
              xlab = xlab, main = main, label = "HR (95% CI)", ...)
}

#' Forest plot of a GLM's coefficients
#'
#' Odds ratios (binomial) or rate ratios (poisson) on a log axis, or the
#' coefficients themselves (gaussian), with their Wald intervals; the
#' intercept is left out.
#'
#' @param x a \code{pht_glm} result.
#' @param level the confidence level.
#' @param main,xlab titles (defaults by family).
#' @param ... passed to the plot.
#' @return invisibly, the number of coefficients drawn.
#' @export
plot.pht_glm <- function(x, level = 0.95, main = NULL, xlab = NULL, ...) {
  ci <- confint(x, level = level)
  keep <- rownames(ci) != "(Intercept)"
  est <- coef(x)[keep]
  ci <- ci[keep, , drop = FALSE]
  ratio <- x$link %in% c("logit", "log")
  what <- switch(x$family, binomial = "odds ratio", poisson = "rate ratio", "coefficient")
  if (is.null(xlab)) xlab <- what
  if (is.null(main)) main <- paste0(if (ratio) paste0(toupper(substring(what, 1, 1)),
                                                      substring(what, 2), "s") else
                                      "Coefficients", " (", format(100 * level), "% CI)")
  tr <- if (ratio) exp else identity
  forest_plot(tr(est), tr(ci[, 1L]), tr(ci[, 2L]), names(est), ref = if (ratio) 1 else 0,
              log = ratio, xlab = xlab, main = main,
              label = paste0(if (ratio) c(binomial = "OR", poisson = "RR")[[x$family]] else
                               "estimate", " (", format(100 * level), "% CI)"), ...)
}

# n at risk at times `at` from a curve's table on the grid: those with
# time >= t, the n_risk of the first row at or after t (0 past the last).
km_at_risk <- function(curve, at) {
  tab <- curve$table
  vapply(at, function(t) {
    if (t <= 0) return(curve$n)
    i <- which(tab$time >= t)
    if (length(i)) tab$n_risk[i[1L]] else 0
  }, 0)
}

#' Kaplan-Meier curves with confidence bands and numbers at risk
#'
#' Draws each curve as a step function from (0, 1) through every row of its
#' released table, its 95\% log-log band shaded, the median marked when
#' reached, and below the plot the numbers at risk at the axis ticks.
#'
#' @param x a \code{pht_km} result.
#' @param conf.int draw the bands.
#' @param risk.table draw the numbers at risk.
#' @param col colours, one per curve.
#' @param xlab,ylab,main titles.
#' @param xlim the time range (default from 0 to the last grid time).
#' @param at times for the numbers at risk (default: the axis ticks).
#' @param legend draw a legend (with several curves).
#' @param ... passed to \code{plot.window}.
#' @return invisibly, the number of steps drawn: the rows of the curves'
#'   tables (each a grid time at which the curve is drawn), summed over the
#'   curves.
#' @export
plot.pht_km <- function(x, conf.int = TRUE, risk.table = TRUE, col = NULL,
                        xlab = "Time", ylab = "Survival probability", main = NULL,
                        xlim = NULL, at = NULL, legend = length(x$curves) > 1L, ...) {
  curves <- x$curves
  nc <- length(curves)
  if (is.null(col)) col <- if (nc == 1L) "black" else
    grDevices::hcl.colors(max(nc, 2L), "Dark 3")[seq_len(nc)]
  col <- rep_len(col, nc)
  labels <- km_labels(x)
  tmax <- max(0, unlist(lapply(curves, function(c) c$table$time)), na.rm = TRUE)
  if (is.null(xlim)) xlim <- c(0, tmax)
  bottom <- if (risk.table) 5 + nc * 1.1 + 1.5 else 4.5
  left <- if (risk.table && nc > 1L) max(4.5, 1.5 + text_lines(labels)) else 4.5
  op <- graphics::par(mar = c(bottom, left, if (is.null(main)) 1.5 else 3.5, 1.5))
  on.exit(graphics::par(op))
  graphics::plot.new()
  graphics::plot.window(xlim = xlim, ylim = c(0, 1), ...)
  ticks <- graphics::axTicks(1)
  if (is.null(at)) at <- ticks[ticks >= xlim[1L] & ticks <= xlim[2L]]
  graphics::axis(1, at = ticks)
  graphics::axis(2, las = 1)
  graphics::box()
  graphics::title(main = main, ylab = ylab)
  graphics::mtext(xlab, side = 1, line = 2.5)
  steps <- 0L
  for (i in seq_len(nc)) {
    tab <- curves[[i]]$table
    t <- c(0, tab$time)
    s <- c(1, tab$surv)
    if (conf.int && nrow(tab)) {
      lo <- c(1, ifelse(is.na(tab$lower), tab$surv, tab$lower))
      hi <- c(1, ifelse(is.na(tab$upper), tab$surv, tab$upper))
      # a step band: each value holds until the next time
      xs <- c(rep(t, each = 2L)[-1L], t[length(t)])
      graphics::polygon(c(xs, rev(xs)), c(rep(lo, each = 2L), rev(rep(hi, each = 2L))),
                        col = grDevices::adjustcolor(col[i], alpha.f = 0.18), border = NA)
    }
    graphics::lines(t, s, type = "s", col = col[i], lwd = 2)
    cens <- tab$n_censor > 0 & tab$n_event == 0
    graphics::points(tab$time[cens], tab$surv[cens], pch = 3, cex = 0.6, col = col[i])
    m <- curves[[i]]$median
    if (is.finite(m)) graphics::segments(m, 0, m, 0.5, lty = 3, col = col[i])
    steps <- steps + nrow(tab)
  }
  graphics::abline(h = 0.5, lty = 3, col = "grey60")
  if (legend) graphics::legend("topright", legend = labels, col = col, lwd = 2, bty = "n")
  if (risk.table) {
    graphics::mtext("Number at risk", side = 1, line = 4, adj = 0, at = xlim[1L],
                    font = 2, cex = 0.85)
    for (i in seq_len(nc)) {
      line <- 4 + i * 1.1
      graphics::mtext(format(km_at_risk(curves[[i]], at)), side = 1, line = line, at = at,
                      cex = 0.85, col = col[i])
      if (nc > 1L) {
        usr <- graphics::par("usr")
        graphics::mtext(labels[i], side = 1, line = line, at = usr[1L] - 0.03 * diff(usr[1:2]),
                        adj = 1, cex = 0.85, col = col[i])
      }
    }
  }
  invisible(steps)
}
