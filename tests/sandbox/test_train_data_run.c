/* test_train_data_run.c — row access and metadata, seed, params and combine, and a station run with closed stdio. */
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

void
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

void
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
	    &st, &run_err);
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
	    &out, &st, &run_err);
	tap_ok(r == PHT_OK && json_is_false(json_object_get(out, "done")) &&
	    num(json_object_get(out, "params"), "step") == 1,
	    "combine asks for another round with new params");
	json_decref(out);
	r = pht_train_run_combine(code, strlen(code), "p.lua", results, params, 2, 1, &lim,
	    &out, &st, &run_err);
	c = json_object_get(out, "result");
	tap_ok(r == PHT_OK && json_is_true(json_object_get(out, "done")) && num(c, "n") == 2 &&
	    strcmp(str(c, "second"), "b") == 0 && num(c, "sum") == 2.5,
	    "combine sees the outputs in order and results.stations");
	json_decref(out);
	json_decref(results);
	json_decref(params);
	r = pht_train_run_combine(code, strlen(code), "p.lua", json_array_get(NULL, 0), NULL,
	    1, 1, &lim, &out, &st, &run_err);
	tap_ok(r == PHT_ERR_INVALID && strstr(run_err.msg, "results must be a JSON array"),
	    "combine without a results array: %s", run_err.msg);

	r = pht_train_describe(code, strlen(code), "p.lua", &lim, &meta, &run_err);
	tap_ok(r == PHT_OK && strcmp(str(meta, "name"), "p") == 0 &&
	    strcmp(str(meta, "version"), "2.1") == 0 &&
	    strcmp(str(json_object_get(meta, "params"), "col"), "string") == 0,
	    "describe reads name, version and params");
	json_decref(meta);

	params = json_pack("[i]", 1);
	r = pht_train_run_station(code, strlen(code), "p.lua", ds, params, 1, 1, &lim, &out,
	    &st, &run_err);
	tap_ok(r == PHT_ERR_INVALID && strstr(run_err.msg, "params must be a JSON object"),
	    "params that are not an object are refused: %s", run_err.msg);
	json_decref(params);
	lim.k = 0;
	r = pht_train_run_station(code, strlen(code), "p.lua", ds, NULL, 1, 1, &lim, &out,
	    &st, &run_err);
	tap_ok(r == PHT_ERR_INVALID && strstr(run_err.msg, "k >= 1"), "k = 0 is refused: %s", run_err.msg);
	lim.k = 5;
}

/* A daemon with closed stdio gets the pipe as fds 0 and 1: still works. */
void
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
