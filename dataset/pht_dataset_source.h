/* pht_dataset_source.h — where a dataset's rows come from: a CSV in a dialect, an SQLite file or a PostgreSQL database with a read-only query. */
#ifndef PHT_DATASET_SOURCE_H
#define PHT_DATASET_SOURCE_H

#include <jansson.h>
#include <stddef.h>

#include "pht_dataset.h"

struct pht_err;

enum pht_source_kind {
	PHT_SOURCE_CSV,
	PHT_SOURCE_SQLITE,
	PHT_SOURCE_POSTGRES,
};

struct pht_dataset_source;

/*
 * Parses a source object (a station config's datasets.NAME, or a source
 * file for pht sim and pht dataset): exactly one of "csv": PATH,
 * "sqlite": PATH or "postgres": CONNINFO; "query" (SQL sources, required),
 * "passfile" (postgres only), "dict" (required for SQL sources; a CSV's
 * defaults to NAME.dict.json beside it), "dialect" (CSV only: delimiter,
 * quote, decimal, encoding), "formats" ({column: format}). Keys in extra
 * (NULL-terminated, may be NULL) are left to the caller; any other key is
 * refused. Relative paths are resolved against base_dir (NULL: kept).
 * need_dict 0 lets a CSV source without "dict" keep dict NULL (for
 * pht dataset infer). A conninfo holding a password is refused: use a
 * passfile. Errors: PHT_ERR_MALFORMED "FILE: FIELD.key: reason" (field
 * names the object, e.g. "datasets.reg"). *out is NULL on failure.
 */
int pht_dataset_source_parse(const json_t *obj, const char *file,
    const char *field, const char *base_dir, const char *const *extra,
    int need_dict, struct pht_dataset_source **out, struct pht_err *err);

/*
 * Reads a source file (a JSON object as above, relative paths resolved
 * against its directory). PHT_ERR_IO when it cannot be read.
 */
int pht_dataset_source_load_file(const char *path, int need_dict,
    struct pht_dataset_source **out, struct pht_err *err);

/*
 * A CSV source for path with the default dialect, dictionary dict (NULL:
 * NAME.dict.json beside a NAME.csv, else none).
 */
int pht_dataset_source_csv_new(const char *path, const char *dict,
    struct pht_dataset_source **out, struct pht_err *err);

/* Frees s; accepts NULL. */
void pht_dataset_source_free(struct pht_dataset_source *s);

enum pht_source_kind pht_dataset_source_kind(const struct pht_dataset_source *s);

/* The CSV path (CSV sources), else NULL. */
const char *pht_dataset_source_csv(const struct pht_dataset_source *s);

/* The dictionary path; NULL only for a CSV parsed with need_dict 0 and none given. */
const char *pht_dataset_source_dict(const struct pht_dataset_source *s);

/* The dialect (formats for SQL sources); never NULL. Borrowed. */
const struct pht_dataset_dialect *pht_dataset_source_dialect(
    const struct pht_dataset_source *s);

/*
 * One line for logs and error details: "reg.csv", "sqlite:reg.db",
 * "postgres:host=/run/pg dbname=reg" (never a password: none is allowed
 * in the conninfo).
 */
const char *pht_dataset_source_label(const struct pht_dataset_source *s);

/*
 * Loads the dataset: a CSV as pht_dataset_load does with the dialect; an
 * SQL source by running its query read-only (SQLite: the file opened
 * read-only with PRAGMA query_only; PostgreSQL: inside a READ ONLY
 * transaction that is rolled back) and typing the result by the
 * dictionary as a CSV is, with details "LABEL:row N:COLUMN: reason".
 * opts (may be NULL) gives max_bytes, the most bytes of text a result may
 * hold (default 4 GiB, as for a CSV). *out is NULL on failure.
 */
int pht_dataset_source_load(const struct pht_dataset_source *s,
    const struct pht_dataset_opts *opts, struct pht_dataset **out,
    struct pht_err *err);

/*
 * The source's cells as text, without a dictionary (for pht dataset
 * infer): *names gets ncols names, *cells nrows * ncols cells in row
 * order (a NULL as ""), every string NUL-terminated, CSV cells unquoted and
 * converted to UTF-8. Free with pht_dataset_source_cells_free.
 */
struct pht_dataset_cells {
	size_t nrows, ncols;
	char **names;
	char **cells;
};
int pht_dataset_source_cells(const struct pht_dataset_source *s,
    size_t max_bytes, struct pht_dataset_cells **out, struct pht_err *err);
void pht_dataset_source_cells_free(struct pht_dataset_cells *c);

#endif
