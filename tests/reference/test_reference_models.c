/* test_reference_models.c — stratified Cox (Efron and Breslow ties) and GLMs (IRLS, dispersion, AIC) recomputed from the CSVs against R. */
#include "tap.h"
#include "reference_common.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void
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

void
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
