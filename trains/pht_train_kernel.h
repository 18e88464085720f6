/* pht_train_kernel.h — what the kernel files of the data API share: argument tables, event coding, scratch memory, row sets, the station's resolution (internal to trains/). */
#ifndef PHT_TRAIN_KERNEL_H
#define PHT_TRAIN_KERNEL_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_dataset.h"

/*
 * A kernel is a view method called as data:kernel{...}: the view at stack
 * index 1, its argument table at index 2. Everything here raises Lua
 * errors (catchable, prefixed "fn: ") for bad arguments and ends the run
 * (pht_train_lua_fatal) for disclosure or memory failures.
 */

/*
 * Scratch memory of n x size bytes inside the Lua heap (counted against
 * the cap, freed by the collector): a userdata left on the stack.
 */
void *pht_train_kernel_scratch(lua_State *L, const char *fn, size_t n, size_t size);

/* Pushes args[name] (args at index 2) without metamethods; returns its type. */
int pht_train_kernel_field(lua_State *L, const char *name);

/*
 * The column of the view at index 1 named by args[field]; NULL when the
 * field is absent and not required. Raises for a non-string or a column
 * the view does not have.
 */
const struct pht_column *pht_train_kernel_column(lua_State *L, const char *fn,
    const char *field, int required);

struct pht_train_lineage;

/*
 * pht_train_kernel_column() that also takes a derived column carrying a
 * lineage (pht_train_data_column_arg_lineage()): *lin gets it; the kernel
 * must pass its complete cases to pht_train_data_guard_lineage().
 */
const struct pht_column *pht_train_kernel_column_lineage(lua_State *L, const char *fn,
    const char *field, int required, const struct pht_train_lineage **lin);

/* A number, integer, boolean (0/1) or category/date (code) cell as a double. */
static inline double
pht_train_kernel_num(const struct pht_column *c, size_t r)
{
	switch (c->type) {
	case PHT_COL_NUMBER:
		return c->v.f64[r];
	case PHT_COL_INTEGER:
		return (double)c->v.i64[r];
	case PHT_COL_BOOLEAN:
		return c->v.u8[r];
	default:
		return c->v.i32[r];
	}
}

/* How an event column codes an event (args.event_value). */
enum pht_train_event_kind {
	PHT_EV_NEVER,   /* no cell is an event (event_value names no value of the column) */
	PHT_EV_TRUE,    /* boolean true */
	PHT_EV_FALSE,   /* boolean false */
	PHT_EV_01,      /* numeric coded 0/1; anything else is invalid */
	PHT_EV_EQUAL,   /* numeric equal to value */
	PHT_EV_LEVEL,   /* category code equal to level */
};

struct pht_train_event {
	enum pht_train_event_kind kind;
	double value;
	int32_t level;
};

/*
 * Reads args.event_value for event column c: booleans true by default,
 * numbers 0/1 by default or equal to a number, categories equal to a
 * named level (required). Raises for a value of the wrong kind or a
 * column that cannot be an event indicator.
 */
void pht_train_kernel_event(lua_State *L, const char *fn, const struct pht_column *c,
    struct pht_train_event *ev);

/* 1 when row r of c is an event, 0 when not, -1 when not a valid code (PHT_EV_01 only). */
static inline int
pht_train_kernel_is_event(const struct pht_train_event *ev, const struct pht_column *c,
    size_t r)
{
	double v;

	switch (ev->kind) {
	case PHT_EV_TRUE:
		return c->v.u8[r] != 0;
	case PHT_EV_FALSE:
		return c->v.u8[r] == 0;
	case PHT_EV_01:
		v = pht_train_kernel_num(c, r);
		return v == 1 ? 1 : v == 0 ? 0 : -1;
	case PHT_EV_EQUAL:
		return pht_train_kernel_num(c, r) == ev->value;
	case PHT_EV_LEVEL:
		return c->v.i32[r] == ev->level;
	default:
		return 0;
	}
}

/*
 * Records the n distinct rows at rows (dataset row indices, any order) as
 * one set behind the output, as pht_train_data_use() does for a view.
 * Ends the run past the row-set bounds or on memory failure.
 */
void pht_train_kernel_note_rows(lua_State *L, const uint32_t *rows, size_t n);

/*
 * Ends the run (a disclosure refusal naming fn and what) when nsets more
 * row sets could pass the bound on sets behind one output: a kernel that
 * must record many sets checks before it records any, so that a run is
 * refused rather than released with some of its sets left out.
 */
void pht_train_kernel_reserve_sets(lua_State *L, const char *fn, size_t nsets,
    const char *what);

/*
 * Complementary suppression of n cells that partition a total the train
 * may know (a view's rows, a column's values): count[i] rows in cell i,
 * sup[i] set for the cells already suppressed (0 < count < k, or never
 * released), hidden more rows behind no cell that are not released either
 * (rows missing the column, say). While the rows not released, hidden plus
 * the suppressed cells', number 0 < U < k, the smallest released non-zero
 * cell (the first on a tie) is suppressed too, so that the total minus the
 * released cells never shows a small set. When no such cell is left, U
 * stays as it is (the released cells are all zero: the total is U itself).
 * Returns U.
 */
size_t pht_train_kernel_complement(const size_t *count, uint8_t *sup, size_t n,
    size_t hidden, int64_t k);

/*
 * The station's time resolution for time column c, in c's unit: the step
 * of a policy grid naming c, else time_resolution_days converted by c's
 * dictionary unit ("days"/"day" 1, "weeks"/"week" 7, "months"/"month"
 * 30.4375, "years"/"year" 365.25 days; any other unit, or none, is read as
 * days).
 */
double pht_train_kernel_time_resolution(lua_State *L, const struct pht_column *c);

/* The policy grid step for column c, or 0 when the policy names none. */
double pht_train_kernel_grid_step(lua_State *L, const struct pht_column *c);

/* The policy's significant digits for edges of columns without a grid. */
int pht_train_kernel_grid_digits(lua_State *L);

/*
 * Raises (catchable: the rule reads the threshold and the station's
 * policy, never the data) unless x, a value a number, integer or date
 * column c is compared with (a where() bound, a comparison's constant, a
 * cut break), lies on the station's grid for c: a multiple of the policy's
 * step for c; else, for numbers and integers, x rounded to the policy's
 * significant digits (pht_train_stat_snap), for dates (x in days) the
 * first day of a month. A threshold the analyst may put anywhere makes
 * released-or-refused a yes/no question about the rows beyond it, and a
 * bisection of such questions the largest value to any precision; on the
 * grid it gives the grid's cell (docs/security.md, Disclosure, limit (c)).
 * fn prefixes the message, which names the grid values either side.
 */
void pht_train_kernel_threshold(lua_State *L, const char *fn, const struct pht_column *c,
    double x);

/* The policy minimum of patients per released KM step (>= 1). */
int64_t pht_train_kernel_km_min_cell(lua_State *L);

#endif
