/* pht_sandbox.h — confining the child process that runs a train (OpenSSH ssh-sandbox.h style). */
#ifndef PHT_SANDBOX_H
#define PHT_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

struct pht_limits;
struct pht_err;

/*
 * One implementation per mechanism, the strongest built in chosen by
 * pht_sandbox_child_enter:
 *   pht_sandbox_seccomp.c  rlimits, no_new_privs, then a seccomp-bpf filter
 *                          (libseccomp; meson option sandbox=seccomp|auto)
 *   pht_sandbox_rlimit.c   rlimits and no_new_privs only (sandbox=rlimit, or
 *                          auto without libseccomp)
 * There is deliberately no "none": every Linux has rlimits, and a build
 * that silently runs trains unconfined is a trap.
 *
 * The child's only channel to its parent is file descriptor
 * PHT_SANDBOX_FD, open before the child enters the sandbox. The seccomp
 * mechanism lets the child write there and nowhere else, and when it
 * refuses a system call it writes a violation record there (below)
 * before the kernel kills the child with SIGSYS.
 */
#define PHT_SANDBOX_FD 3

/*
 * Called in the freshly forked child after all setup (file descriptors
 * in place, Lua state built, train code loaded) and before any train code
 * runs: the built-in mechanism's enter function. Irreversible.
 * PHT_ERR_INTERNAL with the failing step on error (the child must then
 * not run the train).
 */
int pht_sandbox_child_enter(const struct pht_limits *lim, struct pht_err *err);

/*
 * The rlimit mechanism: RLIMIT_CORE 0, RLIMIT_FSIZE 0, RLIMIT_NPROC 0, a
 * small RLIMIT_NOFILE, RLIMIT_AS and RLIMIT_DATA sized from the current
 * use plus lim->memory_bytes and headroom (not under AddressSanitizer,
 * which needs its shadow mappings), RLIMIT_CPU from lim->wall_seconds;
 * then PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE 0.
 */
int pht_sandbox_rlimit_enter(const struct pht_limits *lim, struct pht_err *err);

/*
 * The seccomp mechanism: pht_sandbox_rlimit_enter, then a SIGSYS handler
 * and the filter (docs/trains.md lists what it allows). Refuses to run
 * (PHT_ERR_INTERNAL) on an architecture it was not written for.
 * PHT_ERR_INTERNAL "sandbox: seccomp not built in" without libseccomp.
 */
int pht_sandbox_seccomp_enter(const struct pht_limits *lim, struct pht_err *err);

/* The rlimit step alone (part of both mechanisms). */
int pht_sandbox_rlimits(const struct pht_limits *lim, struct pht_err *err);

/* PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE 0 (part of both mechanisms). */
int pht_sandbox_privs(struct pht_err *err);

/* Name of the mechanism pht_sandbox_child_enter uses ("seccomp", "rlimit"). Static string. */
const char *pht_sandbox_name(void);

/*
 * The violation record: u32 magic PHT_SANDBOX_REPORT_MAGIC ("PHTS"), i32
 * system call number, u32 audit architecture (AUDIT_ARCH_*), u32 zero;
 * host byte order, written in one write(2) (atomic on a pipe).
 */
#define PHT_SANDBOX_REPORT_MAGIC 0x53544850u
#define PHT_SANDBOX_REPORT_SIZE 16

/*
 * Decodes a violation record from the last PHT_SANDBOX_REPORT_SIZE of the
 * len hostile bytes at data. 1 with *nr set if it is a well-formed record
 * for this process's own architecture, 0 otherwise.
 */
int pht_sandbox_report_decode(const uint8_t *data, size_t len, int *nr);

/*
 * Writes the name of system call nr on this architecture into out ("socket"),
 * or "unknown" if it has none (or seccomp is not built in). Always
 * NUL-terminates when outlen > 0.
 */
void pht_sandbox_syscall_name(int nr, char *out, size_t outlen);

#endif
