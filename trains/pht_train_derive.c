/* pht_train_derive.c — derived columns (arithmetic, comparisons, logic, cut, recode), what may be aggregated of each (its lineage and exact polynomial), and data:with{} names, computed by C loops over the column arrays. */
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

static int
is_numeric(enum pht_coltype t)
{
	return t == PHT_COL_NUMBER || t == PHT_COL_INTEGER || t == PHT_COL_BOOLEAN;
}

/*
 * Pushes a new derived column of type t over nrows rows (nlevels levels
 * whose names take name_bytes bytes with their NULs, for a category) and
 * returns it; values and bitmap zeroed, level pointers unset.
 */
static struct derived *
derived_new(lua_State *L, enum pht_coltype t, size_t nrows, size_t nlevels,
    size_t name_bytes)
{
	size_t width, vbytes, mbytes, off, total;
	struct derived *d;
	char *base;

	width = t == PHT_COL_NUMBER ? sizeof(double) : t == PHT_COL_BOOLEAN ? 1 : sizeof(int32_t);
	if (nrows > (SIZE_MAX / 2) / width)
		luaL_error(L, "derived column: dataset too large");
	vbytes = (nrows * width + 7) & ~(size_t)7;
	mbytes = ((nrows + 7) / 8 + 7) & ~(size_t)7;
	off = sizeof(*d) + vbytes + mbytes;
	total = off + nlevels * sizeof(char *) + name_bytes;
	d = lua_newuserdatauv(L, total, 2);
	base = (char *)d->data;
	memset(&d->col, 0, sizeof(d->col));
	memset(&d->lin, 0, sizeof(d->lin));
	d->lin.aggregatable = 1;
	d->lin.ncells = 1;
	d->nrows = nrows;
	d->col.name = DERIVED_NAME;
	d->col.type = t;
	d->col.unit = "";
	d->col.description = "";
	memset(base, 0, vbytes + mbytes);
	d->col.v.f64 = (const double *)(void *)base;
	d->col.missing = (const uint8_t *)base + vbytes;
	d->col.nlevels = nlevels;
	if (t == PHT_COL_CATEGORY) {
		memset(base + vbytes + mbytes, 0, nlevels * sizeof(char *));
		d->col.levels = (const char *const *)(void *)(base + vbytes + mbytes);
	}
	return d;
}

static void *
dvalues(struct derived *d)
{
	return (void *)d->data;
}

static uint8_t *
dmissing(struct derived *d)
{
	return (uint8_t *)(uintptr_t)d->col.missing;
}

/* Counts the missing cells; a column with none gets missing = NULL. */
static void
derived_finish(struct derived *d)
{
	const uint8_t *m = d->col.missing;
	size_t i, k = 0;

	for (i = 0; i < (d->nrows + 7) / 8; i++)
		k += (size_t)__builtin_popcount(m[i]);
	d->col.nmissing = k;
	if (k == 0)
		d->col.missing = NULL;
}

/* ---- operands ---- */

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

static void
opnd_get(lua_State *L, int idx, struct opnd *o)
{
	memset(o, 0, sizeof(*o));
	o->idx = lua_absindex(L, idx);
	o->col = pht_train_data_column_test(L, idx, &o->rows, &o->lin);
	o->ltype = lua_type(L, idx);
	if (o->col == NULL && o->ltype == LUA_TNUMBER)
		o->x = (double)lua_tonumber(L, idx);
	if (o->col != NULL && o->lin == NULL && o->col->type == PHT_COL_BOOLEAN) {
		/* a dataset boolean selects rows as much as a comparison does */
		o->own.aggregatable = 1;
		o->own.degree = 0;
		o->own.ncells = 2;
		o->own.bcell = o->col->v.u8;
		o->lin = &o->own;
	}
}

/* ---- lineage: what a result may be aggregated as ---- */

/* An operand's degree: 0 for a number or a boolean, 1 for a dataset column. */
static int
opnd_degree(const struct opnd *o)
{
	if (o->col == NULL)
		return 0;
	return o->lin != NULL ? o->lin->degree : 1;
}

static int
opnd_aggregatable(const struct opnd *o)
{
	return o->lin == NULL || o->lin->aggregatable;
}

/* Makes d shape-only: why names the operation (the first one, if an operand was already). */
static void
shape_only(struct derived *d, const struct opnd *const *ops, size_t nops, const char *why)
{
	size_t j;

	d->lin.aggregatable = 0;
	d->lin.degree = 0;
	d->lin.ncells = 1;
	for (j = 0; j < nops; j++)
		if (!opnd_aggregatable(ops[j])) {
			why = ops[j]->lin->why;
			break;
		}
	snprintf(d->lin.why, sizeof(d->lin.why), "%s", why);
}

struct cellkey {
	uint64_t key;
	uint32_t row;
};

static int
cmp_cellkey(const void *a, const void *b)
{
	const struct cellkey *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/*
 * d's lineage: the product of the partitions of the operands (cells are
 * the distinct combinations of their cells, numbered in order of first
 * row). One partition is shared (its holder kept as d's user value 1);
 * two or more make a cell array of d's own. d is at the top of the stack.
 */
static void
lineage_product(lua_State *L, struct derived *d, const struct opnd *const *ops, size_t nops)
{
	const struct pht_train_lineage *p[4];
	size_t np = 0, j, k, r, n = d->nrows, ncells;
	uint32_t *cell, *map;
	int src = 0;

	for (j = 0; j < nops; j++) {
		const struct pht_train_lineage *l = ops[j]->lin;

		if (l == NULL || l->ncells <= 1)
			continue;
		for (k = 0; k < np; k++)
			if (p[k]->bcell == l->bcell && p[k]->cell == l->cell)
				break;
		if (k == np) {
			p[np++] = l;
			src = ops[j]->idx;
		}
	}
	if (np == 0)
		return;
	if (np == 1) {
		d->lin.ncells = p[0]->ncells;
		d->lin.bcell = p[0]->bcell;
		d->lin.cell = p[0]->cell;
		/* the operand's column handle keeps the arrays alive */
		lua_pushvalue(L, src);
		lua_setiuservalue(L, -2, 1);
		return;
	}
	if (n > UINT32_MAX)
		luaL_error(L, "derived column: dataset too large");
	cell = lua_newuserdatauv(L, n * sizeof(*cell) + 1, 0);
	for (r = 0; r < n; r++)
		cell[r] = (uint32_t)pht_train_lineage_cell(p[0], r);
	ncells = p[0]->ncells;
	for (j = 1; j < np; j++) {
		uint64_t nk = (uint64_t)ncells * p[j]->ncells, next = 0;

		if (nk <= 4 * (uint64_t)n + 64) {
			/* a table of every combination */
			map = lua_newuserdatauv(L, (size_t)nk * sizeof(*map), 0);
			memset(map, 0xff, (size_t)nk * sizeof(*map));
			for (r = 0; r < n; r++) {
				uint64_t key = (uint64_t)cell[r] * p[j]->ncells +
				    pht_train_lineage_cell(p[j], r);

				if (map[key] == UINT32_MAX)
					map[key] = (uint32_t)next++;
				cell[r] = map[key];
			}
		} else {
			/* sorted combinations */
			struct cellkey *e = lua_newuserdatauv(L, n * sizeof(*e) + 1, 0);

			for (r = 0; r < n; r++) {
				e[r].key = (uint64_t)cell[r] * p[j]->ncells +
				    pht_train_lineage_cell(p[j], r);
				e[r].row = (uint32_t)r;
			}
			qsort(e, n, sizeof(*e), cmp_cellkey);
			for (r = 0; r < n; r++) {
				if (r > 0 && e[r].key != e[r - 1].key)
					next++;
				cell[e[r].row] = (uint32_t)next;
			}
			next += n > 0;
		}
		lua_pop(L, 1);
		ncells = (size_t)next;
	}
	d->lin.ncells = ncells;
	d->lin.cell = cell;
	lua_setiuservalue(L, -2, 1);
}

/*
 * A category made by cut or recode: its lineage is its level (the codes,
 * missing cells coded 0). Not numeric, so never summed; a kernel that
 * makes indicators of its levels must check them.
 */
static void
lineage_levels(struct derived *d)
{
	d->lin.degree = 0;
	d->lin.ncells = d->col.nlevels > 0 ? d->col.nlevels : 1;
	d->lin.cell = (const uint32_t *)dvalues(d);
}

/* ---- the polynomial form of aggregatable number columns ---- */

/* An operand's polynomial over its own cells. */
struct opoly {
	const struct pht_train_poly *p;
	struct pht_train_poly own;
	double local[2];
};

/*
 * o's polynomial: a number is a constant, a dataset number, integer or
 * date column its own monomial, a boolean (dataset or derived) the
 * constant 0 or 1 of its cell, a derived number column its own. 0 when
 * it has none.
 */
static int
opnd_poly(const struct opnd *o, struct opoly *q)
{
	memset(q, 0, sizeof(*q));
	q->own.nterms = 1;
	q->own.coef = q->local;
	q->p = &q->own;
	if (o->col == NULL) {
		q->local[0] = o->x;
		return 1;
	}
	if (o->col->type == PHT_COL_BOOLEAN) {
		q->local[0] = 0;        /* cell = the boolean's value */
		q->local[1] = 1;
		return 1;
	}
	if (o->lin != NULL) {
		q->p = o->lin->poly;
		return q->p != NULL;
	}
	q->own.mono[0].x[1] = o->col;
	q->local[0] = 1;
	return o->col->type == PHT_COL_NUMBER || o->col->type == PHT_COL_INTEGER ||
	    o->col->type == PHT_COL_DATE;
}

/* a * b as a canonical monomial (factors ordered, NULLs first); 0 past degree 2. */
static int
mono_mul(const struct pht_train_mono *a, const struct pht_train_mono *b,
    struct pht_train_mono *out)
{
	const struct pht_column *f[4] = {a->x[0], a->x[1], b->x[0], b->x[1]}, *t;
	size_t n = 0, j;

	for (j = 0; j < 4; j++)
		if (f[j] != NULL)
			f[n++] = f[j];
	if (n > 2)
		return 0;
	out->x[0] = n == 2 ? f[0] : NULL;
	out->x[1] = n == 2 ? f[1] : n == 1 ? f[0] : NULL;
	if (n == 2 && (uintptr_t)out->x[0] > (uintptr_t)out->x[1]) {
		t = out->x[0];
		out->x[0] = out->x[1];
		out->x[1] = t;
	}
	return 1;
}

/* The index of monomial m among p's terms, added when new; -1 past the limit. */
static int
term_of(struct pht_train_poly *p, const struct pht_train_mono *m)
{
	size_t t;

	for (t = 0; t < p->nterms; t++)
		if (p->mono[t].x[0] == m->x[0] && p->mono[t].x[1] == m->x[1])
			return (int)t;
	if (p->nterms == PHT_TRAIN_POLY_TERMS)
		return -1;
	p->mono[p->nterms] = *m;
	return (int)p->nterms++;
}

enum pkind { P_SUM, P_MUL, P_IFELSE, P_SELF };

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
static int
poly_build(lua_State *L, struct derived *d, enum pkind kind, const struct opnd *const *ops,
    const double *w, size_t nops)
{
	struct opoly q[3];
	struct pht_train_poly *p = &d->poly;
	struct pht_train_mono m;
	size_t nc = d->lin.ncells, c, j, t, u, r, cj[3];
	uint32_t *rep = NULL;
	double *coef, *out = dvalues(d), v;
	const double *a, *b;
	int idx[3][PHT_TRAIN_POLY_TERMS], k;

	memset(p, 0, sizeof(*p));
	if (kind == P_SELF) {
		p->mono[0].x[1] = &d->col;
		p->nterms = 1;
		nops = 0;
	}
	for (j = 0; j < nops; j++)
		if (!opnd_poly(ops[j], &q[j]))
			return 0;
	/* the terms */
	for (j = kind == P_IFELSE ? 1 : 0; kind != P_MUL && j < nops; j++)
		for (t = 0; t < q[j].p->nterms; t++)
			if ((idx[j][t] = term_of(p, &q[j].p->mono[t])) < 0)
				return 0;
	if (kind == P_MUL)
		for (t = 0; t < q[0].p->nterms; t++)
			for (u = 0; u < q[1].p->nterms; u++)
				if (!mono_mul(&q[0].p->mono[t], &q[1].p->mono[u], &m) ||
				    term_of(p, &m) < 0)
					return 0;
	/* one row of each cell, for the operands' cells of a product of partitions */
	if (nc > 1 && d->lin.cell != NULL) {
		rep = lua_newuserdatauv(L, nc * sizeof(*rep), 0);
		memset(rep, 0xff, nc * sizeof(*rep));
		for (r = 0; r < d->nrows; r++)
			if (rep[d->lin.cell[r]] == UINT32_MAX)
				rep[d->lin.cell[r]] = (uint32_t)r;
		lua_insert(L, -2);      /* d stays on top */
	}
	coef = lua_newuserdatauv(L, nc * p->nterms * sizeof(double) + 1, 0);
	memset(coef, 0, nc * p->nterms * sizeof(double));
	for (c = 0; c < nc; c++) {
		for (j = 0; j < nops; j++) {
			const struct pht_train_lineage *l = ops[j]->lin;

			if (l == NULL || l->ncells <= 1)
				cj[j] = 0;
			else if (l->bcell == d->lin.bcell && l->cell == d->lin.cell)
				cj[j] = c;      /* the same partition */
			else if (rep != NULL && rep[c] != UINT32_MAX)
				cj[j] = pht_train_lineage_cell(l, rep[c]);
			else
				cj[j] = 0;      /* a cell no row is in */
		}
		switch (kind) {
		case P_SELF:
			coef[c] = 1;
			break;
		case P_SUM:
			for (j = 0; j < nops; j++)
				for (t = 0; t < q[j].p->nterms; t++)
					coef[c * p->nterms + idx[j][t]] += w[j] *
					    q[j].p->coef[cj[j] * q[j].p->nterms + t];
			break;
		case P_MUL:
			a = q[0].p->coef + cj[0] * q[0].p->nterms;
			b = q[1].p->coef + cj[1] * q[1].p->nterms;
			for (t = 0; t < q[0].p->nterms; t++)
				for (u = 0; u < q[1].p->nterms; u++) {
					mono_mul(&q[0].p->mono[t], &q[1].p->mono[u], &m);
					k = term_of(p, &m);
					coef[c * p->nterms + k] += a[t] * b[u];
				}
			break;
		default:
			j = cj[0] ? 1 : 2;      /* the cell of the condition: its value */
			for (t = 0; t < q[j].p->nterms; t++)
				coef[c * p->nterms + idx[j][t]] = q[j].p->coef[cj[j] *
				    q[j].p->nterms + t];
			break;
		}
	}
	p->coef = coef;
	/* keep the coefficients and the operands (their factors) alive */
	lua_createtable(L, (int)nops + 1, 0);
	lua_insert(L, -2);
	lua_rawseti(L, -2, 1);
	for (j = 0; j < nops; j++) {
		lua_pushvalue(L, ops[j]->idx);
		lua_rawseti(L, -2, (lua_Integer)j + 2);
	}
	lua_setiuservalue(L, -2, 2);
	if (rep != NULL)
		lua_remove(L, -2);
	d->lin.poly = p;
	/* the values, from the polynomial */
	for (r = 0; r < d->nrows; r++) {
		if (pht_column_is_missing(&d->col, r))
			continue;
		a = coef + pht_train_lineage_cell(&d->lin, r) * p->nterms;
		for (v = 0, t = 0; t < p->nterms; t++)
			if (a[t] != 0)
				v += a[t] * pht_train_mono_at(&p->mono[t], r);
		if (isfinite(v))
			out[r] = v;
		else {
			out[r] = 0;
			set_miss(dmissing(d), r);
		}
	}
	return 1;
}

/* A boolean result: aggregatable as 0/1, degree 0, its lineage its own values. */
static void
lineage_boolean(struct derived *d)
{
	d->lin.degree = 0;
	d->lin.ncells = 2;
	d->lin.bcell = dvalues(d);
}

/* Both operands' columns must come from the same dataset. */
static void
same_dataset(lua_State *L, const char *what, const struct opnd *a, const struct opnd *b)
{
	if (a->col != NULL && b->col != NULL && a->rows.ds != b->rows.ds)
		luaL_error(L, "%s: columns %s and %s are from views over different datasets",
		    what, a->col->name, b->col->name);
}

/* Finishes a derived column at the top of the stack: a handle bound to the operand at col_idx. */
static int
push_result(lua_State *L, int col_idx, struct derived *d)
{
	derived_finish(d);
	pht_train_data_push_derived(L, col_idx, &d->col, &d->lin, -1);
	return 1;
}

/* ---- arithmetic ---- */

enum arith { A_ADD, A_SUB, A_MUL, A_DIV, A_POW, A_UNM, A_LOG, A_EXP, A_SQRT, A_ABS };

static const char *const arith_names[] = {"+", "-", "*", "/", "^", "unary -", "log", "exp",
	"sqrt", "abs"};

static inline double
apply(enum arith op, double x, double y)
{
	switch (op) {
	case A_ADD: return x + y;
	case A_SUB: return x - y;
	case A_MUL: return x * y;
	case A_DIV: return x / y;
	case A_POW: return pow(x, y);
	case A_UNM: return -x;
	case A_LOG: return log(x);
	case A_EXP: return exp(x);
	case A_SQRT: return sqrt(x);
	default: return fabs(x);
	}
}

/* The cells of a and b (columns or scalars) combined by op into out, over n rows. */
static void
arith_loop(enum arith op, const struct opnd *a, const struct opnd *b, size_t n,
    double *out, uint8_t *miss)
{
	size_t r;
	double x, y, z;

	for (r = 0; r < n; r++) {
		if ((a->col != NULL && pht_column_is_missing(a->col, r)) ||
		    (b->col != NULL && pht_column_is_missing(b->col, r))) {
			set_miss(miss, r);
			continue;
		}
		x = a->col != NULL ? pht_column_num(a->col, r) : a->x;
		y = b->col != NULL ? pht_column_num(b->col, r) : b->x;
		z = apply(op, x, y);
		if (isfinite(z))
			out[r] = z;
		else
			set_miss(miss, r);
	}
}

/* An arithmetic operand: a numeric column or a number; a date column only for date - date. */
static void
arith_check(lua_State *L, enum arith op, const struct opnd *o, int dates)
{
	if (o->col == NULL) {
		if (o->ltype != LUA_TNUMBER)
			luaL_error(L, "%s: expected a column or a number, got %s", arith_names[op],
			    lua_typename(L, o->ltype));
		return;
	}
	if (o->col->type == PHT_COL_DATE && !dates)
		luaL_error(L, "%s: column %s is a date column: only date - date (days) is "
		    "defined on dates", arith_names[op], o->col->name);
	if (o->col->type == PHT_COL_CATEGORY)
		luaL_error(L, "%s: column %s is a category column, not numeric", arith_names[op],
		    o->col->name);
}

/*
 * date - date: both operands dates (date columns, or "YYYY-MM-DD" strings
 * turned into day numbers here); 1 when that is the case.
 */
static int
date_operands(lua_State *L, int ia, struct opnd *a, int ib, struct opnd *b)
{
	struct opnd *o[2] = {a, b};
	int idx[2] = {ia, ib}, j, ndates = 0;
	int32_t days;
	const char *s;
	size_t len;

	for (j = 0; j < 2; j++)
		ndates += o[j]->col != NULL ? o[j]->col->type == PHT_COL_DATE :
		    o[j]->ltype == LUA_TSTRING;
	if (ndates != 2 || (a->col == NULL && b->col == NULL))
		return 0;
	for (j = 0; j < 2; j++)
		if (o[j]->col == NULL) {
			s = lua_tolstring(L, idx[j], &len);
			if (pht_dataset_parse_date(s, len, &days) != 0)
				luaL_error(L, "-: '%s' is not a date YYYY-MM-DD", s);
			o[j]->x = days;
			o[j]->ltype = LUA_TNUMBER;
		}
	return 1;
}

/* The polynomial of an aggregatable a op b (poly_build); 0 past the terms' limit. */
static int
arith_poly(lua_State *L, enum arith op, struct derived *d, const struct opnd *a,
    const struct opnd *b)
{
	static const double add[2] = {1, 1}, sub[2] = {1, -1}, neg[1] = {-1};
	const struct opnd *ops[2] = {a, b};
	struct opnd inv;

	switch (op) {
	case A_ADD:
		return poly_build(L, d, P_SUM, ops, add, 2);
	case A_SUB:
		return poly_build(L, d, P_SUM, ops, sub, 2);
	case A_UNM:
		return poly_build(L, d, P_SUM, ops, neg, 1);
	case A_MUL:
		return poly_build(L, d, P_MUL, ops, NULL, 2);
	case A_DIV:
		inv = *b;       /* a / n is a * (1 / n) */
		inv.x = 1 / b->x;
		ops[1] = &inv;
		return poly_build(L, d, P_MUL, ops, NULL, 2);
	case A_POW:
		if (b->x == 1)
			return poly_build(L, d, P_SUM, ops, add, 1);
		ops[1] = a;
		return poly_build(L, d, P_MUL, ops, NULL, 2);
	default:
		return poly_build(L, d, P_SELF, ops, NULL, 0);
	}
}

/*
 * The lineage of a + b, a - b, a * b, a / b, a ^ b, -a, log, sqrt, exp,
 * abs (b is an empty operand for the one-operand ones), d at the top of
 * the stack; docs/train-api.md ("Derived columns: what may be
 * aggregated") gives the reasons.
 */
static void
arith_lineage(lua_State *L, enum arith op, struct derived *d, const struct opnd *a,
    const struct opnd *b)
{
	const struct opnd *ops[2] = {a, b};
	int da = opnd_degree(a), db = opnd_degree(b), deg;
	char why[64];

	if (!opnd_aggregatable(a) || !opnd_aggregatable(b)) {
		shape_only(d, ops, 2, "");
		return;
	}
	switch (op) {
	case A_ADD:
	case A_SUB:
	case A_UNM:
		deg = da > db ? da : db;
		break;
	case A_MUL:
		deg = da + db;
		if (deg > 2) {
			snprintf(why, sizeof(why), "a product of degree %d (above 2)", deg);
			shape_only(d, ops, 2, why);
			return;
		}
		break;
	case A_DIV:
		if (b->col != NULL) {
			shape_only(d, ops, 2, "a division by a column");
			return;
		}
		deg = da;
		break;
	case A_POW:
		if (b->col != NULL) {
			shape_only(d, ops, 2, "a power with a column as exponent");
			return;
		}
		if (b->x != 1 && b->x != 2) {
			shape_only(d, ops, 2, "a power other than 1 or 2");
			return;
		}
		deg = da * (int)b->x;
		if (deg > 2) {
			shape_only(d, ops, 2, "a square of degree 4 (above 2)");
			return;
		}
		break;
	case A_LOG:
	case A_SQRT:
		if (a->lin != NULL && a->lin != &a->own) {
			shape_only(d, ops, 2, op == A_LOG ? "log of a derived column" :
			    "sqrt of a derived column");
			return;
		}
		deg = 1;
		break;
	default:
		shape_only(d, ops, 2, arith_names[op]);
		return;
	}
	d->lin.degree = deg;
	lineage_product(L, d, ops, 2);
	if (!arith_poly(L, op, d, a, b))
		shape_only(d, ops, 2, "more than 8 terms");
}

static int
arith2(lua_State *L, enum arith op)
{
	struct opnd a, b;
	struct derived *d;
	int left, dates = 0;

	opnd_get(L, 1, &a);
	opnd_get(L, 2, &b);
	left = a.col != NULL ? 1 : 2;
	if (op == A_SUB)
		dates = date_operands(L, 1, &a, 2, &b);
	arith_check(L, op, &a, dates);
	arith_check(L, op, &b, dates);
	same_dataset(L, arith_names[op], &a, &b);
	d = derived_new(L, PHT_COL_NUMBER, pht_dataset_nrows(left == 1 ? a.rows.ds : b.rows.ds),
	    0, 0);
	arith_loop(op, &a, &b, d->nrows, dvalues(d), dmissing(d));
	arith_lineage(L, op, d, &a, &b);
	return push_result(L, left, d);
}

static int col_add(lua_State *L) { return arith2(L, A_ADD); }
static int col_sub(lua_State *L) { return arith2(L, A_SUB); }
static int col_mul(lua_State *L) { return arith2(L, A_MUL); }
static int col_div(lua_State *L) { return arith2(L, A_DIV); }
static int col_pow(lua_State *L) { return arith2(L, A_POW); }

/* Unary operators and functions of one numeric column. */
static int
arith1(lua_State *L, enum arith op)
{
	struct opnd a, none;
	struct derived *d;

	opnd_get(L, 1, &a);
	if (a.col == NULL)
		return luaL_error(L, "%s: expected a column, got %s", arith_names[op],
		    luaL_typename(L, 1));
	arith_check(L, op, &a, 0);
	memset(&none, 0, sizeof(none));
	d = derived_new(L, PHT_COL_NUMBER, pht_dataset_nrows(a.rows.ds), 0, 0);
	arith_loop(op, &a, &none, d->nrows, dvalues(d), dmissing(d));
	arith_lineage(L, op, d, &a, &none);
	return push_result(L, 1, d);
}

static int col_unm(lua_State *L) { return arith1(L, A_UNM); }
static int col_log(lua_State *L) { return arith1(L, A_LOG); }
static int col_exp(lua_State *L) { return arith1(L, A_EXP); }
static int col_sqrt(lua_State *L) { return arith1(L, A_SQRT); }
static int col_abs(lua_State *L) { return arith1(L, A_ABS); }

/* ---- comparisons ---- */

enum cmp { C_LT, C_LE, C_GT, C_GE, C_EQ, C_NE };

static const char *const cmp_names[] = {"lt", "le", "gt", "ge", "eq", "ne"};

static inline int
cmp_apply(enum cmp op, int c)
{
	switch (op) {
	case C_LT: return c < 0;
	case C_LE: return c <= 0;
	case C_GT: return c > 0;
	case C_GE: return c >= 0;
	case C_EQ: return c == 0;
	default: return c != 0;
	}
}

/* The kind a comparison works on: numbers, dates, levels, booleans. */
enum kind { K_NUM, K_DATE, K_LEVEL, K_BOOL };

static enum kind
kind_of(enum pht_coltype t)
{
	switch (t) {
	case PHT_COL_NUMBER:
	case PHT_COL_INTEGER:
		return K_NUM;
	case PHT_COL_DATE:
		return K_DATE;
	case PHT_COL_CATEGORY:
		return K_LEVEL;
	default:
		return K_BOOL;
	}
}

/* Whether o is a dataset column as it is (no derivation; a 0/1 column's own cells allowed). */
static int
opnd_plain(const struct opnd *o)
{
	return o->col != NULL && (o->lin == NULL || o->lin == &o->own || o->lin->own);
}

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
static void
check_threshold(lua_State *L, const char *what, const struct opnd *a, const struct opnd *b,
    double x)
{
	const struct pht_train_poly *p;
	const struct pht_column *base = NULL;
	double coef = 0, c0 = 0;
	size_t t;
	int i;

	if (b->col != NULL) {
		if (opnd_plain(a) && opnd_plain(b))
			return;
		luaL_error(L, "%s: the station compares two columns only when both are dataset "
		    "columns, not %s with %s (docs/train-api.md, \"Thresholds\")", what,
		    a->col->name, b->col->name);
	}
	if (opnd_plain(a)) {
		pht_train_kernel_threshold(L, what, a->col, x);
		return;
	}
	p = a->lin->poly;
	if (p != NULL && a->lin->ncells <= 1) {
		for (t = 0; t < p->nterms; t++) {
			if (p->mono[t].x[0] == NULL && p->mono[t].x[1] == NULL) {
				c0 += p->coef[t];
				continue;
			}
			/* a monomial of one factor keeps it in x[1] (mono_mul) */
			if (p->mono[t].x[0] != NULL || (base != NULL && base != p->mono[t].x[1]) ||
			    (i = pht_dataset_find_index(a->rows.ds, p->mono[t].x[1]->name)) < 0 ||
			    pht_dataset_column(a->rows.ds, (size_t)i) != p->mono[t].x[1]) {
				base = NULL;
				coef = 0;
				break;
			}
			base = p->mono[t].x[1];
			coef += p->coef[t];
		}
		if (base != NULL && coef != 0 && isfinite(coef)) {
			pht_train_kernel_threshold(L, what, base, (x - c0) / coef);
			return;
		}
	}
	luaL_error(L, "%s: column %s is derived from more than one column, or not as a multiple "
	    "of one plus a constant: the station compares such a column with nothing "
	    "(docs/train-api.md, \"Thresholds\")", what, a->col->name);
}

/*
 * a:lt(x) ... a:ne(x): x a column of the same kind as a or a scalar of
 * a's kind. Compared exactly as int64 when both sides are integers
 * (integer, date, level code, boolean), as doubles otherwise; levels of
 * two category columns compare by name.
 */
static int
compare(lua_State *L, enum cmp op)
{
	const char *what = cmp_names[op];
	struct opnd a, b;
	struct derived *d;
	enum kind ka;
	int64_t ki = 0, *map = NULL;
	int useint = 0, c;
	uint8_t *out, *miss;
	size_t r, n, j, len;
	const char *s;

	opnd_get(L, 1, &a);
	if (a.col == NULL)
		return luaL_error(L, "%s: expected a column, got %s", what, luaL_typename(L, 1));
	lua_settop(L, 2);
	opnd_get(L, 2, &b);
	ka = kind_of(a.col->type);
	if ((ka == K_LEVEL || ka == K_BOOL) && op != C_EQ && op != C_NE)
		return luaL_error(L, "%s: not defined for %s column %s (only eq and ne)", what,
		    pht_coltype_name(a.col->type), a.col->name);
	if (b.col != NULL) {
		if (kind_of(b.col->type) != ka)
			return luaL_error(L, "%s: cannot compare %s column %s with %s column %s",
			    what, pht_coltype_name(a.col->type), a.col->name,
			    pht_coltype_name(b.col->type), b.col->name);
		same_dataset(L, what, &a, &b);
		useint = a.col->type != PHT_COL_NUMBER && b.col->type != PHT_COL_NUMBER;
		if (ka == K_LEVEL) {
			/* b's codes as a's codes (-1: a level a does not have) */
			map = lua_newuserdatauv(L, (b.col->nlevels + 1) * sizeof(*map), 0);
			for (j = 0; j < b.col->nlevels; j++)
				map[j] = pht_column_level_code(a.col, b.col->levels[j]);
		}
	} else {
		switch (ka) {
		case K_NUM:
			if (b.ltype != LUA_TNUMBER)
				goto badscalar;
			if (isnan(b.x))
				return luaL_error(L, "%s: cannot compare column %s with NaN", what,
				    a.col->name);
			useint = a.col->type == PHT_COL_INTEGER && lua_isinteger(L, 2);
			ki = useint ? lua_tointeger(L, 2) : 0;
			break;
		case K_DATE:
			if (b.ltype != LUA_TSTRING)
				goto badscalar;
			s = lua_tolstring(L, 2, &len);
			{
				int32_t days;

				if (pht_dataset_parse_date(s, len, &days) != 0)
					return luaL_error(L, "%s: '%s' is not a date YYYY-MM-DD "
					    "(column %s)", what, s, a.col->name);
				ki = days;
			}
			useint = 1;
			break;
		case K_LEVEL:
			if (b.ltype != LUA_TSTRING)
				goto badscalar;
			s = lua_tostring(L, 2);
			ki = pht_column_level_code(a.col, s);
			if (ki < 0 || strlen(s) != lua_rawlen(L, 2))
				return luaL_error(L, "%s: column %s has no level '%s'", what,
				    a.col->name, s);
			useint = 1;
			break;
		default:
			if (b.ltype != LUA_TBOOLEAN)
				goto badscalar;
			ki = lua_toboolean(L, 2);
			useint = 1;
			break;
		}
	}
	if (ka == K_NUM || ka == K_DATE)
		check_threshold(L, what, &a, &b, ka == K_DATE || (useint && b.col == NULL) ?
		    (double)ki : b.x);
	n = pht_dataset_nrows(a.rows.ds);
	d = derived_new(L, PHT_COL_BOOLEAN, n, 0, 0);
	out = dvalues(d);
	miss = dmissing(d);
	for (r = 0; r < n; r++) {
		if (pht_column_is_missing(a.col, r) ||
		    (b.col != NULL && pht_column_is_missing(b.col, r))) {
			set_miss(miss, r);
			continue;
		}
		if (map != NULL) {
			int64_t xb = map[b.col->v.i32[r]];

			/* levels only compare equal or not */
			c = xb < 0 ? 1 : (a.col->v.i32[r] > xb) - (a.col->v.i32[r] < xb);
		} else if (useint) {
			int64_t x = pht_column_int(a.col, r);
			int64_t y = b.col != NULL ? pht_column_int(b.col, r) : ki;

			c = (x > y) - (x < y);
		} else {
			double x = pht_column_num(a.col, r);
			double y = b.col != NULL ? pht_column_num(b.col, r) : b.x;

			c = (x > y) - (x < y);
		}
		out[r] = (uint8_t)cmp_apply(op, c);
	}
	lineage_boolean(d);
	return push_result(L, 1, d);
badscalar:
	return luaL_error(L, "%s: column %s (%s) cannot be compared with a %s value", what,
	    a.col->name, pht_coltype_name(a.col->type), luaL_typename(L, 2));
}

static int col_lt(lua_State *L) { return compare(L, C_LT); }
static int col_le(lua_State *L) { return compare(L, C_LE); }
static int col_gt(lua_State *L) { return compare(L, C_GT); }
static int col_ge(lua_State *L) { return compare(L, C_GE); }
static int col_eq(lua_State *L) { return compare(L, C_EQ); }
static int col_ne(lua_State *L) { return compare(L, C_NE); }

/* ---- boolean logic (Kleene's three values, as R: NA & FALSE is FALSE) ---- */

/* A boolean operand's cell: 0, 1, or -1 when missing. */
static inline int
tri_at(const struct opnd *o, size_t r)
{
	if (o->col == NULL)
		return (int)o->x;
	return pht_column_is_missing(o->col, r) ? -1 : o->col->v.u8[r];
}

static void
bool_check(lua_State *L, const char *what, int idx, struct opnd *o)
{
	if (o->col == NULL) {
		if (o->ltype != LUA_TBOOLEAN)
			luaL_error(L, "%s: expected a boolean column or a boolean, got %s", what,
			    luaL_typename(L, idx));
		o->x = lua_toboolean(L, idx);
		return;
	}
	if (o->col->type != PHT_COL_BOOLEAN)
		luaL_error(L, "%s: column %s is a %s column, not boolean", what, o->col->name,
		    pht_coltype_name(o->col->type));
}

static int
logic(lua_State *L, int op)     /* '&', '|' or '~' */
{
	const char *what = op == '&' ? "&" : op == '|' ? "|" : "~";
	struct opnd a, b;
	struct derived *d;
	uint8_t *out, *miss;
	size_t r, n;
	int x, y, z, left;

	opnd_get(L, 1, &a);
	opnd_get(L, 2, &b);
	left = a.col != NULL ? 1 : 2;
	bool_check(L, what, 1, &a);
	if (op != '~')
		bool_check(L, what, 2, &b);
	same_dataset(L, what, &a, &b);
	n = pht_dataset_nrows(left == 1 ? a.rows.ds : b.rows.ds);
	d = derived_new(L, PHT_COL_BOOLEAN, n, 0, 0);
	out = dvalues(d);
	miss = dmissing(d);
	for (r = 0; r < n; r++) {
		x = tri_at(&a, r);
		if (op == '~')
			z = x < 0 ? -1 : !x;
		else {
			y = tri_at(&b, r);
			if (op == '&')
				z = x == 0 || y == 0 ? 0 : (x < 0 || y < 0 ? -1 : 1);
			else
				z = x == 1 || y == 1 ? 1 : (x < 0 || y < 0 ? -1 : 0);
		}
		if (z < 0)
			set_miss(miss, r);
		else
			out[r] = (uint8_t)z;
	}
	lineage_boolean(d);
	return push_result(L, left, d);
}

static int col_band(lua_State *L) { return logic(L, '&'); }
static int col_bor(lua_State *L) { return logic(L, '|'); }
static int col_bnot(lua_State *L) { return logic(L, '~'); }

/* ---- is_missing, ifelse ---- */

static int
col_is_missing(lua_State *L)
{
	struct opnd a;
	struct derived *d;
	uint8_t *out;
	size_t r, n;

	opnd_get(L, 1, &a);
	if (a.col == NULL)
		return luaL_error(L, "is_missing: expected a column, got %s", luaL_typename(L, 1));
	n = pht_dataset_nrows(a.rows.ds);
	d = derived_new(L, PHT_COL_BOOLEAN, n, 0, 0);
	out = dvalues(d);
	for (r = 0; r < n; r++)
		out[r] = (uint8_t)pht_column_is_missing(a.col, r);
	lineage_boolean(d);
	return push_result(L, 1, d);
}

/*
 * cond:ifelse(x, y): x where cond is true, y where false; missing where cond
 * is, where the picked column is, or where the picked number is not finite.
 */
static int
col_ifelse(lua_State *L)
{
	struct opnd c, br[2];
	struct derived *d;
	double *out;
	uint8_t *miss;
	size_t r, n;
	int j;

	opnd_get(L, 1, &c);
	if (c.col == NULL || c.col->type != PHT_COL_BOOLEAN)
		return luaL_error(L, "ifelse: the condition must be a boolean column");
	lua_settop(L, 3);
	for (j = 0; j < 2; j++) {
		opnd_get(L, 2 + j, &br[j]);
		if (br[j].col == NULL ? br[j].ltype != LUA_TNUMBER : !is_numeric(br[j].col->type))
			return luaL_error(L, "ifelse: argument #%d must be a numeric column or a "
			    "number, not %s", j + 1, br[j].col != NULL ?
			    pht_coltype_name(br[j].col->type) : luaL_typename(L, 2 + j));
		same_dataset(L, "ifelse", &c, &br[j]);
	}
	n = pht_dataset_nrows(c.rows.ds);
	d = derived_new(L, PHT_COL_NUMBER, n, 0, 0);
	out = dvalues(d);
	miss = dmissing(d);
	for (r = 0; r < n; r++) {
		const struct opnd *p;

		if (pht_column_is_missing(c.col, r)) {
			set_miss(miss, r);
			continue;
		}
		p = &br[c.col->v.u8[r] ? 0 : 1];
		if (p->col == NULL && isfinite(p->x))
			out[r] = p->x;
		else if (p->col == NULL || pht_column_is_missing(p->col, r))
			set_miss(miss, r);
		else
			out[r] = pht_column_num(p->col, r);
	}
	{
		/* as x * cond + y * (1 - cond): the degree of x and y, cond's cells */
		const struct opnd *ops[3] = {&c, &br[0], &br[1]};

		if (!opnd_aggregatable(&br[0]) || !opnd_aggregatable(&br[1]))
			shape_only(d, ops, 3, "");
		else {
			d->lin.degree = opnd_degree(&br[0]) > opnd_degree(&br[1]) ?
			    opnd_degree(&br[0]) : opnd_degree(&br[1]);
			lineage_product(L, d, ops, 3);
			if (!poly_build(L, d, P_IFELSE, ops, NULL, 3))
				shape_only(d, ops, 3, "more than 8 terms");
		}
	}
	return push_result(L, 1, d);
}

/* ---- cut ---- */

/* One break as R's formatC(0 + b, digits = dig, width = 1) prints it. */
static void
fmt_break(char *out, size_t len, double b, int dig)
{
	if (isinf(b))
		snprintf(out, len, "%s", b > 0 ? "Inf" : "-Inf");
	else
		snprintf(out, len, "%.*g", dig, b + 0.0);
}

/*
 * a:cut(breaks [, labels]): the interval (b_i, b_i+1] each value falls in,
 * as R's cut(x, breaks, right = TRUE); values at or below the first break,
 * above the last, or missing are missing. Default labels as R's: "(a,b]"
 * with the breaks printed with 3 significant digits, more (up to 12) until
 * neighbouring breaks print differently.
 */
static int
col_cut(lua_State *L)
{
	struct opnd a;
	struct derived *d;
	double br[PHT_TRAIN_DERIVE_CUT_MAX];
	char fb[PHT_TRAIN_DERIVE_CUT_MAX][32];
	const char *lab[PHT_TRAIN_DERIVE_CUT_MAX];
	size_t llen[PHT_TRAIN_DERIVE_CUT_MAX];
	char (*deflab)[72] = NULL;
	size_t nb, nl, j, k, r, n, bytes = 0, lo, hi, mid;
	int dig, ok = 0;
	int32_t *out;
	uint8_t *miss;
	char *p, **levels;
	double x;

	opnd_get(L, 1, &a);
	if (a.col == NULL || (a.col->type != PHT_COL_NUMBER && a.col->type != PHT_COL_INTEGER))
		return luaL_error(L, "cut: expected a number or integer column");
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 3);
	nb = (size_t)lua_rawlen(L, 2);
	if (nb < 2 || nb > PHT_TRAIN_DERIVE_CUT_MAX)
		return luaL_error(L, "cut: breaks must be a sequence of 2 to %d numbers",
		    PHT_TRAIN_DERIVE_CUT_MAX);
	for (j = 0; j < nb; j++) {
		if (lua_rawgeti(L, 2, (lua_Integer)j + 1) != LUA_TNUMBER)
			return luaL_error(L, "cut: breaks[%d] is a %s, not a number", (int)j + 1,
			    luaL_typename(L, -1));
		br[j] = (double)lua_tonumber(L, -1);
		lua_pop(L, 1);
		if (isnan(br[j]) || (j > 0 && !(br[j] > br[j - 1])))
			return luaL_error(L, "cut: breaks must be strictly ascending numbers "
			    "(breaks[%d])", (int)j + 1);
		check_threshold(L, "cut", &a, &(struct opnd){0}, br[j]);
	}
	nl = nb - 1;
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		if ((size_t)lua_rawlen(L, 3) != nl)
			return luaL_error(L, "cut: %d breaks make %d intervals, but %d labels "
			    "were given", (int)nb, (int)nl, (int)lua_rawlen(L, 3));
		for (j = 0; j < nl; j++) {
			if (lua_rawgeti(L, 3, (lua_Integer)j + 1) != LUA_TSTRING)
				return luaL_error(L, "cut: labels[%d] is a %s, not a string",
				    (int)j + 1, luaL_typename(L, -1));
			lab[j] = lua_tolstring(L, -1, &llen[j]);
			lua_pop(L, 1);  /* still referenced by the table at 3 */
			if (llen[j] == 0 || llen[j] > PHT_TRAIN_DERIVE_LEVEL_MAX ||
			    strlen(lab[j]) != llen[j])
				return luaL_error(L, "cut: labels[%d] must be 1 to %d bytes without "
				    "NUL", (int)j + 1, PHT_TRAIN_DERIVE_LEVEL_MAX);
			for (k = 0; k < j; k++)
				if (strcmp(lab[k], lab[j]) == 0)
					return luaL_error(L, "cut: label '%s' given twice", lab[j]);
		}
	} else {
		for (dig = 3; dig <= 12 && !ok; dig++) {
			for (j = 0; j < nb; j++)
				fmt_break(fb[j], sizeof(fb[j]), br[j], dig);
			for (ok = 1, j = 1; j < nb && ok; j++)
				ok = strcmp(fb[j], fb[j - 1]) != 0;
		}
		deflab = lua_newuserdatauv(L, nl * sizeof(*deflab), 0);        /* 4 */
		for (j = 0; j < nl; j++) {
			if (ok)
				snprintf(deflab[j], sizeof(deflab[j]), "(%s,%s]", fb[j], fb[j + 1]);
			else
				snprintf(deflab[j], sizeof(deflab[j]), "Range_%zu", j + 1);
			lab[j] = deflab[j];
			llen[j] = strlen(deflab[j]);
		}
	}
	for (j = 0; j < nl; j++)
		bytes += llen[j] + 1;
	n = pht_dataset_nrows(a.rows.ds);
	d = derived_new(L, PHT_COL_CATEGORY, n, nl, bytes);
	levels = (char **)(uintptr_t)d->col.levels;
	p = (char *)(levels + nl);
	for (j = 0; j < nl; j++) {
		memcpy(p, lab[j], llen[j] + 1);
		levels[j] = p;
		p += llen[j] + 1;
	}
	out = dvalues(d);
	miss = dmissing(d);
	for (r = 0; r < n; r++) {
		if (pht_column_is_missing(a.col, r)) {
			set_miss(miss, r);
			continue;
		}
		x = pht_column_num(a.col, r);
		if (!(x > br[0]) || x > br[nb - 1]) {
			set_miss(miss, r);
			continue;
		}
		/* the first break >= x is br[hi]: interval hi - 1 */
		lo = 0;
		hi = nb - 1;
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (br[mid] >= x)
				hi = mid;
			else
				lo = mid;
		}
		out[r] = (int32_t)(hi - 1);
	}
	lineage_levels(d);
	return push_result(L, 1, d);
}

/* ---- recode ---- */

/*
 * a:recode{old = "new", ...}: a category column with the named levels
 * renamed; levels renamed to the same name (or to a name an unrenamed
 * level has) merge into one, at the place of the first of them.
 */
static int
col_recode(lua_State *L)
{
	struct opnd a;
	struct derived *d;
	const char **newname;
	int32_t *code, *out;
	size_t nl, nout = 0, j, k, r, n, bytes = 0, len;
	const char *key, *val;
	uint8_t *miss;
	char *p, **levels;
	int lc;

	opnd_get(L, 1, &a);
	if (a.col == NULL || a.col->type != PHT_COL_CATEGORY)
		return luaL_error(L, "recode: expected a category column");
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	nl = a.col->nlevels;
	newname = lua_newuserdatauv(L, (nl + 1) * sizeof(*newname), 0);    /* 3 */
	code = lua_newuserdatauv(L, (nl + 1) * sizeof(*code), 0);          /* 4 */
	for (j = 0; j < nl; j++)
		newname[j] = a.col->levels[j];
	lua_pushnil(L);
	while (lua_next(L, 2) != 0) {
		if (lua_type(L, -2) != LUA_TSTRING)
			return luaL_error(L, "recode: keys must be level names, not %s",
			    luaL_typename(L, -2));
		key = lua_tostring(L, -2);
		lc = pht_column_level_code(a.col, key);
		if (lc < 0 || strlen(key) != lua_rawlen(L, -2))
			return luaL_error(L, "recode: column %s has no level '%s'", a.col->name, key);
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_error(L, "recode: the new name of level '%s' is a %s, not a "
			    "string", key, luaL_typename(L, -1));
		val = lua_tolstring(L, -1, &len);
		if (len == 0 || len > PHT_TRAIN_DERIVE_LEVEL_MAX || strlen(val) != len)
			return luaL_error(L, "recode: the new name of level '%s' must be 1 to %d "
			    "bytes without NUL", key, PHT_TRAIN_DERIVE_LEVEL_MAX);
		newname[lc] = val;      /* kept alive by the table at 2 */
		lua_pop(L, 1);
	}
	/* new levels: the distinct new names in the order of the old levels */
	for (j = 0; j < nl; j++) {
		for (k = 0; k < j && strcmp(newname[k], newname[j]) != 0; k++)
			;
		if (k < j)
			code[j] = code[k];
		else {
			code[j] = (int32_t)nout++;
			bytes += strlen(newname[j]) + 1;
		}
	}
	n = pht_dataset_nrows(a.rows.ds);
	d = derived_new(L, PHT_COL_CATEGORY, n, nout, bytes);
	levels = (char **)(uintptr_t)d->col.levels;
	p = (char *)(levels + nout);
	for (j = 0; j < nl; j++)
		if ((size_t)code[j] < nout && levels[code[j]] == NULL) {
			len = strlen(newname[j]) + 1;
			memcpy(p, newname[j], len);
			levels[code[j]] = p;
			p += len;
		}
	out = dvalues(d);
	miss = dmissing(d);
	for (r = 0; r < n; r++) {
		if (pht_column_is_missing(a.col, r) || a.col->v.i32[r] < 0 ||
		    (size_t)a.col->v.i32[r] >= nl)
			set_miss(miss, r);
		else
			out[r] = code[a.col->v.i32[r]];
	}
	lineage_levels(d);
	return push_result(L, 1, d);
}

/* ---- data:with{name = column, ...} ---- */

static int
valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > PHT_TRAIN_DERIVE_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * data:with{name = column, ...}: a view of the same rows in which each
 * column is also reachable by its name (column(), where(), group_by(),
 * aggregate(), the kernels, columns(), dictionary()). A name must be
 * valid and not a column of the dataset nor a name the view already has.
 */
static int
view_with(lua_State *L)
{
	struct pht_train_view_rows vr, cr;
	const struct pht_train_with *parent;
	struct pht_train_with *w;
	const struct pht_column *c;
	const char **names;
	size_t np, nn = 0, j, len;
	const char *s;

	pht_train_data_view_rows(L, 1, &vr);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	parent = pht_train_data_view_with(L, 1);                        /* 3 */
	np = parent != NULL ? parent->n : 0;
	names = lua_newuserdatauv(L, PHT_TRAIN_DERIVE_WITH_MAX * sizeof(*names), 0); /* 4 */
	lua_pushnil(L);
	while (lua_next(L, 2) != 0) {
		if (lua_type(L, -2) != LUA_TSTRING)
			return luaL_error(L, "with: keys must be names, not %s",
			    luaL_typename(L, -2));
		s = lua_tolstring(L, -2, &len);
		if (!valid_name(s, len))
			return luaL_error(L, "with: '%s' is not a valid name (1 to %d letters, "
			    "digits or _, not starting with a digit)", s, PHT_TRAIN_DERIVE_NAME_MAX);
		if (pht_dataset_find_index(vr.ds, s) >= 0 || pht_train_derive_find(parent, s, NULL))
			return luaL_error(L, "with: '%s' is already a column of dataset %s", s,
			    pht_dataset_name(vr.ds));
		c = pht_train_data_column_test(L, -1, &cr, NULL);
		if (c == NULL)
			return luaL_error(L, "with: %s must be a column, not %s", s,
			    luaL_typename(L, -1));
		if (cr.ds != vr.ds)
			return luaL_error(L, "with: column %s is from a view over another dataset", s);
		if (np + nn >= PHT_TRAIN_DERIVE_WITH_MAX)
			return luaL_error(L, "with: more than %d names", PHT_TRAIN_DERIVE_WITH_MAX);
		names[nn++] = s;        /* kept alive by the table at 2 */
		lua_pop(L, 1);
	}
	qsort(names, nn, sizeof(*names), cmp_str);
	w = lua_newuserdatauv(L, sizeof(*w) + (np + nn) * sizeof(w->e[0]), 1);   /* 5 */
	lua_createtable(L, (int)nn + 1, 0);                             /* 6 */
	w->n = 0;
	for (j = 0; j < np; j++) {
		w->e[w->n] = parent->e[j];
		w->e[w->n].col.name = w->e[w->n].name;
		w->n++;
	}
	lua_pushvalue(L, 3);
	lua_rawseti(L, 6, 1);           /* the parent's names and their sources */
	for (j = 0; j < nn; j++) {
		lua_getfield(L, 2, names[j]);
		c = pht_train_data_column_test(L, -1, NULL, &w->e[w->n].lin);
		lua_rawseti(L, 6, (lua_Integer)j + 2);  /* the handle keeps c alive */
		w->e[w->n].col = *c;
		memcpy(w->e[w->n].name, names[j], strlen(names[j]) + 1);
		w->e[w->n].col.name = w->e[w->n].name;
		w->n++;
	}
	lua_setiuservalue(L, 5, 1);
	pht_train_data_push_with(L, 1, w, 5);
	return 1;
}

/* ---- lookup, listing, registration ---- */

const struct pht_column *
pht_train_derive_find(const struct pht_train_with *with, const char *name,
    const struct pht_train_lineage **lin)
{
	size_t i;

	if (with == NULL)
		return NULL;
	for (i = 0; i < with->n; i++)
		if (strcmp(with->e[i].name, name) == 0) {
			if (lin != NULL)
				*lin = with->e[i].lin;
			return &with->e[i].col;
		}
	return NULL;
}

void
pht_train_derive_push_names(lua_State *L, const struct pht_train_with *with)
{
	lua_Integer base = (lua_Integer)lua_rawlen(L, -1);
	size_t i;

	for (i = 0; with != NULL && i < with->n; i++) {
		lua_pushstring(L, with->e[i].name);
		lua_rawseti(L, -2, base + (lua_Integer)i + 1);
	}
}

void
pht_train_derive_push_dictionary(lua_State *L, const struct pht_train_with *with)
{
	const struct pht_column *c;
	lua_Integer base;
	size_t i, j;

	if (with == NULL || with->n == 0)
		return;
	if (lua_getfield(L, -1, "columns") != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, "columns");
	}
	base = (lua_Integer)lua_rawlen(L, -1);
	for (i = 0; i < with->n; i++) {
		c = &with->e[i].col;
		lua_createtable(L, 0, 6);
		lua_pushstring(L, c->name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, pht_coltype_name(c->type));
		lua_setfield(L, -2, "type");
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "derived");
		if (c->unit != NULL && c->unit[0] != 0) {
			lua_pushstring(L, c->unit);
			lua_setfield(L, -2, "unit");
		}
		if (c->description != NULL && c->description[0] != 0) {
			lua_pushstring(L, c->description);
			lua_setfield(L, -2, "description");
		}
		if (c->type == PHT_COL_CATEGORY) {
			lua_createtable(L, (int)c->nlevels, 0);
			for (j = 0; j < c->nlevels; j++) {
				lua_pushstring(L, c->levels[j]);
				lua_rawseti(L, -2, (lua_Integer)j + 1);
			}
			lua_setfield(L, -2, "levels");
		}
		lua_rawseti(L, -2, base + (lua_Integer)i + 1);
	}
	lua_pop(L, 1);
}

void
pht_train_derive_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"lt", col_lt}, {"le", col_le}, {"gt", col_gt}, {"ge", col_ge},
		{"eq", col_eq}, {"ne", col_ne},
		{"log", col_log}, {"exp", col_exp}, {"sqrt", col_sqrt}, {"abs", col_abs},
		{"is_missing", col_is_missing}, {"ifelse", col_ifelse},
		{"cut", col_cut}, {"recode", col_recode}, {NULL, NULL},
	};
	static const luaL_Reg metamethods[] = {
		{"__add", col_add}, {"__sub", col_sub}, {"__mul", col_mul},
		{"__div", col_div}, {"__pow", col_pow}, {"__unm", col_unm},
		{"__band", col_band}, {"__bor", col_bor}, {"__bnot", col_bnot},
		{NULL, NULL},
	};
	static const luaL_Reg view_methods[] = {
		{"with", view_with}, {NULL, NULL},
	};

	pht_train_data_column_methods_add(L, methods, metamethods);
	pht_train_data_view_methods_add(L, view_methods);
}
