/* test_sandbox_seccomp.c — the seccomp filter proven bubblewrap-style: each forbidden call tried in its own forked, filtered child. */
#include "tap.h"

#include "pht_err.h"
#include "pht_sandbox.h"
#include "pht_train.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What one attempt does inside the filtered child; its return value is reported. */
typedef long (*attempt_fn)(void *arg);

/* What the parent saw. */
struct outcome {
	int sigsys;             /* the child died of SIGSYS */
	int other_signal;       /* the signal, if another one killed it */
	int exited;             /* the child exited (status in status) */
	int status;
	int reported;           /* a violation record arrived */
	char name[64];          /* the system call it names */
	int nr;                 /* and its number */
	long value;             /* the attempt's return value, if it returned */
	int err;                /* errno after the attempt */
	int returned;           /* the attempt returned and reported */
};

/*
 * Forks; the child puts the pipe on PHT_SANDBOX_FD, runs prep (before
 * the filter: what the runtime sets up first), enters the seccomp
 * mechanism, runs fn and writes {value, errno} to the pipe.
 */
static void
try_in_child(attempt_fn prep, attempt_fn fn, void *arg, struct outcome *o)
{
	struct pht_limits lim;
	struct pht_err err;
	uint8_t buf[256];
	size_t len = 0;
	ssize_t n;
	int p[2], status = 0, nr;
	long res[2];
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (pipe(p) != 0 || (pid = fork()) < 0) {
		o->status = -1;
		return;
	}
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], PHT_SANDBOX_FD) < 0)
			_exit(10);
		if (p[1] != PHT_SANDBOX_FD)
			close(p[1]);
		if (prep != NULL && prep(arg) < 0)
			_exit(11);
		pht_limits_default(&lim);
		lim.wall_seconds = 10;
		if (pht_sandbox_seccomp_enter(&lim, &err) != PHT_OK) {
			fprintf(stderr, "# %s\n", err.msg);
			_exit(12);
		}
		errno = 0;
		res[0] = fn(arg);
		res[1] = errno;
		if (write(PHT_SANDBOX_FD, res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(13);
		_exit(0);
	}
	close(p[1]);
	while (len < sizeof(buf) && (n = read(p[0], buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status)) {
		o->sigsys = WTERMSIG(status) == SIGSYS;
		o->other_signal = o->sigsys ? 0 : WTERMSIG(status);
	} else if (WIFEXITED(status)) {
		o->exited = 1;
		o->status = WEXITSTATUS(status);
	}
	if (pht_sandbox_report_decode(buf, len, &nr)) {
		o->reported = 1;
		o->nr = nr;
		pht_sandbox_syscall_name(nr, o->name, sizeof(o->name));
	}
	if (o->exited && o->status == 0 && len == sizeof(res)) {
		memcpy(res, buf, sizeof(res));
		o->returned = 1;
		o->value = res[0];
		o->err = (int)res[1];
	}
}

/* Asserts that the call was refused through SIGSYS and named. */
static void
expect_refused(const char *what, attempt_fn prep, attempt_fn fn, void *arg,
    const char *syscall_name)
{
	struct outcome o;

	try_in_child(prep, fn, arg, &o);
	tap_ok(o.sigsys && o.reported && strcmp(o.name, syscall_name) == 0,
	    "%s: the child is killed by SIGSYS and the report names %s "
	    "(sigsys %d, other signal %d, exit %d/%d, named '%s')", what, syscall_name,
	    o.sigsys, o.other_signal, o.exited, o.status, o.reported ? o.name : "");
}

/* ---- the attempts ---- */

static long
do_open(void *arg)
{
	(void)arg;
	return open("/etc/hostname", O_RDONLY);
}

static long
do_openat(void *arg)
{
	(void)arg;
	return syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
}

static long
do_fopen(void *arg)
{
	FILE *fp = fopen("/etc/hostname", "r");

	(void)arg;
	if (fp != NULL)
		fclose(fp);
	return fp != NULL;
}

static long
do_socket(void *arg)
{
	(void)arg;
	return socket(AF_INET, SOCK_STREAM, 0);
}

/* Before the filter: a socket the child inherits (as a leaked descriptor would be). */
static long
prep_socket(void *arg)
{
	int *fd = arg;

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	return *fd;
}

static long
do_connect(void *arg)
{
	struct sockaddr_in sa;
	int *fd = arg;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(9);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect(*fd, (struct sockaddr *)&sa, sizeof(sa));
}

static long
do_fork(void *arg)
{
	pid_t pid;

	(void)arg;
	pid = fork();
	if (pid == 0)
		_exit(0);
	return pid;
}

static long
do_vfork(void *arg)
{
	(void)arg;
	return syscall(SYS_vfork);
}

static long
do_clone3(void *arg)
{
	(void)arg;
	return syscall(SYS_clone3, NULL, 0);
}

static long
do_execve(void *arg)
{
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)"true", NULL};
	char *envp[] = {NULL};

	(void)arg;
	return execve("/bin/sh", argv, envp);
}

static long
do_ptrace(void *arg)
{
	(void)arg;
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static long
do_kill_parent(void *arg)
{
	return kill(*(pid_t *)arg, 0);
}

static long
do_kill_init(void *arg)
{
	(void)arg;
	return kill(1, 0);
}

static long
do_mmap_exec(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	return p == MAP_FAILED ? -1 : 0;
}

static long
do_mprotect_exec(void *arg)
{
	static char page[8192] __attribute__((aligned(4096)));

	(void)arg;
	return mprotect(page, 4096, PROT_READ | PROT_EXEC);
}

static long
do_mmap_file(void *arg)
{
	int *fd = arg;
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, *fd, 0);

	return p == MAP_FAILED ? -1 : 0;
}

static long
prep_file(void *arg)
{
	int *fd = arg;

	*fd = open("/etc/hostname", O_RDONLY);
	return *fd;
}

static long
do_read_file(void *arg)
{
	char b[16];
	int *fd = arg;

	return read(*fd, b, sizeof(b));
}

static long
do_write_stdout(void *arg)
{
	(void)arg;
	return write(1, "x", 1);
}

static long
do_unlink(void *arg)
{
	(void)arg;
	return unlink("/tmp/pht-seccomp-test-no-such-file");
}

static long
do_setrlimit(void *arg)
{
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};

	(void)arg;
	return setrlimit(RLIMIT_NPROC, &rl);
}

static long
do_prctl(void *arg)
{
	(void)arg;
	return syscall(SYS_prctl, 38 /* PR_SET_NO_NEW_PRIVS */, 0, 0, 0, 0);
}

static long
do_unnamed(void *arg)
{
	(void)arg;
	return syscall(1000);
}

/*
 * The runtime's CPU-time budget: a timer on the thread CPU clock,
 * created before the filter, whose SIGPROF carries a pointer to a
 * counter. Under the filter the signal must still be delivered and its
 * handler return (rt_sigreturn); creating or changing timers must not.
 */
struct ticker {
	timer_t timer;
	volatile sig_atomic_t ticks;
};

static void
on_prof(int sig, siginfo_t *si, void *uc)
{
	struct ticker *t = si->si_value.sival_ptr;

	(void)sig;
	(void)uc;
	if (si->si_code == SI_TIMER && t != NULL)
		t->ticks++;
}

static long
prep_timer(void *arg)
{
	struct ticker *t = arg;
	struct sigaction sa;
	struct sigevent sev;
	struct itimerspec its;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGPROF;
	sev.sigev_value.sival_ptr = t;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 1000000;
	its.it_interval.tv_nsec = 1000000;
	if (sigaction(SIGPROF, &sa, NULL) != 0 ||
	    timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t->timer) != 0 ||
	    timer_settime(t->timer, 0, &its, NULL) != 0)
		return -1;
	return 0;
}

/* Computes until the timer has fired 5 times (bounded: at most 2^34 steps). */
static long
do_ticks(void *arg)
{
	struct ticker *t = arg;
	volatile uint64_t x = 0;
	uint64_t i;

	for (i = 0; i < ((uint64_t)1 << 34) && t->ticks < 5; i++)
		x += i;
	(void)x;
	return t->ticks;
}

static long
do_timer_settime(void *arg)
{
	struct ticker *t = arg;
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	return timer_settime(t->timer, 0, &its, NULL);
}

static long
do_timer_create(void *arg)
{
	struct sigevent sev;
	timer_t id;

	(void)arg;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	return timer_create(CLOCK_MONOTONIC, &sev, &id);
}

static long
do_setitimer(void *arg)
{
	struct itimerval it;

	(void)arg;
	memset(&it, 0, sizeof(it));
	return setitimer(ITIMER_PROF, &it, NULL);
}

static long
do_sigaction(void *arg)
{
	struct sigaction sa;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPROF, &sa, NULL);
}

#ifdef __x86_64__
static long
do_x32(void *arg)
{
	(void)arg;
	return syscall(0x40000000 | 39 /* x32 getpid */);
}
#endif

/* What a computing train needs: memory, time, randomness, its own pid, the pipe. */
static long
do_compute(void *arg)
{
	struct timespec ts;
	uint8_t rnd[16];
	size_t n = (size_t)64 << 20, i;
	char *big;
	void *small[1000];

	(void)arg;
	if ((big = malloc(n)) == NULL)
		return -1;
	for (i = 0; i < n; i += 4096)
		big[i] = (char)i;
	if ((big = realloc(big, 2 * n)) == NULL)
		return -2;
	free(big);
	for (i = 0; i < 1000; i++)
		if ((small[i] = malloc(i * 37 + 1)) == NULL)
			return -3;
	for (i = 0; i < 1000; i++)
		free(small[i]);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return -4;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -5;
	if (kill(getpid(), 0) != 0)
		return -6;
	if (write(PHT_SANDBOX_FD, "", 0) != 0)
		return -7;
	return 42;
}

int
main(void)
{
	struct outcome o;
	pid_t parent = getpid();
	int fd = -1;

	tap_ok(strcmp(pht_sandbox_name(), "seccomp") == 0,
	    "the seccomp mechanism is the one the runtime uses");

	try_in_child(NULL, do_compute, NULL, &o);
	tap_ok(o.returned && o.value == 42,
	    "allowed: 64 MiB malloc/realloc, small allocations, clock_gettime, getrandom, "
	    "kill(self, 0), write to the pipe (value %ld, signal %d, refused '%s')", o.value,
	    o.sigsys ? SIGSYS : o.other_signal, o.reported ? o.name : "");

	try_in_child(NULL, do_open, NULL, &o);
	tap_ok(o.returned && o.value == -1 && o.err == EACCES,
	    "open(\"/etc/hostname\") fails with EACCES and the child lives on (%ld, %s, "
	    "refused '%s')", o.value, strerror(o.err), o.reported ? o.name : "");
	try_in_child(NULL, do_openat, NULL, &o);
	tap_ok(o.returned && o.value == -1 && o.err == EACCES,
	    "openat(AT_FDCWD, \"/etc/hostname\") fails with EACCES (%ld, %s)", o.value,
	    strerror(o.err));
	try_in_child(NULL, do_fopen, NULL, &o);
	tap_ok(o.returned && o.value == 0 && o.err == EACCES,
	    "fopen() through libc fails with EACCES (%ld, %s)", o.value, strerror(o.err));

	expect_refused("socket(AF_INET, SOCK_STREAM)", NULL, do_socket, NULL, "socket");
	expect_refused("connect() to 127.0.0.1:9 on a socket opened before the filter",
	    prep_socket, do_connect, &fd, "connect");
	expect_refused("fork()", NULL, do_fork, NULL, "clone");
	expect_refused("vfork()", NULL, do_vfork, NULL, "vfork");
	expect_refused("clone3()", NULL, do_clone3, NULL, "clone3");
	expect_refused("execve(\"/bin/sh\")", NULL, do_execve, NULL, "execve");
	expect_refused("ptrace(PTRACE_TRACEME)", NULL, do_ptrace, NULL, "ptrace");
	expect_refused("kill(parent, 0)", NULL, do_kill_parent, &parent, "kill");
	expect_refused("kill(1, 0)", NULL, do_kill_init, NULL, "kill");
	expect_refused("mmap(PROT_EXEC)", NULL, do_mmap_exec, NULL, "mmap");
	expect_refused("mprotect(PROT_EXEC)", NULL, do_mprotect_exec, NULL, "mprotect");
	expect_refused("mmap of a file opened before the filter", prep_file, do_mmap_file,
	    &fd, "mmap");
	expect_refused("read() of a file opened before the filter", prep_file, do_read_file,
	    &fd, "read");
	expect_refused("write(1) (anywhere but the pipe)", NULL, do_write_stdout, NULL,
	    "write");
	expect_refused("unlink()", NULL, do_unlink, NULL, "unlink");
	expect_refused("setrlimit(RLIMIT_NPROC, unlimited)", NULL, do_setrlimit, NULL,
	    "prlimit64");
	expect_refused("prctl()", NULL, do_prctl, NULL, "prctl");

	{
		struct ticker t;

		memset(&t, 0, sizeof(t));
		try_in_child(prep_timer, do_ticks, &t, &o);
		tap_ok(o.returned && o.value >= 5,
		    "a CPU-time timer armed before the filter keeps firing under it: its "
		    "signal is delivered and the handler returns (ticks %ld, signal %d, "
		    "refused '%s')", o.value, o.sigsys ? SIGSYS : o.other_signal,
		    o.reported ? o.name : "");
		expect_refused("timer_settime() on the budget's timer (disarming it)",
		    prep_timer, do_timer_settime, &t, "timer_settime");
		expect_refused("timer_create()", NULL, do_timer_create, NULL, "timer_create");
		expect_refused("setitimer(ITIMER_PROF)", NULL, do_setitimer, NULL, "setitimer");
		expect_refused("sigaction(SIGPROF, SIG_IGN)", prep_timer, do_sigaction, &t,
		    "rt_sigaction");
	}

	try_in_child(NULL, do_unnamed, NULL, &o);
	tap_ok(o.sigsys && o.reported && o.nr == 1000 && strcmp(o.name, "unknown") == 0,
	    "system call 1000 (no name) meets the default action: killed by SIGSYS, the "
	    "record names number 1000 (sigsys %d, reported %d, number %d, named '%s')",
	    o.sigsys, o.reported, o.nr, o.reported ? o.name : "");
#ifdef __x86_64__
	try_in_child(NULL, do_x32, NULL, &o);
	tap_ok(o.sigsys && !o.reported,
	    "an x32-ABI system call is killed as a foreign architecture (sigsys %d, "
	    "reported %d)", o.sigsys, o.reported);
#endif
	return tap_done();
}
