/* sandbox_fixture_lib.h — the deliberately broken runtime's extra library (tests only). */
#ifndef SANDBOX_FIXTURE_LIB_H
#define SANDBOX_FIXTURE_LIB_H

#include <lua.h>

/*
 * Compiled into a test binary's own copy of the runtime through
 * PHT_TRAIN_FIXTURE_OPENLIB=pht_fixture_openlib (tests/sandbox/meson.build):
 * a global table `try` whose functions make the system calls a
 * compromised runtime (a Lua or C bug turned into code execution) would
 * make: try.open(path), try.openat(path), try.socket(), try.connect(port),
 * try.fork(), try.execve(), try.kill(pid). Each returns the call's result
 * and errno when the call returns at all.
 */
void pht_fixture_openlib(lua_State *L);

#endif
