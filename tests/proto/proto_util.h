/* proto_util.h — small helpers shared by the proto test programs: hex, temp dirs, files. */
#ifndef PHT_PROTO_UTIL_H
#define PHT_PROTO_UTIL_H

#include <ftw.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pht_enc.h"
#include "pht_err.h"

/* Decodes a hex literal into out (at most max bytes); returns the length or aborts. */
static inline size_t
unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	if (pht_hex_decode(hex, strlen(hex), out, max, &n) != PHT_OK) {
		fprintf(stderr, "bad hex literal in test: %s\n", hex);
		abort();
	}
	return n;
}

/* A new private directory under TMPDIR (or /tmp); caller frees, rm_tree removes. */
static inline char *
make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	char *d;

	snprintf(tmpl, sizeof(tmpl), "%s/pht-proto-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if ((d = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return strdup(d);
}

static inline int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* Removes dir and everything below it; frees dir. */
static inline void
rm_tree(char *dir)
{
	if (dir == NULL)
		return;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Writes len bytes to dir/name (plain write, no fsync); returns the path (caller frees). */
static inline char *
write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *path;
	FILE *f;

	if ((path = malloc(strlen(dir) + strlen(name) + 2)) == NULL)
		abort();
	snprintf(path, strlen(dir) + strlen(name) + 2, "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, len, f) != len ||
	    fclose(f) != 0) {
		perror(path);
		abort();
	}
	return path;
}

#endif
