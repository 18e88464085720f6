/* pht_train_data_lineage.c — what a view may aggregate: column lookup, lineage cells and the row sets behind values. */
#include "pht_train_data_int.h"

/*
 * The lineage of a dataset column whose values are all 0 or 1 (a boolean,
 * or an integer or number column holding only 0 and 1 where not missing):
 * two cells, its own values, like a boolean a comparison makes. A sum of
 * such a column over a view is the count of a cell of a two-way table
 * (the view's rows with the value 1), so the cell and its complement are
 * guarded (0 or at least k rows) and recorded as row sets like any
 * predicate's cells (docs/security.md, Disclosure, limit (g)); otherwise
 * the sum of readmit over the six stage IV patients would release the
 * count 3 that crosstab(stage, readmit) suppresses. NULL for other
 * columns. Built once per column and state (the test of an integer or
 * number column stops at its first value other than 0 or 1), kept in the
 * registry.
 */
static const struct pht_train_lineage *
binary_lineage(lua_State *L, const struct pht_dataset *ds, const struct pht_column *col)
{
	static const char key = 0;
	struct pht_train_lineage *lin;
	size_t n = pht_dataset_nrows(ds), r;
	uint8_t *cells;
	double x;

	if (col->type != PHT_COL_BOOLEAN && col->type != PHT_COL_INTEGER &&
	    col->type != PHT_COL_NUMBER)
		return NULL;
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &key);
	}
	if (lua_rawgetp(L, -1, col) != LUA_TNIL) {
		lin = lua_touserdata(L, -1);    /* NULL for false: not 0/1 */
		lua_pop(L, 2);
		return lin;
	}
	lua_pop(L, 1);
	if (col->type != PHT_COL_BOOLEAN)
		for (r = 0; r < n; r++) {
			if (is_missing(col->missing, r))
				continue;
			x = col->type == PHT_COL_INTEGER ? (double)col->v.i64[r] : col->v.f64[r];
			if (x != 0 && x != 1) {
				lua_pushboolean(L, 0);
				lua_rawsetp(L, -2, col);
				lua_pop(L, 1);
				return NULL;
			}
		}
	lin = lua_newuserdatauv(L, sizeof(*lin) + (col->type == PHT_COL_BOOLEAN ? 0 : n), 0);
	memset(lin, 0, sizeof(*lin));
	lin->aggregatable = 1;
	lin->degree = 0;
	lin->ncells = 2;
	lin->own = 1;
	if (col->type == PHT_COL_BOOLEAN)
		lin->bcell = col->v.u8;
	else {
		cells = (uint8_t *)(lin + 1);
		for (r = 0; r < n; r++)
			cells[r] = !is_missing(col->missing, r) &&
			    (col->type == PHT_COL_INTEGER ? col->v.i64[r] == 1 : col->v.f64[r] == 1);
		lin->bcell = cells;
	}
	lua_rawsetp(L, -2, col);
	lua_pop(L, 1);
	return lin;
}

const struct pht_column *
train_data_find_col_lin(lua_State *L, const struct view *v, int arg, const struct pht_train_lineage **lin)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	const char *name = luaL_checkstring(L, arg);
	int i = pht_dataset_find_index(v->ds, name);
	const struct pht_column *d;

	if (lin != NULL)
		*lin = NULL;
	if (i < 0 && (d = pht_train_derive_find(v->with, name, lin)) != NULL)
		return d;       /* a with{} name (its sources were recorded as read) */
	if (i < 0 || !visible(pht_dataset_column(v->ds, (size_t)i)))
		luaL_error(L, "no column '%s' in dataset %s", name, pht_dataset_name(v->ds));
	if (c->cols_touched != NULL && c->ds == v->ds)
		c->cols_touched[i] = 1;
	d = pht_dataset_column(v->ds, (size_t)i);
	if (lin != NULL)
		*lin = binary_lineage(L, v->ds, d);
	return d;
}

const struct pht_column *
train_data_find_col(lua_State *L, const struct view *v, int arg)
{
	return train_data_find_col_lin(L, v, arg, NULL);
}

/* ---- what may be aggregated (docs/train-api.md, "Derived columns") ---- */

void
train_data_check_aggregatable(lua_State *L, const char *what, const struct pht_column *col,
    const struct pht_train_lineage *lin, int second)
{
	if (lin == NULL)
		return;
	if (!lin->aggregatable)
		luaL_error(L, "%s: column %s is shape-only (made by %s): it may be counted, "
		    "but not compared with a constant, summed, averaged or given to a kernel "
		    "(docs/train-api.md, \"Derived columns\")", what, col->name, lin->why);
	if (second && lin->degree > 1)
		luaL_error(L, "%s: column %s has degree %d in the data's values: its squares "
		    "would have degree %d, and no release goes above 2 (docs/train-api.md, "
		    "\"Derived columns\")", what, col->name, lin->degree, 2 * lin->degree);
}

static int
cmp_part(const void *a, const void *b)
{
	const struct part *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/* Ends the run when a part of len rows (0 < len) is smaller than k; cells as for note_parts. */
static void
part_guard(lua_State *L, const struct pht_column *col, size_t len, int cells)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);

	if ((int64_t)len >= c->k)
		return;
	if (cells == 2)
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "subset smaller than k "
		    "(%zu rows with one value of the 0/1 column %s, k = %lld)", len,
		    col->name, (long long)c->k);
	if (cells)
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "subset smaller than k "
		    "(%zu rows in one cell of the predicates column %s is built "
		    "from, k = %lld)", len, col->name, (long long)c->k);
	train_data_guard_values(L, len, col);
}

void
train_data_note_parts(lua_State *L, const struct view *v, const struct pht_column *col, struct part *e,
    size_t m, uint64_t nparts, int cells)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	struct part *sorted;
	uint32_t *rows;
	size_t i, j, *off;

	if (nparts <= 4 * (uint64_t)m + 64) {
		/* a counting sort: linear, and rows keep their order within a part */
		off = train_data_scratch(L, (size_t)nparts + 1, sizeof(size_t));
		sorted = train_data_scratch(L, m, sizeof(*sorted));
		memset(off, 0, ((size_t)nparts + 1) * sizeof(size_t));
		for (i = 0; i < m; i++)
			off[e[i].key + 1]++;
		for (i = 0; i < nparts; i++)
			off[i + 1] += off[i];
		for (i = 0; i < m; i++)
			sorted[off[e[i].key]++] = e[i];
		memcpy(e, sorted, m * sizeof(*e));
		lua_pop(L, 2);
	} else
		qsort(e, m, sizeof(*e), cmp_part);
	for (i = 0; i < m; i = j) {
		for (j = i + 1; j < m && e[j].key == e[i].key; j++)
			;
		part_guard(L, col, j - i, cells);
	}
	if (c->rowsets == NULL || c->ds != v->ds)
		return;
	rows = train_data_scratch(L, m, sizeof(uint32_t));
	for (i = 0; i < m; i++)
		rows[i] = e[i].row;
	for (i = 0; i < m; i = j) {
		for (j = i + 1; j < m && e[j].key == e[i].key; j++)
			;
		train_data_record_set(L, rows + i, j - i, 0);
	}
	lua_pop(L, 1);
}

void
train_data_note_two_cells(lua_State *L, const struct pht_column *col,
    const struct pht_train_lineage *lin, const uint32_t *rows, size_t n, int cells)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	size_t i, len[2] = { 0, 0 }, at[2];
	uint32_t *part;

	for (i = 0; i < n; i++)
		len[pht_train_lineage_cell(lin, rows[i])]++;
	for (i = 0; i < 2; i++)
		if (len[i] > 0)
			part_guard(L, col, len[i], cells);
	if (c->rowsets == NULL)
		return;
	/* a stable partition: each cell's rows in the order given, cell 0 first */
	part = train_data_scratch(L, n, sizeof(*part));
	at[0] = 0;
	at[1] = len[0];
	for (i = 0; i < n; i++)
		part[at[pht_train_lineage_cell(lin, rows[i])]++] = rows[i];
	for (i = 0; i < 2; i++)
		if (len[i] > 0)
			train_data_record_set(L, part + (i == 0 ? 0 : len[0]), len[i], 0);
	lua_pop(L, 1);
}

void
train_data_note_values(lua_State *L, struct view *v, const struct pht_column *col,
    const struct pht_train_lineage *lin, int cells, const uint32_t *gid, const uint8_t *gid8,
    uint32_t ngroups, const int *want)
{
	size_t ncells = cells && lin != NULL ? lin->ncells : 1, i, r, m = 0;
	uint64_t slot;
	struct part *e;

	if (ncells <= 1 && col->missing == NULL) {
		if (gid == NULL && gid8 == NULL) {
			train_data_note_rows(L, v);        /* every row of the view */
			return;
		}
		/* the groups' rows: recorded by the caller */
		return;
	}
	e = train_data_scratch(L, v->n, sizeof(*e));
	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		if (is_missing(col->missing, r))
			continue;
		slot = gid != NULL ? (gid[i] == NO_GROUP ? ngroups : gid[i]) :
		    gid8 != NULL ? gid8[i] : 0;
		if (want != NULL && !want[slot])
			continue;
		e[m].key = slot * ncells + (ncells > 1 ? pht_train_lineage_cell(lin, r) : 0);
		e[m].row = (uint32_t)r;
		m++;
	}
	train_data_note_parts(L, v, col, e, m, (uint64_t)(gid != NULL || gid8 != NULL ? ngroups + 1 : 1) *
	    ncells, ncells > 1 ? (lin->own ? 2 : 1) : 0);
	lua_pop(L, 1);
}

void
train_data_push_date(lua_State *L, int64_t days)
{
	char s[32];
	int64_t y;
	unsigned m, d;

	pht_civil_from_days(days, &y, &m, &d);
	snprintf(s, sizeof(s), "%04lld-%02u-%02u", (long long)y, m, d);
	lua_pushstring(L, s);
}

int
train_data_parse_date(const char *s, size_t len, int64_t *days)
{
	int64_t y, yy;
	unsigned m, d, mm, dd;
	size_t i;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return 0;
	*days = pht_days_from_civil(y, m, d);
	pht_civil_from_days(*days, &yy, &mm, &dd);
	return yy == y && mm == m && dd == d;
}

void
train_data_push_cell(lua_State *L, const struct pht_column *c, size_t r)
{
	int32_t code;

	if (is_missing(c->missing, r)) {
		lua_pushnil(L);
		return;
	}
	switch (c->type) {
	case PHT_COL_NUMBER:
		lua_pushnumber(L, c->v.f64[r]);
		break;
	case PHT_COL_INTEGER:
		lua_pushinteger(L, c->v.i64[r]);
		break;
	case PHT_COL_CATEGORY:
		code = c->v.i32[r];
		if (code >= 0 && (size_t)code < c->nlevels)
			lua_pushstring(L, c->levels[code]);
		else
			lua_pushnil(L);
		break;
	case PHT_COL_DATE:
		train_data_push_date(L, c->v.i32[r]);
		break;
	case PHT_COL_BOOLEAN:
		lua_pushboolean(L, c->v.u8[r]);
		break;
	}
}
