/* test_sandbox_fixture.c — a deliberately broken runtime: trains get C functions that make forbidden system calls, and the seccomp filter must stop each while the parent survives and reports it. */
#include "tap.h"
#include "sandbox_gen.h"

#include "pht_err.h"
#include "pht_sandbox.h"
#include "pht_train.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox_fixture_lib.h"

/* ---- the test ---- */

#define TRAIN_FMT \
    "return { name = 'try', version = '1',\n" \
    "  station = function(data, params)\n" \
    "    local n = data:nrows()\n" \
    "    local r, e = %s\n" \
    "    return { n = n, r = r, errno = e }\n" \
    "  end,\n" \
    "  combine = function(r) return { done = true, result = r } end }\n"

static int
run(const struct pht_dataset *ds, const char *call, json_t **out, struct pht_err *err)
{
	struct pht_limits lim;
	struct pht_run_stats stats;
	char code[1024];

	pht_limits_default(&lim);
	lim.wall_seconds = 30;
	snprintf(code, sizeof(code), TRAIN_FMT, call);
	return pht_train_run_station(code, strlen(code), "try.lua", ds, NULL, 1, 1, &lim,
	    out, &stats, err);
}

static void
expect_killed(const struct pht_dataset *ds, const char *call, const char *name)
{
	struct pht_err err;
	json_t *out = NULL;
	char want[128];
	int r;

	pht_err_clear(&err);
	r = run(ds, call, &out, &err);
	snprintf(want, sizeof(want), "(%s) refused", name);
	tap_ok(r == PHT_ERR_LIMIT && out == NULL &&
	    strncmp(err.msg, "sandbox violation: system call ", 31) == 0 &&
	    strstr(err.msg, want) != NULL,
	    "a train calling %s is killed by the filter and the parent reports "
	    "\"sandbox violation: system call N %s\" (got %s: %s)", call, want,
	    pht_strerror(r), err.msg);
	json_decref(out);
}

int
main(void)
{
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	struct gen g;
	json_t *out = NULL;
	char call[64];
	int r;

	tap_ok(strcmp(pht_sandbox_name(), "seccomp") == 0, "the runtime uses seccomp");
	if (gen_make(&g, 50, 7) != 0 || gen_load(&g, &ds, &err) != PHT_OK) {
		tap_ok(0, "synthetic dataset");
		return tap_done();
	}

	/* The fixture really is broken below Lua: without the filter these calls would work. */
	r = run(ds, "type(try) == 'table' and 1 or 0, 0", &out, &err);
	tap_ok(r == PHT_OK && json_integer_value(json_object_get(out, "r")) == 1,
	    "the broken runtime exposes try.* to trains (%s)", r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
	out = NULL;

	r = run(ds, "try.open('/etc/hostname')", &out, &err);
	tap_ok(r == PHT_OK && json_integer_value(json_object_get(out, "r")) == -1 &&
	    json_integer_value(json_object_get(out, "errno")) == EACCES &&
	    json_integer_value(json_object_get(out, "n")) == 50,
	    "open() from inside a train fails with EACCES and the run goes on (%s)",
	    r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
	out = NULL;
	r = run(ds, "try.openat('/etc/passwd')", &out, &err);
	tap_ok(r == PHT_OK && json_integer_value(json_object_get(out, "r")) == -1 &&
	    json_integer_value(json_object_get(out, "errno")) == EACCES,
	    "openat() from inside a train fails with EACCES (%s)", r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
	out = NULL;

	expect_killed(ds, "try.socket()", "socket");
	expect_killed(ds, "try.connect(80)", "connect");
	expect_killed(ds, "try.fork()", "clone");
	expect_killed(ds, "try.execve()", "execve");
	snprintf(call, sizeof(call), "try.kill(%d)", (int)getpid());
	expect_killed(ds, call, "kill");

	/* The parent survived all of it and still runs trains. */
	r = run(ds, "0, 0", &out, &err);
	tap_ok(r == PHT_OK && json_integer_value(json_object_get(out, "n")) == 50,
	    "after every violation the parent still runs a normal train (%s)",
	    r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
	pht_dataset_free(ds);
	gen_free(&g);
	return tap_done();
}
