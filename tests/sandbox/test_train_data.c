/* test_train_data.c — every data-API primitive (where kernels, sums, aggregate_by included) against a naive computation over the generator's arrays. */
#include "tap.h"
#include "sandbox_gen.h"

#include "pht_err.h"
#include "pht_json.h"
#include "pht_train.h"
#include "pht_train_rowsets.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 1000

static struct gen g;
static struct pht_dataset *ds;
static struct pht_limits lim;
static const struct pht_resolution_grid dx_days[] = {{"dx", 1}};
static struct pht_resolution fine;
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

/* Variances: relative error at most 1e-12 (the exact figure may be far below 1). */
static int
var_near(double got, double want)
{
	return fabs(got - want) <= 1e-12 * fabs(want);
}

/* Sample variance of the n values x whose miss flag is 0, by two passes in long double. */
static double
naive_var(const double *x, const int *miss, size_t n)
{
	long double s = 0, m, d, ss = 0;
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (miss == NULL || !miss[i]) {
			s += x[i];
			c++;
		}
	m = s / (long double)c;
	for (i = 0; i < n; i++)
		if (miss == NULL || !miss[i]) {
			d = (long double)x[i] - m;
			ss += d * d;
		}
	return (double)(ss / (long double)(c - 1));
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
	double s = 0, ss = 0;
	int64_t is = 0;
	double iss = 0;
	size_t i, c = 0, ic = 0, smk = 0, dc = 0;

	for (i = 0; i < N; i++) {
		if (!g.age_miss[i]) {
			c++;
			s += g.age[i];
			ss += g.age[i] * g.age[i];
		}
		if (!g.stage_miss[i]) {
			ic++;
			is += g.stage[i];
			iss += (double)(g.stage[i] * g.stage[i]);
		}
		if (!g.dx_miss[i])
			dc++;
		smk += (size_t)g.smoker[i];
	}
	o = run_body("local a, s, k, d, id = data:column('age'), data:column('stage'),\n"
	    "  data:column('smoker'), data:column('dx'), data:column('id')\n"
	    "return {n = data:nrows(), ac = a:count(), as = a:sum(), aq = a:sumsq(),\n"
	    "  am = a:mean(),\n"
	    "  sc = s:count(), ss = s:sum(), sq = s:sumsq(), sm = s:mean(),\n"
	    "  kc = k:count(), ks = k:sum(), km = k:mean(),\n"
	    "  av = a:var(), asd = a:sd(), sv = s:var(), ssd = s:sd(), kv = k:var(),\n"
	    "  dc = d:count(), ids = id:sum(),\n"
	    "  len = #a, name = a.name, type = a.type, unit = a.unit, stype = s.type,\n"
	    "  levels = data:column('sex').levels, nolevels = a.levels == nil }", 1);
	tap_ok(o != NULL, "whole-column aggregates run");
	tap_ok(num(o, "n") == N && num(o, "len") == N, "nrows and #col are %d", N);
	tap_ok(num(o, "ac") == (double)c, "count(age) = %zu non-missing", c);
	tap_ok(near(num(o, "as"), s), "sum(age)");
	tap_ok(near(num(o, "aq"), ss), "sumsq(age)");
	tap_ok(near(num(o, "am"), s / (double)c), "mean(age)");
	tap_ok(json_is_integer(json_object_get(o, "ss")) && num(o, "ss") == (double)is,
	    "sum(stage) is the exact integer %lld", (long long)is);
	tap_ok(num(o, "sc") == (double)ic && near(num(o, "sq"), iss) &&
	    near(num(o, "sm"), (double)is / (double)ic), "count/sumsq/mean(stage)");
	tap_ok(num(o, "kc") == N && num(o, "ks") == (double)smk &&
	    near(num(o, "km"), (double)smk / N), "boolean count/sum/mean");
	tap_ok(num(o, "dc") == (double)dc, "count(dx)");
	{
		double *st_d = calloc(N, sizeof(double)), *sm_d = calloc(N, sizeof(double));
		double av, sv, kv;

		for (i = 0; st_d != NULL && sm_d != NULL && i < N; i++) {
			st_d[i] = (double)g.stage[i];
			sm_d[i] = (double)g.smoker[i];
		}
		av = naive_var(g.age, g.age_miss, N);
		sv = naive_var(st_d, g.stage_miss, N);
		kv = naive_var(sm_d, NULL, N);
		tap_ok(var_near(num(o, "av"), av) && var_near(num(o, "asd"), sqrt(av)),
		    "var(age) and sd(age) equal a two-pass long double computation (%.17g)", av);
		tap_ok(var_near(num(o, "sv"), sv) && var_near(num(o, "ssd"), sqrt(sv)) &&
		    var_near(num(o, "kv"), kv), "var and sd of an integer and a boolean column");
		free(st_d);
		free(sm_d);
	}
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
		"data:where('age', '>=', AGE10)", "data:where('age', '~=', AGE10)",
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
		/* AGE10: the 10th row's age, as a literal (no row value reaches a train) */
		snprintf(body, sizeof(body), "local AGE10 = %.17g\nlocal v = %s\n"
		    "local a = v:column('age')\n"
		    "return {n = v:nrows(), c = a:count(), s = a:sum()}", g.age[9], exprs[p]);
		o = run_body(body, 1);
		tap_ok(o != NULL && num(o, "n") == (double)n && num(o, "c") == (double)c &&
		    near(num(o, "s"), s), "where %s: %zu rows, %zu ages, sum", exprs[p], n, c);
		json_decref(o);
	}
}

/*
 * A small dataset: ten rows missing age and one with age 42.5 (FEW_AGE_ROW),
 * smoker and stage as in the arrays below; the expectations are computed
 * from these arrays.
 */
#define FEW_N 11
#define FEW_AGE_ROW 10
static const int few_smoker[FEW_N] = {0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0};
static const int few_stage[FEW_N] = {1, 2, 1, 2, 3, 3, 1, 4, 2, 1, 2};

/* Runs body over the small dataset. */
static json_t *
run_few(const char *body)
{
	static const char dict[] = "{\"dataset\":\"few\",\"columns\":["
	    "{\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"age\",\"type\":\"number\"},"
	    "{\"name\":\"smoker\",\"type\":\"boolean\"},{\"name\":\"stage\",\"type\":\"integer\"}]}";
	struct pht_dataset *few = NULL, *saved = ds;
	char csv[1024];
	size_t i, len;
	json_t *o;

	len = (size_t)snprintf(csv, sizeof(csv), "id,age,smoker,stage\n");
	for (i = 0; i < FEW_N; i++)
		len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%zu,%s,%d,%d\n", i + 1,
		    i == FEW_AGE_ROW ? "42.5" : "NA", few_smoker[i], few_stage[i]);
	if (pht_dataset_load_mem(csv, len, dict, strlen(dict), "few.csv", &few, &err) != PHT_OK) {
		tap_diag("the small dataset does not load: %s", err.msg);
		return NULL;
	}
	ds = few;
	o = run_body(body, 1);
	ds = saved;
	pht_dataset_free(few);
	return o;
}

static void
test_chained_and_empty(void)
{
	size_t i, n = 0;
	double s = 0;
	json_t *o;

	for (i = 0; i < N; i++)
		if (!g.age_miss[i] && g.age[i] > 50 && g.sex[i] == 1) {
			n++;
			s += g.age[i];
		}
	o = run_body("local v = data:where('age', '>', 50):where('sex', '==', 'M')\n"
	    "return {n = v:nrows(), s = v:column('age'):sum()}", 1);
	tap_ok(o != NULL && num(o, "n") == (double)n && near(num(o, "s"), s),
	    "two chained where: %zu rows", n);
	json_decref(o);

	o = run_body("local v = data:where('age', '>', 1000)\nlocal a = v:column('age')\n"
	    "return {n = v:nrows(), c = a:count(), s = a:sum(), m = a:mean() == nil,\n"
	    "  var = a:var() == nil, sd = a:sd() == nil, len = #a}", 1);
	tap_ok(o != NULL && num(o, "n") == 0 && num(o, "c") == 0 && num(o, "s") == 0 &&
	    json_is_true(json_object_get(o, "m")) && json_is_true(json_object_get(o, "var")) &&
	    json_is_true(json_object_get(o, "sd")) && num(o, "len") == 0,
	    "an empty view: zero counts, nil mean, variance and sd");
	json_decref(o);

	/* A view of >= k rows but fewer than k non-missing values. */
	o = run_few("return data:column('age'):sum()");
	tap_ok(o == NULL && err.code == PHT_ERR_DISCLOSURE &&
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
	/* X is small: the smaller of F and M is suppressed with it (complementary) */
	e = json_array_get(o, cnt[0] < cnt[1] ? 0 : 1);
	tap_ok(json_is_true(json_object_get(e, "suppressed")) && json_object_get(e, "n") == NULL &&
	    json_object_get(e, "mean") == NULL,
	    "group %s (%zu rows, the smaller released one) is suppressed with X: F and M minus "
	    "the view would give X's rows", cnt[0] < cnt[1] ? "F" : "M",
	    cnt[0] < cnt[1] ? cnt[0] : cnt[1]);
	for (j = 0; j < 2; j++) {
		if (j == (cnt[0] < cnt[1] ? 0 : 1))
			continue;
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

/* Entry e is the folded small groups: {suppressed = true} and nothing else. */
static int
is_folded(const json_t *e)
{
	return json_is_true(json_object_get(e, "suppressed")) && json_object_size(e) == 1;
}

/*
 * Integer and date keys are values: groups of 0 < n < k rows lose their
 * key and fold into one {suppressed = true} entry before the missing
 * group, in group_by and aggregate_by alike.
 */
static void
test_key_folding(void)
{
	size_t cnt[5] = {0}, i, j, m = 300, nmiss = 0, mx = 0, mn = SIZE_MAX, nrel = 0;
	int64_t saved_k = lim.k;
	json_t *o, *e;
	int ok, w;

	for (i = 0; i < m; i++) {
		if (g.stage_miss[i])
			nmiss++;
		else
			cnt[g.stage[i]]++;
	}
	for (j = 1; j <= 4; j++) {
		mx = cnt[j] > mx ? cnt[j] : mx;
		mn = cnt[j] < mn ? cnt[j] : mn;
	}
	lim.k = (int64_t)mx;    /* the largest stage groups released, the others small */
	for (j = 1; j <= 4; j++)
		nrel += cnt[j] == mx;
	tap_ok(mn > 0 && mn < mx && nmiss > 0,
	    "generator: the first %zu rows have stage groups of %zu..%zu rows and %zu missing",
	    m, mn, mx, nmiss);
	for (w = 0; w < 2; w++) {
		o = run_body(w == 0 ? "local gb = data:where('id', '<=', 300):group_by('stage')\n"
		    "for _, e in ipairs(gb) do e.data = nil end\nreturn gb" :
		    "return data:where('id', '<=', 300):aggregate_by('stage', {'age'})", 1);
		ok = json_array_size(o) == nrel + 2;
		for (i = 0, j = 1; ok && j <= 4; j++) {
			if (cnt[j] != mx)
				continue;
			e = json_array_get(o, i++);
			ok = num(e, "key") == (double)j && num(e, "n") == (double)mx;
		}
		e = json_array_get(o, nrel);
		ok = ok && is_folded(e);
		e = json_array_get(o, nrel + 1);
		ok = ok && json_is_true(json_object_get(e, "missing")) &&
		    json_object_get(e, "key") == NULL &&
		    (nmiss >= mx ? num(e, "n") == (double)nmiss :
		    json_is_true(json_object_get(e, "suppressed")));
		tap_ok(o != NULL && ok, "%s on an integer key at k = %zu: %zu released groups with "
		    "keys, then one {suppressed = true} without key for the %zu small ones, then "
		    "the missing group", w == 0 ? "group_by" : "aggregate_by", mx, nrel, 4 - nrel);
		json_decref(o);
	}
	lim.k = saved_k;

	/* dates: nearly every day is a group of one; at k = 5 none shows its key */
	{
		size_t dmiss = 0;

		for (i = 0; i < N; i++)
			dmiss += (size_t)g.dx_miss[i];
		o = run_body("local gb, ab = data:group_by('dx'), data:aggregate_by('dx', {'age'})\n"
		    "for _, e in ipairs(gb) do e.data = nil end\n"
		    "return {gb = gb, ab = ab}", 1);
		ok = 1;
		for (w = 0; w < 2; w++) {
			json_t *l = json_object_get(o, w == 0 ? "gb" : "ab");
			size_t n = json_array_size(l);

			ok = ok && n >= 2 && is_folded(json_array_get(l, n - 2)) &&
			    json_is_true(json_object_get(json_array_get(l, n - 1), "missing")) &&
			    num(json_array_get(l, n - 1), "n") == (double)dmiss;
			for (i = 0; ok && i + 2 < n; i++)
				ok = num(json_array_get(l, i), "n") >= 5;
		}
		tap_ok(o != NULL && ok, "group_by and aggregate_by(dx): only days of >= 5 rows keep "
		    "their key; the rest is one folded entry, then the %zu rows missing dx", dmiss);
		json_decref(o);
	}
}

static void
test_crosstab(void)
{
	size_t cells[3][4], i;
	json_t *o, *counts, *c;
	int a, b, ok = 1, nprim = 0, nsup = 0, lines_ok = 1;
	int sup[3][4];

	memset(cells, 0, sizeof(cells));
	for (i = 0; i < N; i++)
		if (!g.stage_miss[i])
			cells[g.sex[i]][g.stage[i] - 1]++;
	lim.k = 10;
	/* the rows with a stage: none hidden in a line (missing the other column) */
	o = run_body("return data:where('stage', 'notnull'):crosstab('sex', 'stage')", 1);
	lim.k = 5;
	counts = json_object_get(o, "counts");
	tap_ok(json_array_size(json_object_get(o, "rows")) == 3 &&
	    json_array_size(json_object_get(o, "cols")) == 4 && json_array_size(counts) == 3,
	    "crosstab(sex, stage) is 3 x 4");
	for (a = 0; a < 3; a++)
		for (b = 0; b < 4; b++) {
			c = json_array_get(json_array_get(counts, (size_t)a), (size_t)b);
			sup[a][b] = json_is_object(c) && json_is_true(json_object_get(c, "suppressed"));
			nsup += sup[a][b];
			if (cells[a][b] > 0 && cells[a][b] < 10) {
				nprim++;
				ok = ok && sup[a][b];
			} else if (!sup[a][b])
				ok = ok && json_is_integer(c) &&
				    json_integer_value(c) == (json_int_t)cells[a][b];
		}
	tap_ok(ok, "crosstab: every cell under k = 10 suppressed (%d), every released cell "
	    "equals the naive count", nprim);
	/* no line has exactly one suppressed cell beside a non-zero released one */
	for (a = 0; a < 3; a++) {
		int n1 = 0, rel = 0;

		for (b = 0; b < 4; b++) {
			n1 += sup[a][b];
			rel += !sup[a][b] && cells[a][b] > 0;
		}
		lines_ok = lines_ok && !(n1 == 1 && rel > 0);
	}
	for (b = 0; b < 4; b++) {
		int n1 = 0, rel = 0;

		for (a = 0; a < 3; a++) {
			n1 += sup[a][b];
			rel += !sup[a][b] && cells[a][b] > 0;
		}
		lines_ok = lines_ok && !(n1 == 1 && rel > 0);
	}
	tap_ok(lines_ok && nsup > nprim, "complementary suppression: %d cells suppressed in all "
	    "(%d primary); no row or column is left with a single suppressed cell", nsup, nprim);
	tap_str(json_string_value(json_array_get(json_object_get(o, "rows"), 1)), "M",
	    "crosstab row keys are level names");
	json_decref(o);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * crosstab over a date key at k = 5: the days of >= 5 rows are lines with
 * their key, all other days one last line {suppressed = true}, whose
 * cells count the rows of those days by sex.
 */
static void
test_crosstab_folded(void)
{
	int64_t *days = calloc(N, sizeof(int64_t));
	size_t i, j, n = 0, nbig = 0, small[3] = {0, 0, 0}, run;
	json_t *o, *rows, *last;
	int ok;

	for (i = 0; days != NULL && i < N; i++)
		if (!g.dx_miss[i])
			days[n++] = g.dx[i];
	qsort(days, n, sizeof(int64_t), cmp_i64);
	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && days[i + run] == days[i]; run++)
			;
		nbig += run >= 5;
	}
	for (i = 0; i < N; i++) {
		size_t same = 0;

		if (g.dx_miss[i])
			continue;
		for (j = 0; j < N; j++)
			same += !g.dx_miss[j] && g.dx[j] == g.dx[i];
		if (same < 5)
			small[g.sex[i]]++;
	}
	free(days);
	o = run_body("return data:where('dx', 'notnull'):crosstab('dx', 'sex')", 1);
	rows = json_object_get(o, "rows");
	last = json_array_get(json_object_get(o, "counts"), json_array_size(rows) - 1);
	ok = json_array_size(rows) == nbig + 1 && is_folded(json_array_get(rows, nbig));
	for (j = 0; ok && j < 3; j++)
		ok = small[j] >= 5 ? json_integer_value(json_array_get(last, j)) == (json_int_t)small[j] :
		    json_is_true(json_object_get(json_array_get(last, j), "suppressed"));
	tap_ok(o != NULL && ok, "crosstab(dx, sex): %zu days of >= 5 rows keep their key, the rest "
	    "is one {suppressed = true} line counting %zu, %zu and %zu rows", nbig, small[0],
	    small[1], small[2]);
	json_decref(o);
}

/*
 * Complementary suppression on a table built by hand (k = 5):
 *
 *        x   y   z
 *   p    3  10   7     row p: x is the one primary cell
 *   q    6   8   9
 *   r   12   0   5
 *
 * p.x (3) is primary; row p then has one suppressed cell, so its smallest
 * released cell p.z (7) goes; column x: q.x (6); column z: r.z (5); row q:
 * q.y (8); row r: r.x (12, as r.y is 0); column y: p.y (10). Left: q.z = 9
 * and r.y = 0. Only q.z's rows are a recorded row set (r.y is empty).
 */
static void
test_crosstab_complementary(void)
{
	static const int tab[3][3] = {{3, 10, 7}, {6, 8, 9}, {12, 0, 5}};
	static const char dict[] = "{\"dataset\":\"ct\",\"columns\":["
	    "{\"name\":\"a\",\"type\":\"category\",\"levels\":[\"p\",\"q\",\"r\"]},"
	    "{\"name\":\"b\",\"type\":\"category\",\"levels\":[\"x\",\"y\",\"z\"]},"
	    "{\"name\":\"n\",\"type\":\"integer\"}]}";
	static const char code[] = "return { name = 'ct', version = '1',\n"
	    "station = function(data) return data:crosstab('a', 'b') end,\n"
	    "combine = function() return {done = true, result = 0} end }\n";
	struct pht_dataset *ct = NULL;
	struct pht_train_rowsets *rs = NULL;
	char csv[4096];
	size_t len, i;
	int a, b, t, ok = 1;
	json_t *o = NULL, *c;

	len = (size_t)snprintf(csv, sizeof(csv), "a,b,n\n");
	for (a = 0; a < 3; a++)
		for (b = 0; b < 3; b++)
			for (t = 0; t < tab[a][b]; t++)
				len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%c,%c,%d\n",
				    "pqr"[a], "xyz"[b], t);
	len += (size_t)snprintf(csv + len, sizeof(csv) - len, "NA,x,0\np,NA,0\n");
	if (pht_dataset_load_mem(csv, len, dict, strlen(dict), "ct.csv", &ct, &err) != PHT_OK) {
		tap_ok(0, "the crosstab dataset loads: %s", err.msg);
		return;
	}
	if (pht_train_run_station_rows(code, strlen(code), "ct.lua", ct, NULL, 1, 1, &lim, &o,
	    &st, &rs, &err) != PHT_OK)
		tap_diag("crosstab failed: %s", err.msg);
	for (a = 0; a < 3; a++)
		for (b = 0; b < 3; b++) {
			c = json_array_get(json_array_get(json_object_get(o, "counts"), (size_t)a),
			    (size_t)b);
			if ((a == 1 && b == 2) || (a == 2 && b == 1))
				ok = ok && json_is_integer(c) &&
				    json_integer_value(c) == tab[a][b];
			else
				ok = ok && json_is_true(json_object_get(c, "suppressed"));
		}
	tap_ok(o != NULL && ok, "a row with exactly one primary cell: complementary suppression "
	    "leaves only q.z = 9 and r.y = 0");
	for (i = 0, t = 0; rs != NULL && i < pht_train_rowsets_count(rs); i++)
		t += pht_train_rowsets_size(rs, i) == 9;
	tap_ok(rs != NULL && pht_train_rowsets_count(rs) == 1 && t == 1,
	    "only the released non-zero cell's rows are recorded (1 set of 9 rows; %zu sets)",
	    rs != NULL ? pht_train_rowsets_count(rs) : 0);
	json_decref(o);
	pht_train_rowsets_free(rs);
	pht_dataset_free(ct);
}

/*
 * No row-level value reaches a train: each removed call raises an error
 * the train can catch, naming docs/train-api.md; the aggregates carry no
 * minimum or maximum.
 */
static void
test_removed(void)
{
	static const struct {
		const char *call, *what;
	} calls[] = {
		{"data:column('age'):values()", "col:values()"},
		{"data:column('age')[1]", "col[i]"},
		{"data:column('age')[0]", "col[i]"},
		{"data:column('stage')[1.5]", "col[i]"},
		{"data:column('age'):min()", "col:min()"},
		{"data:column('dx'):max()", "col:max()"},
		{"data:where('sex', '==', 'F'):column('age'):max()", "col:max()"},
		{"data:filter(function(row) return true end)", "data:filter()"},
		{"data:order('age', 'desc')", "data:order()"},
		{"data:order('age')", "data:order()"},
	};
	char body[512], want[256];
	size_t i;
	json_t *o;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		snprintf(body, sizeof(body), "local ok, e = pcall(function() return %s end)\n"
		    "return {ok = ok, e = tostring(e), after = data:column('id'):sum()}",
		    calls[i].call);
		snprintf(want, sizeof(want), "%s is not available: no row-level value reaches a "
		    "train (docs/train-api.md)", calls[i].what);
		o = run_body(body, 1);
		tap_ok(o != NULL && json_is_false(json_object_get(o, "ok")) &&
		    strstr(str(o, "e"), want) != NULL &&
		    json_integer_value(json_object_get(o, "after")) == (json_int_t)N * (N + 1) / 2,
		    "%s raises a catchable error: %s", calls[i].call, str(o, "e"));
		json_decref(o);
	}
	/* uncaught: the run fails as a train error with the same text */
	o = run_body("return data:column('age'):values()", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "col:values() is not available: no row-level value reaches a train "
	    "(docs/train-api.md)") != NULL, "uncaught, values() fails the run: %s", err.msg);
	o = run_body("local a = data:aggregate({'age', 'stage', 'smoker'}).stats\n"
	    "local by = data:aggregate_by('sex', {'age', 'stage'})\n"
	    "local found = {}\n"
	    "for _, t in ipairs({a.age, a.stage, a.smoker, by[1].stats.age, by[2].stats.stage}) do\n"
	    "  for k in pairs(t) do if k == 'min' or k == 'max' then found[#found + 1] = k end end\n"
	    "end\n"
	    "return {found = #found, n = a.age.n}", 1);
	tap_ok(o != NULL && num(o, "found") == 0 && num(o, "n") > 0,
	    "aggregate and aggregate_by stats have no min and no max");
	json_decref(o);
}

static void
test_rows_and_meta(void)
{
	json_t *o, *row;
	char want[16], key[8];
	size_t i;
	int ok = 1;

	/* with row access (a data permit's row_access), values() works */
	lim.row_access = 1;
	o = run_body("local out = {}\n"
	    "for _, name in ipairs(data:columns()) do\n"
	    "  local c, vals = data:column(name), {}\n"
	    "  local all = c:values()\n"
	    "  for i = 1, 12 do vals[tostring(i)] = all[i] end\n"
	    "  out[name] = vals\n"
	    "end\n"
	    "out.index = pcall(function() return data:column('age')[1] end)\n"
	    "out.min = pcall(function() return data:column('age'):min() end)\n"
	    "local d = data:dictionary()\n"
	    "out.dataset, out.ncol, out.level = d.dataset, #d.columns, d.columns[3].levels[2]\n"
	    "out.name = data:name()\n"
	    "return out", 1);
	lim.row_access = 0;
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
	tap_ok(o != NULL && ok, "row access: values() gives the first 12 rows of every column, "
	    "nil for missing");
	tap_ok(json_is_false(json_object_get(o, "index")) && json_is_false(json_object_get(o, "min")),
	    "row access opens values() only: col[i] and min() still raise");
	tap_str(str(o, "dataset"), "reg", "dictionary().dataset");
	tap_ok(num(o, "ncol") == 6, "dictionary() has the 6 columns");
	tap_str(str(o, "level"), "M", "dictionary() levels");
	tap_str(str(o, "name"), "reg", "data:name()");
	json_decref(o);

	o = run_body("return data:where('sex', '==', 'M'):column('age'):sum()", 1);
	tap_str(st.columns_read, "age,sex", "columns_read lists the columns used");
	tap_ok(st.rows_read == N, "rows_read counts every row where() scanned");
	json_decref(o);
	o = run_body("return data:where('id', '<=', 7):where('id', '>', 2):column('id'):sum()", 1);
	tap_ok(o != NULL && json_integer_value(o) == 25 && st.rows_read == N,
	    "rows_read counts the rows the first where() scanned (%llu)",
	    (unsigned long long)st.rows_read);
	tap_str(st.columns_read, "id", "columns_read for an aggregate");
	json_decref(o);
	o = run_body("local x = 0\nfor i = 1, 100000 do x = x + i end\nreturn x", 1);
	/*
	 * instructions are the train's CPU time at 1e8 per second: more than
	 * none, and no more than the whole child's CPU time (+1 ms for the
	 * rounding of rusage) would give.
	 */
	tap_ok(o != NULL && json_integer_value(o) == 5000050000LL && st.instructions > 0 &&
	    (double)st.instructions <= (st.cpu_ms + 1.0) * 1e5 && st.peak_memory > 0 &&
	    st.wall_ms >= 0 && st.cpu_ms > 0,
	    "stats: instructions (%llu, the CPU time of the train at 1e8 per second; "
	    "child CPU %.1f ms), peak memory, wall and CPU time",
	    (unsigned long long)st.instructions, st.cpu_ms);
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

/* ---- the scan kernels: where, count, sum, mean against naive C ---- */

struct wcase {
	const char *col, *op, *key;     /* key: a Lua expression, NULL for isnull/notnull */
};

static const struct wcase wcases[] = {
	{"age", "==", "35.5"}, {"age", "~=", "35.5"}, {"age", "<", "50.5"},
	{"age", "<=", "50.25"}, {"age", ">", "50.5"}, {"age", ">=", "50.25"},
	{"id", "==", "500"}, {"id", "~=", "500"}, {"id", "<", "500"}, {"id", "<=", "500"},
	{"id", ">", "500"}, {"id", ">=", "500"}, {"id", "<", "500.5"}, {"id", ">=", "500.5"},
	{"id", "==", "500.5"}, {"stage", "==", "2"}, {"stage", "~=", "2"},
	{"stage", "<=", "2"}, {"stage", ">", "2.5"}, {"dx", "~=", "'2010-01-01'"},
	{"dx", "<", "'2010-01-01'"}, {"dx", ">=", "'2010-01-01'"}, {"dx", "<=", "'2004-03-01'"},
	{"dx", ">", "'2015-07-31'"}, {"sex", "==", "'M'"}, {"sex", "~=", "'M'"},
	{"smoker", "==", "true"}, {"smoker", "~=", "true"}, {"smoker", "==", "false"},
	{"sex", "in", "{'F', 'X'}"}, {"smoker", "in", "{true}"}, {"smoker", "in", "{}"},
	{"stage", "in", "{1, 4}"}, {"age", "isnull", NULL}, {"age", "notnull", NULL},
	{"id", "notnull", NULL}, {"id", "isnull", NULL},
};
#define NWCASES (sizeof(wcases) / sizeof(wcases[0]))

static int
cmp_op(const char *op, double x, double k)
{
	if (strcmp(op, "==") == 0) return x == k;
	if (strcmp(op, "~=") == 0) return x != k;
	if (strcmp(op, "<") == 0) return x < k;
	if (strcmp(op, "<=") == 0) return x <= k;
	if (strcmp(op, ">") == 0) return x > k;
	return x >= k;
}

/* Row i satisfies case c, computed from the generator's arrays. */
static int
wcase_holds(const struct wcase *c, size_t i)
{
	int miss = 0;
	double x = 0, k = 0;

	if (strcmp(c->col, "age") == 0) {
		miss = g.age_miss[i];
		x = g.age[i];
	} else if (strcmp(c->col, "id") == 0)
		x = (double)(i + 1);
	else if (strcmp(c->col, "stage") == 0) {
		miss = g.stage_miss[i];
		x = (double)g.stage[i];
	} else if (strcmp(c->col, "dx") == 0) {
		miss = g.dx_miss[i];
		x = (double)g.dx[i];
	} else if (strcmp(c->col, "sex") == 0)
		x = g.sex[i];
	else
		x = g.smoker[i];
	if (strcmp(c->op, "isnull") == 0)
		return miss;
	if (strcmp(c->op, "notnull") == 0)
		return !miss;
	if (miss)
		return 0;
	if (strcmp(c->op, "in") == 0) {
		if (strcmp(c->col, "sex") == 0)
			return x == 0 || x == 2;
		if (strcmp(c->col, "smoker") == 0)
			return strcmp(c->key, "{true}") == 0 && x == 1;
		return x == 1 || x == 4;
	}
	if (c->key[0] == '\'' && strcmp(c->col, "dx") == 0) {
		int y, m, d;

		sscanf(c->key, "'%d-%d-%d'", &y, &m, &d);
		k = (double)pht_days_from_civil(y, (unsigned)m, (unsigned)d);
	} else if (strcmp(c->col, "sex") == 0)
		k = 1;  /* 'M' */
	else if (strcmp(c->col, "smoker") == 0)
		k = strcmp(c->key, "true") == 0;
	else
		k = strtod(c->key, NULL);
	return cmp_op(c->op, x, k);
}

static void
test_where_kernels(void)
{
	static const char *const bases[] = {"data", "data:where('id', '>', 100)",
	    "data:where('sex', '~=', 'X')"};
	char body[8192];
	size_t b, j, i, len;
	int64_t saved_k = lim.k;
	json_t *o, *e;

	lim.k = 1;      /* every count may be used here */
	for (b = 0; b < 3; b++) {
		size_t ok = 0;

		len = (size_t)snprintf(body, sizeof(body), "local base = %s\nlocal cases = {\n",
		    bases[b]);
		for (j = 0; j < NWCASES; j++)
			len += (size_t)snprintf(body + len, sizeof(body) - len,
			    "  function(v) return v:where('%s', '%s'%s%s) end,\n", wcases[j].col,
			    wcases[j].op, wcases[j].key ? ", " : "", wcases[j].key ? wcases[j].key : "");
		snprintf(body + len, sizeof(body) - len, "}\nlocal out = {}\n"
		    "for i, f in ipairs(cases) do\n"
		    "  local v = f(base)\n  local id = v:column('id')\n"
		    "  out[i] = {n = v:nrows(), s = id:sum(), ss = id:sumsq()}\n"
		    "end\nreturn out");
		o = run_body(body, 1);
		for (j = 0; j < NWCASES && o != NULL; j++) {
			size_t n = 0;
			int64_t s = 0;
			double ss = 0;

			for (i = 0; i < N; i++)
				if ((b != 1 || i + 1 > 100) && (b != 2 || g.sex[i] != 2) &&
				    wcase_holds(&wcases[j], i)) {
					n++;
					s += (int64_t)(i + 1);
					ss += (double)(i + 1) * (double)(i + 1);
				}
			e = json_array_get(o, j);
			if (num(e, "n") == (double)n && json_integer_value(json_object_get(e, "s")) == s &&
			    num(e, "ss") == ss)
				ok++;
			else
				tap_diag("%s:where('%s', '%s', %s): got n %g, want %zu", bases[b],
				    wcases[j].col, wcases[j].op, wcases[j].key ? wcases[j].key : "",
				    num(e, "n"), n);
		}
		tap_ok(o != NULL && ok == NWCASES,
		    "where over %s: %zu cases (every type and operator) select exactly the rows "
		    "of the naive test (count, sum and sum of squares of id)", bases[b], ok);
		json_decref(o);
	}
	lim.k = saved_k;
}

/* count, sum and mean through each kernel variant (all rows/selection x missing or not). */
static void
test_sum_kernels(void)
{
	static const char *const cols[] = {"age", "id", "stage", "smoker"};
	char body[1024];
	size_t b, j, i;
	json_t *o, *e;

	for (b = 0; b < 2; b++) {
		snprintf(body, sizeof(body), "local v = %s\nlocal out = {}\n"
		    "for i, name in ipairs({'age', 'id', 'stage', 'smoker'}) do\n"
		    "  local c = v:column(name)\n"
		    "  local s = c:sum()\n  local m = c:mean()\n  local n = c:count()\n"
		    "  local c2 = v:column(name)\n"
		    "  out[i] = {s = s, m = m, n = n, n2 = c2:count(), m2 = c2:mean(),\n"
		    "    s2 = c2:sum(), int = math.type(s) == 'integer'}\n"
		    "end\nreturn out", b == 0 ? "data" : "data:where('id', '>', 100)");
		o = run_body(body, 1);
		for (j = 0; j < 4; j++) {
			size_t n = 0;
			double s = 0;
			int64_t is = 0;

			for (i = b == 0 ? 0 : 100; i < N; i++) {
				if (j == 0 && !g.age_miss[i]) {
					n++;
					s += g.age[i];
				} else if (j == 1) {
					n++;
					is += (int64_t)(i + 1);
				} else if (j == 2 && !g.stage_miss[i]) {
					n++;
					is += g.stage[i];
				} else if (j == 3) {
					n++;
					is += g.smoker[i];
				}
			}
			if (j > 0)
				s = (double)is;
			e = json_array_get(o, j);
			tap_ok(e != NULL && num(e, "n") == (double)n && num(e, "n2") == (double)n &&
			    (j == 0 ? near(num(e, "s"), s) : json_integer_value(json_object_get(e, "s")) == is) &&
			    num(e, "s2") == num(e, "s") &&
			    near(num(e, "m"), s / (double)n) && num(e, "m2") == num(e, "m") &&
			    json_is_boolean(json_object_get(e, "int")) &&
			    json_is_true(json_object_get(e, "int")) == (j != 0),
			    "%s %s: count %zu, sum, mean (%s, %s missing); sum then mean then count "
			    "on one column object agree with a fresh one", b == 0 ? "all rows" : "a selection",
			    cols[j], n, b == 0 ? "no selection" : "selection",
			    j == 0 || j == 2 ? "with" : "without");
		}
		json_decref(o);
	}
}

/* ---- aggregate_by ---- */

struct naive_agg {
	size_t rows, n;
	double sum, sumsq;
	long double wm, wm2;    /* Welford's mean and squared deviations, in long double */
};

static void
nagg_add(struct naive_agg *a, int miss, double x)
{
	long double delta;

	a->rows++;
	if (miss)
		return;
	a->n++;
	delta = (long double)x - a->wm;
	a->wm += delta / (long double)a->n;
	a->wm2 += delta * ((long double)x - a->wm);
	a->sum += x;
	a->sumsq += x * x;
}

/*
 * The stats record e for column naive a under k (suppressed when 0 < n < k
 * or when 0 < rows - n < k: the few rows missing the column would be the
 * scope's n minus the column's).
 */
static int
stats_match(const json_t *e, const struct naive_agg *a, int64_t k, int is_int)
{
	const json_t *sum = json_object_get(e, "sum");

	if ((a->n > 0 && (int64_t)a->n < k) || (a->rows > a->n && (int64_t)(a->rows - a->n) < k))
		return json_is_true(json_object_get(e, "suppressed")) && json_object_size(e) == 1;
	if (num(e, "n") != (double)a->n || !near(json_number_value(sum), a->sum) ||
	    !near(num(e, "sumsq"), a->sumsq) || json_is_integer(sum) != is_int)
		return 0;
	if (json_object_get(e, "min") != NULL || json_object_get(e, "max") != NULL)
		return 0;
	if (a->n < 2 && (json_object_get(e, "var") != NULL || json_object_get(e, "sd") != NULL))
		return 0;
	if (a->n == 0)
		return json_object_get(e, "mean") == NULL;
	if (a->n >= 2 && !(var_near(num(e, "var"), (double)(a->wm2 / (long double)(a->n - 1))) &&
	    var_near(num(e, "sd"), sqrt((double)(a->wm2 / (long double)(a->n - 1))))))
		return 0;
	return near(num(e, "mean"), a->sum / (double)a->n);
}

static void
test_aggregate_by(void)
{
	struct naive_agg ag[4][2], tot[2], sg[6][3];
	size_t i, j, cnt[3] = {0, 0, 0}, nmiss = 0;
	int64_t saved_k = lim.k;
	json_t *o, *groups, *total, *e, *s;
	int ok;

	/* by sex over age (number, missing) and stage (integer, missing), k = X's count + 1 */
	memset(ag, 0, sizeof(ag));
	memset(tot, 0, sizeof(tot));
	for (i = 0; i < N; i++) {
		cnt[g.sex[i]]++;
		nagg_add(&ag[g.sex[i]][0], g.age_miss[i], g.age[i]);
		nagg_add(&ag[g.sex[i]][1], g.stage_miss[i], (double)g.stage[i]);
		nagg_add(&tot[0], g.age_miss[i], g.age[i]);
		nagg_add(&tot[1], g.stage_miss[i], (double)g.stage[i]);
	}
	lim.k = (int64_t)cnt[2] + 1;
	o = run_body("local by, all = data:aggregate_by('sex', {'age', 'stage'})\n"
	    "local cmp = {}\n"
	    "for i, grp in ipairs(data:group_by('sex')) do\n"
	    "  if grp.data then local a = grp.data:column('age')\n"
	    "    cmp[i] = {sum = a:sum(), sumsq = a:sumsq()} else cmp[i] = {none = true} end\n"
	    "end\nreturn {by = by, all = all, cmp = cmp}", 1);
	groups = json_object_get(o, "by");
	total = json_object_get(o, "all");
	tap_ok(json_array_size(groups) == 3, "aggregate_by(sex): one entry per level, no missing group");
	/* X is small: the smaller of F and M is suppressed with it (complementary) */
	e = json_array_get(groups, cnt[0] < cnt[1] ? 0 : 1);
	tap_ok(json_is_true(json_object_get(e, "suppressed")) && json_object_size(e) == 2 &&
	    json_is_true(json_object_get(json_array_get(json_object_get(o, "cmp"),
	    cnt[0] < cnt[1] ? 0 : 1), "none")),
	    "group %s (%zu rows, the smaller released one) is suppressed with X (%zu rows < k), "
	    "in aggregate_by and group_by alike", cnt[0] < cnt[1] ? "F" : "M",
	    cnt[0] < cnt[1] ? cnt[0] : cnt[1], cnt[2]);
	for (j = 0; j < 2; j++) {
		if (j == (cnt[0] < cnt[1] ? 0 : 1))
			continue;
		e = json_array_get(groups, j);
		s = json_object_get(e, "stats");
		tap_ok(strcmp(str(e, "key"), j == 0 ? "F" : "M") == 0 && num(e, "n") == (double)cnt[j] &&
		    stats_match(json_object_get(s, "age"), &ag[j][0], lim.k, 0) &&
		    stats_match(json_object_get(s, "stage"), &ag[j][1], lim.k, 1),
		    "group %s: n = %zu; age and stage n, sum, sumsq, mean as the naive loop",
		    j == 0 ? "F" : "M", cnt[j]);
		e = json_array_get(json_object_get(o, "cmp"), j);
		tap_ok((json_is_true(json_object_get(json_object_get(s, "age"), "suppressed")) &&
		    ag[j][0].rows - ag[j][0].n < (size_t)lim.k) ||
		    (num(json_object_get(s, "age"), "sum") == num(e, "sum") &&
		    num(json_object_get(s, "age"), "sumsq") == num(e, "sumsq")),
		    "group %s: age sum and sumsq equal group_by's column sums bit for bit",
		    j == 0 ? "F" : "M");
	}
	e = json_array_get(groups, 2);
	tap_ok(strcmp(str(e, "key"), "X") == 0 && json_is_true(json_object_get(e, "suppressed")) &&
	    json_object_size(e) == 2,
	    "group X (%zu rows < k = %lld): {key, suppressed} only", cnt[2], (long long)lim.k);
	s = json_object_get(total, "stats");
	tap_ok(num(total, "n") == N && stats_match(json_object_get(s, "age"), &tot[0], lim.k, 0) &&
	    stats_match(json_object_get(s, "stage"), &tot[1], lim.k, 1),
	    "second result: the total over the view (n = %d, age and stage)", N);
	json_decref(o);
	lim.k = saved_k;

	/* by stage (integer key with a missing group) over smoker (boolean) and id, on a selection */
	memset(sg, 0, sizeof(sg));
	for (i = 100; i < N; i++) {
		j = g.stage_miss[i] ? 5 : (size_t)g.stage[i];
		nmiss += g.stage_miss[i];
		nagg_add(&sg[j][0], 0, (double)g.smoker[i]);
		nagg_add(&sg[j][1], 0, (double)(i + 1));
	}
	o = run_body("return data:where('id', '>', 100):aggregate_by('stage', {'smoker', 'id'})", 1);
	ok = json_array_size(o) == 5;
	for (j = 0; ok && j < 5; j++) {
		size_t slot = j < 4 ? j + 1 : 5;

		e = json_array_get(o, j);
		s = json_object_get(e, "stats");
		ok = (j < 4 ? num(e, "key") == (double)(j + 1) :
		    json_is_true(json_object_get(e, "missing")) && json_object_get(e, "key") == NULL) &&
		    num(e, "n") == (double)sg[slot][0].rows &&
		    stats_match(json_object_get(s, "smoker"), &sg[slot][0], 5, 1) &&
		    stats_match(json_object_get(s, "id"), &sg[slot][1], 5, 1);
	}
	tap_ok(ok, "aggregate_by(stage) on a selection: keys 1..4 then the missing group (%zu rows); "
	    "boolean sums are integer counts", nmiss);
	json_decref(o);

	/* a column with 0 < non-missing < k in a released group: that column suppressed */
	{
		struct naive_agg sa[2][2];

		memset(sa, 0, sizeof(sa));
		for (i = 0; i < FEW_N; i++) {
			nagg_add(&sa[few_smoker[i]][0], i != FEW_AGE_ROW, 42.5);
			nagg_add(&sa[few_smoker[i]][1], 0, (double)few_stage[i]);
		}
		o = run_few("return data:aggregate_by('smoker', {'age', 'stage'})");
		ok = json_array_size(o) == 2;
		for (j = 0; ok && j < 2; j++) {
			e = json_array_get(o, j);
			s = json_object_get(e, "stats");
			ok = num(e, "n") == (double)sa[j][0].rows && sa[j][0].rows >= 5 &&
			    stats_match(json_object_get(s, "age"), &sa[j][0], 5, 0) &&
			    stats_match(json_object_get(s, "stage"), &sa[j][1], 5, 1);
		}
		tap_ok(ok && sa[few_smoker[FEW_AGE_ROW]][0].n == 1,
		    "rows missing age plus one: the group with 1 age value has age {suppressed = true}, "
		    "the other age n = 0, stage released in both");
		json_decref(o);
	}

	/* empty views */
	o = run_body("local v = data:where('id', '>', 100000)\n"
	    "local by, all = v:aggregate_by('sex', {'age', 'id'})\n"
	    "local by2, all2 = v:aggregate_by('stage', {'age'})\n"
	    "return {by = by, all = all, n2 = #by2, all2 = all2}", 1);
	groups = json_object_get(o, "by");
	ok = json_array_size(groups) == 3;
	for (j = 0; ok && j < 3; j++) {
		e = json_object_get(json_array_get(groups, j), "stats");
		ok = num(json_array_get(groups, j), "n") == 0 &&
		    num(json_object_get(e, "age"), "n") == 0 && num(json_object_get(e, "age"), "sum") == 0 &&
		    json_object_get(json_object_get(e, "age"), "mean") == NULL &&
		    json_object_get(json_object_get(e, "age"), "var") == NULL &&
		    json_is_integer(json_object_get(json_object_get(e, "id"), "sum"));
	}
	tap_ok(o != NULL && ok && num(json_object_get(o, "all"), "n") == 0 && num(o, "n2") == 0 &&
	    num(json_object_get(o, "all2"), "n") == 0,
	    "an empty view: every level with n = 0, sums 0, no mean, no var; integer keys: no groups");
	json_decref(o);

	/* the guards and bad arguments, with their exact texts */
	o = run_body("return data:where('id', '<=', 3):aggregate_by('sex', {'age'})", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_DISCLOSURE &&
	    strstr(err.msg, "subset smaller than k (3 rows, k = 5)") != NULL,
	    "aggregate_by on a view of 3 rows: %s", err.msg);
	o = run_body("return data:aggregate_by('sex')", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "bad argument #2 to 'aggregate_by' (table expected, got no value)") != NULL,
	    "no column list: %s", err.msg);
	o = run_body("return data:aggregate_by('nope', {'age'})", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "no column 'nope' in dataset reg") != NULL, "unknown group column: %s", err.msg);
	o = run_body("return data:aggregate_by('sex', {'age', 'nope'})", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "no column 'nope' in dataset reg") != NULL, "unknown column: %s", err.msg);
	o = run_body("return data:aggregate_by('age', {'id'})", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "aggregate_by: column age is a number column; use a category, boolean, "
	    "integer or date column") != NULL, "a number column as the key: %s", err.msg);
	o = run_body("return data:aggregate_by('sex', {'dx'})", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "aggregate_by: column dx is a date column, not numeric") != NULL,
	    "a date column to aggregate: %s", err.msg);
	o = run_body("return data:aggregate_by('sex', {'age', 7})", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "aggregate_by: columns[2] is a number, not a column name") != NULL,
	    "a number in the column list: %s", err.msg);
	o = run_body("local t = {}\nfor i = 1, 257 do t[i] = 'age' end\n"
	    "return data:aggregate_by('sex', t)", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "aggregate_by: more than 256 columns") != NULL,
	    "257 columns: %s", err.msg);
	/* aggregate: the total alone, as aggregate_by's total and the naive loop */
	{
		struct naive_agg na[2];

		memset(na, 0, sizeof(na));
		for (i = 100; i < N; i++) {
			nagg_add(&na[0], g.age_miss[i], g.age[i]);
			nagg_add(&na[1], g.stage_miss[i], (double)g.stage[i]);
		}
		o = run_body("local v = data:where('id', '>', 100)\n"
		    "local _, all = v:aggregate_by('sex', {'age', 'stage'})\n"
		    "return {a = v:aggregate({'age', 'stage'}), all = all,\n"
		    "  sum = v:column('age'):sum(), sumsq = v:column('age'):sumsq()}", 1);
		e = json_object_get(o, "a");
		s = json_object_get(e, "stats");
		tap_ok(o != NULL && num(e, "n") == N - 100 &&
		    stats_match(json_object_get(s, "age"), &na[0], 5, 0) &&
		    stats_match(json_object_get(s, "stage"), &na[1], 5, 1) &&
		    num(json_object_get(s, "age"), "sum") == num(o, "sum") &&
		    num(json_object_get(s, "age"), "sumsq") == num(o, "sumsq") &&
		    near(num(json_object_get(json_object_get(json_object_get(o, "all"), "stats"), "age"),
		    "sum"), na[0].sum),
		    "aggregate({age, stage}) on a selection: the naive figures; age sum and sumsq "
		    "bit-equal to the column methods");
		json_decref(o);
	}
	o = run_body("return data:aggregate({'sex'})", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "aggregate: column sex is a category column, not numeric") != NULL,
	    "aggregate of a category column: %s", err.msg);
	o = run_body("return data:aggregate('age')", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "bad argument #1 to 'aggregate' (table expected, got string)") != NULL,
	    "aggregate without a list: %s", err.msg);
	o = run_body("return data:where('id', '<=', 4):aggregate({'age'})", 1);
	tap_ok(o == NULL && err.code == PHT_ERR_DISCLOSURE &&
	    strstr(err.msg, "subset smaller than k (4 rows, k = 5)") != NULL,
	    "aggregate on a view of 4 rows: %s", err.msg);
	o = run_body("return select('#', data:aggregate_by('smoker', {}))", 1);
	tap_ok(o != NULL && json_integer_value(o) == 2, "an empty column list still gives groups and total");
	json_decref(o);
}

/*
 * Variances far below the scale of the values: 1e9 + {1..6} and 1e9 +
 * {11..16} (number and integer columns, groups a and b). A variance from
 * sums of squares loses every digit here (the squares are near 1e18, one
 * unit in the last place of their sum is 128); the two-pass figures are
 * exact: 3.5 in each group and the variance of {1..6, 11..16} in all.
 */
static void
test_variance_offset(void)
{
	static const char dict[] = "{\"dataset\":\"off\",\"columns\":["
	    "{\"name\":\"x\",\"type\":\"number\"},{\"name\":\"i\",\"type\":\"integer\"},"
	    "{\"name\":\"g\",\"type\":\"category\",\"levels\":[\"a\",\"b\"]}]}";
	struct pht_dataset *off = NULL, *saved = ds;
	double small[12], want_all, want_g = 3.5;
	char csv[1024];
	size_t i, len;
	json_t *o, *by, *all;
	int ok;

	len = (size_t)snprintf(csv, sizeof(csv), "x,i,g\n");
	for (i = 0; i < 12; i++) {
		small[i] = (double)(i < 6 ? i + 1 : i + 5);
		len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%.1f,%lld,%s\n",
		    1e9 + small[i], 1000000000LL + (long long)small[i], i < 6 ? "a" : "b");
	}
	want_all = naive_var(small, NULL, 12);
	if (pht_dataset_load_mem(csv, len, dict, strlen(dict), "off.csv", &off, &err) != PHT_OK) {
		tap_ok(0, "the offset dataset loads: %s", err.msg);
		return;
	}
	ds = off;
	o = run_body("local by, all = data:aggregate_by('g', {'x', 'i'})\n"
	    "local a = data:where('g', '==', 'a')\n"
	    "return {by = by, all = all, xv = data:column('x'):var(), iv = data:column('i'):var(),\n"
	    "  av = a:column('x'):var(), asd = a:column('i'):sd()}", 1);
	ds = saved;
	pht_dataset_free(off);
	by = json_object_get(o, "by");
	all = json_object_get(json_object_get(o, "all"), "stats");
	tap_ok(o != NULL && var_near(num(o, "xv"), want_all) && var_near(num(o, "iv"), want_all) &&
	    var_near(num(o, "av"), want_g) && var_near(num(o, "asd"), sqrt(want_g)),
	    "col:var() and col:sd() at an offset of 1e9: exact (%.17g and 3.5)", want_all);
	ok = json_array_size(by) == 2;
	for (i = 0; ok && i < 2; i++) {
		json_t *st2 = json_object_get(json_array_get(by, i), "stats");

		ok = var_near(num(json_object_get(st2, "x"), "var"), want_g) &&
		    var_near(num(json_object_get(st2, "i"), "var"), want_g) &&
		    var_near(num(json_object_get(st2, "x"), "sd"), sqrt(want_g));
	}
	tap_ok(ok, "aggregate_by: each group's var is exactly 3.5 at an offset of 1e9");
	tap_ok(var_near(num(json_object_get(all, "x"), "var"), want_all) &&
	    var_near(num(json_object_get(all, "i"), "var"), want_all),
	    "aggregate_by's total combines the groups' deviations exactly (%.17g)", want_all);
	json_decref(o);
}

/* Copies tmpl into out with its first COL replaced by name. */
static void
subst_col(char *out, size_t outlen, const char *tmpl, const char *name)
{
	const char *p = strstr(tmpl, "COL");

	if (p == NULL)
		snprintf(out, outlen, "%s", tmpl);
	else
		snprintf(out, outlen, "%.*s%s%s", (int)(p - tmpl), tmpl, name, p + 3);
}

/*
 * The identifier column is not in the train's view: not in columns() or
 * dictionary(), and every method that takes a column name fails on it
 * exactly as on a column that does not exist.
 */
static void
test_identifier_invisible(void)
{
	static const char dict[] = "{\"dataset\":\"idd\",\"columns\":["
	    "{\"name\":\"age\",\"type\":\"number\"},"
	    "{\"name\":\"pid\",\"type\":\"integer\",\"role\":\"identifier\"},"
	    "{\"name\":\"sex\",\"type\":\"category\",\"levels\":[\"F\",\"M\"]},"
	    "{\"name\":\"zip\",\"type\":\"integer\",\"role\":\"quasi_identifier\"},"
	    "{\"name\":\"ev\",\"type\":\"boolean\"}]}";
	static const char *const uses[] = {
		"data:column('COL')",
		"data:where('COL', '==', 3)",
		"data:where('COL', 'notnull')",
		"data:group_by('COL')",
		"data:aggregate({'age', 'COL'})",
		"data:aggregate_by('COL', {'age'})",
		"data:aggregate_by('sex', {'COL'})",
		"data:crosstab('COL', 'sex')",
		"data:crosstab('sex', 'COL')",
		"data:cox_stratum({time = 'age', event = 'ev', covariates = {'COL'}})",
		"data:cox_stratum({time = 'COL', event = 'ev', covariates = {'age'}})",
		"data:glm_step({family = 'gaussian', outcome = 'COL', covariates = {'age'}})",
		"data:glm_step({family = 'gaussian', outcome = 'age', covariates = {'COL'}})",
	};
	struct pht_dataset *idd = NULL, *saved = ds;
	char csv[2048], call[256], body[1024];
	const char *got[2];
	size_t i, len;
	int w;
	json_t *o, *cols;

	len = (size_t)snprintf(csv, sizeof(csv), "age,pid,sex,zip,ev\n");
	for (i = 0; i < 20; i++)
		len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%zu.5,%zu,%s,%zu,%d\n",
		    30 + i, 9000 + i, i % 2 ? "F" : "M", 1000 + i % 3, (int)(i % 3 == 0));
	if (pht_dataset_load_mem(csv, len, dict, strlen(dict), "idd.csv", &idd, &err) != PHT_OK) {
		tap_ok(0, "the identifier dataset loads: %s", err.msg);
		return;
	}
	tap_ok(pht_dataset_identifier(idd) != NULL &&
	    strcmp(pht_dataset_identifier(idd)->name, "pid") == 0,
	    "pht_dataset_identifier names pid");
	ds = idd;
	o = run_body("local d = data:dictionary()\nlocal names = {}\n"
	    "for i, c in ipairs(d.columns) do names[i] = c.name end\n"
	    "return {cols = data:columns(), dict = names, ndict = #d.columns,\n"
	    "  zip = d.columns[3].role, s = data:column('age'):sum()}", 1);
	cols = json_object_get(o, "cols");
	tap_ok(o != NULL && json_array_size(cols) == 4 &&
	    strcmp(json_string_value(json_array_get(cols, 0)), "age") == 0 &&
	    strcmp(json_string_value(json_array_get(cols, 1)), "sex") == 0 &&
	    strcmp(json_string_value(json_array_get(cols, 2)), "zip") == 0 &&
	    strcmp(json_string_value(json_array_get(cols, 3)), "ev") == 0,
	    "columns() leaves out the identifier: age, sex, zip, ev");
	tap_ok(o != NULL && num(o, "ndict") == 4 &&
	    json_equal(json_object_get(o, "dict"), cols) &&
	    strcmp(str(o, "zip"), "quasi_identifier") == 0,
	    "dictionary().columns leaves it out too (4 entries in order; roles of the rest kept)");
	tap_str(st.columns_read, "age", "the identifier is never read");
	json_decref(o);
	for (i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		for (w = 0; w < 2; w++) {
			subst_col(call, sizeof(call), uses[i], w == 0 ? "pid" : "nope");
			snprintf(body, sizeof(body), "local ok, e = pcall(function() return %s end)\n"
			    "return {ok = ok, e = tostring(e)}", call);
			o = run_body(body, 1);
			got[w] = o != NULL && json_is_false(json_object_get(o, "ok")) ?
			    strdup(str(o, "e")) : strdup("(no error)");
			json_decref(o);
		}
		snprintf(body, sizeof(body), "%s", got[1]);
		/* the same text with the name swapped */
		{
			char *p = strstr(body, "'nope'");

			if (p != NULL) {
				memmove(p + 5, p + 6, strlen(p + 6) + 1);
				memcpy(p, "'pid'", 5);
			}
		}
		tap_ok(strstr(got[0], "no column 'pid' in dataset idd") != NULL &&
		    strcmp(got[0], body) == 0,
		    "%s fails as for a column that does not exist: %s", uses[i], got[0]);
		free((char *)got[0]);
		free((char *)got[1]);
	}
	ds = saved;
	pht_dataset_free(idd);
}

/* Integer sums beyond 64 bits: exact, an integer when the total fits. */
static void
test_integer_sums(void)
{
	static const char csv[] = "v,g\n9223372036854775807,a\n9223372036854775807,a\n"
	    "-9223372036854775807,a\n-9223372036854775807,a\n1,a\n"
	    "9223372036854775807,b\n9223372036854775807,b\n9223372036854775807,b\n"
	    "9223372036854775807,b\n9223372036854775807,b\n"
	    "7,\n7,\n7,\n7,\n7,\n";
	static const char dict[] = "{\"dataset\":\"big\",\"description\":\"x\",\"columns\":["
	    "{\"name\":\"v\",\"type\":\"integer\"},"
	    "{\"name\":\"g\",\"type\":\"category\",\"levels\":[\"a\",\"b\"]}]}";
	struct pht_dataset *big = NULL, *saved = ds;
	__int128 want = (__int128)INT64_MAX * 5;
	json_t *o, *b;

	if (pht_dataset_load_mem(csv, strlen(csv), dict, strlen(dict), "big.csv", &big,
	    &err) != PHT_OK) {
		tap_ok(0, "the big-integer dataset loads: %s", err.msg);
		return;
	}
	ds = big;
	o = run_body("local a, b = data:where('g', '==', 'a'), data:where('g', '==', 'b')\n"
	    "local by = data:aggregate_by('g', {'v'})\n"
	    "return {a = a:column('v'):sum(), b = b:column('v'):sum(),\n"
	    "  ga = by[1].stats.v.sum, gb = by[2].stats.v.sum,\n"
	    "  miss = by[3].missing, gm = by[3].stats.v.sum, nm = by[3].n, ng = #by,\n"
	    "  ta = math.type(a:column('v'):sum()), tb = math.type(b:column('v'):sum())}", 1);
	ds = saved;
	b = json_object_get(o, "b");
	tap_ok(o != NULL && json_integer_value(json_object_get(o, "a")) == 1 &&
	    json_integer_value(json_object_get(o, "ga")) == 1 && strcmp(str(o, "ta"), "integer") == 0,
	    "partial sums past INT64_MAX that come back to 1: the integer 1 (sum and aggregate_by)");
	tap_ok(json_is_real(b) && json_real_value(b) == (double)want &&
	    json_real_value(json_object_get(o, "gb")) == (double)want && strcmp(str(o, "tb"), "float") == 0,
	    "5 x INT64_MAX: the float nearest the exact sum (%.17g)", (double)want);
	tap_ok(json_is_true(json_object_get(o, "miss")) && num(o, "gm") == 35 && num(o, "nm") == 5 &&
	    num(o, "ng") == 3, "rows missing a category key: the missing group last (n 5, sum 35)");
	json_decref(o);
	pht_dataset_free(big);
}

int
main(void)
{
	struct pht_limits d;

	pht_limits_default(&d);
	tap_ok(d.instructions == 2000000000ULL && d.memory_bytes == (size_t)512 << 20 &&
	    d.wall_seconds == 60 && d.output_bytes == (size_t)1 << 20 &&
	    d.output_numbers == 100000 && d.k == 5 && d.row_access == 0,
	    "pht_limits_default gives the documented defaults (no row access)");
	if (gen_make(&g, N, 2024) != 0 || gen_load(&g, &ds, &err) != PHT_OK) {
		tap_ok(0, "dataset loads: %s", err.msg);
		return tap_done();
	}
	lim = d;
	lim.wall_seconds = 30;
	/* a fine grid (15 digits, days for dx): these tests are of what where() selects
	 * at any threshold; the grid rule is tested in test_train_derive (thresholds) */
	pht_resolution_default(&fine);
	fine.grid_digits = 15;
	fine.grids = dx_days;
	fine.ngrids = 1;
	lim.resolution = &fine;
	test_whole_columns();
	test_where();
	test_chained_and_empty();
	test_group_by();
	test_key_folding();
	test_crosstab();
	test_crosstab_complementary();
	test_crosstab_folded();
	test_removed();
	test_rows_and_meta();
	test_seed_params_combine();
	test_closed_stdio();
	test_where_kernels();
	test_sum_kernels();
	test_aggregate_by();
	test_integer_sums();
	test_variance_offset();
	test_identifier_invisible();
	pht_dataset_free(ds);
	gen_free(&g);
	return tap_done();
}
