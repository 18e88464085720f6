#' pht: R client for PHT, the Personal Health Train
#'
#' The package calls the \code{pht} executable and turns the combined results
#' of trains into R objects. Run trains on CSV files with
#' \code{\link{pht_local}} (\code{pht sim}) while developing, and through a
#' federation with \code{\link{pht_federation}} (\code{pht run}); the model and
#' table functions (\code{\link{pht_cox}}, \code{\link{pht_glm}},
#' \code{\link{pht_km}}, \code{\link{pht_crosstab}}, \code{\link{pht_summary}},
#' \code{\link{pht_count}}, \code{\link{pht_outcomes}}) take either.
#'
#' Options: \code{pht.path} (the executable, see \code{\link{pht_path}}),
#' \code{pht.trains} (the standard trains, see \code{\link{pht_trains_dir}}),
#' \code{pht.verbose} (show pht's progress messages).
#'
#' @importFrom stats coef confint
#' @keywords internal
"_PACKAGE"
