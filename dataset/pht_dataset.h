/* pht_dataset.h — a station's dataset: CSV + data dictionary, loaded into typed columns. */
#ifndef PHT_DATASET_H
#define PHT_DATASET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pht_err;

enum pht_coltype {
	PHT_COL_NUMBER,   /* double */
	PHT_COL_INTEGER,  /* int64_t */
	PHT_COL_CATEGORY, /* int32_t code, 0 .. nlevels-1, in dictionary order */
	PHT_COL_DATE,     /* int32_t days since 1970-01-01 */
	PHT_COL_BOOLEAN,  /* uint8_t 0 or 1 */
};

/*
 * What a column is for (the dictionary's "role"). An identifier column
 * (at most one per dataset) keys the rows for the station and is never
 * in a train's view; a quasi-identifier is a variable the dictionary marks
 * as one that could help single out a patient.
 */
enum pht_colrole {
	PHT_ROLE_VARIABLE = 0,      /* the default */
	PHT_ROLE_QUASI_IDENTIFIER,
	PHT_ROLE_IDENTIFIER,
};

/*
 * One loaded column. Read-only for everyone but the loader; the arrays hold
 * nrows values each. A missing cell has its bit set in `missing`
 * (bit i of byte i/8, least significant first) and the value 0 in the
 * array; `missing` is NULL when the column has no missing cells.
 */
struct pht_column {
	const char *name;
	enum pht_coltype type;
	const char *unit;           /* "" when the dictionary gives none */
	const char *description;    /* "" when the dictionary gives none */
	enum pht_colrole role;
	int datetime;               /* dictionary type "datetime": an INTEGER
	                               column of seconds since 1970-01-01T00:00:00 */
	size_t nlevels;             /* category only */
	const char *const *levels;  /* category only: level names */
	union {
		const double *f64;
		const int64_t *i64;
		const int32_t *i32;     /* category codes and dates */
		const uint8_t *u8;      /* booleans */
	} v;
	const uint8_t *missing;
	size_t nmissing;
};

static inline int
pht_column_is_missing(const struct pht_column *c, size_t row)
{
	return c->missing != NULL && ((c->missing[row >> 3] >> (row & 7)) & 1);
}

/*
 * The cell at row as a double: numbers as they are, integers converted,
 * booleans 0/1, category codes and dates (days) as their int32. A missing
 * cell gives 0; test pht_column_is_missing() first.
 */
static inline double
pht_column_num(const struct pht_column *c, size_t row)
{
	switch (c->type) {
	case PHT_COL_NUMBER:
		return c->v.f64[row];
	case PHT_COL_INTEGER:
		return (double)c->v.i64[row];
	case PHT_COL_BOOLEAN:
		return c->v.u8[row];
	default:
		return c->v.i32[row];
	}
}

/*
 * The cell at row of an integer, boolean, category (code) or date (days)
 * column as an int64 (not for number columns). A missing cell gives 0.
 */
static inline int64_t
pht_column_int(const struct pht_column *c, size_t row)
{
	switch (c->type) {
	case PHT_COL_INTEGER:
		return c->v.i64[row];
	case PHT_COL_BOOLEAN:
		return c->v.u8[row];
	default:
		return c->v.i32[row];
	}
}

/*
 * Code (0-based, dictionary order) of the level called name in category
 * column c; -1 when c is not a category column or has no such level.
 */
int pht_column_level_code(const struct pht_column *c, const char *name);

/*
 * Parses len bytes "YYYY-MM-DD" (a real calendar day, years 0000-9999,
 * nothing else) into days since 1970-01-01, as the loader does for date
 * cells. PHT_OK, or PHT_ERR_INVALID leaving *days untouched.
 */
int pht_dataset_parse_date(const char *s, size_t len, int32_t *days);

/* Name of a column type as the dictionary spells it ("number", ...). */
const char *pht_coltype_name(enum pht_coltype t);

/* Name of a role as the dictionary spells it ("identifier", ...). */
const char *pht_colrole_name(enum pht_colrole r);

/* The text encodings a CSV may be in; cells are read as UTF-8 after conversion. */
enum pht_encoding {
	PHT_ENC_UTF8 = 0,
	PHT_ENC_LATIN1,         /* ISO-8859-1 */
	PHT_ENC_WINDOWS1252,
};

/* The format of one date or datetime column (docs/dataset.md, "Dialects"). */
struct pht_dataset_format {
	const char *column;
	const char *format;     /* e.g. "%d-%m-%Y" */
};

/*
 * How the cells of a source are written; zero-initialise for RFC 4180 in
 * UTF-8, '.' as the decimal point and ISO dates. delimiter, quote, decimal
 * and encoding are for CSV only; formats apply to every source.
 */
struct pht_dataset_dialect {
	char delimiter;         /* 0: ',' */
	char quote;             /* 0: '"' */
	char decimal;           /* 0 or '.'; ',' for a decimal comma */
	enum pht_encoding encoding;
	size_t nformats;
	const struct pht_dataset_format *formats;
};

/* Name of an encoding as a config spells it ("utf-8", "latin-1", "windows-1252"). */
const char *pht_encoding_name(enum pht_encoding e);

/* Parses an encoding name (case-insensitive; a few aliases); -1 if none. */
int pht_encoding_parse(const char *s);

/* Options for loading; zero-initialise for the defaults. */
struct pht_dataset_opts {
	size_t max_bytes;   /* largest CSV accepted; 0 = 4 GiB */
	const struct pht_dataset_dialect *dialect;  /* NULL: the default */
};

struct pht_dataset;

/*
 * Loads csv_path with the dictionary at dict_path. Every cell is validated
 * against the dictionary; on the first bad cell it fails with
 * PHT_ERR_INVALID and a detail "FILE:ROW:COLUMN: reason (N bad cells in
 * all)", where ROW is the 1-based line of the record in the file (the
 * header is line 1). A malformed dictionary gives PHT_ERR_MALFORMED naming
 * the field. RFC 4180: quoted fields with embedded commas, quotes ("") and
 * newlines, CRLF or LF line ends, an optional UTF-8 BOM. The header must
 * name exactly the dictionary's columns (in any order). The SHA-256 of both
 * files is recorded. *out is NULL on failure.
 */
int pht_dataset_load(const char *csv_path, const char *dict_path,
    const struct pht_dataset_opts *opts, struct pht_dataset **out,
    struct pht_err *err);

/* The same from memory; name is used in error details in place of a path. */
int pht_dataset_load_mem(const char *csv, size_t csv_len, const char *dict,
    size_t dict_len, const char *name, struct pht_dataset **out,
    struct pht_err *err);

/*
 * The same with a dialect (NULL: the default). A bad dialect (delimiter
 * equal to the quote or the decimal comma, a format for a column that is
 * not a date or datetime in the dictionary, a format that does not parse)
 * gives PHT_ERR_INVALID naming it; a CSV that is not in the encoding
 * declared gives PHT_ERR_INVALID naming the line.
 */
int pht_dataset_load_mem_dialect(const char *csv, size_t csv_len,
    const char *dict, size_t dict_len, const char *name,
    const struct pht_dataset_dialect *dialect, struct pht_dataset **out,
    struct pht_err *err);

/* Frees the dataset and all its columns; accepts NULL. */
void pht_dataset_free(struct pht_dataset *ds);

/* The dictionary's "dataset" name. */
const char *pht_dataset_name(const struct pht_dataset *ds);
size_t pht_dataset_nrows(const struct pht_dataset *ds);
size_t pht_dataset_ncols(const struct pht_dataset *ds);

/* Column i (0-based, dictionary order); NULL if out of range. */
const struct pht_column *pht_dataset_column(const struct pht_dataset *ds, size_t i);

/* Column by name; NULL if there is none. */
const struct pht_column *pht_dataset_find(const struct pht_dataset *ds,
    const char *name);

/* Index of a column by name, or -1. */
int pht_dataset_find_index(const struct pht_dataset *ds, const char *name);

/*
 * The dataset's identifier column (role "identifier" in the dictionary;
 * at most one), or NULL when it has none. The station keys rows by it;
 * trains never see it.
 */
const struct pht_column *pht_dataset_identifier(const struct pht_dataset *ds);

/* Hex SHA-256 of the CSV file and of the dictionary file as loaded. */
const char *pht_dataset_csv_sha256(const struct pht_dataset *ds);
const char *pht_dataset_dict_sha256(const struct pht_dataset *ds);

/*
 * The dictionary as parsed (borrowed; valid while ds lives): names, types,
 * units, levels, descriptions — never values. This is what a station
 * publishes about itself.
 */
const json_t *pht_dataset_dict(const struct pht_dataset *ds);

/*
 * Removes the rows whose bit is set in drop (bit i of byte i/8, least
 * significant first; nrows bits) from every column, compacting the
 * columns in place: the dataset then holds only the other rows, in their
 * order, as if the dropped ones had never been in the file. The recorded
 * file hashes stay those of the files as loaded. Used for opt-outs
 * (station/pht_station_optout.h). *ndropped (may be NULL) gets the count.
 * PHT_ERR_NOMEM leaves the dataset unusable: free it.
 */
int pht_dataset_drop_rows(struct pht_dataset *ds, const uint8_t *drop,
    size_t *ndropped, struct pht_err *err);

/*
 * After pht_dataset_drop_rows, which rows of the file ds still holds: the
 * result (borrowed; valid while ds lives and until the next drop) has one
 * entry per row of ds, the row of the file it came from (0 = the first
 * data row), strictly ascending, and *file_nrows gets the number of data
 * rows the file had. NULL, with *file_nrows = pht_dataset_nrows(ds), when
 * no row was ever dropped. So the station compares what trains saw of a
 * dataset with opt-outs in the file's rows (station/pht_station_diff.h).
 */
const uint32_t *pht_dataset_file_rows(const struct pht_dataset *ds,
    size_t *file_nrows);

/*
 * SHA-256 (hex) of the loaded columns: names, types, level names, row
 * count, every value and missing flag. Two loads with the same digest hold the same
 * typed data, whatever source and dialect they came from. PHT_OK, or
 * PHT_ERR_CRYPTO.
 */
int pht_dataset_columns_sha256(const struct pht_dataset *ds, char out[65]);

/* Bytes held by the column arrays and bitmaps (for memory accounting). */
size_t pht_dataset_column_bytes(const struct pht_dataset *ds);

#endif
