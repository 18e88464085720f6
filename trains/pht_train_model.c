/* pht_train_model.c — the GLM IRLS step of the data API's model kernels, and the registration of the kernels. */
#include "pht_train_model_int.h"

/* ---- GLM: one station's IRLS pieces (R's family objects and glm.fit) ---- */

enum family { FAM_GAUSSIAN, FAM_BINOMIAL, FAM_POISSON };

static const char *const family_names[] = {"gaussian", "binomial", "poisson", NULL};
static const char *const family_links[] = {"identity", "logit", "log"};

#define THRESH 30.0
#define MTHRESH (-30.0)
#define INVEPS (1 / DBL_EPSILON)

static inline double
ylogy(double y, double mu)
{
	return y == 0 ? 0 : y * log(y / mu);
}

static inline double
fam_linkinv(enum family f, double eta)
{
	double t;

	switch (f) {
	case FAM_BINOMIAL:
		t = eta < MTHRESH ? DBL_EPSILON : (eta > THRESH ? INVEPS : exp(eta));
		return t / (1 + t);
	case FAM_POISSON:
		t = exp(eta);
		return t > DBL_EPSILON ? t : DBL_EPSILON;
	default:
		return eta;
	}
}

static inline double
fam_linkfun(enum family f, double mu)
{
	switch (f) {
	case FAM_BINOMIAL:
		return log(mu / (1 - mu));
	case FAM_POISSON:
		return log(mu);
	default:
		return mu;
	}
}

static inline double
fam_mu_eta(enum family f, double eta)
{
	double t, o;

	switch (f) {
	case FAM_BINOMIAL:
		if (eta > THRESH || eta < MTHRESH)
			return DBL_EPSILON;
		t = exp(eta);
		o = 1 + t;
		return t / (o * o);
	case FAM_POISSON:
		t = exp(eta);
		return t > DBL_EPSILON ? t : DBL_EPSILON;
	default:
		return 1;
	}
}

static inline double
fam_variance(enum family f, double mu)
{
	switch (f) {
	case FAM_BINOMIAL:
		return mu * (1 - mu);
	case FAM_POISSON:
		return mu;
	default:
		return 1;
	}
}

static inline double
fam_dev(enum family f, double y, double mu)
{
	switch (f) {
	case FAM_BINOMIAL:
		return 2 * (ylogy(y, mu) + ylogy(1 - y, 1 - mu));
	case FAM_POISSON:
		return 2 * (y > 0 ? y * log(y / mu) - (y - mu) : mu);
	default:
		return (y - mu) * (y - mu);
	}
}

static inline double
fam_loglik(enum family f, double y, double mu)
{
	switch (f) {
	case FAM_BINOMIAL:
		return y == 1 ? log(mu) : log(1 - mu);
	case FAM_POISSON:
		return y * log(mu) - mu - lgamma(y + 1);
	default:
		return 0;
	}
}

static inline int
fam_extreme(enum family f, double mu)
{
	switch (f) {
	case FAM_BINOMIAL:
		return mu > 1 - 10 * DBL_EPSILON || mu < 10 * DBL_EPSILON;
	case FAM_POISSON:
		return mu < 10 * DBL_EPSILON;
	default:
		return 0;
	}
}

/* How the outcome column is read: 0/1 from a boolean or a two-level category, or numbers. */
enum ykind { Y_BOOL, Y_LEVEL2, Y_NUM };

/* y of row r; *bad set when the value is outside what the family accepts. */
static inline double
outcome_of(enum family f, enum ykind yk, const struct pht_column *c, size_t r, int *bad)
{
	double v;

	*bad = 0;
	if (yk == Y_BOOL)
		return c->v.u8[r];
	if (yk == Y_LEVEL2)
		return c->v.i32[r] == 1;
	v = pht_train_kernel_num(c, r);
	if (f == FAM_BINOMIAL)
		*bad = v != 0 && v != 1;
	else if (f == FAM_POISSON)
		*bad = v < 0 || v != floor(v);
	return v;
}

/*
 * train_model_check_outcome_cells() for a GLM whose outcome is 0/1 on every complete
 * case (a boolean, a two-level category, or numbers that are all 0 or 1):
 * X'y is then a table of counts. Other outcomes are sums over the rows the
 * design's sets record.
 */
static void
glm_outcome_cells(lua_State *L, const char *fn, const struct design *d, enum family fam,
    enum ykind yk, const struct pht_column *yc)
{
	uint8_t *flag = pht_train_kernel_scratch(L, fn, d->n > 0 ? d->n : 1, 1);
	size_t i;
	double y;
	int bad;

	for (i = 0; i < d->n; i++) {
		y = outcome_of(fam, yk, yc, d->rows[i], &bad);
		if (bad || (y != 0 && y != 1)) {
			lua_pop(L, 1);
			return;
		}
		flag[i] = y == 1;
	}
	train_model_check_outcome_cells(L, fn, d, flag, "the outcome");
	lua_pop(L, 1);
}

/*
 * data:glm_step{outcome=, covariates=, offset=, beta=, family=, link=,
 * nullmu=, intercept=}
 * -> {names, binary, ones, n, dropped, XtWX, XtWz, deviance, loglik, sum_y,
 *     sum_exp_offset, y_ones [, null_deviance]}
 */
static int
model_glm_step(lua_State *L)
{
	static const char *fn = "glm_step";
	struct design *d;
	const struct pht_column *yc, *oc;
	const struct pht_train_lineage *yl, *ol;
	enum family fam;
	enum ykind yk = Y_NUM;
	double *beta, *A, *b, dev = 0, ll = 0, sumy = 0, sumexp = 0, nulldev = 0, nullmu = 0;
	double y, off, eta, mu, me, z, w, wx, wsum = 0, wmax = 0;
	const double *xi;
	size_t i, j, k, r, p, yones = 0;
	int t, has_beta, has_null = 0, intercept = 1, bad;

	train_model_check_args_table(L, fn, "{outcome = ..., covariates = {...}, family = ...}");
	d = pht_train_kernel_scratch(L, fn, 1, sizeof(*d));
	memset(d, 0, sizeof(*d));
	t = pht_train_kernel_field(L, "family");
	if (t == LUA_TNIL)
		fam = FAM_GAUSSIAN;
	else {
		const char *s = t == LUA_TSTRING ? lua_tostring(L, -1) : "";

		for (j = 0; family_names[j] != NULL && strcmp(family_names[j], s) != 0; j++)
			;
		if (family_names[j] == NULL)
			luaL_error(L, "%s: family: must be binomial, poisson or gaussian, not %s", fn,
			    luaL_tolstring(L, -1, NULL));
		fam = (enum family)j;
	}
	lua_pop(L, 1);
	t = pht_train_kernel_field(L, "link");
	if (t != LUA_TNIL && !(t == LUA_TSTRING &&
	    strcmp(lua_tostring(L, -1), family_links[fam]) == 0))
		luaL_error(L, "%s: link: family %s has the %s link only, not %s", fn,
		    family_names[fam], family_links[fam], luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	t = pht_train_kernel_field(L, "intercept");
	if (t != LUA_TNIL && t != LUA_TBOOLEAN)
		luaL_error(L, "%s: intercept: true or false, not a %s", fn, luaL_typename(L, -1));
	if (t == LUA_TBOOLEAN)
		intercept = lua_toboolean(L, -1);
	lua_pop(L, 1);
	t = pht_train_kernel_field(L, "nullmu");
	if (t == LUA_TNUMBER) {
		has_null = 1;
		nullmu = (double)lua_tonumber(L, -1);
	} else if (t != LUA_TNIL)
		luaL_error(L, "%s: nullmu: a number is required, not a %s", fn, luaL_typename(L, -1));
	lua_pop(L, 1);
	yc = pht_train_kernel_column_lineage(L, fn, "outcome", 1, &yl);
	if (yc->type == PHT_COL_BOOLEAN)
		yk = Y_BOOL;
	else if (fam != FAM_BINOMIAL) {
		if (!is_numeric(yc))
			luaL_error(L, "%s: outcome: column '%s' must be numeric for family %s", fn,
			    yc->name, family_names[fam]);
		yk = Y_NUM;
	} else if (yc->type == PHT_COL_CATEGORY) {
		if (yc->nlevels != 2)
			luaL_error(L, "%s: outcome: category column '%s' must have exactly two levels "
			    "for binomial", fn, yc->name);
		yk = Y_LEVEL2;
	} else if (is_numeric(yc))
		yk = Y_NUM;
	else
		luaL_error(L, "%s: outcome: column '%s' has type %s", fn, yc->name,
		    pht_coltype_name(yc->type));
	train_model_use_col(L, fn, d, yc, yl);
	oc = pht_train_kernel_column_lineage(L, fn, "offset", 0, &ol);
	if (oc != NULL && !is_numeric(oc))
		luaL_error(L, "%s: offset: column '%s' must be numeric", fn, oc->name);
	train_model_read_covariates(L, fn, d, 0, intercept);
	if (oc != NULL)
		train_model_use_col(L, fn, d, oc, ol);
	p = d->p;
	if (p == 0)
		luaL_error(L, "%s: covariates: no design terms (no covariates and no intercept)", fn);
	beta = pht_train_kernel_scratch(L, fn, p, sizeof(double));
	has_beta = train_model_read_beta(L, fn, p, beta);
	train_model_complete_cases(L, fn, d);
	train_model_fill_design(L, fn, d);
	train_model_note_design_sets(L, fn, d);
	glm_outcome_cells(L, fn, d, fam, yk, yc);
	A = pht_train_kernel_scratch(L, fn, p * p + p, sizeof(double));
	b = A + p * p;
	memset(A, 0, (p * p + p) * sizeof(double));
	for (i = 0; i < d->n; i++) {
		r = d->rows[i];
		xi = d->x + i * p;
		y = outcome_of(fam, yk, yc, r, &bad);
		if (bad)
			pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: outcome: column '%s' "
			    "has values family %s cannot take at this station (binomial needs 0/1, "
			    "poisson non-negative whole counts)", fn, yc->name, family_names[fam]);
		off = oc != NULL ? pht_train_kernel_num(oc, r) : 0;
		if (!has_beta) {
			mu = fam == FAM_BINOMIAL ? (y + 0.5) / 2 : fam == FAM_POISSON ? y + 0.1 : y;
			eta = fam_linkfun(fam, mu);
			mu = fam_linkinv(fam, eta);
		} else {
			eta = off;
			for (j = 0; j < p; j++)
				eta += xi[j] * beta[j];
			if (!isfinite(eta) || (fam == FAM_BINOMIAL && fabs(eta) > THRESH))
				train_model_refuse_extreme(L, fn, "a fitted value at the given beta would be clamped");
			mu = fam_linkinv(fam, eta);
			if (!isfinite(mu) || fam_extreme(fam, mu))
				train_model_refuse_extreme(L, fn, "a fitted value at the given beta would be clamped");
		}
		dev += fam_dev(fam, y, mu);
		ll += fam_loglik(fam, y, mu);
		me = fam_mu_eta(fam, eta);
		z = (eta - off) + (y - mu) / me;
		w = me * me / fam_variance(fam, mu);
		wsum += w;
		if (w > wmax)
			wmax = w;
		for (j = 0; j < p; j++) {
			wx = w * xi[j];
			b[j] += wx * z;
			for (k = j; k < p; k++)
				A[j * p + k] += wx * xi[k];
		}
		sumy += y;
		if (y == 1)
			yones++;
		sumexp += exp(off);
		if (has_null)
			nulldev += fam_dev(fam, y, fam == FAM_POISSON && oc != NULL ?
			    exp(nullmu + off) : nullmu);
	}
	if (has_beta && (int64_t)d->n >= pht_train_ctx_of(L)->k && d->n >= 2 &&
	    wmax > DOMINANCE * wsum)
		train_model_refuse_dominant(L, fn, "the complete cases");
	for (j = 0; j < p; j++)
		for (k = 0; k < j; k++)
			A[j * p + k] = A[k * p + j];
	if (!isfinite(dev) || !isfinite(ll) || !all_finite(A, p * p + p))
		train_model_refuse_extreme(L, fn, "the sums at the given beta are not finite");
	lua_createtable(L, 0, 16);
	train_model_push_design_fields(L, d);
	train_model_push_vector(L, A, p * p);
	lua_setfield(L, -2, "XtWX");
	train_model_push_vector(L, b, p);
	lua_setfield(L, -2, "XtWz");
	lua_pushnumber(L, dev);
	lua_setfield(L, -2, "deviance");
	lua_pushnumber(L, ll);
	lua_setfield(L, -2, "loglik");
	lua_pushnumber(L, sumy);
	lua_setfield(L, -2, "sum_y");
	lua_pushnumber(L, sumexp);
	lua_setfield(L, -2, "sum_exp_offset");
	lua_pushinteger(L, (lua_Integer)yones);
	lua_setfield(L, -2, "y_ones");
	if (has_null) {
		lua_pushnumber(L, nulldev);
		lua_setfield(L, -2, "null_deviance");
	}
	return 1;
}

void
pht_train_model_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"cox_stratum", train_model_cox_stratum},
		{"glm_step", model_glm_step},
		{NULL, NULL},
	};

	pht_train_data_view_methods_add(L, methods);
}
