/* test_train_derive_rules.c — what may be aggregated from derived columns: the attacks disclosure control stops and the legitimate uses it lets through. */
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

/* ---- what may be aggregated: the attacks and the legitimate uses ---- */

/*
 * A hospital view of 50 rows (k = 5): one patient aged 30 (row 0, cost
 * 4321.5), the others 31..69; the largest age is 69; `rare` is true for
 * row 7 only; cost2 is cost with row 12 missing.
 */
static struct pht_dataset *
hosp_load(void)
{
	static const char dict[] = "{\"dataset\":\"hosp\",\"description\":\"x\",\"columns\":["
	    "{\"name\":\"age\",\"type\":\"number\"},{\"name\":\"cost\",\"type\":\"number\"},"
	    "{\"name\":\"cost2\",\"type\":\"number\"},"
	    "{\"name\":\"sex\",\"type\":\"category\",\"levels\":[\"F\",\"M\"]},"
	    "{\"name\":\"rare\",\"type\":\"boolean\"}]}";
	struct pht_buf *b = pht_buf_new((size_t)1 << 16);
	struct pht_dataset *d = NULL;
	double cost;
	size_t i;

	pht_buf_puts(b, "age,cost,cost2,sex,rare\n");
	for (i = 0; i < 50; i++) {
		cost = i == 0 ? 4321.5 : 1000 + 37 * (double)i;
		pht_buf_putf(b, "%d,%.1f,", i == 0 ? 30 : 31 + (int)((i - 1) % 39), cost);
		if (i != 12)
			pht_buf_putf(b, "%.1f", cost);
		pht_buf_putf(b, ",%s,%s\n", i % 2 ? "M" : "F", i == 7 ? "true" : "false");
	}
	if (pht_dataset_load_mem(pht_buf_str(b), pht_buf_len(b), dict, strlen(dict), "hosp.csv",
	    &d, &run_err) != PHT_OK)
		d = NULL;
	pht_buf_free(b);
	return d;
}

#define HOSP "local age, cost, sex = data:column('age'), data:column('cost'), " \
    "data:column('sex')\n"

/* Runs body on d and expects the run to end with disclosure control naming want. */
static void
expect_disclosure(const struct pht_dataset *d, const char *body, const char *want,
    const char *what)
{
	char code[2048];
	json_t *o;

	snprintf(code, sizeof(code), HOSP "%s", body);
	o = run_on(d, code);
	tap_ok(o == NULL && run_err.code == PHT_ERR_DISCLOSURE && strstr(run_err.msg, want) != NULL,
	    "%s: refused (%s)", what, o == NULL ? run_err.msg : "ran");
	json_decref(o);
}

/* Runs body on d and expects a catchable error naming want (the train catches it). */
static void
expect_rule(const struct pht_dataset *d, const char *expr, const char *want, const char *what)
{
	char code[2048];
	json_t *o;
	const char *m;

	snprintf(code, sizeof(code), HOSP "local ok, e = pcall(function() return %s end)\n"
	    "return {ok = ok, e = tostring(e)}", expr);
	o = run_on(d, code);
	m = o != NULL ? json_string_value(json_object_get(o, "e")) : NULL;
	tap_ok(o != NULL && json_is_false(json_object_get(o, "ok")) && m != NULL &&
	    strstr(m, want) != NULL, "%s: a catchable error naming the rule (%s)", what,
	    m != NULL ? m : o == NULL ? run_err.msg : "?");
	json_decref(o);
}

void
test_attacks(void)
{
	static const char cell[] = "subset smaller than k (1 rows in one cell of the predicates";
	struct pht_dataset *d = hosp_load();
	struct pht_train_rowsets *rs = NULL;
	json_t *o;

	if (d == NULL) {
		tap_ok(0, "hospital dataset loads: %s", run_err.msg);
		return;
	}
	/* the three attacks of the former known limit */
	expect_disclosure(d, "return (cost * age:eq(30)):sum()", cell,
	    "(cost * age:eq(30)):sum(), the one patient aged 30");
	expect_rule(d, "(cost * ((age - 30) ^ 2 * -50):exp()):sum()",
	    "sum: column <derived> is shape-only (made by exp)",
	    "(cost * ((age - 30) ^ 2 * -50):exp()):sum(), a bump at 30");
	expect_rule(d, "((age - 60) * 50):exp():sum()",
	    "sum: column <derived> is shape-only (made by exp)",
	    "((age - 60) * 50):exp():sum(), a soft maximum");
	/* the indicator through every way of summing */
	expect_disclosure(d, "return (cost * age:eq(30)):mean()", cell, "... :mean()");
	expect_disclosure(d, "return age:eq(30):ifelse(cost, 0):sum()", cell,
	    "age:eq(30):ifelse(cost, 0):sum()");
	expect_disclosure(d, "return (cost * age:eq(30) + age):sum()", cell,
	    "(cost * age:eq(30) + age):sum() (a cell survives addition)");
	expect_disclosure(d, "return data:with{z = cost * age:eq(30)}:aggregate{'z'}", cell,
	    "aggregate{z} of cost * age:eq(30)");
	expect_disclosure(d, "return data:with{z = cost * age:eq(30)}:aggregate_by('sex', {'z'})",
	    cell, "aggregate_by('sex', {z}) of cost * age:eq(30)");
	expect_disclosure(d, "return data:with{is30 = age:eq(30)}:glm_step{family = 'gaussian',\n"
	    "  outcome = 'cost', covariates = {'is30'}}", cell,
	    "glm_step with covariate age:eq(30) (X'y would be that patient's cost)");
	expect_disclosure(d, "return data:with{band = age:cut{0, 30, 100}}:glm_step{\n"
	    "  family = 'gaussian', outcome = 'cost', covariates = {'band'}}", cell,
	    "glm_step with covariate age:cut{0, 30, 100} (level (0,30] holds one patient)");
	expect_disclosure(d, "return (cost * data:column('rare')):sum()", cell,
	    "cost * a dataset boolean true for one row");
	expect_disclosure(d, "return age:eq(30):sum()", cell,
	    "age:eq(30):sum(), a count of 1");
	expect_rule(d, "data:with{z = cost * age:eq(30)}:histogram('z', {0, 5000})",
	    "column z is built from predicates",
	    "a kernel that does not check cells refuses a lineage column");
	expect_rule(d, "data:with{z = ((age - 60) * 50):exp()}:glm_step{family = 'gaussian',\n"
	    "  outcome = 'z', covariates = {'age'}}", "column z is shape-only (made by exp)",
	    "glm_step refuses a shape-only outcome");
	expect_rule(d, "data:with{z = ((age - 60) * 50):exp()}:aggregate{'z'}",
	    "aggregate: column z is shape-only (made by exp)",
	    "aggregate refuses a shape-only column");
	/* degree */
	expect_rule(d, "(cost * cost * age):sum()",
	    "shape-only (made by a product of degree 3 (above 2))", "(cost * cost * age):sum()");
	expect_rule(d, "(((age - 30) ^ 2) ^ 2):sum()",
	    "shape-only (made by a square of degree 4 (above 2))", "((age - 30) ^ 2) ^ 2");
	expect_rule(d, "((age - 30) ^ 2):var()", "var: column <derived> has degree 2",
	    "((age - 30) ^ 2):var(), a sum of degree 4");
	expect_rule(d, "((age - 30) ^ 2):sumsq()", "sumsq: column <derived> has degree 2",
	    "((age - 30) ^ 2):sumsq()");
	expect_rule(d, "(age - 30):abs():sum()", "shape-only (made by abs)", "abs");
	expect_rule(d, "(cost / age):sum()", "shape-only (made by a division by a column)",
	    "a division by a column");
	expect_rule(d, "(age - 29.9):log():sum()", "shape-only (made by log of a derived column)",
	    "log of a derived column (a pole the train places)");
	expect_rule(d, "(2 ^ age):sum()", "shape-only (made by a power with a column as exponent)",
	    "2 ^ age");
	/*
	 * Rounding: adding 2^52 and subtracting it again rounds to integers,
	 * so affine operations alone make a step (1 above t, 0 below).
	 * Aggregates come from the polynomial, where the constants cancel
	 * exactly, so the "indicator" is 0, not the patient aged 30.
	 */
	o = run_on(d, HOSP "local M = 2^52\n"
	    "local function step(t) return ((age - t) * 1e-6 + 0.5 + M) - M end\n"
	    "local ind = step(29.5) - step(30.5)\n"
	    "local big = age / 61 + M\n"
	    "local g = data:with{ind = ind}:glm_step{family = 'gaussian', outcome = 'cost',\n"
	    "  covariates = {'ind'}}\n"
	    "return {c = (cost * ind):sum(), i = ind:sum(), m = data:with{z = cost * ind}:"
	    "aggregate{'z'}.stats.z.sum,\n"
	    "  v = big:var(), va = age:var(), x = g.XtWz[2],\n"
	    "  av = data:with{z = big}:aggregate{'z'}.stats.z.var,\n"
	    "  bv = data:with{z = big}:aggregate_by('sex', {'z'})[1].stats.z.var,\n"
	    "  fv = data:where('sex', '==', 'F'):column('age'):var()}");
	tap_ok(o != NULL && fabs(num(o, "c")) < 1 && fabs(num(o, "i")) < 0.5 &&
	    fabs(num(o, "m")) < 1 && fabs(num(o, "x")) < 1,
	    "rounding: cost * (step(29.5) - step(30.5)) sums to %g, not the cost 4321.5 of the "
	    "patient aged 30 (the step sums to %g; aggregate %g; glm_step's X'y %g)%s%s",
	    num(o, "c"), num(o, "i"), num(o, "m"), num(o, "x"), o == NULL ? ": " : "",
	    o == NULL ? run_err.msg : "");
	/* the rounded values of age / 61 + 2^52 are 2^52 up to age 30, 2^52 + 1 above */
	tap_ok(o != NULL && fabs(num(o, "v") - num(o, "va") / 3721) <= 1e-9 * num(o, "va") &&
	    fabs(num(o, "av") - num(o, "va") / 3721) <= 1e-9 * num(o, "va") &&
	    fabs(num(o, "bv") - num(o, "fv") / 3721) <= 1e-9 * num(o, "fv"),
	    "rounding: var of age / 61 + 2^52 is var(age) / 61^2 = %.10g (got %.10g; aggregate "
	    "%.10g; aggregate_by, F: %.10g for %.10g), not the 0.02 of its rounded values' "
	    "step", num(o, "va") / 3721, num(o, "v"), num(o, "av"), num(o, "bv"),
	    num(o, "fv") / 3721);
	json_decref(o);
	expect_rule(d, "data:with{z = (age - 30.5) * 1e-6 + 0.5 + 2^52}:glm_step{\n"
	    "  family = 'gaussian', outcome = 'cost', covariates = {'z'}}",
	    "column z adds a constant to data values", "a kernel refuses a column with a constant");
	/*
	 * a shape-only column is counted, never compared with a constant:
	 * exp((age - t) * 50) > 1 is age > t at any t the train picks, off
	 * the grid (docs/train-api.md, "Thresholds")
	 */
	o = run_on(d, HOSP "local e = ((age - 60) * 50):exp()\n"
	    "local ok, m = pcall(function() return e:gt(1) end)\n"
	    "return {ok = ok, m = tostring(m), k = e:count()}");
	tap_ok(o != NULL && json_is_false(json_object_get(o, "ok")) &&
	    strstr(json_string_value(json_object_get(o, "m")), "not as a multiple of one plus a "
	    "constant") != NULL && num(o, "k") == 50,
	    "a shape-only column is counted (50) but not compared with a constant%s%s",
	    o == NULL ? ": " : "", o == NULL ? run_err.msg : "");
	json_decref(o);
	/* complete-case differencing: each sum records the rows it sums */
	{
		static const char code[] = "return { name = 'r', version = '1',\n"
		    "station = function(data)\n"
		    "  return data:column('cost'):sum() - data:column('cost2'):sum() end,\n"
		    "combine = function() return {done = true, result = 0} end }\n";
		json_t *out = NULL;
		int r;

		r = pht_train_run_station_rows(code, strlen(code), "r.lua", d, NULL, 1, 1, &lim,
		    &out, &st, &rs, &run_err);
		tap_ok(r == PHT_OK && rs != NULL && pht_train_rowsets_count(rs) == 2 &&
		    pht_train_rowsets_size(rs, 0) == 50 && pht_train_rowsets_size(rs, 1) == 49 &&
		    pht_train_rowsets_symdiff(rs, 0, rs, 1, 5) == 1,
		    "whole-column sum minus complete-case sum: the sets 50 and 49 rows, which "
		    "differ by the dropped patient, both reach the auditor (%s)",
		    r == PHT_OK ? "ok" : run_err.msg);
		json_decref(out);
		pht_train_rowsets_free(rs);
	}
	pht_dataset_free(d);
}

/* 1 when list rs holds exactly the n sets of want (any order). */
static int
holds_sets(const struct pht_train_rowsets *rs, const struct pht_train_rowsets *want)
{
	size_t i, j, n = pht_train_rowsets_count(want);

	if (rs == NULL || pht_train_rowsets_count(rs) != n)
		return 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n && !pht_train_rowsets_equal(rs, j, want, i); j++)
			;
		if (j == n)
			return 0;
	}
	return 1;
}

/* Runs body (a station returning a number or table) and gives its row sets in *rs. */
static json_t *
run_rows_body(const char *body, struct pht_train_rowsets **rs)
{
	char code[4096];
	json_t *out = NULL;

	snprintf(code, sizeof(code), "return { name = 't', version = '1',\n"
	    "station = function(data, params, round)\n" PRELUDE "%s\nend,\n"
	    "combine = function() return {done = true, result = 0} end }\n", body);
	*rs = NULL;
	if (pht_train_run_station_rows(code, strlen(code), "t.lua", ds, NULL, 1, 1, &lim, &out,
	    &st, rs, &run_err) != PHT_OK)
		return NULL;
	return out;
}

void
test_legit(void)
{
	double aff = 0, cross = 0, sq = 0, sq50 = 0, lg = 0, lg2 = 0, fa = 0, sm[2] = {0, 0};
	size_t n_as = 0, n_a = 0, n_old = 0, i;
	uint32_t *rf = calloc(N, sizeof(uint32_t)), *rn = calloc(N, sizeof(uint32_t));
	uint32_t *ro = calloc(N, sizeof(uint32_t)), *ry = calloc(N, sizeof(uint32_t));
	size_t nf = 0, nn = 0, no = 0, ny = 0;
	struct pht_train_rowsets *rs = NULL, *want;
	double lm, var = 0;
	json_t *o;

	for (i = 0; i < N; i++) {
		if (!g.age_miss[i] && !g.stage_miss[i]) {
			n_as++;
			aff += 2 * g.age[i] + (double)g.stage[i] - 3;
			cross += g.age[i] * (double)g.stage[i];
		}
		if (g.sex[i] != 0)
			rn[nn++] = (uint32_t)i;
		if (g.age_miss[i])
			continue;
		n_a++;
		sq += g.age[i] * g.age[i];
		sq50 += (g.age[i] - 50) * (g.age[i] - 50);
		lg += log(g.age[i]);
		if (g.sex[i] == 0) {
			fa += g.age[i];
			rf[nf++] = (uint32_t)i;
			sm[g.smoker[i] != 0] += g.age[i];
		}
		if (g.age[i] > 50) {
			n_old++;
			ro[no++] = (uint32_t)i;
		} else
			ry[ny++] = (uint32_t)i;
	}
	lm = lg / (double)n_a;
	for (i = 0; i < N; i++)
		if (!g.age_miss[i])
			lg2 += (log(g.age[i]) - lm) * (log(g.age[i]) - lm);
	var = lg2 / (double)(n_a - 1);
	o = run_body("return {aff = (a * 2 + s - 3):sum(), cross = (a * s):sum(),\n"
	    "  cm = (a * s):mean(), sq = (a ^ 2):sum(), sq50 = ((a - 50) ^ 2):sum(),\n"
	    "  ssq = a:sumsq(), lg = a:log():sum(), lv = a:log():var()}");
	tap_ok(o != NULL && near(num(o, "aff"), aff) && near(num(o, "cross"), cross) &&
	    near(num(o, "cm"), cross / (double)n_as) && near(num(o, "sq"), sq) &&
	    near(num(o, "sq50"), sq50) && near(num(o, "ssq"), sq) && near(num(o, "lg"), lg) &&
	    near(num(o, "lv"), var),
	    "affine a * 2 + s - 3 (%.10g), cross-product a * s (%.10g, mean), a ^ 2 (= a:sumsq()), "
	    "(a - 50) ^ 2, log(a) (sum %.10g, var %.10g) equal the sums done here%s%s", aff, cross,
	    lg, var, o == NULL ? ": " : "", o == NULL ? run_err.msg : "");
	json_decref(o);
	/* ifelse(sex:eq('F'), age, 0): the F cell and the other cell, each recorded */
	o = run_rows_body("return x:eq('F'):ifelse(a, 0):sum()", &rs);
	want = pht_train_rowsets_new(N);
	pht_train_rowsets_add(want, rf, nf, 0);
	pht_train_rowsets_add(want, rn, nn, 0);
	tap_ok(o != NULL && near(json_number_value(o), fa) && holds_sets(rs, want),
	    "ifelse(sex:eq('F'), age, 0):sum() = %.10g, the row sets recorded are its two cells: "
	    "the F rows with an age (%zu) and the others (%zu)%s%s", fa, nf, nn,
	    o == NULL ? ": " : "", o == NULL ? run_err.msg : "");
	json_decref(o);
	pht_train_rowsets_free(rs);
	pht_train_rowsets_free(want);
	/* a comparison summed: a count whose two cells are recorded */
	o = run_rows_body("return a:gt(50):sum()", &rs);
	want = pht_train_rowsets_new(N);
	pht_train_rowsets_add(want, ro, no, 0);
	pht_train_rowsets_add(want, ry, ny, 0);
	tap_ok(o != NULL && json_integer_value(o) == (json_int_t)n_old && holds_sets(rs, want),
	    "age:gt(50):sum() = %zu; the row sets are its cells, %zu and %zu rows%s%s", n_old, no,
	    ny, o == NULL ? ": " : "", o == NULL ? run_err.msg : "");
	json_decref(o);
	pht_train_rowsets_free(rs);
	pht_train_rowsets_free(want);
	/* over groups of >= k: aggregate_by smoker of ifelse(sex:eq('F'), age, 0) */
	o = run_body("local w = data:with{z = x:eq('F'):ifelse(a, 0)}\n"
	    "local by = w:aggregate_by('smoker', {'z'})\n"
	    "return {f = by[1].stats.z.sum, t = by[2].stats.z.sum}");
	tap_ok(o != NULL && near(num(o, "f"), sm[0]) && near(num(o, "t"), sm[1]),
	    "aggregate_by('smoker') of ifelse(sex:eq('F'), age, 0): %.10g and %.10g%s%s", sm[0],
	    sm[1], o == NULL ? ": " : "", o == NULL ? run_err.msg : "");
	json_decref(o);
	/* degree 2 in aggregate: n, sum, mean; no sumsq, var, sd */
	o = run_body("local t = data:with{a2 = a ^ 2}:aggregate{'a2'}.stats.a2\n"
	    "return {s = t.sum, q = t.sumsq == nil, v = t.var == nil, sd = t.sd == nil}");
	tap_ok(o != NULL && near(num(o, "s"), sq) && json_is_true(json_object_get(o, "q")) &&
	    json_is_true(json_object_get(o, "v")) && json_is_true(json_object_get(o, "sd")),
	    "aggregate of a ^ 2 (degree 2): the sum, and no sumsq, var or sd (degree 4)");
	json_decref(o);
	/* a kernel that checks cells takes a comparison with big cells */
	o = run_body("local d = data:with{old = a:gt(50)}\n"
	    "return d:glm_step{family = 'gaussian', outcome = 'age', covariates = {'old'}}.n");
	tap_ok(o != NULL && json_integer_value(o) == (json_int_t)n_a,
	    "glm_step with covariate age:gt(50) (cells of %zu and %zu rows) runs over %zu rows%s%s",
	    no, ny, n_a, o == NULL ? ": " : "", o == NULL ? run_err.msg : "");
	json_decref(o);
	free(rf);
	free(rn);
	free(ro);
	free(ry);
}
