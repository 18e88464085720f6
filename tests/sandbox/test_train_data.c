/* test_train_data.c — every data-API primitive against a naive computation over the generator's arrays. */
#include "tap.h"
#include "sandbox_gen.h"

#include "pht_err.h"
#include "pht_json.h"
#include "pht_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 1000

static struct gen g;
static struct pht_dataset *ds;
static struct pht_limits lim;
static struct pht_run_stats st;
static struct pht_err err;

/* Runs station() whose body is given; returns the output or NULL (err set). */
static json_t *
run_body(const char *body, uint64_t seed)
{
	char code[8192];
	json_t *out = NULL;

	snprintf(code, sizeof(code), "return { name = 't', version = '1',\n"
	    "station = function(data, params, round)\n%s\nend,\n"
	    "combine = function() return {done = true, result = 0} end }\n", body);
	if (pht_train_run_station(code, strlen(code), "t.lua", ds, NULL, 1, seed, &lim,
	    &out, &st, &err) != PHT_OK) {
		tap_diag("train failed: %s", err.msg);
		return NULL;
	}
	return out;
}

static int
near(double got, double want)
{
	return fabs(got - want) <= 1e-12 * (fabs(want) > 1 ? fabs(want) : 1);
}

static double
num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "(none)";
}

static void
date_str(int64_t days, char out[16])
{
	int64_t y;
	unsigned m, d;

	pht_civil_from_days(days, &y, &m, &d);
	snprintf(out, 16, "%04lld-%02u-%02u", (long long)y, m, d);
}

static void
test_whole_columns(void)
{
	json_t *o;
	double s = 0, ss = 0, mn = HUGE_VAL, mx = -HUGE_VAL;
	int64_t is = 0, imn = INT64_MAX, imx = INT64_MIN, dmn = INT64_MAX, dmx = INT64_MIN;
	double iss = 0;
	size_t i, c = 0, ic = 0, smk = 0, dc = 0;
	char d1[16], d2[16];

	for (i = 0; i < N; i++) {
		if (!g.age_miss[i]) {
			c++;
			s += g.age[i];
			ss += g.age[i] * g.age[i];
			mn = g.age[i] < mn ? g.age[i] : mn;
			mx = g.age[i] > mx ? g.age[i] : mx;
		}
		if (!g.stage_miss[i]) {
			ic++;
			is += g.stage[i];
			iss += (double)(g.stage[i] * g.stage[i]);
			imn = g.stage[i] < imn ? g.stage[i] : imn;
			imx = g.stage[i] > imx ? g.stage[i] : imx;
		}
		if (!g.dx_miss[i]) {
			dc++;
			dmn = g.dx[i] < dmn ? g.dx[i] : dmn;
			dmx = g.dx[i] > dmx ? g.dx[i] : dmx;
		}
		smk += (size_t)g.smoker[i];
	}
	o = run_body("local a, s, k, d, id = data:column('age'), data:column('stage'),\n"
	    "  data:column('smoker'), data:column('dx'), data:column('id')\n"
	    "return {n = data:nrows(), ac = a:count(), as = a:sum(), aq = a:sumsq(),\n"
	    "  am = a:mean(), amin = a:min(), amax = a:max(),\n"
	    "  sc = s:count(), ss = s:sum(), sq = s:sumsq(), sm = s:mean(), smin = s:min(),\n"
	    "  smax = s:max(), kc = k:count(), ks = k:sum(), km = k:mean(), kmax = k:max(),\n"
	    "  dc = d:count(), dmin = d:min(), dmax = d:max(), ids = id:sum(),\n"
	    "  len = #a, name = a.name, type = a.type, unit = a.unit, stype = s.type,\n"
	    "  levels = data:column('sex').levels, nolevels = a.levels == nil }", 1);
	tap_ok(o != NULL, "whole-column aggregates run");
	tap_ok(num(o, "n") == N && num(o, "len") == N, "nrows and #col are %d", N);
	tap_ok(num(o, "ac") == (double)c, "count(age) = %zu non-missing", c);
	tap_ok(near(num(o, "as"), s), "sum(age)");
	tap_ok(near(num(o, "aq"), ss), "sumsq(age)");
	tap_ok(near(num(o, "am"), s / (double)c), "mean(age)");
	tap_ok(num(o, "amin") == mn && num(o, "amax") == mx, "min/max(age)");
	tap_ok(json_is_integer(json_object_get(o, "ss")) && num(o, "ss") == (double)is,
	    "sum(stage) is the exact integer %lld", (long long)is);
	tap_ok(num(o, "sc") == (double)ic && near(num(o, "sq"), iss) &&
	    near(num(o, "sm"), (double)is / (double)ic), "count/sumsq/mean(stage)");
	tap_ok(json_is_integer(json_object_get(o, "smin")) && num(o, "smin") == (double)imn &&
	    num(o, "smax") == (double)imx, "min/max(stage) integers");
	tap_ok(num(o, "kc") == N && num(o, "ks") == (double)smk &&
	    near(num(o, "km"), (double)smk / N), "boolean count/sum/mean");
	tap_ok(json_is_true(json_object_get(o, "kmax")), "boolean max is true");
	date_str(dmn, d1);
	date_str(dmx, d2);
	tap_ok(num(o, "dc") == (double)dc, "count(dx)");
	tap_str(str(o, "dmin"), d1, "min(dx) as YYYY-MM-DD");
	tap_str(str(o, "dmax"), d2, "max(dx) as YYYY-MM-DD");
	tap_ok(json_is_integer(json_object_get(o, "ids")) &&
	    json_integer_value(json_object_get(o, "ids")) == (json_int_t)N * (N + 1) / 2,
	    "sum(id) = n(n+1)/2");
	tap_str(str(o, "name"), "age", "col.name");
	tap_str(str(o, "type"), "number", "col.type");
	tap_str(str(o, "unit"), "years", "col.unit");
	tap_str(str(o, "stype"), "integer", "integer col.type");
	tap_ok(json_array_size(json_object_get(o, "levels")) == 3 &&
	    strcmp(json_string_value(json_array_get(json_object_get(o, "levels"), 2)), "X") == 0,
	    "col.levels of a category");
	tap_ok(json_is_true(json_object_get(o, "nolevels")), "no levels on a number column");
	json_decref(o);
}

/* Predicates the where() tests mirror in C. */
enum { P_AGE_GT50, P_AGE_LE305, P_SEX_M, P_SEX_NE_F, P_SEX_IN_FX, P_DX_GE, P_DX_LT,
	P_STAGE_EQ2, P_STAGE_IN14, P_STAGE_GE3, P_SMOKER, P_AGE_NULL, P_DX_NOTNULL,
	P_CHAIN, P_AGE_EQ, P_AGE_NE, P_COUNT };

static int
pred(int p, size_t i, double age10, int64_t d2010, int64_t d2005)
{
	switch (p) {
	case P_AGE_GT50: return !g.age_miss[i] && g.age[i] > 50;
	case P_AGE_LE305: return !g.age_miss[i] && g.age[i] <= 30.5;
	case P_SEX_M: return g.sex[i] == 1;
	case P_SEX_NE_F: return g.sex[i] != 0;
	case P_SEX_IN_FX: return g.sex[i] == 0 || g.sex[i] == 2;
	case P_DX_GE: return !g.dx_miss[i] && g.dx[i] >= d2010;
	case P_DX_LT: return !g.dx_miss[i] && g.dx[i] < d2005;
	case P_STAGE_EQ2: return !g.stage_miss[i] && g.stage[i] == 2;
	case P_STAGE_IN14: return !g.stage_miss[i] && (g.stage[i] == 1 || g.stage[i] == 4);
	case P_STAGE_GE3: return !g.stage_miss[i] && g.stage[i] >= 3;
	case P_SMOKER: return g.smoker[i];
	case P_AGE_NULL: return g.age_miss[i];
	case P_DX_NOTNULL: return !g.dx_miss[i];
	case P_CHAIN: return g.sex[i] == 0 && !g.age_miss[i] && g.age[i] < 40 &&
	    !g.stage_miss[i] && g.stage[i] != 1;
	case P_AGE_EQ: return !g.age_miss[i] && g.age[i] >= age10;
	case P_AGE_NE: return !g.age_miss[i] && g.age[i] != age10;
	}
	return 0;
}

static void
test_where(void)
{
	static const char *const exprs[P_COUNT] = {
		"data:where('age', '>', 50)", "data:where('age', '<=', 30.5)",
		"data:where('sex', '==', 'M')", "data:where('sex', '~=', 'F')",
		"data:where('sex', 'in', {'F', 'X'})", "data:where('dx', '>=', '2010-01-01')",
		"data:where('dx', '<', '2005-06-15')", "data:where('stage', '==', 2)",
		"data:where('stage', 'in', {1, 4})", "data:where('stage', '>=', 3)",
		"data:where('smoker', '==', true)", "data:where('age', 'isnull')",
		"data:where('dx', 'notnull')",
		"data:where('sex', '==', 'F'):where('age', '<', 40):where('stage', '~=', 1)",
		"data:where('age', '>=', data:column('age')[10])",
		"data:where('age', '~=', data:column('age')[10])",
	};
	int64_t d2010 = pht_days_from_civil(2010, 1, 1), d2005 = pht_days_from_civil(2005, 6, 15);
	char body[1024];
	int p;

	for (p = 0; p < P_COUNT; p++) {
		size_t i, n = 0, c = 0;
		double s = 0;
		json_t *o;

		for (i = 0; i < N; i++)
			if (pred(p, i, g.age[9], d2010, d2005)) {
				n++;
				if (!g.age_miss[i]) {
					c++;
					s += g.age[i];
				}
			}
		snprintf(body, sizeof(body), "local v = %s\nlocal a = v:column('age')\n"
		    "return {n = v:nrows(), c = a:count(), s = a:sum()}", exprs[p]);
		o = run_body(body, 1);
		tap_ok(o != NULL && num(o, "n") == (double)n && num(o, "c") == (double)c &&
		    near(num(o, "s"), s), "where %s: %zu rows, %zu ages, sum", exprs[p], n, c);
		json_decref(o);
	}
}

static void
test_filter_and_empty(void)
{
	size_t i, n = 0, first = 0;
	double s = 0;
	json_t *o;
	char body[512];

	for (i = 0; i < N; i++)
		if (!g.age_miss[i] && g.age[i] > 50 && g.sex[i] == 1) {
			n++;
			s += g.age[i];
		}
	o = run_body("local v = data:filter(function(row)\n"
	    "  return row.age ~= nil and row.age > 50 and row.sex == 'M' end)\n"
	    "return {n = v:nrows(), s = v:column('age'):sum()}", 1);
	tap_ok(o != NULL && num(o, "n") == (double)n && near(num(o, "s"), s),
	    "filter by a Lua predicate: %zu rows", n);
	json_decref(o);

	o = run_body("local v = data:where('age', '>', 1000)\nlocal a = v:column('age')\n"
	    "return {n = v:nrows(), c = a:count(), s = a:sum(), m = a:mean() == nil,\n"
	    "  mn = a:min() == nil, len = #a, first = a[1] == nil}", 1);
	tap_ok(o != NULL && num(o, "n") == 0 && num(o, "c") == 0 && num(o, "s") == 0 &&
	    json_is_true(json_object_get(o, "m")) && json_is_true(json_object_get(o, "mn")) &&
	    num(o, "len") == 0 && json_is_true(json_object_get(o, "first")),
	    "an empty view: zero counts, nil mean and min");
	json_decref(o);

	/* A view of >= k rows but fewer than k non-missing values. */
	while (first < N && g.age_miss[first])
		first++;
	snprintf(body, sizeof(body), "local v = data:filter(function(row)\n"
	    "  return row.age == nil or row.id == %zu end)\n"
	    "return v:column('age'):sum()", first + 1);
	tap_ok(run_body(body, 1) == NULL && err.code == PHT_ERR_DISCLOSURE &&
	    strstr(err.msg, "subset smaller than k (1 non-missing values in column age, k = 5)"),
	    "sum over 1 non-missing value refused: %s", err.msg);
	o = run_body("return data:where('age', '==', 'x')", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "column age (number) cannot be compared with a string value"),
	    "where with a value of the wrong type: %s", err.msg);
	o = run_body("return data:where('age', 'like', 3)", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN && strstr(err.msg, "invalid option 'like'"),
	    "where with an unknown operator: %s", err.msg);
}

static void
test_group_by(void)
{
	size_t cnt[3] = {0, 0, 0}, scnt[5] = {0}, i, smiss = 0;
	double asum[3] = {0, 0, 0};
	size_t acnt[3] = {0, 0, 0};
	json_t *o, *e;
	int64_t saved_k = lim.k;
	int j, ok;

	for (i = 0; i < N; i++) {
		cnt[g.sex[i]]++;
		if (!g.age_miss[i]) {
			asum[g.sex[i]] += g.age[i];
			acnt[g.sex[i]]++;
		}
		if (g.stage_miss[i])
			smiss++;
		else
			scnt[g.stage[i]]++;
	}
	lim.k = (int64_t)cnt[2] + 1;    /* X is rare: suppressed */
	tap_ok(cnt[0] >= (size_t)lim.k && cnt[1] >= (size_t)lim.k && cnt[2] > 0,
	    "generator: F and M above k, X below");
	o = run_body("local out = {}\n"
	    "for i, grp in ipairs(data:group_by('sex')) do\n"
	    "  out[i] = {key = grp.key, n = grp.n, suppressed = grp.suppressed,\n"
	    "    mean = grp.data and grp.data:column('age'):mean()}\n"
	    "end\nreturn out", 1);
	tap_ok(json_array_size(o) == 3, "group_by(sex) gives one group per level");
	for (j = 0; j < 2; j++) {
		e = json_array_get(o, (size_t)j);
		tap_ok(strcmp(str(e, "key"), j == 0 ? "F" : "M") == 0 &&
		    num(e, "n") == (double)cnt[j] &&
		    near(num(e, "mean"), asum[j] / (double)acnt[j]),
		    "group %s: n = %zu and its view's mean", j == 0 ? "F" : "M", cnt[j]);
	}
	e = json_array_get(o, 2);
	tap_ok(strcmp(str(e, "key"), "X") == 0 && json_is_true(json_object_get(e, "suppressed")) &&
	    json_object_get(e, "n") == NULL && json_object_get(e, "mean") == NULL,
	    "group X (%zu rows < k = %lld) is suppressed without a count", cnt[2],
	    (long long)lim.k);
	json_decref(o);
	lim.k = saved_k;

	o = run_body("local out = {}\n"
	    "for i, grp in ipairs(data:group_by('stage')) do\n"
	    "  out[i] = {key = grp.key, n = grp.n, missing = grp.missing} end\n"
	    "return out", 1);
	ok = json_array_size(o) == 5;
	for (j = 0; ok && j < 4; j++) {
		e = json_array_get(o, (size_t)j);
		ok = num(e, "key") == j + 1 && num(e, "n") == (double)scnt[j + 1];
	}
	e = json_array_get(o, 4);
	tap_ok(ok && json_is_true(json_object_get(e, "missing")) && num(e, "n") == (double)smiss,
	    "group_by(stage): integer keys 1..4 and a missing group of %zu", smiss);
	json_decref(o);

	o = run_body("local g = data:group_by('smoker')\n"
	    "return {k1 = g[1].key, k2 = g[2].key, n2 = g[2].n}", 1);
	for (i = 0, cnt[0] = 0; i < N; i++)
		cnt[0] += (size_t)g.smoker[i];
	tap_ok(o != NULL && json_is_false(json_object_get(o, "k1")) &&
	    json_is_true(json_object_get(o, "k2")) && num(o, "n2") == (double)cnt[0],
	    "group_by(smoker): false then true");
	json_decref(o);
}

static void
test_crosstab(void)
{
	size_t cells[3][4], i;
	json_t *o, *counts, *c;
	int a, b, ok = 1, nsup = 0;

	memset(cells, 0, sizeof(cells));
	for (i = 0; i < N; i++)
		if (!g.stage_miss[i])
			cells[g.sex[i]][g.stage[i] - 1]++;
	lim.k = 10;
	o = run_body("return data:crosstab('sex', 'stage')", 1);
	lim.k = 5;
	counts = json_object_get(o, "counts");
	tap_ok(json_array_size(json_object_get(o, "rows")) == 3 &&
	    json_array_size(json_object_get(o, "cols")) == 4 && json_array_size(counts) == 3,
	    "crosstab(sex, stage) is 3 x 4");
	for (a = 0; a < 3; a++)
		for (b = 0; b < 4; b++) {
			c = json_array_get(json_array_get(counts, (size_t)a), (size_t)b);
			if (cells[a][b] > 0 && cells[a][b] < 10) {
				nsup++;
				ok = ok && json_is_object(c) &&
				    json_is_true(json_object_get(c, "suppressed"));
			} else
				ok = ok && json_is_integer(c) &&
				    json_integer_value(c) == (json_int_t)cells[a][b];
		}
	tap_ok(ok, "crosstab cells equal the naive counts; %d cells under k = 10 suppressed", nsup);
	tap_ok(nsup > 0, "the suppression case is exercised");
	tap_str(json_string_value(json_array_get(json_object_get(o, "rows"), 1)), "M",
	    "crosstab row keys are level names");
	json_decref(o);
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
test_order(void)
{
	double sorted[N];
	size_t i, n = 0, miss = 0;
	json_t *o, *first;
	int ok = 1;
	size_t ids[10], nid = 0;

	for (i = 0; i < N; i++) {
		if (g.age_miss[i])
			miss++;
		else
			sorted[n++] = g.age[i];
		if (!g.stage_miss[i] && g.stage[i] == 1 && nid < 10)
			ids[nid++] = i + 1;
	}
	qsort(sorted, n, sizeof(double), cmp_dbl);
	o = run_body("local a = data:order('age'):column('age')\n"
	    "local first, tail = {}, 0\n"
	    "for i = 1, 20 do first[i] = a[i] end\n"
	    "for i = #a, 1, -1 do if a[i] == nil then tail = tail + 1 else break end end\n"
	    "local d = data:order('age', 'desc'):column('age')\n"
	    "local s = data:order('stage'):column('id')\n"
	    "local ids = {}\n"
	    "for i = 1, 10 do ids[i] = s[i] end\n"
	    "return {first = first, tail = tail, last = a[#a - tail], top = d[1], ids = ids}", 1);
	first = json_object_get(o, "first");
	for (i = 0; i < 20; i++)
		ok = ok && json_number_value(json_array_get(first, i)) == sorted[i];
	tap_ok(o != NULL && ok, "order(age): the first 20 values ascend as sorted in C");
	tap_ok(num(o, "tail") == (double)miss && num(o, "last") == sorted[n - 1],
	    "order(age): %zu missing values last, the largest just before", miss);
	tap_ok(num(o, "top") == sorted[n - 1], "order(age, desc) starts at the largest");
	for (i = 0, ok = 1; i < 10; i++)
		ok = ok && json_integer_value(json_array_get(json_object_get(o, "ids"), i)) ==
		    (json_int_t)ids[i];
	tap_ok(ok, "order(stage) is stable: ties keep their row order");
	json_decref(o);
}

static void
test_rows_and_meta(void)
{
	json_t *o, *row;
	char body[256], want[16], key[8];
	size_t i;
	int ok = 1;

	o = run_body("local out = {}\n"
	    "for _, name in ipairs(data:columns()) do\n"
	    "  local c, vals = data:column(name), {}\n"
	    "  for i = 1, 12 do vals[tostring(i)] = c[i] end\n"
	    "  out[name] = vals\n"
	    "end\n"
	    "out.zero = data:column('age')[0] == nil\n"
	    "out.past = data:column('age')[#data:column('age') + 1] == nil\n"
	    "local d = data:dictionary()\n"
	    "out.dataset, out.ncol, out.level = d.dataset, #d.columns, d.columns[3].levels[2]\n"
	    "out.name = data:name()\n"
	    "return out", 1);
	for (i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "%zu", i + 1);
		row = json_object_get(json_object_get(o, "age"), key);
		ok = ok && (g.age_miss[i] ? row == NULL : json_real_value(row) == g.age[i]);
		row = json_object_get(json_object_get(o, "sex"), key);
		ok = ok && strcmp(json_string_value(row), g.sex[i] == 0 ? "F" :
		    g.sex[i] == 1 ? "M" : "X") == 0;
		row = json_object_get(json_object_get(o, "dx"), key);
		if (g.dx_miss[i])
			ok = ok && row == NULL;
		else {
			date_str(g.dx[i], want);
			ok = ok && row != NULL && strcmp(json_string_value(row), want) == 0;
		}
		row = json_object_get(json_object_get(o, "smoker"), key);
		ok = ok && json_is_boolean(row) && json_is_true(row) == g.smoker[i];
		row = json_object_get(json_object_get(o, "stage"), key);
		ok = ok && (g.stage_miss[i] ? row == NULL :
		    json_integer_value(row) == (json_int_t)g.stage[i]);
		row = json_object_get(json_object_get(o, "id"), key);
		ok = ok && json_integer_value(row) == (json_int_t)(i + 1);
	}
	tap_ok(o != NULL && ok, "col[i] for the first 12 rows of every column, nil for missing");
	tap_ok(json_is_true(json_object_get(o, "zero")) && json_is_true(json_object_get(o, "past")),
	    "col[0] and col[#col + 1] are nil");
	tap_str(str(o, "dataset"), "reg", "dictionary().dataset");
	tap_ok(num(o, "ncol") == 6, "dictionary() has the 6 columns");
	tap_str(str(o, "level"), "M", "dictionary() levels");
	tap_str(str(o, "name"), "reg", "data:name()");
	json_decref(o);

	o = run_body("return data:where('sex', '==', 'M'):column('age'):sum()", 1);
	tap_str(st.columns_read, "age,sex", "columns_read lists the columns used");
	tap_ok(st.rows_read == N, "rows_read counts every row where() scanned");
	json_decref(o);
	snprintf(body, sizeof(body), "local c = data:column('id')\nreturn c[5] + c[7] + c[5]");
	o = run_body(body, 1);
	tap_ok(o != NULL && json_integer_value(o) == 17 && st.rows_read == 2,
	    "rows_read counts distinct rows touched (2)");
	tap_str(st.columns_read, "id", "columns_read for per-row access");
	json_decref(o);
	o = run_body("local x = 0\nfor i = 1, 100000 do x = x + i end\nreturn x", 1);
	tap_ok(o != NULL && json_integer_value(o) == 5000050000LL && st.instructions >= 100000 &&
	    st.instructions < 2000000 && st.peak_memory > 0 && st.wall_ms >= 0 && st.cpu_ms >= 0,
	    "stats: instructions (%llu), peak memory, wall and CPU time",
	    (unsigned long long)st.instructions);
	json_decref(o);
}

static void
test_seed_params_combine(void)
{
	const char *rnd = "return {math.random(1000000000), math.random(1000000000)}";
	json_t *a, *b, *c, *params, *results, *out = NULL, *meta = NULL;
	const char *code;
	uint64_t seed0;
	char *sa, *sb;
	int r;

	a = run_body(rnd, 42);
	b = run_body(rnd, 42);
	tap_ok(st.seed == 42, "the seed is recorded in the stats");
	c = run_body(rnd, 43);
	sa = pht_json_dump(a);
	sb = pht_json_dump(b);
	tap_ok(a != NULL && strcmp(sa, sb) == 0,
	    "math.random is reproducible under one seed (%s)", sa);
	free(sb);
	sb = pht_json_dump(c);
	tap_ok(strcmp(sa, sb) != 0, "another seed gives other numbers");
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	a = run_body(rnd, 0);
	seed0 = st.seed;
	b = run_body(rnd, seed0);
	sa = pht_json_dump(a);
	sb = pht_json_dump(b);
	tap_ok(seed0 != 0 && strcmp(sa, sb) == 0, "seed 0 picks a fresh seed, recorded for replay");
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);

	code = "return { name = 'p', version = '2.1', params = {col = 'string'},\n"
	    "station = function(data, params, round)\n"
	    "  return {col = params.col, x = params.x[2], round = round,\n"
	    "    mean = data:column(params.col):mean(), empty = {}, f = 1.0,\n"
	    "    s = 'caf\\195\\169 \"q\" \\\\ \\n'} end,\n"
	    "combine = function(results, params, round)\n"
	    "  if round < 2 then return {done = false, params = {col = params.col, step = round}} end\n"
	    "  return {done = true, result = {n = #results, second = results.stations[2],\n"
	    "    sum = results[1].v + results[2].v, round = round}} end }\n";
	params = json_pack("{s:s, s:[i,i]}", "col", "age", "x", 5, 6);
	r = pht_train_run_station(code, strlen(code), "p.lua", ds, params, 3, 1, &lim, &out,
	    &st, &err);
	tap_ok(r == PHT_OK && strcmp(str(out, "col"), "age") == 0 && num(out, "x") == 6 &&
	    num(out, "round") == 3 && near(num(out, "mean"), gen_mean_age(&g)),
	    "params and round reach station()");
	tap_ok(json_is_object(json_object_get(out, "empty")) &&
	    json_object_size(json_object_get(out, "empty")) == 0, "an empty table is {}");
	tap_ok(json_is_real(json_object_get(out, "f")) && num(out, "f") == 1.0,
	    "a float stays a float (1.0)");
	tap_str(str(out, "s"), "caf\xc3\xa9 \"q\" \\ \n", "strings round-trip with escapes and UTF-8");
	json_decref(out);
	json_decref(params);

	results = json_pack("[{s:s,s:{s:i}},{s:s,s:{s:f}}]", "station", "a", "output", "v", 2,
	    "station", "b", "output", "v", 0.5);
	params = json_pack("{s:s}", "col", "age");
	r = pht_train_run_combine(code, strlen(code), "p.lua", results, params, 1, 1, &lim,
	    &out, &st, &err);
	tap_ok(r == PHT_OK && json_is_false(json_object_get(out, "done")) &&
	    num(json_object_get(out, "params"), "step") == 1,
	    "combine asks for another round with new params");
	json_decref(out);
	r = pht_train_run_combine(code, strlen(code), "p.lua", results, params, 2, 1, &lim,
	    &out, &st, &err);
	c = json_object_get(out, "result");
	tap_ok(r == PHT_OK && json_is_true(json_object_get(out, "done")) && num(c, "n") == 2 &&
	    strcmp(str(c, "second"), "b") == 0 && num(c, "sum") == 2.5,
	    "combine sees the outputs in order and results.stations");
	json_decref(out);
	json_decref(results);
	json_decref(params);
	r = pht_train_run_combine(code, strlen(code), "p.lua", json_array_get(NULL, 0), NULL,
	    1, 1, &lim, &out, &st, &err);
	tap_ok(r == PHT_ERR_INVALID && strstr(err.msg, "results must be a JSON array"),
	    "combine without a results array: %s", err.msg);

	r = pht_train_describe(code, strlen(code), "p.lua", &lim, &meta, &err);
	tap_ok(r == PHT_OK && strcmp(str(meta, "name"), "p") == 0 &&
	    strcmp(str(meta, "version"), "2.1") == 0 &&
	    strcmp(str(json_object_get(meta, "params"), "col"), "string") == 0,
	    "describe reads name, version and params");
	json_decref(meta);

	params = json_pack("[i]", 1);
	r = pht_train_run_station(code, strlen(code), "p.lua", ds, params, 1, 1, &lim, &out,
	    &st, &err);
	tap_ok(r == PHT_ERR_INVALID && strstr(err.msg, "params must be a JSON object"),
	    "params that are not an object are refused: %s", err.msg);
	json_decref(params);
	lim.k = 0;
	r = pht_train_run_station(code, strlen(code), "p.lua", ds, NULL, 1, 1, &lim, &out,
	    &st, &err);
	tap_ok(r == PHT_ERR_INVALID && strstr(err.msg, "k >= 1"), "k = 0 is refused: %s", err.msg);
	lim.k = 5;
}

/* A daemon with closed stdio gets the pipe as fds 0 and 1: still works. */
static void
test_closed_stdio(void)
{
	int s0, s1, ok;
	json_t *o;

	fflush(stdout);
	s0 = dup(0);
	s1 = dup(1);
	close(0);
	close(1);
	o = run_body("return data:column('id'):sum()", 1);
	dup2(s0, 0);
	dup2(s1, 1);
	close(s0);
	close(s1);
	ok = o != NULL && json_integer_value(o) == (json_int_t)N * (N + 1) / 2;
	tap_ok(ok, "a run from a process with stdin and stdout closed");
	json_decref(o);
}

int
main(void)
{
	struct pht_limits d;

	pht_limits_default(&d);
	tap_ok(d.instructions == 2000000000ULL && d.memory_bytes == (size_t)512 << 20 &&
	    d.wall_seconds == 60 && d.output_bytes == (size_t)1 << 20 &&
	    d.output_numbers == 100000 && d.k == 5, "pht_limits_default gives the documented defaults");
	if (gen_make(&g, N, 2024) != 0 || gen_load(&g, &ds, &err) != PHT_OK) {
		tap_ok(0, "dataset loads: %s", err.msg);
		return tap_done();
	}
	lim = d;
	lim.wall_seconds = 30;
	test_whole_columns();
	test_where();
	test_filter_and_empty();
	test_group_by();
	test_crosstab();
	test_order();
	test_rows_and_meta();
	test_seed_params_combine();
	test_closed_stdio();
	pht_dataset_free(ds);
	gen_free(&g);
	return tap_done();
}
