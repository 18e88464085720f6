/* pht_train_derive_int.h — private to the derived-column files (pht_train_derive*.c): the derived column and operand structs and the functions one of them calls in another. */
#ifndef PHT_TRAIN_DERIVE_INT_H
#define PHT_TRAIN_DERIVE_INT_H

#include "pht_train_derive.h"
#include "pht_train_data.h"
#include "pht_train_kernel.h"
#include "pht_dataset.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DERIVED_NAME "<derived>"

/*
 * A derived column: the struct pht_column the data API reads and its
 * lineage (what may be aggregated), followed in the same userdata by its
 * arrays over every row of the dataset (values, the missing bitmap, always
 * allocated so that the size never depends on the data, then for a
 * category its level pointers and level names). The userdata's user value
 * 1 holds what lin.cell or lin.bcell points into when that is not this
 * userdata (an operand's column, or a cell array of its own); user value
 * 2 a table of what poly refers to (the operands' handles, the
 * coefficients). Invariants, as for loaded columns: a missing cell holds 0
 * and has its bit set; a number is always finite; a category code is <
 * nlevels; col.missing is NULL when no cell is missing. Never changed once
 * made.
 */
struct derived {
	struct pht_column col;
	struct pht_train_lineage lin;
	struct pht_train_poly poly;     /* lin.poly points here when it has one */
	size_t nrows;
	uint64_t data[];        /* 8-aligned, as Lua aligns a userdata with user values */
};

/*
 * The names with{} gives, in the order they were given (a chained call's
 * names after its parent's, each call's sorted). Each entry is a copy of
 * the named column carrying the name. The userdata's user value 1 is a
 * table holding what keeps the sources alive (their column handles and
 * the parent's names).
 */
struct with_entry {
	struct pht_column col;
	const struct pht_train_lineage *lin;    /* NULL: a dataset column */
	char name[PHT_TRAIN_DERIVE_NAME_MAX + 1];
};

struct pht_train_with {
	size_t n;
	struct with_entry e[];
};

static inline void
set_miss(uint8_t *m, size_t r)
{
	m[r >> 3] |= (uint8_t)(1u << (r & 7));
}

static inline int
is_numeric(enum pht_coltype t)
{
	return t == PHT_COL_NUMBER || t == PHT_COL_INTEGER || t == PHT_COL_BOOLEAN;
}

static inline void *
dvalues(struct derived *d)
{
	return (void *)d->data;
}

static inline uint8_t *
dmissing(struct derived *d)
{
	return (uint8_t *)(uintptr_t)d->col.missing;
}

/*
 * A column handle or a Lua scalar, as an operand. lin is the lineage it
 * brings to a result: the handle's for a derived column; for a dataset
 * boolean column its own values (own); NULL for a number or another
 * dataset column (aggregatable, degree 1, one cell).
 */
struct opnd {
	const struct pht_column *col;   /* NULL: a scalar */
	struct pht_train_view_rows rows;
	int idx;                        /* stack index */
	int ltype;                      /* the scalar's Lua type */
	double x;                       /* number scalars */
	const struct pht_train_lineage *lin;
	struct pht_train_lineage own;
};

/* An operand's degree: 0 for a number or a boolean, 1 for a dataset column. */
static inline int
opnd_degree(const struct opnd *o)
{
	if (o->col == NULL)
		return 0;
	return o->lin != NULL ? o->lin->degree : 1;
}

static inline int
opnd_aggregatable(const struct opnd *o)
{
	return o->lin == NULL || o->lin->aggregatable;
}

enum pkind { P_SUM, P_MUL, P_IFELSE, P_SELF };

/* ---- pht_train_derive.c () ---- */

/*
 * The thresholds of a comparison (docs/train-api.md, "Thresholds"): a
 * number or date column compared with a constant x must be a dataset
 * column, x on its grid (pht_train_kernel_threshold), or a multiple of one
 * plus a constant, coef * c + c0, the threshold (x - c0) / coef on c's
 * grid; compared with a column, both must be dataset columns. Anything
 * else could move a threshold off the grid (cost - 23450 compared with
 * 6.78, cost compared with 1.0001 * age): raises, from the expression
 * alone.
 */
void
train_derive_check_threshold(lua_State *L, const char *what, const struct opnd *a, const struct opnd *b,
    double x);

/* ---- pht_train_derive_lineage.c (derived columns, operands, lineage and polynomials) ---- */

/*
 * Pushes a new derived column of type t over nrows rows (nlevels levels
 * whose names take name_bytes bytes with their NULs, for a category) and
 * returns it; values and bitmap zeroed, level pointers unset.
 */
struct derived *
train_derive_derived_new(lua_State *L, enum pht_coltype t, size_t nrows, size_t nlevels,
    size_t name_bytes);

/* Reads the value at stack index idx into *o: a column handle (with its rows and lineage) or a Lua scalar. */
void
train_derive_opnd_get(lua_State *L, int idx, struct opnd *o);

/* Makes d shape-only: why names the operation (the first one, if an operand was already). */
void
train_derive_shape_only(struct derived *d, const struct opnd *const *ops, size_t nops, const char *why);

/*
 * d's lineage: the product of the partitions of the operands (cells are
 * the distinct combinations of their cells, numbered in order of first
 * row). One partition is shared (its holder kept as d's user value 1);
 * two or more make a cell array of d's own. d is at the top of the stack.
 */
void
train_derive_lineage_product(lua_State *L, struct derived *d, const struct opnd *const *ops, size_t nops);

/*
 * A category made by cut or recode: its lineage is its level (the codes,
 * missing cells coded 0). Not numeric, so never summed; a kernel that
 * makes indicators of its levels must check them.
 */
void
train_derive_lineage_levels(struct derived *d);

/*
 * d's polynomial, d at the top of the stack with its lineage set: P_SUM
 * the sum of w[j] times operand j, P_MUL the product of operands 0 and 1,
 * P_IFELSE operand 1 where operand 0 (a boolean) is true, operand 2
 * where false, P_SELF d itself as a factor (log or sqrt of a dataset
 * column). The coefficients of d's cell c come from each operand's cell
 * holding c's rows. Then d's values are recomputed from it, so that
 * comparisons and kernels see the polynomial's values too. Returns 0
 * (d unchanged) when it would pass PHT_TRAIN_POLY_TERMS terms.
 */
int
train_derive_poly_build(lua_State *L, struct derived *d, enum pkind kind, const struct opnd *const *ops,
    const double *w, size_t nops);

/* A boolean result: aggregatable as 0/1, degree 0, its lineage its own values. */
void
train_derive_lineage_boolean(struct derived *d);

/* Both operands' columns must come from the same dataset. */
void
train_derive_same_dataset(lua_State *L, const char *what, const struct opnd *a, const struct opnd *b);

/* Finishes a derived column at the top of the stack: a handle bound to the operand at col_idx. */
int
train_derive_push_result(lua_State *L, int col_idx, struct derived *d);

/* ---- pht_train_derive_recode.c (cut, recode, with) ---- */

/*
 * a:cut(breaks [, labels]): the interval (b_i, b_i+1] each value falls in,
 * as R's cut(x, breaks, right = TRUE); values at or below the first break,
 * above the last, or missing are missing. Default labels as R's: "(a,b]"
 * with the breaks printed with 3 significant digits, more (up to 12) until
 * neighbouring breaks print differently.
 */
int
train_derive_col_cut(lua_State *L);

/*
 * a:recode{old = "new", ...}: a category column with the named levels
 * renamed; levels renamed to the same name (or to a name an unrenamed
 * level has) merge into one, at the place of the first of them.
 */
int
train_derive_col_recode(lua_State *L);

/*
 * data:with{name = column, ...}: a view of the same rows in which each
 * column is also reachable by its name (column(), where(), group_by(),
 * aggregate(), the kernels, columns(), dictionary()). A name must be
 * valid and not a column of the dataset nor a name the view already has.
 */
int
train_derive_view_with(lua_State *L);

#endif
