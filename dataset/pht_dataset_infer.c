/* pht_dataset_infer.c — drafts a data dictionary (types, levels, missing codes) from a source's cells. */
#include "pht_dataset_infer.h"
#include "pht_dataset_int.h"
#include "pht_err.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cells read as missing wherever they appear. */
static const char *const missing_words[] = {
	"", "NA", "N/A", "NULL", ".", "?", "-", NULL
};

/* Numeric sentinels read as missing in a column of non-negative numbers. */
static const char *const missing_sentinels[] = { "-99", "-999", NULL };

static int
in_list(const char *s, const char *const *l)
{
	for (; *l != NULL; l++)
		if (strcmp(s, *l) == 0)
			return 1;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What every non-missing cell of a column could be. */
struct kinds {
	int boolean, integer, number, date, datetime, nonneg;
	size_t n;
};

static const char *
fmt_of(const struct pht_dataset_dialect *dl, const char *col)
{
	size_t i;

	for (i = 0; dl != NULL && i < dl->nformats; i++)
		if (strcmp(dl->formats[i].column, col) == 0)
			return dl->formats[i].format;
	return NULL;
}

static void
classify(const char *v, locale_t loc, const struct pht_dataset_dialect *dl,
    const char *fmt, struct kinds *k)
{
	char dec[128];
	size_t len = strlen(v), i;
	int64_t iv, secs;
	int32_t days;
	double fv;
	const char *nv = v;

	k->n++;
	if (k->boolean && !(strcmp(v, "0") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "true") == 0 || strcmp(v, "false") == 0))
		k->boolean = 0;
	if (k->integer && pht_dataset_cell_int(v, len, &iv) != 0)
		k->integer = 0;
	if (dl != NULL && dl->decimal == ',' && len < sizeof(dec)) {
		for (i = 0; i <= len; i++)
			dec[i] = v[i] == ',' ? '.' : v[i] == '.' ? ',' : v[i];
		nv = dec;
	}
	if (k->number && pht_dataset_cell_num(loc, nv, len, &fv) != 0)
		k->number = 0;
	if (k->number && fv < 0)
		k->nonneg = 0;
	if (k->date && (fmt != NULL ? pht_dataset_datefmt_check(fmt, 0, dec,
	    sizeof(dec)) != PHT_OK || pht_dataset_datefmt_parse(fmt, v, len,
	    &secs) != 0 : pht_dataset_parse_date(v, len, &days) != PHT_OK))
		k->date = 0;
	if (k->datetime && (fmt != NULL ? pht_dataset_datefmt_parse(fmt, v, len,
	    &secs) != 0 : pht_dataset_datetime_iso(v, len, &secs) != 0))
		k->datetime = 0;
}

/* Is name an identifier's name: id, pid or ending in _id? */
static int
id_name(const char *name)
{
	size_t n = strlen(name);

	return strcmp(name, "id") == 0 || strcmp(name, "pid") == 0 ||
	    (n > 3 && strcmp(name + n - 3, "_id") == 0);
}

/* Are the missing codes seen only the default ones, "" and "NA"? */
static int
only_default(const json_t *miss)
{
	const char *m;
	size_t j;

	for (j = 0; j < json_array_size(miss); j++) {
		m = json_string_value(json_array_get(miss, j));
		if (strcmp(m, "") != 0 && strcmp(m, "NA") != 0)
			return 0;
	}
	return 1;
}

/* One column's entry; vals are the column's cells (borrowed), sorted here. */
static int
infer_column(const char *name, const char **vals, size_t n, locale_t loc,
    const struct pht_dataset_dialect *dl, json_t *notes, json_t **out)
{
	struct kinds k = { 1, 1, 1, 1, 1, 1, 0 };
	const char *fmt = fmt_of(dl, name), *type;
	json_t *col = NULL, *levels = NULL, *miss = NULL;
	size_t i, nlev = 0, nmiss = 0, ndist = 0;
	char note[256];
	int sentinel_missing, distinct = 1;

	qsort(vals, n, sizeof(*vals), cmp_str);
	for (i = 0; i < n; i++)
		if (!in_list(vals[i], missing_words) &&
		    !in_list(vals[i], missing_sentinels))
			classify(vals[i], loc, dl, fmt, &k);
	/* the sentinels are missing only beside non-negative numbers */
	sentinel_missing = k.n > 0 && k.number && k.nonneg;
	for (i = 0; i < n; i++)
		if (in_list(vals[i], missing_sentinels) && !sentinel_missing)
			classify(vals[i], loc, dl, fmt, &k);
	if (k.n == 0) {
		snprintf(note, sizeof(note), "%.64s: every cell is missing; typed "
		    "as number", name);
		json_array_append_new(notes, json_string(note));
	}
	type = k.n == 0 ? "number" : k.boolean ? "boolean" : k.integer ? "integer" :
	    k.number ? "number" : k.date ? "date" : k.datetime ? "datetime" :
	    "category";
	if ((col = json_object()) == NULL || (miss = json_array()) == NULL)
		goto nomem;
	json_object_set_new(col, "name", json_string(name));
	json_object_set_new(col, "type", json_string(type));
	json_object_set_new(col, "unit", json_string(""));
	json_object_set_new(col, "description", json_string(""));
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(vals[i], vals[i - 1]) == 0) {
			distinct = 0;
			continue;
		}
		ndist++;
		if (in_list(vals[i], missing_words) || (sentinel_missing &&
		    in_list(vals[i], missing_sentinels))) {
			nmiss++;
			if (json_array_append_new(miss, json_string(vals[i])) != 0)
				goto nomem;
		}
	}
	if (strcmp(type, "integer") == 0 && distinct && nmiss == 0 && id_name(name))
		json_object_set_new(col, "role", json_string("identifier"));
	if (strcmp(type, "category") == 0) {
		if ((levels = json_array()) == NULL)
			goto nomem;
		for (i = 0; i < n; i++) {
			if ((i > 0 && strcmp(vals[i], vals[i - 1]) == 0) ||
			    in_list(vals[i], missing_words))
				continue;
			if (nlev++ < PHT_INFER_MAX_LEVELS &&
			    json_array_append_new(levels, json_string(vals[i])) != 0)
				goto nomem;
		}
		if (nlev > PHT_INFER_MAX_LEVELS) {
			snprintf(note, sizeof(note), "%.64s: %zu distinct values, only "
			    "the first %d listed as levels: free text is not a "
			    "category; leave the column out of the source", name, nlev,
			    PHT_INFER_MAX_LEVELS);
			json_array_append_new(notes, json_string(note));
		}
		json_object_set_new(col, "levels", levels);
		levels = NULL;
	}
	/* "" and "NA" are the default; list the codes only when others appear */
	if (nmiss > 0 && !only_default(miss)) {
		json_t *all = json_array();
		if (all == NULL)
			goto nomem;
		json_array_append_new(all, json_string(""));
		json_array_append_new(all, json_string("NA"));
		for (i = 0; i < json_array_size(miss); i++) {
			const char *m = json_string_value(json_array_get(miss, i));
			if (strcmp(m, "") != 0 && strcmp(m, "NA") != 0)
				json_array_append(all, json_array_get(miss, i));
		}
		json_object_set_new(col, "missing", all);
	}
	json_decref(miss);
	*out = col;
	return PHT_OK;
nomem:
	json_decref(levels);
	json_decref(miss);
	json_decref(col);
	return PHT_ERR_NOMEM;
}

int
pht_dataset_infer(const struct pht_dataset_cells *c, const char *name,
    const struct pht_dataset_dialect *dl, json_t **out, json_t **notes,
    struct pht_err *err)
{
	json_t *dict = NULL, *cols = NULL, *nt = NULL, *col;
	const char **vals = NULL;
	locale_t loc = (locale_t)0;
	size_t i, row;
	int r;

	*out = NULL;
	*notes = NULL;
	if (c->ncols == 0)
		return pht_errf(err, PHT_ERR_INVALID, "%s: no columns", name);
	if ((loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) == (locale_t)0 ||
	    (vals = calloc(c->nrows ? c->nrows : 1, sizeof(*vals))) == NULL ||
	    (cols = json_array()) == NULL || (nt = json_array()) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < c->ncols; i++) {
		for (row = 0; row < c->nrows; row++)
			vals[row] = c->cells[row * c->ncols + i];
		if (infer_column(c->names[i], vals, c->nrows, loc, dl, nt, &col) !=
		    PHT_OK || json_array_append_new(cols, col) != 0) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((dict = json_pack("{s:s, s:s, s:O}", "dataset", name, "description",
	    "", "columns", cols)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = dict;
	*notes = nt;
	nt = NULL; /* transferred */
	r = PHT_OK;
out:
	json_decref(nt);
	json_decref(cols);
	free(vals);
	if (loc != (locale_t)0)
		freelocale(loc);
	return r;
}
