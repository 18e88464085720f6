/* pht_train_model_cox.c — data:cox_stratum(): the Cox partial-likelihood sums of a stratum straight from the column arrays. */
#include "pht_train_model_int.h"

/*
 * Sorts idx[0..n-1] (complete-case positions) by time, descending, ties
 * in position order: a stable LSD radix sort on the order-preserving
 * 64-bit image of each double (8 passes of 8 bits, a pass skipped when
 * every key has the same byte there, as for the low bytes of whole days).
 * Uses tmp (n), keys and ktmp (n each) as scratch.
 */
static void
sort_time_desc(size_t n, const double *time, uint32_t *idx, uint32_t *tmp,
    uint64_t *keys, uint64_t *ktmp)
{
	size_t count[256], i, b, pass, sum, c;
	uint64_t u, *kt;
	uint32_t *it, *out = idx;

	for (i = 0; i < n; i++) {
		double t = time[i] == 0 ? 0 : time[i];  /* -0 sorts with 0 */

		memcpy(&u, &t, sizeof(u));
		u = (u >> 63) ? ~u : u | (1ULL << 63);  /* ascending image */
		keys[i] = ~u;                           /* descending */
		idx[i] = (uint32_t)i;
	}
	for (pass = 0; pass < 8; pass++) {
		unsigned shift = (unsigned)pass * 8;

		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(keys[i] >> shift) & 0xff]++;
		if (n == 0 || count[(keys[0] >> shift) & 0xff] == n)
			continue;
		for (b = 0, sum = 0; b < 256; b++) {
			c = count[b];
			count[b] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++) {
			b = (keys[i] >> shift) & 0xff;
			ktmp[count[b]] = keys[i];
			tmp[count[b]++] = idx[i];
		}
		kt = keys;
		keys = ktmp;
		ktmp = kt;
		it = idx;
		idx = tmp;
		tmp = it;
	}
	if (idx != out)         /* an odd number of passes: the result is in the caller's tmp */
		memcpy(out, idx, n * sizeof(*out));
}

/*
 * Log partial likelihood, score U (p) and information I (p x p) of one
 * stratum at beta, over rows in descending time: x (n x p, row-major;
 * centred here, which leaves all three unchanged in exact arithmetic and
 * keeps exp() in range), time and status. By risk sets: Breslow uses the whole risk set for each
 * of d tied deaths, Efron removes m/d of the deaths' share for the m-th.
 */
static size_t
cox_sums(lua_State *L, size_t n, size_t p, double *xs, const double *ts,
    const uint8_t *st, const double *beta, int efron, int64_t kmin, double *ll_out,
    double *U, double *I)
{
	double *eta, *r, *mean, *S1, *S2, *e1, *e2, S0, e0, ll = 0, f, s0, s1j, s1k, rmax = 0;
	size_t i, j, k, q, pos, m, d, events = 0;
	const double *xi;

	eta = pht_train_kernel_scratch(L, "cox_stratum", n, 2 * sizeof(double));
	r = eta + n;
	mean = pht_train_kernel_scratch(L, "cox_stratum", 3 * p + 2 * p * p, sizeof(double));
	S1 = mean + p;
	e1 = S1 + p;
	S2 = e1 + p;
	e2 = S2 + p * p;
	memset(mean, 0, (3 * p + 2 * p * p) * sizeof(double));
	memset(U, 0, p * sizeof(double));
	memset(I, 0, p * p * sizeof(double));
	for (i = 0; i < n; i++)
		for (j = 0; j < p; j++)
			mean[j] += xs[i * p + j];
	for (j = 0; j < p; j++)
		mean[j] = n > 0 ? mean[j] / (double)n : 0;
	for (q = 0; q < n; q++) {
		double e = 0, *xq = xs + q * p;

		for (j = 0; j < p; j++) {
			xq[j] -= mean[j];
			e += xq[j] * beta[j];
		}
		eta[q] = e;
		r[q] = exp(e);
		if (!(r[q] > 0) || !isfinite(r[q]))
			train_model_refuse_extreme(L, "cox_stratum", "exp of a linear predictor at the given "
			    "beta overflows or underflows");
	}
	S0 = 0;
	pos = 0;
	while (pos < n) {
		double t = ts[pos];

		d = 0;
		e0 = 0;
		for (q = pos; q < n && ts[q] == t; q++) {
			double ri = r[q];

			xi = xs + q * p;
			S0 += ri;
			if (ri > rmax)
				rmax = ri;
			for (j = 0; j < p; j++) {
				double rx = ri * xi[j];

				S1[j] += rx;
				for (k = j; k < p; k++)
					S2[j * p + k] += rx * xi[k];
			}
			if (st[q]) {
				if (d == 0) {
					e0 = 0;
					memset(e1, 0, p * sizeof(double));
					memset(e2, 0, p * p * sizeof(double));
				}
				d++;
				e0 += ri;
				ll += eta[q];
				for (j = 0; j < p; j++) {
					double rx = ri * xi[j];

					U[j] += xi[j];
					e1[j] += rx;
					for (k = j; k < p; k++)
						e2[j * p + k] += rx * xi[k];
				}
			}
		}
		if (d > 0) {
			events += d;
			if ((int64_t)q >= kmin && q >= 2 && rmax > DOMINANCE * S0)
				train_model_refuse_dominant(L, "cox_stratum", "a risk set");
			if (!efron || d == 1) {
				ll -= (double)d * log(S0);
				for (j = 0; j < p; j++) {
					U[j] -= (double)d * S1[j] / S0;
					for (k = j; k < p; k++)
						I[j * p + k] += (double)d * (S2[j * p + k] / S0 -
						    S1[j] * S1[k] / (S0 * S0));
				}
			} else {
				for (m = 0; m < d; m++) {
					f = (double)m / (double)d;
					s0 = S0 - f * e0;
					ll -= log(s0);
					for (j = 0; j < p; j++) {
						s1j = S1[j] - f * e1[j];
						U[j] -= s1j / s0;
						for (k = j; k < p; k++) {
							s1k = S1[k] - f * e1[k];
							I[j * p + k] += (S2[j * p + k] - f * e2[j * p + k]) / s0 -
							    s1j * s1k / (s0 * s0);
						}
					}
				}
			}
		}
		pos = q;
	}
	for (j = 0; j < p; j++)
		for (k = 0; k < j; k++)
			I[j * p + k] = I[k * p + j];
	if (!isfinite(ll) || !all_finite(U, p) || !all_finite(I, p * p))
		train_model_refuse_extreme(L, "cox_stratum", "the sums at the given beta are not finite");
	*ll_out = ll;
	return events;
}

int
train_model_cox_stratum(lua_State *L)
{
	static const char *fn = "cox_stratum";
	struct design *d;
	const struct pht_column *tc, *ec;
	const struct pht_train_lineage *tl, *el;
	struct pht_train_event ev;
	double *time, *ts, *beta, *U, *I, ll;
	uint8_t *status;
	uint32_t *ord, *sorted;
	uint64_t *keys;
	size_t i, q, r, n, events;
	int efron = 1, t;

	train_model_check_args_table(L, fn, "{time = ..., event = ..., covariates = {...}}");
	d = pht_train_kernel_scratch(L, fn, 1, sizeof(*d));
	memset(d, 0, sizeof(*d));
	tc = pht_train_kernel_column_lineage(L, fn, "time", 1, &tl);
	if (!is_numeric(tc))
		luaL_error(L, "%s: time: column '%s' is a %s column; it must be number or integer",
		    fn, tc->name, pht_coltype_name(tc->type));
	ec = pht_train_kernel_column_lineage(L, fn, "event", 1, &el);
	pht_train_kernel_event(L, fn, ec, &ev);
	train_model_use_col(L, fn, d, tc, tl);
	train_model_use_col(L, fn, d, ec, el);
	t = pht_train_kernel_field(L, "ties");
	if (t == LUA_TSTRING && strcmp(lua_tostring(L, -1), "breslow") == 0)
		efron = 0;
	else if (t != LUA_TNIL && !(t == LUA_TSTRING && strcmp(lua_tostring(L, -1), "efron") == 0))
		luaL_error(L, "%s: ties: must be \"efron\" or \"breslow\", not %s", fn,
		    luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	train_model_read_covariates(L, fn, d, 1, 0);
	beta = pht_train_kernel_scratch(L, fn, d->p, sizeof(double));
	train_model_read_beta(L, fn, d->p, beta);
	train_model_complete_cases(L, fn, d);
	n = d->n;
	time = pht_train_kernel_scratch(L, fn, n, 2 * sizeof(double));
	ts = time + n;
	status = pht_train_kernel_scratch(L, fn, n, 1);
	for (i = 0; i < n; i++) {
		r = d->rows[i];
		time[i] = pht_train_kernel_num(tc, r);
		if (time[i] < 0)
			pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: time: column '%s' has "
			    "a negative follow-up time at this station", fn, tc->name);
		if (pht_train_kernel_is_event(&ev, ec, r) < 0)
			pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: event: column '%s' has "
			    "values other than 0/1 at this station; give event_value", fn, ec->name);
	}
	/* the rows in risk-set order (descending time, ties in view order); the design in that order */
	ord = pht_train_kernel_scratch(L, fn, n, 3 * sizeof(uint32_t));
	keys = pht_train_kernel_scratch(L, fn, n, 2 * sizeof(uint64_t));
	sort_time_desc(n, time, ord, ord + n, keys, keys + n);
	sorted = ord + n;
	for (q = 0; q < n; q++) {
		sorted[q] = d->rows[ord[q]];
		ts[q] = time[ord[q]];
		status[q] = pht_train_kernel_is_event(&ev, ec, sorted[q]) == 1;
	}
	d->rows = sorted;
	train_model_fill_design(L, fn, d);
	train_model_note_design_sets(L, fn, d);
	train_model_check_outcome_cells(L, fn, d, status, "the event");
	U = pht_train_kernel_scratch(L, fn, d->p, sizeof(double));
	I = pht_train_kernel_scratch(L, fn, d->p * d->p, sizeof(double));
	events = cox_sums(L, n, d->p, d->x, ts, status, beta, efron, pht_train_ctx_of(L)->k, &ll,
	    U, I);
	lua_createtable(L, 0, 12);
	train_model_push_design_fields(L, d);
	lua_pushinteger(L, (lua_Integer)events);
	lua_setfield(L, -2, "events");
	lua_pushnumber(L, ll);
	lua_setfield(L, -2, "loglik");
	train_model_push_vector(L, U, d->p);
	lua_setfield(L, -2, "score");
	train_model_push_vector(L, I, d->p * d->p);
	lua_setfield(L, -2, "info");
	return 1;
}
