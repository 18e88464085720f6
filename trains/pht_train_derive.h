/* pht_train_derive.h — derived columns of the data API (arithmetic, comparisons, cut, recode...), their lineage and polynomial (what may be aggregated), and data:with{} names, computed in C (internal to trains/). */
#ifndef PHT_TRAIN_DERIVE_H
#define PHT_TRAIN_DERIVE_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_dataset.h"

struct pht_column;
struct pht_train_with;

/*
 * What the data API may compute from a column's values (docs/train-api.md,
 * "Derived columns: what may be aggregated"). Every derived column has one;
 * a dataset column has none (NULL: aggregatable, degree 1, one cell).
 *
 * - aggregatable: 0 for a shape-only column (made by exp, abs, a division
 *   by a column, a power other than 1 or 2, log or sqrt of anything but a
 *   dataset column, or a product or power above degree 2): it may be
 *   compared, cut and used in where(), never summed, averaged or given to
 *   a kernel; why names the operation.
 * - degree: the column's polynomial degree in the data's raw values (0 for
 *   a boolean, 1 for a dataset column, at most 2 when aggregatable).
 * - the lineage: a partition of the dataset's rows into ncells cells made
 *   by the predicates (booleans) the column was built from; the column is
 *   one polynomial of its raw values within each cell. ncells == 1: no
 *   partition. Otherwise row r is in cell bcell[r] (a boolean's own 0/1
 *   values) when bcell is set, else cell[r] (< ncells). Immutable.
 */
/* Most terms the polynomial of an aggregatable derived number column has. */
#define PHT_TRAIN_POLY_TERMS 8

/* A monomial: the product of x[0] and x[1] (a NULL factor is 1). */
struct pht_train_mono {
	const struct pht_column *x[2];
};

/*
 * An aggregatable derived number column as the exact polynomial it stands
 * for: in lineage cell c, the column is sum over t of coef[c * nterms + t]
 * times mono[t] of the row, the factors being dataset columns (numbers,
 * integers, dates as days) or log/sqrt of one; constants folded in the
 * coefficients, never added to a row's value. Aggregates are computed
 * from it (sums of monomials per cell), not from the rounded values, so
 * that rounding cannot make a step: ((age - t) * 1e-6 + 0.5 + 2^52) - 2^52
 * is (age - t) * 1e-6 + 0.5 here.
 */
struct pht_train_poly {
	size_t nterms;
	struct pht_train_mono mono[PHT_TRAIN_POLY_TERMS];
	const double *coef;
};

/* The value of monomial m at row r (its factors are not missing there). */
static inline double
pht_train_mono_at(const struct pht_train_mono *m, size_t r)
{
	return (m->x[0] != NULL ? pht_column_num(m->x[0], r) : 1) *
	    (m->x[1] != NULL ? pht_column_num(m->x[1], r) : 1);
}

struct pht_train_lineage {
	int aggregatable;
	int degree;
	size_t ncells;
	const uint8_t *bcell;
	const uint32_t *cell;
	const struct pht_train_poly *poly;      /* aggregatable number columns; else NULL */
	int own;                /* a dataset 0/1 column's own two cells (no derivation) */
	char why[96];
};

/* The cell of row r under lin (0 when lin is NULL or has one cell). */
static inline size_t
pht_train_lineage_cell(const struct pht_train_lineage *lin, size_t r)
{
	if (lin == NULL || lin->ncells <= 1)
		return 0;
	return lin->bcell != NULL ? lin->bcell[r] : lin->cell[r];
}

/* Most breaks `col:cut(breaks)` takes (so at most 255 intervals). */
#define PHT_TRAIN_DERIVE_CUT_MAX 256
/* Most names one view's `with{}` calls give in all (chained calls add up). */
#define PHT_TRAIN_DERIVE_WITH_MAX 256
/* Longest name `with{}` accepts, and longest level name cut/recode make. */
#define PHT_TRAIN_DERIVE_NAME_MAX 64
#define PHT_TRAIN_DERIVE_LEVEL_MAX 256

/*
 * Adds to the column metatable of L the operators (+ - * / ^, unary -,
 * & | ~) and methods (lt le gt ge eq ne, log exp sqrt abs, is_missing,
 * ifelse, cut, recode) that make derived columns, and `data:with{}` to
 * the view metatable; documented in docs/train-api.md ("Derived
 * columns"). A derived column is a struct pht_column over every row of
 * the dataset, its arrays in Lua userdata (counted against the memory
 * cap), computed by C loops; its handle is bound to the view of its
 * left (or only) column operand. No row value reaches Lua. Called once
 * per state by pht_train_open_data(). Raises on memory errors.
 */
void pht_train_derive_register(lua_State *L);

/*
 * The column called name among with's names (a copy of the derived or
 * dataset column carrying that name; valid while the view holding with
 * is reachable), or NULL; with may be NULL. *lin (lin may be NULL) gets
 * the column's lineage (NULL for a dataset column).
 */
const struct pht_column *pht_train_derive_find(const struct pht_train_with *with,
    const char *name, const struct pht_train_lineage **lin);

/* Appends with's names to the sequence at the top of the stack (columns()). */
void pht_train_derive_push_names(lua_State *L, const struct pht_train_with *with);

/*
 * Appends one entry per name of with ({name, type, levels, derived =
 * true, unit and description when the source has them}) to the `columns`
 * sequence of the dictionary table at the top of the stack.
 */
void pht_train_derive_push_dictionary(lua_State *L, const struct pht_train_with *with);

#endif
