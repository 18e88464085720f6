# Finding and calling the pht executable.

#' Locate the pht executable
#'
#' The first of: the option \code{pht.path}, the environment variable
#' \code{PHT}, \code{pht} on the \code{PATH}, \code{tools/pht/pht} under the
#' build folder named by \code{PHT_BUILD}, and \code{build/tools/pht/pht} in
#' the working directory or one of its parents (a PHT checkout built with
#' \code{meson setup build}).
#'
#' @param required if \code{TRUE}, an error when none is found; else
#'   \code{NA}.
#' @return the path of the executable, or \code{NA_character_}.
#' @export
pht_path <- function(required = TRUE) {
  cands <- c(getOption("pht.path", ""), Sys.getenv("PHT"), Sys.which("pht"))
  b <- Sys.getenv("PHT_BUILD")
  if (nzchar(b)) cands <- c(cands, file.path(b, "tools", "pht", "pht"))
  d <- normalizePath(getwd(), mustWork = FALSE)
  repeat {
    cands <- c(cands, file.path(d, "build", "tools", "pht", "pht"))
    up <- dirname(d)
    if (up == d) break
    d <- up
  }
  for (p in cands) {
    if (nzchar(p) && file.exists(p) && !dir.exists(p) && file.access(p, 1L) == 0L)
      return(normalizePath(p))
  }
  if (required)
    stop("the pht executable was not found: set options(pht.path = ...) or the ",
         "environment variable PHT, or put pht on the PATH", call. = FALSE)
  NA_character_
}

# The source folder of the build that made `bin`, from meson's own record of it
# (BUILD/meson-info/meson-info.json), or NA.
pht_source_of <- function(bin) {
  info <- file.path(dirname(dirname(dirname(bin))), "meson-info", "meson-info.json")
  if (!file.exists(info)) return(NA_character_)
  src <- tryCatch(jsonlite::fromJSON(info)$directories$source, error = function(e) NULL)
  if (is.character(src) && length(src) == 1L && dir.exists(src)) src else NA_character_
}

#' Locate the standard trains
#'
#' The folder holding \code{cox.lua}, \code{glm.lua}, \code{km.lua} and the
#' other standard trains: the option \code{pht.trains}, the environment
#' variable \code{PHT_TRAINS}, \code{trains/std} under \code{PHT_SRC}, or
#' \code{trains/std} in the source tree the pht executable was built from.
#'
#' @param pht the pht executable (its build tells where the sources are).
#' @return the folder's path.
#' @export
pht_trains_dir <- function(pht = pht_path(required = FALSE)) {
  cands <- c(getOption("pht.trains", ""), Sys.getenv("PHT_TRAINS"))
  s <- Sys.getenv("PHT_SRC")
  if (nzchar(s)) cands <- c(cands, file.path(s, "trains", "std"))
  if (!is.na(pht)) {
    src <- pht_source_of(pht)
    if (!is.na(src)) cands <- c(cands, file.path(src, "trains", "std"))
    cands <- c(cands, file.path(dirname(dirname(pht)), "share", "pht", "trains", "std"))
  }
  for (d in cands)
    if (nzchar(d) && file.exists(file.path(d, "cox.lua"))) return(normalizePath(d))
  stop("the standard trains were not found: set options(pht.trains = ...) or the ",
       "environment variable PHT_TRAINS to the folder trains/std of the PHT sources",
       call. = FALSE)
}

# A train argument: a path to a file, or the name of a standard train ("cox").
pht_train_file <- function(train, pht) {
  stopifnot(is.character(train), length(train) == 1L)
  if (file.exists(train)) return(normalizePath(train))
  if (!grepl("[/\\\\]", train)) {
    f <- file.path(pht_trains_dir(pht), paste0(sub("\\.lua$", "", train), ".lua"))
    if (file.exists(f)) return(f)
  }
  stop("no train file ", train, " (give a path, or the name of a standard train: ",
       "count, crosstab, summary, km, cox, glm, outcomes)", call. = FALSE)
}

# Runs pht with `args`; returns its stdout as one string. On a non-zero exit,
# an error of class pht_error that carries the exit status and stderr.
pht_exec <- function(args, pht = pht_path(), verbose = getOption("pht.verbose", FALSE)) {
  out <- tempfile("pht-out-")
  err <- tempfile("pht-err-")
  on.exit(unlink(c(out, err)), add = TRUE)
  status <- system2(pht, shQuote(args), stdout = out, stderr = err)
  stderr <- if (file.exists(err)) readLines(err, warn = FALSE) else character()
  if (verbose && length(stderr)) message(paste(stderr, collapse = "\n"))
  if (!identical(as.integer(status), 0L)) {
    tail <- utils::tail(stderr, 20L)
    cond <- structure(class = c("pht_error", "error", "condition"), list(
      message = paste0("pht ", args[1L], " failed (exit status ", status, ")",
                       if (length(tail)) paste0(":\n", paste(tail, collapse = "\n"))),
      call = NULL, status = status, stderr = stderr))
    stop(cond)
  }
  paste(readLines(out, warn = FALSE), collapse = "\n")
}

# params (a list) as the JSON object pht takes. Vectors of length 1 become
# scalars; wrap a vector in I() to keep it an array.
pht_params_json <- function(params) {
  if (is.character(params) && length(params) == 1L) return(params)
  if (is.null(params) || length(params) == 0L) return("{}")
  stopifnot(is.list(params), !is.null(names(params)), all(nzchar(names(params))))
  as.character(jsonlite::toJSON(params, auto_unbox = TRUE, digits = NA, null = "null"))
}

#' Generate the example melanoma registry
#'
#' Runs \code{pht-registry-gen} (the generator of the example registry that
#' \code{tools/demo} uses; \code{docs/registry.md}) and returns the
#' hospitals' CSV files, ready for \code{\link{pht_local}}. The generator is
#' the option \code{pht.registry_gen}, the environment variable
#' \code{PHT_REGISTRY_GEN}, the one built beside the pht executable
#' (\code{tools/registry} of the same build), or \code{pht-registry-gen} on
#' the \code{PATH}.
#'
#' @param dir the folder to write to (created).
#' @param hospitals,patients,seed as the generator's options; the defaults
#'   are those of \code{tools/demo}.
#' @param pht the pht executable (the generator is looked for beside it).
#' @return a named character vector of CSV files (names \code{hospital_01},
#'   ...), each with its dictionary beside it.
#' @export
pht_example_registry <- function(dir = tempfile("pht-registry-"), hospitals = 3L,
                                 patients = 3000L, seed = 2026L,
                                 pht = pht_path(required = FALSE)) {
  gen <- c(getOption("pht.registry_gen", ""), Sys.getenv("PHT_REGISTRY_GEN"))
  if (!is.na(pht))
    gen <- c(gen, file.path(dirname(dirname(pht)), "registry", "pht-registry-gen"))
  gen <- c(gen, Sys.which("pht-registry-gen"))
  gen <- gen[nzchar(gen) & file.exists(gen)]
  if (!length(gen))
    stop("pht-registry-gen was not found: set options(pht.registry_gen = ...)", call. = FALSE)
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  args <- c("--hospitals", hospitals, "--patients", patients, "--seed", seed, "--out", dir)
  status <- system2(gen[[1L]], shQuote(args), stdout = FALSE, stderr = FALSE)
  if (!identical(as.integer(status), 0L)) stop("pht-registry-gen failed (exit status ", status, ")")
  files <- sort(list.files(dir, "^hospital_[0-9]+\\.csv$", full.names = TRUE))
  stats::setNames(normalizePath(files), sub("\\.csv$", "", basename(files)))
}
