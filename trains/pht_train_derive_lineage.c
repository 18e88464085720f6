/* pht_train_derive_lineage.c — derived column objects and what may be aggregated of each: operands, lineage cells and the exact polynomial. */
#include "pht_train_derive_int.h"

struct derived *
train_derive_derived_new(lua_State *L, enum pht_coltype t, size_t nrows, size_t nlevels,
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

void
train_derive_opnd_get(lua_State *L, int idx, struct opnd *o)
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

void
train_derive_shape_only(struct derived *d, const struct opnd *const *ops, size_t nops, const char *why)
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

void
train_derive_lineage_product(lua_State *L, struct derived *d, const struct opnd *const *ops, size_t nops)
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

void
train_derive_lineage_levels(struct derived *d)
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

int
train_derive_poly_build(lua_State *L, struct derived *d, enum pkind kind, const struct opnd *const *ops,
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

void
train_derive_lineage_boolean(struct derived *d)
{
	d->lin.degree = 0;
	d->lin.ncells = 2;
	d->lin.bcell = dvalues(d);
}

void
train_derive_same_dataset(lua_State *L, const char *what, const struct opnd *a, const struct opnd *b)
{
	if (a->col != NULL && b->col != NULL && a->rows.ds != b->rows.ds)
		luaL_error(L, "%s: columns %s and %s are from views over different datasets",
		    what, a->col->name, b->col->name);
}

int
train_derive_push_result(lua_State *L, int col_idx, struct derived *d)
{
	derived_finish(d);
	pht_train_data_push_derived(L, col_idx, &d->col, &d->lin, -1);
	return 1;
}
