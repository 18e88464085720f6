/* pht_station_optout.c — opt-out sources: parse, match against typed columns, drop rows. */
#include "pht_station_optout.h"
#include "pht_dataset_source.h"
#include "pht_buf.h"
#include "pht_dataset.h"
#include "pht_enc.h"
#include "pht_hash.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_file.h"
#include "pht_station_config.h"
#include "pht_limits.h"


#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


static int
bad(struct pht_err *err, const char *file, const char *field, const char *reason)
{
	return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s: %s", file, field, reason);
}

static int
nonempty_string(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0 &&
	    strlen(json_string_value(v)) == json_string_length(v);
}

int
pht_station_optout_parse(const json_t *spec, const char *file, const char *field,
    const char *base_dir, struct pht_station_optout **out, struct pht_err *err)
{
	static const char *const known[] = {"file", "column", "value", NULL};
	struct pht_station_optout *o = NULL;
	const json_t *f, *c, *v;
	const char *k;
	char where[160];
	int r = PHT_ERR_NOMEM;

	*out = NULL;
	if (!json_is_object(spec))
		return bad(err, file, field, "not an object ({\"file\", \"column\"} or "
		    "{\"column\", \"value\"})");
	if ((k = pht_json_unknown(spec, known)) != NULL) {
		snprintf(where, sizeof(where), "%s.%.64s", field, k);
		return bad(err, file, where, "unknown field");
	}
	f = json_object_get(spec, "file");
	c = json_object_get(spec, "column");
	v = json_object_get(spec, "value");
	snprintf(where, sizeof(where), "%s.column", field);
	if (c == NULL)
		return bad(err, file, where, "missing");
	if (!nonempty_string(c))
		return bad(err, file, where, "not a non-empty string");
	if ((f == NULL) == (v == NULL))
		return bad(err, file, field, "give either file (a list of pseudonyms) "
		    "or value (rows whose column has it), not both or neither");
	snprintf(where, sizeof(where), "%s.%s", field, f != NULL ? "file" : "value");
	if (!nonempty_string(f != NULL ? f : v))
		return bad(err, file, where, "not a non-empty string");
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->column = strdup(json_string_value(c))) == NULL)
		goto out;
	if (v != NULL && (o->value = strdup(json_string_value(v))) == NULL)
		goto out;
	if (f != NULL) {
		const char *p = json_string_value(f);
		o->file = p[0] == '/' || base_dir == NULL ? strdup(p) :
		    pht_path_join(base_dir, p);
		if (o->file == NULL)
			goto out;
	}
	*out = o;
	o = NULL; /* transferred */
	r = PHT_OK;
out:
	if (r != PHT_OK)
		pht_errf(err, r, "%s: out of memory", file);
	pht_station_optout_free(o);
	return r;
}

void
pht_station_optout_free(struct pht_station_optout *o)
{
	if (o == NULL)
		return;
	free(o->file);
	free(o->column);
	free(o->value);
	free(o);
}

/* ---- matching ---- */

/* The opted-out values of one column, as the column's type holds them. */
struct keyset {
	int64_t *i;         /* integer, category code, date, boolean */
	double *d;          /* number */
	size_t n, cap;
};

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * Adds text (len bytes) as a key of column c's type; a spelling the column
 * cannot hold is skipped (it matches no row). PHT_ERR_NOMEM or PHT_OK.
 */
static int
keyset_add(struct keyset *ks, const struct pht_column *c, const char *text,
    size_t len)
{
	char buf[128], *end;
	int64_t iv = 0;
	double dv = 0;
	int32_t days;

	if (len == 0 || len >= sizeof(buf))
		return PHT_OK;
	memcpy(buf, text, len);
	buf[len] = '\0';
	switch (c->type) {
	case PHT_COL_INTEGER:
		errno = 0;
		iv = strtoll(buf, &end, 10);
		if (errno != 0 || *end != '\0' || end == buf || buf[0] == ' ')
			return PHT_OK;
		break;
	case PHT_COL_NUMBER:
		errno = 0;
		dv = strtod(buf, &end);
		if (errno != 0 || *end != '\0' || end == buf || !isfinite(dv) ||
		    buf[0] == ' ')
			return PHT_OK;
		break;
	case PHT_COL_CATEGORY:
		if ((iv = pht_column_level_code(c, buf)) < 0)
			return PHT_OK;
		break;
	case PHT_COL_DATE:
		if (pht_dataset_parse_date(buf, len, &days) != PHT_OK)
			return PHT_OK;
		iv = days;
		break;
	case PHT_COL_BOOLEAN:
		if (strcmp(buf, "1") == 0 || strcmp(buf, "true") == 0)
			iv = 1;
		else if (strcmp(buf, "0") == 0 || strcmp(buf, "false") == 0)
			iv = 0;
		else
			return PHT_OK;
		break;
	}
	if (ks->n == ks->cap) {
		size_t nc = ks->cap ? ks->cap * 2 : 64;
		void *p;
		if (c->type == PHT_COL_NUMBER) {
			if ((p = realloc(ks->d, nc * sizeof(*ks->d))) == NULL)
				return PHT_ERR_NOMEM;
			ks->d = p;
		} else {
			if ((p = realloc(ks->i, nc * sizeof(*ks->i))) == NULL)
				return PHT_ERR_NOMEM;
			ks->i = p;
		}
		ks->cap = nc;
	}
	if (c->type == PHT_COL_NUMBER)
		ks->d[ks->n++] = dv;
	else
		ks->i[ks->n++] = iv;
	return PHT_OK;
}

/* 1 if row's (non-missing) value of c is in ks. */
static int
keyset_has(const struct keyset *ks, const struct pht_column *c, size_t row)
{
	int64_t iv;

	if (ks->n == 0 || pht_column_is_missing(c, row))
		return 0;
	switch (c->type) {
	case PHT_COL_NUMBER:
		return bsearch(&c->v.f64[row], ks->d, ks->n, sizeof(*ks->d),
		    cmp_dbl) != NULL;
	case PHT_COL_INTEGER: iv = c->v.i64[row]; break;
	case PHT_COL_CATEGORY:
	case PHT_COL_DATE: iv = c->v.i32[row]; break;
	default: iv = c->v.u8[row]; break;
	}
	return bsearch(&iv, ks->i, ks->n, sizeof(*ks->i), cmp_i64) != NULL;
}

/* Reads the pseudonym file into ks; info gets its line count and hash. */
static int
read_list(const char *path, const struct pht_column *c, struct keyset *ks,
    struct pht_station_optout_info *info, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	const char *p, *end, *nl;
	size_t len;
	int r;

	if ((r = pht_file_read(path, PHT_OPTOUT_FILE_MAX, &b, err)) != PHT_OK) {
		pht_err_prefix(err, "opt-out list");
		return r;
	}
	if (pht_sha256_hex(pht_buf_data(b), pht_buf_len(b), info->sha256, NULL) != PHT_OK)
		info->sha256[0] = '\0';
	p = pht_buf_str(b);
	end = p + pht_buf_len(b);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0) {
			info->listed++;
			if ((r = keyset_add(ks, c, p, len)) != PHT_OK) {
				pht_buf_free(b);
				return pht_errf(err, r, "%s: out of memory", path);
			}
		}
		p = nl != NULL ? nl + 1 : end;
	}
	pht_buf_free(b);
	return PHT_OK;
}

int
pht_station_optout_apply(const struct pht_station_optout *o, struct pht_dataset *ds,
    struct pht_station_optout_info *info, struct pht_err *err)
{
	struct pht_station_optout_info local;
	const struct pht_column *c;
	struct keyset ks = {NULL, NULL, 0, 0};
	uint8_t *drop = NULL;
	size_t row, n = pht_dataset_nrows(ds);
	int r;

	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof(*info));
	if ((c = pht_dataset_find(ds, o->column)) == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "opt-out: column %s is not in "
		    "the dataset", o->column);
	if (o->file != NULL)
		r = read_list(o->file, c, &ks, info, err);
	else if ((r = keyset_add(&ks, c, o->value, strlen(o->value))) != PHT_OK)
		pht_errf(err, r, "out of memory");
	if (r != PHT_OK)
		goto out;
	if (c->type == PHT_COL_NUMBER)
		qsort(ks.d, ks.n, sizeof(*ks.d), cmp_dbl);
	else if (ks.n > 0)
		qsort(ks.i, ks.n, sizeof(*ks.i), cmp_i64);
	if ((drop = calloc(n / 8 + 1, 1)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (row = 0; row < n; row++)
		if (keyset_has(&ks, c, row))
			drop[row >> 3] |= (uint8_t)(1u << (row & 7));
	r = pht_dataset_drop_rows(ds, drop, &info->excluded, err);
out:
	free(drop);
	free(ks.i);
	free(ks.d);
	return r;
}

int
pht_station_dataset_load(const struct pht_station_dataset *d, struct pht_dataset **out,
    struct pht_station_optout_info *info, struct pht_err *err)
{
	struct pht_dataset *ds = NULL;
	int r;

	*out = NULL;
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if ((r = pht_dataset_source_load(d->source, NULL, &ds, err)) != PHT_OK)
		return r;
	if (d->opt_out != NULL &&
	    (r = pht_station_optout_apply(d->opt_out, ds, info, err)) != PHT_OK) {
		pht_dataset_free(ds);
		return r;
	}
	*out = ds;
	return PHT_OK;
}

int
pht_station_optout_stale(const struct pht_station_dataset *d,
    const struct pht_station_optout_info *info)
{
	struct pht_buf *b = NULL;
	char now[65];
	int stale;

	if (d->opt_out == NULL || d->opt_out->file == NULL)
		return 0;
	if (pht_file_read(d->opt_out->file, PHT_OPTOUT_FILE_MAX, &b, NULL) != PHT_OK)
		return 1;
	if (pht_sha256_hex(pht_buf_data(b), pht_buf_len(b), now, NULL) != PHT_OK)
		now[0] = '\0';
	pht_buf_free(b);
	stale = strcmp(now, info->sha256) != 0;
	return stale;
}

int
pht_station_optout_log_fields(const struct pht_station_dataset *d,
    const struct pht_station_optout_info *info, json_t *fields)
{
	if (d->opt_out == NULL || info == NULL)
		return 0;
	if (json_object_set_new(fields, "opt_out_excluded",
	    json_integer((json_int_t)info->excluded)) != 0)
		return -1;
	if (d->opt_out->file != NULL && json_object_set_new(fields, "opt_out_sha256",
	    json_string(info->sha256)) != 0)
		return -1;
	return 0;
}
