/* model_util.h — what the tests of the data API's kernels share: a small PRNG, reading a file whole, reporting a check train's checks (include after tap.h). */
#ifndef PHT_TESTS_MODEL_UTIL_H
#define PHT_TESTS_MODEL_UTIL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* xorshift64*: the next value of the generator whose state is *s (non-zero). */
static inline uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* A value in 0..n-1. */
static inline unsigned
below(uint64_t *s, unsigned n)
{
	return (unsigned)((rnd(s) >> 11) % n);
}

/* The file at path, NUL-terminated, its length in *len; NULL if it cannot be read. */
static inline char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = 0;
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/*
 * Reports each of the check train's checks (out.checks: {name, ok, diag})
 * as a TAP line, then that there were `want` of them.
 */
static inline void
report_checks(const char *name, const json_t *out, size_t want)
{
	const json_t *list = json_object_get(out, "checks"), *c;
	size_t i;

	json_array_foreach(list, i, c) {
		const char *diag = json_string_value(json_object_get(c, "diag"));

		if (!tap_ok(json_is_true(json_object_get(c, "ok")), "%s: %s", name,
		    json_string_value(json_object_get(c, "name"))) && diag != NULL)
			tap_diag("%s", diag);
	}
	tap_ok(json_array_size(list) == want, "case %s made its %zu checks (%zu)", name, want,
	    json_array_size(list));
}

#endif
