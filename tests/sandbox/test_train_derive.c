/* test_train_derive.c — derived columns and data:with{}: every operator and function against the same computation done here on the generator's arrays, missing cells, R's cut, errors, the memory cap, with{} names in every method. */
#include "tap.h"
#include "sandbox_gen.h"

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

#define N 1000

static struct gen g;
static struct pht_dataset *ds;
static struct pht_limits lim;
static struct pht_run_stats st;
static struct pht_err err;

/* The locals every train body starts with. */
#define PRELUDE "local a, s, x, dx, k, id = data:column('age'), data:column('stage'),\n" \
    "  data:column('sex'), data:column('dx'), data:column('smoker'), data:column('id')\n"

static json_t *
run_on(const struct pht_dataset *d, const char *body)
{
	char code[16384];
	json_t *out = NULL;

	/* the prelude's columns are the generator's */
	snprintf(code, sizeof(code), "return { name = 't', version = '1',\n"
	    "station = function(data, params, round)\n%s%s\nend,\n"
	    "combine = function() return {done = true, result = 0} end }\n",
	    d == ds ? PRELUDE : "", body);
	if (pht_train_run_station(code, strlen(code), "t.lua", d, NULL, 1, 1, &lim,
	    &out, &st, &err) != PHT_OK)
		return NULL;
	return out;
}

static json_t *
run_body(const char *body)
{
	return run_on(ds, body);
}

static double
num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static int
near(double got, double want)
{
	return fabs(got - want) <= 1e-9 * (fabs(want) > 1 ? fabs(want) : 1);
}

/* ---- the expectations, computed from the generator's arrays ---- */

/* One cell of an expected column: missing or a value. */
struct cell {
	int miss;
	double v;
};

static struct cell
mk(int miss, double v)
{
	struct cell c;

	c.miss = miss || !isfinite(v);
	c.v = c.miss ? 0 : v;
	return c;
}

static struct cell
age(size_t i)
{
	return mk(g.age_miss[i], g.age[i]);
}

static struct cell
stage(size_t i)
{
	return mk(g.stage_miss[i], (double)g.stage[i]);
}

static struct cell
dxc(size_t i)
{
	return mk(g.dx_miss[i], (double)g.dx[i]);
}

static int64_t d2010, d2015;
static double age0;     /* the age of the first row that has one */

/* Kleene's three-valued logic on cells holding 0/1. */
static struct cell
kand(struct cell a, struct cell b)
{
	if ((!a.miss && a.v == 0) || (!b.miss && b.v == 0))
		return mk(0, 0);
	return a.miss || b.miss ? mk(1, 0) : mk(0, 1);
}

static struct cell
kor(struct cell a, struct cell b)
{
	if ((!a.miss && a.v == 1) || (!b.miss && b.v == 1))
		return mk(0, 1);
	return a.miss || b.miss ? mk(1, 0) : mk(0, 0);
}

static struct cell
cmpc(struct cell a, int (*f)(double, double), double y)
{
	return a.miss ? mk(1, 0) : mk(0, f(a.v, y));
}

static int f_lt(double x, double y) { return x < y; }
static int f_le(double x, double y) { return x <= y; }
static int f_gt(double x, double y) { return x > y; }
static int f_ge(double x, double y) { return x >= y; }
static int f_eq(double x, double y) { return x == y; }
static int f_ne(double x, double y) { return x != y; }

static struct cell
bin(struct cell a, struct cell b, double (*f)(double, double))
{
	return a.miss || b.miss ? mk(1, 0) : mk(0, f(a.v, b.v));
}

static double o_add(double x, double y) { return x + y; }
static double o_sub(double x, double y) { return x - y; }
static double o_mul(double x, double y) { return x * y; }
static double o_div(double x, double y) { return x / y; }

static struct cell
num_c(double v)
{
	return mk(0, v);
}

/*
 * The cases: a Lua expression over the prelude's locals, its value at row
 * i, and what col:sum() does on it: AGG sums, SHAPE raises the shape-only
 * rule (exp, abs, a division by a column, a power other than 1 or 2, log
 * or sqrt of a derived column), SMALL is aggregatable but one of its cells
 * has fewer than k rows (summing it ends the run: test_lineage).
 */
enum { AGG, SHAPE, SMALL };

struct xcase {
	const char *expr;
	struct cell (*f)(size_t i);
	int agg;
};

static struct cell e_add(size_t i) { return bin(age(i), stage(i), o_add); }
static struct cell e_subc(size_t i) { return bin(age(i), num_c(2.5), o_sub); }
static struct cell e_mul(size_t i) { return bin(num_c(3), age(i), o_mul); }
static struct cell e_div(size_t i) { return bin(age(i), stage(i), o_div); }
static struct cell e_div0(size_t i) { return bin(stage(i), bin(stage(i), num_c(2), o_sub), o_div); }
static struct cell e_pow(size_t i) { return age(i).miss ? age(i) : mk(0, pow(g.age[i], 0.5)); }
static struct cell e_pownan(size_t i) { return age(i).miss ? age(i) : mk(0, pow(g.age[i] - 50, 0.5)); }
static struct cell e_unm(size_t i) { return age(i).miss ? age(i) : mk(0, -g.age[i]); }
static struct cell e_bool(size_t i) { return bin(num_c(g.smoker[i]), age(i), o_add); }
static struct cell e_unmb(size_t i) { return mk(0, -(double)g.smoker[i]); }
static struct cell e_log(size_t i) { return age(i).miss ? age(i) : mk(0, log(g.age[i])); }
static struct cell e_log40(size_t i) { return age(i).miss ? age(i) : mk(0, log(g.age[i] - 40)); }
static struct cell e_exp(size_t i) { return age(i).miss ? age(i) : mk(0, exp(g.age[i] / 10)); }
static struct cell e_sqrt(size_t i) { return age(i).miss ? age(i) : mk(0, sqrt(g.age[i] - 45)); }
static struct cell e_abs(size_t i) { return age(i).miss ? age(i) : mk(0, fabs(g.age[i] - 45)); }
static struct cell e_inf(size_t i) { return age(i).miss ? age(i) : mk(0, g.age[i] * 1e308 * 10); }
static struct cell e_ints(size_t i) { return bin(num_c((double)(i + 1)), stage(i), o_sub); }
static struct cell e_dsub(size_t i) { return bin(dxc(i), num_c((double)d2010), o_sub); }
static struct cell e_dsubr(size_t i) { return bin(num_c((double)d2010), dxc(i), o_sub); }
static struct cell e_chain(size_t i)
{
	return bin(bin(age(i), num_c(2), o_mul), bin(stage(i), num_c(1), o_add), o_div);
}
static struct cell e_ife(size_t i)
{
	struct cell c = cmpc(age(i), f_gt, 50);

	return c.miss ? c : (c.v ? age(i) : stage(i));
}
static struct cell e_ifk(size_t i) { return mk(0, g.smoker[i] ? 1 : 0.5); }
static struct cell e_ifs(size_t i)
{
	struct cell c = cmpc(age(i), f_lt, 30);

	return c.miss ? c : (c.v ? age(i) : mk(0, -1));
}
static struct cell e_lt(size_t i) { return cmpc(age(i), f_lt, 40); }
static struct cell e_le(size_t i) { return cmpc(age(i), f_le, 30.5); }
static struct cell e_gt(size_t i) { return cmpc(age(i), f_gt, 50); }
static struct cell e_ge(size_t i) { return cmpc(age(i), f_ge, 60); }
static struct cell e_eq(size_t i) { return cmpc(age(i), f_eq, age0); }
static struct cell e_ne(size_t i) { return cmpc(age(i), f_ne, age0); }
static struct cell e_seq(size_t i) { return cmpc(stage(i), f_eq, 2); }
static struct cell e_sne(size_t i) { return cmpc(stage(i), f_ne, 2); }
static struct cell e_sgt(size_t i) { return cmpc(stage(i), f_gt, 2.5); }
static struct cell e_sge(size_t i) { return cmpc(stage(i), f_ge, 3); }
static struct cell e_colcol(size_t i)
{
	return age(i).miss ? mk(1, 0) : mk(0, g.age[i] < (double)(i + 1));
}
static struct cell e_intint(size_t i)
{
	return stage(i).miss ? mk(1, 0) : mk(0, g.stage[i] >= (int64_t)(i + 1));
}
static struct cell e_xeq(size_t i) { return mk(0, g.sex[i] == 1); }
static struct cell e_xne(size_t i) { return mk(0, g.sex[i] != 0); }
static struct cell e_xrec(size_t i) { return mk(0, g.sex[i] != 2); }
static struct cell e_dlt(size_t i) { return cmpc(dxc(i), f_lt, (double)d2010); }
static struct cell e_dge(size_t i) { return cmpc(dxc(i), f_ge, (double)d2015); }
static struct cell e_deq(size_t i) { return dxc(i).miss ? mk(1, 0) : mk(0, 1); }
static struct cell e_keq(size_t i) { return mk(0, g.smoker[i]); }
static struct cell e_kne(size_t i) { return mk(0, g.smoker[i]); }
static struct cell e_ami(size_t i) { return mk(0, g.age_miss[i]); }
static struct cell e_dmi(size_t i) { return mk(0, g.dx_miss[i]); }
static struct cell e_xmi(size_t i) { (void)i; return mk(0, 0); }
static struct cell e_and(size_t i) { return kand(cmpc(age(i), f_gt, 50), mk(0, g.smoker[i])); }
static struct cell e_or(size_t i) { return kor(cmpc(age(i), f_gt, 50), mk(0, g.smoker[i])); }
static struct cell e_notk(size_t i) { return mk(0, !g.smoker[i]); }
static struct cell e_not(size_t i)
{
	struct cell c = cmpc(age(i), f_gt, 50);

	return c.miss ? c : mk(0, !c.v);
}
static struct cell e_andt(size_t i) { return cmpc(age(i), f_gt, 50); }
static struct cell e_orf(size_t i) { return cmpc(age(i), f_gt, 50); }
static struct cell e_kand(size_t i)
{
	return kand(cmpc(age(i), f_gt, 50), cmpc(dxc(i), f_lt, (double)d2010));
}
static struct cell e_kor(size_t i)
{
	return kor(cmpc(age(i), f_gt, 50), cmpc(dxc(i), f_lt, (double)d2010));
}

static const struct xcase cases[] = {
	{"a + s", e_add, AGG}, {"a - 2.5", e_subc, AGG}, {"3 * a", e_mul, AGG},
	{"a / s", e_div, SHAPE}, {"s / (s - 2)", e_div0, SHAPE}, {"a ^ 0.5", e_pow, SHAPE},
	{"(a - 50) ^ 0.5", e_pownan, SHAPE}, {"-a", e_unm, AGG}, {"k + a", e_bool, AGG},
	{"-k", e_unmb, AGG}, {"a:log()", e_log, AGG}, {"(a - 40):log()", e_log40, SHAPE},
	{"(a / 10):exp()", e_exp, SHAPE}, {"(a - 45):sqrt()", e_sqrt, SHAPE},
	{"(a - 45):abs()", e_abs, SHAPE}, {"a * 1e308 * 10", e_inf, AGG},
	{"id - s", e_ints, AGG}, {"dx - '2010-01-01'", e_dsub, AGG},
	{"'2010-01-01' - dx", e_dsubr, AGG}, {"a * 2 / (s + 1)", e_chain, SHAPE},
	{"a:gt(50):ifelse(a, s)", e_ife, AGG}, {"k:ifelse(1, 0.5)", e_ifk, AGG},
	{"a:lt(30):ifelse(a, -1)", e_ifs, AGG}, {"a:lt(40)", e_lt, AGG},
	{"a:le(30.5)", e_le, AGG}, {"a:gt(50)", e_gt, AGG}, {"a:ge(60)", e_ge, AGG},
	{"a:eq(AGE0)", e_eq, SMALL}, {"a:ne(AGE0)", e_ne, SMALL}, {"s:eq(2)", e_seq, AGG},
	{"s:ne(2)", e_sne, AGG}, {"s:gt(2.5)", e_sgt, AGG}, {"s:ge(3)", e_sge, AGG},
	{"a:lt(id)", e_colcol, AGG}, {"s:ge(id)", e_intint, SMALL},
	{"x:eq('M')", e_xeq, AGG}, {"x:ne('F')", e_xne, AGG},
	{"x:eq(x:recode{X = 'M'})", e_xrec, AGG}, {"dx:lt('2010-01-01')", e_dlt, AGG},
	{"dx:ge('2015-06-30')", e_dge, AGG}, {"dx:eq(dx)", e_deq, AGG},
	{"k:eq(true)", e_keq, AGG}, {"k:ne(false)", e_kne, AGG}, {"a:is_missing()", e_ami, AGG},
	{"dx:is_missing()", e_dmi, AGG}, {"x:is_missing()", e_xmi, AGG},
	{"a:gt(50) & k", e_and, AGG}, {"a:gt(50) | k", e_or, AGG}, {"~k", e_notk, AGG},
	{"~a:gt(50)", e_not, AGG}, {"a:gt(50) & true", e_andt, AGG},
	{"false | a:gt(50)", e_orf, AGG}, {"a:gt(50) & dx:lt('2010-01-01')", e_kand, AGG},
	{"a:gt(50) | dx:lt('2010-01-01')", e_kor, AGG},
};

/* Replaces AGE0 in expr with the exact first age. */
static void
expand(const char *expr, char *out, size_t len)
{
	const char *p = strstr(expr, "AGE0");

	if (p == NULL)
		snprintf(out, len, "%s", expr);
	else
		snprintf(out, len, "%.*s%.17g%s", (int)(p - expr), expr, age0, p + 4);
}

/*
 * Each case's count and sum over all rows and over the F rows, against the
 * same computation here. The values are read with row access (a steward's
 * run, col:values()), so that shape-only columns are checked too; then
 * col:sum() must give the same sum (AGG) or raise the shape-only rule
 * (SHAPE).
 */
static void
test_cases(void)
{
	char body[2048], e[256];
	size_t c, i;

	lim.row_access = 1;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t n = 0, nf = 0;
		double sum = 0, sumf = 0;
		json_t *o;
		int agg = cases[c].agg;

		for (i = 0; i < N; i++) {
			struct cell v = cases[c].f(i);

			if (v.miss)
				continue;
			n++;
			sum += v.v;
			if (g.sex[i] == 0) {
				nf++;
				sumf += v.v;
			}
		}
		expand(cases[c].expr, e, sizeof(e));
		/*
		 * The column over all rows, and the same expression with every
		 * column taken from the view of the F rows: the handle is bound
		 * to that view, so count and sum are over those rows only.
		 */
		snprintf(body, sizeof(body), "local function tot(c)\n"
		    "  local v, s = c:values(), 0\n"
		    "  for i = 1, #c do\n"
		    "    local y = v[i]\n"
		    "    if y ~= nil then s = s + (y == true and 1 or y == false and 0 or y) end\n"
		    "  end\n"
		    "  local ok, cs = %s\n"
		    "  return s, ok, cs\n"
		    "end\n"
		    "local c = %s\n"
		    "local s, ok, cs = tot(c)\n"
		    "local all = {n = c:count(), s = s, ok = ok, cs = cs, t = c.type, nm = c.name}\n"
		    "data = data:where('sex', '==', 'F')\n" PRELUDE
		    "local f = %s\n"
		    "local fs, fok, fcs = tot(f)\n"
		    "return {n = all.n, s = all.s, ok = all.ok, cs = all.cs, t = all.t, nm = all.nm,\n"
		    "  fn = f:count(), fs = fs, fok = fok, fcs = fcs}",
		    agg == SMALL ? "false, 'not summed'" : "pcall(c.sum, c)", e, e);
		o = run_body(body);
		tap_ok(o != NULL && num(o, "n") == (double)n && near(num(o, "s"), sum) &&
		    num(o, "fn") == (double)nf && near(num(o, "fs"), sumf),
		    "%s: count %zu, sum %.10g; over the F rows %zu, %.10g (got %g, %.10g; %g, "
		    "%.10g)%s%s", e, n, sum, nf, sumf, num(o, "n"), num(o, "s"), num(o, "fn"),
		    num(o, "fs"), o == NULL ? ": " : "", o == NULL ? err.msg : "");
		if (o != NULL && agg == AGG)
			tap_ok(json_is_true(json_object_get(o, "ok")) && near(num(o, "cs"), sum) &&
			    json_is_true(json_object_get(o, "fok")) && near(num(o, "fcs"), sumf),
			    "%s is aggregatable: col:sum() gives the same sums", e);
		else if (o != NULL && agg == SHAPE) {
			const char *m = json_string_value(json_object_get(o, "cs"));

			tap_ok(json_is_false(json_object_get(o, "ok")) && m != NULL &&
			    strstr(m, "sum: column <derived> is shape-only (made by ") != NULL,
			    "%s is shape-only: col:sum() raises the rule: %s", e,
			    m != NULL ? m : "?");
		}
		if (o != NULL && c == 0)
			tap_ok(strcmp(json_string_value(json_object_get(o, "t")), "number") == 0 &&
			    strcmp(json_string_value(json_object_get(o, "nm")), "<derived>") == 0,
			    "a derived column is a number column named <derived>");
		json_decref(o);
	}
	lim.row_access = 0;
}

/* The left operand's view: a scalar on the left binds to the column on the right. */
static void
test_binding(void)
{
	double sf = 0, sm = 0;
	size_t nf = 0, nm = 0, i;
	json_t *o;

	for (i = 0; i < N; i++) {
		if (g.sex[i] == 0 && !g.age_miss[i] && !g.stage_miss[i]) {
			nf++;
			sf += g.age[i] + (double)g.stage[i];
		}
		if (g.sex[i] == 1 && !g.age_miss[i]) {
			nm++;
			sm += 1 + g.age[i];
		}
	}
	o = run_body("local f = data:where('sex', '==', 'F'):column('age') + s\n"
	    "local m = 1 + data:where('sex', '==', 'M'):column('age')\n"
	    "return {nf = f:count(), sf = f:sum(), nm = m:count(), sm = m:sum(), len = #m}");
	tap_ok(o != NULL && num(o, "nf") == (double)nf && near(num(o, "sf"), sf) &&
	    num(o, "nm") == (double)nm && near(num(o, "sm"), sm),
	    "F-view age + whole stage is over the F rows (%zu); 1 + M-view age over the M rows "
	    "(%zu)", nf, nm);
	json_decref(o);
}

/*
 * The row set behind an aggregate of a derived column: its view's rows
 * where the column is not missing (the rows actually summed).
 */
static void
test_rowsets(void)
{
	static const char code[] = "return { name = 'r', version = '1',\n"
	    "station = function(data)\n"
	    "  local v = data:where('id', '<=', 100)\n"
	    "  return (v:column('age') * 2 + data:column('stage')):sum() end,\n"
	    "combine = function() return {done = true, result = 0} end }\n";
	struct pht_train_rowsets *rs = NULL, *want = pht_train_rowsets_new(N);
	uint32_t rows[100];
	json_t *out = NULL;
	size_t i, n = 0;
	int r;

	for (i = 0; i < 100; i++)
		if (!g.age_miss[i] && !g.stage_miss[i])
			rows[n++] = (uint32_t)i;
	pht_train_rowsets_add(want, rows, n, 0);
	r = pht_train_run_station_rows(code, strlen(code), "r.lua", ds, NULL, 1, 1, &lim,
	    &out, &st, &rs, &err);
	tap_ok(r == PHT_OK && rs != NULL && pht_train_rowsets_count(rs) == 1 && n < 100 &&
	    pht_train_rowsets_equal(rs, 0, want, 0),
	    "the sum of a derived column records the rows of its view where it is not missing "
	    "(one set of %zu of the 100): %s", n, r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
	pht_train_rowsets_free(rs);
	pht_train_rowsets_free(want);
}

/* ---- cut and recode ---- */

static int
levels_are(const json_t *a, const char *const *want, size_t n)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(json_string_value(json_array_get(a, i)), want[i]) != 0)
			return 0;
	return 1;
}

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

static void
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
	tap_ok(o != NULL, "cut runs%s%s", o == NULL ? ": " : "", o == NULL ? err.msg : "");
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

static void
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

static void
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
	    o == NULL ? err.msg : "");
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
static void
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
	    o == NULL ? ": " : "", o == NULL ? err.msg : "");
	json_decref(o);
	/* a kernel reads rounded values: no constant added to the data */
	o = run_body("local d = data:with{fu = (dx - '2000-01-01') / 365, ev = a:gt(50)}\n"
	    "local ok, e = pcall(d.cox_stratum, d, {time = 'fu', event = 'ev',\n"
	    "  covariates = {'age'}, beta = {0}})\n"
	    "return tostring(e)");
	tap_ok(o != NULL && json_string_value(o) != NULL &&
	    strstr(json_string_value(o), "column fu adds a constant to data values") != NULL,
	    "cox_stratum refuses time = (dx - '2000-01-01') / 365 (a constant added): %s",
	    o != NULL && json_string_value(o) != NULL ? json_string_value(o) : err.msg);
	json_decref(o);
}

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
	    &d, &err) != PHT_OK)
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
	tap_ok(o == NULL && err.code == PHT_ERR_DISCLOSURE && strstr(err.msg, want) != NULL,
	    "%s: refused (%s)", what, o == NULL ? err.msg : "ran");
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
	    m != NULL ? m : o == NULL ? err.msg : "?");
	json_decref(o);
}

static void
test_attacks(void)
{
	static const char cell[] = "subset smaller than k (1 rows in one cell of the predicates";
	struct pht_dataset *d = hosp_load();
	struct pht_train_rowsets *rs = NULL;
	json_t *o;

	if (d == NULL) {
		tap_ok(0, "hospital dataset loads: %s", err.msg);
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
	    o == NULL ? err.msg : "");
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
	    o == NULL ? ": " : "", o == NULL ? err.msg : "");
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
		    &out, &st, &rs, &err);
		tap_ok(r == PHT_OK && rs != NULL && pht_train_rowsets_count(rs) == 2 &&
		    pht_train_rowsets_size(rs, 0) == 50 && pht_train_rowsets_size(rs, 1) == 49 &&
		    pht_train_rowsets_symdiff(rs, 0, rs, 1, 5) == 1,
		    "whole-column sum minus complete-case sum: the sets 50 and 49 rows, which "
		    "differ by the dropped patient, both reach the auditor (%s)",
		    r == PHT_OK ? "ok" : err.msg);
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
	    &st, rs, &err) != PHT_OK)
		return NULL;
	return out;
}

static void
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
	    lg, var, o == NULL ? ": " : "", o == NULL ? err.msg : "");
	json_decref(o);
	/* ifelse(sex:eq('F'), age, 0): the F cell and the other cell, each recorded */
	o = run_rows_body("return x:eq('F'):ifelse(a, 0):sum()", &rs);
	want = pht_train_rowsets_new(N);
	pht_train_rowsets_add(want, rf, nf, 0);
	pht_train_rowsets_add(want, rn, nn, 0);
	tap_ok(o != NULL && near(json_number_value(o), fa) && holds_sets(rs, want),
	    "ifelse(sex:eq('F'), age, 0):sum() = %.10g, the row sets recorded are its two cells: "
	    "the F rows with an age (%zu) and the others (%zu)%s%s", fa, nf, nn,
	    o == NULL ? ": " : "", o == NULL ? err.msg : "");
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
	    ny, o == NULL ? ": " : "", o == NULL ? err.msg : "");
	json_decref(o);
	pht_train_rowsets_free(rs);
	pht_train_rowsets_free(want);
	/* over groups of >= k: aggregate_by smoker of ifelse(sex:eq('F'), age, 0) */
	o = run_body("local w = data:with{z = x:eq('F'):ifelse(a, 0)}\n"
	    "local by = w:aggregate_by('smoker', {'z'})\n"
	    "return {f = by[1].stats.z.sum, t = by[2].stats.z.sum}");
	tap_ok(o != NULL && near(num(o, "f"), sm[0]) && near(num(o, "t"), sm[1]),
	    "aggregate_by('smoker') of ifelse(sex:eq('F'), age, 0): %.10g and %.10g%s%s", sm[0],
	    sm[1], o == NULL ? ": " : "", o == NULL ? err.msg : "");
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
	    no, ny, n_a, o == NULL ? ": " : "", o == NULL ? err.msg : "");
	json_decref(o);
	free(rf);
	free(rn);
	free(ro);
	free(ry);
}

/* ---- errors ---- */

struct ecase {
	const char *body;
	const char *msg;
};

static const struct ecase errors[] = {
	{"return x + 1", "+: column sex is a category column, not numeric"},
	{"return dx + 1", "+: column dx is a date column: only date - date (days)"},
	{"return dx - 1", "-: column dx is a date column: only date - date (days)"},
	{"return a + 'z'", "+: expected a column or a number, got string"},
	{"return dx - '2010-02-30'", "-: '2010-02-30' is not a date YYYY-MM-DD"},
	{"return x:lt('F')", "lt: not defined for category column sex (only eq and ne)"},
	{"return k:gt(true)", "gt: not defined for boolean column smoker (only eq and ne)"},
	{"return x:eq('Q')", "eq: column sex has no level 'Q'"},
	{"return a:eq('M')", "eq: column age (number) cannot be compared with a string value"},
	{"return a:lt(0/0)", "lt: cannot compare column age with NaN"},
	{"return a:lt(x)", "lt: cannot compare number column age with category column sex"},
	{"return a:eq(k)", "eq: cannot compare number column age with boolean column smoker"},
	{"return dx:lt('2010-13-01')", "lt: '2010-13-01' is not a date YYYY-MM-DD (column dx)"},
	{"return k:eq(1)", "eq: column smoker (boolean) cannot be compared with a number value"},
	{"return a & k", "&: column age is a number column, not boolean"},
	{"return k | 1", "|: expected a boolean column or a boolean, got number"},
	{"return ~x", "~: column sex is a category column, not boolean"},
	{"return x:log()", "log: column sex is a category column, not numeric"},
	{"return a:ifelse(1, 2)", "ifelse: the condition must be a boolean column"},
	{"return k:ifelse(x, 1)", "ifelse: argument #1 must be a numeric column or a number, not category"},
	{"return k:ifelse(1, 'a')", "ifelse: argument #2 must be a numeric column or a number, not string"},
	{"return a:cut{3, 2}", "cut: breaks must be strictly ascending numbers (breaks[2])"},
	{"return a:cut{1, 1}", "cut: breaks must be strictly ascending numbers (breaks[2])"},
	{"return a:cut{1}", "cut: breaks must be a sequence of 2 to 256 numbers"},
	{"local b = {} for i = 1, 257 do b[i] = i end return a:cut(b)",
	    "cut: breaks must be a sequence of 2 to 256 numbers"},
	{"return a:cut({1, 2, 3}, {'a'})", "cut: 3 breaks make 2 intervals, but 1 labels were given"},
	{"return a:cut({1, 2, 3}, {'a', 'a'})", "cut: label 'a' given twice"},
	{"return a:cut{1, 'x'}", "cut: breaks[2] is a string, not a number"},
	{"return x:cut{1, 2}", "cut: expected a number or integer column"},
	{"return x:recode{Q = 'M'}", "recode: column sex has no level 'Q'"},
	{"return x:recode{F = 1}", "recode: the new name of level 'F' is a number, not a string"},
	{"return a:recode{F = 'M'}", "recode: expected a category column"},
	{"return data:with{age = a + 1}", "with: 'age' is already a column of dataset reg"},
	{"return data:with{z = a}:with{z = s}", "with: 'z' is already a column of dataset reg"},
	{"return data:with{['1z'] = a}", "with: '1z' is not a valid name"},
	{"return data:with{['a b'] = a}", "with: 'a b' is not a valid name"},
	{"return data:with{z = 1}", "with: z must be a column, not number"},
	{"local t = {}\nfor i = 1, 257 do t['c' .. i] = a end\nreturn data:with(t)",
	    "with: more than 256 names"},
	{"local w = data\nfor i = 1, 257 do w = w:with{['c' .. i] = a} end\nreturn 1",
	    "with: more than 256 names"},
	{"return data:with{z = a}, data:column('z')", "no column 'z' in dataset reg"},
	{"return data:where(a)", "where: column age is a number column, not boolean"},
	{"return data:where(a:lt(30) + 1)", "where: column <derived> is a number column, not boolean"},
};

static void
test_errors(void)
{
	size_t i;
	json_t *o;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		o = run_body(errors[i].body);
		tap_ok(o == NULL && err.code == PHT_ERR_TRAIN && strstr(err.msg, errors[i].msg) != NULL,
		    "%s: %s", errors[i].body, o == NULL ? err.msg : "(ran)");
		json_decref(o);
	}
	/* an error is an ordinary Lua error: the train can catch it */
	o = run_body("local ok, e = pcall(function() return x + 1 end)\n"
	    "return {ok = ok, caught = e ~= nil}");
	tap_ok(o != NULL && json_is_false(json_object_get(o, "ok")) &&
	    json_is_true(json_object_get(o, "caught")), "a derived-column error can be caught");
	json_decref(o);
	/* the k guard: a derived column over a view of 4 rows */
	o = run_body("return (data:where('id', '<=', 4):column('age') + 1):sum()");
	tap_ok(o == NULL && err.code == PHT_ERR_DISCLOSURE &&
	    strstr(err.msg, "subset smaller than k (4 rows, k = 5)") != NULL,
	    "the k guard on a derived column's view: %s", err.msg);
	json_decref(o);
	{
		size_t n80 = 0;

		for (i = 0; i < N; i++)
			n80 += !g.age_miss[i] && g.age[i] > 80;
		o = run_body("local c = a:gt(80):ifelse(1, 0 / 0)\n"
		    "return {n = c:count(), s = c:sum()}");
		tap_ok(o != NULL && num(o, "n") == (double)n80 && num(o, "s") == (double)n80,
		    "ifelse(1, 0/0): a NaN branch gives missing cells (n = sum = %zu)", n80);
		json_decref(o);
	}
}

/* Two datasets in one state (only possible from C): operands from both are refused. */
static void
test_two_datasets(void)
{
	struct pht_train_ctx ctx;
	struct pht_dataset *other = NULL;
	lua_State *L = NULL;
	static const char chunk[] = "local A, B = ...\n"
	    "local ok, e = pcall(function() return A:column('age') + B:column('age') end)\n"
	    "local ok2, e2 = pcall(function() return A:with{z = B:column('age')} end)\n"
	    "local ok3, e3 = pcall(function() return A:where(B:column('smoker')) end)\n"
	    "return tostring(e) .. '|' .. tostring(e2) .. '|' .. tostring(e3)";
	const char *msg;

	if (gen_load(&g, &other, &err) != PHT_OK ||
	    pht_train_ctx_init(&ctx, &lim, ds) != PHT_OK) {
		tap_ok(0, "a second copy of the dataset loads");
		pht_dataset_free(other);
		return;
	}
	L = pht_train_lua_new(&ctx, 1);
	if (L == NULL || luaL_loadstring(L, chunk) != LUA_OK) {
		tap_ok(0, "state and chunk");
		goto out;
	}
	pht_train_open_data(L, ds);
	pht_train_open_data(L, other);
	if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
		tap_ok(0, "chunk runs: %s", lua_tostring(L, -1));
		goto out;
	}
	msg = lua_tostring(L, -1);
	tap_ok(msg != NULL && strstr(msg, "+: columns age and age are from views over different "
	    "datasets") != NULL && strstr(msg, "with: column z is from a view over another "
	    "dataset") != NULL && strstr(msg, "where: column smoker is from another dataset") != NULL,
	    "operands, with{} and where() across datasets are refused: %s", msg);
out:
	if (L != NULL)
		lua_close(L);
	pht_train_ctx_clear(&ctx);
	pht_dataset_free(other);
}

/* Derived arrays live in the Lua heap: a big dataset under a small cap. */
static void
test_memory(void)
{
	struct pht_dataset *big = NULL;
	struct pht_buf *b = pht_buf_new((size_t)16 << 20);
	static const char dict[] = "{\"dataset\":\"big\",\"description\":\"x\",\"columns\":["
	    "{\"name\":\"x\",\"type\":\"number\"}]}";
	const size_t rows = 400000;
	size_t i;
	json_t *o;

	pht_buf_puts(b, "x\n");
	for (i = 0; i < rows; i++)
		pht_buf_putf(b, "%zu.5\n", i % 1000);
	if (pht_dataset_load_mem(pht_buf_str(b), pht_buf_len(b), dict, strlen(dict), "big.csv",
	    &big, &err) != PHT_OK) {
		tap_ok(0, "big dataset loads: %s", err.msg);
		pht_buf_free(b);
		return;
	}
	pht_buf_free(b);
	lim.memory_bytes = (size_t)2 << 20;
	o = run_on(big, "local c = data:column('x') * 2\nreturn c:count()");
	tap_ok(o == NULL && err.code == PHT_ERR_LIMIT && strstr(err.msg, "memory cap") != NULL,
	    "a derived number column over 400,000 rows (3.2 MB) under a 2 MiB cap: %s",
	    o == NULL ? err.msg : "ran");
	json_decref(o);
	o = run_on(big, "return data:column('x'):count()");
	tap_ok(o != NULL && json_integer_value(o) == (json_int_t)rows,
	    "the same dataset under the same cap without the derived column runs");
	json_decref(o);
	lim.memory_bytes = (size_t)16 << 20;
	o = run_on(big, "local n = 0\nfor i = 1, 40 do n = n + (data:column('x') + i):count() end\n"
	    "return n");
	tap_ok(o != NULL && json_integer_value(o) == (json_int_t)(40 * rows),
	    "40 derived columns of 3.2 MB one after the other under 16 MiB: collected%s%s",
	    o == NULL ? ": " : "", o == NULL ? err.msg : "");
	json_decref(o);
	lim.memory_bytes = (size_t)512 << 20;
	pht_dataset_free(big);
}

/* An identifier column: not a with{} name, and not reachable through one. */
static void
test_identifier(void)
{
	static const char csv[] = "pid,v\n11,1\n12,2\n13,3\n14,4\n15,5\n16,6\n";
	static const char dict[] = "{\"dataset\":\"ids\",\"description\":\"x\",\"columns\":["
	    "{\"name\":\"pid\",\"type\":\"integer\",\"role\":\"identifier\"},"
	    "{\"name\":\"v\",\"type\":\"integer\"}]}";
	struct pht_dataset *d = NULL;
	json_t *o;

	if (pht_dataset_load_mem(csv, strlen(csv), dict, strlen(dict), "ids.csv", &d, &err) !=
	    PHT_OK) {
		tap_ok(0, "identifier dataset loads: %s", err.msg);
		return;
	}
	o = run_on(d, "return data:with{pid = data:column('v') * 2}");
	tap_ok(o == NULL && err.code == PHT_ERR_TRAIN &&
	    strstr(err.msg, "with: 'pid' is already a column of dataset ids") != NULL,
	    "with{} cannot take the identifier column's name: %s", o == NULL ? err.msg : "ran");
	json_decref(o);
	o = run_on(d, "local w = data:with{v2 = data:column('v') * 2}\n"
	    "local c, dict = w:columns(), w:dictionary().columns\n"
	    "return {c = c, n = #dict, last = dict[#dict].name, s = w:column('v2'):sum()}");
	{
		static const char *const want[] = {"v", "v2"};

		tap_ok(o != NULL && levels_are(json_object_get(o, "c"), want, 2) &&
		    num(o, "n") == 2 &&
		    strcmp(json_string_value(json_object_get(o, "last")), "v2") == 0 &&
		    num(o, "s") == 42, "columns() and dictionary() of a with{} view: no identifier, "
		    "the new name after the visible columns");
	}
	json_decref(o);
	pht_dataset_free(d);
}

/* date - date between two date columns: days. */
static void
test_date_diff(void)
{
	static const char csv[] = "a,b\n2020-01-01,2020-03-01\n2019-12-31,2020-01-01\n"
	    ",2020-01-01\n2000-02-28,2000-03-01\n2024-02-28,2024-03-01\n"
	    "2021-06-01,2020-06-01\n";
	static const char dict[] = "{\"dataset\":\"d\",\"description\":\"x\",\"columns\":["
	    "{\"name\":\"a\",\"type\":\"date\"},{\"name\":\"b\",\"type\":\"date\"}]}";
	struct pht_dataset *d = NULL;
	json_t *o;
	/* days counted here: 60 (2020 is a leap year), 1, missing, 2 (2000 is), 2, -365 */
	const double want = 60 + 1 + 2 + 2 - 365;

	if (pht_dataset_load_mem(csv, strlen(csv), dict, strlen(dict), "d.csv", &d, &err) !=
	    PHT_OK) {
		tap_ok(0, "date dataset loads: %s", err.msg);
		return;
	}
	{
		char code[1024];
		json_t *out = NULL;

		snprintf(code, sizeof(code), "return { name = 't', version = '1',\n"
		    "station = function(data)\n"
		    "  local c = data:column('b') - data:column('a')\n"
		    "  return {n = c:count(), s = c:sum(), t = c.type} end,\n"
		    "combine = function() return {done = true, result = 0} end }\n");
		lim.k = 1;
		o = pht_train_run_station(code, strlen(code), "t.lua", d, NULL, 1, 1, &lim, &out,
		    &st, &err) == PHT_OK ? out : NULL;
		lim.k = 5;
	}
	tap_ok(o != NULL && num(o, "n") == 5 && num(o, "s") == want &&
	    strcmp(json_string_value(json_object_get(o, "t")), "number") == 0,
	    "date - date: days (n 5, sum %g)", want);
	json_decref(o);
	pht_dataset_free(d);
}

/*
 * Thresholds on the station's grid (docs/train-api.md, "Thresholds"):
 * expr, under the default policy (or res), raises a catchable error
 * containing want, or runs when want is NULL.
 */
static void
expect_grid(const struct pht_resolution *res, const char *expr, const char *want)
{
	const struct pht_resolution *keep = lim.resolution;
	char code[2048];
	const char *m;
	json_t *o;

	lim.resolution = res;
	snprintf(code, sizeof(code), "local ok, e = pcall(function() return %s end)\n"
	    "return {ok = ok, e = tostring(e)}", expr);
	o = run_body(code);
	lim.resolution = keep;
	m = o != NULL ? json_string_value(json_object_get(o, "e")) : NULL;
	if (want == NULL)
		tap_ok(o != NULL && json_is_true(json_object_get(o, "ok")), "threshold on the grid: "
		    "%s runs (%s)", expr, m != NULL ? m : err.msg);
	else
		tap_ok(o != NULL && json_is_false(json_object_get(o, "ok")) && m != NULL &&
		    strstr(m, want) != NULL, "threshold: %s raises \"%s\" (%s)", expr, want,
		    m != NULL ? m : err.msg);
	json_decref(o);
}

static void
test_thresholds(void)
{
	static const struct pht_resolution_grid g5[] = {{"age", 5}};
	struct pht_resolution step5;

	pht_resolution_default(&step5);
	step5.grids = g5;
	step5.ngrids = 1;
	expect_grid(NULL, "data:where('age', '<=', 30.5)", "where: age: 30.5 is not on the "
	    "station's grid (2 significant digits): use 30 or 31");
	expect_grid(NULL, "data:where('age', '<=', 30)", NULL);
	expect_grid(NULL, "data:where('age', 'in', {30, 30.5})", "where: age: 30.5 is not on");
	expect_grid(NULL, "data:where('id', '>', 365)", "where: id: 365 is not on the station's "
	    "grid (2 significant digits): use 360 or 370");
	expect_grid(NULL, "data:where('id', '>', 3.6e2)", NULL);
	expect_grid(NULL, "a:le(30.5)", "le: age: 30.5 is not on the station's grid");
	expect_grid(NULL, "a:gt(50)", NULL);
	expect_grid(NULL, "data:where('dx', '<', '2005-06-15')", "where: dx: the station "
	    "compares dates with the first day of a month only, not 2005-06-15");
	expect_grid(NULL, "dx:ge('2015-06-01')", NULL);
	/* a multiple of one column plus a constant: the threshold mapped onto the column */
	expect_grid(NULL, "(a * 2):gt(101)", "gt: age: 50.5 is not on the station's grid");
	expect_grid(NULL, "(a * 2):gt(100)", NULL);
	expect_grid(NULL, "(a - 0.5):gt(30)", "gt: age: 30.5 is not on the station's grid");
	expect_grid(NULL, "(a + 10):ge(60)", NULL);
	/* anything else: refused from the expression alone */
	expect_grid(NULL, "(a + s):gt(50)", "is derived from more than one column, or not as a "
	    "multiple of one plus a constant");
	expect_grid(NULL, "a:exp():gt(5)", "is derived from more than one column");
	expect_grid(NULL, "a:lt(s * 20)", "compares two columns only when both are dataset "
	    "columns");
	expect_grid(NULL, "a:gt(id)", NULL);
	expect_grid(NULL, "a:cut{0, 18.5, 25}", "cut: age: 18.5 is not on the station's grid");
	expect_grid(NULL, "a:cut{0, 18, 25}", NULL);
	/* the policy's step for the column */
	expect_grid(&step5, "data:where('age', '>', 47)", "where: age: 47 is not on the "
	    "station's grid for this column (multiples of 5): use 45 or 50");
	expect_grid(&step5, "data:where('age', '>', 45)", NULL);
}

int
main(void)
{
	/* a fine grid (15 digits, days for dx): the tests of what comparisons select */
	static const struct pht_resolution_grid days[] = {{"dx", 1}};
	static struct pht_resolution fine;
	size_t i;

	pht_limits_default(&lim);
	lim.wall_seconds = 30;
	pht_resolution_default(&fine);
	fine.grid_digits = 15;
	fine.grids = days;
	fine.ngrids = 1;
	lim.resolution = &fine;
	if (gen_make(&g, N, 2024) != 0 || gen_load(&g, &ds, &err) != PHT_OK) {
		tap_ok(0, "dataset loads: %s", err.msg);
		return tap_done();
	}
	d2010 = pht_days_from_civil(2010, 1, 1);
	d2015 = pht_days_from_civil(2015, 6, 30);
	for (i = 0; i < N && g.age_miss[i]; i++)
		;
	age0 = g.age[i];
	test_cases();
	test_binding();
	test_rowsets();
	test_attacks();
	test_legit();
	test_cut();
	test_recode();
	test_with();
	test_with_cox();
	test_errors();
	test_two_datasets();
	test_memory();
	test_date_diff();
	test_identifier();
	test_thresholds();
	pht_dataset_free(ds);
	gen_free(&g);
	return tap_done();
}
