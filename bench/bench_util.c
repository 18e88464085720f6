/* bench_util.c — clocks, peak memory and child-process measurement for the PHT benchmarks. */
#include "bench_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double
bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

long
bench_hwm_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

/* In the child: fd onto path (or /dev/null). */
static void
redirect(int fd, const char *path)
{
	int f = open(path != NULL ? path : "/dev/null",
	    path != NULL ? O_WRONLY | O_CREAT | O_TRUNC : O_WRONLY, 0644);

	if (f < 0)
		_exit(126);
	dup2(f, fd);
	close(f);
}

int
bench_spawn(char *const argv[], const char *out_path, const char *err_path,
    struct bench_child *m)
{
	struct rusage ru;
	double t0 = bench_now();
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		redirect(1, out_path);
		redirect(2, err_path);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		return -1;
	m->wall_s = bench_now() - t0;
	m->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	m->maxrss_kib = ru.ru_maxrss;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
bench_metric(const char *metric, double value)
{
	printf("%s\t%.17g\n", metric, value);
	fflush(stdout);
}
