/* pht_train_data_iface.c — the data API's interface for kernels and derived columns in other files of trains/. */
#include "pht_train_data_int.h"

/* ---- interface for kernels in other files of trains/ ---- */

void
pht_train_data_view_rows(lua_State *L, int idx, struct pht_train_view_rows *out)
{
	struct view *v = train_data_view_at(L, idx);

	out->ds = v->ds;
	out->n = v->n;
	out->sel = v->all ? NULL : v->sel;
}

void
pht_train_data_use(lua_State *L, int idx)
{
	struct view *v = train_data_view_at(L, idx);

	train_data_guard_rows(L, v->n);
	train_data_mark_rows(L, v);
	train_data_note_rows(L, v);
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
	struct view *v = train_data_view_at(L, view_idx);
	const struct pht_column *c = train_data_find_col_lin(L, v, name_idx, lin);

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
	if (lin->ncells == 2) {
		train_data_note_two_cells(L, col, lin, rows, n, lin->own ? 2 : 1);
		return;
	}
	e = train_data_scratch(L, n, sizeof(*e));
	for (i = 0; i < n; i++) {
		e[i].key = pht_train_lineage_cell(lin, rows[i]);
		e[i].row = rows[i];
	}
	memset(&none, 0, sizeof(none));
	none.ds = ctx->ds;      /* note_parts records into ctx's dataset only */
	train_data_note_parts(L, &none, col, e, n, lin->ncells, lin->own ? 2 : 1);
	lua_pop(L, 1);
}

void
pht_train_data_guard_values(lua_State *L, size_t n, const struct pht_column *col)
{
	train_data_guard_values(L, n, col);
}

void
pht_train_data_view_methods_add(lua_State *L, const luaL_Reg *methods)
{
	train_data_register_metatables(L);
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
	train_data_register_metatables(L);
	train_data_new_view(L, ds, n, 1);
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
	train_data_register_metatables(L);
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
	struct view *v = train_data_view_at(L, idx);

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
	struct view *v = train_data_view_at(L, view_idx), *nv;

	view_idx = lua_absindex(L, view_idx);
	with_idx = lua_absindex(L, with_idx);
	if (v->all)
		nv = train_data_new_view(L, v->ds, v->n, 1);
	else {
		/* the same selection, kept alive through the parent */
		nv = train_data_new_view(L, v->ds, 0, 0);
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
