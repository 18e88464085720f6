/* pht_train_derive_recode.c — col:cut(), col:recode() and data:with{} names, with the lookups the data API makes of them. */
#include "pht_train_derive_int.h"

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

int
train_derive_col_cut(lua_State *L)
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

	train_derive_opnd_get(L, 1, &a);
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
		train_derive_check_threshold(L, "cut", &a, &(struct opnd){0}, br[j]);
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
	d = train_derive_derived_new(L, PHT_COL_CATEGORY, n, nl, bytes);
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
	train_derive_lineage_levels(d);
	return train_derive_push_result(L, 1, d);
}

/* ---- recode ---- */

int
train_derive_col_recode(lua_State *L)
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

	train_derive_opnd_get(L, 1, &a);
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
	d = train_derive_derived_new(L, PHT_COL_CATEGORY, n, nout, bytes);
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
	train_derive_lineage_levels(d);
	return train_derive_push_result(L, 1, d);
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

int
train_derive_view_with(lua_State *L)
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
