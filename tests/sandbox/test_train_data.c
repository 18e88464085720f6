/* test_train_data.c — every data-API primitive (where kernels, sums, aggregate_by included) against a naive computation over the generator's arrays: main, whole columns, where() and chained and empty selections; the other groups in test_train_data_*.c. */
#include "tap.h"
#include "train_data_fixture.h"

#include "pht_err.h"
#include "pht_json.h"
#include "pht_train.h"
#include "pht_train_rowsets.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TAP_SHARED_DEFINE;

static const struct pht_resolution_grid dx_days[] = {{"dx", 1}};
static struct pht_resolution fine;

void
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

void
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

void
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
	tap_ok(o == NULL && run_err.code == PHT_ERR_DISCLOSURE &&
	    strstr(run_err.msg, "subset smaller than k (1 non-missing values in column age, k = 5)"),
	    "sum over 1 non-missing value refused: %s", run_err.msg);
	o = run_body("return data:where('age', '==', 'x')", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "column age (number) cannot be compared with a string value"),
	    "where with a value of the wrong type: %s", run_err.msg);
	o = run_body("return data:where('age', 'like', 3)", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN && strstr(run_err.msg, "invalid option 'like'"),
	    "where with an unknown operator: %s", run_err.msg);
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
	if (gen_make(&g, N, 2024) != 0 || gen_load(&g, &ds, &run_err) != PHT_OK) {
		tap_ok(0, "dataset loads: %s", run_err.msg);
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
