/* pht_train_data.c — the data API: views over a dataset through selection vectors, vectorized in C. */
#include "pht_train_data.h"
#include "pht_train_derive.h"
#include "pht_train_kernel.h"
#include "pht_train_lua.h"
#include "pht_train_rowsets.h"
#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_time.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define VIEW_MT "pht.view"
#define COLUMN_MT "pht.column"
#define GROUPS_MAX 1000000
#define IN_MAX 100000
#define NO_GROUP UINT32_MAX      /* a row missing the grouping column */
#define HUGE_SCRATCH ((size_t)4 << 20)  /* scratch blocks offered huge pages */
#define HUGE_ALIGN ((size_t)2 << 20)

/*
 * A view: the dataset plus the rows it selects, in order. When all is set
 * the view is rows 0..n-1 of the dataset and sel is empty; otherwise
 * sel[0..n-1] are row indices. Views never change once made; the
 * selection lives inside the userdata so it counts against the memory cap.
 *
 * A where() on the whole dataset leaves its selection as a bitmap (bits:
 * ceil(nrows / 64) words, row 64 w + b the bit b of word w, its block user
 * value 1; sel NULL): an eighth of a byte per row instead of four, written
 * in one pass. aggregate_by() and the row-set records read the bitmap
 * directly; every other method first turns it into sel (materialize()).
 */
struct view {
	const struct pht_dataset *ds;
	size_t n;
	int all;
	const uint64_t *bits;   /* the selection as a bitmap, sel not made yet */
	int marked;             /* rows already recorded in rows_touched */
	int noted;              /* set already recorded in the run's row sets */
	const struct pht_train_with *with; /* with{} names (user value 2), or NULL */
	uint32_t *sel;          /* own[] or a scratch block kept as user value 1 */
	uint32_t own[];
};

/*
 * A column of a view; the view is kept alive as user value 1. Both are
 * immutable, so the count and sum, once computed, are kept here (have_count,
 * have_sum) and reused by later calls (sum then mean: one pass).
 */
struct colview {
	const struct pht_column *col;
	const struct pht_train_lineage *lin;    /* NULL: a dataset column */
	struct view *v;
	int have_count, have_sum, have_var;
	int noted_values;       /* the rows its values come from are recorded */
	size_t count;           /* non-missing values */
	double sum;             /* compensated sum (number columns, integer overflow) */
	int64_t isum;           /* exact sum (integer and boolean columns) */
	int ioverflow;          /* the exact sum is outside int64: use sum */
	double var;             /* sample variance (count >= 2) */
	double m2;              /* sum of squared deviations (a derived column's polynomial) */
};

/* How a kernel reads a column's array: double, int64 (as such or as double), int32, uint8. */
enum wty { W_F64, W_I64, W_I64D, W_I32, W_U8 };

static inline size_t
vrow(const struct view *v, size_t i)
{
	return v->all ? i : v->sel[i];
}

static inline int
is_missing(const uint8_t *miss, size_t r)
{
	return miss != NULL && ((miss[r >> 3] >> (r & 7)) & 1);
}

static struct view *
new_view(lua_State *L, const struct pht_dataset *ds, size_t n, int all)
{
	struct view *v;

	v = lua_newuserdatauv(L, sizeof(*v) + (all ? 0 : n * sizeof(uint32_t)), 2);
	v->sel = v->own;
	v->bits = NULL;
	v->with = NULL;
	v->ds = ds;
	v->n = n;
	v->all = all;
	v->marked = 0;
	v->noted = 0;
	luaL_setmetatable(L, VIEW_MT);
	return v;
}

/*
 * Scratch memory inside the Lua heap (counted, freed by the collector). A
 * large block (selection vectors, group bytes: written once, streamed) is
 * offered transparent huge pages over its 2 MiB-aligned interior, which
 * cuts the page faults of its first writes about 500-fold where the kernel
 * has them (THP "madvise" mode); the advice is only a hint, its failure is
 * ignored.
 */
static void *
scratch(lua_State *L, size_t n, size_t size)
{
	void *p;
	uintptr_t a, e;

	if (size != 0 && n > SIZE_MAX / size)
		luaL_error(L, "data: request too large");
	p = lua_newuserdatauv(L, n * size > 0 ? n * size : 1, 0);
	if (n * size >= HUGE_SCRATCH) {
		a = ((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1);
		e = ((uintptr_t)p + n * size) & ~(uintptr_t)(HUGE_ALIGN - 1);
		if (e > a)
			(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
	return p;
}

static void
guard_rows(lua_State *L, size_t n)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);

	if (n > 0 && (int64_t)n < c->k)
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE,
		    "subset smaller than k (%zu rows, k = %lld)", n, (long long)c->k);
}

static void
guard_values(lua_State *L, size_t n, const struct pht_column *col)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);

	if (n > 0 && (int64_t)n < c->k)
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE,
		    "subset smaller than k (%zu non-missing values in column %s, k = %lld)",
		    n, col->name, (long long)c->k);
}

static void
mark_rows(lua_State *L, struct view *v)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	size_t i, r;

	if (v->marked || c->rows_touched == NULL || c->ds != v->ds)
		return;
	if (v->all) {
		/* rows 0..n-1: whole bytes, then the bits of the last one */
		memset(c->rows_touched, 0xff, v->n >> 3);
		if ((v->n & 7) != 0)
			c->rows_touched[v->n >> 3] |= (uint8_t)((1u << (v->n & 7)) - 1);
	} else if (v->bits != NULL)
		for (i = 0; i < (pht_dataset_nrows(v->ds) + 7) / 8; i++)
			c->rows_touched[i] |= (uint8_t)(v->bits[i >> 3] >> (8 * (i & 7)));
	else
		for (i = 0; i < v->n; i++) {
			r = v->sel[i];
			c->rows_touched[r >> 3] |= (uint8_t)(1u << (r & 7));
		}
	v->marked = 1;
}

/* Ends the run on a failed row-set record (past the bounds, or out of memory). */
static void
record_result(lua_State *L, int r)
{
	if (r == PHT_ERR_TOO_LARGE)
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "more than %d distinct row sets "
		    "(or %zu MiB of them) behind one output", PHT_TRAIN_ROWSETS_MAX_SETS,
		    PHT_TRAIN_ROWSETS_MAX_BYTES >> 20);
	else if (r != PHT_OK)
		pht_train_lua_fatal(L, PHT_ERR_NOMEM, "out of memory recording row sets");
}

/*
 * Adds the n rows at rows (all: every row of the dataset) to the run's row
 * sets (ctx->rowsets, not NULL); ends the run past the bounds.
 */
static void
record_set(lua_State *L, const uint32_t *rows, size_t n, int all)
{
	record_result(L, pht_train_rowsets_add(pht_train_ctx_of(L)->rowsets, rows, n, all));
}

/*
 * Records the view's rows as a set behind the output (an aggregate, a
 * count, values or per-row access was computed over exactly these rows).
 * The station compares these sets across releases (differencing).
 */
static void
note_rows(lua_State *L, struct view *v)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);

	if (v->noted || c->rowsets == NULL || c->ds != v->ds)
		return;
	if (v->bits != NULL)
		record_result(L, pht_train_rowsets_add_bits(c->rowsets, v->bits));
	else
		record_set(L, v->all ? NULL : v->sel, v->n, v->all);
	v->noted = 1;
}

/*
 * Raises the (catchable) error of a call that would hand the train a
 * row-level value: no such value reaches a train.
 */
static int
no_row_values(lua_State *L, const char *what)
{
	return luaL_error(L, "%s is not available: no row-level value reaches a train "
	    "(docs/train-api.md)", what);
}

/*
 * A column a train may see: any but the identifier, which is not in the
 * train's view at all.
 */
static inline int
visible(const struct pht_column *col)
{
	return col->role != PHT_ROLE_IDENTIFIER;
}

/*
 * The lineage of a dataset column whose values are all 0 or 1 (a boolean,
 * or an integer or number column holding only 0 and 1 where not missing):
 * two cells, its own values, like a boolean a comparison makes. A sum of
 * such a column over a view is the count of a cell of a two-way table
 * (the view's rows with the value 1), so the cell and its complement are
 * guarded (0 or at least k rows) and recorded as row sets like any
 * predicate's cells (docs/security.md, Disclosure, limit (g)); otherwise
 * the sum of readmit over the six stage IV patients would release the
 * count 3 that crosstab(stage, readmit) suppresses. NULL for other
 * columns. Built once per column and state (the test of an integer or
 * number column stops at its first value other than 0 or 1), kept in the
 * registry.
 */
static const struct pht_train_lineage *
binary_lineage(lua_State *L, const struct pht_dataset *ds, const struct pht_column *col)
{
	static const char key = 0;
	struct pht_train_lineage *lin;
	size_t n = pht_dataset_nrows(ds), r;
	uint8_t *cells;
	double x;

	if (col->type != PHT_COL_BOOLEAN && col->type != PHT_COL_INTEGER &&
	    col->type != PHT_COL_NUMBER)
		return NULL;
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &key);
	}
	if (lua_rawgetp(L, -1, col) != LUA_TNIL) {
		lin = lua_touserdata(L, -1);    /* NULL for false: not 0/1 */
		lua_pop(L, 2);
		return lin;
	}
	lua_pop(L, 1);
	if (col->type != PHT_COL_BOOLEAN)
		for (r = 0; r < n; r++) {
			if (is_missing(col->missing, r))
				continue;
			x = col->type == PHT_COL_INTEGER ? (double)col->v.i64[r] : col->v.f64[r];
			if (x != 0 && x != 1) {
				lua_pushboolean(L, 0);
				lua_rawsetp(L, -2, col);
				lua_pop(L, 1);
				return NULL;
			}
		}
	lin = lua_newuserdatauv(L, sizeof(*lin) + (col->type == PHT_COL_BOOLEAN ? 0 : n), 0);
	memset(lin, 0, sizeof(*lin));
	lin->aggregatable = 1;
	lin->degree = 0;
	lin->ncells = 2;
	lin->own = 1;
	if (col->type == PHT_COL_BOOLEAN)
		lin->bcell = col->v.u8;
	else {
		cells = (uint8_t *)(lin + 1);
		for (r = 0; r < n; r++)
			cells[r] = !is_missing(col->missing, r) &&
			    (col->type == PHT_COL_INTEGER ? col->v.i64[r] == 1 : col->v.f64[r] == 1);
		lin->bcell = cells;
	}
	lua_rawsetp(L, -2, col);
	lua_pop(L, 1);
	return lin;
}

/* The column named by argument arg and its lineage (lin may be NULL); recorded as read. */
static const struct pht_column *
find_col_lin(lua_State *L, const struct view *v, int arg, const struct pht_train_lineage **lin)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	const char *name = luaL_checkstring(L, arg);
	int i = pht_dataset_find_index(v->ds, name);
	const struct pht_column *d;

	if (lin != NULL)
		*lin = NULL;
	if (i < 0 && (d = pht_train_derive_find(v->with, name, lin)) != NULL)
		return d;       /* a with{} name (its sources were recorded as read) */
	if (i < 0 || !visible(pht_dataset_column(v->ds, (size_t)i)))
		luaL_error(L, "no column '%s' in dataset %s", name, pht_dataset_name(v->ds));
	if (c->cols_touched != NULL && c->ds == v->ds)
		c->cols_touched[i] = 1;
	d = pht_dataset_column(v->ds, (size_t)i);
	if (lin != NULL)
		*lin = binary_lineage(L, v->ds, d);
	return d;
}

static const struct pht_column *
find_col(lua_State *L, const struct view *v, int arg)
{
	return find_col_lin(L, v, arg, NULL);
}

/* ---- what may be aggregated (docs/train-api.md, "Derived columns") ---- */

/*
 * Raises (catchable: the rule depends on the expression only, never on
 * the data) when `what` may not be computed from col: a shape-only column
 * is never summed, averaged or given to a kernel; second moments (sumsq,
 * var, sd: squares of the values) need degree 1 at most, so that no
 * release is a sum of degree above 2 in the data's values.
 */
static void
check_aggregatable(lua_State *L, const char *what, const struct pht_column *col,
    const struct pht_train_lineage *lin, int second)
{
	if (lin == NULL)
		return;
	if (!lin->aggregatable)
		luaL_error(L, "%s: column %s is shape-only (made by %s): it may be counted, "
		    "but not compared with a constant, summed, averaged or given to a kernel "
		    "(docs/train-api.md, \"Derived columns\")", what, col->name, lin->why);
	if (second && lin->degree > 1)
		luaL_error(L, "%s: column %s has degree %d in the data's values: its squares "
		    "would have degree %d, and no release goes above 2 (docs/train-api.md, "
		    "\"Derived columns\")", what, col->name, lin->degree, 2 * lin->degree);
}

/* One row behind a release, and the part (cell, group) it is in. */
struct part {
	uint64_t key;
	uint32_t row;
};

static int
cmp_part(const void *a, const void *b)
{
	const struct part *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/*
 * The parts behind a release: e[0..m-1], one per row a result is computed
 * from, keyed by its part (< nparts: a cell of col's lineage, times the
 * group for aggregate_by). Sorts them by part; ends the run when a part has 0 < rows < k
 * (with cells set, a cell of fewer than k rows is as small a subset as a
 * view of that many rows; cells 2: the cells are a dataset 0/1 column's
 * values, 1: a derived column's predicates); records each part's rows as a row set. Leaves
 * the stack as it was.
 */
static void
note_parts(lua_State *L, const struct view *v, const struct pht_column *col, struct part *e,
    size_t m, uint64_t nparts, int cells)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	struct part *sorted;
	uint32_t *rows;
	size_t i, j, len, *off;

	if (nparts <= 4 * (uint64_t)m + 64) {
		/* a counting sort: linear, and rows keep their order within a part */
		off = scratch(L, (size_t)nparts + 1, sizeof(size_t));
		sorted = scratch(L, m, sizeof(*sorted));
		memset(off, 0, ((size_t)nparts + 1) * sizeof(size_t));
		for (i = 0; i < m; i++)
			off[e[i].key + 1]++;
		for (i = 0; i < nparts; i++)
			off[i + 1] += off[i];
		for (i = 0; i < m; i++)
			sorted[off[e[i].key]++] = e[i];
		memcpy(e, sorted, m * sizeof(*e));
		lua_pop(L, 2);
	} else
		qsort(e, m, sizeof(*e), cmp_part);
	for (i = 0; i < m; i = j) {
		for (j = i + 1; j < m && e[j].key == e[i].key; j++)
			;
		len = j - i;
		if ((int64_t)len < c->k) {
			if (cells == 2)
				pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "subset smaller than k "
				    "(%zu rows with one value of the 0/1 column %s, k = %lld)", len,
				    col->name, (long long)c->k);
			if (cells)
				pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "subset smaller than k "
				    "(%zu rows in one cell of the predicates column %s is built "
				    "from, k = %lld)", len, col->name, (long long)c->k);
			guard_values(L, len, col);
		}
	}
	if (c->rowsets == NULL || c->ds != v->ds)
		return;
	rows = scratch(L, m, sizeof(uint32_t));
	for (i = 0; i < m; i++)
		rows[i] = e[i].row;
	for (i = 0; i < m; i = j) {
		for (j = i + 1; j < m && e[j].key == e[i].key; j++)
			;
		record_set(L, rows + i, j - i, 0);
	}
	lua_pop(L, 1);
}

/*
 * Guards and records the rows an aggregate of col over v is computed
 * from: the view's rows where col is not missing (not the whole view: a
 * whole-column figure minus a complete-case one would otherwise show the
 * dropped rows to no audit), split by the cells of lin when cells is set
 * and, when gid (group per view position, NO_GROUP for slot ngroups) or
 * gid8 (slot per position) is given, by group slot, keeping only slots s
 * with want[s]. See note_parts().
 */
static void
note_values(lua_State *L, struct view *v, const struct pht_column *col,
    const struct pht_train_lineage *lin, int cells, const uint32_t *gid, const uint8_t *gid8,
    uint32_t ngroups, const int *want)
{
	size_t ncells = cells && lin != NULL ? lin->ncells : 1, i, r, m = 0;
	uint64_t slot;
	struct part *e;

	if (ncells <= 1 && col->missing == NULL) {
		if (gid == NULL && gid8 == NULL) {
			note_rows(L, v);        /* every row of the view */
			return;
		}
		/* the groups' rows: recorded by the caller */
		return;
	}
	e = scratch(L, v->n, sizeof(*e));
	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		if (is_missing(col->missing, r))
			continue;
		slot = gid != NULL ? (gid[i] == NO_GROUP ? ngroups : gid[i]) :
		    gid8 != NULL ? gid8[i] : 0;
		if (want != NULL && !want[slot])
			continue;
		e[m].key = slot * ncells + (ncells > 1 ? pht_train_lineage_cell(lin, r) : 0);
		e[m].row = (uint32_t)r;
		m++;
	}
	note_parts(L, v, col, e, m, (uint64_t)(gid != NULL || gid8 != NULL ? ngroups + 1 : 1) *
	    ncells, ncells > 1 ? (lin->own ? 2 : 1) : 0);
	lua_pop(L, 1);
}

static void
push_date(lua_State *L, int64_t days)
{
	char s[32];
	int64_t y;
	unsigned m, d;

	pht_civil_from_days(days, &y, &m, &d);
	snprintf(s, sizeof(s), "%04lld-%02u-%02u", (long long)y, m, d);
	lua_pushstring(L, s);
}

/* Parses "YYYY-MM-DD" into days since the epoch; 0 if malformed. */
static int
parse_date(const char *s, size_t len, int64_t *days)
{
	int64_t y, yy;
	unsigned m, d, mm, dd;
	size_t i;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return 0;
	*days = pht_days_from_civil(y, m, d);
	pht_civil_from_days(*days, &yy, &mm, &dd);
	return yy == y && mm == m && dd == d;
}

static void
push_cell(lua_State *L, const struct pht_column *c, size_t r)
{
	int32_t code;

	if (is_missing(c->missing, r)) {
		lua_pushnil(L);
		return;
	}
	switch (c->type) {
	case PHT_COL_NUMBER:
		lua_pushnumber(L, c->v.f64[r]);
		break;
	case PHT_COL_INTEGER:
		lua_pushinteger(L, c->v.i64[r]);
		break;
	case PHT_COL_CATEGORY:
		code = c->v.i32[r];
		if (code >= 0 && (size_t)code < c->nlevels)
			lua_pushstring(L, c->levels[code]);
		else
			lua_pushnil(L);
		break;
	case PHT_COL_DATE:
		push_date(L, c->v.i32[r]);
		break;
	case PHT_COL_BOOLEAN:
		lua_pushboolean(L, c->v.u8[r]);
		break;
	}
}

/* ---- aggregates ---- */

struct agg {
	size_t count;
	double sum, sum_c, sumsq, sumsq_c;
	int64_t isum;
	int ioverflow;
};

/* Neumaier's compensated summation step. */
static inline void
ksum(double *s, double *c, double x)
{
	double t = *s + x;

	if (fabs(*s) >= fabs(x))
		*c += (*s - t) + x;
	else
		*c += (x - t) + *s;
	*s = t;
}

static void
aggregate(const struct pht_column *col, const struct view *v, struct agg *a)
{
	const uint8_t *miss = col->missing;
	size_t i, r, n = v->n;

	memset(a, 0, sizeof(*a));
	switch (col->type) {
	case PHT_COL_NUMBER:
		for (i = 0; i < n; i++) {
			double x;

			r = vrow(v, i);
			if (is_missing(miss, r))
				continue;
			x = col->v.f64[r];
			a->count++;
			ksum(&a->sum, &a->sum_c, x);
			ksum(&a->sumsq, &a->sumsq_c, x * x);
		}
		break;
	case PHT_COL_INTEGER:
		for (i = 0; i < n; i++) {
			int64_t x;

			r = vrow(v, i);
			if (is_missing(miss, r))
				continue;
			x = col->v.i64[r];
			a->count++;
			if (__builtin_add_overflow(a->isum, x, &a->isum))
				a->ioverflow = 1;
			ksum(&a->sum, &a->sum_c, (double)x);
			ksum(&a->sumsq, &a->sumsq_c, (double)x * (double)x);
		}
		break;
	case PHT_COL_BOOLEAN:
		for (i = 0; i < n; i++) {
			r = vrow(v, i);
			if (is_missing(miss, r))
				continue;
			a->count++;
			a->isum += col->v.u8[r];
		}
		a->sum = (double)a->isum;
		a->sumsq = (double)a->isum;
		break;
	default:
		break;
	}
	a->sum += a->sum_c;
	a->sumsq += a->sumsq_c;
}

static struct colview *
check_col(lua_State *L)
{
	return luaL_checkudata(L, 1, COLUMN_MT);
}

/* Missing cells of col among the rows of v. */
static size_t
count_missing(const struct pht_column *col, const struct view *v)
{
	const uint8_t *miss = col->missing;
	size_t i, m = 0, r;

	if (miss == NULL)
		return 0;
	if (v->all) {
		for (i = 0; i + 8 <= (v->n >> 3); i += 8) {
			uint64_t w;

			memcpy(&w, miss + i, 8);
			m += (size_t)__builtin_popcountll(w);
		}
		for (; i < (v->n >> 3); i++)
			m += (size_t)__builtin_popcount(miss[i]);
		for (r = v->n & ~(size_t)7; r < v->n; r++)
			m += (miss[r >> 3] >> (r & 7)) & 1;
		return m;
	}
	for (i = 0; i < v->n; i++) {
		r = v->sel[i];
		m += (miss[r >> 3] >> (r & 7)) & 1;
	}
	return m;
}

/*
 * Compensated sum of doubles: Knuth's TwoSum gives the exact rounding error
 * of each addition without a branch (the same error term as Neumaier's
 * step, so the same result and error bound). A missing cell adds -0.0,
 * which leaves every sum unchanged. Specialised by the constant flags
 * has_sel and has_miss once inlined.
 */
static inline __attribute__((always_inline)) void
sum_f64_kernel(const double *x, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, size_t *nmiss, double *sum)
{
	double s = 0, c = 0, v, t, z;
	size_t i, r, m = 0;
	unsigned b;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		v = x[r];
		if (has_miss) {
			b = (miss[r >> 3] >> (r & 7)) & 1;
			v = b ? -0.0 : v;
			m += b;
		}
		t = s + v;
		z = t - s;
		c += (s - (t - z)) + (v - z);
		s = t;
	}
	*nmiss = m;
	*sum = s + c;
}

__extension__ typedef __int128 i128;

/* Exact sum of int64 cells (128 bits cannot overflow below 2^64 rows). */
static inline __attribute__((always_inline)) i128
sum_i64_kernel(const int64_t *x, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, size_t *nmiss)
{
	i128 s = 0;
	int64_t v;
	size_t i, r, m = 0;
	unsigned b;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		v = x[r];
		if (has_miss) {
			b = (miss[r >> 3] >> (r & 7)) & 1;
			v = b ? 0 : v;
			m += b;
		}
		s += v;
	}
	*nmiss = m;
	return s;
}

/* Sum of a boolean column: the number of true cells. */
static inline __attribute__((always_inline)) int64_t
sum_u8_kernel(const uint8_t *x, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, size_t *nmiss)
{
	int64_t s = 0;
	size_t i, r, m = 0;
	unsigned b;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		if (has_miss) {
			b = (miss[r >> 3] >> (r & 7)) & 1;
			s += b ? 0 : x[r];
			m += b;
		} else
			s += x[r];
	}
	*nmiss = m;
	return s;
}

/* Calls kernel K with constant has_sel/has_miss flags for view v. */
#define SPECIALISE(K, x, miss, v, ...) do {					\
	if ((v)->all && (miss) == NULL)						\
		K(x, NULL, NULL, (v)->n, 0, 0, __VA_ARGS__);			\
	else if ((v)->all)							\
		K(x, miss, NULL, (v)->n, 0, 1, __VA_ARGS__);			\
	else if ((miss) == NULL)						\
		K(x, NULL, (v)->sel, (v)->n, 1, 0, __VA_ARGS__);		\
	else									\
		K(x, miss, (v)->sel, (v)->n, 1, 1, __VA_ARGS__);		\
} while (0)

#define SPECIALISE_RET(res, K, x, miss, v, ...) do {				\
	if ((v)->all && (miss) == NULL)						\
		res = K(x, NULL, NULL, (v)->n, 0, 0, __VA_ARGS__);		\
	else if ((v)->all)							\
		res = K(x, miss, NULL, (v)->n, 0, 1, __VA_ARGS__);		\
	else if ((miss) == NULL)						\
		res = K(x, NULL, (v)->sel, (v)->n, 1, 0, __VA_ARGS__);		\
	else									\
		res = K(x, miss, (v)->sel, (v)->n, 1, 1, __VA_ARGS__);		\
} while (0)

static void
col_fill_count(struct colview *cv)
{
	if (!cv->have_count) {
		cv->count = cv->v->n - count_missing(cv->col, cv->v);
		cv->have_count = 1;
	}
}

/*
 * The figures of a derived number column from its polynomial (lin->poly),
 * per slot s < nslots of the view's positions (gid: NO_GROUP is slot
 * nslots - 1; or gid8; or every position in slot 0), over the rows where
 * col is not missing: n[s], sum[s] and m2[s], the sum of squared
 * deviations from the slot's mean. Two passes per slot and cell: the
 * compensated sums of each monomial, then the centred cross-moments of
 * the monomials; the cell's sum is the coefficients times the sums, its
 * m2 the coefficients' quadratic form in the cross-moments, cells combined
 * as Chan, Golub and LeVeque's update. Nothing is read from col's rounded
 * values: constants only ever meet constants, so no rounding can turn a
 * smooth column into a step.
 */
static void
poly_moments(lua_State *L, const struct view *v, const struct pht_column *col,
    const struct pht_train_lineage *lin, const uint32_t *gid, const uint8_t *gid8,
    size_t nslots, size_t *n, double *sum, double *m2)
{
	const struct pht_train_poly *p = lin->poly;
	size_t T = p->nterms, C = lin->ncells, np, i, r, s, c, t, u, pt;
	size_t *cnt;
	double *S, *M, *Q, dev[PHT_TRAIN_POLY_TERMS], x, vbar, mean, w, wc;
	const double *a;

	if (nslots != 0 && C > SIZE_MAX / nslots / (T * T + 3 * T + 1) / sizeof(double))
		luaL_error(L, "data: request too large");
	np = nslots * C;
	cnt = scratch(L, np, sizeof(size_t));
	S = scratch(L, np * (T * T + 3 * T), sizeof(double));  /* sums (2T), means (T), Q (T^2) */
	memset(cnt, 0, np * sizeof(size_t));
	memset(S, 0, np * (T * T + 3 * T) * sizeof(double));
	M = S + 2 * np * T;
	Q = M + np * T;
#define PART(i, r) ((gid != NULL ? (gid[i] == NO_GROUP ? nslots - 1 : gid[i]) : \
	    gid8 != NULL ? gid8[i] : 0) * C + pht_train_lineage_cell(lin, r))
	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		if (is_missing(col->missing, r))
			continue;
		pt = PART(i, r);
		cnt[pt]++;
		for (t = 0; t < T; t++)
			ksum(&S[2 * (pt * T + t)], &S[2 * (pt * T + t) + 1],
			    pht_train_mono_at(&p->mono[t], r));
	}
	for (pt = 0; pt < np; pt++)
		for (t = 0; t < T; t++)
			M[pt * T + t] = cnt[pt] == 0 ? 0 : (S[2 * (pt * T + t)] +
			    S[2 * (pt * T + t) + 1]) / (double)cnt[pt];
	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		if (is_missing(col->missing, r))
			continue;
		pt = PART(i, r);
		for (t = 0; t < T; t++)
			dev[t] = pht_train_mono_at(&p->mono[t], r) - M[pt * T + t];
		for (t = 0; t < T; t++)
			for (u = 0; u < T; u++)
				Q[(pt * T + t) * T + u] += dev[t] * dev[u];
	}
#undef PART
	for (s = 0; s < nslots; s++) {
		double sc = 0;

		n[s] = 0;
		sum[s] = 0;
		for (c = 0; c < C; c++) {
			pt = s * C + c;
			if (cnt[pt] == 0)
				continue;
			n[s] += cnt[pt];
			a = p->coef + c * T;
			for (t = 0; t < T; t++)
				if (a[t] != 0) {
					ksum(&sum[s], &sc, a[t] * S[2 * (pt * T + t)]);
					ksum(&sum[s], &sc, a[t] * S[2 * (pt * T + t) + 1]);
				}
		}
		sum[s] += sc;
		mean = n[s] > 0 ? sum[s] / (double)n[s] : 0;
		w = 0;
		wc = 0;
		for (c = 0; c < C; c++) {
			pt = s * C + c;
			if (cnt[pt] == 0)
				continue;
			a = p->coef + c * T;
			for (vbar = 0, t = 0; t < T; t++)
				vbar += a[t] * M[pt * T + t];
			for (t = 0; t < T; t++)
				for (u = 0; u < T; u++)
					if (a[t] != 0 && a[u] != 0)
						ksum(&w, &wc, a[t] * a[u] *
						    Q[(pt * T + t) * T + u]);
			x = vbar - mean;
			ksum(&w, &wc, (double)cnt[pt] * x * x);
		}
		w += wc;
		m2[s] = w > 0 ? w : 0;
	}
	lua_pop(L, 2);
}

/*
 * The count and sum of a numeric column (one pass, kept in cv); of a
 * derived number column, from its polynomial, with its variance.
 */
static void
col_fill_sum(lua_State *L, struct colview *cv)
{
	const struct pht_column *col = cv->col;
	const struct view *v = cv->v;
	size_t nmiss = 0, n;
	double sum, m2;
	i128 total;

	if (cv->have_sum)
		return;
	if (cv->lin != NULL && cv->lin->poly != NULL) {
		poly_moments(L, v, col, cv->lin, NULL, NULL, 1, &n, &sum, &m2);
		cv->count = n;
		cv->sum = sum;
		cv->m2 = m2;
		cv->var = n >= 2 ? m2 / (double)(n - 1) : 0.0;
		cv->have_count = cv->have_sum = cv->have_var = 1;
		return;
	}
	switch (col->type) {
	case PHT_COL_NUMBER:
		SPECIALISE(sum_f64_kernel, col->v.f64, col->missing, v, &nmiss, &cv->sum);
		break;
	case PHT_COL_INTEGER:
		SPECIALISE_RET(total, sum_i64_kernel, col->v.i64, col->missing, v, &nmiss);
		/* outside the 64-bit range: the float nearest the exact sum */
		cv->ioverflow = total < INT64_MIN || total > INT64_MAX;
		cv->isum = cv->ioverflow ? 0 : (int64_t)total;
		cv->sum = (double)total;
		break;
	case PHT_COL_BOOLEAN:
		SPECIALISE_RET(cv->isum, sum_u8_kernel, col->v.u8, col->missing, v, &nmiss);
		cv->sum = (double)cv->isum;
		break;
	default:
		nmiss = count_missing(col, v);
		break;
	}
	cv->count = v->n - nmiss;
	cv->have_count = 1;
	cv->have_sum = 1;
}

/*
 * The second pass of the variance: over the non-missing cells, the
 * compensated sum of (x - m)^2 into *m2 and the plain sum of (x - m) into
 * *dev (the correction term of the corrected two-pass algorithm, which
 * absorbs the rounding of m). ty is W_F64, W_I64 or W_U8; a missing cell
 * adds 0 through a select.
 */
static inline __attribute__((always_inline)) void
dev_kernel(const void *arr, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, int ty, double m, double *m2, double *dev)
{
	double s = 0, c = 0, d = 0, x, t, z, q;
	size_t i, r;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		x = ty == W_F64 ? ((const double *)arr)[r] : ty == W_I64 ?
		    (double)((const int64_t *)arr)[r] : (double)((const uint8_t *)arr)[r];
		x -= m;
		if (has_miss)
			x = ((miss[r >> 3] >> (r & 7)) & 1) ? 0.0 : x;
		d += x;
		q = x * x;
		t = s + q;
		z = t - s;
		c += (s - (t - z)) + (q - z);
		s = t;
	}
	*m2 = s + c;
	*dev = d;
}

/*
 * The sample variance of a numeric column (n - 1 denominator), exactly by
 * two passes: the mean from the compensated or exact sum, then the sums of
 * the deviations from it; kept in cv. Needs count >= 2.
 */
static void
col_fill_var(lua_State *L, struct colview *cv)
{
	const struct pht_column *col = cv->col;
	const struct view *v = cv->v;
	double m, m2 = 0, dev = 0, n;

	if (cv->have_var)
		return;
	col_fill_sum(L, cv);
	if (cv->have_var)
		return;         /* a derived column's, from its polynomial */
	n = (double)cv->count;
	m = cv->sum / n;
	switch (col->type) {
	case PHT_COL_NUMBER:
		SPECIALISE(dev_kernel, col->v.f64, col->missing, v, W_F64, m, &m2, &dev);
		break;
	case PHT_COL_INTEGER:
		SPECIALISE(dev_kernel, col->v.i64, col->missing, v, W_I64, m, &m2, &dev);
		break;
	default:
		SPECIALISE(dev_kernel, col->v.u8, col->missing, v, W_U8, m, &m2, &dev);
		break;
	}
	m2 -= dev * dev / n;
	cv->var = m2 > 0 ? m2 / (n - 1) : 0.0;
	cv->have_var = 1;
}

/*
 * The guards and checks of every aggregate; the kind of result needs.
 * count depends only on which cells are missing (a predicate, as where()
 * makes): any column may be counted, and its non-missing rows are the set
 * behind it. The others read the values: the column must be aggregatable
 * (second moments: of degree 1 at most), and its non-missing rows are
 * guarded and recorded cell by cell of its lineage.
 */
static struct colview *
col_prepare(lua_State *L, int numeric, const char *what)
{
	struct colview *cv = check_col(L);
	enum pht_coltype t = cv->col->type;
	int count = strcmp(what, "count") == 0, flag = count ? 1 : 2;

	if (numeric && t != PHT_COL_NUMBER && t != PHT_COL_INTEGER && t != PHT_COL_BOOLEAN)
		luaL_error(L, "%s: column %s is a %s column, not numeric", what,
		    cv->col->name, pht_coltype_name(t));
	if (!numeric && t == PHT_COL_CATEGORY && !count)
		luaL_error(L, "%s: column %s is a category column", what, cv->col->name);
	if (!count)
		check_aggregatable(L, what, cv->col, cv->lin, strcmp(what, "sumsq") == 0 ||
		    strcmp(what, "var") == 0 || strcmp(what, "sd") == 0);
	guard_rows(L, cv->v->n);
	mark_rows(L, cv->v);
	if (!(cv->noted_values & flag)) {
		note_values(L, cv->v, cv->col, cv->lin, !count, NULL, NULL, 0, NULL);
		cv->noted_values |= flag;
	}
	return cv;
}

/* Runs the full aggregate (count, sum, sumsq) with the guards. */
static struct colview *
col_agg(lua_State *L, struct agg *a, int numeric, const char *what)
{
	struct colview *cv = col_prepare(L, numeric, what);

	aggregate(cv->col, cv->v, a);
	guard_values(L, a->count, cv->col);
	return cv;
}

static int
col_count(lua_State *L)
{
	struct colview *cv = col_prepare(L, 0, "count");

	col_fill_count(cv);
	guard_values(L, cv->count, cv->col);
	lua_pushinteger(L, (lua_Integer)cv->count);
	return 1;
}

static int
col_sum(lua_State *L)
{
	struct colview *cv = col_prepare(L, 1, "sum");

	col_fill_sum(L, cv);
	guard_values(L, cv->count, cv->col);
	if (cv->col->type != PHT_COL_NUMBER && !cv->ioverflow)
		lua_pushinteger(L, cv->isum);
	else
		lua_pushnumber(L, cv->sum);
	return 1;
}

static int
col_sumsq(lua_State *L)
{
	struct agg a;
	struct colview *cv = check_col(L);

	if (cv->lin != NULL && cv->lin->poly != NULL) {
		col_prepare(L, 1, "sumsq");
		col_fill_sum(L, cv);
		guard_values(L, cv->count, cv->col);
		lua_pushnumber(L, cv->count == 0 ? 0.0 :
		    cv->m2 + cv->sum * cv->sum / (double)cv->count);
		return 1;
	}

	col_agg(L, &a, 1, "sumsq");
	lua_pushnumber(L, a.sumsq);
	return 1;
}

static int
col_mean(lua_State *L)
{
	struct colview *cv = col_prepare(L, 1, "mean");

	col_fill_sum(L, cv);
	guard_values(L, cv->count, cv->col);
	if (cv->count == 0)
		lua_pushnil(L);
	else
		lua_pushnumber(L, cv->sum / (double)cv->count);
	return 1;
}

/* col:var() and col:sd(): sample variance and standard deviation; nil when n < 2. */
static int
col_var_sd(lua_State *L, int sd)
{
	struct colview *cv = col_prepare(L, 1, sd ? "sd" : "var");

	col_fill_sum(L, cv);
	guard_values(L, cv->count, cv->col);
	if (cv->count < 2) {
		lua_pushnil(L);
		return 1;
	}
	col_fill_var(L, cv);
	lua_pushnumber(L, sd ? sqrt(cv->var) : cv->var);
	return 1;
}

static int
col_var(lua_State *L)
{
	return col_var_sd(L, 0);
}

static int
col_sd(lua_State *L)
{
	return col_var_sd(L, 1);
}

static int
col_min(lua_State *L)
{
	check_col(L);
	return no_row_values(L, "col:min()");
}

static int
col_max(lua_State *L)
{
	check_col(L);
	return no_row_values(L, "col:max()");
}

/*
 * col:values(): every value of the view, only in a run with row access
 * (a data permit's row_access); otherwise an error.
 */
static int
col_values(lua_State *L)
{
	struct colview *cv = check_col(L);
	size_t i;

	if (!pht_train_ctx_of(L)->row_access)
		return no_row_values(L, "col:values()");
	guard_rows(L, cv->v->n);
	mark_rows(L, cv->v);
	note_rows(L, cv->v);
	if (cv->v->n > (size_t)INT32_MAX)
		return luaL_error(L, "values: view too large");
	lua_createtable(L, (int)cv->v->n, 0);
	for (i = 0; i < cv->v->n; i++) {
		push_cell(L, cv->col, vrow(cv->v, i));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int
col_len(lua_State *L)
{
	struct colview *cv = check_col(L);

	guard_rows(L, cv->v->n);
	note_rows(L, cv->v);
	lua_pushinteger(L, (lua_Integer)cv->v->n);
	return 1;
}

static int
col_index(lua_State *L)
{
	struct colview *cv = check_col(L);
	const struct pht_column *c = cv->col;
	const char *k;
	size_t i;

	if (lua_type(L, 2) == LUA_TNUMBER)
		return no_row_values(L, "col[i]");
	k = luaL_checkstring(L, 2);
	if (strcmp(k, "name") == 0)
		lua_pushstring(L, c->name);
	else if (strcmp(k, "type") == 0)
		lua_pushstring(L, pht_coltype_name(c->type));
	else if (strcmp(k, "unit") == 0)
		lua_pushstring(L, c->unit != NULL ? c->unit : "");
	else if (strcmp(k, "description") == 0)
		lua_pushstring(L, c->description != NULL ? c->description : "");
	else if (strcmp(k, "levels") == 0) {
		if (c->type != PHT_COL_CATEGORY)
			return 0;
		lua_createtable(L, (int)c->nlevels, 0);
		for (i = 0; i < c->nlevels; i++) {
			lua_pushstring(L, c->levels[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
	} else {
		lua_pushvalue(L, 2);
		lua_rawget(L, lua_upvalueindex(1));
	}
	return 1;
}

/* ---- views ---- */

/*
 * Turns the bitmap selection of the view v at stack index idx into sel
 * (its rows ascending, as where() on a selection writes them); the
 * block replaces the bitmap as user value 1. Nothing for other views.
 */
static void
materialize(lua_State *L, int idx, struct view *v)
{
	const uint64_t *bits = v->bits;
	size_t w, nwords, i = 0;
	uint32_t *sel;
	uint64_t m;

	if (bits == NULL)
		return;
	idx = lua_absindex(L, idx);
	nwords = (pht_dataset_nrows(v->ds) + 63) / 64;
	sel = scratch(L, v->n, sizeof(uint32_t));
	for (w = 0; w < nwords; w++)
		for (m = bits[w]; m != 0; m &= m - 1)
			sel[i++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(m));
	v->sel = sel;
	v->bits = NULL;
	lua_setiuservalue(L, idx, 1);
}

/* The view at idx, its selection materialized. */
static struct view *
view_at(lua_State *L, int idx)
{
	struct view *v = luaL_checkudata(L, idx, VIEW_MT);

	materialize(L, idx, v);
	return v;
}

/* self, a view whose selection may still be a bitmap (methods that read it as such). */
static struct view *
check_view_lazy(lua_State *L)
{
	return luaL_checkudata(L, 1, VIEW_MT);
}

static struct view *
check_view(lua_State *L)
{
	return view_at(L, 1);
}

static int
view_nrows(lua_State *L)
{
	struct view *v = check_view_lazy(L);

	guard_rows(L, v->n);
	note_rows(L, v);
	lua_pushinteger(L, (lua_Integer)v->n);
	return 1;
}

/* data:k(): the station's k, the smallest subset an aggregate may use (read-only). */
static int
view_k(lua_State *L)
{
	check_view_lazy(L);
	lua_pushinteger(L, (lua_Integer)pht_train_ctx_of(L)->k);
	return 1;
}

static int
view_name(lua_State *L)
{
	lua_pushstring(L, pht_dataset_name(check_view_lazy(L)->ds));
	return 1;
}

static int
view_columns(lua_State *L)
{
	struct view *v = check_view_lazy(L);
	size_t i, j = 0, n = pht_dataset_ncols(v->ds);

	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		if (!visible(pht_dataset_column(v->ds, i)))
			continue;
		lua_pushstring(L, pht_dataset_column(v->ds, i)->name);
		lua_rawseti(L, -2, (lua_Integer)++j);
	}
	pht_train_derive_push_names(L, v->with);
	return 1;
}

static int
view_column(lua_State *L)
{
	struct view *v = check_view(L);
	const struct pht_train_lineage *lin;
	const struct pht_column *col = find_col_lin(L, v, 2, &lin);
	struct colview *cv;

	cv = lua_newuserdatauv(L, sizeof(*cv), 1);
	memset(cv, 0, sizeof(*cv));
	cv->col = col;
	cv->lin = lin;
	cv->v = v;
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, COLUMN_MT);
	return 1;
}

/* The dictionary as a table, without the identifier column's entry. */
static int
view_dictionary(lua_State *L)
{
	struct view *v = check_view(L);
	size_t i, j = 0, n = pht_dataset_ncols(v->ds);

	pht_train_lua_push_json(L, pht_dataset_dict(v->ds));
	if (pht_dataset_identifier(v->ds) != NULL) {
		/* columns[i] is column i of the dataset (dictionary order): compact it */
		lua_getfield(L, -1, "columns");
		for (i = 0; i < n; i++) {
			lua_rawgeti(L, -1, (lua_Integer)i + 1);
			if (visible(pht_dataset_column(v->ds, i)))
				lua_rawseti(L, -2, (lua_Integer)++j);
			else
				lua_pop(L, 1);
		}
		for (; j < n; j++) {
			lua_pushnil(L);
			lua_rawseti(L, -2, (lua_Integer)j + 1);
		}
		lua_pop(L, 1);
	}
	pht_train_derive_push_dictionary(L, v->with);
	return 1;
}

/*
 * The view nv, just pushed, sees the with{} names of parent, which is the
 * view at stack index 1 (the method's self).
 */
static void
inherit_with(lua_State *L, const struct view *parent, struct view *nv)
{
	if (parent->with == NULL)
		return;
	if (lua_touserdata(L, 1) != (const void *)parent)
		luaL_error(L, "data: internal error: parent view is not argument 1");
	nv->with = parent->with;
	lua_getiuservalue(L, 1, 2);
	lua_setiuservalue(L, -2, 2);
}

/*
 * Pushes a view made of the first m entries of sel, a scratch block of
 * parent->n entries at stack index sel_idx. When the selection fills at
 * least a quarter of the block the view keeps the block (as its user
 * value) instead of a copy: no second allocation and no copy, for at most
 * three times its size in unused entries; a smaller one is copied.
 */
static void
push_selection(lua_State *L, const struct view *parent, uint32_t *sel, int sel_idx,
    size_t m)
{
	struct view *nv;

	sel_idx = lua_absindex(L, sel_idx);
	if (m >= parent->n / 4 && m > 0) {
		nv = new_view(L, parent->ds, 0, 0);
		nv->n = m;
		nv->sel = sel;
		lua_pushvalue(L, sel_idx);
		lua_setiuservalue(L, -2, 1);
	} else {
		nv = new_view(L, parent->ds, m, 0);
		if (m > 0)
			memcpy(nv->sel, sel, m * sizeof(uint32_t));
	}
	/* the parent's rows were all marked before the selection was made */
	nv->marked = parent->marked;
	inherit_with(L, parent, nv);
}

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTNULL, OP_ISNULL };

struct key {
	int isint;
	int64_t i;
	double d;
};

static void
to_key(lua_State *L, const struct pht_column *c, int idx, struct key *k)
{
	const char *s;
	size_t len, j;

	memset(k, 0, sizeof(*k));
	switch (c->type) {
	case PHT_COL_NUMBER:
	case PHT_COL_INTEGER:
		if (lua_type(L, idx) != LUA_TNUMBER)
			break;
		if (lua_isinteger(L, idx) && c->type == PHT_COL_INTEGER) {
			k->isint = 1;
			k->i = lua_tointeger(L, idx);
		}
		k->d = (double)lua_tonumber(L, idx);
		if (isnan(k->d))
			luaL_error(L, "where: cannot compare column %s with NaN", c->name);
		return;
	case PHT_COL_CATEGORY:
		if (lua_type(L, idx) != LUA_TSTRING)
			break;
		s = lua_tolstring(L, idx, &len);
		for (j = 0; j < c->nlevels; j++)
			if (strlen(c->levels[j]) == len && memcmp(c->levels[j], s, len) == 0) {
				k->isint = 1;
				k->i = (int64_t)j;
				return;
			}
		luaL_error(L, "where: column %s has no level '%s'", c->name, s);
		return;
	case PHT_COL_DATE:
		if (lua_type(L, idx) != LUA_TSTRING)
			break;
		s = lua_tolstring(L, idx, &len);
		if (!parse_date(s, len, &k->i))
			luaL_error(L, "where: '%s' is not a date YYYY-MM-DD (column %s)", s, c->name);
		k->isint = 1;
		return;
	case PHT_COL_BOOLEAN:
		if (lua_type(L, idx) == LUA_TBOOLEAN) {
			k->isint = 1;
			k->i = lua_toboolean(L, idx);
			return;
		}
		break;
	}
	luaL_error(L, "where: column %s (%s) cannot be compared with a %s value",
	    c->name, pht_coltype_name(c->type), luaL_typename(L, idx));
}

static inline int
cmp_cell(const struct pht_column *c, size_t r, const struct key *k)
{
	int64_t x;
	double d;

	switch (c->type) {
	case PHT_COL_NUMBER:
		d = c->v.f64[r];
		return (d > k->d) - (d < k->d);
	case PHT_COL_INTEGER:
		if (!k->isint) {
			d = (double)c->v.i64[r];
			return (d > k->d) - (d < k->d);
		}
		x = c->v.i64[r];
		break;
	case PHT_COL_BOOLEAN:
		x = c->v.u8[r];
		break;
	default:
		x = c->v.i32[r];
		break;
	}
	return (x > k->i) - (x < k->i);
}

/*
 * where() kernels: one loop per (column representation, operator), each
 * specialised for views with and without a selection and columns with and
 * without missing cells, writing the selection branch-free. Data cells are
 * never NaN (the loader refuses them) nor is a key (to_key refuses it), so
 * plain comparisons agree with cmp_cell().
 */
static inline __attribute__((always_inline)) int
where_test(const void *arr, size_t r, int ty, int op, double kd, int64_t ki)
{
	double d = 0;
	int64_t x = 0;

	switch (ty) {
	case W_F64:
		d = ((const double *)arr)[r];
		break;
	case W_I64D:
		d = (double)((const int64_t *)arr)[r];
		break;
	case W_I64:
		x = ((const int64_t *)arr)[r];
		break;
	case W_I32:
		x = ((const int32_t *)arr)[r];
		break;
	default:
		x = ((const uint8_t *)arr)[r];
		break;
	}
	if (ty == W_F64 || ty == W_I64D) {
		switch (op) {
		case OP_EQ: return d == kd;
		case OP_NE: return d != kd;
		case OP_LT: return d < kd;
		case OP_LE: return d <= kd;
		case OP_GT: return d > kd;
		default: return d >= kd;
		}
	}
	switch (op) {
	case OP_EQ: return x == ki;
	case OP_NE: return x != ki;
	case OP_LT: return x < ki;
	case OP_LE: return x <= ki;
	case OP_GT: return x > ki;
	default: return x >= ki;
	}
}

static inline __attribute__((always_inline)) size_t
where_kernel(const void *arr, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, int ty, int op, double kd, int64_t ki, uint32_t *out)
{
	size_t i, r, m = 0;
	int keep;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		keep = where_test(arr, r, ty, op, kd, ki);
		if (has_miss)
			keep &= !((miss[r >> 3] >> (r & 7)) & 1);
		out[m] = (uint32_t)r;
		m += (size_t)keep;
	}
	return m;
}

/*
 * where() on the whole dataset (n rows): the kept rows as a bitmap of
 * ceil(n / 64) words (bits past n zero), built a word at a time; the
 * count.
 */
static inline __attribute__((always_inline)) size_t
where_bits_kernel(const void *arr, const uint8_t *miss, size_t n, int has_miss, int ty,
    int op, double kd, int64_t ki, uint64_t *bits)
{
	size_t w, j, r, end, m = 0, nwords = (n + 63) / 64;
	uint64_t word;
	int keep;

	for (w = 0; w < nwords; w++) {
		end = n - w * 64 < 64 ? n - w * 64 : 64;
		word = 0;
		for (j = 0; j < end; j++) {
			r = w * 64 + j;
			keep = where_test(arr, r, ty, op, kd, ki);
			if (has_miss)
				keep &= !((miss[r >> 3] >> (r & 7)) & 1);
			word |= (uint64_t)keep << j;
			m += (size_t)keep;
		}
		bits[w] = word;
	}
	return m;
}

#define WHERE_BITS(TY, OP) do {						\
	if (c->missing == NULL)						\
		m = where_bits_kernel(arr, NULL, n, 0, TY, OP, kd, ki, bits); \
	else								\
		m = where_bits_kernel(arr, c->missing, n, 1, TY, OP, kd, ki, bits); \
} while (0)

#define WHERE_BITS_OP(TY) do {						\
	switch (op) {							\
	case OP_EQ: WHERE_BITS(TY, OP_EQ); break;			\
	case OP_NE: WHERE_BITS(TY, OP_NE); break;			\
	case OP_LT: WHERE_BITS(TY, OP_LT); break;			\
	case OP_LE: WHERE_BITS(TY, OP_LE); break;			\
	case OP_GT: WHERE_BITS(TY, OP_GT); break;			\
	default: WHERE_BITS(TY, OP_GE); break;				\
	}								\
} while (0)

/* Comparison op of column c with key k over all n rows, into bits; the count. */
static size_t
where_compare_bits(const struct pht_column *c, size_t n, enum op op, const struct key *k,
    uint64_t *bits)
{
	const double kd = k->d;
	const int64_t ki = k->i;
	const void *arr;
	size_t m = 0;

	switch (c->type) {
	case PHT_COL_NUMBER:
		arr = c->v.f64;
		WHERE_BITS_OP(W_F64);
		break;
	case PHT_COL_INTEGER:
		arr = c->v.i64;
		if (k->isint)
			WHERE_BITS_OP(W_I64);
		else
			WHERE_BITS_OP(W_I64D);
		break;
	case PHT_COL_BOOLEAN:
		arr = c->v.u8;
		WHERE_BITS_OP(W_U8);
		break;
	default:
		arr = c->v.i32;
		WHERE_BITS_OP(W_I32);
		break;
	}
	return m;
}

#define WHERE_OP(TY) do {							\
	switch (op) {								\
	case OP_EQ: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_EQ, kd, ki, out); break; \
	case OP_NE: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_NE, kd, ki, out); break; \
	case OP_LT: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_LT, kd, ki, out); break; \
	case OP_LE: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_LE, kd, ki, out); break; \
	case OP_GT: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_GT, kd, ki, out); break; \
	default: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_GE, kd, ki, out); break; \
	}									\
} while (0)

/* Comparison op (OP_EQ..OP_GE) of column c with key k over v into out; the count. */
static size_t
where_compare(const struct pht_column *c, const struct view *v, enum op op,
    const struct key *k, uint32_t *out)
{
	const double kd = k->d;
	const int64_t ki = k->i;
	const void *arr;
	size_t m = 0;

	switch (c->type) {
	case PHT_COL_NUMBER:
		arr = c->v.f64;
		WHERE_OP(W_F64);
		break;
	case PHT_COL_INTEGER:
		arr = c->v.i64;
		if (k->isint)
			WHERE_OP(W_I64);
		else
			WHERE_OP(W_I64D);
		break;
	case PHT_COL_BOOLEAN:
		arr = c->v.u8;
		WHERE_OP(W_U8);
		break;
	default:
		arr = c->v.i32;
		WHERE_OP(W_I32);
		break;
	}
	return m;
}

/* 'in' on a category or boolean column: a table of the wanted codes. */
static size_t
where_in_codes(const struct pht_column *c, const struct view *v, const uint8_t *want,
    size_t ncodes, uint32_t *out)
{
	size_t i, r, m = 0;
	int64_t x;
	int keep;

	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		x = c->type == PHT_COL_BOOLEAN ? c->v.u8[r] : c->v.i32[r];
		keep = x >= 0 && (uint64_t)x < ncodes && want[x] && !is_missing(c->missing, r);
		out[m] = (uint32_t)r;
		m += (size_t)keep;
	}
	return m;
}

/* data:where(col): the rows of the view where the boolean column col is true. */
static int
where_column(lua_State *L, struct view *v)
{
	struct colview *cv = luaL_checkudata(L, 2, COLUMN_MT);
	const struct pht_column *c = cv->col;
	uint32_t *out;
	size_t i, r, m = 0;

	if (c->type != PHT_COL_BOOLEAN)
		return luaL_error(L, "where: column %s is a %s column, not boolean", c->name,
		    pht_coltype_name(c->type));
	if (cv->v->ds != v->ds)
		return luaL_error(L, "where: column %s is from another dataset", c->name);
	lua_settop(L, 2);
	mark_rows(L, v);
	out = scratch(L, v->n, sizeof(uint32_t));                      /* 3 */
	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		out[m] = (uint32_t)r;
		m += (size_t)(c->v.u8[r] != 0 && !is_missing(c->missing, r));
	}
	push_selection(L, v, out, 3, m);
	return 1;
}

static int
view_where(lua_State *L)
{
	static const char *const ops[] = {"==", "~=", "<", "<=", ">", ">=", "in",
	    "notnull", "isnull", NULL};
	struct view *v = check_view(L);
	const struct pht_column *c;
	enum op op;
	struct key k, *set = NULL;
	size_t i, j, r, m = 0, nset = 0;
	uint32_t *out;
	int keep, out_idx;

	if (lua_type(L, 2) == LUA_TUSERDATA)
		return where_column(L, v);
	c = find_col(L, v, 2);
	op = (enum op)luaL_checkoption(L, 3, NULL, ops);
	if ((op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE) &&
	    (c->type == PHT_COL_CATEGORY || c->type == PHT_COL_BOOLEAN))
		return luaL_error(L, "where: operator %s is not defined for %s column %s",
		    ops[op], pht_coltype_name(c->type), c->name);
	if (op == OP_IN) {
		luaL_checktype(L, 4, LUA_TTABLE);
		nset = (size_t)lua_rawlen(L, 4);
		if (nset > IN_MAX)
			return luaL_error(L, "where: more than %d values for 'in'", IN_MAX);
		set = scratch(L, nset, sizeof(*set));
		for (j = 0; j < nset; j++) {
			lua_rawgeti(L, 4, (lua_Integer)j + 1);
			to_key(L, c, -1, &set[j]);
			lua_pop(L, 1);
			pht_train_kernel_threshold(L, "where", c, set[j].isint ? (double)set[j].i :
			    set[j].d);
		}
	} else if (op != OP_NOTNULL && op != OP_ISNULL) {
		to_key(L, c, 4, &k);
		pht_train_kernel_threshold(L, "where", c, k.isint ? (double)k.i : k.d);
	}
	mark_rows(L, v);
	if (v->all && v->n > 0 && op != OP_IN && op != OP_NOTNULL && op != OP_ISNULL) {
		/* the whole dataset: the selection as a bitmap (struct view) */
		uint64_t *bits = scratch(L, (v->n + 63) / 64, sizeof(uint64_t));
		struct view *nv;

		out_idx = lua_gettop(L);
		m = where_compare_bits(c, v->n, op, &k, bits);
		nv = new_view(L, v->ds, 0, 0);
		nv->n = m;
		nv->sel = NULL;
		nv->bits = bits;
		lua_pushvalue(L, out_idx);
		lua_setiuservalue(L, -2, 1);
		nv->marked = v->marked;
		inherit_with(L, v, nv);
		return 1;
	}
	out = scratch(L, v->n, sizeof(uint32_t));
	out_idx = lua_gettop(L);
	if (op != OP_IN && op != OP_NOTNULL && op != OP_ISNULL)
		m = where_compare(c, v, op, &k, out);
	else if (op == OP_IN && (c->type == PHT_COL_CATEGORY || c->type == PHT_COL_BOOLEAN)) {
		size_t ncodes = c->type == PHT_COL_BOOLEAN ? 2 : c->nlevels;
		uint8_t *want = scratch(L, ncodes, 1);

		memset(want, 0, ncodes);
		for (j = 0; j < nset; j++)
			if (set[j].i >= 0 && (uint64_t)set[j].i < ncodes)
				want[set[j].i] = 1;
		m = where_in_codes(c, v, want, ncodes, out);
	} else
		for (i = 0; i < v->n; i++) {
			r = vrow(v, i);
			if (op == OP_ISNULL)
				keep = is_missing(c->missing, r);
			else if (op == OP_NOTNULL)
				keep = !is_missing(c->missing, r);
			else if (is_missing(c->missing, r))
				keep = 0;
			else {
				keep = 0;
				for (j = 0; j < nset && !keep; j++)
					keep = cmp_cell(c, r, &set[j]) == 0;
			}
			if (keep)
				out[m++] = (uint32_t)r;
		}
	push_selection(L, v, out, out_idx, m);
	return 1;
}

static int
view_filter(lua_State *L)
{
	check_view(L);
	return no_row_values(L, "data:filter()");
}

/* ---- grouping: each row of a view mapped to a group number ---- */

struct grouping {
	const struct pht_column *col;
	uint32_t *gid;          /* per view position; NO_GROUP for missing */
	size_t ngroups;
	int64_t *keys;          /* distinct values (integer and date columns) */
	size_t nmissing;
};

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static inline int64_t
ival(const struct pht_column *c, size_t r)
{
	switch (c->type) {
	case PHT_COL_INTEGER:
		return c->v.i64[r];
	case PHT_COL_BOOLEAN:
		return c->v.u8[r];
	default:
		return c->v.i32[r];
	}
}

/*
 * Group ids of a category (i32 codes) or boolean (u8) column: the code, or
 * NO_GROUP when missing or out of range; the number of those. Specialised
 * like the other kernels.
 */
static inline __attribute__((always_inline)) size_t
code_gid_kernel(const void *arr, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, int is_u8, uint32_t ngroups, uint32_t *gid)
{
	size_t i, r, nmiss = 0;
	uint32_t x;
	int bad;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		x = is_u8 ? ((const uint8_t *)arr)[r] : (uint32_t)((const int32_t *)arr)[r];
		bad = x >= ngroups;
		if (has_miss)
			bad |= (miss[r >> 3] >> (r & 7)) & 1;
		gid[i] = bad ? NO_GROUP : x;
		nmiss += (size_t)bad;
	}
	return nmiss;
}

static size_t
code_gid(const struct pht_column *c, const struct view *v, uint32_t ngroups, uint32_t *gid)
{
	size_t m = 0;

	if (c->type == PHT_COL_BOOLEAN)
		SPECIALISE_RET(m, code_gid_kernel, c->v.u8, c->missing, v, 1, ngroups, gid);
	else
		SPECIALISE_RET(m, code_gid_kernel, c->v.i32, c->missing, v, 0, ngroups, gid);
	return m;
}

/* Leaves two scratch userdata on the stack (gid, keys). */
static void
group_rows(lua_State *L, const struct view *v, const struct pht_column *c,
    const char *what, struct grouping *g)
{
	size_t i, r, n = 0, lo, hi, mid;
	int64_t x;

	memset(g, 0, sizeof(*g));
	g->col = c;
	g->gid = scratch(L, v->n, sizeof(uint32_t));
	if (c->type == PHT_COL_NUMBER)
		luaL_error(L, "%s: column %s is a number column; use a category, boolean, "
		    "integer or date column", what, c->name);
	if (c->type == PHT_COL_INTEGER || c->type == PHT_COL_DATE) {
		g->keys = scratch(L, v->n, sizeof(int64_t));
		for (i = 0; i < v->n; i++) {
			r = vrow(v, i);
			if (!is_missing(c->missing, r))
				g->keys[n++] = ival(c, r);
		}
		qsort(g->keys, n, sizeof(int64_t), cmp_i64);
		for (i = 0, g->ngroups = 0; i < n; i++)
			if (g->ngroups == 0 || g->keys[g->ngroups - 1] != g->keys[i])
				g->keys[g->ngroups++] = g->keys[i];
	} else {
		lua_pushnil(L);
		g->ngroups = c->type == PHT_COL_BOOLEAN ? 2 : c->nlevels;
		if (g->ngroups < NO_GROUP) {
			g->nmissing = code_gid(c, v, (uint32_t)g->ngroups, g->gid);
			return;
		}
	}
	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		if (is_missing(c->missing, r)) {
			g->gid[i] = NO_GROUP;
			g->nmissing++;
			continue;
		}
		x = ival(c, r);
		if (g->keys != NULL) {
			lo = 0;
			hi = g->ngroups;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				if (g->keys[mid] <= x)
					lo = mid;
				else
					hi = mid;
			}
			g->gid[i] = (uint32_t)lo;
		} else if (x >= 0 && (size_t)x < g->ngroups)
			g->gid[i] = (uint32_t)x;
		else {
			g->gid[i] = NO_GROUP;
			g->nmissing++;
		}
	}
}

static void
push_group_key(lua_State *L, const struct grouping *g, size_t j)
{
	switch (g->col->type) {
	case PHT_COL_CATEGORY:
		lua_pushstring(L, g->col->levels[j]);
		break;
	case PHT_COL_BOOLEAN:
		lua_pushboolean(L, j != 0);
		break;
	case PHT_COL_DATE:
		push_date(L, g->keys[j]);
		break;
	default:
		lua_pushinteger(L, g->keys[j]);
		break;
	}
}

/*
 * Keys of integer and date columns are data values (only the values
 * present are keys), so a group of 0 < n < k rows must not show its key:
 * such groups fold into one {suppressed = true} entry without a key, after
 * the released groups and before the missing group. Category and boolean
 * keys are the dictionary's, public: their small groups keep the key.
 */
static inline int
folds_small_keys(const struct grouping *g)
{
	return g->keys != NULL;
}

static inline int
is_small(size_t n, int64_t k)
{
	return n > 0 && (int64_t)n < k;
}

/* Pushes the entry the folded small groups stand for: {suppressed = true}. */
static void
push_folded(lua_State *L)
{
	lua_createtable(L, 0, 1);
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "suppressed");
}

/*
 * Pushes {key=..., n=..., data=view} or, when suppressed, {key=...,
 * suppressed=true} (with missing=true instead of a key for the rows
 * missing the column). Returns the group's view, to be filled by the
 * caller, or NULL if suppressed.
 */
static struct view *
push_group(lua_State *L, const struct view *v, const struct grouping *g,
    size_t j, size_t count, int suppressed)
{
	struct view *nv;

	lua_createtable(L, 0, 3);
	if (j == g->ngroups) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "missing");
	} else {
		push_group_key(L, g, j);
		lua_setfield(L, -2, "key");
	}
	if (suppressed) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "suppressed");
		return NULL;
	}
	lua_pushinteger(L, (lua_Integer)count);
	lua_setfield(L, -2, "n");
	nv = new_view(L, v->ds, count, 0);
	nv->marked = v->marked;
	inherit_with(L, v, nv);
	lua_setfield(L, -2, "data");
	return nv;
}

/*
 * Records the rows of each released, non-empty group as a row set behind
 * the output (what g.data:column(c):sum() would record for each group).
 * The slots come from gid8 when not NULL, else from g->gid. A view v
 * with a bitmap selection must be the method's argument 1.
 */
static void
note_groups(lua_State *L, struct view *v, const struct grouping *g,
    const uint8_t *gid8, const size_t *counts, const int *released)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	size_t nslots = g->ngroups + 1, i, j, *off, slot;
	uint32_t *rows;
	int r;

	if (c->rowsets == NULL || c->ds != v->ds)
		return;
	if (gid8 != NULL) {
		/* one pass per group list, no gathering, when the rows ascend */
		if (v->bits != NULL)
			r = pht_train_rowsets_add_groups_bits(c->rowsets, v->bits, v->n, gid8,
			    nslots, released);
		else
			r = pht_train_rowsets_add_groups(c->rowsets, v->all ? NULL : v->sel, v->n,
			    gid8, nslots, released);
		if (r == PHT_ERR_NOMEM)
			pht_train_lua_fatal(L, PHT_ERR_NOMEM, "out of memory recording row sets");
		if (r == PHT_OK)
			return;
	}
	/* one by one: a bitmap selection (aggregate_by's self, argument 1) as sel */
	materialize(L, 1, v);
	off = scratch(L, nslots, sizeof(size_t));
	rows = scratch(L, v->n, sizeof(uint32_t));
	for (j = 0, i = 0; j < nslots; j++) {
		off[j] = i;
		i += released[j] ? counts[j] : 0;
	}
	for (i = 0; i < v->n; i++) {
		if (gid8 != NULL)
			slot = gid8[i];
		else
			slot = g->gid[i] == NO_GROUP ? g->ngroups : g->gid[i];
		if (released[slot])
			rows[off[slot]++] = (uint32_t)vrow(v, i);
	}
	for (j = 0; j < nslots; j++) {
		if (!released[j] || counts[j] == 0)
			continue;
		record_set(L, rows + off[j] - counts[j], counts[j], 0);
	}
	lua_pop(L, 2);
}

/*
 * Suppression of the groups of a grouping, the missing-key group (slot
 * ngroups) a cell like the others: sup[j] for a group of 0 < n < k rows
 * (primary), then complementary suppression (pht_train_kernel_complement)
 * until the suppressed groups hold 0 or at least k rows together, since
 * the view minus the released groups is their union. released[j] (when
 * not NULL) is 1 for the groups released: not suppressed, and present
 * (a level with no rows is released as 0; the missing group only when it
 * has rows).
 */
static void
suppress_groups(const struct grouping *g, const size_t *counts, int64_t k, uint8_t *sup,
    int *released)
{
	size_t j, nslots = g->ngroups + 1;

	for (j = 0; j < nslots; j++)
		sup[j] = (uint8_t)is_small(counts[j], k);
	pht_train_kernel_complement(counts, sup, nslots, 0, k);
	if (released != NULL)
		for (j = 0; j < nslots; j++)
			released[j] = !sup[j] && (j < g->ngroups || counts[j] > 0);
}

static int
view_group_by(lua_State *L)
{
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	struct view *v = check_view(L);
	const struct pht_column *c = find_col(L, v, 2);
	struct grouping g;
	struct view **views;
	size_t *counts, *fill, i, j, slot, nslots, nfolded = 0;
	uint8_t *sup;
	int *released;
	lua_Integer idx = 0;

	lua_settop(L, 2);
	guard_rows(L, v->n);
	mark_rows(L, v);
	note_rows(L, v);
	group_rows(L, v, c, "group_by", &g);
	if (g.ngroups > GROUPS_MAX)
		return luaL_error(L, "group_by: column %s has more than %d distinct values",
		    c->name, GROUPS_MAX);
	/* Slot ngroups holds the rows missing the column. */
	nslots = g.ngroups + 1;
	counts = scratch(L, nslots, sizeof(size_t));
	fill = scratch(L, nslots, sizeof(size_t));
	views = scratch(L, nslots, sizeof(struct view *));
	memset(counts, 0, nslots * sizeof(size_t));
	memset(fill, 0, nslots * sizeof(size_t));
	for (i = 0; i < v->n; i++)
		counts[g.gid[i] == NO_GROUP ? g.ngroups : g.gid[i]]++;
	sup = scratch(L, nslots, 1);
	released = scratch(L, nslots, sizeof(int));
	suppress_groups(&g, counts, ctx->k, sup, released);
	/* each released group's n leaves: its rows are a set behind the output */
	note_groups(L, v, &g, NULL, counts, released);
	lua_createtable(L, (int)nslots, 0);
	for (j = 0; j < nslots; j++) {
		views[j] = NULL;
		if (j < g.ngroups && folds_small_keys(&g) && is_small(counts[j], ctx->k)) {
			nfolded++;
			continue;
		}
		if (j == g.ngroups && nfolded > 0) {
			push_folded(L);
			lua_rawseti(L, -2, ++idx);
		}
		if (j == g.ngroups && counts[j] == 0)
			break;
		views[j] = push_group(L, v, &g, j, counts[j], sup[j]);
		lua_rawseti(L, -2, ++idx);
	}
	for (i = 0; i < v->n; i++) {
		slot = g.gid[i] == NO_GROUP ? g.ngroups : g.gid[i];
		if (views[slot] != NULL)
			views[slot]->sel[fill[slot]++] = (uint32_t)vrow(v, i);
	}
	return 1;
}

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
 * none), through selects rather than branches.
 * ty is W_F64, W_I64 or W_U8; src one of SLOT_*, constant once inlined.
 */
static inline __attribute__((always_inline)) void
gacc_row(const void *arr, const uint8_t *miss, int has_miss, int ty, int src,
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
		two_sum(&a->ss, &a->sc, x * x);
	} else {
		xi = ty == W_I64 ? ((const int64_t *)arr)[r] : ((const uint8_t *)arr)[r];
		xi = b ? 0 : xi;
		a->isum += xi;
		if (ty == W_I64) {
			x = b ? -0.0 : (double)xi;
			two_sum(&a->ss, &a->sc, x * x);
		}
	}
}

static inline __attribute__((always_inline)) void
gacc_kernel(const void *arr, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, int ty, int src, const struct slots *sl,
    struct gacc *acc)
{
	const uint32_t *gid = sl->gid;
	uint8_t *gid8 = sl->gid8;
	const void *codes = sl->codes;
	const uint8_t *kmiss = sl->kmiss;
	const uint32_t ngroups = sl->ngroups;
	size_t i;

	for (i = 0; i < n; i++)
		gacc_row(arr, miss, has_miss, ty, src, gid, gid8, codes, kmiss, ngroups, acc, i,
		    has_sel ? sel[i] : i);
}

/* gacc_kernel over the rows of a bitmap selection (struct view), ascending. */
static inline __attribute__((always_inline)) void
gacc_bits_kernel(const void *arr, const uint8_t *miss, const uint64_t *bits, size_t nwords,
    int has_miss, int ty, int src, const struct slots *sl, struct gacc *acc)
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
			gacc_row(arr, miss, has_miss, ty, src, gid, gid8, codes, kmiss, ngroups,
			    acc, i, w * 64 + (size_t)__builtin_ctzll(m));
}

/* Calls a *_bits_kernel K with a constant has_miss for the bitmap view v. */
#define SPECIALISE_BITS(K, x, miss, v, ...) do {			\
	size_t nw_ = (pht_dataset_nrows((v)->ds) + 63) / 64;		\
	if ((miss) == NULL)						\
		K(x, NULL, (v)->bits, nw_, 0, __VA_ARGS__);		\
	else								\
		K(x, miss, (v)->bits, nw_, 1, __VA_ARGS__);		\
} while (0)

#define GACC_SRC_BITS(ARR, TY) do {					\
	switch (sl->src) {						\
	case SLOT_GID32: SPECIALISE_BITS(gacc_bits_kernel, ARR, c->missing, v, TY, SLOT_GID32, sl, acc); break; \
	case SLOT_GID8: SPECIALISE_BITS(gacc_bits_kernel, ARR, c->missing, v, TY, SLOT_GID8, sl, acc); break; \
	case SLOT_I32: SPECIALISE_BITS(gacc_bits_kernel, ARR, c->missing, v, TY, SLOT_I32, sl, acc); break; \
	default: SPECIALISE_BITS(gacc_bits_kernel, ARR, c->missing, v, TY, SLOT_U8, sl, acc); break; \
	}								\
} while (0)

#define GACC_SRC(ARR, TY) do {							\
	switch (sl->src) {							\
	case SLOT_GID32: SPECIALISE(gacc_kernel, ARR, c->missing, v, TY, SLOT_GID32, sl, acc); break; \
	case SLOT_GID8: SPECIALISE(gacc_kernel, ARR, c->missing, v, TY, SLOT_GID8, sl, acc); break; \
	case SLOT_I32: SPECIALISE(gacc_kernel, ARR, c->missing, v, TY, SLOT_I32, sl, acc); break; \
	default: SPECIALISE(gacc_kernel, ARR, c->missing, v, TY, SLOT_U8, sl, acc); break; \
	}									\
} while (0)

static void
gacc_column(const struct pht_column *c, const struct view *v, const struct slots *sl,
    struct gacc *acc)
{
	if (v->bits != NULL) {
		switch (c->type) {
		case PHT_COL_NUMBER:
			GACC_SRC_BITS(c->v.f64, W_F64);
			break;
		case PHT_COL_INTEGER:
			GACC_SRC_BITS(c->v.i64, W_I64);
			break;
		default:
			GACC_SRC_BITS(c->v.u8, W_U8);
			break;
		}
		return;
	}
	switch (c->type) {
	case PHT_COL_NUMBER:
		GACC_SRC(c->v.f64, W_F64);
		break;
	case PHT_COL_INTEGER:
		GACC_SRC(c->v.i64, W_I64);
		break;
	default:
		GACC_SRC(c->v.u8, W_U8);
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
	n = scratch(L, nslots, sizeof(size_t));
	sum = scratch(L, 2 * nslots, sizeof(double));
	m2 = sum + nslots;
	poly_moments(L, v, c, lin, gid, gid8, nslots, n, sum, m2);
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
 * n_j (mean_j - mean)^2 each (after gacc_var).
 */
static void
gacc_total(const struct pht_column *c, struct gacc *acc, size_t nslots)
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
	if (t->n == 0)
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
 * suppressed is set. Without sumsq, var and sd when c has lineage lin of
 * degree 2 (their degree would be 4).
 */
static void
push_gacc(lua_State *L, const struct pht_column *c, const struct pht_train_lineage *lin,
    const struct gacc *a, int suppressed)
{
	int second = lin == NULL || lin->degree <= 1;

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
		lua_pushnumber(L, a->ss + a->sc);
		lua_setfield(L, -2, "sumsq");
		break;
	default:
		push_i128(L, a->isum);
		lua_setfield(L, -2, "sum");
		lua_pushnumber(L, (double)a->isum);
		lua_setfield(L, -2, "sumsq");
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
	cols = scratch(L, 2 * n, sizeof(void *));
	lin = (const struct pht_train_lineage **)(void *)(cols + n);
	for (j = 0; j < n; j++) {
		if (lua_rawgeti(L, idx, (lua_Integer)j + 1) != LUA_TSTRING)
			luaL_error(L, "%s: columns[%d] is a %s, not a column name", what,
			    (int)j + 1, luaL_typename(L, -1));
		cols[j] = find_col_lin(L, v, -1, &lin[j]);
		lua_pop(L, 1);
		t = cols[j]->type;
		if (t != PHT_COL_NUMBER && t != PHT_COL_INTEGER && t != PHT_COL_BOOLEAN)
			luaL_error(L, "%s: column %s is a %s column, not numeric", what,
			    cols[j]->name, pht_coltype_name(t));
		check_aggregatable(L, what, cols[j], lin[j], 0);
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
			note_values(L, v, cols[j], lins[j], 1, NULL, NULL, 0, NULL);
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
    size_t width, size_t slot, size_t rows, int64_t k)
{
	size_t i;

	lua_createtable(L, 0, 2);
	lua_pushinteger(L, (lua_Integer)rows);
	lua_setfield(L, -2, "n");
	lua_createtable(L, 0, (int)ncols);
	for (i = 0; i < ncols; i++) {
		push_gacc(L, cols[i], lins[i], &acc[i * width + slot],
		    figure_withheld(cols[i], lins[i], &acc[i * width + slot], rows, k));
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
	ones = scratch(L, 2 * nslots, sizeof(size_t));
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
 * data:aggregate({col, ...}): {n, stats = {col = {n, sum, sumsq, mean,
 * var, sd}}} over the whole view, as aggregate_by's total.
 */
static int
view_aggregate(lua_State *L)
{
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	struct view *v = check_view(L);
	const struct pht_column **cols;
	const struct pht_train_lineage **lins;
	struct gacc *acc;
	struct slots sl;
	size_t ncols, j;

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	cols = agg_columns(L, v, 2, "aggregate", &ncols, &lins);        /* 3 */
	guard_rows(L, v->n);
	mark_rows(L, v);
	note_rows(L, v);
	/* slot 0: every row; slot 1: the total (the same figures) */
	acc = scratch(L, 2 * ncols, sizeof(*acc));                     /* 4 */
	gacc_init(acc, 2 * ncols);
	memset(&sl, 0, sizeof(sl));
	sl.src = SLOT_GID32;    /* gid NULL: every row in slot 0 */
	for (j = 0; j < ncols; j++) {
		gacc_column(cols[j], v, &sl, acc + j * 2);
		gacc_var(cols[j], v, &sl, acc + j * 2, 1);
		gacc_poly(L, cols[j], lins[j], v, NULL, NULL, acc + j * 2, 1);
		gacc_total(cols[j], acc + j * 2, 1);
	}
	note_total_values(L, v, cols, lins, ncols, acc, 2, 1);
	push_agg_record(L, cols, lins, ncols, acc, 2, 1, v->n, ctx->k);
	return 1;
}

/*
 * data:aggregate_by(group, {col, ...}): per group of column group (as
 * group_by: same order, same suppression under k, the missing-key group
 * last when there is one) n and, per column, {n, sum, sumsq, mean, var,
 * sd} of its non-missing values, in two passes per column (sums, then
 * deviations from the group's mean); second result {n, stats} over the
 * whole view. A column's figures over fewer than k
 * values (but more than none) come back as {suppressed = true}. The view
 * and each released group are recorded as row sets behind the output.
 */
static int
view_aggregate_by(lua_State *L)
{
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	struct view *v = check_view_lazy(L);
	const struct pht_column *gc = find_col(L, v, 2), **cols;
	const struct pht_train_lineage **lins;
	struct grouping g;
	struct slots sl;
	struct gacc *acc;
	size_t ncols, nslots, width, i, j, *counts, *fn, nfolded = 0;
	lua_Integer idx = 0;
	int *released, *want;
	uint8_t *sup, *figsup;

	luaL_checktype(L, 3, LUA_TTABLE);
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
		materialize(L, 1, v);
	}
	guard_rows(L, v->n);
	mark_rows(L, v);
	note_rows(L, v);
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
		sl.gid8 = scratch(L, v->n, 1);                          /* 5 */
		lua_pushnil(L);                                         /* 6 */
	} else {
		group_rows(L, v, gc, "aggregate_by", &g);              /* 5, 6 */
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
	counts = scratch(L, nslots, sizeof(size_t));                   /* 7 */
	released = scratch(L, nslots, sizeof(int));                    /* 8 */
	acc = scratch(L, width * ncols, sizeof(*acc));                 /* 9 */
	gacc_init(acc, width * ncols);
	for (j = 0; j < ncols; j++) {
		gacc_column(cols[j], v, &sl, acc + j * width);
		if (sl.src == SLOT_I32 || sl.src == SLOT_U8)
			sl.src = SLOT_GID8;     /* the slots are written: read them back */
		gacc_var(cols[j], v, &sl, acc + j * width, nslots);
		gacc_poly(L, cols[j], lins[j], v, sl.src == SLOT_GID8 ? NULL : g.gid,
		    sl.src == SLOT_GID8 ? sl.gid8 : NULL, acc + j * width, nslots);
		gacc_total(cols[j], acc + j * width, nslots);
	}
	memset(counts, 0, nslots * sizeof(size_t));
	if (ncols > 0)
		for (j = 0; j < nslots; j++)
			counts[j] = acc[j].rows;
	else
		for (i = 0; i < v->n; i++)
			counts[g.gid[i] == NO_GROUP ? g.ngroups : g.gid[i]]++;
	sup = scratch(L, nslots, 1);                                   /* 10 */
	suppress_groups(&g, counts, ctx->k, sup, released);
	note_groups(L, v, &g, sl.src == SLOT_GID8 ? sl.gid8 : NULL, counts, released);
	/*
	 * Per column, its figures per group: withheld in a suppressed group,
	 * under figure_small(), and then complemented as the groups are (the
	 * column's total minus its released figures is the union of the
	 * withheld ones); the rows behind each released figure recorded (want).
	 */
	want = scratch(L, nslots, sizeof(int));                        /* 11 */
	figsup = scratch(L, ncols * nslots, 1);                        /* 12 */
	fn = scratch(L, nslots, sizeof(size_t));                       /* 13 */
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
		note_values(L, v, cols[i], lins[i], 1, sl.src == SLOT_GID8 ? NULL : g.gid,
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
			push_folded(L);
			lua_rawseti(L, -2, ++idx);
		}
		if (j == g.ngroups && counts[j] == 0)
			break;
		lua_createtable(L, 0, 3);
		if (j == g.ngroups) {
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, "missing");
		} else {
			push_group_key(L, &g, j);
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
				    figsup[i * nslots + j]);
				lua_setfield(L, -2, cols[i]->name);
			}
			lua_setfield(L, -2, "stats");
		}
		lua_rawseti(L, -2, ++idx);
	}
	/* the total over the whole view: {n, stats} */
	push_agg_record(L, cols, lins, ncols, acc, width, nslots, v->n, ctx->k);
	return 2;
}

/* ---- crosstab ---- */

/*
 * The lines (rows or columns) of a crosstab over grouping g: each group
 * its own line, in group order, except that (integer and date keys, as in
 * group_by) the groups of 0 < n < k rows of the view share one last line,
 * shown as {suppressed = true}. count[j] is group j's rows in the view.
 * Fills line[j] for every group; returns the number of lines, *folded set
 * when the last one is the shared line.
 */
static size_t
crosstab_lines(const struct grouping *g, const size_t *count, int64_t k, uint32_t *line,
    int *folded)
{
	size_t j, n = 0, nsmall = 0;

	for (j = 0; j < g->ngroups; j++)
		if (folds_small_keys(g) && is_small(count[j], k))
			nsmall++;
		else
			line[j] = (uint32_t)n++;
	*folded = nsmall > 0;
	if (*folded)
		for (j = 0; j < g->ngroups; j++)
			if (is_small(count[j], k))
				line[j] = (uint32_t)n;
	return n + (size_t)*folded;
}

/* Pushes the keys of the lines as a sequence ({suppressed = true} for a shared line). */
static void
push_lines(lua_State *L, const struct grouping *g, const size_t *count, int64_t k,
    size_t nlines, int folded)
{
	size_t j;
	lua_Integer idx = 0;

	lua_createtable(L, (int)nlines, 0);
	for (j = 0; j < g->ngroups; j++) {
		if (folds_small_keys(g) && is_small(count[j], k))
			continue;
		push_group_key(L, g, j);
		lua_rawseti(L, -2, ++idx);
	}
	if (folded) {
		push_folded(L);
		lua_rawseti(L, -2, ++idx);
	}
}

/*
 * The smallest non-zero released cell among n cells from start, step
 * apart (the first on a tie), or SIZE_MAX when there is none.
 */
static size_t
smallest_released(const size_t *cnt, const uint8_t *sup, size_t start, size_t step, size_t n)
{
	size_t t, c, best = SIZE_MAX;

	for (t = 0; t < n; t++) {
		c = start + t * step;
		if (!sup[c] && cnt[c] > 0 && (best == SIZE_MAX || cnt[c] < cnt[best]))
			best = c;
	}
	return best;
}

/*
 * Complementary suppression of an nr x nc table of counts cnt (row-major)
 * whose primarily suppressed cells are set in sup. A line's (row's or
 * column's) total, from group_by say, minus its released cells is the
 * union of its suppressed cells and of its rows missing the other column
 * (hide[l], never released: a cell like the others); the view's rows
 * minus the released cells, the union of every suppressed cell and of the
 * rows missing either column (hide_all). While one of these unions holds
 * 0 < rows < k, or a line has exactly one suppressed cell and no hidden
 * rows (the cell would be determined by the line alone, then usable in
 * the other line it is in), the
 * smallest non-zero released cell of that line (of the table, for the
 * view's) is suppressed too. A line with no non-zero
 * released cell left is left so (the line's total is then that union
 * itself, which group_by suppresses). Lines wait in a queue (rows
 * 0..nr-1, columns nr..nr+nc-1), each at most once, and are checked again
 * when one of their cells is suppressed; the table's union after the
 * queue is empty. Scratch: u (the unions) and nu (their suppressed cells)
 * and queue of nr + nc entries, queued of nr + nc bytes.
 * What lines alone cannot see (a suppressed cell determined through a
 * chain of lines, each with two or more) the release auditor withholds.
 */
static void
complementary_suppress(const size_t *cnt, uint8_t *sup, size_t nr, size_t nc,
    const size_t *hide, size_t hide_all, int64_t k, size_t *u, size_t *nu, uint32_t *queue,
    uint8_t *queued)
{
	size_t nl = nr + nc, head = 0, len, l, best, i, j, all = hide_all;

	for (l = 0; l < nl; l++) {
		u[l] = hide[l];
		nu[l] = 0;
	}
	for (i = 0; i < nr; i++)
		for (j = 0; j < nc; j++)
			if (sup[i * nc + j]) {
				u[i] += cnt[i * nc + j];
				u[nr + j] += cnt[i * nc + j];
				nu[i]++;
				nu[nr + j]++;
				all += cnt[i * nc + j];
			}
	for (l = 0; l < nl; l++) {
		queue[l] = (uint32_t)l;
		queued[l] = 1;
	}
	len = nl;
	for (;;) {
		if (len == 0) {
			if (!is_small(all, k) ||
			    (best = smallest_released(cnt, sup, 0, 1, nr * nc)) == SIZE_MAX)
				break;
		} else {
			l = queue[head];
			head = (head + 1) % nl;
			len--;
			queued[l] = 0;
			if (!is_small(u[l], k) && !(nu[l] == 1 && hide[l] == 0))
				continue;
			best = l < nr ? smallest_released(cnt, sup, l * nc, 1, nc) :
			    smallest_released(cnt, sup, l - nr, nc, nr);
			if (best == SIZE_MAX)
				continue;
		}
		sup[best] = 1;
		i = best / nc;
		j = best % nc;
		u[i] += cnt[best];
		u[nr + j] += cnt[best];
		nu[i]++;
		nu[nr + j]++;
		all += cnt[best];
		if (!queued[i]) {
			queue[(head + len++) % nl] = (uint32_t)i;
			queued[i] = 1;
		}
		if (!queued[nr + j]) {
			queue[(head + len++) % nl] = (uint32_t)(nr + j);
			queued[nr + j] = 1;
		}
	}
}

/*
 * Records the rows of each released, non-zero cell as a row set behind
 * the output (cell[i]: view position i's cell, SIZE_MAX for rows missing
 * either column). Suppressed cells and the view as a whole are not
 * recorded: only the released counts leave.
 */
static void
note_cells(lua_State *L, const struct view *v, const size_t *cell, const size_t *cnt,
    const uint8_t *sup, size_t ncells)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	size_t *off, i, j, at;
	uint32_t *rows;

	if (c->rowsets == NULL || c->ds != v->ds)
		return;
	off = scratch(L, ncells, sizeof(size_t));
	rows = scratch(L, v->n, sizeof(uint32_t));
	for (j = 0, at = 0; j < ncells; j++) {
		off[j] = at;
		at += sup[j] ? 0 : cnt[j];
	}
	for (i = 0; i < v->n; i++)
		if (cell[i] != SIZE_MAX && !sup[cell[i]])
			rows[off[cell[i]]++] = (uint32_t)vrow(v, i);
	for (j = 0; j < ncells; j++) {
		if (sup[j] || cnt[j] == 0)
			continue;
		record_set(L, rows + off[j] - cnt[j], cnt[j], 0);
	}
	lua_pop(L, 2);
}

/*
 * data:crosstab(a, b): {rows, cols, counts} over the rows with both a and
 * b. Lines as crosstab_lines; cells of 0 < count < k suppressed, then
 * complementary suppression (complementary_suppress(), the rows missing
 * a or b hidden in their lines); each released non-zero cell's rows
 * recorded.
 */
static int
view_crosstab(lua_State *L)
{
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	struct view *v = check_view(L);
	const struct pht_column *ca = find_col(L, v, 2), *cb = find_col(L, v, 3);
	struct grouping ga, gb;
	size_t *cells, *acount, *bcount, *cell, *hide, *usum, i, j, nr, nc, ncells, nhidden = 0;
	uint32_t *aline, *bline, *queue;
	uint8_t *sup, *queued;
	int afold, bfold;

	lua_settop(L, 3);
	guard_rows(L, v->n);
	mark_rows(L, v);
	group_rows(L, v, ca, "crosstab", &ga);                        /* 4, 5 */
	group_rows(L, v, cb, "crosstab", &gb);                        /* 6, 7 */
	if (ga.ngroups > GROUPS_MAX || gb.ngroups > GROUPS_MAX ||
	    (gb.ngroups > 0 && ga.ngroups > GROUPS_MAX / gb.ngroups))
		return luaL_error(L, "crosstab: more than %d cells", GROUPS_MAX);
	acount = scratch(L, ga.ngroups, sizeof(size_t));
	bcount = scratch(L, gb.ngroups, sizeof(size_t));
	aline = scratch(L, ga.ngroups, sizeof(uint32_t));
	bline = scratch(L, gb.ngroups, sizeof(uint32_t));
	memset(acount, 0, ga.ngroups * sizeof(size_t));
	memset(bcount, 0, gb.ngroups * sizeof(size_t));
	for (i = 0; i < v->n; i++) {
		if (ga.gid[i] != NO_GROUP)
			acount[ga.gid[i]]++;
		if (gb.gid[i] != NO_GROUP)
			bcount[gb.gid[i]]++;
	}
	nr = crosstab_lines(&ga, acount, ctx->k, aline, &afold);
	nc = crosstab_lines(&gb, bcount, ctx->k, bline, &bfold);
	ncells = nr * nc;
	cells = scratch(L, ncells, sizeof(size_t));
	sup = scratch(L, ncells, 1);
	cell = scratch(L, v->n, sizeof(size_t));
	hide = scratch(L, nr + nc, sizeof(size_t));
	usum = scratch(L, 2 * (nr + nc), sizeof(size_t));
	queue = scratch(L, nr + nc, sizeof(uint32_t));
	queued = scratch(L, nr + nc, 1);
	memset(cells, 0, ncells * sizeof(size_t));
	memset(hide, 0, (nr + nc) * sizeof(size_t));
	for (i = 0; i < v->n; i++) {
		cell[i] = SIZE_MAX;
		if (ga.gid[i] != NO_GROUP && gb.gid[i] != NO_GROUP) {
			cell[i] = (size_t)aline[ga.gid[i]] * nc + bline[gb.gid[i]];
			cells[cell[i]]++;
			continue;
		}
		/* a row missing b is hidden in its a line, and the other way round */
		if (ga.gid[i] != NO_GROUP)
			hide[aline[ga.gid[i]]]++;
		if (gb.gid[i] != NO_GROUP)
			hide[nr + bline[gb.gid[i]]]++;
		nhidden++;
	}
	for (j = 0; j < ncells; j++)
		sup[j] = (uint8_t)is_small(cells[j], ctx->k);
	complementary_suppress(cells, sup, nr, nc, hide, nhidden, ctx->k, usum, usum + nr + nc,
	    queue, queued);
	note_cells(L, v, cell, cells, sup, ncells);
	lua_createtable(L, 0, 3);
	push_lines(L, &ga, acount, ctx->k, nr, afold);
	lua_setfield(L, -2, "rows");
	push_lines(L, &gb, bcount, ctx->k, nc, bfold);
	lua_setfield(L, -2, "cols");
	lua_createtable(L, (int)nr, 0);
	for (i = 0; i < nr; i++) {
		lua_createtable(L, (int)nc, 0);
		for (j = 0; j < nc; j++) {
			if (sup[i * nc + j]) {
				lua_createtable(L, 0, 1);
				lua_pushboolean(L, 1);
				lua_setfield(L, -2, "suppressed");
			} else
				lua_pushinteger(L, (lua_Integer)cells[i * nc + j]);
			lua_rawseti(L, -2, (lua_Integer)j + 1);
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "counts");
	return 1;
}

static int
view_order(lua_State *L)
{
	check_view(L);
	return no_row_values(L, "data:order()");
}

static int
view_tostring(lua_State *L)
{
	struct view *v = check_view_lazy(L);

	lua_pushfstring(L, "view of dataset %s", pht_dataset_name(v->ds));
	return 1;
}

static int
col_tostring(lua_State *L)
{
	struct colview *cv = check_col(L);

	lua_pushfstring(L, "column %s (%s)", cv->col->name, pht_coltype_name(cv->col->type));
	return 1;
}

static void
register_metatables(lua_State *L)
{
	static const luaL_Reg view_methods[] = {
		{"nrows", view_nrows}, {"name", view_name}, {"k", view_k},
		{"columns", view_columns},
		{"column", view_column}, {"dictionary", view_dictionary},
		{"where", view_where}, {"filter", view_filter},
		{"group_by", view_group_by}, {"aggregate", view_aggregate},
		{"aggregate_by", view_aggregate_by},
		{"crosstab", view_crosstab},
		{"order", view_order}, {NULL, NULL},
	};
	static const luaL_Reg col_methods[] = {
		{"count", col_count}, {"sum", col_sum}, {"sumsq", col_sumsq},
		{"mean", col_mean}, {"var", col_var}, {"sd", col_sd},
		{"min", col_min}, {"max", col_max},
		{"values", col_values}, {NULL, NULL},
	};

	if (luaL_newmetatable(L, VIEW_MT)) {
		luaL_newlib(L, view_methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, view_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, COLUMN_MT)) {
		luaL_newlib(L, col_methods);
		lua_pushcclosure(L, col_index, 1);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, col_len);
		lua_setfield(L, -2, "__len");
		lua_pushcfunction(L, col_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
	}
	lua_pop(L, 1);
}

/* ---- interface for kernels in other files of trains/ ---- */

void
pht_train_data_view_rows(lua_State *L, int idx, struct pht_train_view_rows *out)
{
	struct view *v = view_at(L, idx);

	out->ds = v->ds;
	out->n = v->n;
	out->sel = v->all ? NULL : v->sel;
}

void
pht_train_data_use(lua_State *L, int idx)
{
	struct view *v = view_at(L, idx);

	guard_rows(L, v->n);
	mark_rows(L, v);
	note_rows(L, v);
}

/* 1 when, in some cell, poly has both a constant term and a term of the data. */
static int
adds_constant(const struct pht_train_poly *p, size_t ncells)
{
	size_t c, t;
	int k, d;

	for (c = 0; c < ncells; c++) {
		for (k = d = 0, t = 0; t < p->nterms; t++) {
			if (p->coef[c * p->nterms + t] == 0)
				continue;
			if (p->mono[t].x[0] == NULL && p->mono[t].x[1] == NULL)
				k = 1;
			else
				d = 1;
		}
		if (k && d)
			return 1;
	}
	return 0;
}

/* A column for a kernel: aggregatable, of degree 1 at most; *lin its lineage. */
static const struct pht_column *
kernel_col(lua_State *L, int view_idx, int name_idx, const struct pht_train_lineage **lin)
{
	struct view *v = view_at(L, view_idx);
	const struct pht_column *c = find_col_lin(L, v, name_idx, lin);

	if (*lin != NULL && !(*lin)->aggregatable)
		luaL_error(L, "column %s is shape-only (made by %s): it may be counted, but not "
		    "compared with a constant, summed, averaged or given to a kernel "
		    "(docs/train-api.md, \"Derived columns\")", c->name, (*lin)->why);
	if (*lin != NULL && (*lin)->degree > 1)
		luaL_error(L, "column %s has degree %d in the data's values: a kernel takes "
		    "columns of degree 1 at most, since its sums of squares and cross-products "
		    "would go above 2 (docs/train-api.md, \"Derived columns\")", c->name,
		    (*lin)->degree);
	if (*lin != NULL && (*lin)->poly != NULL && adds_constant((*lin)->poly, (*lin)->ncells))
		luaL_error(L, "column %s adds a constant to data values: a kernel reads rounded "
		    "values, where a large constant can make a step; give it the column without "
		    "the constant (a model's intercept takes it; days between two date columns) "
		    "(docs/train-api.md, \"Derived columns\")", c->name);
	if (*lin != NULL && (*lin)->ncells <= 1)
		*lin = NULL;
	return c;
}

const struct pht_column *
pht_train_data_column_arg(lua_State *L, int view_idx, int name_idx)
{
	const struct pht_train_lineage *lin;
	const struct pht_column *c = kernel_col(L, view_idx, name_idx, &lin);

	if (lin != NULL && lin->own)
		lin = NULL;     /* a dataset 0/1 column: the kernel's own rules apply */
	if (lin != NULL)
		luaL_error(L, "column %s is built from predicates (a comparison, a boolean, cut "
		    "or recode) whose cells this kernel does not check: give it a dataset column "
		    "or a where() view instead (docs/train-api.md, \"Derived columns\")",
		    c->name);
	return c;
}

const struct pht_column *
pht_train_data_column_arg_lineage(lua_State *L, int view_idx, int name_idx,
    const struct pht_train_lineage **lin)
{
	return kernel_col(L, view_idx, name_idx, lin);
}

void
pht_train_data_guard_lineage(lua_State *L, const struct pht_column *col,
    const struct pht_train_lineage *lin, const uint32_t *rows, size_t n)
{
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	struct view none;
	struct part *e;
	size_t i;

	if (lin == NULL || lin->ncells <= 1)
		return;
	e = scratch(L, n, sizeof(*e));
	for (i = 0; i < n; i++) {
		e[i].key = pht_train_lineage_cell(lin, rows[i]);
		e[i].row = rows[i];
	}
	memset(&none, 0, sizeof(none));
	none.ds = ctx->ds;      /* note_parts records into ctx's dataset only */
	note_parts(L, &none, col, e, n, lin->ncells, lin->own ? 2 : 1);
	lua_pop(L, 1);
}

void
pht_train_data_guard_values(lua_State *L, size_t n, const struct pht_column *col)
{
	guard_values(L, n, col);
}

void
pht_train_data_view_methods_add(lua_State *L, const luaL_Reg *methods)
{
	register_metatables(L);
	luaL_getmetatable(L, VIEW_MT);
	lua_getfield(L, -1, "__index");
	luaL_setfuncs(L, methods, 0);
	lua_pop(L, 2);
}

void
pht_train_data_push(lua_State *L, const struct pht_dataset *ds)
{
	size_t n = pht_dataset_nrows(ds);

	if (n > UINT32_MAX)
		luaL_error(L, "dataset %s has more than %u rows", pht_dataset_name(ds),
		    (unsigned)UINT32_MAX);
	register_metatables(L);
	new_view(L, ds, n, 1);
}

uint64_t
pht_train_data_rows_read(const struct pht_train_ctx *ctx)
{
	uint64_t n = 0;
	size_t i, nrows;

	if (ctx->ds == NULL || ctx->rows_touched == NULL)
		return 0;
	nrows = pht_dataset_nrows(ctx->ds);
	/* eight bytes at a time, then the rest of the nrows / 8 + 1 bytes */
	for (i = 0; i + 8 <= nrows / 8 + 1; i += 8) {
		uint64_t w;

		memcpy(&w, ctx->rows_touched + i, 8);
		n += (uint64_t)__builtin_popcountll(w);
	}
	for (; i < nrows / 8 + 1; i++)
		n += (uint64_t)__builtin_popcount(ctx->rows_touched[i]);
	return n;
}

void
pht_train_data_columns_read(const struct pht_train_ctx *ctx, char *out,
    size_t outlen)
{
	size_t i, len = 0, nl, ncols;
	const char *name;

	if (outlen == 0)
		return;
	out[0] = 0;
	if (ctx->ds == NULL || ctx->cols_touched == NULL)
		return;
	ncols = pht_dataset_ncols(ctx->ds);
	for (i = 0; i < ncols; i++) {
		if (!ctx->cols_touched[i])
			continue;
		name = pht_dataset_column(ctx->ds, i)->name;
		nl = strlen(name);
		if (len + (len > 0) + nl + 5 > outlen) {
			if (len + 5 <= outlen)
				memcpy(out + len, ",...", 5);
			return;
		}
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, name, nl);
		len += nl;
		out[len] = 0;
	}
}

/* ---- interface for derived columns (pht_train_derive.c) ---- */

const struct pht_column *
pht_train_data_column_test(lua_State *L, int idx, struct pht_train_view_rows *rows,
    const struct pht_train_lineage **lin)
{
	struct colview *cv = luaL_testudata(L, idx, COLUMN_MT);

	if (lin != NULL)
		*lin = cv != NULL ? cv->lin : NULL;
	if (cv == NULL)
		return NULL;
	if (rows != NULL) {
		rows->ds = cv->v->ds;
		rows->n = cv->v->n;
		rows->sel = cv->v->all ? NULL : cv->v->sel;
	}
	return cv->col;
}

void
pht_train_data_push_derived(lua_State *L, int col_idx, const struct pht_column *col,
    const struct pht_train_lineage *lin, int owner_idx)
{
	struct colview *src = luaL_checkudata(L, col_idx, COLUMN_MT), *cv;

	col_idx = lua_absindex(L, col_idx);
	owner_idx = lua_absindex(L, owner_idx);
	cv = lua_newuserdatauv(L, sizeof(*cv), 2);
	memset(cv, 0, sizeof(*cv));
	cv->col = col;
	cv->lin = lin;
	cv->v = src->v;
	lua_getiuservalue(L, col_idx, 1);       /* the view */
	lua_setiuservalue(L, -2, 1);
	lua_pushvalue(L, owner_idx);
	lua_setiuservalue(L, -2, 2);
	luaL_setmetatable(L, COLUMN_MT);
}

void
pht_train_data_column_methods_add(lua_State *L, const luaL_Reg *methods,
    const luaL_Reg *metamethods)
{
	register_metatables(L);
	luaL_getmetatable(L, COLUMN_MT);
	if (metamethods != NULL)
		luaL_setfuncs(L, metamethods, 0);
	lua_getfield(L, -1, "__index");
	lua_getupvalue(L, -1, 1);               /* col_index's method table */
	luaL_setfuncs(L, methods, 0);
	lua_pop(L, 3);
}

const struct pht_train_with *
pht_train_data_view_with(lua_State *L, int idx)
{
	struct view *v = view_at(L, idx);

	if (v->with != NULL)
		lua_getiuservalue(L, idx, 2);
	else
		lua_pushnil(L);
	return v->with;
}

void
pht_train_data_push_with(lua_State *L, int view_idx, const struct pht_train_with *with,
    int with_idx)
{
	struct view *v = view_at(L, view_idx), *nv;

	view_idx = lua_absindex(L, view_idx);
	with_idx = lua_absindex(L, with_idx);
	if (v->all)
		nv = new_view(L, v->ds, v->n, 1);
	else {
		/* the same selection, kept alive through the parent */
		nv = new_view(L, v->ds, 0, 0);
		nv->n = v->n;
		nv->sel = v->sel;
		lua_pushvalue(L, view_idx);
		lua_setiuservalue(L, -2, 1);
	}
	nv->marked = v->marked;
	nv->noted = v->noted;   /* the same set of rows */
	nv->with = with;
	lua_pushvalue(L, with_idx);
	lua_setiuservalue(L, -2, 2);
}
