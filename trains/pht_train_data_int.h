/* pht_train_data_int.h — private to the data API's files (pht_train_data*.c): the view and column structs, shared inline helpers and the functions one of them calls in another. */
#ifndef PHT_TRAIN_DATA_INT_H
#define PHT_TRAIN_DATA_INT_H

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

#define VIEW_MT "pht.view"
#define COLUMN_MT "pht.column"
#define GROUPS_MAX 1000000
#define IN_MAX 100000
#define NO_GROUP UINT32_MAX      /* a row missing the grouping column */

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
 * directly; every other method first turns it into sel (train_data_materialize()).
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

/*
 * A column a train may see: any but the identifier, which is not in the
 * train's view at all.
 */
static inline int
visible(const struct pht_column *col)
{
	return col->role != PHT_ROLE_IDENTIFIER;
}

/* One row behind a release, and the part (cell, group) it is in. */
struct part {
	uint64_t key;
	uint32_t row;
};

__extension__ typedef __int128 i128;

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

struct grouping {
	const struct pht_column *col;
	uint32_t *gid;          /* per view position; NO_GROUP for missing */
	size_t ngroups;
	int64_t *keys;          /* distinct values (integer and date columns) */
	size_t nmissing;
};

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

/* ---- pht_train_data.c (view objects, scratch memory, row records) ---- */

/* Pushes a new view of n rows of ds (rows 0..n-1 when all, else sel[] for the caller to fill) and returns it. */
struct view *
train_data_new_view(lua_State *L, const struct pht_dataset *ds, size_t n, int all);

/*
 * Scratch memory inside the Lua heap (counted, freed by the collector): a
 * userdata, so a large block (selection vectors, bitmaps, group bytes:
 * written once, streamed) is a huge-page mapping of its own
 * (PHT_TRAIN_BIG_BLOCK in pht_train_lua.h).
 */
void *
train_data_scratch(lua_State *L, size_t n, size_t size);

/* Raises a disclosure error when 0 < n < the station's k (a subset of n rows). */
void
train_data_guard_rows(lua_State *L, size_t n);

/* Raises a disclosure error when 0 < n < k non-missing values of col. */
void
train_data_guard_values(lua_State *L, size_t n, const struct pht_column *col);

/* Records the rows of v in the run's rows_touched (once per view; only for the run's dataset). */
void
train_data_mark_rows(lua_State *L, struct view *v);

/*
 * Adds the n rows at rows (all: every row of the dataset) to the run's row
 * sets (ctx->rowsets, not NULL); ends the run past the bounds.
 */
void
train_data_record_set(lua_State *L, const uint32_t *rows, size_t n, int all);

/*
 * Records the view's rows as a set behind the output (an aggregate, a
 * count, values or per-row access was computed over exactly these rows).
 * The station compares these sets across releases (differencing).
 */
void
train_data_note_rows(lua_State *L, struct view *v);

/*
 * Raises the (catchable) error of a call that would hand the train a
 * row-level value: no such value reaches a train.
 */
int
train_data_no_row_values(lua_State *L, const char *what);

/*
 * Turns the bitmap selection of the view v at stack index idx into sel
 * (its rows ascending, as where() on a selection writes them); the
 * block replaces the bitmap as user value 1. Nothing for other views.
 */
void
train_data_materialize(lua_State *L, int idx, struct view *v);

/* The view at idx, its selection materialized. */
struct view *
train_data_view_at(lua_State *L, int idx);

/* self, a view whose selection may still be a bitmap (methods that read it as such). */
struct view *
train_data_check_view_lazy(lua_State *L);

/* The view at argument 1 with its selection materialized; raises a Lua error if it is not a view. */
struct view *
train_data_check_view(lua_State *L);

/*
 * The view nv, just pushed, sees the with{} names of parent, which is the
 * view at stack index 1 (the method's self).
 */
void
train_data_inherit_with(lua_State *L, const struct view *parent, struct view *nv);

/*
 * Pushes a view made of the first m entries of sel, a scratch block of
 * parent->n entries at stack index sel_idx. When the selection fills at
 * least a quarter of the block the view keeps the block (as its user
 * value) instead of a copy: no second allocation and no copy, for at most
 * three times its size in unused entries; a smaller one is copied.
 */
void
train_data_push_selection(lua_State *L, const struct view *parent, uint32_t *sel, int sel_idx,
    size_t m);

/* Creates the view and column metatables in the registry (once per state). */
void
train_data_register_metatables(lua_State *L);

/* ---- pht_train_data_lineage.c (column lookup, lineage cells, values) ---- */

/* The column named by argument arg and its lineage (lin may be NULL); recorded as read. */
const struct pht_column *
train_data_find_col_lin(lua_State *L, const struct view *v, int arg, const struct pht_train_lineage **lin);

/* The column named by argument arg of view v (find_col_lin without the lineage). */
const struct pht_column *
train_data_find_col(lua_State *L, const struct view *v, int arg);

/*
 * Raises (catchable: the rule depends on the expression only, never on
 * the data) when `what` may not be computed from col: a shape-only column
 * is never summed, averaged or given to a kernel; second moments (sumsq,
 * var, sd: squares of the values) need degree 1 at most, so that no
 * release is a sum of degree above 2 in the data's values.
 */
void
train_data_check_aggregatable(lua_State *L, const char *what, const struct pht_column *col,
    const struct pht_train_lineage *lin, int second);

/*
 * The parts behind a release: e[0..m-1], one per row a result is computed
 * from, keyed by its part (< nparts: a cell of col's lineage, times the
 * group for aggregate_by). Sorts them by part; ends the run when a part has 0 < rows < k
 * (with cells set, a cell of fewer than k rows is as small a subset as a
 * view of that many rows; cells 2: the cells are a dataset 0/1 column's
 * values, 1: a derived column's predicates); records each part's rows as a row set. Leaves
 * the stack as it was.
 */
void
train_data_note_parts(lua_State *L, const struct view *v, const struct pht_column *col, struct part *e,
    size_t m, uint64_t nparts, int cells);

/*
 * train_data_note_parts() for a lineage of two cells (lin->ncells == 2)
 * over rows[0..n-1] of ctx's dataset, without the pairs and the sort: a
 * count and a stable partition give the same checks, in the same order,
 * and the same row sets (cell 0's, then cell 1's, each in the order of
 * rows). A model round does this for every 0/1 term. Leaves the stack as
 * it was.
 */
void
train_data_note_two_cells(lua_State *L, const struct pht_column *col,
    const struct pht_train_lineage *lin, const uint32_t *rows, size_t n, int cells);

/*
 * Guards and records the rows an aggregate of col over v is computed
 * from: the view's rows where col is not missing (not the whole view: a
 * whole-column figure minus a complete-case one would otherwise show the
 * dropped rows to no audit), split by the cells of lin when cells is set
 * and, when gid (group per view position, NO_GROUP for slot ngroups) or
 * gid8 (slot per position) is given, by group slot, keeping only slots s
 * with want[s]. See train_data_note_parts().
 */
void
train_data_note_values(lua_State *L, struct view *v, const struct pht_column *col,
    const struct pht_train_lineage *lin, int cells, const uint32_t *gid, const uint8_t *gid8,
    uint32_t ngroups, const int *want);

/* Pushes the date days (since the epoch) as a "YYYY-MM-DD" string. */
void
train_data_push_date(lua_State *L, int64_t days);

/* Parses "YYYY-MM-DD" into days since the epoch; 0 if malformed. */
int
train_data_parse_date(const char *s, size_t len, int64_t *days);

/* Pushes the value of column c at row r (nil when missing) in its Lua form. */
void
train_data_push_cell(lua_State *L, const struct pht_column *c, size_t r);

/* ---- pht_train_data_column.c (column methods and kernels) ---- */

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
void
train_data_poly_moments(lua_State *L, const struct view *v, const struct pht_column *col,
    const struct pht_train_lineage *lin, const uint32_t *gid, const uint8_t *gid8,
    size_t nslots, size_t *n, double *sum, double *m2);

/* col:count(): the number of non-missing values. */
int
train_data_col_count(lua_State *L);

/* col:sum(): the sum of the non-missing values. */
int
train_data_col_sum(lua_State *L);

/* col:sumsq(): the sum of the squares of the non-missing values. */
int
train_data_col_sumsq(lua_State *L);

/* col:mean(): the mean of the non-missing values. */
int
train_data_col_mean(lua_State *L);

/* col:var(): the sample variance of the non-missing values. */
int
train_data_col_var(lua_State *L);

/* col:sd(): the sample standard deviation of the non-missing values. */
int
train_data_col_sd(lua_State *L);

/* col:min(): removed (a row-level value), always a train error. */
int
train_data_col_min(lua_State *L);

/* col:max(): removed (a row-level value), always a train error. */
int
train_data_col_max(lua_State *L);

/*
 * col:values(): every value of the view, only in a run with row access
 * (a data permit's row_access); otherwise an error.
 */
int
train_data_col_values(lua_State *L);

/* #col: the number of rows of the column's view. */
int
train_data_col_len(lua_State *L);

/* The column's __index: its methods (upvalue 1); col[i] is a train error. */
int
train_data_col_index(lua_State *L);

/* The column's __tostring: its name and type. */
int
train_data_col_tostring(lua_State *L);

/* ---- pht_train_data_where.c (selections) ---- */

/* data:where(col, op, value): the view of the rows that satisfy the condition (subsets under k refused). */
int
train_data_view_where(lua_State *L);

/* data:filter(): removed (a row-level selection), always a train error. */
int
train_data_view_filter(lua_State *L);

/* ---- pht_train_data_group.c (grouping and crosstab) ---- */

/* Leaves two scratch userdata on the stack (gid, keys). */
void
train_data_group_rows(lua_State *L, const struct view *v, const struct pht_column *c,
    const char *what, struct grouping *g);

/* Pushes the key of group j of g in its Lua form. */
void
train_data_push_group_key(lua_State *L, const struct grouping *g, size_t j);

/* Pushes the entry the folded small groups stand for: {suppressed = true}. */
void
train_data_push_folded(lua_State *L);

/*
 * Records the rows of each released, non-empty group as a row set behind
 * the output (what g.data:column(c):sum() would record for each group).
 * The slots come from gid8 when not NULL, else from g->gid. A view v
 * with a bitmap selection must be the method's argument 1.
 */
void
train_data_note_groups(lua_State *L, struct view *v, const struct grouping *g,
    const uint8_t *gid8, const size_t *counts, const int *released);

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
void
train_data_suppress_groups(const struct grouping *g, const size_t *counts, int64_t k, uint8_t *sup,
    int *released);

/* data:group_by(col): a table of views, one per group of the column. */
int
train_data_view_group_by(lua_State *L);

/*
 * data:crosstab(a, b): {rows, cols, counts} over the rows with both a and
 * b. Lines as crosstab_lines; cells of 0 < count < k suppressed, then
 * complementary suppression (complementary_suppress(), the rows missing
 * a or b hidden in their lines); each released non-zero cell's rows
 * recorded.
 */
int
train_data_view_crosstab(lua_State *L);

/* ---- pht_train_data_aggby.c (aggregate, aggregate_by) ---- */

/*
 * data:aggregate({col, ...}): {n, stats = {col = {n, sum, sumsq, mean,
 * var, sd}}} over the whole view, as aggregate_by's total.
 */
int
train_data_view_aggregate(lua_State *L);

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
int
train_data_view_aggregate_by(lua_State *L);

#endif
