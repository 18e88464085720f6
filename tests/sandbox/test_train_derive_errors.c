/* test_train_derive_errors.c — derived-column errors, two datasets in one state, the memory cap, the identifier column, date differences and the grid thresholds. */
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

void
test_errors(void)
{
	size_t i;
	json_t *o;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		o = run_body(errors[i].body);
		tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN && strstr(run_err.msg, errors[i].msg) != NULL,
		    "%s: %s", errors[i].body, o == NULL ? run_err.msg : "(ran)");
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
	tap_ok(o == NULL && run_err.code == PHT_ERR_DISCLOSURE &&
	    strstr(run_err.msg, "subset smaller than k (4 rows, k = 5)") != NULL,
	    "the k guard on a derived column's view: %s", run_err.msg);
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
void
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

	if (gen_load(&g, &other, &run_err) != PHT_OK ||
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
void
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
	    &big, &run_err) != PHT_OK) {
		tap_ok(0, "big dataset loads: %s", run_err.msg);
		pht_buf_free(b);
		return;
	}
	pht_buf_free(b);
	lim.memory_bytes = (size_t)2 << 20;
	o = run_on(big, "local c = data:column('x') * 2\nreturn c:count()");
	tap_ok(o == NULL && run_err.code == PHT_ERR_LIMIT && strstr(run_err.msg, "memory cap") != NULL,
	    "a derived number column over 400,000 rows (3.2 MB) under a 2 MiB cap: %s",
	    o == NULL ? run_err.msg : "ran");
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
	    o == NULL ? ": " : "", o == NULL ? run_err.msg : "");
	json_decref(o);
	lim.memory_bytes = (size_t)512 << 20;
	pht_dataset_free(big);
}

/* An identifier column: not a with{} name, and not reachable through one. */
void
test_identifier(void)
{
	static const char csv[] = "pid,v\n11,1\n12,2\n13,3\n14,4\n15,5\n16,6\n";
	static const char dict[] = "{\"dataset\":\"ids\",\"description\":\"x\",\"columns\":["
	    "{\"name\":\"pid\",\"type\":\"integer\",\"role\":\"identifier\"},"
	    "{\"name\":\"v\",\"type\":\"integer\"}]}";
	struct pht_dataset *d = NULL;
	json_t *o;

	if (pht_dataset_load_mem(csv, strlen(csv), dict, strlen(dict), "ids.csv", &d, &run_err) !=
	    PHT_OK) {
		tap_ok(0, "identifier dataset loads: %s", run_err.msg);
		return;
	}
	o = run_on(d, "return data:with{pid = data:column('v') * 2}");
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "with: 'pid' is already a column of dataset ids") != NULL,
	    "with{} cannot take the identifier column's name: %s", o == NULL ? run_err.msg : "ran");
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
void
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

	if (pht_dataset_load_mem(csv, strlen(csv), dict, strlen(dict), "d.csv", &d, &run_err) !=
	    PHT_OK) {
		tap_ok(0, "date dataset loads: %s", run_err.msg);
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
		    &st, &run_err) == PHT_OK ? out : NULL;
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
		    "%s runs (%s)", expr, m != NULL ? m : run_err.msg);
	else
		tap_ok(o != NULL && json_is_false(json_object_get(o, "ok")) && m != NULL &&
		    strstr(m, want) != NULL, "threshold: %s raises \"%s\" (%s)", expr, want,
		    m != NULL ? m : run_err.msg);
	json_decref(o);
}

void
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
