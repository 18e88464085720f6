/* test_reference_km.c — Kaplan-Meier curves (Greenwood, log-log intervals, medians, the grid) and log-rank tests recomputed from the CSVs against R. */
#include "tap.h"
#include "reference_common.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void
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
