/* pht_train_model_int.h — private to the model kernel files (pht_train_model*.c): the design matrix and the functions one of them calls in another. */
#ifndef PHT_TRAIN_MODEL_INT_H
#define PHT_TRAIN_MODEL_INT_H

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
 * design over them. After train_model_complete_cases(), rows[0..n-1] are the dataset
 * rows (in view order) with a value in every used column; a kernel may
 * reorder them (Cox: risk-set order) before train_model_fill_design(), after which
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

static inline int
is_numeric(const struct pht_column *c)
{
	return c->type == PHT_COL_NUMBER || c->type == PHT_COL_INTEGER;
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

static inline int
all_finite(const double *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return 0;
	return 1;
}

/* ---- pht_train_model_design.c (design matrix, checks) ---- */

/* Adds column c (lineage lin) to the columns d reads; raises a Lua error past MAX_COLS. */
void
train_model_use_col(lua_State *L, const char *fn, struct design *d, const struct pht_column *c,
    const struct pht_train_lineage *lin);

/*
 * Reads args.covariates into design terms (after an intercept when asked),
 * pushing the sequence of term names (left on the stack at d->names_idx).
 */
void
train_model_read_covariates(lua_State *L, const char *fn, struct design *d, int need_one,
    int intercept);

/* beta (p numbers) into out; 0 when args.beta is absent. */
int
train_model_read_beta(lua_State *L, const char *fn, size_t p, double *out);

/*
 * Declares the view's rows used (k guard, accounting), then finds the
 * complete cases: d->rows, d->n, d->dropped (see struct design).
 */
void
train_model_complete_cases(lua_State *L, const char *fn, struct design *d);

/* Builds the design over d->rows (in their order), column by column. */
void
train_model_fill_design(lua_State *L, const char *fn, struct design *d);

/*
 * Records the row sets the design's sums are over, after train_model_fill_design():
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
void
train_model_note_design_sets(lua_State *L, const char *fn, const struct design *d);

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
void
train_model_check_outcome_cells(lua_State *L, const char *fn, const struct design *d,
    const uint8_t *flag, const char *what);

/* Pushes x[0..n-1] as a Lua array of numbers. */
void
train_model_push_vector(lua_State *L, const double *x, size_t n);

/* Sets the design's fields of the result table on top: names, binary, ones, n, dropped. */
void
train_model_push_design_fields(lua_State *L, const struct design *d);

/*
 * Checks the argument table and makes room on the stack: a kernel keeps
 * its scratch arrays as userdata on the stack (about 20 values), more
 * than the LUA_MINSTACK a C function is guaranteed.
 */
void
train_model_check_args_table(lua_State *L, const char *fn, const char *shape);

/*
 * Ends the run (uncatchable, a disclosure refusal): at a beta where a
 * fitted value is clamped or exp() leaves the range of a double, a
 * kernel's sums stop depending smoothly on the rows and can count the rows
 * on one side of a hyperplane the caller picked.
 */
void
train_model_refuse_extreme(lua_State *L, const char *fn, const char *why);

/* Ends the run: one row dominates the weights of where (see DOMINANCE). */
void
train_model_refuse_dominant(lua_State *L, const char *fn, const char *where);

/* ---- pht_train_model_cox.c (Cox stratum sums) ---- */

/*
 * data:cox_stratum{time=, event=, event_value=, covariates=, beta=, ties=}
 * -> {names, binary, ones, n, dropped, events, loglik, score, info}
 * A negative time or an event code other than 0/1 ends the run (refused,
 * no value named).
 */
int
train_model_cox_stratum(lua_State *L);

#endif
