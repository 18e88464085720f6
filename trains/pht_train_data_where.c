/* pht_train_data_where.c — data:where(): selections by comparison, set membership and missingness. */
#include "pht_train_data_int.h"

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTNULL, OP_ISNULL };

struct key {
	int isint;
	int64_t i;
	double d;
};

static void
to_key(lua_State *L, const struct pht_column *c, int idx, struct key *k)
{
	const char *s;
	size_t len, j;

	memset(k, 0, sizeof(*k));
	switch (c->type) {
	case PHT_COL_NUMBER:
	case PHT_COL_INTEGER:
		if (lua_type(L, idx) != LUA_TNUMBER)
			break;
		if (lua_isinteger(L, idx) && c->type == PHT_COL_INTEGER) {
			k->isint = 1;
			k->i = lua_tointeger(L, idx);
		}
		k->d = (double)lua_tonumber(L, idx);
		if (isnan(k->d))
			luaL_error(L, "where: cannot compare column %s with NaN", c->name);
		return;
	case PHT_COL_CATEGORY:
		if (lua_type(L, idx) != LUA_TSTRING)
			break;
		s = lua_tolstring(L, idx, &len);
		for (j = 0; j < c->nlevels; j++)
			if (strlen(c->levels[j]) == len && memcmp(c->levels[j], s, len) == 0) {
				k->isint = 1;
				k->i = (int64_t)j;
				return;
			}
		luaL_error(L, "where: column %s has no level '%s'", c->name, s);
		return;
	case PHT_COL_DATE:
		if (lua_type(L, idx) != LUA_TSTRING)
			break;
		s = lua_tolstring(L, idx, &len);
		if (!train_data_parse_date(s, len, &k->i))
			luaL_error(L, "where: '%s' is not a date YYYY-MM-DD (column %s)", s, c->name);
		k->isint = 1;
		return;
	case PHT_COL_BOOLEAN:
		if (lua_type(L, idx) == LUA_TBOOLEAN) {
			k->isint = 1;
			k->i = lua_toboolean(L, idx);
			return;
		}
		break;
	}
	luaL_error(L, "where: column %s (%s) cannot be compared with a %s value",
	    c->name, pht_coltype_name(c->type), luaL_typename(L, idx));
}

static inline int
cmp_cell(const struct pht_column *c, size_t r, const struct key *k)
{
	int64_t x;
	double d;

	switch (c->type) {
	case PHT_COL_NUMBER:
		d = c->v.f64[r];
		return (d > k->d) - (d < k->d);
	case PHT_COL_INTEGER:
		if (!k->isint) {
			d = (double)c->v.i64[r];
			return (d > k->d) - (d < k->d);
		}
		x = c->v.i64[r];
		break;
	case PHT_COL_BOOLEAN:
		x = c->v.u8[r];
		break;
	default:
		x = c->v.i32[r];
		break;
	}
	return (x > k->i) - (x < k->i);
}

/*
 * where() kernels: one loop per (column representation, operator), each
 * specialised for views with and without a selection and columns with and
 * without missing cells, writing the selection branch-free. Data cells are
 * never NaN (the loader refuses them) nor is a key (to_key refuses it), so
 * plain comparisons agree with cmp_cell().
 */
static inline __attribute__((always_inline)) int
where_test(const void *arr, size_t r, int ty, int op, double kd, int64_t ki)
{
	double d = 0;
	int64_t x = 0;

	switch (ty) {
	case W_F64:
		d = ((const double *)arr)[r];
		break;
	case W_I64D:
		d = (double)((const int64_t *)arr)[r];
		break;
	case W_I64:
		x = ((const int64_t *)arr)[r];
		break;
	case W_I32:
		x = ((const int32_t *)arr)[r];
		break;
	default:
		x = ((const uint8_t *)arr)[r];
		break;
	}
	if (ty == W_F64 || ty == W_I64D) {
		switch (op) {
		case OP_EQ: return d == kd;
		case OP_NE: return d != kd;
		case OP_LT: return d < kd;
		case OP_LE: return d <= kd;
		case OP_GT: return d > kd;
		default: return d >= kd;
		}
	}
	switch (op) {
	case OP_EQ: return x == ki;
	case OP_NE: return x != ki;
	case OP_LT: return x < ki;
	case OP_LE: return x <= ki;
	case OP_GT: return x > ki;
	default: return x >= ki;
	}
}

static inline __attribute__((always_inline)) size_t
where_kernel(const void *arr, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, int ty, int op, double kd, int64_t ki, uint32_t *out)
{
	size_t i, r, m = 0;
	int keep;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		keep = where_test(arr, r, ty, op, kd, ki);
		if (has_miss)
			keep &= !((miss[r >> 3] >> (r & 7)) & 1);
		out[m] = (uint32_t)r;
		m += (size_t)keep;
	}
	return m;
}

/*
 * where() on the whole dataset (n rows): the kept rows as a bitmap of
 * ceil(n / 64) words (bits past n zero), built a word at a time; the
 * count.
 */
static inline __attribute__((always_inline)) size_t
where_bits_kernel(const void *arr, const uint8_t *miss, size_t n, int has_miss, int ty,
    int op, double kd, int64_t ki, uint64_t *bits)
{
	size_t w, j, r, end, m = 0, nwords = (n + 63) / 64;
	uint64_t word;
	int keep;

	for (w = 0; w < nwords; w++) {
		end = n - w * 64 < 64 ? n - w * 64 : 64;
		word = 0;
		for (j = 0; j < end; j++) {
			r = w * 64 + j;
			keep = where_test(arr, r, ty, op, kd, ki);
			if (has_miss)
				keep &= !((miss[r >> 3] >> (r & 7)) & 1);
			word |= (uint64_t)keep << j;
			m += (size_t)keep;
		}
		bits[w] = word;
	}
	return m;
}

#define WHERE_BITS(TY, OP) do {						\
	if (c->missing == NULL)						\
		m = where_bits_kernel(arr, NULL, n, 0, TY, OP, kd, ki, bits); \
	else								\
		m = where_bits_kernel(arr, c->missing, n, 1, TY, OP, kd, ki, bits); \
} while (0)

#define WHERE_BITS_OP(TY) do {						\
	switch (op) {							\
	case OP_EQ: WHERE_BITS(TY, OP_EQ); break;			\
	case OP_NE: WHERE_BITS(TY, OP_NE); break;			\
	case OP_LT: WHERE_BITS(TY, OP_LT); break;			\
	case OP_LE: WHERE_BITS(TY, OP_LE); break;			\
	case OP_GT: WHERE_BITS(TY, OP_GT); break;			\
	default: WHERE_BITS(TY, OP_GE); break;				\
	}								\
} while (0)

/*
 * Runs OPM(TY) with arr set to column c's array and TY its kernel type
 * (integers compared with a non-integer key as doubles): the type switch
 * of where_compare_bits() and where_compare().
 */
#define WHERE_BY_TYPE(OPM) do {						\
	switch (c->type) {						\
	case PHT_COL_NUMBER:						\
		arr = c->v.f64;						\
		OPM(W_F64);						\
		break;							\
	case PHT_COL_INTEGER:						\
		arr = c->v.i64;						\
		if (k->isint)						\
			OPM(W_I64);					\
		else							\
			OPM(W_I64D);					\
		break;							\
	case PHT_COL_BOOLEAN:						\
		arr = c->v.u8;						\
		OPM(W_U8);						\
		break;							\
	default:							\
		arr = c->v.i32;						\
		OPM(W_I32);						\
		break;							\
	}								\
} while (0)

/* Comparison op of column c with key k over all n rows, into bits; the count. */
static size_t
where_compare_bits(const struct pht_column *c, size_t n, enum op op, const struct key *k,
    uint64_t *bits)
{
	const double kd = k->d;
	const int64_t ki = k->i;
	const void *arr;
	size_t m = 0;

	WHERE_BY_TYPE(WHERE_BITS_OP);
	return m;
}

#define WHERE_OP(TY) do {							\
	switch (op) {								\
	case OP_EQ: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_EQ, kd, ki, out); break; \
	case OP_NE: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_NE, kd, ki, out); break; \
	case OP_LT: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_LT, kd, ki, out); break; \
	case OP_LE: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_LE, kd, ki, out); break; \
	case OP_GT: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_GT, kd, ki, out); break; \
	default: SPECIALISE_RET(m, where_kernel, arr, c->missing, v, TY, OP_GE, kd, ki, out); break; \
	}									\
} while (0)

/* Comparison op (OP_EQ..OP_GE) of column c with key k over v into out; the count. */
static size_t
where_compare(const struct pht_column *c, const struct view *v, enum op op,
    const struct key *k, uint32_t *out)
{
	const double kd = k->d;
	const int64_t ki = k->i;
	const void *arr;
	size_t m = 0;

	WHERE_BY_TYPE(WHERE_OP);
	return m;
}

/* 'in' on a category or boolean column: a table of the wanted codes. */
static size_t
where_in_codes(const struct pht_column *c, const struct view *v, const uint8_t *want,
    size_t ncodes, uint32_t *out)
{
	size_t i, r, m = 0;
	int64_t x;
	int keep;

	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		x = c->type == PHT_COL_BOOLEAN ? c->v.u8[r] : c->v.i32[r];
		keep = x >= 0 && (uint64_t)x < ncodes && want[x] && !is_missing(c->missing, r);
		out[m] = (uint32_t)r;
		m += (size_t)keep;
	}
	return m;
}

/* data:where(col): the rows of the view where the boolean column col is true. */
static int
where_column(lua_State *L, struct view *v)
{
	struct colview *cv = luaL_checkudata(L, 2, COLUMN_MT);
	const struct pht_column *c = cv->col;
	uint32_t *out;
	size_t i, r, m = 0;

	if (c->type != PHT_COL_BOOLEAN)
		return luaL_error(L, "where: column %s is a %s column, not boolean", c->name,
		    pht_coltype_name(c->type));
	if (cv->v->ds != v->ds)
		return luaL_error(L, "where: column %s is from another dataset", c->name);
	lua_settop(L, 2);
	train_data_mark_rows(L, v);
	out = train_data_scratch(L, v->n, sizeof(uint32_t));                      /* 3 */
	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		out[m] = (uint32_t)r;
		m += (size_t)(c->v.u8[r] != 0 && !is_missing(c->missing, r));
	}
	train_data_push_selection(L, v, out, 3, m);
	return 1;
}

int
train_data_view_where(lua_State *L)
{
	static const char *const ops[] = {"==", "~=", "<", "<=", ">", ">=", "in",
	    "notnull", "isnull", NULL};
	struct view *v = train_data_check_view(L);
	const struct pht_column *c;
	enum op op;
	struct key k, *set = NULL;
	size_t i, j, r, m = 0, nset = 0;
	uint32_t *out;
	int keep, out_idx;

	if (lua_type(L, 2) == LUA_TUSERDATA)
		return where_column(L, v);
	c = train_data_find_col(L, v, 2);
	op = (enum op)luaL_checkoption(L, 3, NULL, ops);
	if ((op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE) &&
	    (c->type == PHT_COL_CATEGORY || c->type == PHT_COL_BOOLEAN))
		return luaL_error(L, "where: operator %s is not defined for %s column %s",
		    ops[op], pht_coltype_name(c->type), c->name);
	if (op == OP_IN) {
		luaL_checktype(L, 4, LUA_TTABLE);
		nset = (size_t)lua_rawlen(L, 4);
		if (nset > IN_MAX)
			return luaL_error(L, "where: more than %d values for 'in'", IN_MAX);
		set = train_data_scratch(L, nset, sizeof(*set));
		for (j = 0; j < nset; j++) {
			lua_rawgeti(L, 4, (lua_Integer)j + 1);
			to_key(L, c, -1, &set[j]);
			lua_pop(L, 1);
			pht_train_kernel_threshold(L, "where", c, set[j].isint ? (double)set[j].i :
			    set[j].d);
		}
	} else if (op != OP_NOTNULL && op != OP_ISNULL) {
		to_key(L, c, 4, &k);
		pht_train_kernel_threshold(L, "where", c, k.isint ? (double)k.i : k.d);
	}
	train_data_mark_rows(L, v);
	if (v->all && v->n > 0 && op != OP_IN && op != OP_NOTNULL && op != OP_ISNULL) {
		/* the whole dataset: the selection as a bitmap (struct view) */
		uint64_t *bits = train_data_scratch(L, (v->n + 63) / 64, sizeof(uint64_t));
		struct view *nv;

		out_idx = lua_gettop(L);
		m = where_compare_bits(c, v->n, op, &k, bits);
		nv = train_data_new_view(L, v->ds, 0, 0);
		nv->n = m;
		nv->sel = NULL;
		nv->bits = bits;
		lua_pushvalue(L, out_idx);
		lua_setiuservalue(L, -2, 1);
		nv->marked = v->marked;
		train_data_inherit_with(L, v, nv);
		return 1;
	}
	out = train_data_scratch(L, v->n, sizeof(uint32_t));
	out_idx = lua_gettop(L);
	if (op != OP_IN && op != OP_NOTNULL && op != OP_ISNULL)
		m = where_compare(c, v, op, &k, out);
	else if (op == OP_IN && (c->type == PHT_COL_CATEGORY || c->type == PHT_COL_BOOLEAN)) {
		size_t ncodes = c->type == PHT_COL_BOOLEAN ? 2 : c->nlevels;
		uint8_t *want = train_data_scratch(L, ncodes, 1);

		memset(want, 0, ncodes);
		for (j = 0; j < nset; j++)
			if (set[j].i >= 0 && (uint64_t)set[j].i < ncodes)
				want[set[j].i] = 1;
		m = where_in_codes(c, v, want, ncodes, out);
	} else
		for (i = 0; i < v->n; i++) {
			r = vrow(v, i);
			if (op == OP_ISNULL)
				keep = is_missing(c->missing, r);
			else if (op == OP_NOTNULL)
				keep = !is_missing(c->missing, r);
			else if (is_missing(c->missing, r))
				keep = 0;
			else {
				keep = 0;
				for (j = 0; j < nset && !keep; j++)
					keep = cmp_cell(c, r, &set[j]) == 0;
			}
			if (keep)
				out[m++] = (uint32_t)r;
		}
	train_data_push_selection(L, v, out, out_idx, m);
	return 1;
}

int
train_data_view_filter(lua_State *L)
{
	train_data_check_view(L);
	return train_data_no_row_values(L, "data:filter()");
}
