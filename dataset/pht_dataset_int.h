/* pht_dataset_int.h — the dataset loader's insides, shared by pht_dataset.c and pht_dataset_cell.c (not for use outside dataset/). */
#ifndef PHT_DATASET_INT_H
#define PHT_DATASET_INT_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_dataset.h"
#include "pht_csv.h"

struct pht_err;

/* Which SQL sources this build has (dataset/meson.build sets both). */
#ifndef PHT_HAVE_SQLITE
#define PHT_HAVE_SQLITE 0
#endif
#ifndef PHT_HAVE_LIBPQ
#define PHT_HAVE_LIBPQ 0
#endif

#define SHOW_MAX 40             /* bytes of a bad cell quoted in a detail */
#define FIRST_MAX 420           /* room left for " (N bad cells in all)" */
#define DATEFMT_MAX 64          /* longest date or datetime format */

/*
 * An exact-match table over n byte strings (open addressing, FNV-1a):
 * slot[h] holds index+1 of a string, 0 when empty; the table is at least
 * twice as large as n, so probes stay short.
 */
struct strtab {
	uint32_t *slot;
	size_t mask;
	const char *const *s;
	const size_t *len;
};

/*
 * The owning side of one column: data has room for the loader's row
 * capacity (then exactly nrows after loading); missing is NULL until the
 * first missing cell, then has a bit per row of capacity.
 */
struct col_store {
	void *data;
	uint8_t *missing;
	size_t elem;
	uint64_t misslen;           /* bit n: a missing code of n bytes (n < 63);
	                               bit 63: one of 63 bytes or more */
	struct strtab levels;       /* category only */
};

struct pht_dataset {
	struct pht_dict *dict;
	size_t nrows;
	size_t ncols;
	struct pht_column *cols;    /* public views, dictionary order */
	struct col_store *store;    /* same order */
	char csv_sha256[65];
	char dict_sha256[65];
	uint32_t *file_row;         /* after drop_rows: row -> row of the file */
	size_t file_nrows;          /* after drop_rows: data rows of the file */
};

/*
 * State of one load: the header map, a scratch buffer for unescaped cells,
 * and, when the CSV is a file mapping, how much of it has been given back.
 */
struct loader {
	struct pht_dataset *ds;
	const char *csv;
	int mapped;                 /* csv is our own read-only mapping */
	size_t released;            /* bytes of csv already dropped */
	const char *csv_name;
	size_t *map;                /* CSV field index -> column index */
	size_t cap;                 /* rows of room in every column */
	char *scratch;
	size_t scratch_cap;
	locale_t cloc;
	char quote;                 /* the CSV's quote character */
	int decimal_comma;          /* number cells use ',' as the point */
	int rows_not_lines;         /* details name "row N" (a query), not a line */
	const char **fmt;           /* per column: its date format, or NULL */
	size_t nbad;
	char first[FIRST_MAX];
};

/*
 * A query's result as text, ready for the loader: ncols names and
 * nrows * ncols cells in row order (a NULL as an empty cell), all pointing
 * into text; sha256 is the hash recorded as the dataset's data hash.
 * Built by pht_dataset_sql.c.
 */
struct pht_dataset_table {
	size_t nrows, ncols;
	struct pht_csv_field *names;
	struct pht_csv_field *cells;
	char *text;
	char sha256[65];
};

/*
 * Loads a table as a CSV is loaded (the same cells, missing codes and
 * checks; formats from dl, nothing else of it): details name "NAME:row
 * N:COLUMN", N the 1-based row of the result.
 */
int pht_dataset_load_table(const struct pht_dataset_table *t,
    const char *dict, size_t dict_len, const char *name, const char *dict_name,
    const struct pht_dataset_dialect *dl, struct pht_dataset **out,
    struct pht_err *err);

/* Frees what t holds and zeroes it; accepts an all-zero t. */
void pht_dataset_table_clear(struct pht_dataset_table *t);

/*
 * Converts len bytes in encoding enc to UTF-8 in a fresh buffer (*out,
 * *outlen; free it). Single-byte encodings keep every line feed where it
 * was, so line numbers stay those of the file. A byte the encoding does
 * not define is refused (PHT_ERR_INVALID) naming its line.
 */
int pht_dataset_to_utf8(const char *in, size_t len, enum pht_encoding enc,
    const char *name, char **out, size_t *outlen, struct pht_err *err);

/*
 * Runs query on the SQLite file at path, opened read-only with PRAGMA
 * query_only: one statement, which SQLite must call read-only. Cells are
 * the values as text (integers in decimal, reals with 17 significant
 * digits so that they read back to the same double, NULL as an empty
 * cell). More than max bytes of text is PHT_ERR_TOO_LARGE. label names
 * the source in details.
 */
int pht_dataset_sqlite_fetch(const char *path, const char *query,
    const char *label, size_t max, struct pht_dataset_table *t,
    struct pht_err *err);

/*
 * Runs query on PostgreSQL (conninfo, passfile may be NULL) inside a READ
 * ONLY transaction that is rolled back, with ISO dates, UTC and
 * round-trip float output; booleans come as true/false. A connection
 * waits at most 10 s unless conninfo sets connect_timeout; the statement
 * at most 300 s.
 */
int pht_dataset_pg_fetch(const char *conninfo, const char *passfile,
    const char *query, const char *label, size_t max,
    struct pht_dataset_table *t, struct pht_err *err);

/*
 * Checks a PostgreSQL conninfo: it must parse and hold no password (a
 * passfile is the way to give one). PHT_OK or PHT_ERR_INVALID with why.
 */
int pht_dataset_pg_conninfo_check(const char *conninfo, char *why, size_t whysz);

/* An integer cell as the loader reads it: 0 with *out, 1 not one, 2 out of range. */
int pht_dataset_cell_int(const char *p, size_t len, int64_t *out);

/*
 * A number cell as the loader reads it (point '.', loc the C locale): 0
 * with *out, else not a finite number.
 */
int pht_dataset_cell_num(locale_t loc, const char *p, size_t len, double *out);

/*
 * Builds t over the n strings s[i] of len[i] bytes (borrowed: they must
 * outlive t); free t->slot when done. PHT_OK or PHT_ERR_NOMEM.
 */
int pht_dataset_strtab_build(struct strtab *t, const char *const *s,
    const size_t *len, size_t n);

/* Index of p[0..len) in the table, or -1. */
long pht_dataset_strtab_find(const struct strtab *t, const char *p, size_t len);

/*
 * Writes p[0..len) quoted for a detail: at most SHOW_MAX bytes, control
 * bytes, quotes, backslashes and (when the cell is not valid UTF-8) every
 * non-ASCII byte escaped; "..." marks a cut. out needs SHOW_MAX * 4 + 8.
 */
void pht_dataset_show(const char *p, size_t len, char *out, size_t outsz);

/*
 * Validates the nfields fields f of one record (file line line) as row
 * L->ds->nrows, field i as column L->map[i], and stores them; a bad cell
 * is counted in L (the first one's detail kept), not fatal. One call a
 * record, so that the per-cell work stays inlined. PHT_OK, or
 * PHT_ERR_NOMEM.
 */
int pht_dataset_record(struct loader *L, const struct pht_csv_field *f,
    size_t nfields, size_t line);

/*
 * Checks a date (datetime 0) or datetime format: %Y %m %d (all three
 * required), %H %M %S (datetime only), %% and literal bytes, each
 * directive at most once. PHT_OK, or PHT_ERR_INVALID with the reason in
 * why.
 */
int pht_dataset_datefmt_check(const char *fmt, int datetime, char *why,
    size_t whysz);

/*
 * Parses p[0..len) by a checked format: literal bytes match themselves,
 * %Y is exactly 4 digits, the others exactly 2; the whole cell must be
 * consumed and name a real calendar day and a time 00:00:00-23:59:59.
 * 0 with *secs the seconds since 1970-01-01T00:00:00, or 1.
 */
int pht_dataset_datefmt_parse(const char *fmt, const char *p, size_t len,
    int64_t *secs);

/*
 * A datetime cell without a format: YYYY-MM-DDTHH:MM:SS, with a space
 * for the T allowed and a trailing Z ignored. 0 with *secs, or 1.
 */
int pht_dataset_datetime_iso(const char *p, size_t len, int64_t *secs);

#endif
