/* bench_util.h — clocks, peak memory and child-process measurement for the PHT benchmarks. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

/* Seconds on the monotonic clock (an arbitrary origin). */
double bench_now(void);

/* VmHWM (peak resident set) of this process in KiB, or -1 if unreadable. */
long bench_hwm_kib(void);

/* CPU seconds (user + system) used by this thread so far. */
double bench_cpu(void);

/* What bench_spawn measured of one child. */
struct bench_child {
	double wall_s;      /* fork to reaped */
	double cpu_s;       /* user + system, its reaped descendants included */
	long maxrss_kib;    /* ru_maxrss */
};

/*
 * Runs argv[0] (searched in PATH) with its stdout written to out_path and
 * its stderr to err_path (NULL: /dev/null; both truncated), waits for it
 * and fills *m. Returns the child's exit status, or -1 if it could not be
 * started or died of a signal.
 */
int bench_spawn(char *const argv[], const char *out_path, const char *err_path,
    struct bench_child *m);

/* Prints "metric<TAB>value\n" on stdout: the line format bench/run reads. */
void bench_metric(const char *metric, double value);

#endif
