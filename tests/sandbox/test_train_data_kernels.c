/* test_train_data_kernels.c — the scan kernels (where, count, sum, mean), aggregate_by, variance offsets, the invisible identifier and integer sums against naive C. */
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

void
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
void
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

void
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
	tap_ok(o == NULL && run_err.code == PHT_ERR_DISCLOSURE &&
	    strstr(run_err.msg, "subset smaller than k (3 rows, k = 5)") != NULL,
	    "aggregate_by on a view of 3 rows: %s", run_err.msg);
	o = run_body("return data:aggregate_by('sex')", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "bad argument #2 to 'aggregate_by' (table expected, got no value)") != NULL,
	    "no column list: %s", run_err.msg);
	o = run_body("return data:aggregate_by('nope', {'age'})", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "no column 'nope' in dataset reg") != NULL, "unknown group column: %s", run_err.msg);
	o = run_body("return data:aggregate_by('sex', {'age', 'nope'})", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "no column 'nope' in dataset reg") != NULL, "unknown column: %s", run_err.msg);
	o = run_body("return data:aggregate_by('age', {'id'})", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "aggregate_by: column age is a number column; use a category, boolean, "
	    "integer or date column") != NULL, "a number column as the key: %s", run_err.msg);
	o = run_body("return data:aggregate_by('sex', {'dx'})", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "aggregate_by: column dx is a date column, not numeric") != NULL,
	    "a date column to aggregate: %s", run_err.msg);
	o = run_body("return data:aggregate_by('sex', {'age', 7})", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "aggregate_by: columns[2] is a number, not a column name") != NULL,
	    "a number in the column list: %s", run_err.msg);
	o = run_body("local t = {}\nfor i = 1, 257 do t[i] = 'age' end\n"
	    "return data:aggregate_by('sex', t)", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "aggregate_by: more than 256 columns") != NULL,
	    "257 columns: %s", run_err.msg);
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
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "aggregate: column sex is a category column, not numeric") != NULL,
	    "aggregate of a category column: %s", run_err.msg);
	o = run_body("return data:aggregate('age')", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "bad argument #1 to 'aggregate' (table expected, got string)") != NULL,
	    "aggregate without a list: %s", run_err.msg);
	o = run_body("return data:where('id', '<=', 4):aggregate({'age'})", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_DISCLOSURE &&
	    strstr(run_err.msg, "subset smaller than k (4 rows, k = 5)") != NULL,
	    "aggregate on a view of 4 rows: %s", run_err.msg);
	o = run_body("return select('#', data:aggregate_by('smoker', {}))", 1);
	tap_ok(o != NULL && json_integer_value(o) == 2, "an empty column list still gives groups and total");
	json_decref(o);

	/* {second = false}: the same first moments, bit for bit, and no second ones */
	o = run_body("local function same(a, b)\n"
	    "  if a.suppressed or b.suppressed then return a.suppressed == b.suppressed end\n"
	    "  return a.n == b.n and a.sum == b.sum and a.mean == b.mean and\n"
	    "    b.sumsq == nil and b.var == nil and b.sd == nil\n"
	    "end\n"
	    "local ok, cnt = true, 0\n"
	    "local function cmp(s, s2)\n"
	    "  for c, f in pairs(s) do cnt = cnt + 1; ok = ok and same(f, s2[c]) end\n"
	    "end\n"
	    "for _, key in ipairs({'sex', 'stage', 'smoker'}) do\n"
	    "  for _, v in ipairs({data, data:where('id', '>', 100)}) do\n"
	    "    for _, cols in ipairs({{'age', 'stage', 'smoker', 'id'}, {'id'}}) do\n"
	    "      local by, all = v:aggregate_by(key, cols)\n"
	    "      local by2, all2 = v:aggregate_by(key, cols, {second = false})\n"
	    "      ok = ok and #by == #by2 and all.n == all2.n\n"
	    "      for i, g in ipairs(by) do\n"
	    "        local g2 = by2[i]\n"
	    "        ok = ok and g.key == g2.key and g.n == g2.n and g.suppressed == g2.suppressed\n"
	    "        if g.stats then cmp(g.stats, g2.stats) end\n"
	    "      end\n"
	    "      cmp(all.stats, all2.stats)\n"
	    "    end\n"
	    "  end\n"
	    "end\n"
	    "local v = data:where('id', '>', 100)\n"
	    "cmp(v:aggregate({'age', 'id'}).stats, v:aggregate({'age', 'id'}, {second = false}).stats)\n"
	    "return {ok = ok, cnt = cnt}", 1);
	tap_ok(o != NULL && json_is_true(json_object_get(o, "ok")) && num(o, "cnt") > 100,
	    "aggregate_by and aggregate with {second = false}: n, sum and mean equal the "
	    "default's bit for bit, no sumsq, var or sd (%g figures; category, integer and "
	    "boolean keys, bitmap and row selections)", o != NULL ? num(o, "cnt") : 0.0);
	json_decref(o);
	o = run_body("return data:aggregate_by('sex', {'age'}, 5)", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "aggregate_by: options is a number, not a table") != NULL,
	    "aggregate_by with options not a table: %s", run_err.msg);
	o = run_body("return data:aggregate_by('sex', {'age'}, {secnd = false})", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "aggregate_by: unknown option secnd") != NULL,
	    "aggregate_by with a misspelt option: %s", run_err.msg);
	o = run_body("return data:aggregate({'age'}, {second = 0})", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "aggregate: option second is a number, not a boolean") != NULL,
	    "aggregate with second not a boolean: %s", run_err.msg);
}

/*
 * Variances far below the scale of the values: 1e9 + {1..6} and 1e9 +
 * {11..16} (number and integer columns, groups a and b). A variance from
 * sums of squares loses every digit here (the squares are near 1e18, one
 * unit in the last place of their sum is 128); the two-pass figures are
 * exact: 3.5 in each group and the variance of {1..6, 11..16} in all.
 */
void
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
	if (pht_dataset_load_mem(csv, len, dict, strlen(dict), "off.csv", &off, &run_err) != PHT_OK) {
		tap_ok(0, "the offset dataset loads: %s", run_err.msg);
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
void
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
	if (pht_dataset_load_mem(csv, len, dict, strlen(dict), "idd.csv", &idd, &run_err) != PHT_OK) {
		tap_ok(0, "the identifier dataset loads: %s", run_err.msg);
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
void
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
	    &run_err) != PHT_OK) {
		tap_ok(0, "the big-integer dataset loads: %s", run_err.msg);
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
