/* test_train_derive_cut.c — R's cut and recode on derived columns, and data:with{} names in every method (cox_stratum included). */
#include "tap.h"
#include "train_derive_fixture.h"

#include "pht_err.h"
#include "pht_train.h"
#include "pht_train_data.h"
#include "pht_train_lua.h"
#include "pht_train_open.h"
#include "pht_train_rowsets.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- cut and recode ---- */

/* Group counts (key order, then missing) equal to want[0..n-1], want[n] the missing group. */
static int
groups_are(const json_t *gs, const size_t *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (json_integer_value(json_object_get(json_array_get(gs, i), "n")) !=
		    (json_int_t)want[i])
			return 0;
	if (want[n] == 0)
		return json_array_size(gs) == n;
	return json_array_size(gs) == n + 1 &&
	    json_is_true(json_object_get(json_array_get(gs, n), "missing")) &&
	    json_integer_value(json_object_get(json_array_get(gs, n), "n")) == (json_int_t)want[n];
}

void
test_cut(void)
{
	/* R: levels(cut(x, c(...))) for these breaks (right = TRUE, dig.lab = 3) */
	static const char *const bmi[] = {"(0,18.5]", "(18.5,25]", "(25,30]", "(30,1e+03]"};
	static const char *const near_[] = {"(1000,1001]", "(1001,2000]"};
	static const char *const inf[] = {"(-Inf,0.123]", "(0.123,Inf]"};
	static const char *const zero[] = {"(0,1]", "(1,2.5]"};
	static const char *const range[] = {"Range_1", "Range_2"};
	static const char *const st2[] = {"(1,2]", "(2,4]"};
	static const char *const ages[] = {"(20,40]", "(40,60]", "(60,90]"};
	static const char *const lab[] = {"young", "old"};
	size_t cst[3] = {0, 0, 0}, cag[4] = {0, 0, 0, 0}, clab[3] = {0, 0, 0}, i;
	double ab[4] = {20, 40, 60, 90};
	json_t *o;
	size_t j;

	for (i = 0; i < N; i++) {
		/* stage 1 is at the first break: outside (1, 4], as in R */
		if (g.stage_miss[i] || g.stage[i] <= 1)
			cst[2]++;
		else
			cst[g.stage[i] <= 2 ? 0 : 1]++;
		for (j = 0; j < 3; j++)
			if (!g.age_miss[i] && g.age[i] > ab[j] && g.age[i] <= ab[j + 1])
				break;
		cag[j]++;
		if (g.age_miss[i] || !(g.age[i] > 20) || g.age[i] > 90)
			clab[2]++;
		else
			clab[g.age[i] <= 50 ? 0 : 1]++;
	}
	o = run_body("local d = data:with{st = s:cut{1, 2, 4}, ag = a:cut{20, 40, 60, 90},\n"
	    "  yo = a:cut({20, 50, 90}, {'young', 'old'})}\n"
	    "local function counts(name)\n"
	    "  local t = {}\n"
	    "  for _, e in ipairs(d:group_by(name)) do\n"
	    "    t[#t + 1] = {n = e.n, missing = e.missing} end\n"
	    "  return t end\n"
	    "return {bmi = a:cut{0, 18.5, 25, 30, 1000}.levels,\n"
	    "  near = a:cut{1000, 1001, 2000}.levels,\n"
	    "  inf = a:cut{-math.huge, 0.1234567, math.huge}.levels,\n"
	    "  zero = a:cut{-0.0, 1, 2.5}.levels, st2 = d:column('st').levels,\n"
	    "  range = a:cut{1, 1 + 1e-13, 3}.levels,\n"
	    "  ages = d:column('ag').levels, lab = d:column('yo').levels,\n"
	    "  t = d:column('st').type,\n"
	    "  st = counts('st'), ag = counts('ag'), yo = counts('yo')}");
	tap_ok(o != NULL, "cut runs%s%s", o == NULL ? ": " : "", o == NULL ? run_err.msg : "");
	tap_ok(levels_are(json_object_get(o, "bmi"), bmi, 4),
	    "cut labels as R's: (0,18.5] (18.5,25] (25,30] (30,1e+03]");
	tap_ok(levels_are(json_object_get(o, "near"), near_, 2),
	    "breaks that print alike with 3 digits get 4: (1000,1001] (1001,2000]");
	tap_ok(levels_are(json_object_get(o, "inf"), inf, 2), "infinite breaks print as R's Inf");
	tap_ok(levels_are(json_object_get(o, "zero"), zero, 2), "-0 prints as 0 (R's 0 + breaks)");
	tap_ok(levels_are(json_object_get(o, "range"), range, 2),
	    "breaks that print alike even with 12 digits: R's Range_1, Range_2");
	tap_ok(levels_are(json_object_get(o, "st2"), st2, 2) &&
	    levels_are(json_object_get(o, "ages"), ages, 3) &&
	    levels_are(json_object_get(o, "lab"), lab, 2), "levels through with{}, given labels");
	tap_ok(o != NULL && strcmp(json_string_value(json_object_get(o, "t")), "category") == 0,
	    "cut gives a category column");
	tap_ok(groups_are(json_object_get(o, "st"), cst, 2),
	    "stage cut at {1, 2, 4}: 2 in (1,2], 3 and 4 in (2,4], 1 (the lowest break) missing: "
	    "%zu %zu, missing %zu", cst[0], cst[1], cst[2]);
	tap_ok(groups_are(json_object_get(o, "ag"), cag, 3),
	    "age cut at {20, 40, 60, 90}: %zu %zu %zu, missing %zu", cag[0], cag[1], cag[2], cag[3]);
	tap_ok(groups_are(json_object_get(o, "yo"), clab, 2),
	    "age cut with labels: %zu young, %zu old, %zu missing", clab[0], clab[1], clab[2]);
	json_decref(o);
}

void
test_recode(void)
{
	static const char *const m1[] = {"F", "M"};
	static const char *const m2[] = {"female", "male", "X"};
	static const char *const m3[] = {"o", "M"};
	size_t cs[3] = {0, 0, 0}, i, w1[3], w2[4], w3[3];
	json_t *o;

	for (i = 0; i < N; i++)
		cs[g.sex[i]]++;
	w1[0] = cs[0];
	w1[1] = cs[1] + cs[2];
	w1[2] = 0;
	w2[0] = cs[0];
	w2[1] = cs[1];
	w2[2] = cs[2];
	w2[3] = 0;
	w3[0] = cs[0] + cs[2];
	w3[1] = cs[1];
	w3[2] = 0;
	lim.k = 1;      /* X is rare: its group would be suppressed at k = 5 */
	o = run_body("local d = data:with{r1 = x:recode{X = 'M'},\n"
	    "  r2 = x:recode{F = 'female', M = 'male'}, r3 = x:recode{F = 'o', X = 'o'}}\n"
	    "local function counts(name)\n"
	    "  local t = {}\n"
	    "  for _, e in ipairs(d:group_by(name)) do t[#t + 1] = {n = e.n} end\n"
	    "  return t end\n"
	    "return {l1 = d:column('r1').levels, l2 = d:column('r2').levels,\n"
	    "  l3 = d:column('r3').levels, c1 = counts('r1'), c2 = counts('r2'),\n"
	    "  c3 = counts('r3')}");
	lim.k = 5;
	tap_ok(o != NULL && levels_are(json_object_get(o, "l1"), m1, 2) &&
	    groups_are(json_object_get(o, "c1"), w1, 2),
	    "recode{X = 'M'}: levels F, M; M counts M and X (%zu)", w1[1]);
	tap_ok(o != NULL && levels_are(json_object_get(o, "l2"), m2, 3) &&
	    groups_are(json_object_get(o, "c2"), w2, 3), "recode renames in place: female, male, X");
	tap_ok(o != NULL && levels_are(json_object_get(o, "l3"), m3, 2) &&
	    groups_are(json_object_get(o, "c3"), w3, 2),
	    "recode{F = 'o', X = 'o'}: merged at F's place: o (%zu), M", w3[0]);
	json_decref(o);
}

/* ---- data:with{} names in every method ---- */

void
test_with(void)
{
	double sy = 0, sx = 0, sxx = 0, sxy = 0, sold = 0, sum_by[2] = {0, 0}, sf = 0;
	size_t n = 0, nold = 0, nby[2] = {0, 0}, cells[2][2] = {{0, 0}, {0, 0}}, i;
	json_t *o, *x, *w;

	for (i = 0; i < N; i++) {
		double y, lx;

		if (g.age_miss[i])
			continue;
		if (g.age[i] > 50) {
			nold++;
			sold += g.age[i] * 2;
		}
		cells[g.age[i] > 50][g.smoker[i]]++;
		if (g.stage_miss[i])
			continue;
		y = g.age[i] * 2 + (double)g.stage[i];
		lx = log(g.age[i]);
		n++;
		sy += y;
		sx += lx;
		sxx += lx * lx;
		sxy += lx * y;
		nby[g.age[i] > 50]++;
		sum_by[g.age[i] > 50] += y;
		if (g.sex[i] == 0)
			sf += y;
	}
	o = run_body("local d = data:with{y = a * 2 + s, lx = a:log(), old = a:gt(50), age2 = a}\n"
	    "local d2 = d:with{a2 = a * 2}\n"
	    "local by = d:aggregate_by('old', {'y'})\n"
	    "local gl = d:glm_step{family = 'gaussian', outcome = 'y', covariates = {'lx'},\n"
	    "  beta = {0, 0}}\n"
	    "local ct = d2:crosstab('old', 'smoker')\n"
	    "local grp = d:group_by('sex')\n"
	    "local cols = d2:columns()\n"
	    "local dict = d2:dictionary().columns\n"
	    "return {cols = cols, dname = dict[#dict].name, dder = dict[#dict].derived,\n"
	    "  ncols = #data:columns(), wold = d2:where('old', '==', true):column('a2'):sum(),\n"
	    "  wold2 = d2:where(d2:column('old')):column('a2'):sum(),\n"
	    "  agg = d:aggregate({'y'}).stats.y.sum, by = by, ct = ct.counts,\n"
	    "  alias = d:column('age2'):sum() == a:sum() and d:column('age2').name,\n"
	    "  gf = grp[1].data:column('y'):sum(), n = gl.n, XtWX = gl.XtWX, XtWz = gl.XtWz,\n"
	    "  inherited = d:where('sex', '==', 'F'):where('old', 'notnull'):column('y'):count()}");
	tap_ok(o != NULL, "with{} names in every method%s%s", o == NULL ? ": " : "",
	    o == NULL ? run_err.msg : "");
	if (o == NULL)
		return;
	{
		static const char *const want[] = {"id", "age", "sex", "dx", "smoker", "stage",
			"age2", "lx", "old", "y", "a2"};

		tap_ok(levels_are(json_object_get(o, "cols"), want, 11) && num(o, "ncols") == 6,
		    "columns(): the dataset's, then each with{} call's names sorted; the parent "
		    "view unchanged");
	}
	tap_ok(strcmp(json_string_value(json_object_get(o, "dname")), "a2") == 0 &&
	    json_is_true(json_object_get(o, "dder")), "dictionary() lists the names, derived = true");
	tap_ok(near(num(o, "wold"), sold) && near(num(o, "wold2"), sold),
	    "where('old', '==', true) and where(column) on a chained with{} view: sum %g", sold);
	tap_ok(near(num(o, "agg"), sy), "aggregate({'y'}) sum %g", sy);
	tap_ok(json_is_string(json_object_get(o, "alias")) &&
	    strcmp(json_string_value(json_object_get(o, "alias")), "age2") == 0,
	    "a dataset column under a with{} name: the same sum, named age2");
	x = json_object_get(o, "by");
	tap_ok(json_integer_value(json_object_get(json_object_get(json_object_get(
	    json_array_get(x, 0), "stats"), "y"), "n")) == (json_int_t)nby[0] &&
	    near(json_number_value(json_object_get(json_object_get(json_object_get(
	    json_array_get(x, 1), "stats"), "y"), "sum")), sum_by[1]),
	    "aggregate_by('old', {'y'}): n %zu (false), sum %g (true)", nby[0], sum_by[1]);
	x = json_object_get(o, "ct");
	tap_ok(json_integer_value(json_array_get(json_array_get(x, 0), 0)) == (json_int_t)cells[0][0] &&
	    json_integer_value(json_array_get(json_array_get(x, 1), 1)) == (json_int_t)cells[1][1],
	    "crosstab('old', 'smoker') cells %zu, %zu", cells[0][0], cells[1][1]);
	tap_ok(near(num(o, "gf"), sf), "group_by's group views see the names (F: sum y %g)", sf);
	x = json_object_get(o, "XtWX");
	w = json_object_get(o, "XtWz");
	tap_ok(num(o, "n") == (double)n &&
	    near(json_number_value(json_array_get(x, 0)), (double)n) &&
	    near(json_number_value(json_array_get(x, 1)), sx) &&
	    near(json_number_value(json_array_get(x, 3)), sxx) &&
	    near(json_number_value(json_array_get(w, 0)), sy) &&
	    near(json_number_value(json_array_get(w, 1)), sxy),
	    "glm_step (gaussian) with outcome y and covariate lx: n %zu, X'X and X'y", n);
	{
		size_t c = 0;

		for (i = 0; i < N; i++)
			c += g.sex[i] == 0 && !g.age_miss[i] && !g.stage_miss[i];
		tap_ok(num(o, "inherited") == (double)c,
		    "views made by where() from a with{} view keep its names (%zu)", c);
	}
	json_decref(o);
}

/* cox_stratum on with{} names, at beta = 0 with Breslow's ties: the risk sets counted here. */
void
test_with_cox(void)
{
	double t[N], x[N], ll = 0, score = 0;
	int ev[N];
	size_t n = 0, events = 0, i, j;
	json_t *o;

	for (i = 0; i < N; i++) {
		if (g.dx_miss[i] || g.age_miss[i] || g.stage_miss[i])
			continue;
		t[n] = g.age[i] * 2;
		x[n] = (double)g.stage[i] / 10;
		ev[n] = g.dx[i] < d2010;
		n++;
	}
	for (i = 0; i < n; i++) {
		double r = 0, sx = 0;

		if (!ev[i])
			continue;
		events++;
		for (j = 0; j < n; j++)
			if (t[j] >= t[i]) {
				r++;
				sx += x[j];
			}
		ll -= log(r);
		score += x[i] - sx / r;
	}
	o = run_body("local d = data:with{fu = a * 2, ev = dx:lt('2010-01-01'),\n"
	    "  a10 = s / 10}\n"
	    "local c = d:cox_stratum{time = 'fu', event = 'ev', covariates = {'a10'},\n"
	    "  beta = {0}, ties = 'breslow'}\n"
	    "return {n = c.n, events = c.events, loglik = c.loglik, score = c.score[1]}");
	tap_ok(o != NULL && num(o, "n") == (double)n && num(o, "events") == (double)events &&
	    near(num(o, "loglik"), ll) && near(num(o, "score"), score),
	    "cox_stratum with time, event and covariate named by with{}: n %zu, %zu events, "
	    "log partial likelihood %.10g and score %.10g at beta 0%s%s", n, events, ll, score,
	    o == NULL ? ": " : "", o == NULL ? run_err.msg : "");
	json_decref(o);
	/* a kernel reads rounded values: no constant added to the data */
	o = run_body("local d = data:with{fu = (dx - '2000-01-01') / 365, ev = a:gt(50)}\n"
	    "local ok, e = pcall(d.cox_stratum, d, {time = 'fu', event = 'ev',\n"
	    "  covariates = {'age'}, beta = {0}})\n"
	    "return tostring(e)");
	tap_ok(o != NULL && json_string_value(o) != NULL &&
	    strstr(json_string_value(o), "column fu adds a constant to data values") != NULL,
	    "cox_stratum refuses time = (dx - '2000-01-01') / 365 (a constant added): %s",
	    o != NULL && json_string_value(o) != NULL ? json_string_value(o) : run_err.msg);
	json_decref(o);
}
