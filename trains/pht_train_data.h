/* pht_train_data.h — the data API a train's station() sees: read-only columnar views (internal to trains/). */
#ifndef PHT_TRAIN_DATA_H
#define PHT_TRAIN_DATA_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

struct pht_dataset;
struct pht_train_ctx;

/*
 * Pushes the view of all rows of ds (the `data` argument). ds must outlive
 * the state. Registers the view and column metatables (protected:
 * getmetatable gives false) on first use, with the base methods only: the
 * kernel libraries are opened by pht_train_open_data(), which a station
 * run calls. Raises on memory errors.
 */
void pht_train_data_push(lua_State *L, const struct pht_dataset *ds);

/* Distinct rows of ctx->ds touched through the data API so far. */
uint64_t pht_train_data_rows_read(const struct pht_train_ctx *ctx);

/*
 * Comma-separated names of the columns the train read, in dictionary
 * order, into out (always NUL-terminated; ends with ",..." if cut).
 */
void pht_train_data_columns_read(const struct pht_train_ctx *ctx, char *out,
    size_t outlen);

/*
 * ---- Interface for kernels in other files of trains/ ----
 *
 * Other files (e.g. pht_train_model.c) may add methods to the view
 * metatable (`data:method(...)`) and read a view's rows and columns
 * directly. They must keep the disclosure controls: call
 * pht_train_data_use() on a view before computing anything from its rows
 * (k guard on the row count, rows recorded as read, the row set recorded
 * for the differencing check), and pht_train_data_guard_values() on the
 * number of non-missing values a result is computed from. They return
 * aggregates only: no row-level value, minimum or maximum reaches a train
 * (docs/train-api.md), and a column that pht_train_data_column_arg()
 * refuses (the identifier) is not theirs to read. Everything
 * reached through this interface is read-only and lives as long as the
 * view at the given stack index stays reachable.
 */

#include <lauxlib.h>

struct pht_column;

/* The rows a view selects, in view order (read-only). */
struct pht_train_view_rows {
	const struct pht_dataset *ds;
	size_t n;               /* rows in the view */
	const uint32_t *sel;    /* row indices of ds; NULL when the view is rows 0..n-1 */
};

/* Row index of ds at view position i (0 <= i < vr->n). */
static inline size_t
pht_train_view_row(const struct pht_train_view_rows *vr, size_t i)
{
	return vr->sel != NULL ? vr->sel[i] : i;
}

/*
 * Fills out with the rows of the view at stack index idx. Raises the
 * usual "bad argument #idx (pht.view expected, got T)" if the value is not
 * a view. No disclosure check: see pht_train_data_use().
 */
void pht_train_data_view_rows(lua_State *L, int idx,
    struct pht_train_view_rows *out);

/*
 * Declares that a result is about to be computed over the rows of the
 * view at idx: ends the run (uncatchable) with "subset smaller than k (N
 * rows, k = K)" when 0 < rows < k, records its rows as read and its row
 * set as behind the output. Raises if idx is not a view.
 */
void pht_train_data_use(lua_State *L, int idx);

/*
 * The column of the view at view_idx named by the string argument at
 * name_idx, recorded as read by the train; raises "no column 'X' in
 * dataset D" if there is none, or a bad-argument error if name_idx is not
 * a string. Its arrays (c->v.f64/i64/i32/u8, indexed by dataset row) and
 * its missing bitmap (c->missing, NULL when nothing is missing; test with
 * pht_column_is_missing()) are read-only.
 *
 * The safe default for kernels: it also raises (catchable; the message
 * names the rule, docs/train-api.md "Derived columns") for a derived
 * column that is shape-only, that has degree 2 (a kernel's sums of
 * squares and cross-products would have degree 4), whose polynomial adds
 * a constant to data terms (a kernel reads rounded values, and a large
 * constant rounds the data into steps), or that carries a lineage (a
 * partition of the rows made by the predicates it was built from: a
 * derived boolean, a cut or recode, cost * age:eq(30)). A kernel that
 * checks the cells of a lineage opts in with
 * pht_train_data_column_arg_lineage() instead.
 */
const struct pht_column *pht_train_data_column_arg(lua_State *L, int view_idx,
    int name_idx);

struct pht_train_lineage;

/*
 * pht_train_data_column_arg() that also takes a column carrying a
 * lineage: *lin gets it (NULL when the column has none: a dataset column,
 * or a derived column of one cell). The caller must then call
 * pht_train_data_guard_lineage() on exactly the rows it computes from
 * (its complete cases) before releasing anything computed from them.
 */
const struct pht_column *pht_train_data_column_arg_lineage(lua_State *L, int view_idx,
    int name_idx, const struct pht_train_lineage **lin);

/*
 * Splits the n rows at rows (dataset rows, distinct, any order) by the
 * cells of lin (col's lineage; nothing to do when lin is NULL or has one
 * cell): ends the run (uncatchable) with "subset smaller than k" when a
 * non-empty cell has fewer than k rows, and records every cell's rows as
 * a row set behind the output.
 */
void pht_train_data_guard_lineage(lua_State *L, const struct pht_column *col,
    const struct pht_train_lineage *lin, const uint32_t *rows, size_t n);

/*
 * Ends the run with "subset smaller than k (N non-missing values in
 * column C, k = K)" when 0 < n < k.
 */
void pht_train_data_guard_values(lua_State *L, size_t n,
    const struct pht_column *col);

/*
 * Adds methods (a {NULL, NULL}-terminated list) to the view metatable,
 * making it first if needed; a name already present is replaced. Meant to
 * be called once per state from a file's registration function, e.g.
 * `void pht_train_model_register(lua_State *L)`, which
 * pht_train_open_data() calls before pushing the view (one line in the
 * table of pht_train_open.c per registering file). Raises on memory errors.
 */
void pht_train_data_view_methods_add(lua_State *L, const luaL_Reg *methods);

/*
 * ---- Column handles and named derived columns (pht_train_derive.c) ----
 */

struct pht_train_with;

/*
 * The column of the column handle at idx, or NULL when the value there is
 * not a column handle; *rows (may be NULL) gets the rows of the handle's
 * view, *lin (may be NULL) the column's lineage (NULL for a dataset
 * column). Nothing is recorded (no guard, no row set).
 */
const struct pht_column *pht_train_data_column_test(lua_State *L, int idx,
    struct pht_train_view_rows *rows, const struct pht_train_lineage **lin);

/*
 * Pushes a new column handle for col, with lineage lin (pht_train_derive.h;
 * never NULL for a derived column), bound to the view of the column handle
 * at col_idx (aggregates on it are over that view, with its guards and
 * row-set recording). The value at owner_idx (the userdata holding col,
 * lin and their arrays) is kept alive as long as the handle. col and lin
 * must stay valid and unchanged while owner lives.
 */
void pht_train_data_push_derived(lua_State *L, int col_idx,
    const struct pht_column *col, const struct pht_train_lineage *lin, int owner_idx);

/*
 * Adds methods to the column handles' method table and metamethods
 * (__add, ...; NULL for none) to their metatable, making it first if
 * needed. Called once per state from a file's registration function.
 */
void pht_train_data_column_methods_add(lua_State *L, const luaL_Reg *methods,
    const luaL_Reg *metamethods);

/*
 * The derived-column names the view at idx sees (NULL when none); pushes
 * the object holding them (nil when none). Raises if idx is not a view.
 */
const struct pht_train_with *pht_train_data_view_with(lua_State *L, int idx);

/*
 * Pushes a view of the same rows as the view at view_idx that sees the
 * names of with, held by the object at with_idx (kept alive by the view
 * and by every view made from it: where, group_by, ...).
 */
void pht_train_data_push_with(lua_State *L, int view_idx,
    const struct pht_train_with *with, int with_idx);

#endif
