/* pht_sandbox_rlimit.c — the rlimit + no_new_privs mechanism for the train child (also the first step of the seccomp one). */
#include "pht_sandbox.h"
#include "pht_train.h"
#include "pht_err.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define PHT_SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PHT_SANDBOX_ASAN 1
#endif
#endif
#ifndef PHT_SANDBOX_ASAN
#define PHT_SANDBOX_ASAN 0
#endif

/* Room above the Lua heap cap for the C stack, libc, the output buffer. */
#define PHT_SANDBOX_HEADROOM ((rlim_t)256 << 20)
#define PHT_SANDBOX_NOFILE 8

static int
set_limit(int resource, const char *name, rlim_t soft, rlim_t hard,
    struct pht_err *err)
{
	struct rlimit rl;
	int e;

	rl.rlim_cur = soft;
	rl.rlim_max = hard;
	if (setrlimit(resource, &rl) != 0) {
		e = errno;
		pht_errf(err, PHT_ERR_INTERNAL, "sandbox: setrlimit(%s): %s", name,
		    strerror(e));
		errno = e;
		return PHT_ERR_INTERNAL;
	}
	return PHT_OK;
}

/*
 * Current virtual size and data size of this process in bytes, from
 * /proc/self/statm (fields 1 and 6, in pages).
 */
static int
current_sizes(rlim_t *vm, rlim_t *data, struct pht_err *err)
{
	char buf[256];
	unsigned long long f[7];
	ssize_t n;
	long page = sysconf(_SC_PAGESIZE);
	int fd;

	fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "sandbox: /proc/self/statm: %s",
		    strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "sandbox: /proc/self/statm: short read");
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2],
	    &f[3], &f[4], &f[5], &f[6]) != 7 || page <= 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "sandbox: /proc/self/statm: unexpected format");
	*vm = (rlim_t)f[0] * (rlim_t)page;
	*data = (rlim_t)f[5] * (rlim_t)page;
	return PHT_OK;
}

int
pht_sandbox_rlimits(const struct pht_limits *lim, struct pht_err *err)
{
	rlim_t vm = 0, data = 0, cpu;
	int r;

	if ((r = set_limit(RLIMIT_CORE, "CORE", 0, 0, err)) != PHT_OK ||
	    (r = set_limit(RLIMIT_FSIZE, "FSIZE", 0, 0, err)) != PHT_OK)
		return r;
	/*
	 * Lowering a hard limit is always allowed by Linux; only emulators
	 * such as valgrind, which keep descriptors of their own above the
	 * soft limit, refuse it. There the soft limit alone is lowered.
	 */
	if (set_limit(RLIMIT_NOFILE, "NOFILE", PHT_SANDBOX_NOFILE,
	    PHT_SANDBOX_NOFILE, err) != PHT_OK) {
		struct rlimit cur;

		if (errno != EPERM || getrlimit(RLIMIT_NOFILE, &cur) != 0 ||
		    (r = set_limit(RLIMIT_NOFILE, "NOFILE", PHT_SANDBOX_NOFILE,
		    cur.rlim_max, err)) != PHT_OK)
			return PHT_ERR_INTERNAL;
	}
	/* No new processes: the train computes, it never forks. */
	if ((r = set_limit(RLIMIT_NPROC, "NPROC", 0, 0, err)) != PHT_OK)
		return r;
	cpu = (rlim_t)ceil(lim->wall_seconds > 0 ? lim->wall_seconds : 1) + 1;
	if ((r = set_limit(RLIMIT_CPU, "CPU", cpu, cpu + 1, err)) != PHT_OK)
		return r;
	if (!PHT_SANDBOX_ASAN) {
		if ((r = current_sizes(&vm, &data, err)) != PHT_OK)
			return r;
		vm += (rlim_t)lim->memory_bytes + PHT_SANDBOX_HEADROOM;
		data += (rlim_t)lim->memory_bytes + PHT_SANDBOX_HEADROOM;
		if ((r = set_limit(RLIMIT_AS, "AS", vm, vm, err)) != PHT_OK ||
		    (r = set_limit(RLIMIT_DATA, "DATA", data, data, err)) != PHT_OK)
			return r;
	}
	return PHT_OK;
}

int
pht_sandbox_privs(struct pht_err *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "sandbox: PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "sandbox: PR_SET_DUMPABLE: %s",
		    strerror(errno));
	return PHT_OK;
}

int
pht_sandbox_rlimit_enter(const struct pht_limits *lim, struct pht_err *err)
{
	int r;

	if ((r = pht_sandbox_rlimits(lim, err)) != PHT_OK)
		return r;
	return pht_sandbox_privs(err);
}
