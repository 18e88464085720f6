/* test_train_alloc.c — the capped Lua allocator: big userdata as huge-page mappings of their own, counted, freed, and every other block through malloc. */
#include "tap.h"

#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_train.h"
#include "pht_train_lua.h"

#include <jansson.h>
#include <lauxlib.h>
#include <stdint.h>
#include <string.h>

#define MIB ((size_t)1 << 20)

/* Whether the block at user pointer u of n bytes lies inside big block i. */
static int
inside(const struct pht_train_ctx *c, size_t i, const void *u, size_t n)
{
	uintptr_t p = (uintptr_t)c->big[i].p, a = (uintptr_t)u;

	return a >= p && a + n <= p + c->big[i].len;
}

/*
 * A train that declares its params runs with the collector on: its params
 * are converted to JSON before station() (the declared check), and the
 * conversion stops the collector while it walks. A train making far more
 * garbage than the cap (about 60 MiB in all, under an 8 MiB cap) must
 * still finish, and with its heap kept small by the collector as it goes.
 */
static void
declared_train_collects(void)
{
	static const char csv[] = "x\n1\n2\n3\n4\n5\n6\n";
	static const char dict[] =
	    "{\"dataset\":\"g\",\"columns\":[{\"name\":\"x\",\"type\":\"integer\"}]}";
	static const char code[] =
	    "return { name = 'garbage', version = '1',\n"
	    "  params = { { name = 'n', type = 'integer', required = true } },\n"
	    "  station = function(data, params)\n"
	    "    local keep\n"
	    "    for i = 1, params.n do keep = { i, string.rep('x', 200) .. i } end\n"
	    "    return { last = keep[1] }\n"
	    "  end,\n"
	    "  combine = function(r) return { done = true, result = r[1] } end }\n";
	struct pht_dataset *ds = NULL;
	struct pht_limits lim;
	struct pht_run_stats st;
	struct pht_err err;
	json_t *params = json_pack("{s:i}", "n", 200000), *out = NULL;
	int r;

	if (pht_dataset_load_mem(csv, sizeof(csv) - 1, dict, sizeof(dict) - 1, "g", &ds,
	    &err) != PHT_OK) {
		tap_ok(0, "a six-row dataset loads: %s", err.msg);
		json_decref(params);
		return;
	}
	pht_limits_default(&lim);
	lim.memory_bytes = 8 * MIB;
	r = pht_train_run_station(code, sizeof(code) - 1, "garbage.lua", ds, params, 1, 1, &lim,
	    &out, &st, &err);
	tap_ok(r == PHT_OK && json_integer_value(json_object_get(out, "last")) == 200000,
	    "a declared train making 60 MiB of garbage under an 8 MiB cap finishes (%s)",
	    r == PHT_OK ? "ok" : err.msg);
	/* with the collector stopped the heap fills to the cap before each emergency collection */
	tap_ok(r == PHT_OK && st.peak_memory < 2 * MIB,
	    "  its heap stays small: the collector runs as it goes (peak %zu bytes)",
	    r == PHT_OK ? st.peak_memory : (size_t)0);
	json_decref(out);
	json_decref(params);
	pht_dataset_free(ds);
}

int
main(void)
{
	struct pht_train_ctx ctx;
	struct pht_limits lim;
	lua_State *L;
	size_t used0, n;
	uint8_t *u, *v;
	int st;

	pht_limits_default(&lim);
	lim.memory_bytes = 16 * MIB;
	if (pht_train_ctx_init(&ctx, &lim, NULL) != PHT_OK || (L = pht_train_lua_new(&ctx, 1)) == NULL) {
		tap_ok(0, "a state under a 16 MiB cap");
		return tap_done();
	}
	tap_ok(ctx.big_cap == 16 + 2 && ctx.nbig == 0,
	    "room for cap / 1 MiB + 2 big blocks (%zu), none yet", ctx.big_cap);

	used0 = ctx.used;
	u = lua_newuserdatauv(L, 3 * MIB, 0);
	memset(u, 0xa5, 3 * MIB);
	tap_ok(ctx.nbig == 1 && ((uintptr_t)ctx.big[0].p & (2 * MIB - 1)) == 0 &&
	    ctx.big[0].len == 4 * MIB && inside(&ctx, 0, u, 3 * MIB),
	    "a 3 MiB userdata is a mapping of its own: 2 MiB-aligned, 4 MiB long, written through");
	/* (the collector may free a little garbage meanwhile) */
	tap_ok(ctx.used > used0 + 3 * MIB - 65536 && ctx.used < used0 + 3 * MIB + 65536,
	    "the cap counts the bytes Lua asked for (%zu more), not the mapping's length",
	    ctx.used - used0);
	v = lua_newuserdatauv(L, MIB - 4096, 0);
	tap_ok(ctx.nbig == 1, "a userdata under 1 MiB comes from malloc");
	v[0] = 1;
	lua_pop(L, 2);
	lua_gc(L, LUA_GCCOLLECT);
	tap_ok(ctx.nbig == 0 && ctx.used <= used0,
	    "collected: the mapping is gone and the count is back (%zu, %zu)", ctx.used, used0);

	/* a big table part and a big string are never mapped: Lua resizes them */
	st = luaL_dostring(L, "local t = {} for i = 1, 200000 do t[i] = i end "
	    "local s = string.rep('x', 2 * 1024 * 1024) return #t + #s");
	tap_ok(st == LUA_OK && lua_tointeger(L, -1) == 200000 + 2 * 1024 * 1024 && ctx.nbig == 0,
	    "a table of 200,000 entries and a 2 MiB string: through malloc and realloc");
	lua_pop(L, 1);

	/* up to the cap: each big block counted, then a block past it refused */
	for (n = 0; n < 32; n++) {
		if (ctx.cap - ctx.used < 2 * MIB + 65536)
			break;
		u = lua_newuserdatauv(L, 2 * MIB, 0);
		u[2 * MIB - 1] = 1;
	}
	tap_ok(n >= 4 && ctx.nbig == n && ctx.used <= ctx.cap,
	    "%zu blocks of 2 MiB under the 16 MiB cap, each a mapping (%zu), %zu bytes counted",
	    n, ctx.nbig, ctx.used);
	st = luaL_dostring(L, "return string.rep('y', 8 * 1024 * 1024)");
	tap_ok(st != 0 && lua_isstring(L, -1) && strstr(lua_tostring(L, -1), "not enough memory") != NULL,
	    "past the cap the allocation is refused (%s)", st != 0 ? lua_tostring(L, -1) : "ok");
	lua_settop(L, 0);
	lua_gc(L, LUA_GCCOLLECT);
	tap_ok(ctx.nbig == 0, "every big block unmapped once collected (%zu left)", ctx.nbig);
	lua_close(L);
	pht_train_ctx_clear(&ctx);
	declared_train_collects();
	return tap_done();
}
