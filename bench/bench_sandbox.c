/* bench_sandbox.c — pht-bench-sandbox: benchmark 3, a CPU-bound loop in the runtime against stock lua5.4, and the fixed cost of a run. */
#include "bench_util.h"

#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_train.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: pht-bench-sandbox LOOP.lua N REPS [LUA]\n"
    "\n"
    "REPS times each: LOOP.lua's station() with n = N through\n"
    "pht_train_run_station (sandbox.pht.seconds, wall time of the call: fork,\n"
    "sandbox, load, run, output; .cpu_seconds, the child's CPU time), the same\n"
    "file as a script under the stock interpreter LUA (default lua5.4;\n"
    "sandbox.lua.seconds, fork to exit, and its CPU time), the same with a\n"
    "count hook every 1000 instructions as the runtime sets\n"
    "(sandbox.lua_hook.cpu_seconds), then 4 x REPS\n"
    "times the fixed cost of a run with n = 0 in both\n"
    "(sandbox.pht_fixed.seconds, sandbox.lua_fixed.seconds).\n";

/* A five-row dataset: the loop reads no data, but a station run needs one. */
static const char tiny_csv[] = "x\n1\n2\n3\n4\n5\n";
static const char tiny_dict[] =
    "{\"dataset\":\"tiny\",\"columns\":[{\"name\":\"x\",\"type\":\"integer\"}]}";

/* One run; secs[0] wall time of the call, secs[1] the child's CPU time. */
static int
run_pht(const char *code, size_t len, const struct pht_dataset *ds, long n,
    const struct pht_limits *lim, double secs[2])
{
	struct pht_run_stats st;
	struct pht_err err;
	json_t *params = json_pack("{s:I}", "n", (json_int_t)n), *out = NULL;
	double t0 = bench_now();
	int r;

	r = pht_train_run_station(code, len, "loop.lua", ds, params, 1, 1, lim,
	    &out, &st, &err);
	secs[0] = bench_now() - t0;
	secs[1] = st.cpu_ms / 1000.0;
	json_decref(params);
	json_decref(out);
	if (r != PHT_OK)
		fprintf(stderr, "pht-bench-sandbox: %s: %s\n", pht_strerror(r), err.msg);
	return r;
}

/* The stock interpreter on file; hook adds the runtime's count hook (every 1000 instructions). */
static int
run_lua(const char *lua, const char *file, long n, int hook, double secs[2])
{
	struct bench_child m;
	char nbuf[32];
	char *argv[6];
	int a = 0;

	snprintf(nbuf, sizeof(nbuf), "%ld", n);
	argv[a++] = (char *)lua;
	if (hook) {
		argv[a++] = (char *)"-e";
		argv[a++] = (char *)"debug.sethook(function() end, '', 1000)";
	}
	argv[a++] = (char *)file;
	argv[a++] = nbuf;
	argv[a] = NULL;
	if (bench_spawn(argv, NULL, NULL, &m) != 0) {
		fprintf(stderr, "pht-bench-sandbox: %s %s failed\n", lua, file);
		return -1;
	}
	secs[0] = m.wall_s;
	secs[1] = m.cpu_s;
	return 0;
}

int
main(int argc, char **argv)
{
	struct pht_dataset *ds = NULL;
	struct pht_limits lim;
	struct pht_err err;
	const char *lua = argc > 4 ? argv[4] : "lua5.4";
	char *code = NULL, *end;
	long n, reps, clen, i;
	double t[2];
	FILE *f = NULL;
	int rc = 1;

	if (argc < 4 || argc > 5)
		goto usage;
	n = strtol(argv[2], &end, 10);
	if (*end != '\0' || n < 1)
		goto usage;
	reps = strtol(argv[3], &end, 10);
	if (*end != '\0' || reps < 1 || reps > 1000)
		goto usage;
	if ((f = fopen(argv[1], "r")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (clen = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (code = malloc((size_t)clen + 1)) == NULL ||
	    fread(code, 1, (size_t)clen, f) != (size_t)clen) {
		fprintf(stderr, "pht-bench-sandbox: cannot read %s\n", argv[1]);
		goto out;
	}
	if (pht_dataset_load_mem(tiny_csv, sizeof(tiny_csv) - 1, tiny_dict,
	    sizeof(tiny_dict) - 1, "tiny.csv", &ds, &err) != PHT_OK) {
		fprintf(stderr, "pht-bench-sandbox: %s\n", err.msg);
		goto out;
	}
	pht_limits_default(&lim);
	lim.instructions = UINT64_C(1) << 50;
	lim.wall_seconds = 600;
	for (i = 0; i < reps; i++) {
		if (run_pht(code, (size_t)clen, ds, n, &lim, t) != PHT_OK)
			goto out;
		bench_metric("sandbox.pht.seconds", t[0]);
		bench_metric("sandbox.pht.cpu_seconds", t[1]);
		if (run_lua(lua, argv[1], n, 0, t) != 0)
			goto out;
		bench_metric("sandbox.lua.seconds", t[0]);
		bench_metric("sandbox.lua.cpu_seconds", t[1]);
		if (run_lua(lua, argv[1], n, 1, t) != 0)
			goto out;
		bench_metric("sandbox.lua_hook.cpu_seconds", t[1]);
	}
	for (i = 0; i < reps * 4; i++) {
		if (run_pht(code, (size_t)clen, ds, 0, &lim, t) != PHT_OK)
			goto out;
		bench_metric("sandbox.pht_fixed.seconds", t[0]);
		if (run_lua(lua, argv[1], 0, 0, t) != 0)
			goto out;
		bench_metric("sandbox.lua_fixed.seconds", t[0]);
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(code);
	pht_dataset_free(ds);
	return rc;
usage:
	fputs(usage, stderr);
	return 2;
}
