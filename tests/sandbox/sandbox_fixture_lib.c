/* sandbox_fixture_lib.c — C functions that make forbidden system calls, for the broken-runtime fixtures. */
#include "sandbox_fixture_lib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
push_result(lua_State *L, long r)
{
	int e = errno;

	lua_pushinteger(L, r);
	lua_pushinteger(L, r < 0 ? e : 0);
	return 2;
}

static int
try_open(lua_State *L)
{
	errno = 0;
	return push_result(L, open(luaL_checkstring(L, 1), O_RDONLY));
}

static int
try_openat(lua_State *L)
{
	errno = 0;
	return push_result(L, syscall(SYS_openat, AT_FDCWD, luaL_checkstring(L, 1),
	    O_RDONLY, 0));
}

static int
try_socket(lua_State *L)
{
	errno = 0;
	return push_result(L, socket(AF_INET, SOCK_STREAM, 0));
}

/* connect() to 127.0.0.1:port on descriptor 0 (what the train could reach if socket worked). */
static int
try_connect(lua_State *L)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)luaL_checkinteger(L, 1));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	errno = 0;
	return push_result(L, connect(0, (struct sockaddr *)&sa, sizeof(sa)));
}

static int
try_fork(lua_State *L)
{
	pid_t pid;

	errno = 0;
	pid = fork();
	if (pid == 0)
		_exit(0);
	return push_result(L, pid);
}

static int
try_execve(lua_State *L)
{
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)"true", NULL};
	char *envp[] = {NULL};

	errno = 0;
	return push_result(L, execve("/bin/sh", argv, envp));
}

static int
try_kill_parent(lua_State *L)
{
	errno = 0;
	return push_result(L, kill((pid_t)luaL_checkinteger(L, 1), 0));
}

void
pht_fixture_openlib(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"open", try_open}, {"openat", try_openat}, {"socket", try_socket},
		{"connect", try_connect}, {"fork", try_fork}, {"execve", try_execve},
		{"kill", try_kill_parent}, {NULL, NULL},
	};

	luaL_newlib(L, fns);
	lua_setglobal(L, "try");
}
