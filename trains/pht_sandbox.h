/* pht_sandbox.h — confining the child process that runs a train (OpenSSH ssh-sandbox.h style). */
#ifndef PHT_SANDBOX_H
#define PHT_SANDBOX_H

struct pht_limits;
struct pht_err;

/*
 * Called in the freshly forked child after all setup (file descriptors
 * closed, Lua state built, train code loaded) and before any train code
 * runs. Applies the process limits of lim: RLIMIT_CORE 0, RLIMIT_FSIZE 0,
 * RLIMIT_NPROC 0, a small RLIMIT_NOFILE, RLIMIT_AS and RLIMIT_DATA sized
 * from the current use plus lim->memory_bytes and headroom (not under
 * AddressSanitizer, which needs its shadow mappings), RLIMIT_CPU from
 * lim->wall_seconds; then PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE 0, then
 * the mechanism's filter if it has one. Irreversible. PHT_ERR_INTERNAL
 * with the failing step on error (the child must then not run the train).
 */
int pht_sandbox_child_enter(const struct pht_limits *lim, struct pht_err *err);

/*
 * The rlimit step alone, for mechanisms that build on it (a seccomp
 * implementation calls this, then installs its filter).
 */
int pht_sandbox_rlimits(const struct pht_limits *lim, struct pht_err *err);

/* Name of the mechanism compiled in ("rlimit", "seccomp"). Static string. */
const char *pht_sandbox_name(void);

#endif
