/* test_reference.c — recomputes the committed R fixtures from the station CSVs with the formulas of tests/reference/README.md. */
#include "tap.h"
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

/*
 * CI has no R. This program checks, without it, that the fixtures in
 * tests/reference/expected agree with the station files in
 * tests/reference/data, and that README's description of R's conventions
 * (status coding, reference levels and coefficient names, Greenwood and
 * log-log intervals, the median rule, the grid, log-rank, stratified Cox with
 * Efron and Breslow ties, IRLS, dispersion, AIC) is enough to reproduce R's
 * numbers: everything is computed here from the CSVs, in plain C, and
 * compared with what R wrote.
 */

#define MAXP 16
#define MAXSTATIONS 8

/* main() changes into tests/reference, so paths below are relative to it. */

/* ---- the pooled dataset ------------------------------------------------------ */

struct dset {
	size_t nrows, ncols;
	char *names[64];
	int is_cat[64];
	json_t *levels[64];   /* borrowed from dict */
	json_t *dict;
	double *v;            /* nrows * ncols; NaN = missing; category = level index */
	int *station;         /* 0-based */
	int nstations;
};

static void
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

static int
dset_col(const struct dset *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->ncols; i++)
		if (strcmp(d->names[i], name) == 0)
			return (int)i;
	return -1;
}

static double
dval(const struct dset *d, size_t row, int col)
{
	return d->v[row * d->ncols + (size_t)col];
}

/* Loads data/NAME/station1.. into d; returns 0, or -1 after a failed tap_ok. */
static int
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

static json_t *
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
static double
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
static const json_t *
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

static int
close_to(double got, double want, double rel)
{
	if (isnan(got) || isnan(want))
		return isnan(got) && isnan(want);
	if (isinf(got) || isinf(want))
		return got == want;
	return fabs(got - want) <= rel * fabs(want) + 1e-300;
}

/* Compares an array against the fixture's array at path (same length). */
static void
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

static void
cmp_num(const json_t *fx, const char *path, double got, double rel, const char *what)
{
	double want = jnum(jget(fx, path));

	if (!tap_ok(close_to(got, want, rel), "%s: %s (rel %.0e)", what, path, rel))
		tap_diag("got %.17g, R %.17g", got, want);
}

/* ---- small dense linear algebra ---------------------------------------------- */

/* Inverts the p x p matrix a (row-major) into inv by Gauss-Jordan; -1 if singular. */
static int
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

/* ---- Kaplan-Meier -------------------------------------------------------------- */

struct km {
	size_t n;
	double time[4096], nrisk[4096], nevent[4096], ncens[4096];
	double surv[4096], se[4096], lo[4096], hi[4096];
};

static const double Z975 = 1.959963984540054;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Kaplan-Meier steps at every distinct time (README: Greenwood, log-log). */
static void
km_fit(const double *time, const double *ev, size_t n, struct km *k)
{
	double (*tv)[2] = malloc(n * sizeof(*tv)), s = 1.0, cum = 0.0;
	size_t i = 0, j, atrisk = n;

	for (j = 0; j < n; j++) {
		tv[j][0] = time[j];
		tv[j][1] = ev[j];
	}
	qsort(tv, n, sizeof(*tv), cmp_double);   /* sorts by time (first member) */
	k->n = 0;
	while (i < n && k->n < 4096) {
		double t = tv[i][0], d = 0, c = 0;

		for (j = i; j < n && tv[j][0] == t; j++) {
			if (tv[j][1] != 0.0)
				d++;
			else
				c++;
		}
		s *= 1.0 - d / (double)atrisk;
		cum += (double)atrisk > d ? d / ((double)atrisk * ((double)atrisk - d)) : INFINITY;
		k->time[k->n] = t;
		k->nrisk[k->n] = (double)atrisk;
		k->nevent[k->n] = d;
		k->ncens[k->n] = c;
		k->surv[k->n] = s;
		k->se[k->n] = sqrt(cum);
		if (s > 0.0 && s < 1.0 && isfinite(k->se[k->n])) {
			k->lo[k->n] = pow(s, exp(-Z975 * k->se[k->n] / log(s)));
			k->hi[k->n] = pow(s, exp(Z975 * k->se[k->n] / log(s)));
		} else {
			k->lo[k->n] = k->hi[k->n] = NAN;
		}
		k->n++;
		atrisk -= j - i;
		i = j;
	}
	free(tv);
}

/* The README's median rule on curve y (steps at k->time); NaN if not reached. */
static double
km_quantile(const struct km *k, const double *y)
{
	size_t i, j;

	for (i = 0; i < k->n; i++) {
		if (isnan(y[i]) || y[i] > 0.5 + 1e-12)
			continue;
		if (fabs(y[i] - 0.5) <= 1e-12) {
			for (j = i + 1; j < k->n; j++)
				if (!isnan(y[j]) && y[j] < y[i] - 1e-12)
					return (k->time[i] + k->time[j]) / 2.0;
			return NAN;
		}
		return k->time[i];
	}
	return NAN;
}

static void
km_compare(const json_t *fx, const char *base, const double *time, const double *ev,
    size_t n, double interval, double tmax, const char *what)
{
	struct km *k = calloc(1, sizeof(*k));
	double *tc = malloc(n * sizeof(double)), *g = NULL, *gs = NULL, *gr = NULL, *ge = NULL;
	double *glo = NULL, *ghi = NULL;
	char path[256];
	size_t i, j, ng;
	const char *kinds[2] = { "exact", "grid" };
	int kind;

	snprintf(path, sizeof(path), "%s.n", base);
	cmp_num(fx, path, (double)n, 0, what);
	for (kind = 0; kind < 2; kind++) {
		for (i = 0; i < n; i++)
			tc[i] = kind == 0 ? time[i] : ceil(time[i] / interval) * interval;
		km_fit(tc, ev, n, k);
#define STEP(field, arr, rel) do { \
		snprintf(path, sizeof(path), "%s.%s.steps.%s", base, kinds[kind], field); \
		cmp_array(fx, path, k->arr, k->n, rel, what); } while (0)
		STEP("time", time, 0);
		STEP("n_risk", nrisk, 0);
		STEP("n_event", nevent, 0);
		STEP("n_censor", ncens, 0);
		STEP("surv", surv, 1e-12);
		STEP("std_err", se, 1e-12);
		STEP("lower", lo, 1e-11);
		STEP("upper", hi, 1e-11);
#undef STEP
		snprintf(path, sizeof(path), "%s.%s.median.median", base, kinds[kind]);
		cmp_num(fx, path, km_quantile(k, k->surv), 0, what);
		snprintf(path, sizeof(path), "%s.%s.median.lower", base, kinds[kind]);
		cmp_num(fx, path, km_quantile(k, k->lo), 0, what);
		snprintf(path, sizeof(path), "%s.%s.median.upper", base, kinds[kind]);
		cmp_num(fx, path, km_quantile(k, k->hi), 0, what);

		if (kind != 0)
			continue;
		/* the exact curve read at the grid times (one grid for all groups) */
		ng = (size_t)ceil(tmax / interval);
		g = calloc(ng, sizeof(double));
		gs = calloc(ng, sizeof(double));
		gr = calloc(ng, sizeof(double));
		ge = calloc(ng, sizeof(double));
		glo = calloc(ng, sizeof(double));
		ghi = calloc(ng, sizeof(double));
		for (i = 0; i < ng; i++) {
			double t = interval * (double)(i + 1), prev = t - interval;

			g[i] = t;
			gs[i] = 1.0;
			glo[i] = ghi[i] = 1.0;   /* before the first step: summary's start row */
			for (j = 0; j < k->n && k->time[j] <= t; j++) {
				gs[i] = k->surv[j];
				glo[i] = k->lo[j];
				ghi[i] = k->hi[j];
			}
			for (j = 0; j < n; j++) {
				gr[i] += time[j] >= t;
				ge[i] += ev[j] != 0.0 && time[j] > prev && time[j] <= t;
			}
		}
		snprintf(path, sizeof(path), "%s.exact.at_grid.time", base);
		cmp_array(fx, path, g, ng, 0, what);
		snprintf(path, sizeof(path), "%s.exact.at_grid.n_risk", base);
		cmp_array(fx, path, gr, ng, 0, what);
		snprintf(path, sizeof(path), "%s.exact.at_grid.n_event", base);
		cmp_array(fx, path, ge, ng, 0, what);
		snprintf(path, sizeof(path), "%s.exact.at_grid.surv", base);
		cmp_array(fx, path, gs, ng, 1e-12, what);
		snprintf(path, sizeof(path), "%s.exact.at_grid.lower", base);
		cmp_array(fx, path, glo, ng, 1e-11, what);
		snprintf(path, sizeof(path), "%s.exact.at_grid.upper", base);
		cmp_array(fx, path, ghi, ng, 1e-11, what);
	}
	free(g);
	free(gs);
	free(gr);
	free(ge);
	free(glo);
	free(ghi);
	free(tc);
	free(k);
}

/* Log-rank chi-square over groups 0..ng-1 (README); fills observed/expected. */
static double
logrank(const double *time, const double *ev, const int *grp, size_t n, int ng,
    double *obs, double *expct)
{
	double v[MAXP * MAXP] = { 0 }, vi[MAXP * MAXP], u[MAXP], chi = 0.0;
	double *ts = malloc(n * sizeof(double));
	size_t i, j, nt;
	int a, b, m = ng - 1;

	memset(obs, 0, (size_t)ng * sizeof(double));
	memset(expct, 0, (size_t)ng * sizeof(double));
	for (i = 0; i < n; i++)
		ts[i] = time[i];
	qsort(ts, n, sizeof(double), cmp_double);
	for (i = 0, nt = 0; i < n; i++)
		if (i == 0 || ts[i] != ts[nt - 1])
			ts[nt++] = ts[i];
	for (j = 0; j < nt; j++) {
		double t = ts[j], nr = 0, d = 0, ngr[MAXP] = { 0 }, dg[MAXP] = { 0 };

		for (i = 0; i < n; i++) {
			if (time[i] < t)
				continue;
			nr++;
			ngr[grp[i]]++;
			if (time[i] == t && ev[i] != 0.0) {
				d++;
				dg[grp[i]]++;
			}
		}
		if (d == 0)
			continue;
		for (a = 0; a < ng; a++) {
			obs[a] += dg[a];
			expct[a] += d * ngr[a] / nr;
			if (nr > 1)
				for (b = 0; b < ng; b++)
					v[a * ng + b] += d * (nr - d) / (nr - 1) * ngr[a] / nr *
					    ((a == b ? 1.0 : 0.0) - ngr[b] / nr);
		}
	}
	free(ts);
	/* drop the last group: V restricted to the first ng-1 is invertible */
	{
		double vm[MAXP * MAXP] = { 0 };

		for (a = 0; a < m; a++) {
			u[a] = obs[a] - expct[a];
			for (b = 0; b < m; b++)
				vm[a * m + b] = v[a * ng + b];
		}
		if (mat_inverse(vm, (size_t)m, vi) != 0)
			return NAN;
	}
	for (a = 0; a < m; a++)
		for (b = 0; b < m; b++)
			chi += u[a] * vi[a * m + b] * u[b];
	return chi;
}

static void
test_km(const char *dataset)
{
	struct dset d;
	json_t *fx;
	char fname[64], what[128], base[128];
	int ct, cs, cg;
	size_t i, n, nl, l;
	double *time, *ev, *tc, *gev, obs[MAXP], expct[MAXP], interval, tmax;
	int *grp;
	const char *group;

	snprintf(fname, sizeof(fname), "km_%s", dataset);
	if ((fx = load_fixture(fname)) == NULL)
		return;
	if (dset_load(dataset, &d) != 0) {
		json_decref(fx);
		return;
	}
	interval = jnum(json_object_get(fx, "interval"));
	group = json_string_value(json_object_get(fx, "group"));
	ct = dset_col(&d, json_string_value(json_object_get(fx, "time")));
	cs = dset_col(&d, json_string_value(json_object_get(fx, "event")));
	cg = group ? dset_col(&d, group) : -1;
	if (ct < 0 || cs < 0 || cg < 0 || !d.is_cat[cg] || !(interval > 0)) {
		tap_ok(0, "%s: time, event, category group column and interval named", fname);
		goto out;
	}
	tap_ok(json_equal(json_object_get(fx, "levels"), d.levels[cg]),
	    "%s: group levels are the dictionary's, in order", fname);
	time = malloc(d.nrows * sizeof(double));
	ev = malloc(d.nrows * sizeof(double));
	tc = malloc(d.nrows * sizeof(double));
	gev = malloc(d.nrows * sizeof(double));
	grp = malloc(d.nrows * sizeof(int));
	nl = json_array_size(d.levels[cg]);
	for (i = 0, tmax = 0; i < d.nrows; i++) {
		time[i] = dval(&d, i, ct);
		ev[i] = dval(&d, i, cs);
		tmax = time[i] > tmax ? time[i] : tmax;
	}
	snprintf(what, sizeof(what), "%s overall", fname);
	km_compare(fx, "overall", time, ev, d.nrows, interval, tmax, what);
	for (l = 0; l < nl; l++) {
		const char *lv = json_string_value(json_array_get(d.levels[cg], l));

		for (i = 0, n = 0; i < d.nrows; i++)
			if (dval(&d, i, cg) == (double)l) {
				tc[n] = dval(&d, i, ct);
				gev[n++] = dval(&d, i, cs);
			}
		snprintf(what, sizeof(what), "%s %s=%s", fname, group, lv);
		snprintf(base, sizeof(base), "by_group.%s", lv);
		km_compare(fx, base, tc, gev, n, interval, tmax, what);
	}
	for (i = 0, n = 0; i < d.nrows; i++)
		if (!isnan(dval(&d, i, cg))) {
			time[n] = dval(&d, i, ct);
			tc[n] = ceil(time[n] / interval) * interval;
			ev[n] = dval(&d, i, cs);
			grp[n++] = (int)dval(&d, i, cg);
		}
	snprintf(what, sizeof(what), "%s log-rank", fname);
	cmp_num(fx, "logrank.exact.chisq", logrank(time, ev, grp, n, (int)nl, obs, expct),
	    1e-10, what);
	cmp_array(fx, "logrank.exact.observed", obs, nl, 0, what);
	cmp_array(fx, "logrank.exact.expected", expct, nl, 1e-12, what);
	cmp_num(fx, "logrank.exact.df", (double)nl - 1, 0, what);
	cmp_num(fx, "logrank.grid.chisq", logrank(tc, ev, grp, n, (int)nl, obs, expct),
	    1e-10, what);
	cmp_array(fx, "logrank.grid.expected", expct, nl, 1e-12, what);
	free(time);
	free(ev);
	free(tc);
	free(gev);
	free(grp);
out:
	dset_free(&d);
	json_decref(fx);
}

/* ---- model matrices ------------------------------------------------------------ */

struct design {
	size_t n, p;
	char names[MAXP][96];
	double *x;       /* n * p, complete cases only */
	size_t *row;     /* dataset row of each design row */
};

/*
 * Builds the design for covariates (README: a category gives one 0/1 column
 * per non-first level, named column+level), with an intercept first if asked,
 * over the rows where every column in need[] and every covariate is present.
 */
static int
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

static void
design_free(struct design *m)
{
	free(m->x);
	free(m->row);
	memset(m, 0, sizeof(*m));
}

static void
check_terms(const json_t *terms, const struct design *m, const char *what)
{
	size_t i;
	int ok = json_array_size(terms) == m->p;

	for (i = 0; ok && i < m->p; i++)
		ok = strcmp(json_string_value(json_array_get(terms, i)), m->names[i]) == 0;
	tap_ok(ok, "%s: coefficient names follow R (%s, ...)", what, m->p ? m->names[0] : "");
}

/* ---- Cox ---------------------------------------------------------------------- */

/*
 * Log partial likelihood, score and information at beta, stratified by
 * station, for subjects ordered by (station, time descending).
 */
static double
cox_eval(const struct design *m, const double *time, const double *ev, const int *st,
    const size_t *ord, const double *beta, int efron, double *u, double *info)
{
	size_t p = m->p, a, b, k0;
	double ll = 0.0;

	memset(u, 0, p * sizeof(double));
	memset(info, 0, p * p * sizeof(double));
	for (k0 = 0; k0 < m->n;) {
		double s0 = 0, s1[MAXP] = { 0 }, s2[MAXP * MAXP] = { 0 };
		size_t k = k0;
		int stratum = st[ord[k0]];

		while (k < m->n && st[ord[k]] == stratum) {
			double t = time[ord[k]], d0 = 0, d1[MAXP] = { 0 }, d2[MAXP * MAXP] = { 0 };
			size_t e, nd = 0;

			for (; k < m->n && st[ord[k]] == stratum && time[ord[k]] == t; k++) {
				const double *x = m->x + ord[k] * p;
				double eta = 0, r;

				for (a = 0; a < p; a++)
					eta += x[a] * beta[a];
				r = exp(eta);
				s0 += r;
				for (a = 0; a < p; a++) {
					s1[a] += r * x[a];
					for (b = 0; b < p; b++)
						s2[a * p + b] += r * x[a] * x[b];
				}
				if (ev[ord[k]] != 0.0) {
					nd++;
					ll += eta;
					d0 += r;
					for (a = 0; a < p; a++) {
						u[a] += x[a];
						d1[a] += r * x[a];
						for (b = 0; b < p; b++)
							d2[a * p + b] += r * x[a] * x[b];
					}
				}
			}
			for (e = 0; e < nd; e++) {
				double f = efron ? (double)e / (double)nd : 0.0;
				double z0 = s0 - f * d0, z1[MAXP];

				ll -= log(z0);
				for (a = 0; a < p; a++) {
					z1[a] = s1[a] - f * d1[a];
					u[a] -= z1[a] / z0;
				}
				for (a = 0; a < p; a++)
					for (b = 0; b < p; b++)
						info[a * p + b] += (s2[a * p + b] - f * d2[a * p + b]) / z0 -
						    z1[a] * z1[b] / (z0 * z0);
			}
		}
		k0 = k;
	}
	return ll;
}

struct cox_sort {
	const double *time;
	const int *st;
};

/* Orders subject indices by station, then time descending (glibc qsort_r). */
static int
cox_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct cox_sort *k = ctx;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	if (k->st[a] != k->st[b])
		return k->st[a] - k->st[b];
	if (k->time[a] != k->time[b])
		return k->time[a] > k->time[b] ? -1 : 1;
	return a < b ? -1 : a > b;
}

static void
test_cox_ties(const json_t *fx, const struct dset *d, const char *dataset, int efron)
{
	const char *key = efron ? "efron" : "breslow";
	const json_t *res = json_object_get(fx, key);
	int need[2], ct, cs;
	struct design m;
	double *time, *ev, beta[MAXP] = { 0 }, u[MAXP], info[MAXP * MAXP], var[MAXP * MAXP];
	double ll0, ll, llnew, step[MAXP], se[MAXP], nev = 0;
	int *st, it, a, b;
	size_t i, *ord, p;
	char what[96], path[96];

	snprintf(what, sizeof(what), "cox_%s %s", dataset, key);
	ct = need[0] = dset_col(d, json_string_value(json_object_get(fx, "time")));
	cs = need[1] = dset_col(d, json_string_value(json_object_get(fx, "event")));
	if (res == NULL || ct < 0 || cs < 0 ||
	    design_build(d, json_object_get(fx, "covariates"), 0, need, 2, &m) != 0) {
		tap_ok(0, "%s: fixture names its result, time, event and covariates", what);
		return;
	}
	check_terms(json_object_get(res, "terms"), &m, what);
	p = m.p;
	time = malloc(m.n * sizeof(double));
	ev = malloc(m.n * sizeof(double));
	st = malloc(m.n * sizeof(int));
	ord = malloc(m.n * sizeof(size_t));
	for (i = 0; i < m.n; i++) {
		time[i] = dval(d, m.row[i], ct);
		ev[i] = dval(d, m.row[i], cs);
		st[i] = d->station[m.row[i]];
		ord[i] = i;
		nev += ev[i];
	}
	{
		struct cox_sort order = { time, st };

		qsort_r(ord, m.n, sizeof(size_t), cox_cmp, &order);
	}

	/* Newton-Raphson from 0 with step-halving, converged far past R's 1e-9 */
	ll0 = ll = cox_eval(&m, time, ev, st, ord, beta, efron, u, info);
	for (it = 0; it < 60; it++) {
		double nb[MAXP], nu[MAXP], ninfo[MAXP * MAXP], h;
		int half;

		if (mat_inverse(info, p, var) != 0)
			break;
		for (a = 0; a < (int)p; a++) {
			step[a] = 0;
			for (b = 0; b < (int)p; b++)
				step[a] += var[a * p + b] * u[b];
		}
		for (half = 0, h = 1.0; half < 30; half++, h /= 2) {
			for (a = 0; a < (int)p; a++)
				nb[a] = beta[a] + h * step[a];
			llnew = cox_eval(&m, time, ev, st, ord, nb, efron, nu, ninfo);
			if (llnew >= ll - 1e-12 * fabs(ll))
				break;
		}
		memcpy(beta, nb, sizeof(nb));
		memcpy(u, nu, sizeof(nu));
		memcpy(info, ninfo, sizeof(ninfo));
		if (fabs(llnew - ll) <= 1e-15 * fabs(llnew) && it > 0) {
			ll = llnew;
			break;
		}
		ll = llnew;
	}
	mat_inverse(info, p, var);
	for (a = 0; a < (int)p; a++)
		se[a] = sqrt(var[a * p + a]);

	snprintf(path, sizeof(path), "%s.n", key);
	cmp_num(fx, path, (double)m.n, 0, what);
	snprintf(path, sizeof(path), "%s.events", key);
	cmp_num(fx, path, nev, 0, what);
	snprintf(path, sizeof(path), "%s.loglik.initial", key);
	cmp_num(fx, path, ll0, 1e-12, what);
	snprintf(path, sizeof(path), "%s.tight.loglik_final", key);
	cmp_num(fx, path, ll, 1e-12, what);
	snprintf(path, sizeof(path), "%s.tight.coef", key);
	cmp_array(fx, path, beta, p, 1e-8, what);
	snprintf(path, sizeof(path), "%s.tight.se", key);
	cmp_array(fx, path, se, p, 1e-8, what);
	snprintf(path, sizeof(path), "%s.lr.chisq", key);
	cmp_num(fx, path, 2.0 * (ll - ll0), 1e-6, what);
	{
		/* R's default answer is within its recorded distance of the limit */
		double md = jnum(jget(res, "tight.max_rel_diff_coef"));

		tap_ok(md < 1e-6, "%s: R's default coefficients within %.1e of the limit", what, md);
	}
	free(time);
	free(ev);
	free(st);
	free(ord);
	design_free(&m);
}

static void
test_cox(const char *dataset)
{
	struct dset d;
	json_t *fx;
	char fname[64];

	snprintf(fname, sizeof(fname), "cox_%s", dataset);
	if ((fx = load_fixture(fname)) == NULL)
		return;
	if (dset_load(dataset, &d) == 0) {
		tap_str(json_string_value(json_object_get(fx, "strata")), "station",
		    "%s: stratified by station", fname);
		test_cox_ties(fx, &d, dataset, 1);
		test_cox_ties(fx, &d, dataset, 0);
	}
	dset_free(&d);
	json_decref(fx);
}

/* ---- GLM ---------------------------------------------------------------------- */

enum fam { FAM_BINOMIAL, FAM_POISSON, FAM_GAUSSIAN };

static double
dev_resid(enum fam f, double y, double mu)
{
	switch (f) {
	case FAM_BINOMIAL:
		return 2.0 * ((y > 0 ? y * log(y / mu) : 0.0) +
		    (y < 1 ? (1 - y) * log((1 - y) / (1 - mu)) : 0.0));
	case FAM_POISSON:
		return 2.0 * ((y > 0 ? y * log(y / mu) : 0.0) - (y - mu));
	default:
		return (y - mu) * (y - mu);
	}
}

static double
linkinv(enum fam f, double eta)
{
	return f == FAM_BINOMIAL ? 1.0 / (1.0 + exp(-eta)) : f == FAM_POISSON ? exp(eta) : eta;
}

/* IRLS (README) from R's starting values; returns the deviance. */
static double
glm_irls(enum fam f, const struct design *m, const double *y, const double *off,
    double *beta, double *cov_unscaled, int *iters)
{
	size_t n = m->n, p = m->p, i, a, b;
	double *eta = malloc(n * sizeof(double)), *mu = malloc(n * sizeof(double));
	double dev = 0, devold = INFINITY, xtwx[MAXP * MAXP], xtwz[MAXP];
	int it;

	for (i = 0; i < n; i++) {
		mu[i] = f == FAM_BINOMIAL ? (y[i] + 0.5) / 2.0 : f == FAM_POISSON ? y[i] + 0.1 : y[i];
		eta[i] = f == FAM_BINOMIAL ? log(mu[i] / (1 - mu[i])) : f == FAM_POISSON ?
		    log(mu[i]) : mu[i];
	}
	for (it = 1; it <= 100; it++) {
		memset(xtwx, 0, sizeof(xtwx));
		memset(xtwz, 0, sizeof(xtwz));
		for (i = 0; i < n; i++) {
			const double *x = m->x + i * p;
			double me = f == FAM_BINOMIAL ? mu[i] * (1 - mu[i]) : f == FAM_POISSON ?
			    mu[i] : 1.0;
			double var = f == FAM_GAUSSIAN ? 1.0 : me;
			double z = eta[i] - off[i] + (y[i] - mu[i]) / me, w = me * me / var;

			for (a = 0; a < p; a++) {
				xtwz[a] += w * x[a] * z;
				for (b = 0; b < p; b++)
					xtwx[a * p + b] += w * x[a] * x[b];
			}
		}
		if (mat_inverse(xtwx, p, cov_unscaled) != 0)
			break;
		for (a = 0; a < p; a++) {
			beta[a] = 0;
			for (b = 0; b < p; b++)
				beta[a] += cov_unscaled[a * p + b] * xtwz[b];
		}
		for (i = 0, dev = 0; i < n; i++) {
			eta[i] = off[i];
			for (a = 0; a < p; a++)
				eta[i] += m->x[i * p + a] * beta[a];
			mu[i] = linkinv(f, eta[i]);
			dev += dev_resid(f, y[i], mu[i]);
		}
		*iters = it;
		if (fabs(dev - devold) / (fabs(dev) + 0.1) < 1e-15)
			break;
		devold = dev;
	}
	/* the covariance at the converged coefficients */
	memset(xtwx, 0, sizeof(xtwx));
	for (i = 0; i < n; i++) {
		const double *x = m->x + i * p;
		double me = f == FAM_BINOMIAL ? mu[i] * (1 - mu[i]) : f == FAM_POISSON ? mu[i] : 1.0;
		double w = f == FAM_GAUSSIAN ? 1.0 : me;

		for (a = 0; a < p; a++)
			for (b = 0; b < p; b++)
				xtwx[a * p + b] += w * x[a] * x[b];
	}
	mat_inverse(xtwx, p, cov_unscaled);
	free(eta);
	free(mu);
	return dev;
}

static void
test_glm(const char *fname)
{
	struct dset d;
	json_t *fx;
	const char *family, *dataset, *offset;
	enum fam f;
	int need[2], nneed = 0, cy, co = -1, iters = 0;
	struct design m;
	double *y, *off, beta[MAXP], cov[MAXP * MAXP], se[MAXP], dev, disp = 1.0, ll = 0, aic;
	size_t i, a;

	if ((fx = load_fixture(fname)) == NULL)
		return;
	family = json_string_value(json_object_get(fx, "family"));
	dataset = json_string_value(json_object_get(fx, "dataset"));
	offset = json_string_value(json_object_get(fx, "offset"));
	if (family == NULL || dataset == NULL || dset_load(dataset, &d) != 0) {
		tap_ok(0, "%s: family and dataset named and loadable", fname);
		json_decref(fx);
		return;
	}
	f = strcmp(family, "binomial") == 0 ? FAM_BINOMIAL :
	    strcmp(family, "poisson") == 0 ? FAM_POISSON : FAM_GAUSSIAN;
	tap_ok(json_is_false(json_object_get(fx, "station_terms")),
	    "%s: pooled model without station terms", fname);
	cy = need[nneed++] = dset_col(&d, json_string_value(json_object_get(fx, "outcome")));
	if (offset != NULL)
		co = need[nneed++] = dset_col(&d, offset);
	if (cy < 0 || (offset != NULL && co < 0) ||
	    design_build(&d, json_object_get(fx, "covariates"), 1, need, (size_t)nneed, &m) != 0) {
		tap_ok(0, "%s: outcome, offset and covariates are columns", fname);
		dset_free(&d);
		json_decref(fx);
		return;
	}
	check_terms(json_object_get(fx, "terms"), &m, fname);
	y = malloc(m.n * sizeof(double));
	off = malloc(m.n * sizeof(double));
	for (i = 0; i < m.n; i++) {
		y[i] = dval(&d, m.row[i], cy);
		off[i] = co >= 0 ? dval(&d, m.row[i], co) : 0.0;
	}
	dev = glm_irls(f, &m, y, off, beta, cov, &iters);
	if (f == FAM_GAUSSIAN)
		disp = dev / (double)(m.n - m.p);
	for (a = 0; a < m.p; a++)
		se[a] = sqrt(cov[a * m.p + a] * disp);
	for (i = 0; i < m.n; i++) {
		double eta = off[i], mu;

		for (a = 0; a < m.p; a++)
			eta += m.x[i * m.p + a] * beta[a];
		mu = linkinv(f, eta);
		if (f == FAM_BINOMIAL)
			ll += y[i] * log(mu) + (1 - y[i]) * log(1 - mu);
		else if (f == FAM_POISSON)
			ll += y[i] * log(mu) - mu - lgamma(y[i] + 1);
	}
	aic = f == FAM_GAUSSIAN ?
	    (double)m.n * (log(2 * M_PI * dev / (double)m.n) + 1) + 2 + 2 * (double)m.p :
	    -2 * ll + 2 * (double)m.p;

	cmp_num(fx, "n", (double)m.n, 0, fname);
	cmp_num(fx, "n_dropped", (double)(d.nrows - m.n), 0, fname);
	cmp_num(fx, "df_residual", (double)(m.n - m.p), 0, fname);
	cmp_num(fx, "tight.deviance", dev, 1e-12, fname);
	cmp_array(fx, "tight.coef", beta, m.p, 1e-8, fname);
	cmp_array(fx, "tight.se", se, m.p, 1e-8, fname);
	cmp_num(fx, "aic", aic, 1e-8, fname);
	if (f == FAM_GAUSSIAN)
		cmp_num(fx, "dispersion", disp, 1e-8, fname);
	else
		cmp_num(fx, "dispersion", 1.0, 0, fname);
	tap_ok(iters > 0 && iters < 100, "%s: IRLS converged here in %d iterations", fname, iters);
	free(y);
	free(off);
	design_free(&m);
	dset_free(&d);
	json_decref(fx);
}

/* ---- provenance --------------------------------------------------------------- */

static void
test_index(void)
{
	json_t *ix = load_fixture("index");
	const char *sv, *rv;

	if (ix == NULL)
		return;
	sv = json_string_value(json_object_get(ix, "survival_version"));
	rv = json_string_value(json_object_get(ix, "r_version"));
	tap_ok(sv != NULL && rv != NULL, "index records R %s and survival %s",
	    rv ? rv : "?", sv ? sv : "?");
	tap_ok(json_object_size(json_object_get(ix, "datasets")) == 4,
	    "index lists the four datasets");
	json_decref(ix);
}

int
main(void)
{
	static const char *const sets[] = { "lung", "veteran", "colon", "pbc" };
	static const char *const glms[] = { "glm_binomial_colon", "glm_poisson_colon",
	    "glm_gaussian_pbc", "glm_gaussian_lung" };
	char dir[1024];
	const char *src = getenv("PHT_SRC");
	size_t i;

	snprintf(dir, sizeof(dir), "%s/tests/reference", src ? src : ".");
	if (chdir(dir) != 0) {
		tap_ok(0, "chdir %s (set PHT_SRC to the source tree)", dir);
		return tap_done();
	}
	test_index();
	for (i = 0; i < 4; i++)
		test_km(sets[i]);
	for (i = 0; i < 4; i++)
		test_cox(sets[i]);
	for (i = 0; i < 4; i++)
		test_glm(glms[i]);
	return tap_done();
}
