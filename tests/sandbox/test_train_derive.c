/* test_train_derive.c — derived columns and data:with{}: main, and every operator and function against the same computation done here on the generator's arrays, missing cells included; the other groups in test_train_derive_*.c. */
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

TAP_SHARED_DEFINE;

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

static int64_t d2015;
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
void
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
		    num(o, "fs"), o == NULL ? ": " : "", o == NULL ? run_err.msg : "");
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
void
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
void
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
	    &out, &st, &rs, &run_err);
	tap_ok(r == PHT_OK && rs != NULL && pht_train_rowsets_count(rs) == 1 && n < 100 &&
	    pht_train_rowsets_equal(rs, 0, want, 0),
	    "the sum of a derived column records the rows of its view where it is not missing "
	    "(one set of %zu of the 100): %s", n, r == PHT_OK ? "ok" : run_err.msg);
	json_decref(out);
	pht_train_rowsets_free(rs);
	pht_train_rowsets_free(want);
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
	if (gen_make(&g, N, 2024) != 0 || gen_load(&g, &ds, &run_err) != PHT_OK) {
		tap_ok(0, "dataset loads: %s", run_err.msg);
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
