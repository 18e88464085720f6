/* test_train_k.c — data:k() gives the station's k, read-only, and a train's params cannot lower it (the standard trains included). */
#include "tap.h"
#include "sandbox_gen.h"

#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_train.h"
#include "pht_train_assemble.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
run(const char *code, size_t len, const char *name, const struct pht_dataset *ds,
    const char *params, int64_t k, json_t **out, struct pht_err *err)
{
	struct pht_limits lim;
	struct pht_run_stats stats;
	json_t *p = NULL;
	int r;

	pht_limits_default(&lim);
	lim.wall_seconds = 30;
	lim.k = k;
	if (params != NULL && pht_json_parse(params, strlen(params), "params", &p, err) != PHT_OK)
		return PHT_ERR_INVALID;
	r = pht_train_run_station(code, len, name, ds, p, 1, 1, &lim, out, &stats, err);
	json_decref(p);
	return r;
}

static int
run_inline(const char *body, const struct pht_dataset *ds, const char *params,
    int64_t k, json_t **out, struct pht_err *err)
{
	char code[2048];

	snprintf(code, sizeof(code), "return { name = 'k', version = '1',\n"
	    "  station = function(data, params)\n%s\n  end,\n"
	    "  combine = function(r) return { done = true, result = r } end }\n", body);
	return run(code, strlen(code), "k.lua", ds, params, k, out, err);
}

int
main(void)
{
	struct pht_dataset *ds = NULL;
	struct pht_buf *summary = NULL;
	struct pht_err err;
	struct gen g;
	json_t *out = NULL, *rec;
	const char *src = getenv("PHT_SRC");
	char path[4096], params[256];
	size_t i, missing = 0;
	int64_t k;
	int r;

	if (gen_make(&g, 60, 11) != 0 || gen_load(&g, &ds, &err) != PHT_OK) {
		tap_ok(0, "synthetic dataset");
		return tap_done();
	}

	r = run_inline("return { k = data:k(), sub = data:where('sex', '==', 'F'):k() }", ds,
	    "{\"k\": 1}", 7, &out, &err);
	tap_ok(r == PHT_OK && json_integer_value(json_object_get(out, "k")) == 7 &&
	    json_integer_value(json_object_get(out, "sub")) == 7,
	    "data:k() (and a subset's :k()) is the station's k = 7, not params.k = 1 (%s)",
	    r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
	out = NULL;

	r = run_inline("local ok = pcall(function() data.k = function() return 1 end end)\n"
	    "local ok2 = pcall(function() local mt = getmetatable(data); mt.__index.k = nil end)\n"
	    "return { assign = ok, meta = ok2, k = data:k() }", ds, NULL, 7, &out, &err);
	tap_ok(r == PHT_OK && json_is_false(json_object_get(out, "assign")) &&
	    json_is_false(json_object_get(out, "meta")) &&
	    json_integer_value(json_object_get(out, "k")) == 7,
	    "a train can neither assign data.k nor reach the methods through the "
	    "metatable; data:k() stays 7 (%s)", r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
	out = NULL;

	/* The standard summary train counts missing values in Lua with E.min_count. */
	for (i = 0; i < g.n; i++)
		missing += g.age_miss[i] != 0;
	k = (int64_t)missing + 1;
	tap_ok(missing >= 1 && (size_t)k <= g.n,
	    "the synthetic age column has %zu missing values (1 <= missing < k = %lld)",
	    missing, (long long)k);
	snprintf(path, sizeof(path), "%s/trains/std/summary.lua", src != NULL ? src : ".");
	/* the train as it is signed: its includes assembled */
	if (pht_train_assemble(path, NULL, 1 << 20, &summary, &err) != PHT_OK) {
		tap_ok(0, "read %s: %s", path, err.msg);
		return tap_done();
	}
	snprintf(params, sizeof(params), "{\"columns\": [\"age\"], \"k\": 1}");
	r = run(pht_buf_str(summary), pht_buf_len(summary), "summary.lua", ds, params, k,
	    &out, &err);
	rec = json_array_get(json_object_get(out, "numeric"), 0);
	tap_ok(r == PHT_OK && json_is_true(json_object_get(rec, "missing_suppressed")) &&
	    json_object_get(rec, "missing") == NULL,
	    "std summary.lua with params.k = 1 under station k = %lld suppresses the %zu "
	    "missing ages (%s)", (long long)k, missing, r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
	out = NULL;

	snprintf(params, sizeof(params), "{\"columns\": [\"age\"], \"k\": %zu}", g.n + 1);
	r = run(pht_buf_str(summary), pht_buf_len(summary), "summary.lua", ds, params, 2,
	    &out, &err);
	rec = json_array_get(json_object_get(out, "numeric"), 0);
	tap_ok(r == PHT_OK && json_is_true(json_object_get(rec, "suppressed")) &&
	    json_object_get(rec, "sum") == NULL,
	    "params.k above the station's k raises it: with k = %zu the whole column is "
	    "suppressed (%s)", g.n + 1, r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
	out = NULL;

	snprintf(params, sizeof(params), "{\"columns\": [\"age\"]}");
	r = run(pht_buf_str(summary), pht_buf_len(summary), "summary.lua", ds, params,
	    (int64_t)missing, &out, &err);
	rec = json_array_get(json_object_get(out, "numeric"), 0);
	tap_ok(r == PHT_OK && json_integer_value(json_object_get(rec, "missing")) ==
	    (json_int_t)missing,
	    "with station k = %zu (= missing) the missing count %zu is released: the "
	    "check above can fail (%s)", missing, missing, r == PHT_OK ? "ok" : err.msg);
	json_decref(out);

	pht_buf_free(summary);
	pht_dataset_free(ds);
	gen_free(&g);
	return tap_done();
}
