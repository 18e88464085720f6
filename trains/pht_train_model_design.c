/* pht_train_model_design.c — the design matrix of the model kernels: covariates, complete cases, the row sets and cell checks behind it, and the refusal of extreme parameters. */
#include "pht_train_model_int.h"

void
train_model_use_col(lua_State *L, const char *fn, struct design *d, const struct pht_column *c,
    const struct pht_train_lineage *lin)
{
	if (d->ncols == MAX_COLS)
		luaL_error(L, "%s: too many columns", fn);
	d->lins[d->ncols] = lin;
	d->cols[d->ncols++] = c;
}

static void
add_term(lua_State *L, const char *fn, struct design *d, const struct pht_column *c,
    int32_t level)
{
	if (d->p == PHT_TRAIN_MODEL_MAX_TERMS)
		luaL_error(L, "%s: covariates: more than %d design terms", fn,
		    PHT_TRAIN_MODEL_MAX_TERMS);
	d->terms[d->p].col = c;
	d->terms[d->p].level = level;
	if (c == NULL)
		lua_pushstring(L, "(Intercept)");
	else if (level >= 0)
		lua_pushfstring(L, "%s%s", c->name, c->levels[level]);
	else
		lua_pushstring(L, c->name);
	lua_rawseti(L, d->names_idx, (lua_Integer)++d->p);
}

void
train_model_read_covariates(lua_State *L, const char *fn, struct design *d, int need_one,
    int intercept)
{
	const struct pht_train_lineage *lin;
	const struct pht_column *c;
	size_t i, m;
	int32_t lv;

	lua_newtable(L);
	d->names_idx = lua_gettop(L);
	if (intercept)
		add_term(L, fn, d, NULL, -1);
	if (pht_train_kernel_field(L, "covariates") != LUA_TTABLE)
		luaL_error(L, need_one ? "%s: covariates: a non-empty list of column names is required" :
		    "%s: covariates: a list of column names is required", fn);
	m = (size_t)lua_rawlen(L, -1);
	if (need_one && m == 0)
		luaL_error(L, "%s: covariates: a non-empty list of column names is required", fn);
	for (i = 1; i <= m; i++) {
		if (lua_rawgeti(L, -1, (lua_Integer)i) != LUA_TSTRING)
			luaL_error(L, "%s: covariates[%d]: a column name is required, not a %s", fn,
			    (int)i, luaL_typename(L, -1));
		c = pht_train_data_column_arg_lineage(L, 1, lua_gettop(L), &lin);
		lua_pop(L, 1);
		switch (c->type) {
		case PHT_COL_NUMBER:
		case PHT_COL_INTEGER:
		case PHT_COL_BOOLEAN:
			add_term(L, fn, d, c, -1);
			break;
		case PHT_COL_CATEGORY:
			if (c->nlevels < 2)
				luaL_error(L, "%s: covariates: category column '%s' needs at least two "
				    "levels in the dictionary", fn, c->name);
			for (lv = 1; (size_t)lv < c->nlevels; lv++)
				add_term(L, fn, d, c, lv);
			break;
		default:
			luaL_error(L, "%s: covariates: column '%s' has type %s, which cannot be a "
			    "covariate", fn, c->name, pht_coltype_name(c->type));
		}
		train_model_use_col(L, fn, d, c, lin);
	}
	lua_pop(L, 1);
}

int
train_model_read_beta(lua_State *L, const char *fn, size_t p, double *out)
{
	size_t j, m;
	int t = pht_train_kernel_field(L, "beta");

	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		for (j = 0; j < p; j++)
			out[j] = 0;
		return 0;
	}
	if (t != LUA_TTABLE)
		luaL_error(L, "%s: beta: a list of %d numbers is required, not a %s", fn, (int)p,
		    luaL_typename(L, -1));
	m = (size_t)lua_rawlen(L, -1);
	if (m != p)
		luaL_error(L, "%s: beta: expected %d numbers (one per design term), got %d", fn,
		    (int)p, (int)m);
	for (j = 0; j < p; j++) {
		if (lua_rawgeti(L, -1, (lua_Integer)j + 1) != LUA_TNUMBER)
			luaL_error(L, "%s: beta[%d]: a number is required, not a %s", fn, (int)j + 1,
			    luaL_typename(L, -1));
		out[j] = (double)lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return 1;
}

void
train_model_complete_cases(lua_State *L, const char *fn, struct design *d)
{
	struct pht_train_view_rows vr;
	uint8_t *ok;
	size_t i, j, n = 0;

	pht_train_data_use(L, 1);
	pht_train_data_view_rows(L, 1, &vr);
	ok = pht_train_kernel_scratch(L, fn, vr.n, 1);
	memset(ok, 1, vr.n);
	for (j = 0; j < d->ncols; j++) {
		const struct pht_column *c = d->cols[j];

		if (c->missing != NULL)
			for (i = 0; i < vr.n; i++)
				ok[i] &= !pht_column_is_missing(c, pht_train_view_row(&vr, i));
		if (c->type == PHT_COL_CATEGORY)
			for (i = 0; i < vr.n; i++) {
				int32_t code = c->v.i32[pht_train_view_row(&vr, i)];

				ok[i] &= code >= 0 && (size_t)code < c->nlevels;
			}
	}
	d->rows = pht_train_kernel_scratch(L, fn, vr.n, sizeof(uint32_t));
	for (i = 0; i < vr.n; i++)
		if (ok[i])
			d->rows[n++] = (uint32_t)pht_train_view_row(&vr, i);
	d->n = n;
	d->dropped = vr.n - n;
	/* a column built from predicates: each of its cells among the rows used >= k */
	for (j = 0; j < d->ncols; j++)
		pht_train_data_guard_lineage(L, d->cols[j], d->lins[j], d->rows, n);
}

void
train_model_fill_design(lua_State *L, const char *fn, struct design *d)
{
	size_t i, j, r, n = d->n, p = d->p, ones;
	double v;
	int is01;

	d->x = pht_train_kernel_scratch(L, fn, n, p * sizeof(double));
	for (j = 0; j < p; j++) {
		const struct term *t = &d->terms[j];
		const struct pht_column *c = t->col;

		ones = 0;
		is01 = 1;
		for (i = 0; i < n; i++) {
			r = d->rows[i];
			if (c == NULL)
				v = 1;
			else if (t->level >= 0)
				v = c->v.i32[r] == t->level;
			else if (c->type == PHT_COL_NUMBER)
				v = c->v.f64[r];
			else if (c->type == PHT_COL_INTEGER)
				v = (double)c->v.i64[r];
			else
				v = c->v.u8[r];
			d->x[i * p + j] = v;
			ones += v == 1;
			is01 &= v == 0 || v == 1;
		}
		d->ones[j] = ones;
		d->is01[j] = is01;
	}
}

/* Whether design term j is binary: a level's indicator, a boolean, or numbers all 0/1. */
static int
term_binary(const struct design *d, size_t j)
{
	const struct term *t = &d->terms[j];

	return t->col != NULL && (t->level >= 0 || t->col->type == PHT_COL_BOOLEAN ||
	    d->is01[j]);
}

static int
cmp_row_pos(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

void
train_model_note_design_sets(lua_State *L, const char *fn, const struct design *d)
{
	size_t n = d->n, p = d->p, words = (n + 63) / 64, nb = 0, nsets = 1, i, j, l, w, m;
	uint64_t *ord, *bits;
	uint32_t *rows, *out;
	size_t bt[PHT_TRAIN_MODEL_MAX_TERMS];

	if (n == 0)
		return;
	for (j = 0; j < p; j++)
		if (term_binary(d, j))
			bt[nb++] = j;
	/* positions in ascending row order, so each set is recorded without a sort */
	ord = pht_train_kernel_scratch(L, fn, n, sizeof(uint64_t));
	for (i = 0; i < n; i++)
		ord[i] = (uint64_t)d->rows[i] << 32 | i;
	qsort(ord, n, sizeof(*ord), cmp_row_pos);
	rows = pht_train_kernel_scratch(L, fn, 2 * n, sizeof(uint32_t));
	out = rows + n;
	for (i = 0; i < n; i++)
		rows[i] = (uint32_t)(ord[i] >> 32);
	bits = pht_train_kernel_scratch(L, fn, nb > 0 ? nb * words : 1, sizeof(uint64_t));
	memset(bits, 0, nb * words * sizeof(uint64_t));
	for (m = 0; m < nb; m++)
		for (i = 0; i < n; i++)
			if (d->x[(ord[i] & 0xffffffffu) * p + bt[m]] == 1)
				bits[m * words + i / 64] |= (uint64_t)1 << (i % 64);
	/* count the non-empty sets first: all of them are recorded, or the run ends */
	for (j = 0; j < nb; j++) {
		nsets += d->ones[bt[j]] > 0;
		for (l = j + 1; l < nb; l++)
			for (w = 0; w < words; w++)
				if (bits[j * words + w] & bits[l * words + w]) {
					nsets++;
					break;
				}
	}
	pht_train_kernel_reserve_sets(L, fn, nsets, "the complete cases, each binary design "
	    "term's rows and each pair's");
	pht_train_kernel_note_rows(L, rows, n);
	for (j = 0; j < nb; j++)
		for (l = j; l < nb; l++) {
			size_t c = 0;

			for (w = 0; w < words; w++) {
				uint64_t v = bits[j * words + w] & bits[l * words + w];

				while (v != 0) {
					out[c++] = rows[w * 64 + (size_t)__builtin_ctzll(v)];
					v &= v - 1;
				}
			}
			pht_train_kernel_note_rows(L, out, c);
		}
	lua_pop(L, 3);
}

/* Design term j's name (from the names sequence; left on the stack: for error messages). */
static const char *
term_name(lua_State *L, const struct design *d, size_t j)
{
	lua_rawgeti(L, d->names_idx, (lua_Integer)j + 1);
	return lua_isstring(L, -1) ? lua_tostring(L, -1) : "?";
}

void
train_model_check_outcome_cells(lua_State *L, const char *fn, const struct design *d,
    const uint8_t *flag, const char *what)
{
	int64_t k = pht_train_ctx_of(L)->k;
	size_t i, j, c1, c0, n1 = 0, p = d->p;

	for (i = 0; i < d->n; i++)
		n1 += flag[i];
	if ((n1 > 0 && (int64_t)n1 < k) || (d->n - n1 > 0 && (int64_t)(d->n - n1) < k))
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: %s: fewer than k of "
		    "the complete cases have it, or fewer than k do not (a count under k)", fn,
		    what);
	for (j = 0; j < p; j++) {
		if (!term_binary(d, j))
			continue;
		c1 = 0;
		for (i = 0; i < d->n; i++)
			c1 += flag[i] && d->x[i * p + j] == 1;
		c0 = d->ones[j] - c1;
		if ((c1 > 0 && (int64_t)c1 < k) || (c0 > 0 && (int64_t)c0 < k))
			pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: %s crossed with "
			    "term '%s': a cell of 1 to k - 1 rows (a count under k)", fn, what,
			    term_name(L, d, j));
	}
}

void
train_model_push_vector(lua_State *L, const double *x, size_t n)
{
	size_t i;

	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_pushnumber(L, x[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

void
train_model_push_design_fields(lua_State *L, const struct design *d)
{
	size_t j;

	lua_pushvalue(L, d->names_idx);
	lua_setfield(L, -2, "names");
	lua_createtable(L, (int)d->p, 0);
	for (j = 0; j < d->p; j++) {
		lua_pushboolean(L, term_binary(d, j));
		lua_rawseti(L, -2, (lua_Integer)j + 1);
	}
	lua_setfield(L, -2, "binary");
	lua_createtable(L, (int)d->p, 0);
	for (j = 0; j < d->p; j++) {
		lua_pushinteger(L, (lua_Integer)d->ones[j]);
		lua_rawseti(L, -2, (lua_Integer)j + 1);
	}
	lua_setfield(L, -2, "ones");
	lua_pushinteger(L, (lua_Integer)d->n);
	lua_setfield(L, -2, "n");
	lua_pushinteger(L, (lua_Integer)d->dropped);
	lua_setfield(L, -2, "dropped");
}

void
train_model_check_args_table(lua_State *L, const char *fn, const char *shape)
{
	if (!lua_istable(L, 2))
		luaL_error(L, "%s: expects a table of arguments, %s", fn, shape);
	lua_settop(L, 2);
	luaL_checkstack(L, 48, fn);
}

/* ---- Cox: one stratum ---- */

void
train_model_refuse_extreme(lua_State *L, const char *fn, const char *why)
{
	pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: %s (an extreme beta "
	    "could single out rows)", fn, why);
}

void
train_model_refuse_dominant(lua_State *L, const char *fn, const char *where)
{
	pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: one row carries more than "
	    "90%% of the weight of %s of k or more rows at the given beta (a soft maximum "
	    "could single out a row)", fn, where);
}
