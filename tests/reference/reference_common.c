/* reference_common.c — the pooled station CSVs, the R fixtures and their comparison, dense inverses and model matrices, shared by the reference checks. */
#include "tap.h"
#include "reference_common.h"
#include "registry/csv_table.h"

#include "pht_dataset.h"
#include "pht_err.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
dset_free(struct dset *d)
{
	size_t i;

	for (i = 0; i < d->ncols; i++)
		free(d->names[i]);
	json_decref(d->dict);
	free(d->v);
	free(d->station);
	memset(d, 0, sizeof(*d));
}

int
dset_col(const struct dset *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->ncols; i++)
		if (strcmp(d->names[i], name) == 0)
			return (int)i;
	return -1;
}

double
dval(const struct dset *d, size_t row, int col)
{
	return d->v[row * d->ncols + (size_t)col];
}

/* Loads data/NAME/station1.. into d; returns 0, or -1 after a failed tap_ok. */
int
dset_load(const char *name, struct dset *d)
{
	char path[1024];
	json_error_t jerr;
	struct table t;
	int k;
	size_t r, c, cap = 0;

	memset(d, 0, sizeof(*d));
	for (k = 1; k <= MAXSTATIONS; k++) {
		json_t *dict, *cols;

		snprintf(path, sizeof(path), "data/%s/station%d.dict.json", name, k);
		if (access(path, F_OK) != 0)
			break;
		if ((dict = json_load_file(path, 0, &jerr)) == NULL) {
			tap_ok(0, "%s parses: %s", path, jerr.text);
			return -1;
		}
		cols = json_object_get(dict, "columns");
		if (k == 1) {
			d->dict = dict;
			d->ncols = json_array_size(cols);
			for (c = 0; c < d->ncols && c < 64; c++) {
				json_t *cd = json_array_get(cols, c);

				d->names[c] = strdup(json_string_value(json_object_get(cd, "name")));
				d->is_cat[c] = strcmp(json_string_value(json_object_get(cd, "type")),
				    "category") == 0;
				d->levels[c] = json_object_get(cd, "levels");
			}
		} else {
			int same = json_equal(json_object_get(d->dict, "columns"), cols);

			json_decref(dict);
			if (!same) {
				tap_ok(0, "%s: station%d has the same columns as station1", name, k);
				return -1;
			}
		}
		snprintf(path, sizeof(path), "data/%s/station%d.csv", name, k);
		{
			/* the station's own loader takes the pair as it is */
			char dpath[1024];
			struct pht_dataset *ds = NULL;
			struct pht_err e;

			snprintf(dpath, sizeof(dpath), "data/%s/station%d.dict.json", name, k);
			pht_err_clear(&e);
			if (!tap_ok(pht_dataset_load(path, dpath, NULL, &ds, &e) == PHT_OK,
			    "%s: pht_dataset_load accepts it", path))
				tap_diag("%s", pht_err_msg(&e));
			pht_dataset_free(ds);
		}
		if (table_read(path, &t) != 0 || t.ragged || t.quoted || t.ncols != d->ncols) {
			tap_ok(0, "%s: plain CSV with %zu columns", path, d->ncols);
			table_free(&t);
			return -1;
		}
		for (c = 0; c < d->ncols; c++)
			if (strcmp(t.cells[c], d->names[c]) != 0) {
				tap_ok(0, "%s: header column %zu is %s", path, c, d->names[c]);
				table_free(&t);
				return -1;
			}
		if (d->nrows + t.nrows > cap) {
			cap = (d->nrows + t.nrows) * 2;
			d->v = realloc(d->v, cap * d->ncols * sizeof(double));
			d->station = realloc(d->station, cap * sizeof(int));
			if (d->v == NULL || d->station == NULL)
				abort();
		}
		for (r = 0; r < t.nrows; r++) {
			for (c = 0; c < d->ncols; c++) {
				const char *s = cell(&t, r, c);
				double x = NAN;
				char *end;

				if (*s != '\0' && strcmp(s, "NA") != 0) {
					if (d->is_cat[c]) {
						size_t i;
						json_t *l;

						json_array_foreach(d->levels[c], i, l)
							if (strcmp(json_string_value(l), s) == 0)
								x = (double)i;
					} else {
						x = strtod(s, &end);
						if (*end != '\0')
							x = NAN;
					}
					if (isnan(x)) {
						tap_ok(0, "%s: row %zu column %s: \"%s\" invalid", path,
						    r + 2, d->names[c], s);
						table_free(&t);
						return -1;
					}
				}
				d->v[(d->nrows + r) * d->ncols + c] = x;
			}
			d->station[d->nrows + r] = k - 1;
		}
		d->nrows += t.nrows;
		table_free(&t);
		d->nstations = k;
	}
	if (d->nstations < 3) {
		tap_ok(0, "%s: at least 3 stations (found %d)", name, d->nstations);
		return -1;
	}
	return 0;
}

/* ---- fixture access and comparison -------------------------------------------- */

json_t *
load_fixture(const char *name)
{
	char path[1024];
	json_error_t jerr;
	json_t *j;

	snprintf(path, sizeof(path), "expected/%s.json", name);
	if ((j = json_load_file(path, 0, &jerr)) == NULL)
		tap_ok(0, "%s parses: %s", path, jerr.text);
	return j;
}

/* A fixture number: null = NaN, "Inf"/"-Inf" = infinities. */
double
jnum(const json_t *v)
{
	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_string(v) && strcmp(json_string_value(v), "Inf") == 0)
		return INFINITY;
	if (json_is_string(v) && strcmp(json_string_value(v), "-Inf") == 0)
		return -INFINITY;
	return NAN;
}

/* Walks a path of object keys ("a.b.c"). */
const json_t *
jget(const json_t *j, const char *path)
{
	char key[128];
	const char *dot;

	while (j != NULL && *path != '\0') {
		size_t n;

		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		j = json_object_get(j, key);
		path += n + (dot ? 1 : 0);
	}
	return j;
}

int
close_to(double got, double want, double rel)
{
	if (isnan(got) || isnan(want))
		return isnan(got) && isnan(want);
	if (isinf(got) || isinf(want))
		return got == want;
	return fabs(got - want) <= rel * fabs(want) + 1e-300;
}

/* Compares an array against the fixture's array at path (same length). */
void
cmp_array(const json_t *fx, const char *path, const double *got, size_t n, double rel,
    const char *what)
{
	const json_t *a = jget(fx, path);
	size_t i, bad = 0, first = 0;

	if (!json_is_array(a) || json_array_size(a) != n) {
		tap_ok(0, "%s: %s has %zu values (fixture %zu)", what, path, n,
		    json_is_array(a) ? json_array_size(a) : 0);
		return;
	}
	for (i = 0; i < n; i++)
		if (!close_to(got[i], jnum(json_array_get(a, i)), rel) && bad++ == 0)
			first = i;
	if (!tap_ok(bad == 0, "%s: %s (%zu values, rel %.0e)", what, path, n, rel))
		tap_diag("%zu differ; first [%zu]: got %.17g, R %.17g", bad, first,
		    got[first], jnum(json_array_get(a, first)));
}

void
cmp_num(const json_t *fx, const char *path, double got, double rel, const char *what)
{
	double want = jnum(jget(fx, path));

	if (!tap_ok(close_to(got, want, rel), "%s: %s (rel %.0e)", what, path, rel))
		tap_diag("got %.17g, R %.17g", got, want);
}

/* ---- small dense linear algebra ---------------------------------------------- */

/* Inverts the p x p matrix a (row-major) into inv by Gauss-Jordan; -1 if singular. */
int
mat_inverse(const double *a, size_t p, double *inv)
{
	double m[MAXP * 2 * MAXP];
	size_t i, j, k, piv, w = 2 * p;

	for (i = 0; i < p; i++)
		for (j = 0; j < w; j++)
			m[i * w + j] = j < p ? a[i * p + j] : (j - p == i ? 1.0 : 0.0);
	for (k = 0; k < p; k++) {
		for (piv = k, i = k + 1; i < p; i++)
			if (fabs(m[i * w + k]) > fabs(m[piv * w + k]))
				piv = i;
		if (m[piv * w + k] == 0.0)
			return -1;
		if (piv != k)
			for (j = 0; j < w; j++) {
				double t = m[k * w + j];

				m[k * w + j] = m[piv * w + j];
				m[piv * w + j] = t;
			}
		for (j = 0; j < w; j++)
			if (j != k)
				m[k * w + j] /= m[k * w + k];
		m[k * w + k] = 1.0;
		for (i = 0; i < p; i++) {
			double f = m[i * w + k];

			if (i == k || f == 0.0)
				continue;
			for (j = 0; j < w; j++)
				m[i * w + j] -= f * m[k * w + j];
		}
	}
	for (i = 0; i < p; i++)
		for (j = 0; j < p; j++)
			inv[i * p + j] = m[i * w + p + j];
	return 0;
}

/* ---- model matrices ------------------------------------------------------------ */


/*
 * Builds the design for covariates (README: a category gives one 0/1 column
 * per non-first level, named column+level), with an intercept first if asked,
 * over the rows where every column in need[] and every covariate is present.
 */
int
design_build(const struct dset *d, const json_t *covs, int intercept, const int *need,
    size_t nneed, struct design *m)
{
	int cidx[MAXP];
	size_t i, j, r, ncov = json_array_size(covs), p = 0;

	memset(m, 0, sizeof(*m));
	if (intercept)
		snprintf(m->names[p++], sizeof(m->names[0]), "(Intercept)");
	for (j = 0; j < ncov; j++) {
		const char *c = json_string_value(json_array_get(covs, j));

		if ((cidx[j] = dset_col(d, c)) < 0)
			return -1;
		if (d->is_cat[cidx[j]]) {
			for (i = 1; i < json_array_size(d->levels[cidx[j]]) && p < MAXP; i++)
				snprintf(m->names[p++], sizeof(m->names[0]), "%s%s", c,
				    json_string_value(json_array_get(d->levels[cidx[j]], i)));
		} else if (p < MAXP) {
			snprintf(m->names[p++], sizeof(m->names[0]), "%s", c);
		}
	}
	m->p = p;
	m->x = malloc(d->nrows * p * sizeof(double));
	m->row = malloc(d->nrows * sizeof(size_t));
	for (r = 0; r < d->nrows; r++) {
		double *x = m->x + m->n * p;
		size_t k = 0;
		int ok = 1;

		for (i = 0; i < nneed; i++)
			ok &= !isnan(dval(d, r, need[i]));
		for (j = 0; j < ncov; j++)
			ok &= !isnan(dval(d, r, cidx[j]));
		if (!ok)
			continue;
		if (intercept)
			x[k++] = 1.0;
		for (j = 0; j < ncov; j++) {
			double v = dval(d, r, cidx[j]);

			if (d->is_cat[cidx[j]]) {
				for (i = 1; i < json_array_size(d->levels[cidx[j]]); i++)
					x[k++] = v == (double)i ? 1.0 : 0.0;
			} else {
				x[k++] = v;
			}
		}
		m->row[m->n++] = r;
	}
	return 0;
}

void
design_free(struct design *m)
{
	free(m->x);
	free(m->row);
	memset(m, 0, sizeof(*m));
}

void
check_terms(const json_t *terms, const struct design *m, const char *what)
{
	size_t i;
	int ok = json_array_size(terms) == m->p;

	for (i = 0; ok && i < m->p; i++)
		ok = strcmp(json_string_value(json_array_get(terms, i)), m->names[i]) == 0;
	tap_ok(ok, "%s: coefficient names follow R (%s, ...)", what, m->p ? m->names[0] : "");
}
