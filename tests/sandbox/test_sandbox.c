/* test_sandbox.c — the rlimit mechanism (also the first step of the seccomp one), proven by trying what it forbids in a forked process. */
#include "tap.h"

#include "pht_config.h"
#include "pht_err.h"
#include "pht_sandbox.h"
#include "pht_train.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The child enters the sandbox and reports one byte per check on a pipe
 * ('1' passed, '0' failed) in a fixed order, so the parent can name each.
 */
static const char *const checks[] = {
	"pht_sandbox_rlimit_enter succeeds",
	"RLIMIT_CORE is 0",
	"RLIMIT_FSIZE is 0: writing a file fails with EFBIG",
	"RLIMIT_NOFILE is 8: the 9th descriptor is refused with EMFILE",
	"RLIMIT_NPROC is 0",
	"RLIMIT_CPU is ceil(wall) + 1 soft, + 2 hard",
	"PR_SET_NO_NEW_PRIVS is set",
	"the process is not dumpable",
	"the hard limits cannot be raised again",
};
#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

static void
child(int wfd, const char *tmpfile)
{
	struct pht_limits lim;
	struct pht_err err;
	struct rlimit rl;
	char res[NCHECKS];
	int fd, fds[16], i, n = 0, ok;

	memset(res, '0', sizeof(res));
	pht_limits_default(&lim);
	lim.wall_seconds = 2.5;
	signal(SIGXFSZ, SIG_IGN);
	fd = open(tmpfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	res[0] = pht_sandbox_rlimit_enter(&lim, &err) == PHT_OK ? '1' : '0';
	res[1] = getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == 0 ?
	    '1' : '0';
	errno = 0;
	res[2] = fd >= 0 && write(fd, "x", 1) < 0 && errno == EFBIG ? '1' : '0';
	if (fd >= 0)
		close(fd);
	for (i = 0; i < 16; i++) {
		fds[i] = dup(0);
		if (fds[i] < 0)
			break;
		n++;
	}
	ok = i < 16 && errno == EMFILE;
	/* 0, 1, 2 and the pipe are open: 8 - 4 = 4 more descriptors at most. */
	res[3] = ok && n <= 8 - 4 ? '1' : '0';
	while (n > 0)
		close(fds[--n]);
	res[4] = getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur == 0 ? '1' : '0';
	res[5] = getrlimit(RLIMIT_CPU, &rl) == 0 && rl.rlim_cur == 4 && rl.rlim_max == 5 ?
	    '1' : '0';
	res[6] = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? '1' : '0';
	res[7] = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 ? '1' : '0';
	rl.rlim_cur = rl.rlim_max = 100;
	/* Root (CAP_SYS_RESOURCE) may raise them: reported as a skip. */
	res[8] = geteuid() == 0 ? 's' : setrlimit(RLIMIT_CPU, &rl) != 0 ? '1' : '0';
	if (write(wfd, res, sizeof(res)) != (ssize_t)sizeof(res))
		_exit(2);
	_exit(0);
}

int
main(void)
{
	char tmpfile[] = "/tmp/pht-sandbox-test-XXXXXX";
	char res[NCHECKS];
	int p[2], status, tfd;
	size_t i;
	pid_t pid;

	tap_ok(strcmp(pht_sandbox_name(), PHT_SANDBOX_SECCOMP ? "seccomp" : "rlimit") == 0,
	    "pht_sandbox_name names the mechanism built in (%s)", pht_sandbox_name());
	tfd = mkstemp(tmpfile);
	if (tfd >= 0)
		close(tfd);
	if (pipe(p) != 0 || (pid = fork()) < 0) {
		tap_ok(0, "pipe and fork");
		return tap_done();
	}
	if (pid == 0) {
		close(p[0]);
		child(p[1], tmpfile);
	}
	close(p[1]);
	memset(res, 0, sizeof(res));
	tap_ok(read(p[0], res, sizeof(res)) == (ssize_t)sizeof(res), "the child reports");
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child exits cleanly");
	for (i = 0; i < NCHECKS; i++) {
		if (res[i] == 's')
			tap_ok(1, "%s # SKIP running as root", checks[i]);
		else
			tap_ok(res[i] == '1', "%s", checks[i]);
	}
	unlink(tmpfile);
	return tap_done();
}
