/* pht_dict.c — data dictionary JSON: strict parsing with errors naming the field. */
#include "pht_dict.h"
#include "pht_err.h"
#include "pht_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most columns a dictionary may declare. */
#define DICT_MAX_COLS 65536

static const char *const coltype_names[] = {
	[PHT_COL_NUMBER] = "number",
	[PHT_COL_INTEGER] = "integer",
	[PHT_COL_CATEGORY] = "category",
	[PHT_COL_DATE] = "date",
	[PHT_COL_BOOLEAN] = "boolean",
};

const char *
pht_coltype_name(enum pht_coltype t)
{
	if ((unsigned)t < sizeof(coltype_names) / sizeof(coltype_names[0]))
		return coltype_names[t];
	return "unknown";
}

static const char *const colrole_names[] = {
	[PHT_ROLE_VARIABLE] = "variable",
	[PHT_ROLE_QUASI_IDENTIFIER] = "quasi_identifier",
	[PHT_ROLE_IDENTIFIER] = "identifier",
};

const char *
pht_colrole_name(enum pht_colrole r)
{
	if ((unsigned)r < sizeof(colrole_names) / sizeof(colrole_names[0]))
		return colrole_names[r];
	return "unknown";
}

int
pht_coltype_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(coltype_names) / sizeof(coltype_names[0]); i++)
		if (strcmp(s, coltype_names[i]) == 0)
			return (int)i;
	return -1;
}

void
pht_dict_free(struct pht_dict *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->ncols; i++) {
		free(d->cols[i].levels);
		free(d->cols[i].level_len);
		free(d->cols[i].missing);
		free(d->cols[i].missing_len);
	}
	free(d->cols);
	json_decref(d->json);
	free(d);
}

/* A string value without NUL bytes, or NULL. */
static const char *
str_of(const json_t *v)
{
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

/* Refuses any key of obj not in allowed (NULL-terminated). */
static int
only_keys(const json_t *obj, const char *const *allowed, const char *name,
    const char *path, struct pht_err *err)
{
	const char *k = pht_json_unknown(obj, allowed);

	if (k == NULL)
		return PHT_OK;
	return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s%s%.64s: unknown field", name,
	    path, path[0] ? "." : "", k);
}

/* Optional string field; "" when absent. */
static int
opt_str(const json_t *obj, const char *key, const char *name, const char *path,
    const char **out, struct pht_err *err)
{
	json_t *v = json_object_get(obj, key);

	*out = "";
	if (v == NULL)
		return PHT_OK;
	if ((*out = str_of(v)) == NULL)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s%s%s: not a string%s",
		    name, path, path[0] ? "." : "", key,
		    json_is_string(v) ? " without NUL bytes" : "");
	return PHT_OK;
}

/* Reads an array of strings at obj.key into fresh arrays. */
static int
str_list(const json_t *arr, const char *name, const char *path,
    const char ***strs, size_t **lens, size_t *n, struct pht_err *err)
{
	const char **s = NULL;
	size_t *l = NULL, i, cnt;
	json_t *v;

	*strs = NULL;
	*lens = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s: not an array",
		    name, path);
	cnt = json_array_size(arr);
	if (cnt > 0) {
		if ((s = calloc(cnt, sizeof(*s))) == NULL ||
		    (l = calloc(cnt, sizeof(*l))) == NULL) {
			free(s);
			return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
		}
	}
	json_array_foreach(arr, i, v) {
		if ((s[i] = str_of(v)) == NULL) {
			free(s);
			free(l);
			return pht_errf(err, PHT_ERR_MALFORMED,
			    "%s: %s[%zu]: not a string%s", name, path, i,
			    json_is_string(v) ? " without NUL bytes" : "");
		}
		l[i] = json_string_length(v);
	}
	*strs = s;
	*lens = l;
	*n = cnt;
	return PHT_OK;
}

static int
same(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static const char *const col_keys[] = {
	"name", "type", "unit", "description", "role", "levels", "missing", NULL
};
static const char *const top_keys[] = {
	"dataset", "description", "columns", NULL
};
static const char *const default_missing[] = { "", "NA" };
static const size_t default_missing_len[] = { 0, 2 };

static int
parse_col(const json_t *o, size_t idx, const char *name, struct pht_dict_col *c,
    struct pht_err *err)
{
	char path[48];
	char sub[64];
	json_t *v;
	size_t i, j;
	int r, t;

	snprintf(path, sizeof(path), "columns[%zu]", idx);
	if (!json_is_object(o))
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s: not an object",
		    name, path);
	if ((r = only_keys(o, col_keys, name, path, err)) != PHT_OK)
		return r;
	if ((v = json_object_get(o, "name")) == NULL)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s.name: missing",
		    name, path);
	if ((c->name = str_of(v)) == NULL || c->name[0] == '\0')
		return pht_errf(err, PHT_ERR_MALFORMED,
		    "%s: %s.name: not a non-empty string without NUL bytes",
		    name, path);
	if ((v = json_object_get(o, "type")) == NULL)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s.type: missing",
		    name, path);
	if (!json_is_string(v))
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s.type: not a string",
		    name, path);
	c->datetime = strcmp(json_string_value(v), "datetime") == 0;
	if (c->datetime)
		t = PHT_COL_INTEGER; /* seconds since 1970-01-01T00:00:00 */
	else if ((t = pht_coltype_parse(json_string_value(v))) < 0)
		return pht_errf(err, PHT_ERR_MALFORMED,
		    "%s: %s.type: \"%.40s\" is not one of number, integer, "
		    "category, date, boolean, datetime", name, path,
		    json_string_value(v));
	c->type = (enum pht_coltype)t;
	if ((r = opt_str(o, "unit", name, path, &c->unit, err)) != PHT_OK ||
	    (r = opt_str(o, "description", name, path, &c->description, err)) != PHT_OK)
		return r;
	c->role = PHT_ROLE_VARIABLE;
	if ((v = json_object_get(o, "role")) != NULL) {
		if (!json_is_string(v))
			return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s.role: not a string",
			    name, path);
		for (i = 0; i < sizeof(colrole_names) / sizeof(colrole_names[0]); i++)
			if (strcmp(json_string_value(v), colrole_names[i]) == 0)
				break;
		if (i == sizeof(colrole_names) / sizeof(colrole_names[0]))
			return pht_errf(err, PHT_ERR_MALFORMED,
			    "%s: %s.role: \"%.40s\" is not one of identifier, "
			    "quasi_identifier, variable", name, path, json_string_value(v));
		c->role = (enum pht_colrole)i;
	}

	if ((v = json_object_get(o, "missing")) != NULL) {
		snprintf(sub, sizeof(sub), "%s.missing", path);
		if ((r = str_list(v, name, sub, &c->missing, &c->missing_len,
		    &c->nmissing, err)) != PHT_OK)
			return r;
	} else {
		if ((c->missing = calloc(2, sizeof(*c->missing))) == NULL ||
		    (c->missing_len = calloc(2, sizeof(*c->missing_len))) == NULL)
			return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
		for (i = 0; i < 2; i++) {
			c->missing[i] = default_missing[i];
			c->missing_len[i] = default_missing_len[i];
		}
		c->nmissing = 2;
	}

	v = json_object_get(o, "levels");
	if (c->type != PHT_COL_CATEGORY) {
		if (v != NULL)
			return pht_errf(err, PHT_ERR_MALFORMED,
			    "%s: %s.levels: only allowed on a category column",
			    name, path);
		return PHT_OK;
	}
	if (v == NULL)
		return pht_errf(err, PHT_ERR_MALFORMED,
		    "%s: %s.levels: missing (required for a category column)",
		    name, path);
	snprintf(sub, sizeof(sub), "%s.levels", path);
	if ((r = str_list(v, name, sub, &c->levels, &c->level_len, &c->nlevels,
	    err)) != PHT_OK)
		return r;
	if (c->nlevels == 0)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s.levels: empty",
		    name, path);
	if (c->nlevels > INT32_MAX)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s.levels: too many",
		    name, path);
	/* nlevels * nmissing, and missing lists are short. */
	for (i = 0; i < c->nlevels; i++) {
		for (j = 0; j < c->nmissing; j++)
			if (same(c->levels[i], c->level_len[i], c->missing[j],
			    c->missing_len[j]))
				return pht_errf(err, PHT_ERR_MALFORMED,
				    "%s: %s.levels[%zu]: \"%.40s\" is also a missing "
				    "code", name, path, i, c->levels[i]);
	}
	return PHT_OK;
}

/* Index pairs sorted by string, to find duplicates in n log n. */
struct dup_ent {
	const char *s;
	size_t len;
	size_t idx;
};

static int
dup_cmp(const void *a, const void *b)
{
	const struct dup_ent *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Finds a duplicate among n strings; returns 1 and the later index of the
 * first duplicate pair (by position) in *dup, 0 if all are distinct, -1 on
 * OOM.
 */
static int
find_dup(const char *const *s, const size_t *len, size_t n, size_t *dup)
{
	struct dup_ent *e;
	size_t i, best = SIZE_MAX;

	if (n < 2)
		return 0;
	if ((e = calloc(n, sizeof(*e))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		e[i].s = s[i];
		e[i].len = len[i];
		e[i].idx = i;
	}
	qsort(e, n, sizeof(*e), dup_cmp);
	for (i = 1; i < n; i++)
		if (same(e[i].s, e[i].len, e[i - 1].s, e[i - 1].len) &&
		    e[i].idx < best)
			best = e[i].idx;
	free(e);
	if (best == SIZE_MAX)
		return 0;
	*dup = best;
	return 1;
}

int
pht_dict_parse(const char *data, size_t len, const char *name,
    struct pht_dict **out, struct pht_err *err)
{
	struct pht_dict *d = NULL;
	const char **names = NULL;
	size_t *nlen = NULL, i, dup, ident = SIZE_MAX;
	json_t *v, *cols, *c;
	int r, f;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
	if ((r = pht_json_parse(data, len, name, &d->json, err)) != PHT_OK)
		goto out;
	if (!json_is_object(d->json)) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: not a JSON object", name);
		goto out;
	}
	if ((r = only_keys(d->json, top_keys, name, "", err)) != PHT_OK)
		goto out;
	if ((v = json_object_get(d->json, "dataset")) == NULL) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: dataset: missing", name);
		goto out;
	}
	if ((d->dataset = str_of(v)) == NULL || d->dataset[0] == '\0') {
		r = pht_errf(err, PHT_ERR_MALFORMED,
		    "%s: dataset: not a non-empty string without NUL bytes", name);
		goto out;
	}
	if ((r = opt_str(d->json, "description", name, "", &d->description,
	    err)) != PHT_OK)
		goto out;
	if ((cols = json_object_get(d->json, "columns")) == NULL) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: columns: missing", name);
		goto out;
	}
	if (!json_is_array(cols)) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: columns: not an array", name);
		goto out;
	}
	if (json_array_size(cols) == 0) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: columns: empty", name);
		goto out;
	}
	if (json_array_size(cols) > DICT_MAX_COLS) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: columns: more than %d",
		    name, DICT_MAX_COLS);
		goto out;
	}
	if ((d->cols = calloc(json_array_size(cols), sizeof(*d->cols))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
		goto out;
	}
	json_array_foreach(cols, i, c) {
		d->ncols = i + 1; /* so that pht_dict_free frees this one too */
		if ((r = parse_col(c, i, name, &d->cols[i], err)) != PHT_OK)
			goto out;
		if (d->cols[i].role == PHT_ROLE_IDENTIFIER) {
			if (ident != SIZE_MAX) {
				r = pht_errf(err, PHT_ERR_MALFORMED,
				    "%s: columns[%zu].role: a second identifier column "
				    "(columns[%zu] is one); at most one", name, i, ident);
				goto out;
			}
			ident = i;
		}
		if (d->cols[i].type == PHT_COL_CATEGORY) {
			f = find_dup(d->cols[i].levels, d->cols[i].level_len,
			    d->cols[i].nlevels, &dup);
			if (f < 0) {
				r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
				goto out;
			}
			if (f > 0) {
				r = pht_errf(err, PHT_ERR_MALFORMED,
				    "%s: columns[%zu].levels[%zu]: \"%.40s\" appears "
				    "twice", name, i, dup, d->cols[i].levels[dup]);
				goto out;
			}
		}
	}
	if ((names = calloc(d->ncols, sizeof(*names))) == NULL ||
	    (nlen = calloc(d->ncols, sizeof(*nlen))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
		goto out;
	}
	for (i = 0; i < d->ncols; i++) {
		names[i] = d->cols[i].name;
		nlen[i] = strlen(names[i]);
	}
	if ((f = find_dup(names, nlen, d->ncols, &dup)) < 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
		goto out;
	}
	if (f > 0) {
		r = pht_errf(err, PHT_ERR_MALFORMED,
		    "%s: columns[%zu].name: \"%.40s\" appears twice", name, dup,
		    names[dup]);
		goto out;
	}
	*out = d;
	d = NULL; /* transferred */
	r = PHT_OK;
out:
	free(names);
	free(nlen);
	pht_dict_free(d);
	return r;
}
