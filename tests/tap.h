/* tap.h — a minimal TAP producer for PHT's test programs. */
#ifndef PHT_TAP_H
#define PHT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * Usage: call tap_ok(cond, "what") for each check, and end main with
 * return tap_done(); which prints the plan and returns non-zero if any
 * check failed. Header-only, no globals outside this translation unit;
 * except in a test program of several files, built with -DTAP_SHARED, where
 * every file counts on one tally that one of them defines with
 * TAP_SHARED_DEFINE (after including this header).
 */
#ifdef TAP_SHARED
extern int tap_n_, tap_failed_;
#define TAP_SHARED_DEFINE int tap_n_, tap_failed_
#else
static int tap_n_, tap_failed_;
#endif

#define tap_ok(cond, ...) tap_ok_((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

static inline int
tap_ok_(int ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline int
tap_ok_(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char what[2048], *c;

	tap_n_++;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	for (c = what; *c != '\0'; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';       /* a TAP line is one line (test text may quote code) */
	printf("%s %d - %s\n", ok ? "ok" : "not ok", tap_n_, what);
	if (!ok) {
		tap_failed_++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return ok;
}

/* Compares two strings, printing both on mismatch. */
#define tap_str(got, want, ...) \
	tap_str_((got), (want), __FILE__, __LINE__, __VA_ARGS__)
static inline int
tap_str_(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline int
tap_str_(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	int ok = got != NULL && want != NULL && strcmp(got, want) == 0;
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	tap_ok_(ok, file, line, "%s", what);
	if (!ok)
		printf("#   got:  %s\n#   want: %s\n", got ? got : "(null)",
		    want ? want : "(null)");
	return ok;
}

static inline void
tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n_);
	return tap_failed_ ? 1 : 0;
}

#endif
