# From pht's JSON (parsed with simplifyVector = FALSE: nested lists) to R.

# A group key, a level or a cell's value as a string, whether the JSON gives it
# typed (1, true) or as a string ("1", "true"): numbers without trailing
# zeros, booleans as "true"/"false", null as NA.
pht_key <- function(v) {
  if (is.null(v) || length(v) == 0L) return(NA_character_)
  if (is.list(v)) v <- unlist(v)
  v <- v[[1L]]
  if (is.na(v)) return(NA_character_)
  if (is.logical(v)) return(if (v) "true" else "false")
  if (is.numeric(v)) return(format(v, digits = 15L, scientific = FALSE, trim = TRUE))
  as.character(v)
}

# A JSON array of strings (or the empty object pht writes for an empty array)
# as a character vector.
pht_strings <- function(x) {
  if (is.null(x) || length(x) == 0L) return(character())
  vapply(x, function(s) if (is.null(s)) NA_character_ else as.character(s)[1L], "")
}

pht_num <- function(x) if (is.null(x) || length(x) == 0L) NA_real_ else as.numeric(x[[1L]])
pht_int <- function(x) if (is.null(x) || length(x) == 0L) NA_integer_ else as.integer(x[[1L]])
pht_lgl <- function(x) if (is.null(x) || length(x) == 0L) NA else as.logical(x[[1L]])

# A JSON array of records as a data frame. `keys` are columns read as keys
# (pht_key); others become numeric, logical or character as their values are.
# Columns in `cols` come first and exist even when no record has them;
# unknown fields follow, unless `only` is TRUE. Nested values are dropped.
pht_records <- function(recs, cols = character(), keys = character(), only = FALSE) {
  if (is.null(recs)) recs <- list()
  names_seen <- unique(c(cols, unlist(lapply(recs, names))))
  if (only) names_seen <- cols
  out <- list()
  for (nm in names_seen) {
    vals <- lapply(recs, function(r) r[[nm]])
    if (any(vapply(vals, function(v) is.list(v) && length(v) > 0L, TRUE))) next
    if (nm %in% keys) {
      out[[nm]] <- vapply(vals, pht_key, "")
      next
    }
    present <- vals[!vapply(vals, is.null, TRUE)]
    if (length(present) == 0L) {
      out[[nm]] <- rep(NA, length(recs))
    } else if (all(vapply(present, is.numeric, TRUE))) {
      out[[nm]] <- vapply(vals, pht_num, 0)
    } else if (all(vapply(present, is.logical, TRUE))) {
      out[[nm]] <- vapply(vals, pht_lgl, NA)
    } else {
      out[[nm]] <- vapply(vals, pht_key, "")
    }
  }
  if (length(out) == 0L) return(data.frame()[seq_along(recs), , drop = FALSE])
  as.data.frame(out, stringsAsFactors = FALSE, optional = TRUE)
}

# A test record {chisq, df, p}.
pht_test <- function(t) {
  if (is.null(t)) return(NULL)
  c(chisq = pht_num(t$chisq), df = pht_num(t$df), p = pht_num(t$p))
}

# The stations a result covers, one row each (fields added by later versions
# pass through as columns). Where `stations` is an object rather than an
# array, its `included` array.
pht_stations <- function(x) {
  recs <- x$stations
  if (!is.null(names(recs))) recs <- if (is.list(recs$included)) recs$included else list()
  recs <- lapply(recs, function(r) if (is.list(r)) r else list(id = r))
  st <- pht_records(recs, cols = "id", keys = "id")
  first <- intersect(c("id", "n", "dropped", "events"), names(st))
  st[, c(first, setdiff(names(st), first)), drop = FALSE]
}

fmt_p <- function(p) format.pval(p, digits = 3L, eps = 1e-16)
