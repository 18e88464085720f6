/* pht_train_derive.c — derived columns: arithmetic, comparisons, logic and ifelse, computed by C loops over the column arrays, and the registration of the derived-column methods. */
#include "pht_train_derive_int.h"

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
		return train_derive_poly_build(L, d, P_SUM, ops, add, 2);
	case A_SUB:
		return train_derive_poly_build(L, d, P_SUM, ops, sub, 2);
	case A_UNM:
		return train_derive_poly_build(L, d, P_SUM, ops, neg, 1);
	case A_MUL:
		return train_derive_poly_build(L, d, P_MUL, ops, NULL, 2);
	case A_DIV:
		inv = *b;       /* a / n is a * (1 / n) */
		inv.x = 1 / b->x;
		ops[1] = &inv;
		return train_derive_poly_build(L, d, P_MUL, ops, NULL, 2);
	case A_POW:
		if (b->x == 1)
			return train_derive_poly_build(L, d, P_SUM, ops, add, 1);
		ops[1] = a;
		return train_derive_poly_build(L, d, P_MUL, ops, NULL, 2);
	default:
		return train_derive_poly_build(L, d, P_SELF, ops, NULL, 0);
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
		train_derive_shape_only(d, ops, 2, "");
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
			train_derive_shape_only(d, ops, 2, why);
			return;
		}
		break;
	case A_DIV:
		if (b->col != NULL) {
			train_derive_shape_only(d, ops, 2, "a division by a column");
			return;
		}
		deg = da;
		break;
	case A_POW:
		if (b->col != NULL) {
			train_derive_shape_only(d, ops, 2, "a power with a column as exponent");
			return;
		}
		if (b->x != 1 && b->x != 2) {
			train_derive_shape_only(d, ops, 2, "a power other than 1 or 2");
			return;
		}
		deg = da * (int)b->x;
		if (deg > 2) {
			train_derive_shape_only(d, ops, 2, "a square of degree 4 (above 2)");
			return;
		}
		break;
	case A_LOG:
	case A_SQRT:
		if (a->lin != NULL && a->lin != &a->own) {
			train_derive_shape_only(d, ops, 2, op == A_LOG ? "log of a derived column" :
			    "sqrt of a derived column");
			return;
		}
		deg = 1;
		break;
	default:
		train_derive_shape_only(d, ops, 2, arith_names[op]);
		return;
	}
	d->lin.degree = deg;
	train_derive_lineage_product(L, d, ops, 2);
	if (!arith_poly(L, op, d, a, b))
		train_derive_shape_only(d, ops, 2, "more than 8 terms");
}

static int
arith2(lua_State *L, enum arith op)
{
	struct opnd a, b;
	struct derived *d;
	int left, dates = 0;

	train_derive_opnd_get(L, 1, &a);
	train_derive_opnd_get(L, 2, &b);
	left = a.col != NULL ? 1 : 2;
	if (op == A_SUB)
		dates = date_operands(L, 1, &a, 2, &b);
	arith_check(L, op, &a, dates);
	arith_check(L, op, &b, dates);
	train_derive_same_dataset(L, arith_names[op], &a, &b);
	d = train_derive_derived_new(L, PHT_COL_NUMBER, pht_dataset_nrows(left == 1 ? a.rows.ds : b.rows.ds),
	    0, 0);
	arith_loop(op, &a, &b, d->nrows, dvalues(d), dmissing(d));
	arith_lineage(L, op, d, &a, &b);
	return train_derive_push_result(L, left, d);
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

	train_derive_opnd_get(L, 1, &a);
	if (a.col == NULL)
		return luaL_error(L, "%s: expected a column, got %s", arith_names[op],
		    luaL_typename(L, 1));
	arith_check(L, op, &a, 0);
	memset(&none, 0, sizeof(none));
	d = train_derive_derived_new(L, PHT_COL_NUMBER, pht_dataset_nrows(a.rows.ds), 0, 0);
	arith_loop(op, &a, &none, d->nrows, dvalues(d), dmissing(d));
	arith_lineage(L, op, d, &a, &none);
	return train_derive_push_result(L, 1, d);
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

void
train_derive_check_threshold(lua_State *L, const char *what, const struct opnd *a, const struct opnd *b,
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

	train_derive_opnd_get(L, 1, &a);
	if (a.col == NULL)
		return luaL_error(L, "%s: expected a column, got %s", what, luaL_typename(L, 1));
	lua_settop(L, 2);
	train_derive_opnd_get(L, 2, &b);
	ka = kind_of(a.col->type);
	if ((ka == K_LEVEL || ka == K_BOOL) && op != C_EQ && op != C_NE)
		return luaL_error(L, "%s: not defined for %s column %s (only eq and ne)", what,
		    pht_coltype_name(a.col->type), a.col->name);
	if (b.col != NULL) {
		if (kind_of(b.col->type) != ka)
			return luaL_error(L, "%s: cannot compare %s column %s with %s column %s",
			    what, pht_coltype_name(a.col->type), a.col->name,
			    pht_coltype_name(b.col->type), b.col->name);
		train_derive_same_dataset(L, what, &a, &b);
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
		train_derive_check_threshold(L, what, &a, &b, ka == K_DATE || (useint && b.col == NULL) ?
		    (double)ki : b.x);
	n = pht_dataset_nrows(a.rows.ds);
	d = train_derive_derived_new(L, PHT_COL_BOOLEAN, n, 0, 0);
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
	train_derive_lineage_boolean(d);
	return train_derive_push_result(L, 1, d);
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

	train_derive_opnd_get(L, 1, &a);
	train_derive_opnd_get(L, 2, &b);
	left = a.col != NULL ? 1 : 2;
	bool_check(L, what, 1, &a);
	if (op != '~')
		bool_check(L, what, 2, &b);
	train_derive_same_dataset(L, what, &a, &b);
	n = pht_dataset_nrows(left == 1 ? a.rows.ds : b.rows.ds);
	d = train_derive_derived_new(L, PHT_COL_BOOLEAN, n, 0, 0);
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
	train_derive_lineage_boolean(d);
	return train_derive_push_result(L, left, d);
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

	train_derive_opnd_get(L, 1, &a);
	if (a.col == NULL)
		return luaL_error(L, "is_missing: expected a column, got %s", luaL_typename(L, 1));
	n = pht_dataset_nrows(a.rows.ds);
	d = train_derive_derived_new(L, PHT_COL_BOOLEAN, n, 0, 0);
	out = dvalues(d);
	for (r = 0; r < n; r++)
		out[r] = (uint8_t)pht_column_is_missing(a.col, r);
	train_derive_lineage_boolean(d);
	return train_derive_push_result(L, 1, d);
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

	train_derive_opnd_get(L, 1, &c);
	if (c.col == NULL || c.col->type != PHT_COL_BOOLEAN)
		return luaL_error(L, "ifelse: the condition must be a boolean column");
	lua_settop(L, 3);
	for (j = 0; j < 2; j++) {
		train_derive_opnd_get(L, 2 + j, &br[j]);
		if (br[j].col == NULL ? br[j].ltype != LUA_TNUMBER : !is_numeric(br[j].col->type))
			return luaL_error(L, "ifelse: argument #%d must be a numeric column or a "
			    "number, not %s", j + 1, br[j].col != NULL ?
			    pht_coltype_name(br[j].col->type) : luaL_typename(L, 2 + j));
		train_derive_same_dataset(L, "ifelse", &c, &br[j]);
	}
	n = pht_dataset_nrows(c.rows.ds);
	d = train_derive_derived_new(L, PHT_COL_NUMBER, n, 0, 0);
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
			train_derive_shape_only(d, ops, 3, "");
		else {
			d->lin.degree = opnd_degree(&br[0]) > opnd_degree(&br[1]) ?
			    opnd_degree(&br[0]) : opnd_degree(&br[1]);
			train_derive_lineage_product(L, d, ops, 3);
			if (!train_derive_poly_build(L, d, P_IFELSE, ops, NULL, 3))
				train_derive_shape_only(d, ops, 3, "more than 8 terms");
		}
	}
	return train_derive_push_result(L, 1, d);
}

void
pht_train_derive_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"lt", col_lt}, {"le", col_le}, {"gt", col_gt}, {"ge", col_ge},
		{"eq", col_eq}, {"ne", col_ne},
		{"log", col_log}, {"exp", col_exp}, {"sqrt", col_sqrt}, {"abs", col_abs},
		{"is_missing", col_is_missing}, {"ifelse", col_ifelse},
		{"cut", train_derive_col_cut}, {"recode", train_derive_col_recode}, {NULL, NULL},
	};
	static const luaL_Reg metamethods[] = {
		{"__add", col_add}, {"__sub", col_sub}, {"__mul", col_mul},
		{"__div", col_div}, {"__pow", col_pow}, {"__unm", col_unm},
		{"__band", col_band}, {"__bor", col_bor}, {"__bnot", col_bnot},
		{NULL, NULL},
	};
	static const luaL_Reg view_methods[] = {
		{"with", train_derive_view_with}, {NULL, NULL},
	};

	pht_train_data_column_methods_add(L, methods, metamethods);
	pht_train_data_view_methods_add(L, view_methods);
}
