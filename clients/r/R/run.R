# Running trains: pht sim (local CSV files) and pht run (a federation).

#' Run a train locally on CSV files (pht sim)
#'
#' Runs a whole train on this machine, as \code{pht sim} does: each station
#' is a CSV file with its dictionary beside it (\code{NAME.dict.json}), and
#' every run goes through the station's sandbox and disclosure checks.
#'
#' @param train a train file, or the name of a standard train (\code{"cox"},
#'   \code{"km"}, ...; see \code{\link{pht_trains_dir}}).
#' @param stations the stations' CSV files: a named character vector
#'   (names are the station ids; unnamed files are named by their base name).
#' @param params the train's params: a named list (a vector of length 1 is
#'   sent as a scalar; wrap it in \code{I()} to send an array) or a JSON
#'   string.
#' @param k,time_resolution,km_min_cell,max_rounds,seed,time_limit the
#'   stations' policy and limits (\code{--k}, \code{--time-resolution},
#'   \code{--km-min-cell}, \code{--max-rounds}, \code{--seed},
#'   \code{--time-limit}); \code{NULL} leaves pht's default.
#' @param grid a named numeric vector: histogram edges of each named column
#'   snap to multiples of its step (\code{--grid COLUMN=STEP}).
#' @param args further command-line arguments for \code{pht sim}.
#' @param type the class of the result (\code{"cox"}, \code{"glm"},
#'   \code{"km"}, \code{"crosstab"}, \code{"summary"}, \code{"count"},
#'   \code{"outcomes"}, or \code{"raw"} for the parsed JSON as it is);
#'   default: recognised from the result.
#' @param pht the pht executable.
#' @return an object of class \code{pht_cox}, \code{pht_glm}, \code{pht_km},
#'   \code{pht_crosstab}, \code{pht_summary}, \code{pht_count},
#'   \code{pht_outcomes} or \code{pht_result}; each keeps the parsed JSON in
#'   its element \code{json}.
#' @export
pht_sim <- function(train, stations, params = list(), k = NULL,
                    time_resolution = NULL, km_min_cell = NULL, grid = NULL,
                    max_rounds = NULL, seed = NULL, time_limit = NULL,
                    args = character(), type = NULL, pht = pht_path()) {
  where <- pht_local(stations, k = k, time_resolution = time_resolution,
                     km_min_cell = km_min_cell, grid = grid, max_rounds = max_rounds,
                     seed = seed, time_limit = time_limit, args = args, pht = pht)
  pht_train(where, train, params, type = type)
}

#' Run a train through a federation (pht run)
#'
#' Signs the train, sends it through the node to the stations, and combines
#' their results, as \code{pht run} does.
#'
#' @inheritParams pht_sim
#' @param config the analyst's configuration file (\code{ANALYST.json}: node,
#'   certificates, keys, pinned station keys; see \code{pht run --help}).
#' @param stations the station ids, or \code{"all"}.
#' @param datasets dataset names to use (\code{--datasets}), or \code{NULL}.
#' @param timeout how long each round may take, e.g. \code{"10m"}.
#' @param min_stations go on when at least this many stations answer.
#' @param max_rounds give up after this many rounds (\code{--max-rounds}).
#' @param args further command-line arguments for \code{pht run}
#'   (\code{--permit-file}, \code{--approval}, \code{--node}, ...).
#' @return as \code{\link{pht_sim}}.
#' @export
pht_run <- function(train, config = NULL, stations = "all", params = list(),
                    datasets = NULL, timeout = NULL, min_stations = NULL,
                    max_rounds = NULL, args = character(), type = NULL,
                    pht = pht_path()) {
  where <- pht_federation(config, stations = stations, datasets = datasets,
                          timeout = timeout, min_stations = min_stations,
                          max_rounds = max_rounds, args = args, pht = pht)
  pht_train(where, train, params, type = type)
}

#' Where trains run: local files or a federation
#'
#' \code{pht_local} names CSV files to run trains on with \code{pht sim};
#' \code{pht_federation} names an analyst configuration to run them with
#' \code{pht run}. Either is the first argument of \code{\link{pht_cox}},
#' \code{\link{pht_glm}}, \code{\link{pht_km}}, \code{\link{pht_crosstab}},
#' \code{\link{pht_summary}}, \code{\link{pht_count}},
#' \code{\link{pht_outcomes}} and \code{\link{pht_train}}.
#'
#' @inheritParams pht_sim
#' @inheritParams pht_run
#' @param stations for \code{pht_local}, the CSV files (a named character
#'   vector); for \code{pht_federation}, station ids or \code{"all"}.
#' @return an object of class \code{pht_local} or \code{pht_federation}.
#' @export
pht_local <- function(stations, k = NULL, time_resolution = NULL, km_min_cell = NULL,
                      grid = NULL, max_rounds = NULL, seed = NULL, time_limit = NULL,
                      args = character(), pht = pht_path()) {
  stations <- unlist(stations)
  stopifnot(is.character(stations), length(stations) >= 1L)
  nm <- names(stations)
  if (is.null(nm)) nm <- rep("", length(stations))
  nm[!nzchar(nm)] <- sub("\\.csv$", "", basename(stations[!nzchar(nm)]))
  if (anyDuplicated(nm)) stop("station names must be unique: ", paste(nm, collapse = ", "))
  missing <- !file.exists(stations)
  if (any(missing)) stop("no such file: ", paste(stations[missing], collapse = ", "))
  opt <- c(k = "--k", time_resolution = "--time-resolution", km_min_cell = "--km-min-cell",
           max_rounds = "--max-rounds", seed = "--seed", time_limit = "--time-limit")
  vals <- list(k = k, time_resolution = time_resolution, km_min_cell = km_min_cell,
               max_rounds = max_rounds, seed = seed, time_limit = time_limit)
  a <- character()
  for (o in names(opt))
    if (!is.null(vals[[o]])) a <- c(a, opt[[o]], format(vals[[o]], scientific = FALSE))
  if (!is.null(grid))
    for (g in names(grid)) a <- c(a, "--grid", paste0(g, "=", format(grid[[g]])))
  structure(list(stations = stats::setNames(normalizePath(stations), nm),
                 args = c(a, args), pht = pht), class = "pht_local")
}

#' @rdname pht_local
#' @export
pht_federation <- function(config = NULL, stations = "all", datasets = NULL,
                           timeout = NULL, min_stations = NULL, max_rounds = NULL,
                           args = character(), pht = pht_path()) {
  a <- character()
  if (!is.null(config)) {
    if (!file.exists(config)) stop("no such file: ", config)
    a <- c(a, "--config", normalizePath(config))
  }
  a <- c(a, "--stations", paste(stations, collapse = ","))
  if (!is.null(datasets)) a <- c(a, "--datasets", paste(datasets, collapse = ","))
  if (!is.null(timeout)) a <- c(a, "--timeout", as.character(timeout))
  if (!is.null(min_stations)) a <- c(a, "--min-stations", format(min_stations))
  if (!is.null(max_rounds)) a <- c(a, "--max-rounds", format(max_rounds))
  structure(list(stations = stations, args = c(a, args), pht = pht),
            class = "pht_federation")
}

#' @export
print.pht_local <- function(x, ...) {
  cat("PHT local run (pht sim) on", length(x$stations), "stations:\n")
  for (i in seq_along(x$stations))
    cat("  ", names(x$stations)[i], ": ", x$stations[[i]], "\n", sep = "")
  invisible(x)
}

#' @export
print.pht_federation <- function(x, ...) {
  cat("PHT federation (pht run):", paste(x$args, collapse = " "), "\n")
  invisible(x)
}

# The command line of one train run at `where`.
pht_command <- function(where, file, params) {
  p <- pht_params_json(params)
  if (inherits(where, "pht_local")) {
    st <- as.vector(rbind("--station", paste0(names(where$stations), "=", where$stations)))
    c("sim", file, st, "--params", p, where$args)
  } else if (inherits(where, "pht_federation")) {
    c("run", file, "--params", p, where$args)
  } else {
    stop("where: a pht_local() or pht_federation(), or the CSV files as a named ",
         "character vector")
  }
}

#' Run any train and parse its result
#'
#' @param where \code{\link{pht_local}()} or \code{\link{pht_federation}()},
#'   or the stations' CSV files (a named character vector: run locally with
#'   pht's default policy).
#' @inheritParams pht_sim
#' @return as \code{\link{pht_sim}}.
#' @export
pht_train <- function(where, train, params = list(), type = NULL) {
  if (is.character(where)) where <- pht_local(where)
  file <- pht_train_file(train, where$pht)
  txt <- pht_exec(pht_command(where, file, params), pht = where$pht)
  json <- jsonlite::fromJSON(txt, simplifyVector = FALSE)
  obj <- pht_result(json, type = type)
  obj$train <- basename(file)
  obj$params <- params
  obj
}

#' Turn a train's parsed JSON result into an R object
#'
#' @param json the result, parsed with
#'   \code{jsonlite::fromJSON(txt, simplifyVector = FALSE)}, or its JSON text.
#' @param type as in \code{\link{pht_sim}}.
#' @return as \code{\link{pht_sim}}.
#' @export
pht_result <- function(json, type = NULL) {
  if (is.character(json)) json <- jsonlite::fromJSON(json, simplifyVector = FALSE)
  if (is.null(type)) type <- pht_guess_type(json)
  switch(type,
         cox = new_pht_cox(json),
         glm = new_pht_glm(json),
         km = new_pht_km(json),
         crosstab = new_pht_crosstab(json),
         summary = new_pht_summary(json),
         count = new_pht_count(json),
         outcomes = new_pht_outcomes(json),
         raw = structure(list(json = json), class = "pht_result"),
         stop("unknown result type ", type))
}

pht_guess_type <- function(json) {
  co <- json$coefficients
  if (!is.null(co) && length(co) > 0L) {
    if (!is.null(co[[1L]]$exp_coef) || !is.null(json$ties)) return("cox")
    if (!is.null(json$family)) return("glm")
  }
  if (!is.null(json$curves)) return("km")
  if (!is.null(json$row_values) && !is.null(json$col_values)) return("crosstab")
  if (!is.null(json$numeric) || !is.null(json$categories)) return("summary")
  if (!is.null(json$treatments)) return("outcomes")
  if (!is.null(json$pooled) && (!is.null(json$pooled$total) || !is.null(json$pooled$cells)))
    return("count")
  "raw"
}

#' @export
print.pht_result <- function(x, ...) {
  utils::str(x$json, max.level = 2L, give.attr = FALSE)
  invisible(x)
}

#' @export
as.data.frame.pht_result <- function(x, row.names = NULL, optional = FALSE, ...) {
  pht_records(Filter(is.list, x$json))
}

# The notes and the stations a result leaves out, as print methods show them.
print_notes <- function(x) {
  dropped <- x$json$stations_dropped
  if (length(dropped))
    cat("Stations dropped:", paste(vapply(dropped, function(d) pht_key(d$id), ""),
                                   collapse = ", "), "\n")
  for (f in setdiff(grep("^stations_(missing|excluded|refused)", names(x$json), value = TRUE),
                    "stations_dropped")) {
    v <- x$json[[f]]
    if (length(v)) {
      ids <- vapply(v, function(d) if (is.list(d)) pht_key(d$id) else pht_key(d), "")
      cat(sub("_", " ", f), ": ", paste(ids, collapse = ", "), "\n", sep = "")
    }
  }
  for (r in x$json$participation) {
    if (!length(r$missing)) next
    why <- vapply(r$missing, function(m) paste0(pht_key(m$station), " (", m$reason %||% "", ")"), "")
    cat("Round ", pht_int(r$round), ", missing: ", paste(why, collapse = "; "), "\n", sep = "")
  }
  if (length(x$notes)) cat(paste0("Note: ", x$notes, "\n"), sep = "")
}
