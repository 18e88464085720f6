/* pht_train_model.c — model kernels of the data API: Cox stratum sums and GLM IRLS pieces straight from the column arrays. */
#include "pht_train_model.h"
#include "pht_train.h"
#include "pht_train_data.h"
#include "pht_train_kernel.h"
#include "pht_train_lua.h"
#include "pht_err.h"
#include "pht_dataset.h"

#include <float.h>
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Columns a kernel may read: the covariates plus time/event or outcome/offset. */
#define MAX_COLS (PHT_TRAIN_MODEL_MAX_TERMS + 3)

/*
 * One design term: a numeric or boolean column as it is (level < 0), or
 * the 0/1 indicator of one category level (level >= 0); or the intercept
 * (col NULL).
 */
struct term {
	const struct pht_column *col;
	int32_t level;
};

/*
 * The complete cases of a view over the columns a kernel uses, and the
 * design over them. After complete_cases(), rows[0..n-1] are the dataset
 * rows (in view order) with a value in every used column; a kernel may
 * reorder them (Cox: risk-set order) before fill_design(), after which
 * x[i * p + j] is term j at rows[i]; ones[j] counts the rows where term j
 * is exactly 1 and is01[j] says whether every value of term j is 0 or 1.
 * All arrays live in the Lua heap (scratch userdata on the stack).
 */
struct design {
	const struct pht_column *cols[MAX_COLS];
	const struct pht_train_lineage *lins[MAX_COLS]; /* cells checked over the complete cases */
	size_t ncols;
	struct term terms[PHT_TRAIN_MODEL_MAX_TERMS];
	size_t p;
	size_t n, dropped;
	uint32_t *rows;
	double *x;
	size_t ones[PHT_TRAIN_MODEL_MAX_TERMS];
	int is01[PHT_TRAIN_MODEL_MAX_TERMS];
	int names_idx;          /* stack index of the sequence of term names */
};

static int
is_numeric(const struct pht_column *c)
{
	return c->type == PHT_COL_NUMBER || c->type == PHT_COL_INTEGER;
}

static void
use_col(lua_State *L, const char *fn, struct design *d, const struct pht_column *c,
    const struct pht_train_lineage *lin)
{
	if (d->ncols == MAX_COLS)
		luaL_error(L, "%s: too many columns", fn);
	d->lins[d->ncols] = lin;
	d->cols[d->ncols++] = c;
}

static void
add_term(lua_State *L, const char *fn, struct design *d, const struct pht_column *c,
    int32_t level)
{
	if (d->p == PHT_TRAIN_MODEL_MAX_TERMS)
		luaL_error(L, "%s: covariates: more than %d design terms", fn,
		    PHT_TRAIN_MODEL_MAX_TERMS);
	d->terms[d->p].col = c;
	d->terms[d->p].level = level;
	if (c == NULL)
		lua_pushstring(L, "(Intercept)");
	else if (level >= 0)
		lua_pushfstring(L, "%s%s", c->name, c->levels[level]);
	else
		lua_pushstring(L, c->name);
	lua_rawseti(L, d->names_idx, (lua_Integer)++d->p);
}

/*
 * Reads args.covariates into design terms (after an intercept when asked),
 * pushing the sequence of term names (left on the stack at d->names_idx).
 */
static void
read_covariates(lua_State *L, const char *fn, struct design *d, int need_one,
    int intercept)
{
	const struct pht_train_lineage *lin;
	const struct pht_column *c;
	size_t i, m;
	int32_t lv;

	lua_newtable(L);
	d->names_idx = lua_gettop(L);
	if (intercept)
		add_term(L, fn, d, NULL, -1);
	if (pht_train_kernel_field(L, "covariates") != LUA_TTABLE)
		luaL_error(L, need_one ? "%s: covariates: a non-empty list of column names is required" :
		    "%s: covariates: a list of column names is required", fn);
	m = (size_t)lua_rawlen(L, -1);
	if (need_one && m == 0)
		luaL_error(L, "%s: covariates: a non-empty list of column names is required", fn);
	for (i = 1; i <= m; i++) {
		if (lua_rawgeti(L, -1, (lua_Integer)i) != LUA_TSTRING)
			luaL_error(L, "%s: covariates[%d]: a column name is required, not a %s", fn,
			    (int)i, luaL_typename(L, -1));
		c = pht_train_data_column_arg_lineage(L, 1, lua_gettop(L), &lin);
		lua_pop(L, 1);
		switch (c->type) {
		case PHT_COL_NUMBER:
		case PHT_COL_INTEGER:
		case PHT_COL_BOOLEAN:
			add_term(L, fn, d, c, -1);
			break;
		case PHT_COL_CATEGORY:
			if (c->nlevels < 2)
				luaL_error(L, "%s: covariates: category column '%s' needs at least two "
				    "levels in the dictionary", fn, c->name);
			for (lv = 1; (size_t)lv < c->nlevels; lv++)
				add_term(L, fn, d, c, lv);
			break;
		default:
			luaL_error(L, "%s: covariates: column '%s' has type %s, which cannot be a "
			    "covariate", fn, c->name, pht_coltype_name(c->type));
		}
		use_col(L, fn, d, c, lin);
	}
	lua_pop(L, 1);
}

/* beta (p numbers) into out; 0 when args.beta is absent. */
static int
read_beta(lua_State *L, const char *fn, size_t p, double *out)
{
	size_t j, m;
	int t = pht_train_kernel_field(L, "beta");

	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		for (j = 0; j < p; j++)
			out[j] = 0;
		return 0;
	}
	if (t != LUA_TTABLE)
		luaL_error(L, "%s: beta: a list of %d numbers is required, not a %s", fn, (int)p,
		    luaL_typename(L, -1));
	m = (size_t)lua_rawlen(L, -1);
	if (m != p)
		luaL_error(L, "%s: beta: expected %d numbers (one per design term), got %d", fn,
		    (int)p, (int)m);
	for (j = 0; j < p; j++) {
		if (lua_rawgeti(L, -1, (lua_Integer)j + 1) != LUA_TNUMBER)
			luaL_error(L, "%s: beta[%d]: a number is required, not a %s", fn, (int)j + 1,
			    luaL_typename(L, -1));
		out[j] = (double)lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return 1;
}

/*
 * Declares the view's rows used (k guard, accounting), then finds the
 * complete cases: d->rows, d->n, d->dropped (see struct design).
 */
static void
complete_cases(lua_State *L, const char *fn, struct design *d)
{
	struct pht_train_view_rows vr;
	uint8_t *ok;
	size_t i, j, n = 0;

	pht_train_data_use(L, 1);
	pht_train_data_view_rows(L, 1, &vr);
	ok = pht_train_kernel_scratch(L, fn, vr.n, 1);
	memset(ok, 1, vr.n);
	for (j = 0; j < d->ncols; j++) {
		const struct pht_column *c = d->cols[j];

		if (c->missing != NULL)
			for (i = 0; i < vr.n; i++)
				ok[i] &= !pht_column_is_missing(c, pht_train_view_row(&vr, i));
		if (c->type == PHT_COL_CATEGORY)
			for (i = 0; i < vr.n; i++) {
				int32_t code = c->v.i32[pht_train_view_row(&vr, i)];

				ok[i] &= code >= 0 && (size_t)code < c->nlevels;
			}
	}
	d->rows = pht_train_kernel_scratch(L, fn, vr.n, sizeof(uint32_t));
	for (i = 0; i < vr.n; i++)
		if (ok[i])
			d->rows[n++] = (uint32_t)pht_train_view_row(&vr, i);
	d->n = n;
	d->dropped = vr.n - n;
	/* a column built from predicates: each of its cells among the rows used >= k */
	for (j = 0; j < d->ncols; j++)
		pht_train_data_guard_lineage(L, d->cols[j], d->lins[j], d->rows, n);
}

/* Builds the design over d->rows (in their order), column by column. */
static void
fill_design(lua_State *L, const char *fn, struct design *d)
{
	size_t i, j, r, n = d->n, p = d->p, ones;
	double v;
	int is01;

	d->x = pht_train_kernel_scratch(L, fn, n, p * sizeof(double));
	for (j = 0; j < p; j++) {
		const struct term *t = &d->terms[j];
		const struct pht_column *c = t->col;

		ones = 0;
		is01 = 1;
		for (i = 0; i < n; i++) {
			r = d->rows[i];
			if (c == NULL)
				v = 1;
			else if (t->level >= 0)
				v = c->v.i32[r] == t->level;
			else if (c->type == PHT_COL_NUMBER)
				v = c->v.f64[r];
			else if (c->type == PHT_COL_INTEGER)
				v = (double)c->v.i64[r];
			else
				v = c->v.u8[r];
			d->x[i * p + j] = v;
			ones += v == 1;
			is01 &= v == 0 || v == 1;
		}
		d->ones[j] = ones;
		d->is01[j] = is01;
	}
}

/* Whether design term j is binary: a level's indicator, a boolean, or numbers all 0/1. */
static int
term_binary(const struct design *d, size_t j)
{
	const struct term *t = &d->terms[j];

	return t->col != NULL && (t->level >= 0 || t->col->type == PHT_COL_BOOLEAN ||
	    d->is01[j]);
}

static int
cmp_row_pos(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/*
 * Records the row sets the design's sums are over, after fill_design():
 * the complete cases, and for every binary term j (term_binary) the rows
 * where it is 1, and for every pair of binary terms the rows where both
 * are 1. A kernel's sums are per-row functions of the design summed over
 * the complete cases, and such a function that is 0 off a term's support
 * (x_j, x_j * y, x_j * x_l * w) is a sum over that support alone: X'y of
 * a level's indicator is the sum of y over the level's rows, X'X[j, l] of
 * two indicators is the count of their cell. The sets of a term's product
 * with a non-binary term are the binary term's own. Each term's support is
 * built once as a bitmap over the complete cases in ascending row order;
 * a pair is the AND of two bitmaps. Ends the run, with nothing recorded
 * past the view, when the sets could pass the bound on sets behind one
 * output (pht_train_kernel_reserve_sets): refused, never left out.
 */
static void
note_design_sets(lua_State *L, const char *fn, const struct design *d)
{
	size_t n = d->n, p = d->p, words = (n + 63) / 64, nb = 0, nsets = 1, i, j, l, w, m;
	uint64_t *ord, *bits;
	uint32_t *rows, *out;
	size_t bt[PHT_TRAIN_MODEL_MAX_TERMS];

	if (n == 0)
		return;
	for (j = 0; j < p; j++)
		if (term_binary(d, j))
			bt[nb++] = j;
	/* positions in ascending row order, so each set is recorded without a sort */
	ord = pht_train_kernel_scratch(L, fn, n, sizeof(uint64_t));
	for (i = 0; i < n; i++)
		ord[i] = (uint64_t)d->rows[i] << 32 | i;
	qsort(ord, n, sizeof(*ord), cmp_row_pos);
	rows = pht_train_kernel_scratch(L, fn, 2 * n, sizeof(uint32_t));
	out = rows + n;
	for (i = 0; i < n; i++)
		rows[i] = (uint32_t)(ord[i] >> 32);
	bits = pht_train_kernel_scratch(L, fn, nb > 0 ? nb * words : 1, sizeof(uint64_t));
	memset(bits, 0, nb * words * sizeof(uint64_t));
	for (m = 0; m < nb; m++)
		for (i = 0; i < n; i++)
			if (d->x[(ord[i] & 0xffffffffu) * p + bt[m]] == 1)
				bits[m * words + i / 64] |= (uint64_t)1 << (i % 64);
	/* count the non-empty sets first: all of them are recorded, or the run ends */
	for (j = 0; j < nb; j++) {
		nsets += d->ones[bt[j]] > 0;
		for (l = j + 1; l < nb; l++)
			for (w = 0; w < words; w++)
				if (bits[j * words + w] & bits[l * words + w]) {
					nsets++;
					break;
				}
	}
	pht_train_kernel_reserve_sets(L, fn, nsets, "the complete cases, each binary design "
	    "term's rows and each pair's");
	pht_train_kernel_note_rows(L, rows, n);
	for (j = 0; j < nb; j++)
		for (l = j; l < nb; l++) {
			size_t c = 0;

			for (w = 0; w < words; w++) {
				uint64_t v = bits[j * words + w] & bits[l * words + w];

				while (v != 0) {
					out[c++] = rows[w * 64 + (size_t)__builtin_ctzll(v)];
					v &= v - 1;
				}
			}
			pht_train_kernel_note_rows(L, out, c);
		}
	lua_pop(L, 3);
}

/* Design term j's name (from the names sequence; left on the stack: for error messages). */
static const char *
term_name(lua_State *L, const struct design *d, size_t j)
{
	lua_rawgeti(L, d->names_idx, (lua_Integer)j + 1);
	return lua_isstring(L, -1) ? lua_tostring(L, -1) : "?";
}

/*
 * The table rule for a model's 0/1 outcome (a GLM's outcome whose values
 * over the complete cases are all 0 or 1, a Cox event status): flag[i] is
 * row i's outcome in design order. Crossed with the design, the outcome
 * makes a two-way table whose cells a kernel's sums release as counts:
 * X'y of a binary term is the number of its rows with the outcome (its
 * complement is the term's count less that), and the sum of y (or the
 * events) is the margin. Like a crosstab's, every such cell must hold 0
 * or at least k rows; otherwise the run ends (a disclosure refusal): the
 * outcome of 1 to k - 1 patients of a level would be released as a count
 * (docs/security.md, Disclosure, limit (g)). The cells are checked, not
 * recorded as row sets: a model's pairs of the outcome with a level
 * differenced with a Kaplan-Meier table's steps would refuse every model
 * by arm after a survival curve by arm, though both release only counts.
 */
static void
check_outcome_cells(lua_State *L, const char *fn, const struct design *d,
    const uint8_t *flag, const char *what)
{
	int64_t k = pht_train_ctx_of(L)->k;
	size_t i, j, c1, c0, n1 = 0, p = d->p;

	for (i = 0; i < d->n; i++)
		n1 += flag[i];
	if ((n1 > 0 && (int64_t)n1 < k) || (d->n - n1 > 0 && (int64_t)(d->n - n1) < k))
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: %s: fewer than k of "
		    "the complete cases have it, or fewer than k do not (a count under k)", fn,
		    what);
	for (j = 0; j < p; j++) {
		if (!term_binary(d, j))
			continue;
		c1 = 0;
		for (i = 0; i < d->n; i++)
			c1 += flag[i] && d->x[i * p + j] == 1;
		c0 = d->ones[j] - c1;
		if ((c1 > 0 && (int64_t)c1 < k) || (c0 > 0 && (int64_t)c0 < k))
			pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: %s crossed with "
			    "term '%s': a cell of 1 to k - 1 rows (a count under k)", fn, what,
			    term_name(L, d, j));
	}
}

static void
push_vector(lua_State *L, const double *x, size_t n)
{
	size_t i;

	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_pushnumber(L, x[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

/* Sets the design's fields of the result table on top: names, binary, ones, n, dropped. */
static void
push_design_fields(lua_State *L, const struct design *d)
{
	size_t j;

	lua_pushvalue(L, d->names_idx);
	lua_setfield(L, -2, "names");
	lua_createtable(L, (int)d->p, 0);
	for (j = 0; j < d->p; j++) {
		lua_pushboolean(L, term_binary(d, j));
		lua_rawseti(L, -2, (lua_Integer)j + 1);
	}
	lua_setfield(L, -2, "binary");
	lua_createtable(L, (int)d->p, 0);
	for (j = 0; j < d->p; j++) {
		lua_pushinteger(L, (lua_Integer)d->ones[j]);
		lua_rawseti(L, -2, (lua_Integer)j + 1);
	}
	lua_setfield(L, -2, "ones");
	lua_pushinteger(L, (lua_Integer)d->n);
	lua_setfield(L, -2, "n");
	lua_pushinteger(L, (lua_Integer)d->dropped);
	lua_setfield(L, -2, "dropped");
}

/*
 * Checks the argument table and makes room on the stack: a kernel keeps
 * its scratch arrays as userdata on the stack (about 20 values), more
 * than the LUA_MINSTACK a C function is guaranteed.
 */
static void
check_args_table(lua_State *L, const char *fn, const char *shape)
{
	if (!lua_istable(L, 2))
		luaL_error(L, "%s: expects a table of arguments, %s", fn, shape);
	lua_settop(L, 2);
	luaL_checkstack(L, 48, fn);
}

/* ---- Cox: one stratum ---- */

/*
 * Ends the run (uncatchable, a disclosure refusal): at a beta where a
 * fitted value is clamped or exp() leaves the range of a double, a
 * kernel's sums stop depending smoothly on the rows and can count the rows
 * on one side of a hyperplane the caller picked.
 */
static void
refuse_extreme(lua_State *L, const char *fn, const char *why)
{
	pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: %s (an extreme beta "
	    "could single out rows)", fn, why);
}

/*
 * The dominance bound on a kernel's weights: a share of the weight one row
 * may carry in a set of max(k, 2) or more rows. Above it the run ends
 * (refuse_dominant). The (1, 90%) dominance rule of magnitude tables,
 * applied to the weights exp(eta) of a risk set and the IRLS weights of a
 * GLM's complete cases: a weighted mean over such a set is a soft maximum,
 * and a beta the caller picks can make it one row's value to any precision
 * while clamping nothing and keeping the row set fixed (the share then
 * tends to 1). With at least a tenth of the weight on other rows, one
 * release gives that row's value only to within a tenth of its distance
 * from the others' weighted mean. Legitimate fits carry large shares in
 * small late risk sets (pbc: 77% in a risk set of 13 at a Newton step),
 * which is why the bound is not a half.
 */
#define DOMINANCE 0.9

/* Ends the run: one row dominates the weights of where (see DOMINANCE). */
static void
refuse_dominant(lua_State *L, const char *fn, const char *where)
{
	pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: one row carries more than "
	    "90%% of the weight of %s of k or more rows at the given beta (a soft maximum "
	    "could single out a row)", fn, where);
}

static int
all_finite(const double *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return 0;
	return 1;
}

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
			refuse_extreme(L, "cox_stratum", "exp of a linear predictor at the given "
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
				refuse_dominant(L, "cox_stratum", "a risk set");
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
		refuse_extreme(L, "cox_stratum", "the sums at the given beta are not finite");
	*ll_out = ll;
	return events;
}

/*
 * data:cox_stratum{time=, event=, event_value=, covariates=, beta=, ties=}
 * -> {names, binary, ones, n, dropped, events, loglik, score, info}
 * A negative time or an event code other than 0/1 ends the run (refused,
 * no value named).
 */
static int
model_cox_stratum(lua_State *L)
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

	check_args_table(L, fn, "{time = ..., event = ..., covariates = {...}}");
	d = pht_train_kernel_scratch(L, fn, 1, sizeof(*d));
	memset(d, 0, sizeof(*d));
	tc = pht_train_kernel_column_lineage(L, fn, "time", 1, &tl);
	if (!is_numeric(tc))
		luaL_error(L, "%s: time: column '%s' is a %s column; it must be number or integer",
		    fn, tc->name, pht_coltype_name(tc->type));
	ec = pht_train_kernel_column_lineage(L, fn, "event", 1, &el);
	pht_train_kernel_event(L, fn, ec, &ev);
	use_col(L, fn, d, tc, tl);
	use_col(L, fn, d, ec, el);
	t = pht_train_kernel_field(L, "ties");
	if (t == LUA_TSTRING && strcmp(lua_tostring(L, -1), "breslow") == 0)
		efron = 0;
	else if (t != LUA_TNIL && !(t == LUA_TSTRING && strcmp(lua_tostring(L, -1), "efron") == 0))
		luaL_error(L, "%s: ties: must be \"efron\" or \"breslow\", not %s", fn,
		    luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	read_covariates(L, fn, d, 1, 0);
	beta = pht_train_kernel_scratch(L, fn, d->p, sizeof(double));
	read_beta(L, fn, d->p, beta);
	complete_cases(L, fn, d);
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
	fill_design(L, fn, d);
	note_design_sets(L, fn, d);
	check_outcome_cells(L, fn, d, status, "the event");
	U = pht_train_kernel_scratch(L, fn, d->p, sizeof(double));
	I = pht_train_kernel_scratch(L, fn, d->p * d->p, sizeof(double));
	events = cox_sums(L, n, d->p, d->x, ts, status, beta, efron, pht_train_ctx_of(L)->k, &ll,
	    U, I);
	lua_createtable(L, 0, 12);
	push_design_fields(L, d);
	lua_pushinteger(L, (lua_Integer)events);
	lua_setfield(L, -2, "events");
	lua_pushnumber(L, ll);
	lua_setfield(L, -2, "loglik");
	push_vector(L, U, d->p);
	lua_setfield(L, -2, "score");
	push_vector(L, I, d->p * d->p);
	lua_setfield(L, -2, "info");
	return 1;
}

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
 * check_outcome_cells() for a GLM whose outcome is 0/1 on every complete
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
	check_outcome_cells(L, fn, d, flag, "the outcome");
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

	check_args_table(L, fn, "{outcome = ..., covariates = {...}, family = ...}");
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
	use_col(L, fn, d, yc, yl);
	oc = pht_train_kernel_column_lineage(L, fn, "offset", 0, &ol);
	if (oc != NULL && !is_numeric(oc))
		luaL_error(L, "%s: offset: column '%s' must be numeric", fn, oc->name);
	read_covariates(L, fn, d, 0, intercept);
	if (oc != NULL)
		use_col(L, fn, d, oc, ol);
	p = d->p;
	if (p == 0)
		luaL_error(L, "%s: covariates: no design terms (no covariates and no intercept)", fn);
	beta = pht_train_kernel_scratch(L, fn, p, sizeof(double));
	has_beta = read_beta(L, fn, p, beta);
	complete_cases(L, fn, d);
	fill_design(L, fn, d);
	note_design_sets(L, fn, d);
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
				refuse_extreme(L, fn, "a fitted value at the given beta would be clamped");
			mu = fam_linkinv(fam, eta);
			if (!isfinite(mu) || fam_extreme(fam, mu))
				refuse_extreme(L, fn, "a fitted value at the given beta would be clamped");
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
		refuse_dominant(L, fn, "the complete cases");
	for (j = 0; j < p; j++)
		for (k = 0; k < j; k++)
			A[j * p + k] = A[k * p + j];
	if (!isfinite(dev) || !isfinite(ll) || !all_finite(A, p * p + p))
		refuse_extreme(L, fn, "the sums at the given beta are not finite");
	lua_createtable(L, 0, 16);
	push_design_fields(L, d);
	push_vector(L, A, p * p);
	lua_setfield(L, -2, "XtWX");
	push_vector(L, b, p);
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
		{"cox_stratum", model_cox_stratum},
		{"glm_step", model_glm_step},
		{NULL, NULL},
	};

	pht_train_data_view_methods_add(L, methods);
}
