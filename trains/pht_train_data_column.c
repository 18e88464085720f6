/* pht_train_data_column.c — the methods of a view's column: count, sum, mean and variance kernels. */
#include "pht_train_data_int.h"

/* ---- aggregates ---- */

struct agg {
	size_t count;
	double sum, sum_c, sumsq, sumsq_c;
	int64_t isum;
	int ioverflow;
};

/* Neumaier's compensated summation step. */
static inline void
ksum(double *s, double *c, double x)
{
	double t = *s + x;

	if (fabs(*s) >= fabs(x))
		*c += (*s - t) + x;
	else
		*c += (x - t) + *s;
	*s = t;
}

static void
aggregate(const struct pht_column *col, const struct view *v, struct agg *a)
{
	const uint8_t *miss = col->missing;
	size_t i, r, n = v->n;

	memset(a, 0, sizeof(*a));
	switch (col->type) {
	case PHT_COL_NUMBER:
		for (i = 0; i < n; i++) {
			double x;

			r = vrow(v, i);
			if (is_missing(miss, r))
				continue;
			x = col->v.f64[r];
			a->count++;
			ksum(&a->sum, &a->sum_c, x);
			ksum(&a->sumsq, &a->sumsq_c, x * x);
		}
		break;
	case PHT_COL_INTEGER:
		for (i = 0; i < n; i++) {
			int64_t x;

			r = vrow(v, i);
			if (is_missing(miss, r))
				continue;
			x = col->v.i64[r];
			a->count++;
			if (__builtin_add_overflow(a->isum, x, &a->isum))
				a->ioverflow = 1;
			ksum(&a->sum, &a->sum_c, (double)x);
			ksum(&a->sumsq, &a->sumsq_c, (double)x * (double)x);
		}
		break;
	case PHT_COL_BOOLEAN:
		for (i = 0; i < n; i++) {
			r = vrow(v, i);
			if (is_missing(miss, r))
				continue;
			a->count++;
			a->isum += col->v.u8[r];
		}
		a->sum = (double)a->isum;
		a->sumsq = (double)a->isum;
		break;
	default:
		break;
	}
	a->sum += a->sum_c;
	a->sumsq += a->sumsq_c;
}

static struct colview *
check_col(lua_State *L)
{
	return luaL_checkudata(L, 1, COLUMN_MT);
}

/* Missing cells of col among the rows of v. */
static size_t
count_missing(const struct pht_column *col, const struct view *v)
{
	const uint8_t *miss = col->missing;
	size_t i, m = 0, r;

	if (miss == NULL)
		return 0;
	if (v->all) {
		for (i = 0; i + 8 <= (v->n >> 3); i += 8) {
			uint64_t w;

			memcpy(&w, miss + i, 8);
			m += (size_t)__builtin_popcountll(w);
		}
		for (; i < (v->n >> 3); i++)
			m += (size_t)__builtin_popcount(miss[i]);
		for (r = v->n & ~(size_t)7; r < v->n; r++)
			m += (miss[r >> 3] >> (r & 7)) & 1;
		return m;
	}
	for (i = 0; i < v->n; i++) {
		r = v->sel[i];
		m += (miss[r >> 3] >> (r & 7)) & 1;
	}
	return m;
}

/*
 * Compensated sum of doubles: Knuth's TwoSum gives the exact rounding error
 * of each addition without a branch (the same error term as Neumaier's
 * step, so the same result and error bound). A missing cell adds -0.0,
 * which leaves every sum unchanged. Specialised by the constant flags
 * has_sel and has_miss once inlined.
 */
static inline __attribute__((always_inline)) void
sum_f64_kernel(const double *x, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, size_t *nmiss, double *sum)
{
	double s = 0, c = 0, v, t, z;
	size_t i, r, m = 0;
	unsigned b;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		v = x[r];
		if (has_miss) {
			b = (miss[r >> 3] >> (r & 7)) & 1;
			v = b ? -0.0 : v;
			m += b;
		}
		t = s + v;
		z = t - s;
		c += (s - (t - z)) + (v - z);
		s = t;
	}
	*nmiss = m;
	*sum = s + c;
}

/* Exact sum of int64 cells (128 bits cannot overflow below 2^64 rows). */
static inline __attribute__((always_inline)) i128
sum_i64_kernel(const int64_t *x, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, size_t *nmiss)
{
	i128 s = 0;
	int64_t v;
	size_t i, r, m = 0;
	unsigned b;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		v = x[r];
		if (has_miss) {
			b = (miss[r >> 3] >> (r & 7)) & 1;
			v = b ? 0 : v;
			m += b;
		}
		s += v;
	}
	*nmiss = m;
	return s;
}

/* Sum of a boolean column: the number of true cells. */
static inline __attribute__((always_inline)) int64_t
sum_u8_kernel(const uint8_t *x, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, size_t *nmiss)
{
	int64_t s = 0;
	size_t i, r, m = 0;
	unsigned b;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		if (has_miss) {
			b = (miss[r >> 3] >> (r & 7)) & 1;
			s += b ? 0 : x[r];
			m += b;
		} else
			s += x[r];
	}
	*nmiss = m;
	return s;
}

static void
col_fill_count(struct colview *cv)
{
	if (!cv->have_count) {
		cv->count = cv->v->n - count_missing(cv->col, cv->v);
		cv->have_count = 1;
	}
}

void
train_data_poly_moments(lua_State *L, const struct view *v, const struct pht_column *col,
    const struct pht_train_lineage *lin, const uint32_t *gid, const uint8_t *gid8,
    size_t nslots, size_t *n, double *sum, double *m2)
{
	const struct pht_train_poly *p = lin->poly;
	size_t T = p->nterms, C = lin->ncells, np, i, r, s, c, t, u, pt;
	size_t *cnt;
	double *S, *M, *Q, dev[PHT_TRAIN_POLY_TERMS], x, vbar, mean, w, wc;
	const double *a;

	if (nslots != 0 && C > SIZE_MAX / nslots / (T * T + 3 * T + 1) / sizeof(double))
		luaL_error(L, "data: request too large");
	np = nslots * C;
	cnt = train_data_scratch(L, np, sizeof(size_t));
	S = train_data_scratch(L, np * (T * T + 3 * T), sizeof(double));  /* sums (2T), means (T), Q (T^2) */
	memset(cnt, 0, np * sizeof(size_t));
	memset(S, 0, np * (T * T + 3 * T) * sizeof(double));
	M = S + 2 * np * T;
	Q = M + np * T;
#define PART(i, r) ((gid != NULL ? (gid[i] == NO_GROUP ? nslots - 1 : gid[i]) : \
	    gid8 != NULL ? gid8[i] : 0) * C + pht_train_lineage_cell(lin, r))
	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		if (is_missing(col->missing, r))
			continue;
		pt = PART(i, r);
		cnt[pt]++;
		for (t = 0; t < T; t++)
			ksum(&S[2 * (pt * T + t)], &S[2 * (pt * T + t) + 1],
			    pht_train_mono_at(&p->mono[t], r));
	}
	for (pt = 0; pt < np; pt++)
		for (t = 0; t < T; t++)
			M[pt * T + t] = cnt[pt] == 0 ? 0 : (S[2 * (pt * T + t)] +
			    S[2 * (pt * T + t) + 1]) / (double)cnt[pt];
	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		if (is_missing(col->missing, r))
			continue;
		pt = PART(i, r);
		for (t = 0; t < T; t++)
			dev[t] = pht_train_mono_at(&p->mono[t], r) - M[pt * T + t];
		for (t = 0; t < T; t++)
			for (u = 0; u < T; u++)
				Q[(pt * T + t) * T + u] += dev[t] * dev[u];
	}
#undef PART
	for (s = 0; s < nslots; s++) {
		double sc = 0;

		n[s] = 0;
		sum[s] = 0;
		for (c = 0; c < C; c++) {
			pt = s * C + c;
			if (cnt[pt] == 0)
				continue;
			n[s] += cnt[pt];
			a = p->coef + c * T;
			for (t = 0; t < T; t++)
				if (a[t] != 0) {
					ksum(&sum[s], &sc, a[t] * S[2 * (pt * T + t)]);
					ksum(&sum[s], &sc, a[t] * S[2 * (pt * T + t) + 1]);
				}
		}
		sum[s] += sc;
		mean = n[s] > 0 ? sum[s] / (double)n[s] : 0;
		w = 0;
		wc = 0;
		for (c = 0; c < C; c++) {
			pt = s * C + c;
			if (cnt[pt] == 0)
				continue;
			a = p->coef + c * T;
			for (vbar = 0, t = 0; t < T; t++)
				vbar += a[t] * M[pt * T + t];
			for (t = 0; t < T; t++)
				for (u = 0; u < T; u++)
					if (a[t] != 0 && a[u] != 0)
						ksum(&w, &wc, a[t] * a[u] *
						    Q[(pt * T + t) * T + u]);
			x = vbar - mean;
			ksum(&w, &wc, (double)cnt[pt] * x * x);
		}
		w += wc;
		m2[s] = w > 0 ? w : 0;
	}
	lua_pop(L, 2);
}

/*
 * The count and sum of a numeric column (one pass, kept in cv); of a
 * derived number column, from its polynomial, with its variance.
 */
static void
col_fill_sum(lua_State *L, struct colview *cv)
{
	const struct pht_column *col = cv->col;
	const struct view *v = cv->v;
	size_t nmiss = 0, n;
	double sum, m2;
	i128 total;

	if (cv->have_sum)
		return;
	if (cv->lin != NULL && cv->lin->poly != NULL) {
		train_data_poly_moments(L, v, col, cv->lin, NULL, NULL, 1, &n, &sum, &m2);
		cv->count = n;
		cv->sum = sum;
		cv->m2 = m2;
		cv->var = n >= 2 ? m2 / (double)(n - 1) : 0.0;
		cv->have_count = cv->have_sum = cv->have_var = 1;
		return;
	}
	switch (col->type) {
	case PHT_COL_NUMBER:
		SPECIALISE(sum_f64_kernel, col->v.f64, col->missing, v, &nmiss, &cv->sum);
		break;
	case PHT_COL_INTEGER:
		SPECIALISE_RET(total, sum_i64_kernel, col->v.i64, col->missing, v, &nmiss);
		/* outside the 64-bit range: the float nearest the exact sum */
		cv->ioverflow = total < INT64_MIN || total > INT64_MAX;
		cv->isum = cv->ioverflow ? 0 : (int64_t)total;
		cv->sum = (double)total;
		break;
	case PHT_COL_BOOLEAN:
		SPECIALISE_RET(cv->isum, sum_u8_kernel, col->v.u8, col->missing, v, &nmiss);
		cv->sum = (double)cv->isum;
		break;
	default:
		nmiss = count_missing(col, v);
		break;
	}
	cv->count = v->n - nmiss;
	cv->have_count = 1;
	cv->have_sum = 1;
}

/*
 * The second pass of the variance: over the non-missing cells, the
 * compensated sum of (x - m)^2 into *m2 and the plain sum of (x - m) into
 * *dev (the correction term of the corrected two-pass algorithm, which
 * absorbs the rounding of m). ty is W_F64, W_I64 or W_U8; a missing cell
 * adds 0 through a select.
 */
static inline __attribute__((always_inline)) void
dev_kernel(const void *arr, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, int ty, double m, double *m2, double *dev)
{
	double s = 0, c = 0, d = 0, x, t, z, q;
	size_t i, r;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		x = ty == W_F64 ? ((const double *)arr)[r] : ty == W_I64 ?
		    (double)((const int64_t *)arr)[r] : (double)((const uint8_t *)arr)[r];
		x -= m;
		if (has_miss)
			x = ((miss[r >> 3] >> (r & 7)) & 1) ? 0.0 : x;
		d += x;
		q = x * x;
		t = s + q;
		z = t - s;
		c += (s - (t - z)) + (q - z);
		s = t;
	}
	*m2 = s + c;
	*dev = d;
}

/*
 * The sample variance of a numeric column (n - 1 denominator), exactly by
 * two passes: the mean from the compensated or exact sum, then the sums of
 * the deviations from it; kept in cv. Needs count >= 2.
 */
static void
col_fill_var(lua_State *L, struct colview *cv)
{
	const struct pht_column *col = cv->col;
	const struct view *v = cv->v;
	double m, m2 = 0, dev = 0, n;

	if (cv->have_var)
		return;
	col_fill_sum(L, cv);
	if (cv->have_var)
		return;         /* a derived column's, from its polynomial */
	n = (double)cv->count;
	m = cv->sum / n;
	switch (col->type) {
	case PHT_COL_NUMBER:
		SPECIALISE(dev_kernel, col->v.f64, col->missing, v, W_F64, m, &m2, &dev);
		break;
	case PHT_COL_INTEGER:
		SPECIALISE(dev_kernel, col->v.i64, col->missing, v, W_I64, m, &m2, &dev);
		break;
	default:
		SPECIALISE(dev_kernel, col->v.u8, col->missing, v, W_U8, m, &m2, &dev);
		break;
	}
	m2 -= dev * dev / n;
	cv->var = m2 > 0 ? m2 / (n - 1) : 0.0;
	cv->have_var = 1;
}

/*
 * The guards and checks of every aggregate; the kind of result needs.
 * count depends only on which cells are missing (a predicate, as where()
 * makes): any column may be counted, and its non-missing rows are the set
 * behind it. The others read the values: the column must be aggregatable
 * (second moments: of degree 1 at most), and its non-missing rows are
 * guarded and recorded cell by cell of its lineage.
 */
static struct colview *
col_prepare(lua_State *L, int numeric, const char *what)
{
	struct colview *cv = check_col(L);
	enum pht_coltype t = cv->col->type;
	int count = strcmp(what, "count") == 0, flag = count ? 1 : 2;

	if (numeric && t != PHT_COL_NUMBER && t != PHT_COL_INTEGER && t != PHT_COL_BOOLEAN)
		luaL_error(L, "%s: column %s is a %s column, not numeric", what,
		    cv->col->name, pht_coltype_name(t));
	if (!numeric && t == PHT_COL_CATEGORY && !count)
		luaL_error(L, "%s: column %s is a category column", what, cv->col->name);
	if (!count)
		train_data_check_aggregatable(L, what, cv->col, cv->lin, strcmp(what, "sumsq") == 0 ||
		    strcmp(what, "var") == 0 || strcmp(what, "sd") == 0);
	train_data_guard_rows(L, cv->v->n);
	train_data_mark_rows(L, cv->v);
	if (!(cv->noted_values & flag)) {
		train_data_note_values(L, cv->v, cv->col, cv->lin, !count, NULL, NULL, 0, NULL);
		cv->noted_values |= flag;
	}
	return cv;
}

/* Runs the full aggregate (count, sum, sumsq) with the guards. */
static struct colview *
col_agg(lua_State *L, struct agg *a, int numeric, const char *what)
{
	struct colview *cv = col_prepare(L, numeric, what);

	aggregate(cv->col, cv->v, a);
	train_data_guard_values(L, a->count, cv->col);
	return cv;
}

int
train_data_col_count(lua_State *L)
{
	struct colview *cv = col_prepare(L, 0, "count");

	col_fill_count(cv);
	train_data_guard_values(L, cv->count, cv->col);
	lua_pushinteger(L, (lua_Integer)cv->count);
	return 1;
}

int
train_data_col_sum(lua_State *L)
{
	struct colview *cv = col_prepare(L, 1, "sum");

	col_fill_sum(L, cv);
	train_data_guard_values(L, cv->count, cv->col);
	if (cv->col->type != PHT_COL_NUMBER && !cv->ioverflow)
		lua_pushinteger(L, cv->isum);
	else
		lua_pushnumber(L, cv->sum);
	return 1;
}

int
train_data_col_sumsq(lua_State *L)
{
	struct agg a;
	struct colview *cv = check_col(L);

	if (cv->lin != NULL && cv->lin->poly != NULL) {
		col_prepare(L, 1, "sumsq");
		col_fill_sum(L, cv);
		train_data_guard_values(L, cv->count, cv->col);
		lua_pushnumber(L, cv->count == 0 ? 0.0 :
		    cv->m2 + cv->sum * cv->sum / (double)cv->count);
		return 1;
	}

	col_agg(L, &a, 1, "sumsq");
	lua_pushnumber(L, a.sumsq);
	return 1;
}

int
train_data_col_mean(lua_State *L)
{
	struct colview *cv = col_prepare(L, 1, "mean");

	col_fill_sum(L, cv);
	train_data_guard_values(L, cv->count, cv->col);
	if (cv->count == 0)
		lua_pushnil(L);
	else
		lua_pushnumber(L, cv->sum / (double)cv->count);
	return 1;
}

/* col:var() and col:sd(): sample variance and standard deviation; nil when n < 2. */
static int
col_var_sd(lua_State *L, int sd)
{
	struct colview *cv = col_prepare(L, 1, sd ? "sd" : "var");

	col_fill_sum(L, cv);
	train_data_guard_values(L, cv->count, cv->col);
	if (cv->count < 2) {
		lua_pushnil(L);
		return 1;
	}
	col_fill_var(L, cv);
	lua_pushnumber(L, sd ? sqrt(cv->var) : cv->var);
	return 1;
}

int
train_data_col_var(lua_State *L)
{
	return col_var_sd(L, 0);
}

int
train_data_col_sd(lua_State *L)
{
	return col_var_sd(L, 1);
}

int
train_data_col_min(lua_State *L)
{
	check_col(L);
	return train_data_no_row_values(L, "col:min()");
}

int
train_data_col_max(lua_State *L)
{
	check_col(L);
	return train_data_no_row_values(L, "col:max()");
}

int
train_data_col_values(lua_State *L)
{
	struct colview *cv = check_col(L);
	size_t i;

	if (!pht_train_ctx_of(L)->row_access)
		return train_data_no_row_values(L, "col:values()");
	train_data_guard_rows(L, cv->v->n);
	train_data_mark_rows(L, cv->v);
	train_data_note_rows(L, cv->v);
	if (cv->v->n > (size_t)INT32_MAX)
		return luaL_error(L, "values: view too large");
	lua_createtable(L, (int)cv->v->n, 0);
	for (i = 0; i < cv->v->n; i++) {
		train_data_push_cell(L, cv->col, vrow(cv->v, i));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

int
train_data_col_len(lua_State *L)
{
	struct colview *cv = check_col(L);

	train_data_guard_rows(L, cv->v->n);
	train_data_note_rows(L, cv->v);
	lua_pushinteger(L, (lua_Integer)cv->v->n);
	return 1;
}

int
train_data_col_index(lua_State *L)
{
	struct colview *cv = check_col(L);
	const struct pht_column *c = cv->col;
	const char *k;
	size_t i;

	if (lua_type(L, 2) == LUA_TNUMBER)
		return train_data_no_row_values(L, "col[i]");
	k = luaL_checkstring(L, 2);
	if (strcmp(k, "name") == 0)
		lua_pushstring(L, c->name);
	else if (strcmp(k, "type") == 0)
		lua_pushstring(L, pht_coltype_name(c->type));
	else if (strcmp(k, "unit") == 0)
		lua_pushstring(L, c->unit != NULL ? c->unit : "");
	else if (strcmp(k, "description") == 0)
		lua_pushstring(L, c->description != NULL ? c->description : "");
	else if (strcmp(k, "levels") == 0) {
		if (c->type != PHT_COL_CATEGORY)
			return 0;
		lua_createtable(L, (int)c->nlevels, 0);
		for (i = 0; i < c->nlevels; i++) {
			lua_pushstring(L, c->levels[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
	} else {
		lua_pushvalue(L, 2);
		lua_rawget(L, lua_upvalueindex(1));
	}
	return 1;
}

int
train_data_col_tostring(lua_State *L)
{
	struct colview *cv = check_col(L);

	lua_pushfstring(L, "column %s (%s)", cv->col->name, pht_coltype_name(cv->col->type));
	return 1;
}
