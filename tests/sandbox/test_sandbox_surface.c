/* test_sandbox_surface.c — every way a train could reach files, sockets or processes at the Lua level is absent from the real runtime. */
#include "tap.h"
#include "sandbox_gen.h"

#include "pht_err.h"
#include "pht_train.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Runs station code (a Lua expression list returned as a table) on ds. */
static int
run(const struct pht_dataset *ds, const char *body, json_t **out, struct pht_err *err)
{
	struct pht_limits lim;
	struct pht_run_stats stats;
	char code[4096];

	pht_limits_default(&lim);
	lim.wall_seconds = 30;
	snprintf(code, sizeof(code),
	    "return { name = 'surface', version = '1',\n"
	    "  station = function(data, params)\n%s\n  end,\n"
	    "  combine = function(r) return { done = true, result = r } end }\n", body);
	return pht_train_run_station(code, strlen(code), "surface.lua", ds, NULL, 1, 1,
	    &lim, out, &stats, err);
}

int
main(void)
{
	static const char *const absent[] = {"io", "os", "require", "package", "debug",
	    "dofile", "loadfile", "print", "warn", "collectgarbage_collect", "string_dump",
	    "load_binary", "module", "loadstring", "getfenv", "setfenv", "newproxy",
	    "jit", "ffi", NULL};
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	struct gen g;
	json_t *out = NULL, *v;
	size_t i;
	int r;

	if (gen_make(&g, 40, 3) != 0 || gen_load(&g, &ds, &err) != PHT_OK) {
		tap_ok(0, "synthetic dataset");
		return tap_done();
	}
	/*
	 * Each name is looked up in the train's globals, through load() of a
	 * text chunk (its own environment) and through _G/_ENV; the special
	 * ones try the call that would reach the operating system.
	 */
	r = run(ds,
	    "local t = {}\n"
	    "for _, n in ipairs({'io','os','require','package','debug','dofile','loadfile',\n"
	    "    'print','warn','module','loadstring','getfenv','setfenv','newproxy','jit','ffi'}) do\n"
	    "  local direct = _G[n] ~= nil or _ENV[n] ~= nil\n"
	    "  local via_load = load('return ' .. n)() ~= nil\n"
	    "  t[n] = (direct or via_load) and 'present' or 'absent'\n"
	    "end\n"
	    "t.collectgarbage_collect = pcall(collectgarbage, 'collect') and 'present' or 'absent'\n"
	    "t.string_dump = (string.dump ~= nil) and 'present' or 'absent'\n"
	    "local f = load(string.char(27) .. 'LuaT')\n"
	    "t.load_binary = (f ~= nil) and 'present' or 'absent'\n"
	    "return t", &out, &err);
	tap_ok(r == PHT_OK && json_is_object(out), "the probing train runs (%s)",
	    r == PHT_OK ? "ok" : err.msg);
	for (i = 0; absent[i] != NULL; i++) {
		v = json_object_get(out, absent[i]);
		tap_ok(json_is_string(v) && strcmp(json_string_value(v), "absent") == 0,
		    "%s is not reachable from a train (%s)", absent[i],
		    json_is_string(v) ? json_string_value(v) : "no answer");
	}
	json_decref(out);
	out = NULL;

	/* The string library's metatable and the data view's are out of reach. */
	r = run(ds, "return { s = tostring(getmetatable('')), d = tostring(getmetatable(data)) }",
	    &out, &err);
	tap_ok(r == PHT_OK &&
	    strcmp(json_string_value(json_object_get(out, "s")), "false") == 0 &&
	    strcmp(json_string_value(json_object_get(out, "d")), "false") == 0,
	    "getmetatable('') and getmetatable(data) give false (%s)",
	    r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
	out = NULL;

	/* A binary chunk through load is refused, whatever mode is asked for. */
	r = run(ds, "local f, e = load(string.char(27) .. 'LuaT\\0', 'x', 'b')\n"
	    "return { f = f == nil, e = tostring(e) }", &out, &err);
	tap_ok(r == PHT_OK && json_is_true(json_object_get(out, "f")),
	    "load(binary chunk, 'b') is refused (%s)",
	    r == PHT_OK ? json_string_value(json_object_get(out, "e")) : err.msg);
	json_decref(out);
	pht_dataset_free(ds);
	gen_free(&g);
	return tap_done();
}
