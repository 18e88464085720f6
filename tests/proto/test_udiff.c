/* test_udiff.c — pht_udiff: fixed cases as diff -u writes them, and random texts whose diff applies back and is shortest. */
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_udiff.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static char *
diff(const char *a, const char *b, int ctx, int *rc)
{
	struct pht_buf *out = pht_buf_new(1 << 20);
	struct pht_err err;
	char *s;

	*rc = pht_udiff(a, strlen(a), b, strlen(b), "a", "b", ctx, out, &err);
	s = strdup(pht_buf_str(out));
	pht_buf_free(out);
	return s;
}

static void
check(const char *what, const char *a, const char *b, int ctx, const char *want)
{
	int rc;
	char *got = diff(a, b, ctx, &rc);

	tap_ok(rc == PHT_OK && strcmp(got, want) == 0, "%s", what);
	if (strcmp(got, want) != 0)
		printf("# got:\n%s# want:\n%s", got, want);
	free(got);
}

/* Lines of s (each with its '\n' if any) into an array; returns the count. */
static size_t
lines(const char *s, const char **l, size_t *len, size_t max)
{
	size_t n = 0;
	const char *p = s, *nl;

	while (*p != '\0' && n < max) {
		nl = strchr(p, '\n');
		l[n] = p;
		len[n] = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
		p += len[n++];
	}
	return n;
}

/*
 * Applies the unified diff d to a; 0 and the result in out (a buffer of
 * size max) if every context and removed line matches. *edits gets the
 * lines added plus removed.
 */
static int
apply(const char *a, const char *d, char *out, size_t max, size_t *edits)
{
	const char *al[4096], *dl[8192];
	size_t alen[4096], dlen[8192], na = lines(a, al, alen, 4096), nd, i, ai = 0, o = 0;
	size_t start, tail;
	const char *src;
	size_t srclen;

	nd = lines(d, dl, dlen, 8192);
	*edits = 0;
	if (nd == 0)
		goto rest;
	if (nd < 2 || strncmp(dl[0], "--- a\n", 6) != 0 || strncmp(dl[1], "+++ b\n", 6) != 0)
		return -1;
	for (i = 2; i < nd; i++) {
		if (strncmp(dl[i], "@@ -", 4) == 0) {
			start = strtoul(dl[i] + 4, NULL, 10);
			/* a's range: "L,0" starts after line L; else at line L */
			tail = strchr(dl[i] + 4, ',') != NULL &&
			    strchr(dl[i] + 4, ',') < strchr(dl[i] + 4, ' ') &&
			    strtoul(strchr(dl[i] + 4, ',') + 1, NULL, 10) == 0 ? start : start - 1;
			if (tail < ai)
				return -1;
			for (; ai < tail; ai++) {
				memcpy(out + o, al[ai], alen[ai]);
				o += alen[ai];
			}
			continue;
		}
		src = dl[i] + 1;
		srclen = dlen[i] - 1;
		if (i + 1 < nd && strncmp(dl[i + 1], "\\ No newline", 12) == 0)
			srclen--;             /* the line has no '\n' of its own */
		if (dl[i][0] == '\\')
			continue;
		if (dl[i][0] == ' ' || dl[i][0] == '-') {
			if (ai >= na || alen[ai] != srclen || memcmp(al[ai], src, srclen) != 0)
				return -1;
			ai++;
		}
		if (dl[i][0] == ' ' || dl[i][0] == '+') {
			if (o + srclen >= max)
				return -1;
			memcpy(out + o, src, srclen);
			o += srclen;
		}
		*edits += dl[i][0] != ' ';
	}
rest:
	for (; ai < na; ai++) {
		memcpy(out + o, al[ai], alen[ai]);
		o += alen[ai];
	}
	out[o] = '\0';
	return 0;
}

/* The shortest edit's length by dynamic programming (LCS). */
static size_t
shortest(const char *a, const char *b)
{
	const char *al[64], *bl[64];
	size_t alen[64], blen[64], na = lines(a, al, alen, 64), nb = lines(b, bl, blen, 64);
	size_t t[65][65], i, j;

	for (i = 0; i <= na; i++)
		for (j = 0; j <= nb; j++) {
			if (i == 0 || j == 0)
				t[i][j] = 0;
			else if (alen[i - 1] == blen[j - 1] &&
			    memcmp(al[i - 1], bl[j - 1], alen[i - 1]) == 0)
				t[i][j] = t[i - 1][j - 1] + 1;
			else
				t[i][j] = t[i - 1][j] > t[i][j - 1] ? t[i - 1][j] : t[i][j - 1];
		}
	return na + nb - 2 * t[na][nb];
}

static void
random_text(char *s, size_t max, unsigned *seed, size_t nlines)
{
	size_t i, o = 0;

	for (i = 0; i < nlines && o + 4 < max; i++) {
		s[o++] = (char)('a' + rand_r(seed) % 4);
		if (rand_r(seed) % 3 == 0)
			s[o++] = 'x';
		s[o++] = '\n';
	}
	if (o > 0 && rand_r(seed) % 5 == 0)
		o--;                          /* no newline at the end */
	s[o] = '\0';
}

int
main(void)
{
	char a[512], b[512], out[1024], *d;
	struct pht_buf *small;
	struct pht_err err;
	unsigned seed = 1;
	size_t edits;
	int i, rc, bad_apply = 0, bad_min = 0, ctx;

	check("equal texts: no diff", "x\ny\n", "x\ny\n", 3, "");
	check("one line changed in the middle",
	    "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n", 3,
	    "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n");
	check("a line added at the end: one-line ranges without ,1",
	    "x\n", "x\ny\n", 3, "--- a\n+++ b\n@@ -1 +1,2 @@\n x\n+y\n");
	check("from an empty text: -0,0",
	    "", "x\ny\n", 3, "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n");
	check("to an empty text: +0,0",
	    "x\n", "", 3, "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n");
	check("no newline at the end is a change of its own",
	    "x\ny\n", "x\ny", 3,
	    "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n+y\n\\ No newline at end of file\n");
	check("two changes far apart: two hunks",
	    "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "X\n2\n3\n4\n5\n6\n7\n8\n9\nY\n", 1,
	    "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-1\n+X\n 2\n@@ -9,2 +9,2 @@\n 9\n-10\n+Y\n");
	check("two changes 2*context apart: one hunk",
	    "1\n2\n3\n4\n", "X\n2\n3\nY\n", 1,
	    "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n-4\n+Y\n");
	check("a removed line before an empty side's position",
	    "a\nb\nc\n", "a\nc\n", 0, "--- a\n+++ b\n@@ -2 +1,0 @@\n-b\n");

	small = pht_buf_new(20);
	rc = pht_udiff("x\n", 2, "y\n", 2, "a", "b", 3, small, &err);
	tap_ok(rc == PHT_ERR_TOO_LARGE && pht_buf_len(small) == 0,
	    "a diff that does not fit: PHT_ERR_TOO_LARGE and nothing appended");
	pht_buf_free(small);
	{
		size_t n = PHT_UDIFF_MAX_EDITS, k;
		char *x = malloc(4 * n + 1), *y = malloc(4 * n + 1);
		struct pht_buf *o = pht_buf_new(1 << 24);
		for (k = 0; k < n; k++) {
			memcpy(x + 2 * k, "a\n", 2);
			memcpy(y + 2 * k, "b\n", 2);
		}
		rc = pht_udiff(x, 2 * n, y, 2 * n, "a", "b", 3, o, &err);
		tap_ok(rc == PHT_ERR_LIMIT && pht_buf_len(o) == 0,
		    "texts differing in more than PHT_UDIFF_MAX_EDITS lines: PHT_ERR_LIMIT");
		rc = pht_udiff(x, n, y, n, "a", "b", 3, o, &err);
		tap_ok(rc == PHT_OK && pht_buf_len(o) > 0, "half as many: a diff");
		pht_buf_free(o);
		free(x);
		free(y);
	}

	for (i = 0; i < 3000; i++) {
		random_text(a, sizeof(a), &seed, (size_t)(rand_r(&seed) % 30));
		random_text(b, sizeof(b), &seed, (size_t)(rand_r(&seed) % 30));
		ctx = rand_r(&seed) % 4;
		d = diff(a, b, ctx, &rc);
		if (rc != PHT_OK || apply(a, d, out, sizeof(out), &edits) != 0 ||
		    strcmp(out, b) != 0) {
			if (bad_apply++ == 0)
				printf("# a:\n%s\n# b:\n%s\n# diff:\n%s", a, b, d);
		} else if (edits != shortest(a, b)) {
			bad_min++;
		}
		free(d);
	}
	tap_ok(bad_apply == 0, "3000 random pairs: every diff applies to a and gives b "
	    "(%d did not)", bad_apply);
	tap_ok(bad_min == 0, "3000 random pairs: every diff is a shortest edit script "
	    "(%d were not)", bad_min);
	return tap_done();
}
