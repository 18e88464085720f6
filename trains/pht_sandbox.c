/* pht_sandbox.c — the mechanism chosen at build time (meson option sandbox). */
#include "pht_config.h"
#include "pht_sandbox.h"

#ifndef PHT_SANDBOX_SECCOMP
#error "PHT_SANDBOX_SECCOMP must be set in pht_config.h by meson.build"
#endif

int
pht_sandbox_child_enter(const struct pht_limits *lim, struct pht_err *err)
{
#if PHT_SANDBOX_SECCOMP
	return pht_sandbox_seccomp_enter(lim, err);
#else
	return pht_sandbox_rlimit_enter(lim, err);
#endif
}

const char *
pht_sandbox_name(void)
{
	return PHT_SANDBOX_SECCOMP ? "seccomp" : "rlimit";
}
