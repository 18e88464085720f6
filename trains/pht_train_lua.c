/* pht_train_lua.c — the sandboxed Lua state: capped allocator, CPU-time budget, safe library set, plain-data conversion. */
#include "pht_train_lua.h"
#include "pht_train.h"
#include "pht_train_rowsets.h"
#include "pht_buf.h"
#include "pht_dataset.h"
#include "pht_err.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifdef PHT_TRAIN_FIXTURE_OPENLIB
void PHT_TRAIN_FIXTURE_OPENLIB(lua_State *L);
#endif

/* Deepest table nesting accepted in an output (pht_json_parse allows 64). */
#define PHT_TRAIN_MAX_DEPTH 60

#define HUGE_PAGE ((size_t)2 << 20)     /* a transparent huge page */

/* CPU nanoseconds worth n instructions, saturating. */
static int64_t
budget_ns(uint64_t n)
{
	const uint64_t rate = PHT_TRAIN_INSN_PER_SEC, sec = 1000000000ULL;
	uint64_t whole = n / rate;

	if (whole >= (uint64_t)INT64_MAX / sec - 1)
		return INT64_MAX;
	return (int64_t)(whole * sec + (n % rate) * sec / rate);
}

/* Instructions worth ns CPU nanoseconds (the inverse of budget_ns). */
static uint64_t
ns_instructions(int64_t ns)
{
	const uint64_t rate = PHT_TRAIN_INSN_PER_SEC, sec = 1000000000ULL;
	uint64_t u = ns > 0 ? (uint64_t)ns : 0;

	return u / sec * rate + (u % sec) * rate / sec;
}

static int64_t
cpu_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The resolution policy of a run whose limits name none (pht_resolution_default). */
static const struct pht_resolution default_resolution = {30, 1, 2, NULL, 0};

/*
 * A big block of n bytes (PHT_TRAIN_BIG_BLOCK): a fresh 2 MiB-aligned
 * mapping, registered in c->big; NULL (the caller uses malloc) when the
 * registry is full or there is no such mapping to be had.
 */
static void *
big_map(struct pht_train_ctx *c, size_t n)
{
	size_t len = (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uintptr_t m, a;
	void *p;

	if (c->big == NULL || c->nbig == c->big_cap || len < n)
		return NULL;
	p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	m = (uintptr_t)p;
	a = (m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (a > m)
		(void)munmap(p, a - m);
	if (m + HUGE_PAGE > a)
		(void)munmap((void *)(a + len), m + HUGE_PAGE - a);
	(void)madvise((void *)a, len, MADV_HUGEPAGE);      /* a hint */
	c->big[c->nbig].p = (void *)a;
	c->big[c->nbig].len = len;
	c->nbig++;
	return (void *)a;
}

/* The index of ptr in c->big, or c->nbig: only 2 MiB-aligned blocks are looked up. */
static size_t
big_find(const struct pht_train_ctx *c, const void *ptr)
{
	size_t i;

	if (((uintptr_t)ptr & (HUGE_PAGE - 1)) != 0)
		return c->nbig;
	for (i = 0; i < c->nbig && c->big[i].p != ptr; i++)
		;
	return i;
}

/* Unmaps big block i and drops it from the registry. */
static void
big_unmap(struct pht_train_ctx *c, size_t i)
{
	(void)munmap(c->big[i].p, c->big[i].len);
	c->big[i] = c->big[--c->nbig];
}

int
pht_train_ctx_init(struct pht_train_ctx *ctx, const struct pht_limits *lim,
    const struct pht_dataset *ds)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cap = lim->memory_bytes;
	ctx->budget = lim->instructions;
	ctx->cpu_budget_ns = budget_ns(lim->instructions);
	ctx->k = lim->k;
	ctx->row_access = lim->row_access != 0;
	ctx->res = lim->resolution != NULL ? lim->resolution : &default_resolution;
	ctx->ds = ds;
	/* at most cap / PHT_TRAIN_BIG_BLOCK big blocks live at once, and rows_touched */
	ctx->big_cap = ctx->cap / PHT_TRAIN_BIG_BLOCK + 2;
	if ((ctx->big = calloc(ctx->big_cap, sizeof(*ctx->big))) == NULL)
		return PHT_ERR_NOMEM;
	if (ds != NULL) {
		size_t nrows = pht_dataset_nrows(ds), ncols = pht_dataset_ncols(ds);

		/* zero either way; a big one written where a view is, a huge page at a time */
		if (nrows / 8 + 1 < PHT_TRAIN_BIG_BLOCK ||
		    (ctx->rows_touched = big_map(ctx, nrows / 8 + 1)) == NULL)
			ctx->rows_touched = calloc(nrows / 8 + 1, 1);
		ctx->cols_touched = calloc(ncols + 1, 1);
		ctx->rowsets = pht_train_rowsets_new(nrows <= UINT32_MAX ? (uint32_t)nrows : 0);
		if (ctx->rows_touched == NULL || ctx->cols_touched == NULL ||
		    ctx->rowsets == NULL) {
			pht_train_ctx_clear(ctx);
			return PHT_ERR_NOMEM;
		}
	}
	return PHT_OK;
}

void
pht_train_ctx_clear(struct pht_train_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->rows_touched != NULL && big_find(ctx, ctx->rows_touched) < ctx->nbig)
		big_unmap(ctx, big_find(ctx, ctx->rows_touched));
	else
		free(ctx->rows_touched);
	free(ctx->cols_touched);
	free(ctx->big);
	ctx->big = NULL;
	ctx->nbig = 0;
	pht_train_rowsets_free(ctx->rowsets);
	ctx->rows_touched = NULL;
	ctx->cols_touched = NULL;
	ctx->rowsets = NULL;
}

struct pht_train_ctx *
pht_train_ctx_of(lua_State *L)
{
	void *ud = NULL;

	lua_getallocf(L, &ud);
	return ud;
}

/*
 * The allocator: counts every byte of the Lua heap and refuses to grow it
 * past the cap. Shrinking never fails (Lua relies on that). A new
 * userdata of PHT_TRAIN_BIG_BLOCK bytes or more is a mapping of its own
 * (big_map); Lua only ever frees a userdata, but a big block is told
 * from a malloc'd one by its address whatever the sizes, so any call is
 * safe.
 */
static void *
sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct pht_train_ctx *c = ud;
	size_t old = ptr != NULL ? osize : 0, i;
	void *p;

	i = ptr != NULL ? big_find(c, ptr) : c->nbig;
	if (nsize == 0) {
		if (i < c->nbig)
			big_unmap(c, i);
		else
			free(ptr);
		c->used -= old;
		return NULL;
	}
	if (nsize > old && nsize - old > c->cap - c->used)
		return NULL;
	if (i < c->nbig) {
		/* not done by Lua (a userdata is never resized): moved to malloc */
		if ((p = malloc(nsize)) == NULL)
			return nsize <= old ? ptr : NULL;
		memcpy(p, ptr, old < nsize ? old : nsize);
		big_unmap(c, i);
	} else if (ptr == NULL && osize == LUA_TUSERDATA && nsize >= PHT_TRAIN_BIG_BLOCK &&
	    (p = big_map(c, nsize)) != NULL)
		;
	else if ((p = realloc(ptr, nsize)) == NULL)
		return nsize <= old ? ptr : NULL;
	c->used = c->used - old + nsize;
	if (c->used > c->peak)
		c->peak = c->used;
	return p;
}

static void
set_fatal(struct pht_train_ctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_fatal(struct pht_train_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->fatal != 0)
		return;
	c->fatal = code;
	va_start(ap, fmt);
	vsnprintf(c->fatal_msg, sizeof(c->fatal_msg), fmt, ap);
	va_end(ap);
}

static void
set_fatal_memory(struct pht_train_ctx *c)
{
	set_fatal(c, PHT_ERR_LIMIT, "memory cap of %zu bytes exceeded", c->cap);
}

static void sb_hook(lua_State *L, lua_Debug *ar);

/* Raises the fatal condition again; the hook fires on every instruction. */
static int
rethrow(lua_State *L)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);

	lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
	lua_pushstring(L, c->fatal_msg);
	return lua_error(L);
}

int
pht_train_lua_fatal(lua_State *L, int code, const char *fmt, ...)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	char msg[PHT_TRAIN_FATAL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_fatal(c, code, "%s", msg);
	return rethrow(L);
}

/*
 * The budget hook, set with a count of 1 by the CPU timer's signal (and
 * by rethrow): if the CPU time since the start is within the budget it
 * removes itself, so the interpreter runs without a hook until the next
 * tick; otherwise the run is fatal and it stays, raising on every
 * instruction.
 */
static void
sb_hook(lua_State *L, lua_Debug *ar)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	uint64_t used;

	(void)ar;
	if (c->fatal == 0) {
		if (c->cpu_start_ns == 0 ||
		    (used = ns_instructions(cpu_now_ns() - c->cpu_start_ns)) <= c->budget) {
			lua_sethook(L, NULL, 0, 0);
			return;
		}
		c->instructions = used;
		set_fatal(c, PHT_ERR_LIMIT, "instruction budget of %llu exceeded",
		    (unsigned long long)c->budget);
	}
	rethrow(L);
}

/*
 * The CPU timer's signal: only lua_sethook (which lua.c also calls from a
 * signal handler), on the running thread and the main one. The run's ctx
 * comes with the signal; a SIGPROF from anything but the timer is
 * ignored.
 */
static void
on_tick(int sig, siginfo_t *si, void *uc)
{
	struct pht_train_ctx *c;
	lua_State *T;

	(void)sig;
	(void)uc;
	if (si == NULL || si->si_code != SI_TIMER)
		return;
	c = si->si_value.sival_ptr;
	if (c == NULL || !c->ticking)
		return;
	T = c->running;
	if (T != NULL)
		lua_sethook(T, sb_hook, LUA_MASKCOUNT, 1);
	if (T != c->main && c->main != NULL)
		lua_sethook(c->main, sb_hook, LUA_MASKCOUNT, 1);
}

int
pht_train_lua_arm(lua_State *L, struct pht_err *err)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	struct sigaction sa;
	struct sigevent sev;
	struct itimerspec its;
	sigset_t set;
	int64_t tick;

	c->main = L;
	c->running = L;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGPROF);
	if (sigaction(SIGPROF, &sa, NULL) != 0 || sigprocmask(SIG_UNBLOCK, &set, NULL) != 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "budget: SIGPROF handler: %s",
		    strerror(errno));
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGPROF;
	sev.sigev_value.sival_ptr = c;
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &c->timer) != 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "budget: timer_create: %s",
		    strerror(errno));
	tick = c->cpu_budget_ns;
	if (tick > PHT_TRAIN_TICK_MAX_NS)
		tick = PHT_TRAIN_TICK_MAX_NS;
	if (tick < PHT_TRAIN_TICK_MIN_NS)
		tick = PHT_TRAIN_TICK_MIN_NS;
	its.it_value.tv_sec = 0;
	its.it_value.tv_nsec = (long)tick;
	its.it_interval = its.it_value;
	if (timer_settime(c->timer, 0, &its, NULL) != 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "budget: timer_settime: %s",
		    strerror(errno));
	return PHT_OK;
}

void
pht_train_lua_start(lua_State *L)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);

	c->main = L;
	c->running = L;
	c->cpu_start_ns = cpu_now_ns();
	if (c->cpu_start_ns == 0)
		c->cpu_start_ns = 1;
	c->ticking = 1;
}

void
pht_train_lua_stop(lua_State *L)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	uint64_t used;

	c->ticking = 0;
	if (c->cpu_start_ns == 0)
		return;
	used = ns_instructions(cpu_now_ns() - c->cpu_start_ns);
	if (used > c->instructions)
		c->instructions = used;
}

/* pcall and xpcall as in lbaselib.c, but a fatal condition is re-raised. */
static int
finish_pcall(lua_State *L, int status, lua_KContext extra)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);

	if (status == LUA_ERRMEM)
		set_fatal_memory(c);
	if (c->fatal != 0)
		return rethrow(L);
	if (status != LUA_OK && status != LUA_YIELD) {
		lua_pushboolean(L, 0);
		lua_pushvalue(L, -2);
		return 2;
	}
	return lua_gettop(L) - (int)extra;
}

static int
sb_pcall(lua_State *L)
{
	int status;

	luaL_checkany(L, 1);
	lua_pushboolean(L, 1);
	lua_insert(L, 1);
	status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finish_pcall);
	return finish_pcall(L, status, 0);
}

/*
 * The message handler xpcall really installs. An error thrown by the
 * count hook is raised with hooks disabled until a protected call
 * catches it, so the train's own handler must not run for it: on a fatal
 * condition the error object passes through untouched.
 */
static int
sb_msgh(lua_State *L)
{
	if (pht_train_ctx_of(L)->fatal != 0)
		return 1;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int
sb_xpcall(lua_State *L)
{
	int status;
	int n = lua_gettop(L);

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	lua_pushcclosure(L, sb_msgh, 1);
	lua_replace(L, 2);
	lua_pushboolean(L, 1);
	lua_pushvalue(L, 1);
	lua_rotate(L, 3, 2);
	status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finish_pcall);
	return finish_pcall(L, status, 2);
}

/*
 * coroutine.resume / coroutine.close: the original (upvalue 1), then a
 * check. While it runs, the coroutine is ctx->running, the thread the
 * CPU timer hooks; an error raised through here leaves it restored.
 */
static int
sb_co_checked(lua_State *L)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	lua_State *co = lua_tothread(L, 1), *prev;
	int status;

	if (co == NULL)
		return luaL_typeerror(L, 1, "coroutine");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	prev = c->running;
	c->running = co;
	status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
	c->running = prev;
	if (status == LUA_ERRMEM || lua_status(co) == LUA_ERRMEM)
		set_fatal_memory(c);
	if (c->fatal != 0)
		return rethrow(L);
	if (status != LUA_OK)
		return lua_error(L);
	return lua_gettop(L);
}

/*
 * setmetatable without __gc: finalizers run with hooks disabled, so a
 * train may not install any.
 */
static int
sb_setmetatable(lua_State *L)
{
	int t = lua_type(L, 2);

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (t == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "setmetatable: __gc metamethods are not "
			    "allowed in the sandbox");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/* collectgarbage("count") only: the train may not stop or tune the collector. */
static int
sb_collectgarbage(lua_State *L)
{
	const char *opt = luaL_optstring(L, 1, "collect");

	if (strcmp(opt, "count") != 0)
		return luaL_error(L, "collectgarbage: only \"count\" is allowed in the sandbox");
	lua_settop(L, 0);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushliteral(L, "count");
	lua_call(L, 1, 1);
	return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]) with mode forced to text. */
static int
sb_load(lua_State *L)
{
	int n = lua_gettop(L);

	luaL_checkany(L, 1);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	if (n >= 2)
		lua_pushvalue(L, 2);
	else
		lua_pushnil(L);
	lua_pushliteral(L, "t");
	if (n >= 4) {
		lua_pushvalue(L, 4);
		lua_call(L, 4, 2);
	} else
		lua_call(L, 3, 2);
	return 2;
}

/* coroutine.wrap over the checked coroutine.resume, so errors cannot hide. */
static const char sb_wrap_lua[] =
    "local create, resume, error = coroutine.create, coroutine.resume, error\n"
    "local function pass(ok, ...)\n"
    "  if ok then return ... end\n"
    "  error((...), 0)\n"
    "end\n"
    "coroutine.wrap = function(f)\n"
    "  local co = create(f)\n"
    "  return function(...) return pass(resume(co, ...)) end\n"
    "end\n";

static void
wrap_field(lua_State *L, int tbl, const char *name, lua_CFunction f)
{
	lua_getfield(L, tbl, name);
	lua_pushcclosure(L, f, 1);
	lua_setfield(L, tbl, name);
}

/*
 * The address behind json_null, the light userdata a train puts where its
 * output needs a JSON null (a value in a table, where nil would drop the
 * key: an aliased coefficient's estimate). Nothing can dereference it.
 */
static const char json_null_tag;

static int
sb_setup(lua_State *L)
{
	static const luaL_Reg libs[] = {
		{LUA_GNAME, luaopen_base},
		{LUA_STRLIBNAME, luaopen_string},
		{LUA_TABLIBNAME, luaopen_table},
		{LUA_MATHLIBNAME, luaopen_math},
		{LUA_UTF8LIBNAME, luaopen_utf8},
		{LUA_COLIBNAME, luaopen_coroutine},
		{NULL, NULL},
	};
	static const char *const removed[] = {
		"dofile", "loadfile", "print", "warn", "require", NULL,
	};
	lua_Integer seed = lua_tointeger(L, 1);
	const luaL_Reg *lib;
	size_t i;
	int g;

	for (lib = libs; lib->func != NULL; lib++) {
		luaL_requiref(L, lib->name, lib->func, 1);
		lua_pop(L, 1);
	}
	lua_pushglobaltable(L);
	g = lua_gettop(L);
	for (i = 0; removed[i] != NULL; i++) {
		lua_pushnil(L);
		lua_setfield(L, g, removed[i]);
	}
	lua_pushcfunction(L, sb_pcall);
	lua_setfield(L, g, "pcall");
	lua_pushcfunction(L, sb_xpcall);
	lua_setfield(L, g, "xpcall");
	wrap_field(L, g, "collectgarbage", sb_collectgarbage);
	wrap_field(L, g, "load", sb_load);
	wrap_field(L, g, "setmetatable", sb_setmetatable);
	lua_pushlightuserdata(L, (void *)&json_null_tag);
	lua_setfield(L, g, "json_null");

	lua_getfield(L, g, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	/* getmetatable("") gives false: the string metatable is out of reach. */
	lua_pushliteral(L, "");
	if (lua_getmetatable(L, -1)) {
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
		lua_pop(L, 1);
	}
	lua_pop(L, 1);

	lua_getfield(L, g, LUA_COLIBNAME);
	wrap_field(L, lua_gettop(L), "resume", sb_co_checked);
	wrap_field(L, lua_gettop(L), "close", sb_co_checked);
	lua_pop(L, 1);
	if (luaL_loadbufferx(L, sb_wrap_lua, sizeof(sb_wrap_lua) - 1, "=sandbox", "t") != LUA_OK)
		return lua_error(L);
	lua_call(L, 0, 0);

	lua_getfield(L, g, LUA_MATHLIBNAME);
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, seed);
	lua_call(L, 1, 0);
	lua_pop(L, 2);
	return 0;
}

lua_State *
pht_train_lua_new(struct pht_train_ctx *ctx, uint64_t seed)
{
	lua_State *L = lua_newstate(sb_alloc, ctx);

	if (L == NULL)
		return NULL;
	lua_pushcfunction(L, sb_setup);
	lua_pushinteger(L, (lua_Integer)seed);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		lua_close(L);
		return NULL;
	}
#ifdef PHT_TRAIN_FIXTURE_OPENLIB
	/*
	 * Test fixtures only (tests/sandbox/meson.build builds a deliberately
	 * broken runtime with C functions that make forbidden system calls,
	 * to prove the process sandbox below the Lua one). Never defined
	 * when the library is built.
	 */
	PHT_TRAIN_FIXTURE_OPENLIB(L);
#endif
	return L;
}

void
pht_train_lua_push_json(lua_State *L, const json_t *v)
{
	const char *key;
	json_t *val;
	size_t i;

	luaL_checkstack(L, 4, "JSON value nested too deeply");
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		lua_createtable(L, 0, (int)json_object_size(v));
		json_object_foreach((json_t *)v, key, val) {
			lua_pushstring(L, key);
			pht_train_lua_push_json(L, val);
			lua_rawset(L, -3);
		}
		break;
	case JSON_ARRAY:
		lua_createtable(L, (int)json_array_size(v), 0);
		json_array_foreach(v, i, val) {
			pht_train_lua_push_json(L, val);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_TRUE:
		lua_pushboolean(L, 1);
		break;
	case JSON_FALSE:
		lua_pushboolean(L, 0);
		break;
	default:
		lua_pushnil(L);
		break;
	}
}

/* ---- Lua value -> JSON text, plain data only ---- */

struct conv {
	lua_State *L;
	struct pht_buf *out;
	size_t numbers, max_numbers;
	int visiting;           /* stack index of the set of tables being written */
	char path[192];
	size_t plen;
};

static int
conv_fail(struct conv *cv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
conv_fail(struct conv *cv, const char *fmt, ...)
{
	char reason[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return pht_train_lua_fatal(cv->L, PHT_ERR_DISCLOSURE, "%s: %s", cv->path, reason);
}

static void
conv_put(struct conv *cv, const void *p, size_t n)
{
	if (pht_buf_put(cv->out, p, n) != PHT_OK)
		conv_fail(cv, "output exceeds the cap of %zu bytes", pht_buf_max(cv->out));
}

static void
conv_puts(struct conv *cv, const char *s)
{
	conv_put(cv, s, strlen(s));
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t cp;

	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static void
conv_string(struct conv *cv, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	char esc[7];

	if (memchr(s, '\0', n) != NULL)
		conv_fail(cv, "string contains a NUL byte");
	if (!utf8_valid((const unsigned char *)s, n))
		conv_fail(cv, "string is not valid UTF-8");
	conv_put(cv, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		conv_put(cv, s + start, i - start);
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			conv_put(cv, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			conv_put(cv, esc, 6);
		}
		start = i + 1;
	}
	conv_put(cv, s + start, n - start);
	conv_put(cv, "\"", 1);
}

/* Appends a path segment; returns the previous length to restore. */
static size_t
path_push_key(struct conv *cv, const char *key, size_t klen)
{
	size_t old = cv->plen, i;

	if (cv->plen + 2 < sizeof(cv->path)) {
		cv->path[cv->plen++] = '.';
		for (i = 0; i < klen && i < 40 && cv->plen + 1 < sizeof(cv->path); i++) {
			unsigned char ch = (unsigned char)key[i];

			cv->path[cv->plen++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
		}
		cv->path[cv->plen] = 0;
	}
	return old;
}

static size_t
path_push_index(struct conv *cv, lua_Integer i)
{
	size_t old = cv->plen;
	int n;

	n = snprintf(cv->path + cv->plen, sizeof(cv->path) - cv->plen, "[%lld]",
	    (long long)i);
	if (n > 0 && (size_t)n < sizeof(cv->path) - cv->plen)
		cv->plen += (size_t)n;
	else
		cv->path[cv->plen] = 0;
	return old;
}

static void
path_pop(struct conv *cv, size_t old)
{
	cv->plen = old;
	cv->path[old] = 0;
}

static void conv_value(struct conv *cv, int idx, int depth);

static void
conv_table(struct conv *cv, int idx, int depth)
{
	lua_State *L = cv->L;
	size_t count = 0, nint = 0, nstr = 0, old, klen;
	lua_Integer maxi = 0, i;
	int first = 1;
	const char *key;

	if (depth > PHT_TRAIN_MAX_DEPTH)
		conv_fail(cv, "tables nested deeper than %d levels", PHT_TRAIN_MAX_DEPTH);
	luaL_checkstack(L, 6, "output nested too deeply");
	lua_pushvalue(L, idx);
	if (lua_rawget(L, cv->visiting) != LUA_TNIL)
		conv_fail(cv, "cycle: the table contains itself");
	lua_pop(L, 1);
	lua_pushvalue(L, idx);
	lua_pushboolean(L, 1);
	lua_rawset(L, cv->visiting);

	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		count++;
		if (lua_type(L, -2) == LUA_TNUMBER && lua_isinteger(L, -2)) {
			i = lua_tointeger(L, -2);
			nint++;
			if (i > maxi)
				maxi = i;
			if (i < 1)
				maxi = -1;
		} else if (lua_type(L, -2) == LUA_TSTRING) {
			nstr++;
		} else if (lua_type(L, -2) == LUA_TNUMBER) {
			conv_fail(cv, "table key %g is not a string or integer",
			    (double)lua_tonumber(L, -2));
		} else {
			conv_fail(cv, "table key of type %s is not a string",
			    luaL_typename(L, -2));
		}
		lua_pop(L, 1);
	}
	if (count > 0 && nint == count) {
		if (maxi != (lua_Integer)count)
			conv_fail(cv, "sparse array (integer keys must be exactly 1..n)");
		conv_put(cv, "[", 1);
		for (i = 1; i <= maxi; i++) {
			if (i > 1)
				conv_put(cv, ",", 1);
			old = path_push_index(cv, i);
			lua_rawgeti(L, idx, i);
			conv_value(cv, lua_gettop(L), depth + 1);
			lua_pop(L, 1);
			path_pop(cv, old);
		}
		conv_put(cv, "]", 1);
	} else if (nstr == count) {
		conv_put(cv, "{", 1);
		lua_pushnil(L);
		while (lua_next(L, idx) != 0) {
			key = lua_tolstring(L, -2, &klen);
			old = path_push_key(cv, key, klen);
			if (!first)
				conv_put(cv, ",", 1);
			first = 0;
			conv_string(cv, key, klen);
			conv_put(cv, ":", 1);
			conv_value(cv, lua_gettop(L), depth + 1);
			lua_pop(L, 1);
			path_pop(cv, old);
		}
		conv_put(cv, "}", 1);
	} else
		conv_fail(cv, "table mixes integer and string keys");

	lua_pushvalue(L, idx);
	lua_pushnil(L);
	lua_rawset(L, cv->visiting);
}

static void
conv_value(struct conv *cv, int idx, int depth)
{
	lua_State *L = cv->L;
	char num[40];
	const char *s;
	size_t n;
	double d;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		conv_puts(cv, "null");
		break;
	case LUA_TBOOLEAN:
		conv_puts(cv, lua_toboolean(L, idx) ? "true" : "false");
		break;
	case LUA_TNUMBER:
		if (++cv->numbers > cv->max_numbers)
			conv_fail(cv, "more than %zu numeric values (the output cap)",
			    cv->max_numbers);
		if (lua_isinteger(L, idx)) {
			snprintf(num, sizeof(num), "%lld", (long long)lua_tointeger(L, idx));
		} else {
			d = (double)lua_tonumber(L, idx);
			if (isnan(d))
				conv_fail(cv, "NaN is not plain data");
			if (isinf(d))
				conv_fail(cv, "infinity is not plain data");
			n = (size_t)snprintf(num, sizeof(num) - 2, "%.17g", d);
			if (strpbrk(num, ".e") == NULL && n < sizeof(num) - 3)
				memcpy(num + n, ".0", 3);
		}
		conv_puts(cv, num);
		break;
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &n);
		conv_string(cv, s, n);
		break;
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) != (void *)&json_null_tag)
			conv_fail(cv, "%s is not plain data", luaL_typename(L, idx));
		conv_puts(cv, "null");
		break;
	case LUA_TTABLE:
		conv_table(cv, idx, depth);
		break;
	default:
		conv_fail(cv, "%s is not plain data", luaL_typename(L, idx));
	}
}

void
pht_train_lua_to_json(lua_State *L, int idx, const char *what,
    size_t max_numbers, struct pht_buf *out)
{
	struct conv cv;
	int running;

	memset(&cv, 0, sizeof(cv));
	cv.L = L;
	cv.out = out;
	cv.max_numbers = max_numbers;
	snprintf(cv.path, sizeof(cv.path), "%s", what);
	cv.plen = strlen(cv.path);
	idx = lua_absindex(L, idx);
	/*
	 * No finalizer may run train code while the output is walked. The
	 * collector runs again after, as it did before: the runtime also
	 * converts a train's declared params before station() runs, and a
	 * collector left stopped would keep every byte of garbage the train
	 * makes until the memory cap. (A raise ends the run: no restart needed.)
	 */
	running = lua_gc(L, LUA_GCISRUNNING);
	lua_gc(L, LUA_GCSTOP);
	lua_newtable(L);
	cv.visiting = lua_gettop(L);
	conv_value(&cv, idx, 0);
	lua_pop(L, 1);
	if (running)
		lua_gc(L, LUA_GCRESTART);
}
