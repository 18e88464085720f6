/* pht_sandbox_seccomp.c — the seccomp-bpf mechanism: rlimits, no_new_privs, then a filter that lets the train child only compute and write to its parent. */
#include "pht_config.h"
#include "pht_sandbox.h"
#include "pht_train.h"
#include "pht_err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if PHT_SANDBOX_SECCOMP

#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define PHT_SECCOMP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PHT_SECCOMP_ASAN 1
#endif
#endif
#ifndef PHT_SECCOMP_ASAN
#define PHT_SECCOMP_ASAN 0
#endif

/* Highest system call number a violation record may name (x86_64 and aarch64 stay well below). */
#define PHT_SECCOMP_NR_MAX 1024
/* The only file descriptor AddressSanitizer and UBSan report on. */
#define PHT_SECCOMP_STDERR 2

/*
 * The SIGSYS handler for a refused call (SECCOMP_RET_TRAP): one violation
 * record on PHT_SANDBOX_FD, then a call the filter refuses again. SIGSYS
 * is blocked while its handler runs, so the kernel resets it to the
 * default action and the process dies of SIGSYS: the handler never
 * returns to the train. Only raw system calls, all async-signal-safe;
 * no state but the signal's own.
 */
static void
on_sigsys(int sig, siginfo_t *si, void *uc)
{
	uint32_t rec[PHT_SANDBOX_REPORT_SIZE / 4];

	(void)sig;
	(void)uc;
	rec[0] = PHT_SANDBOX_REPORT_MAGIC;
	rec[1] = (uint32_t)si->si_syscall;
	rec[2] = (uint32_t)si->si_arch;
	rec[3] = 0;
	(void)syscall(SYS_write, PHT_SANDBOX_FD, rec, sizeof(rec));
	for (;;)
		(void)syscall(SYS_getppid);
}

/* The filter under construction. */
struct filter {
	scmp_filter_ctx ctx;
	struct pht_err *err;
};

static int
rule(struct filter *f, uint32_t action, int nr, const char *name, unsigned int nargs,
    const struct scmp_arg_cmp *args)
{
	int r;

	if (nr < 0)             /* not a system call on this architecture */
		return PHT_OK;
	if ((r = seccomp_rule_add_array(f->ctx, action, nr, nargs, args)) != 0)
		return pht_errf(f->err, PHT_ERR_INTERNAL, "sandbox: seccomp rule for %s: %s",
		    name, strerror(-r));
	return PHT_OK;
}

/*
 * One argument comparison with every field set (libseccomp's SCMP_A*
 * macros leave datum_b to a compound literal, which clang warns about).
 * MASKED_EQ: (arg & a) == b; the others compare with a.
 */
static struct scmp_arg_cmp
cmp(unsigned int arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp c;

	c.arg = arg;
	c.op = op;
	c.datum_a = a;
	c.datum_b = b;
	return c;
}

#define ALLOW(f, name) rule((f), SCMP_ACT_ALLOW, SCMP_SYS(name), #name, 0, NULL)

/*
 * The allow-list. Everything it does not allow meets the filter's default
 * action, SECCOMP_RET_TRAP: the SIGSYS handler reports the call and the
 * child dies. (A rule per refused call, as before, made libseccomp spend
 * about 2 ms of every run building the filter; the outcome is the same.)
 */
static int
build(struct filter *f)
{
	const int pid = (int)getpid();
	struct scmp_arg_cmp a[2];
	int r;

	/* The allocator (glibc malloc; ASan's own allocator under ASan). */
	if ((r = ALLOW(f, brk)) != PHT_OK || (r = ALLOW(f, munmap)) != PHT_OK ||
	    (r = ALLOW(f, mremap)) != PHT_OK || (r = ALLOW(f, madvise)) != PHT_OK)
		return r;
	/* mmap: anonymous memory, never executable; mprotect never to executable. */
	a[0] = cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	a[1] = cmp(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS);
	if ((r = rule(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), "mmap", 2, a)) != PHT_OK)
		return r;
	a[0] = cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	if ((r = rule(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), "mprotect", 1, a)) != PHT_OK)
		return r;

	/*
	 * The output: write to the pipe to the parent only (and, under
	 * AddressSanitizer, to stderr, where ASan and UBSan print their
	 * reports). Closing descriptors the child already holds is harmless.
	 */
	a[0] = cmp(0, SCMP_CMP_EQ, PHT_SANDBOX_FD, 0);
	if ((r = rule(f, SCMP_ACT_ALLOW, SCMP_SYS(write), "write", 1, a)) != PHT_OK)
		return r;
	if (PHT_SECCOMP_ASAN) {
		a[0] = cmp(0, SCMP_CMP_EQ, PHT_SECCOMP_STDERR, 0);
		if ((r = rule(f, SCMP_ACT_ALLOW, SCMP_SYS(write), "write", 1, a)) != PHT_OK)
			return r;
	}
	if ((r = ALLOW(f, close)) != PHT_OK)
		return r;
	/*
	 * AddressSanitizer's runtime (dying or reporting) sets its alternate
	 * signal stack: harmless, a thread's own stack pointer for signals.
	 */
	if (PHT_SECCOMP_ASAN && (r = ALLOW(f, sigaltstack)) != PHT_OK)
		return r;

	/*
	 * Leaving, signal returns (the SIGSYS handler's and the CPU-time
	 * budget's SIGPROF, whose timer is armed before the filter), the
	 * self-abort path of libc (abort()).
	 */
	if ((r = ALLOW(f, exit_group)) != PHT_OK || (r = ALLOW(f, exit)) != PHT_OK ||
	    (r = ALLOW(f, rt_sigreturn)) != PHT_OK ||
	    (r = ALLOW(f, rt_sigprocmask)) != PHT_OK ||
	    (r = ALLOW(f, restart_syscall)) != PHT_OK ||
	    (r = ALLOW(f, getpid)) != PHT_OK || (r = ALLOW(f, gettid)) != PHT_OK)
		return r;
	/* Signals to itself only. */
	a[0] = cmp(0, SCMP_CMP_EQ, (uint32_t)pid, 0);
	if ((r = rule(f, SCMP_ACT_ALLOW, SCMP_SYS(kill), "kill", 1, a)) != PHT_OK ||
	    (r = rule(f, SCMP_ACT_ALLOW, SCMP_SYS(tkill), "tkill", 1, a)) != PHT_OK ||
	    (r = rule(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), "tgkill", 1, a)) != PHT_OK)
		return r;

	/* Time (usually the vDSO; the budget's thread CPU clock), randomness, the locks of libc. */
	if ((r = ALLOW(f, clock_gettime)) != PHT_OK || (r = ALLOW(f, clock_getres)) != PHT_OK ||
	    (r = ALLOW(f, gettimeofday)) != PHT_OK || (r = ALLOW(f, time)) != PHT_OK ||
	    (r = ALLOW(f, getrandom)) != PHT_OK || (r = ALLOW(f, futex)) != PHT_OK)
		return r;

	/* Opening anything fails as if forbidden by permissions: libc may try. */
	if ((r = rule(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), "open", 0, NULL)) != PHT_OK ||
	    (r = rule(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), "openat", 0, NULL)) != PHT_OK ||
	    (r = rule(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat2), "openat2", 0, NULL)) != PHT_OK)
		return r;

	/*
	 * sysinfo leaks the host's memory, load and uptime; glibc's qsort asks
	 * it for the memory size (sysconf(_SC_PHYS_PAGES)) and copes with a
	 * failure, so it fails as if the kernel lacked it.
	 */
	return rule(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(sysinfo), "sysinfo", 0, NULL);
}

int
pht_sandbox_seccomp_enter(const struct pht_limits *lim, struct pht_err *err)
{
	struct filter *f = NULL;
	struct sigaction sa;
	sigset_t set;
	uint32_t arch = seccomp_arch_native();
	int r;

	if (arch != SCMP_ARCH_X86_64 && arch != SCMP_ARCH_AARCH64)
		return pht_errf(err, PHT_ERR_INTERNAL, "sandbox: unexpected architecture "
		    "0x%x: the seccomp filter is written for x86_64 and aarch64", arch);
	if ((r = pht_sandbox_rlimit_enter(lim, err)) != PHT_OK)
		return r;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	if (sigaction(SIGSYS, &sa, NULL) != 0 || sigprocmask(SIG_UNBLOCK, &set, NULL) != 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "sandbox: SIGSYS handler: %s",
		    strerror(errno));
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return pht_errf(err, PHT_ERR_INTERNAL, "sandbox: out of memory");
	f->err = err;
	if ((f->ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL) {
		r = pht_errf(err, PHT_ERR_INTERNAL, "sandbox: seccomp_init failed");
		goto out;
	}
	if ((r = seccomp_attr_set(f->ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (r = seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0) {
		r = pht_errf(err, PHT_ERR_INTERNAL, "sandbox: seccomp attribute: %s",
		    strerror(-r));
		goto out;
	}
	if ((r = build(f)) != PHT_OK)
		goto out;
	if ((r = seccomp_load(f->ctx)) != 0) {
		r = pht_errf(err, PHT_ERR_INTERNAL, "sandbox: seccomp_load: %s", strerror(-r));
		goto out;
	}
	r = PHT_OK;
out:
	/* Freeing only unmaps and brk()s: allowed by the filter just loaded. */
	if (f != NULL)
		seccomp_release(f->ctx);
	free(f);
	return r;
}

int
pht_sandbox_report_decode(const uint8_t *data, size_t len, int *nr)
{
	uint32_t rec[PHT_SANDBOX_REPORT_SIZE / 4];

	if (len < PHT_SANDBOX_REPORT_SIZE)
		return 0;
	memcpy(rec, data + len - PHT_SANDBOX_REPORT_SIZE, sizeof(rec));
	if (rec[0] != PHT_SANDBOX_REPORT_MAGIC || rec[2] != seccomp_arch_native() ||
	    rec[3] != 0 || rec[1] >= PHT_SECCOMP_NR_MAX)
		return 0;
	*nr = (int)rec[1];
	return 1;
}

void
pht_sandbox_syscall_name(int nr, char *out, size_t outlen)
{
	char *name = nr >= 0 ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr) : NULL;

	if (outlen == 0)
		return;
	snprintf(out, outlen, "%s", name != NULL ? name : "unknown");
	free(name);
}

#else /* !PHT_SANDBOX_SECCOMP */

int
pht_sandbox_seccomp_enter(const struct pht_limits *lim, struct pht_err *err)
{
	(void)lim;
	return pht_errf(err, PHT_ERR_INTERNAL, "sandbox: seccomp not built in");
}

int
pht_sandbox_report_decode(const uint8_t *data, size_t len, int *nr)
{
	(void)data;
	(void)len;
	(void)nr;
	return 0;
}

void
pht_sandbox_syscall_name(int nr, char *out, size_t outlen)
{
	(void)nr;
	if (outlen > 0)
		snprintf(out, outlen, "unknown");
}

#endif
