/* pht_train_data_aggby.c — data:aggregate() and data:aggregate_by(): per-group aggregates of several columns in one pass each. */
#include "pht_train_data_int.h"

/* ---- aggregate_by: per group aggregates of several columns in one pass each ---- */

#define AGG_COLS_MAX 256

/* The aggregates of one column over one group. */
struct gacc {
	double s, c;            /* compensated sum (number columns) */
	double ss, sc;          /* compensated sum of squares */
	i128 isum;              /* exact sum (integer and boolean columns) */
	size_t rows;            /* rows of the group */
	size_t n;               /* non-missing values among them */
	double mean;            /* the mean, between the two passes */
	double m2, m2c;         /* compensated sum of squared deviations from mean */
	double dev;             /* sum of deviations (the two-pass correction) */
};

static inline __attribute__((always_inline)) void
two_sum(double *s, double *c, double x)
{
	double t = *s + x, z = t - *s;

	*c += (*s - (t - z)) + (x - z);
	*s = t;
}

/*
 * Where a row's group slot comes from (slot ngroups: rows missing the key):
 * SLOT_GID32 gid[i] (NO_GROUP for that slot; every row there when gid is
 * NULL); SLOT_GID8 the byte gid8[i]; SLOT_I32 and SLOT_U8 the key column's
 * code at the row (category i32, boolean u8; missing or out of range: slot
 * ngroups), written to gid8[i] for the later passes.
 */
enum { SLOT_GID32, SLOT_GID8, SLOT_I32, SLOT_U8 };

struct slots {
	int src;
	const uint32_t *gid;
	uint8_t *gid8;
	const void *codes;
	const uint8_t *kmiss;   /* the key column's missing bitmap */
	uint32_t ngroups;
};

/*
 * Adds the cells of one column to the accumulators of their groups. A
 * missing cell counts as a row and adds -0.0 to the sums (which changes
 * none), through selects rather than branches. The sum of squares only
 * with sq. ty is W_F64, W_I64 or W_U8; src one of SLOT_*; ty, sq and src
 * constant once inlined.
 */
static inline __attribute__((always_inline)) void
gacc_row(const void *arr, const uint8_t *miss, int has_miss, int ty, int sq, int src,
    const uint32_t *gid, uint8_t *gid8, const void *codes, const uint8_t *kmiss,
    uint32_t ngroups, struct gacc *acc, size_t i, size_t r)
{
	uint32_t g;
	struct gacc *a;
	double x;
	int64_t xi;
	int b = 0;

	if (src == SLOT_GID32) {
		g = gid != NULL ? gid[i] : NO_GROUP;
		g = g == NO_GROUP ? ngroups : g;
	} else if (src == SLOT_GID8)
		g = gid8[i];
	else {
		g = src == SLOT_U8 ? ((const uint8_t *)codes)[r] :
		    (uint32_t)((const int32_t *)codes)[r];
		g = g >= ngroups ? ngroups : g;
		if (kmiss != NULL)
			g = ((kmiss[r >> 3] >> (r & 7)) & 1) ? ngroups : g;
		gid8[i] = (uint8_t)g;
	}
	if (has_miss)
		b = (miss[r >> 3] >> (r & 7)) & 1;
	a = &acc[g];
	a->rows++;
	a->n += (size_t)!b;
	if (ty == W_F64) {
		x = ((const double *)arr)[r];
		x = b ? -0.0 : x;
		two_sum(&a->s, &a->c, x);
		if (sq)
			two_sum(&a->ss, &a->sc, x * x);
	} else {
		xi = ty == W_I64 ? ((const int64_t *)arr)[r] : ((const uint8_t *)arr)[r];
		xi = b ? 0 : xi;
		a->isum += xi;
		if (ty == W_I64 && sq) {
			x = b ? -0.0 : (double)xi;
			two_sum(&a->ss, &a->sc, x * x);
		}
	}
}

static inline __attribute__((always_inline)) void
gacc_kernel(const void *arr, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, int ty, int sq, int src, const struct slots *sl,
    struct gacc *acc)
{
	const uint32_t *gid = sl->gid;
	uint8_t *gid8 = sl->gid8;
	const void *codes = sl->codes;
	const uint8_t *kmiss = sl->kmiss;
	const uint32_t ngroups = sl->ngroups;
	size_t i;

	for (i = 0; i < n; i++)
		gacc_row(arr, miss, has_miss, ty, sq, src, gid, gid8, codes, kmiss, ngroups, acc,
		    i, has_sel ? sel[i] : i);
}

/* gacc_kernel over the rows of a bitmap selection (struct view), ascending. */
static inline __attribute__((always_inline)) void
gacc_bits_kernel(const void *arr, const uint8_t *miss, const uint64_t *bits, size_t nwords,
    int has_miss, int ty, int sq, int src, const struct slots *sl, struct gacc *acc)
{
	const uint32_t *gid = sl->gid;
	uint8_t *gid8 = sl->gid8;
	const void *codes = sl->codes;
	const uint8_t *kmiss = sl->kmiss;
	const uint32_t ngroups = sl->ngroups;
	size_t w, i = 0;
	uint64_t m;

	for (w = 0; w < nwords; w++)
		for (m = bits[w]; m != 0; m &= m - 1, i++)
			gacc_row(arr, miss, has_miss, ty, sq, src, gid, gid8, codes, kmiss,
			    ngroups, acc, i, w * 64 + (size_t)__builtin_ctzll(m));
}

/* Calls a *_bits_kernel K with a constant has_miss for the bitmap view v. */
#define SPECIALISE_BITS(K, x, miss, v, ...) do {			\
	size_t nw_ = (pht_dataset_nrows((v)->ds) + 63) / 64;		\
	if ((miss) == NULL)						\
		K(x, NULL, (v)->bits, nw_, 0, __VA_ARGS__);		\
	else								\
		K(x, miss, (v)->bits, nw_, 1, __VA_ARGS__);		\
} while (0)

#define GACC_SRC_BITS(ARR, TY, SQ) do {					\
	switch (sl->src) {						\
	case SLOT_GID32: SPECIALISE_BITS(gacc_bits_kernel, ARR, c->missing, v, TY, SQ, SLOT_GID32, sl, acc); break; \
	case SLOT_GID8: SPECIALISE_BITS(gacc_bits_kernel, ARR, c->missing, v, TY, SQ, SLOT_GID8, sl, acc); break; \
	case SLOT_I32: SPECIALISE_BITS(gacc_bits_kernel, ARR, c->missing, v, TY, SQ, SLOT_I32, sl, acc); break; \
	default: SPECIALISE_BITS(gacc_bits_kernel, ARR, c->missing, v, TY, SQ, SLOT_U8, sl, acc); break; \
	}								\
} while (0)

#define GACC_SRC(ARR, TY, SQ) do {						\
	switch (sl->src) {							\
	case SLOT_GID32: SPECIALISE(gacc_kernel, ARR, c->missing, v, TY, SQ, SLOT_GID32, sl, acc); break; \
	case SLOT_GID8: SPECIALISE(gacc_kernel, ARR, c->missing, v, TY, SQ, SLOT_GID8, sl, acc); break; \
	case SLOT_I32: SPECIALISE(gacc_kernel, ARR, c->missing, v, TY, SQ, SLOT_I32, sl, acc); break; \
	default: SPECIALISE(gacc_kernel, ARR, c->missing, v, TY, SQ, SLOT_U8, sl, acc); break; \
	}									\
} while (0)

/* GACC(ARR, TY, SQ) for the number and integer columns with sq, the rest without. */
#define GACC_SQ(GACC, ARR, TY) do {						\
	if (sq)									\
		GACC(ARR, TY, 1);						\
	else									\
		GACC(ARR, TY, 0);						\
} while (0)

/* The first pass over one column: rows, n, sums, and with sq the sums of squares. */
static void
gacc_column(const struct pht_column *c, const struct view *v, const struct slots *sl,
    struct gacc *acc, int sq)
{
	if (v->bits != NULL) {
		switch (c->type) {
		case PHT_COL_NUMBER:
			GACC_SQ(GACC_SRC_BITS, c->v.f64, W_F64);
			break;
		case PHT_COL_INTEGER:
			GACC_SQ(GACC_SRC_BITS, c->v.i64, W_I64);
			break;
		default:
			GACC_SRC_BITS(c->v.u8, W_U8, 0);
			break;
		}
		return;
	}
	switch (c->type) {
	case PHT_COL_NUMBER:
		GACC_SQ(GACC_SRC, c->v.f64, W_F64);
		break;
	case PHT_COL_INTEGER:
		GACC_SQ(GACC_SRC, c->v.i64, W_I64);
		break;
	default:
		GACC_SRC(c->v.u8, W_U8, 0);
		break;
	}
}

/*
 * The second pass of the grouped variance: adds each non-missing cell's
 * squared deviation from its group's mean (compensated) and the deviation
 * itself to the group's accumulator. The slots come from gid (SLOT_GID32)
 * or gid8 (SLOT_GID8), as the first pass left them.
 */
static inline __attribute__((always_inline)) void
gdev_row(const void *arr, const uint8_t *miss, int has_miss, int ty, int src,
    const uint32_t *gid, const uint8_t *gid8, uint32_t ngroups, struct gacc *acc, size_t i,
    size_t r)
{
	uint32_t g;
	struct gacc *a;
	double x;

	if (src == SLOT_GID32) {
		g = gid != NULL ? gid[i] : NO_GROUP;
		g = g == NO_GROUP ? ngroups : g;
	} else
		g = gid8[i];
	a = &acc[g];
	x = ty == W_F64 ? ((const double *)arr)[r] : ty == W_I64 ?
	    (double)((const int64_t *)arr)[r] : (double)((const uint8_t *)arr)[r];
	x -= a->mean;
	if (has_miss)
		x = ((miss[r >> 3] >> (r & 7)) & 1) ? 0.0 : x;
	a->dev += x;
	two_sum(&a->m2, &a->m2c, x * x);
}

static inline __attribute__((always_inline)) void
gdev_kernel(const void *arr, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, int ty, int src, const struct slots *sl,
    struct gacc *acc)
{
	size_t i;

	for (i = 0; i < n; i++)
		gdev_row(arr, miss, has_miss, ty, src, sl->gid, sl->gid8, sl->ngroups, acc, i,
		    has_sel ? sel[i] : i);
}

/* gdev_kernel over the rows of a bitmap selection, ascending. */
static inline __attribute__((always_inline)) void
gdev_bits_kernel(const void *arr, const uint8_t *miss, const uint64_t *bits, size_t nwords,
    int has_miss, int ty, int src, const struct slots *sl, struct gacc *acc)
{
	const uint32_t *gid = sl->gid;
	const uint8_t *gid8 = sl->gid8;
	const uint32_t ngroups = sl->ngroups;
	size_t w, i = 0;
	uint64_t m;

	for (w = 0; w < nwords; w++)
		for (m = bits[w]; m != 0; m &= m - 1, i++)
			gdev_row(arr, miss, has_miss, ty, src, gid, gid8, ngroups, acc, i,
			    w * 64 + (size_t)__builtin_ctzll(m));
}

#define GDEV_SRC(ARR, TY) do {							\
	if (v->bits != NULL && sl->src == SLOT_GID32)				\
		SPECIALISE_BITS(gdev_bits_kernel, ARR, c->missing, v, TY, SLOT_GID32, sl, acc); \
	else if (v->bits != NULL)						\
		SPECIALISE_BITS(gdev_bits_kernel, ARR, c->missing, v, TY, SLOT_GID8, sl, acc); \
	else if (sl->src == SLOT_GID32)						\
		SPECIALISE(gdev_kernel, ARR, c->missing, v, TY, SLOT_GID32, sl, acc); \
	else									\
		SPECIALISE(gdev_kernel, ARR, c->missing, v, TY, SLOT_GID8, sl, acc); \
} while (0)

/* The mean of an accumulator of column c with n > 0 (from the exact or compensated sum). */
static inline double
gacc_mean(const struct pht_column *c, const struct gacc *a)
{
	return c->type == PHT_COL_NUMBER ? (a->s + a->c) / (double)a->n :
	    (double)a->isum / (double)a->n;
}

/*
 * The variance figures of one column over slots 0..nslots-1, after its
 * first pass (gacc_column, whose slots sl now reads back): each slot's
 * mean, then a second pass for the sums of deviations from it, then each
 * slot's m2 = sum of (x - mean)^2 corrected by (sum of (x - mean))^2 / n
 * (the corrected two-pass algorithm; never from the sum of squares).
 */
static void
gacc_var(const struct pht_column *c, const struct view *v, const struct slots *sl,
    struct gacc *acc, size_t nslots)
{
	struct gacc *a;
	size_t j;

	for (j = 0; j < nslots; j++) {
		a = &acc[j];
		a->mean = a->n == 0 ? 0.0 : gacc_mean(c, a);
	}
	switch (c->type) {
	case PHT_COL_NUMBER:
		GDEV_SRC(c->v.f64, W_F64);
		break;
	case PHT_COL_INTEGER:
		GDEV_SRC(c->v.i64, W_I64);
		break;
	default:
		GDEV_SRC(c->v.u8, W_U8);
		break;
	}
	for (j = 0; j < nslots; j++) {
		a = &acc[j];
		a->m2 += a->m2c;
		a->m2c = 0;
		if (a->n > 0)
			a->m2 -= a->dev * a->dev / (double)a->n;
		a->m2 = a->m2 > 0 ? a->m2 : 0.0;
	}
}

/*
 * A derived number column's figures per slot from its polynomial
 * (poly_moments), in place of those gacc_column and gacc_var took from its
 * rounded values; nothing for other columns.
 */
static void
gacc_poly(lua_State *L, const struct pht_column *c, const struct pht_train_lineage *lin,
    const struct view *v, const uint32_t *gid, const uint8_t *gid8, struct gacc *acc,
    size_t nslots)
{
	size_t *n, j;
	double *sum, *m2;

	if (lin == NULL || lin->poly == NULL)
		return;
	n = train_data_scratch(L, nslots, sizeof(size_t));
	sum = train_data_scratch(L, 2 * nslots, sizeof(double));
	m2 = sum + nslots;
	train_data_poly_moments(L, v, c, lin, gid, gid8, nslots, n, sum, m2);
	for (j = 0; j < nslots; j++) {
		acc[j].n = n[j];
		acc[j].s = sum[j];
		acc[j].c = 0;
		acc[j].mean = n[j] > 0 ? sum[j] / (double)n[j] : 0;
		acc[j].m2 = m2[j];
		acc[j].ss = n[j] > 0 ? m2[j] + sum[j] * acc[j].mean : 0;
		acc[j].sc = 0;
	}
	lua_pop(L, 2);
}

/*
 * Fills slot nslots of one column's accumulators with the total of slots
 * 0..nslots-1: counts and exact integer sums combine exactly;
 * the compensated sums are summed again with compensation (each slot's
 * sum and its error term); the squared deviations combine exactly as
 * Chan, Golub and LeVeque's pairwise update: the slots' m2 plus
 * n_j (mean_j - mean)^2 each (after gacc_var; only with second).
 */
static void
gacc_total(const struct pht_column *c, struct gacc *acc, size_t nslots, int second)
{
	struct gacc *t = &acc[nslots];
	double d;
	size_t j;

	for (j = 0; j < nslots; j++) {
		t->rows += acc[j].rows;
		t->n += acc[j].n;
		two_sum(&t->s, &t->c, acc[j].s);
		t->c += acc[j].c;
		two_sum(&t->ss, &t->sc, acc[j].ss);
		t->sc += acc[j].sc;
		t->isum += acc[j].isum;
	}
	if (t->n == 0 || !second)
		return;
	t->mean = gacc_mean(c, t);
	for (j = 0; j < nslots; j++) {
		if (acc[j].n == 0)
			continue;
		d = acc[j].mean - t->mean;
		two_sum(&t->m2, &t->m2c, acc[j].m2);
		two_sum(&t->m2, &t->m2c, (double)acc[j].n * d * d);
	}
	t->m2 += t->m2c;
	t->m2c = 0;
}

/* Pushes an exact integer sum: an integer if it fits, else the nearest float. */
static void
push_i128(lua_State *L, i128 x)
{
	if (x >= INT64_MIN && x <= INT64_MAX)
		lua_pushinteger(L, (lua_Integer)x);
	else
		lua_pushnumber(L, (double)x);
}

/* Sets var and sd of a stats table from the squared deviations (n >= 2 only). */
static void
push_var(lua_State *L, const struct gacc *a)
{
	double var;

	if (a->n < 2)
		return;
	var = a->m2 / (double)(a->n - 1);
	lua_pushnumber(L, var);
	lua_setfield(L, -2, "var");
	lua_pushnumber(L, sqrt(var));
	lua_setfield(L, -2, "sd");
}

/*
 * 1 when a column's figures over n non-missing values in a scope of rows
 * rows (a group, the view) are withheld: 0 < n < k (no figure of fewer
 * than k values), or 0 < rows - n < k (the scope's n is released, so its
 * rows minus the figures' would show the few rows missing the column).
 */
static inline int
figure_small(size_t rows, size_t n, int64_t k)
{
	return is_small(n, k) || is_small(rows - n, k);
}

/* The number of 1s among a's values of a 0/1 column c (its exact sum). */
static size_t
gacc_ones(const struct pht_column *c, const struct gacc *a)
{
	double x = a->s + a->c;

	if (c->type == PHT_COL_NUMBER)
		return x > 0 ? (size_t)llround(x) : 0;
	return a->isum > 0 ? (size_t)a->isum : 0;
}

/* Whether lin makes c's figures counts of a two-way table: a 0/1 column or a boolean. */
static inline int
binary_cells(const struct pht_column *c, const struct pht_train_lineage *lin)
{
	return lin != NULL && lin->ncells == 2 && lin->bcell != NULL &&
	    (lin->own || c->type == PHT_COL_BOOLEAN);
}

/*
 * Whether c's figures over a (rows rows) are withheld: figure_small(), or,
 * for a 0/1 column (binary_cells), its sum is the count of a cell of the
 * table rows x value, and the 1s or the 0s number 1 to k - 1 (the table
 * rule of crosstab; docs/security.md, Disclosure, limit (g)).
 */
static int
figure_withheld(const struct pht_column *c, const struct pht_train_lineage *lin,
    const struct gacc *a, size_t rows, int64_t k)
{
	size_t ones;

	if (figure_small(rows, a->n, k))
		return 1;
	if (!binary_cells(c, lin))
		return 0;
	ones = gacc_ones(c, a);
	return is_small(ones, k) || is_small(a->n - ones, k);
}

/*
 * Pushes {n, sum, sumsq, mean, var, sd} of column c over one group (mean
 * when n >= 1, var and sd when n >= 2), or {suppressed = true} when
 * suppressed is set. Without sumsq, var and sd when want2 is 0 (the
 * train asked for none: they were not computed) or c has lineage lin of
 * degree 2 (their degree would be 4).
 */
static void
push_gacc(lua_State *L, const struct pht_column *c, const struct pht_train_lineage *lin,
    const struct gacc *a, int suppressed, int want2)
{
	int second = want2 && (lin == NULL || lin->degree <= 1);

	lua_createtable(L, 0, 8);
	if (suppressed) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "suppressed");
		return;
	}
	lua_pushinteger(L, (lua_Integer)a->n);
	lua_setfield(L, -2, "n");
	switch (c->type) {
	case PHT_COL_NUMBER:
		lua_pushnumber(L, a->s + a->c);
		lua_setfield(L, -2, "sum");
		if (second) {
			lua_pushnumber(L, a->ss + a->sc);
			lua_setfield(L, -2, "sumsq");
		}
		if (a->n > 0) {
			lua_pushnumber(L, (a->s + a->c) / (double)a->n);
			lua_setfield(L, -2, "mean");
		}
		if (second)
			push_var(L, a);
		return;
	case PHT_COL_INTEGER:
		push_i128(L, a->isum);
		lua_setfield(L, -2, "sum");
		if (want2) {
			lua_pushnumber(L, a->ss + a->sc);
			lua_setfield(L, -2, "sumsq");
		}
		break;
	default:
		push_i128(L, a->isum);
		lua_setfield(L, -2, "sum");
		if (want2) {
			lua_pushnumber(L, (double)a->isum);
			lua_setfield(L, -2, "sumsq");
		}
		break;
	}
	if (a->n == 0)
		return;
	lua_pushnumber(L, (double)a->isum / (double)a->n);
	lua_setfield(L, -2, "mean");
	if (second)
		push_var(L, a);
}

/*
 * The columns named in the sequence at stack index idx (numeric, at most
 * AGG_COLS_MAX), recorded as read; leaves one scratch block on the stack.
 */
static const struct pht_column **
agg_columns(lua_State *L, const struct view *v, int idx, const char *what, size_t *ncols,
    const struct pht_train_lineage ***lins)
{
	const struct pht_column **cols;
	const struct pht_train_lineage **lin;
	enum pht_coltype t;
	size_t j, n;

	n = (size_t)lua_rawlen(L, idx);
	if (n > AGG_COLS_MAX)
		luaL_error(L, "%s: more than %d columns", what, AGG_COLS_MAX);
	cols = train_data_scratch(L, 2 * n, sizeof(void *));
	lin = (const struct pht_train_lineage **)(void *)(cols + n);
	for (j = 0; j < n; j++) {
		if (lua_rawgeti(L, idx, (lua_Integer)j + 1) != LUA_TSTRING)
			luaL_error(L, "%s: columns[%d] is a %s, not a column name", what,
			    (int)j + 1, luaL_typename(L, -1));
		cols[j] = train_data_find_col_lin(L, v, -1, &lin[j]);
		lua_pop(L, 1);
		t = cols[j]->type;
		if (t != PHT_COL_NUMBER && t != PHT_COL_INTEGER && t != PHT_COL_BOOLEAN)
			luaL_error(L, "%s: column %s is a %s column, not numeric", what,
			    cols[j]->name, pht_coltype_name(t));
		train_data_check_aggregatable(L, what, cols[j], lin[j], 0);
	}
	*ncols = n;
	*lins = lin;
	return cols;
}

/*
 * Guards and records, per column, the rows behind its figures over the
 * whole view (slot `slot` of its accumulators, width apart): skipped when
 * they are suppressed (figure_small()).
 */
static void
note_total_values(lua_State *L, struct view *v, const struct pht_column **cols,
    const struct pht_train_lineage **lins, size_t ncols, const struct gacc *acc,
    size_t width, size_t slot)
{
	int64_t k = pht_train_ctx_of(L)->k;
	size_t j;

	for (j = 0; j < ncols; j++)
		if (!figure_withheld(cols[j], lins[j], &acc[j * width + slot], v->n, k))
			train_data_note_values(L, v, cols[j], lins[j], 1, NULL, NULL, 0, NULL);
}

static void
gacc_init(struct gacc *acc, size_t n)
{
	struct gacc init;
	size_t i;

	memset(&init, 0, sizeof(init));
	for (i = 0; i < n; i++)
		acc[i] = init;
}

/* Pushes {n = rows, stats = {col = figures, ...}} from slot `slot` of each column. */
static void
push_agg_record(lua_State *L, const struct pht_column **cols,
    const struct pht_train_lineage **lins, size_t ncols, const struct gacc *acc,
    size_t width, size_t slot, size_t rows, int64_t k, int second)
{
	size_t i;

	lua_createtable(L, 0, 2);
	lua_pushinteger(L, (lua_Integer)rows);
	lua_setfield(L, -2, "n");
	lua_createtable(L, 0, (int)ncols);
	for (i = 0; i < ncols; i++) {
		push_gacc(L, cols[i], lins[i], &acc[i * width + slot],
		    figure_withheld(cols[i], lins[i], &acc[i * width + slot], rows, k), second);
		lua_setfield(L, -2, cols[i]->name);
	}
	lua_setfield(L, -2, "stats");
}

/*
 * Complementary suppression of one column's figures over the groups
 * (acc[j], fn[j] its values in group j; sup[j] set when withheld): over
 * the values (the column's total less the released figures), and for a
 * 0/1 column (binary_cells) over its 1s and over its 0s as well, the two
 * margins of the table groups x value, until no margin shows a withheld
 * part of 1 to k - 1 rows. Each pass only adds to sup, so this ends.
 */
static void
complement_figures(lua_State *L, const struct pht_column *c, const struct pht_train_lineage *lin,
    const struct gacc *acc, const size_t *fn, uint8_t *sup, size_t nslots, int64_t k)
{
	size_t *ones, *zeros, j, before, after;

	pht_train_kernel_complement(fn, sup, nslots, 0, k);
	if (!binary_cells(c, lin))
		return;
	ones = train_data_scratch(L, 2 * nslots, sizeof(size_t));
	zeros = ones + nslots;
	for (j = 0; j < nslots; j++) {
		ones[j] = gacc_ones(c, &acc[j]);
		zeros[j] = fn[j] - ones[j];
	}
	do {
		before = after = 0;
		for (j = 0; j < nslots; j++)
			before += sup[j];
		pht_train_kernel_complement(ones, sup, nslots, 0, k);
		pht_train_kernel_complement(zeros, sup, nslots, 0, k);
		pht_train_kernel_complement(fn, sup, nslots, 0, k);
		for (j = 0; j < nslots; j++)
			after += sup[j];
	} while (after != before);
	lua_pop(L, 1);
}

/*
 * The options table at idx (absent or nil: the defaults): `second`, a
 * boolean, 1 by default; 0 asks for no second moments (sumsq, var, sd),
 * so that the pass for the variance is not made. Any other key is an
 * error (a misspelt option would otherwise be ignored).
 */
static int
agg_options(lua_State *L, int idx, const char *what)
{
	int second = 1;

	if (lua_isnoneornil(L, idx))
		return 1;
	if (lua_type(L, idx) != LUA_TTABLE)
		return luaL_error(L, "%s: options is a %s, not a table", what, luaL_typename(L, idx));
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "second") != 0)
			return luaL_error(L, "%s: unknown option %s%s", what,
			    lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "of type ",
			    lua_type(L, -2) == LUA_TSTRING ? "" : luaL_typename(L, -2));
		if (lua_type(L, -1) != LUA_TBOOLEAN)
			return luaL_error(L, "%s: option second is a %s, not a boolean", what,
			    luaL_typename(L, -1));
		second = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	return second;
}

int
train_data_view_aggregate(lua_State *L)
{
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	struct view *v = train_data_check_view(L);
	const struct pht_column **cols;
	const struct pht_train_lineage **lins;
	struct gacc *acc;
	struct slots sl;
	size_t ncols, j;
	int second;

	luaL_checktype(L, 2, LUA_TTABLE);
	second = agg_options(L, 3, "aggregate");
	lua_settop(L, 2);
	cols = agg_columns(L, v, 2, "aggregate", &ncols, &lins);        /* 3 */
	train_data_guard_rows(L, v->n);
	train_data_mark_rows(L, v);
	train_data_note_rows(L, v);
	/* slot 0: every row; slot 1: the total (the same figures) */
	acc = train_data_scratch(L, 2 * ncols, sizeof(*acc));                     /* 4 */
	gacc_init(acc, 2 * ncols);
	memset(&sl, 0, sizeof(sl));
	sl.src = SLOT_GID32;    /* gid NULL: every row in slot 0 */
	for (j = 0; j < ncols; j++) {
		gacc_column(cols[j], v, &sl, acc + j * 2, second);
		if (second)
			gacc_var(cols[j], v, &sl, acc + j * 2, 1);
		gacc_poly(L, cols[j], lins[j], v, NULL, NULL, acc + j * 2, 1);
		gacc_total(cols[j], acc + j * 2, 1, second);
	}
	note_total_values(L, v, cols, lins, ncols, acc, 2, 1);
	push_agg_record(L, cols, lins, ncols, acc, 2, 1, v->n, ctx->k, second);
	return 1;
}

int
train_data_view_aggregate_by(lua_State *L)
{
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	struct view *v = train_data_check_view_lazy(L);
	const struct pht_column *gc = train_data_find_col(L, v, 2), **cols;
	const struct pht_train_lineage **lins;
	struct grouping g;
	struct slots sl;
	struct gacc *acc;
	size_t ncols, nslots, width, i, j, *counts, *fn, nfolded = 0;
	lua_Integer idx = 0;
	int *released, *want, second;
	uint8_t *sup, *figsup;

	luaL_checktype(L, 3, LUA_TTABLE);
	second = agg_options(L, 4, "aggregate_by");
	lua_settop(L, 3);
	cols = agg_columns(L, v, 3, "aggregate_by", &ncols, &lins);    /* 4 */
	/*
	 * A bitmap selection is read as such when the slots come from the
	 * key's codes and no column has missing cells or a polynomial (whose
	 * row-by-row paths take sel); else it is materialized first.
	 */
	for (j = 0; j < ncols && v->bits != NULL; j++)
		if (cols[j]->missing != NULL || lins[j] != NULL)
			break;
	if (v->bits != NULL && (j < ncols || ncols == 0 ||
	    (gc->type != PHT_COL_CATEGORY && gc->type != PHT_COL_BOOLEAN) ||
	    (gc->type == PHT_COL_CATEGORY && gc->nlevels >= UINT8_MAX))) {
		train_data_materialize(L, 1, v);
	}
	train_data_guard_rows(L, v->n);
	train_data_mark_rows(L, v);
	train_data_note_rows(L, v);
	memset(&sl, 0, sizeof(sl));
	if ((gc->type == PHT_COL_CATEGORY || gc->type == PHT_COL_BOOLEAN) && ncols > 0 &&
	    (gc->type == PHT_COL_BOOLEAN || gc->nlevels < UINT8_MAX)) {
		/* slots straight from the key's codes in the first column's pass, one byte each */
		memset(&g, 0, sizeof(g));
		g.col = gc;
		g.ngroups = gc->type == PHT_COL_BOOLEAN ? 2 : gc->nlevels;
		sl.src = gc->type == PHT_COL_BOOLEAN ? SLOT_U8 : SLOT_I32;
		sl.codes = gc->type == PHT_COL_BOOLEAN ? (const void *)gc->v.u8 :
		    (const void *)gc->v.i32;
		sl.kmiss = gc->missing;
		sl.gid8 = train_data_scratch(L, v->n, 1);                          /* 5 */
		lua_pushnil(L);                                         /* 6 */
	} else {
		train_data_group_rows(L, v, gc, "aggregate_by", &g);              /* 5, 6 */
		sl.src = SLOT_GID32;
		sl.gid = g.gid;
	}
	sl.ngroups = (uint32_t)(g.ngroups <= GROUPS_MAX ? g.ngroups : 0);
	if (g.ngroups > GROUPS_MAX)
		return luaL_error(L, "aggregate_by: column %s has more than %d distinct values",
		    gc->name, GROUPS_MAX);
	/* Slot ngroups: rows missing the key; slot nslots: the total. */
	nslots = g.ngroups + 1;
	width = nslots + 1;
	if (ncols > 0 && width > GROUPS_MAX / ncols)
		return luaL_error(L, "aggregate_by: more than %d group and column cells",
		    GROUPS_MAX);
	counts = train_data_scratch(L, nslots, sizeof(size_t));                   /* 7 */
	released = train_data_scratch(L, nslots, sizeof(int));                    /* 8 */
	acc = train_data_scratch(L, width * ncols, sizeof(*acc));                 /* 9 */
	gacc_init(acc, width * ncols);
	for (j = 0; j < ncols; j++) {
		gacc_column(cols[j], v, &sl, acc + j * width, second);
		if (sl.src == SLOT_I32 || sl.src == SLOT_U8)
			sl.src = SLOT_GID8;     /* the slots are written: read them back */
		if (second)
			gacc_var(cols[j], v, &sl, acc + j * width, nslots);
		gacc_poly(L, cols[j], lins[j], v, sl.src == SLOT_GID8 ? NULL : g.gid,
		    sl.src == SLOT_GID8 ? sl.gid8 : NULL, acc + j * width, nslots);
		gacc_total(cols[j], acc + j * width, nslots, second);
	}
	memset(counts, 0, nslots * sizeof(size_t));
	if (ncols > 0)
		for (j = 0; j < nslots; j++)
			counts[j] = acc[j].rows;
	else
		for (i = 0; i < v->n; i++)
			counts[g.gid[i] == NO_GROUP ? g.ngroups : g.gid[i]]++;
	sup = train_data_scratch(L, nslots, 1);                                   /* 10 */
	train_data_suppress_groups(&g, counts, ctx->k, sup, released);
	train_data_note_groups(L, v, &g, sl.src == SLOT_GID8 ? sl.gid8 : NULL, counts, released);
	/*
	 * Per column, its figures per group: withheld in a suppressed group,
	 * under figure_small(), and then complemented as the groups are (the
	 * column's total minus its released figures is the union of the
	 * withheld ones); the rows behind each released figure recorded (want).
	 */
	want = train_data_scratch(L, nslots, sizeof(int));                        /* 11 */
	figsup = train_data_scratch(L, ncols * nslots, 1);                        /* 12 */
	fn = train_data_scratch(L, nslots, sizeof(size_t));                       /* 13 */
	for (i = 0; i < ncols; i++) {
		for (j = 0; j < nslots; j++) {
			fn[j] = acc[i * width + j].n;
			figsup[i * nslots + j] = (uint8_t)(!released[j] ||
			    figure_withheld(cols[i], lins[i], &acc[i * width + j], counts[j],
			    ctx->k));
		}
		complement_figures(L, cols[i], lins[i], acc + i * width, fn,
		    figsup + i * nslots, nslots, ctx->k);
		for (j = 0; j < nslots; j++)
			want[j] = released[j] && !figsup[i * nslots + j];
		train_data_note_values(L, v, cols[i], lins[i], 1, sl.src == SLOT_GID8 ? NULL : g.gid,
		    sl.src == SLOT_GID8 ? sl.gid8 : NULL, (uint32_t)g.ngroups, want);
	}
	note_total_values(L, v, cols, lins, ncols, acc, width, nslots);
	lua_createtable(L, (int)nslots, 0);
	for (j = 0; j < nslots; j++) {
		if (j < g.ngroups && folds_small_keys(&g) && is_small(counts[j], ctx->k)) {
			nfolded++;
			continue;
		}
		if (j == g.ngroups && nfolded > 0) {
			train_data_push_folded(L);
			lua_rawseti(L, -2, ++idx);
		}
		if (j == g.ngroups && counts[j] == 0)
			break;
		lua_createtable(L, 0, 3);
		if (j == g.ngroups) {
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, "missing");
		} else {
			train_data_push_group_key(L, &g, j);
			lua_setfield(L, -2, "key");
		}
		if (sup[j]) {
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, "suppressed");
		} else {
			lua_pushinteger(L, (lua_Integer)counts[j]);
			lua_setfield(L, -2, "n");
			lua_createtable(L, 0, (int)ncols);
			for (i = 0; i < ncols; i++) {
				push_gacc(L, cols[i], lins[i], &acc[i * width + j],
				    figsup[i * nslots + j], second);
				lua_setfield(L, -2, cols[i]->name);
			}
			lua_setfield(L, -2, "stats");
		}
		lua_rawseti(L, -2, ++idx);
	}
	/* the total over the whole view: {n, stats} */
	push_agg_record(L, cols, lins, ncols, acc, width, nslots, v->n, ctx->k, second);
	return 2;
}
