/* pht_train_data.c — the data API: view objects over a dataset through selection vectors, their row records and metatables. */
#include "pht_train_data_int.h"

struct view *
train_data_new_view(lua_State *L, const struct pht_dataset *ds, size_t n, int all)
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

void *
train_data_scratch(lua_State *L, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		luaL_error(L, "data: request too large");
	return lua_newuserdatauv(L, n * size > 0 ? n * size : 1, 0);
}

void
train_data_guard_rows(lua_State *L, size_t n)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);

	if (n > 0 && (int64_t)n < c->k)
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE,
		    "subset smaller than k (%zu rows, k = %lld)", n, (long long)c->k);
}

void
train_data_guard_values(lua_State *L, size_t n, const struct pht_column *col)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);

	if (n > 0 && (int64_t)n < c->k)
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE,
		    "subset smaller than k (%zu non-missing values in column %s, k = %lld)",
		    n, col->name, (long long)c->k);
}

void
train_data_mark_rows(lua_State *L, struct view *v)
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

void
train_data_record_set(lua_State *L, const uint32_t *rows, size_t n, int all)
{
	record_result(L, pht_train_rowsets_add(pht_train_ctx_of(L)->rowsets, rows, n, all));
}

void
train_data_note_rows(lua_State *L, struct view *v)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);

	if (v->noted || c->rowsets == NULL || c->ds != v->ds)
		return;
	if (v->bits != NULL)
		record_result(L, pht_train_rowsets_add_bits(c->rowsets, v->bits));
	else
		train_data_record_set(L, v->all ? NULL : v->sel, v->n, v->all);
	v->noted = 1;
}

int
train_data_no_row_values(lua_State *L, const char *what)
{
	return luaL_error(L, "%s is not available: no row-level value reaches a train "
	    "(docs/train-api.md)", what);
}

/* ---- views ---- */

void
train_data_materialize(lua_State *L, int idx, struct view *v)
{
	const uint64_t *bits = v->bits;
	size_t w, nwords, i = 0;
	uint32_t *sel;
	uint64_t m;

	if (bits == NULL)
		return;
	idx = lua_absindex(L, idx);
	nwords = (pht_dataset_nrows(v->ds) + 63) / 64;
	sel = train_data_scratch(L, v->n, sizeof(uint32_t));
	for (w = 0; w < nwords; w++)
		for (m = bits[w]; m != 0; m &= m - 1)
			sel[i++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(m));
	v->sel = sel;
	v->bits = NULL;
	lua_setiuservalue(L, idx, 1);
}

struct view *
train_data_view_at(lua_State *L, int idx)
{
	struct view *v = luaL_checkudata(L, idx, VIEW_MT);

	train_data_materialize(L, idx, v);
	return v;
}

struct view *
train_data_check_view_lazy(lua_State *L)
{
	return luaL_checkudata(L, 1, VIEW_MT);
}

struct view *
train_data_check_view(lua_State *L)
{
	return train_data_view_at(L, 1);
}

static int
view_nrows(lua_State *L)
{
	struct view *v = train_data_check_view_lazy(L);

	train_data_guard_rows(L, v->n);
	train_data_note_rows(L, v);
	lua_pushinteger(L, (lua_Integer)v->n);
	return 1;
}

/* data:k(): the station's k, the smallest subset an aggregate may use (read-only). */
static int
view_k(lua_State *L)
{
	train_data_check_view_lazy(L);
	lua_pushinteger(L, (lua_Integer)pht_train_ctx_of(L)->k);
	return 1;
}

static int
view_name(lua_State *L)
{
	lua_pushstring(L, pht_dataset_name(train_data_check_view_lazy(L)->ds));
	return 1;
}

static int
view_columns(lua_State *L)
{
	struct view *v = train_data_check_view_lazy(L);
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
	struct view *v = train_data_check_view(L);
	const struct pht_train_lineage *lin;
	const struct pht_column *col = train_data_find_col_lin(L, v, 2, &lin);
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
	struct view *v = train_data_check_view(L);
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

void
train_data_inherit_with(lua_State *L, const struct view *parent, struct view *nv)
{
	if (parent->with == NULL)
		return;
	if (lua_touserdata(L, 1) != (const void *)parent)
		luaL_error(L, "data: internal error: parent view is not argument 1");
	nv->with = parent->with;
	lua_getiuservalue(L, 1, 2);
	lua_setiuservalue(L, -2, 2);
}

void
train_data_push_selection(lua_State *L, const struct view *parent, uint32_t *sel, int sel_idx,
    size_t m)
{
	struct view *nv;

	sel_idx = lua_absindex(L, sel_idx);
	if (m >= parent->n / 4 && m > 0) {
		nv = train_data_new_view(L, parent->ds, 0, 0);
		nv->n = m;
		nv->sel = sel;
		lua_pushvalue(L, sel_idx);
		lua_setiuservalue(L, -2, 1);
	} else {
		nv = train_data_new_view(L, parent->ds, m, 0);
		if (m > 0)
			memcpy(nv->sel, sel, m * sizeof(uint32_t));
	}
	/* the parent's rows were all marked before the selection was made */
	nv->marked = parent->marked;
	train_data_inherit_with(L, parent, nv);
}

static int
view_order(lua_State *L)
{
	train_data_check_view(L);
	return train_data_no_row_values(L, "data:order()");
}

static int
view_tostring(lua_State *L)
{
	struct view *v = train_data_check_view_lazy(L);

	lua_pushfstring(L, "view of dataset %s", pht_dataset_name(v->ds));
	return 1;
}

void
train_data_register_metatables(lua_State *L)
{
	static const luaL_Reg view_methods[] = {
		{"nrows", view_nrows}, {"name", view_name}, {"k", view_k},
		{"columns", view_columns},
		{"column", view_column}, {"dictionary", view_dictionary},
		{"where", train_data_view_where}, {"filter", train_data_view_filter},
		{"group_by", train_data_view_group_by}, {"aggregate", train_data_view_aggregate},
		{"aggregate_by", train_data_view_aggregate_by},
		{"crosstab", train_data_view_crosstab},
		{"order", view_order}, {NULL, NULL},
	};
	static const luaL_Reg col_methods[] = {
		{"count", train_data_col_count}, {"sum", train_data_col_sum}, {"sumsq", train_data_col_sumsq},
		{"mean", train_data_col_mean}, {"var", train_data_col_var}, {"sd", train_data_col_sd},
		{"min", train_data_col_min}, {"max", train_data_col_max},
		{"values", train_data_col_values}, {NULL, NULL},
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
		lua_pushcclosure(L, train_data_col_index, 1);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, train_data_col_len);
		lua_setfield(L, -2, "__len");
		lua_pushcfunction(L, train_data_col_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
	}
	lua_pop(L, 1);
}
