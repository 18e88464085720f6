/* pht_dataset_source.c — a dataset's source as a config names it (CSV and dialect, SQLite, PostgreSQL), parsed strictly, and loading from it. */
#include "pht_dataset_source.h"
#include "pht_dataset_int.h"
#include "pht_buf.h"
#include "pht_csv.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_limits.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOURCE_FILE_MAX ((size_t)1 << 20)   /* a source file */
#define QUERY_MAX ((size_t)1 << 20)         /* a query's text */
#define FORMATS_MAX 4096                    /* formats in one source */
#define CSV_DEFAULT_MAX ((size_t)4 << 30)

struct pht_dataset_source {
	enum pht_source_kind kind;
	char *path;         /* CSV or SQLite file */
	char *conninfo;     /* PostgreSQL */
	char *passfile;     /* PostgreSQL, may be NULL */
	char *query;        /* SQL sources */
	char *dict;
	char *label;
	struct pht_dataset_dialect dialect;
	struct pht_dataset_format *formats;
};

void
pht_dataset_source_free(struct pht_dataset_source *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->dialect.nformats; i++) {
		free((char *)s->formats[i].column);
		free((char *)s->formats[i].format);
	}
	free(s->formats);
	free(s->path);
	free(s->conninfo);
	free(s->passfile);
	free(s->query);
	free(s->dict);
	free(s->label);
	free(s);
}

/* State of one parse: where errors point. */
struct sctx {
	const char *file;
	const char *field;
	const char *base;
	struct pht_err *err;
};

static int
sbad(const struct sctx *c, const char *key, const char *why)
{
	return pht_errf(c->err, PHT_ERR_MALFORMED, "%s: %s%s%s: %s", c->file,
	    c->field, c->field[0] && key[0] ? "." : "", key, why);
}

/* An optional string without NUL bytes; *out NULL when absent. */
static int
sstr(const struct sctx *c, const json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL)
		return PHT_OK;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return sbad(c, key, "not a string without NUL bytes");
	if (json_string_length(v) == 0)
		return sbad(c, key, "empty");
	*out = json_string_value(v);
	return PHT_OK;
}

/* An optional path, resolved against the base directory. */
static int
spath(const struct sctx *c, const json_t *o, const char *key, char **out)
{
	const char *s;
	int r;

	*out = NULL;
	if ((r = sstr(c, o, key, &s)) != PHT_OK || s == NULL)
		return r;
	*out = s[0] == '/' || c->base == NULL ? strdup(s) : pht_path_join(c->base, s);
	if (*out == NULL)
		return pht_errf(c->err, PHT_ERR_NOMEM, "%s: out of memory", c->file);
	return PHT_OK;
}

/* One byte of a dialect: a string of exactly one ASCII byte. */
static int
sbyte(const struct sctx *c, const json_t *d, const char *key, char *out)
{
	char where[64];
	const char *s;
	int r;

	snprintf(where, sizeof(where), "dialect.%s", key);
	if ((r = sstr(c, d, key, &s)) != PHT_OK)
		return sbad(c, where, "not a one-character string");
	if (s == NULL)
		return PHT_OK;
	if (strlen(s) != 1 || (unsigned char)s[0] >= 0x80 || s[0] == '\n' ||
	    s[0] == '\r')
		return sbad(c, where, "not one ASCII character other than CR and LF");
	*out = s[0];
	return PHT_OK;
}

static int
parse_dialect(const struct sctx *c, struct pht_dataset_source *s, const json_t *d)
{
	static const char *const known[] = {
		"delimiter", "quote", "decimal", "encoding", NULL
	};
	const char *k, *enc;
	int r, e;

	if (!json_is_object(d))
		return sbad(c, "dialect", "not an object ({\"delimiter\": \";\", "
		    "\"decimal\": \",\", \"quote\": \"\\\"\", \"encoding\": "
		    "\"windows-1252\"})");
	if ((k = pht_json_unknown(d, known)) != NULL) {
		char where[96];
		snprintf(where, sizeof(where), "dialect.%.40s", k);
		return sbad(c, where, "unknown field");
	}
	if ((r = sbyte(c, d, "delimiter", &s->dialect.delimiter)) != PHT_OK ||
	    (r = sbyte(c, d, "quote", &s->dialect.quote)) != PHT_OK ||
	    (r = sbyte(c, d, "decimal", &s->dialect.decimal)) != PHT_OK)
		return r;
	if (s->dialect.decimal != '\0' && s->dialect.decimal != '.' &&
	    s->dialect.decimal != ',')
		return sbad(c, "dialect.decimal", "only \".\" or \",\"");
	if (s->dialect.delimiter != '\0' && s->dialect.delimiter ==
	    (s->dialect.quote ? s->dialect.quote : '"'))
		return sbad(c, "dialect", "the delimiter and the quote are the same");
	if (s->dialect.decimal == ',' && (s->dialect.delimiter == '\0' ||
	    s->dialect.delimiter == ','))
		return sbad(c, "dialect", "a decimal comma needs a delimiter other "
		    "than \",\"");
	if ((r = sstr(c, d, "encoding", &enc)) != PHT_OK)
		return sbad(c, "dialect.encoding", "not a string");
	if (enc != NULL) {
		if ((e = pht_encoding_parse(enc)) < 0)
			return sbad(c, "dialect.encoding", "not one of utf-8, latin-1, "
			    "windows-1252");
		s->dialect.encoding = (enum pht_encoding)e;
	}
	return PHT_OK;
}

static int
parse_formats(const struct sctx *c, struct pht_dataset_source *s, const json_t *f)
{
	const char *col;
	char where[128], why[160];
	json_t *v;
	size_t n;

	if (!json_is_object(f))
		return sbad(c, "formats", "not an object (column -> format, e.g. "
		    "{\"dx\": \"%d-%m-%Y\"})");
	if ((n = json_object_size(f)) > FORMATS_MAX)
		return sbad(c, "formats", "too many");
	if (n == 0)
		return PHT_OK;
	if ((s->formats = calloc(n, sizeof(*s->formats))) == NULL)
		return pht_errf(c->err, PHT_ERR_NOMEM, "%s: out of memory", c->file);
	json_object_foreach((json_t *)f, col, v) {
		snprintf(where, sizeof(where), "formats.%.64s", col);
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return sbad(c, where, "not a string");
		/* the column's type is known at load; both kinds are checked then */
		if (pht_dataset_datefmt_check(json_string_value(v), 1, why,
		    sizeof(why)) != PHT_OK)
			return sbad(c, where, why);
		s->formats[s->dialect.nformats].column = strdup(col);
		s->formats[s->dialect.nformats].format = strdup(json_string_value(v));
		s->dialect.nformats++;
		if (s->formats[s->dialect.nformats - 1].column == NULL ||
		    s->formats[s->dialect.nformats - 1].format == NULL)
			return pht_errf(c->err, PHT_ERR_NOMEM, "%s: out of memory", c->file);
	}
	s->dialect.formats = s->formats;
	return PHT_OK;
}

/* NAME.csv -> NAME.dict.json; NULL when path does not end in .csv. */
static char *
dict_beside(const char *path)
{
	size_t len = strlen(path);
	char *d;

	if (len < 5 || strcmp(path + len - 4, ".csv") != 0)
		return NULL;
	if ((d = malloc(len - 4 + sizeof(".dict.json"))) == NULL)
		return NULL;
	memcpy(d, path, len - 4);
	memcpy(d + len - 4, ".dict.json", sizeof(".dict.json"));
	return d;
}

static int
make_label(struct pht_dataset_source *s)
{
	size_t n;

	if (s->kind == PHT_SOURCE_CSV) {
		s->label = strdup(s->path);
		return s->label == NULL ? PHT_ERR_NOMEM : PHT_OK;
	}
	n = strlen(s->kind == PHT_SOURCE_SQLITE ? s->path : s->conninfo) + 16;
	if ((s->label = malloc(n)) == NULL)
		return PHT_ERR_NOMEM;
	snprintf(s->label, n, "%s:%s", s->kind == PHT_SOURCE_SQLITE ? "sqlite" :
	    "postgres", s->kind == PHT_SOURCE_SQLITE ? s->path : s->conninfo);
	return PHT_OK;
}

int
pht_dataset_source_parse(const json_t *obj, const char *file, const char *field,
    const char *base_dir, const char *const *extra, int need_dict,
    struct pht_dataset_source **out, struct pht_err *err)
{
	static const char *const own[] = {
		"csv", "sqlite", "postgres", "query", "passfile", "dict", "dialect",
		"formats",
	};
	const char *known[sizeof(own) / sizeof(own[0]) + 64 + 1];
	struct sctx c = { file, field, base_dir, err };
	struct pht_dataset_source *s = NULL;
	const char *k, *q, *conn;
	size_t i, n = 0, nkinds;
	char why[128];
	int r;

	*out = NULL;
	if (!json_is_object(obj))
		return sbad(&c, "", "not an object");
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		known[n++] = own[i];
	for (i = 0; extra != NULL && extra[i] != NULL && i < 64; i++)
		known[n++] = extra[i];
	known[n] = NULL;
	if ((k = pht_json_unknown(obj, known)) != NULL) {
		snprintf(why, sizeof(why), "%.64s", k);
		return sbad(&c, why, "unknown field");
	}
	nkinds = (json_object_get(obj, "csv") != NULL) +
	    (json_object_get(obj, "sqlite") != NULL) +
	    (json_object_get(obj, "postgres") != NULL);
	if (nkinds == 0)
		return sbad(&c, "csv", "missing (a source is required: csv, sqlite "
		    "or postgres)");
	if (nkinds > 1)
		return sbad(&c, "", "more than one of csv, sqlite, postgres");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", file);
	if (json_object_get(obj, "csv") != NULL) {
		s->kind = PHT_SOURCE_CSV;
		if ((r = spath(&c, obj, "csv", &s->path)) != PHT_OK)
			goto out;
		if (json_object_get(obj, "query") || json_object_get(obj, "passfile")) {
			r = sbad(&c, "query", "only for sqlite and postgres sources");
			goto out;
		}
	} else {
		if (json_object_get(obj, "sqlite") != NULL) {
			s->kind = PHT_SOURCE_SQLITE;
			if ((r = spath(&c, obj, "sqlite", &s->path)) != PHT_OK)
				goto out;
			if (!PHT_HAVE_SQLITE) {
				r = sbad(&c, "sqlite", "this pht was built without SQLite");
				goto out;
			}
			if (json_object_get(obj, "passfile") != NULL) {
				r = sbad(&c, "passfile", "only for postgres sources");
				goto out;
			}
		} else {
			s->kind = PHT_SOURCE_POSTGRES;
			if ((r = sstr(&c, obj, "postgres", &conn)) != PHT_OK)
				goto out;
			if (!PHT_HAVE_LIBPQ) {
				r = sbad(&c, "postgres", "this pht was built without libpq "
				    "(PostgreSQL)");
				goto out;
			}
			if ((r = pht_dataset_pg_conninfo_check(conn, why,
			    sizeof(why))) != PHT_OK) {
				r = sbad(&c, "postgres", why);
				goto out;
			}
			if ((s->conninfo = strdup(conn)) == NULL) {
				r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", file);
				goto out;
			}
			if ((r = spath(&c, obj, "passfile", &s->passfile)) != PHT_OK)
				goto out;
		}
		if ((r = sstr(&c, obj, "query", &q)) != PHT_OK)
			goto out;
		if (q == NULL || strlen(q) > QUERY_MAX) {
			r = sbad(&c, "query", q == NULL ? "missing (a read-only SELECT)" :
			    "too long");
			goto out;
		}
		if ((s->query = strdup(q)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", file);
			goto out;
		}
		if (json_object_get(obj, "dialect") != NULL) {
			r = sbad(&c, "dialect", "only for csv sources (a query's cells "
			    "are the database's text)");
			goto out;
		}
	}
	if ((r = spath(&c, obj, "dict", &s->dict)) != PHT_OK)
		goto out;
	if (s->dict == NULL && s->kind == PHT_SOURCE_CSV &&
	    (s->dict = dict_beside(s->path)) == NULL && need_dict) {
		r = sbad(&c, "dict", "missing (and the csv path does not end in "
		    ".csv, so NAME.dict.json cannot be inferred)");
		goto out;
	}
	if (s->dict == NULL && s->kind != PHT_SOURCE_CSV && need_dict) {
		r = sbad(&c, "dict", "missing (required for sqlite and postgres "
		    "sources)");
		goto out;
	}
	if (json_object_get(obj, "dialect") != NULL &&
	    (r = parse_dialect(&c, s, json_object_get(obj, "dialect"))) != PHT_OK)
		goto out;
	if (json_object_get(obj, "formats") != NULL &&
	    (r = parse_formats(&c, s, json_object_get(obj, "formats"))) != PHT_OK)
		goto out;
	if (make_label(s) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", file);
		goto out;
	}
	*out = s;
	s = NULL; /* transferred */
	r = PHT_OK;
out:
	pht_dataset_source_free(s);
	return r;
}

int
pht_dataset_source_load_file(const char *path, int need_dict,
    struct pht_dataset_source **out, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	json_t *j = NULL;
	char *copy = NULL;
	int r;

	*out = NULL;
	if ((r = pht_file_read(path, SOURCE_FILE_MAX, &b, err)) != PHT_OK)
		return r;
	if ((r = pht_json_parse(pht_buf_str(b), pht_buf_len(b), path, &j, err)) !=
	    PHT_OK)
		goto out;
	if ((copy = strdup(path)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	r = pht_dataset_source_parse(j, path, "", dirname(copy), NULL, need_dict,
	    out, err);
out:
	free(copy);
	json_decref(j);
	pht_buf_free(b);
	return r;
}

int
pht_dataset_source_csv_new(const char *path, const char *dict,
    struct pht_dataset_source **out, struct pht_err *err)
{
	struct pht_dataset_source *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	s->kind = PHT_SOURCE_CSV;
	if ((s->path = strdup(path)) == NULL ||
	    (dict != NULL ? (s->dict = strdup(dict)) == NULL : 0) ||
	    make_label(s) != PHT_OK) {
		pht_dataset_source_free(s);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	if (dict == NULL)
		s->dict = dict_beside(path); /* NULL: none (infer needs none) */
	*out = s;
	return PHT_OK;
}

enum pht_source_kind
pht_dataset_source_kind(const struct pht_dataset_source *s)
{
	return s->kind;
}

const char *
pht_dataset_source_csv(const struct pht_dataset_source *s)
{
	return s->kind == PHT_SOURCE_CSV ? s->path : NULL;
}

const char *
pht_dataset_source_dict(const struct pht_dataset_source *s)
{
	return s->dict;
}

const struct pht_dataset_dialect *
pht_dataset_source_dialect(const struct pht_dataset_source *s)
{
	return &s->dialect;
}

const char *
pht_dataset_source_label(const struct pht_dataset_source *s)
{
	return s->label;
}

/* Runs an SQL source's query into t. */
static int
fetch(const struct pht_dataset_source *s, size_t max, struct pht_dataset_table *t,
    struct pht_err *err)
{
	if (s->kind == PHT_SOURCE_SQLITE)
		return pht_dataset_sqlite_fetch(s->path, s->query, s->label, max, t,
		    err);
	return pht_dataset_pg_fetch(s->conninfo, s->passfile, s->query, s->label,
	    max, t, err);
}

int
pht_dataset_source_load(const struct pht_dataset_source *s,
    const struct pht_dataset_opts *opts, struct pht_dataset **out,
    struct pht_err *err)
{
	size_t max = opts != NULL && opts->max_bytes ? opts->max_bytes :
	    CSV_DEFAULT_MAX;
	struct pht_dataset_opts o = { max, &s->dialect };
	struct pht_dataset_table t = { 0 };
	struct pht_buf *dict = NULL;
	int r;

	*out = NULL;
	if (s->dict == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "%s: no dictionary", s->label);
	if (s->kind == PHT_SOURCE_CSV)
		return pht_dataset_load(s->path, s->dict, &o, out, err);
	if ((r = pht_file_read(s->dict, PHT_DICT_MAX, &dict, err)) != PHT_OK)
		return r;
	if ((r = fetch(s, max, &t, err)) == PHT_OK)
		r = pht_dataset_load_table(&t, pht_buf_str(dict), pht_buf_len(dict),
		    s->label, s->dict, &s->dialect, out, err);
	pht_dataset_table_clear(&t);
	pht_buf_free(dict);
	return r;
}

void
pht_dataset_source_cells_free(struct pht_dataset_cells *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; c->names != NULL && i < c->ncols; i++)
		free(c->names[i]);
	for (i = 0; c->cells != NULL && i < c->nrows * c->ncols; i++)
		free(c->cells[i]);
	free(c->names);
	free(c->cells);
	free(c);
}

/* A NUL-terminated copy of a field (unquoted). */
static char *
field_dup(const struct pht_csv_field *f, char quote)
{
	char *s = malloc(f->len + 1);

	if (s != NULL)
		s[pht_csv_unescape(f, quote, s)] = '\0';
	return s;
}

/* Appends one record's fields to the cells. */
static int
cells_add(struct pht_dataset_cells *c, size_t *cap, const struct pht_csv_field *f,
    char quote)
{
	size_t i, ncap;
	char **nc;

	if ((c->nrows + 1) * c->ncols > *cap) {
		ncap = *cap ? *cap * 2 : 1024;
		while (ncap < (c->nrows + 1) * c->ncols)
			ncap *= 2;
		if ((nc = realloc(c->cells, ncap * sizeof(*nc))) == NULL)
			return PHT_ERR_NOMEM;
		c->cells = nc;
		*cap = ncap;
	}
	for (i = 0; i < c->ncols; i++)
		if ((c->cells[c->nrows * c->ncols + i] = field_dup(&f[i], quote)) ==
		    NULL) {
			while (i-- > 0)
				free(c->cells[c->nrows * c->ncols + i]);
			return PHT_ERR_NOMEM;
		}
	c->nrows++;
	return PHT_OK;
}

/* A CSV's header and records as text cells. */
static int
csv_cells(const struct pht_dataset_source *s, size_t max,
    struct pht_dataset_cells *c, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	struct pht_csv t;
	char *conv = NULL, quote = s->dialect.quote ? s->dialect.quote : '"';
	const char *data;
	size_t len, cap = 0, i;
	int r;

	pht_csv_init(&t, s->path, "", 0);
	if ((r = pht_file_read(s->path, max, &b, err)) != PHT_OK)
		goto out;
	data = pht_buf_str(b);
	len = pht_buf_len(b);
	if (s->dialect.encoding != PHT_ENC_UTF8) {
		if ((r = pht_dataset_to_utf8(data, len, s->dialect.encoding, s->path,
		    &conv, &len, err)) != PHT_OK)
			goto out;
		data = conv;
	}
	pht_csv_init(&t, s->path, data, len);
	(void)pht_csv_set_dialect(&t, s->dialect.delimiter ? s->dialect.delimiter :
	    ',', quote);
	if ((r = pht_csv_next(&t, err)) <= 0) {
		if (r == 0)
			r = pht_errf(err, PHT_ERR_MALFORMED, "%s: empty file (no header "
			    "line)", s->path);
		goto out;
	}
	c->ncols = t.nfields;
	if ((c->names = calloc(c->ncols, sizeof(*c->names))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", s->path);
		goto out;
	}
	for (i = 0; i < c->ncols; i++)
		if ((c->names[i] = field_dup(&t.fields[i], quote)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", s->path);
			goto out;
		}
	t.expect = t.nfields;
	while ((r = pht_csv_next(&t, err)) == 1)
		if (cells_add(c, &cap, t.fields, quote) != PHT_OK) {
			r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", s->path);
			goto out;
		}
out:
	pht_csv_clear(&t);
	free(conv);
	pht_buf_free(b);
	return r < 0 ? r : PHT_OK;
}

int
pht_dataset_source_cells(const struct pht_dataset_source *s, size_t max_bytes,
    struct pht_dataset_cells **out, struct pht_err *err)
{
	struct pht_dataset_cells *c;
	struct pht_dataset_table t = { 0 };
	size_t i, cap = 0;
	int r;

	*out = NULL;
	if (max_bytes == 0)
		max_bytes = CSV_DEFAULT_MAX;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (s->kind == PHT_SOURCE_CSV)
		r = csv_cells(s, max_bytes, c, err);
	else if ((r = fetch(s, max_bytes, &t, err)) == PHT_OK) {
		c->ncols = t.ncols;
		if ((c->names = calloc(t.ncols ? t.ncols : 1, sizeof(*c->names))) == NULL)
			r = PHT_ERR_NOMEM;
		for (i = 0; r == PHT_OK && i < t.ncols; i++)
			if ((c->names[i] = field_dup(&t.names[i], '"')) == NULL)
				r = PHT_ERR_NOMEM;
		for (i = 0; r == PHT_OK && i < t.nrows; i++)
			r = cells_add(c, &cap, t.cells + i * t.ncols, '"');
		if (r != PHT_OK)
			r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", s->label);
	}
	pht_dataset_table_clear(&t);
	if (r != PHT_OK) {
		pht_dataset_source_cells_free(c);
		return r;
	}
	*out = c;
	return PHT_OK;
}
