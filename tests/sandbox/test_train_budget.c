/* test_train_budget.c — the instruction budget as CPU time: no permanent hook, a timer that hooks only when it fires, a spent budget that stays fatal. */
#include "tap.h"

#include "pht_err.h"
#include "pht_train.h"
#include "pht_train_lua.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What one scenario saw in its own process (the timer and SIGPROF are per process). */
struct seen {
	int made;               /* the state was built and armed */
	int mask_new;           /* hook mask right after pht_train_lua_new */
	int hooked_new;         /* a hook function is set after pht_train_lua_new */
	int mask_armed;         /* hook mask right after pht_train_lua_arm */
	int status;             /* lua_pcall status of the chunk */
	long long result;       /* its integer result, if any */
	int mask_after;         /* hook mask after the run and one more instruction */
	int fatal;              /* ctx.fatal */
	unsigned long long instructions, budget;
	int status_again;       /* lua_pcall status of a second chunk */
	char msg[PHT_TRAIN_FATAL_MAX];
	char msg_again[PHT_TRAIN_FATAL_MAX];
};

/* Loads and calls chunk in L; *result gets an integer result. */
static int
run_chunk(lua_State *L, const char *chunk, long long *result, char *msg, size_t msglen)
{
	int st = luaL_loadbufferx(L, chunk, strlen(chunk), "=budget", "t");

	if (st == LUA_OK)
		st = lua_pcall(L, 0, 1, 0);
	if (st == LUA_OK && result != NULL)
		*result = (long long)lua_tointeger(L, -1);
	else if (st != LUA_OK && msg != NULL)
		snprintf(msg, msglen, "%s", lua_tostring(L, -1) != NULL ?
		    lua_tostring(L, -1) : "(not a string)");
	lua_settop(L, 0);
	return st;
}

/*
 * In a forked child: a state under a budget of budget instructions, armed
 * and started as the runtime does (without the process sandbox), runs
 * chunk, then one more tiny chunk.
 */
static void
scenario(uint64_t budget, const char *chunk, struct seen *out)
{
	struct pht_limits lim;
	struct pht_train_ctx ctx;
	struct pht_err err;
	struct seen s;
	lua_State *L;
	int p[2], status;
	pid_t pid;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (pipe(p) != 0 || (pid = fork()) < 0)
		return;
	if (pid == 0) {
		/* if the budget failed to stop a spin, SIGALRM ends the child: the case fails */
		alarm(60);
		close(p[0]);
		memset(&s, 0, sizeof(s));
		pht_limits_default(&lim);
		lim.instructions = budget;
		if (pht_train_ctx_init(&ctx, &lim, NULL) != PHT_OK ||
		    (L = pht_train_lua_new(&ctx, 1)) == NULL)
			_exit(3);
		s.mask_new = lua_gethookmask(L);
		s.hooked_new = lua_gethook(L) != NULL;
		if (pht_train_lua_arm(L, &err) != PHT_OK)
			_exit(4);
		s.mask_armed = lua_gethookmask(L);
		s.made = 1;
		pht_train_lua_start(L);
		s.status = run_chunk(L, chunk, &s.result, s.msg, sizeof(s.msg));
		pht_train_lua_stop(L);
		/* a tick that came after the last instruction left a hook: one more instruction */
		if (ctx.fatal == 0)
			run_chunk(L, "return 1", NULL, NULL, 0);
		s.mask_after = lua_gethookmask(L);
		s.fatal = ctx.fatal;
		s.instructions = ctx.instructions;
		s.budget = ctx.budget;
		s.status_again = run_chunk(L, "local t = {} for i = 1, 10 do t[i] = i end "
		    "return #t", NULL, s.msg_again, sizeof(s.msg_again));
		if (write(p[1], &s, sizeof(s)) != (ssize_t)sizeof(s))
			_exit(5);
		lua_close(L);
		pht_train_ctx_clear(&ctx);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], out, sizeof(*out));
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*out) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		memset(out, 0, sizeof(*out));
}

int
main(void)
{
	struct seen s;
	char want[128];

	/* A loop of about 0.1 to 1 s of CPU within a budget of 1e11 (1000 s). */
	scenario(UINT64_C(100000000000),
	    "local x = 0 for i = 1, 30000000 do x = x + i % 7 end return x", &s);
	tap_ok(s.made, "a state built and armed in a child");
	tap_ok(s.mask_new == 0 && !s.hooked_new,
	    "no hook after pht_train_lua_new (mask %d): the interpreter runs without "
	    "a count hook", s.mask_new);
	tap_ok(s.mask_armed == 0, "still no hook once the CPU timer is armed (mask %d)",
	    s.mask_armed);
	tap_ok(s.status == LUA_OK && s.result == 89999997,
	    "a loop of 3e7 iterations within the budget runs to its end (%lld, %s)",
	    s.result, s.status == LUA_OK ? "ok" : s.msg);
	tap_ok(s.fatal == 0 && s.mask_after == 0,
	    "the timer's hook removed itself every time: no hook after the run "
	    "(mask %d, fatal %d)", s.mask_after, s.fatal);
	tap_ok(s.instructions > 0 && s.instructions < s.budget,
	    "instructions are the CPU time at 1e8 per second: %llu, within the budget",
	    s.instructions);
	tap_ok(s.status_again == LUA_OK, "the state stays usable (%s)",
	    s.status_again == LUA_OK ? "ok" : s.msg_again);

	/* An endless loop under a budget of 2e6 (20 ms of CPU). */
	scenario(2000000, "while true do end", &s);
	snprintf(want, sizeof(want), "instruction budget of %llu exceeded",
	    (unsigned long long)2000000);
	tap_ok(s.made && s.status == LUA_ERRRUN && strstr(s.msg, want) != NULL,
	    "while true do end is stopped by the CPU timer: %s", s.msg);
	tap_ok(s.fatal == PHT_ERR_LIMIT, "the run is fatal with PHT_ERR_LIMIT (%d)", s.fatal);
	tap_ok(s.instructions >= s.budget,
	    "it stopped only once the budget was spent (%llu >= %llu)", s.instructions,
	    s.budget);
	tap_ok(s.mask_after == LUA_MASKCOUNT,
	    "the hook stays armed once the budget is spent (mask %d)", s.mask_after);
	tap_ok(s.status_again == LUA_ERRRUN && strstr(s.msg_again, want) != NULL,
	    "any further Lua code fails at once with the same error (%s)", s.msg_again);

	/* The same spin inside pcall, inside a coroutine: the error cannot be caught. */
	scenario(2000000,
	    "local co = coroutine.wrap(function()\n"
	    "  while true do pcall(function() while true do end end) end end)\n"
	    "local ok = pcall(co)\n"
	    "while true do pcall(co) end", &s);
	tap_ok(s.made && s.status == LUA_ERRRUN && strstr(s.msg, want) != NULL &&
	    s.fatal == PHT_ERR_LIMIT,
	    "a spin in pcall in a coroutine, resumed under pcall, ends the run: %s", s.msg);
	return tap_done();
}
