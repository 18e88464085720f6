/* pht_train_stat.c — distribution kernels of the data API: histograms on the station's grid and quantiles as means of blocks of at least k values. */
#include "pht_train_stat.h"
#include "pht_train_data.h"
#include "pht_train_kernel.h"
#include "pht_train_lua.h"

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Most bins a histogram takes (edges - 1). */
#define STAT_MAX_BINS 1000

double
pht_train_stat_snap(double x, double step, int digits)
{
	double mag, p;

	if (step > 0)
		return nearbyint(x / step) * step;
	if (x == 0 || !isfinite(x))
		return x;
	mag = floor(log10(fabs(x)));
	/* divide by an exact power of ten so that 0.35 comes out as the double nearest 0.35 */
	if (mag - digits + 1 >= 0) {
		p = pow(10, mag - digits + 1);
		return nearbyint(x / p) * p;
	}
	p = pow(10, digits - 1 - mag);
	return nearbyint(x * p) / p;
}

static const struct pht_column *
numeric_column(lua_State *L, const char *fn, int name_idx)
{
	const struct pht_column *c;

	luaL_checktype(L, name_idx, LUA_TSTRING);
	c = pht_train_data_column_arg(L, 1, name_idx);
	if (c->type != PHT_COL_NUMBER && c->type != PHT_COL_INTEGER)
		luaL_error(L, "%s: column '%s' is a %s column; it must be number or integer", fn,
		    c->name, pht_coltype_name(c->type));
	return c;
}

/*
 * The edges at idx (a sequence of 2 to STAT_MAX_BINS + 1 finite numbers,
 * strictly increasing) snapped to the station's grid for c, equal
 * neighbours merged; pushes nothing, returns the count (>= 2) in *ne.
 * Raises when fewer than two distinct edges are left.
 */
static double *
snapped_edges(lua_State *L, const char *fn, const struct pht_column *c, int idx, size_t *ne)
{
	double step = pht_train_kernel_grid_step(L, c), *e, v, prev = 0;
	int digits = pht_train_kernel_grid_digits(L);
	size_t i, m, n = 0;

	luaL_checktype(L, idx, LUA_TTABLE);
	m = (size_t)lua_rawlen(L, idx);
	if (m < 2 || m > STAT_MAX_BINS + 1)
		luaL_error(L, "%s: edges: a sequence of 2 to %d numbers is required", fn,
		    STAT_MAX_BINS + 1);
	e = pht_train_kernel_scratch(L, fn, m, sizeof(double));
	for (i = 0; i < m; i++) {
		if (lua_rawgeti(L, idx, (lua_Integer)i + 1) != LUA_TNUMBER)
			luaL_error(L, "%s: edges[%d]: a number is required, not a %s", fn, (int)i + 1,
			    luaL_typename(L, -1));
		v = (double)lua_tonumber(L, -1);
		lua_pop(L, 1);
		if (!isfinite(v) || (i > 0 && !(v > prev)))
			luaL_error(L, "%s: edges: finite numbers in strictly increasing order are "
			    "required", fn);
		prev = v;
		v = pht_train_stat_snap(v, step, digits);
		if (n == 0 || v > e[n - 1])
			e[n++] = v;
	}
	if (n < 2)
		luaL_error(L, "%s: edges: fewer than two distinct edges are left after snapping "
		    "to the station's grid for column '%s'", fn, c->name);
	*ne = n;
	return e;
}

/*
 * data:snap(name, edges) -> the edges as data:histogram would use them
 * (snapped to the station's grid for the column, equal ones merged).
 * Reads no row.
 */
static int
stat_snap(lua_State *L)
{
	const struct pht_column *c;
	double *e;
	size_t i, n;

	pht_train_data_view_rows(L, 1, &(struct pht_train_view_rows){0});
	c = numeric_column(L, "snap", 2);
	e = snapped_edges(L, "snap", c, 3, &n);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_pushnumber(L, e[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* The cell of v: 0 below (v <= e[0]), b in 1..n-1 for e[b-1] < v <= e[b], n above (v > e[n-1]). */
static size_t
cell_of(const double *e, size_t n, double v)
{
	size_t lo = 0, hi = n, mid;

	/* the first edge >= v */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (e[mid] >= v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void
push_cell(lua_State *L, size_t count, int suppressed, const char *cname,
    const char *sname)
{
	if (!suppressed) {
		lua_pushinteger(L, (lua_Integer)count);
		lua_setfield(L, -2, cname);
	}
	lua_pushboolean(L, suppressed);
	lua_setfield(L, -2, sname);
}

/*
 * data:histogram(name, edges)
 * -> {column, edges = {snapped}, bins = {{from, to, count | suppressed}, ...},
 *     below, below_suppressed, above, above_suppressed}
 */
static int
stat_histogram(lua_State *L)
{
	static const char *fn = "histogram";
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	const struct pht_column *c;
	struct pht_train_view_rows vr;
	double *e;
	size_t ne, ncells, i, r, nval = 0, *count, *off, *pos, nsupp = 0, best;
	uint32_t *rows;
	uint8_t *supp;
	int64_t k = ctx->k;

	c = numeric_column(L, fn, 2);
	lua_settop(L, 3);
	luaL_checkstack(L, 16, fn);
	e = snapped_edges(L, fn, c, 3, &ne);
	ncells = ne + 1;
	pht_train_data_use(L, 1);
	pht_train_data_view_rows(L, 1, &vr);
	count = pht_train_kernel_scratch(L, fn, 3 * ncells, sizeof(size_t));
	off = count + ncells;
	pos = off + ncells;
	memset(count, 0, 3 * ncells * sizeof(size_t));
	supp = pht_train_kernel_scratch(L, fn, ncells, 1);
	memset(supp, 0, ncells);
	for (i = 0; i < vr.n; i++) {
		r = pht_train_view_row(&vr, i);
		if (!pht_column_is_missing(c, r)) {
			count[cell_of(e, ne, pht_train_kernel_num(c, r))]++;
			nval++;
		}
	}
	pht_train_data_guard_values(L, nval, c);
	/* primary suppression, then complementary: never exactly one suppressed cell */
	for (i = 0; i < ncells; i++)
		if (count[i] > 0 && (int64_t)count[i] < k) {
			supp[i] = 1;
			nsupp++;
		}
	if (nsupp == 1) {
		best = ncells;
		for (i = 0; i < ncells; i++)
			if (!supp[i] && count[i] > 0 && (best == ncells || count[i] < count[best]))
				best = i;
		if (best < ncells)
			supp[best] = 1;
	}
	/* the rows of each released non-empty cell, recorded as a row set */
	rows = pht_train_kernel_scratch(L, fn, nval, sizeof(uint32_t));
	for (i = 0, r = 0; i < ncells; i++) {
		off[i] = r;
		pos[i] = r;
		r += count[i];
	}
	for (i = 0; i < vr.n; i++) {
		r = pht_train_view_row(&vr, i);
		if (!pht_column_is_missing(c, r))
			rows[pos[cell_of(e, ne, pht_train_kernel_num(c, r))]++] = (uint32_t)r;
	}
	for (i = 0; i < ncells; i++)
		if (!supp[i])
			pht_train_kernel_note_rows(L, rows + off[i], count[i]);

	lua_createtable(L, 0, 7);
	lua_pushstring(L, c->name);
	lua_setfield(L, -2, "column");
	lua_createtable(L, (int)ne, 0);
	for (i = 0; i < ne; i++) {
		lua_pushnumber(L, e[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "edges");
	lua_createtable(L, (int)ne - 1, 0);
	for (i = 1; i < ne; i++) {
		lua_createtable(L, 0, 4);
		lua_pushnumber(L, e[i - 1]);
		lua_setfield(L, -2, "from");
		lua_pushnumber(L, e[i]);
		lua_setfield(L, -2, "to");
		push_cell(L, count[i], supp[i], "count", "suppressed");
		lua_rawseti(L, -2, (lua_Integer)i);
	}
	lua_setfield(L, -2, "bins");
	push_cell(L, count[0], supp[0], "below", "below_suppressed");
	push_cell(L, count[ne], supp[ne], "above", "above_suppressed");
	return 1;
}

/* A value and its row, ordered by value then row. */
struct qval {
	double v;
	uint32_t row;
};

static int
qval_cmp(const void *pa, const void *pb)
{
	const struct qval *a = pa, *b = pb;

	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

/*
 * data:quantile(name, p [, min_cell]) -> mean, count: the mean of the
 * block of sorted non-missing values holding the p-quantile's rank
 * (h = (n - 1) p, R's type 7), blocks of m = max(k, 2, min_cell) values
 * from the smallest on, the last block taking the remainder; count is the
 * block's size. nil, 0 when the view has fewer than m values.
 */
static int
stat_quantile(lua_State *L)
{
	static const char *fn = "quantile";
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	const struct pht_column *c;
	struct pht_train_view_rows vr;
	struct qval *q;
	uint32_t *rows;
	double p, min_cell, sum = 0;
	size_t i, r, n = 0, nblocks, b, a, z;
	int64_t m = ctx->k > 2 ? ctx->k : 2;

	c = numeric_column(L, fn, 2);
	p = luaL_checknumber(L, 3);
	if (!(p >= 0 && p <= 1))
		luaL_error(L, "%s: p: a probability in [0, 1] is required", fn);
	min_cell = luaL_optnumber(L, 4, 1);
	if (!(min_cell >= 1) || !isfinite(min_cell))
		luaL_error(L, "%s: min_cell: a finite number >= 1 is required", fn);
	if (min_cell > (double)m)
		m = min_cell < 1e15 ? (int64_t)ceil(min_cell) : (int64_t)1e15;
	lua_settop(L, 4);
	pht_train_data_use(L, 1);
	pht_train_data_view_rows(L, 1, &vr);
	q = pht_train_kernel_scratch(L, fn, vr.n, sizeof(*q));
	for (i = 0; i < vr.n; i++) {
		r = pht_train_view_row(&vr, i);
		if (!pht_column_is_missing(c, r)) {
			q[n].v = pht_train_kernel_num(c, r);
			q[n].row = (uint32_t)r;
			n++;
		}
	}
	pht_train_data_guard_values(L, n, c);
	if ((int64_t)n < m) {
		lua_pushnil(L);
		lua_pushinteger(L, 0);
		return 2;
	}
	qsort(q, n, sizeof(*q), qval_cmp);
	nblocks = n / (size_t)m;
	b = (size_t)floor((double)(n - 1) * p + 0.5) / (size_t)m;
	if (b >= nblocks)
		b = nblocks - 1;
	a = b * (size_t)m;
	z = b == nblocks - 1 ? n : a + (size_t)m;
	rows = pht_train_kernel_scratch(L, fn, z - a, sizeof(uint32_t));
	for (i = a; i < z; i++) {
		sum += q[i].v;
		rows[i - a] = q[i].row;
	}
	pht_train_kernel_note_rows(L, rows, z - a);
	lua_pushnumber(L, sum / (double)(z - a));
	lua_pushinteger(L, (lua_Integer)(z - a));
	return 2;
}

void
pht_train_stat_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"histogram", stat_histogram},
		{"quantile", stat_quantile},
		{"snap", stat_snap},
		{NULL, NULL},
	};

	pht_train_data_view_methods_add(L, methods);
}
