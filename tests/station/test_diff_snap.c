/* test_diff_snap.c — the release auditor's snapshot: a start from the snapshot and the journal's tail decides as a replay of the whole journal does, and a snapshot that is damaged, cut, stale or another station's is not used. */
#include "tap.h"

#include "pht_err.h"
#include "pht_key.h"
#include "pht_station_diff.h"
#include "pht_train_rowsets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NROWS 200
#define K 5

static char dir[] = "/tmp/pht-diff-snap-XXXXXX";
static struct pht_key *skey;
static uint64_t keys[NROWS];
static unsigned seed = 4242;

static unsigned
rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

/*
 * A release of 1 to 3 sets: intervals, alternating blocks, blocks against
 * an interval, or an interval but its first 2 to 4 rows, as analysts cut
 * a registry.
 */
static struct pht_train_rowsets *
random_release(void)
{
	struct pht_train_rowsets *rs = pht_train_rowsets_new(NROWS);
	uint32_t rows[NROWS];
	unsigned nsets = 1 + rnd() % 3, s, lo, hi, kind, b;
	size_t n, i;

	for (s = 0; s < nsets; s++) {
		kind = rnd() % 5;
		lo = 10 * (rnd() % (NROWS / 10));
		hi = lo + 10 * (1 + rnd() % ((NROWS - lo) / 10));
		b = 10 * (1 + rnd() % 3);
		for (i = 0, n = 0; i < NROWS; i++)
			if ((kind == 0 && i >= lo && i < hi) || (kind == 1 && (i / 5) % 2 == (size_t)(lo / 10) % 2) ||
			    (kind == 2 && ((i / b) % 2 == 0) != (i >= lo && i < hi)) ||
			    (kind >= 3 && i >= lo && i < hi && i >= lo + 1 + b / 10))
				rows[n++] = (uint32_t)i;
		if (n > 0)
			pht_train_rowsets_add(rs, rows, n, 0);
	}
	return rs;
}

static char *
path_of(const char *sub, const char *suffix)
{
	static char p[4][1200];
	static int slot;

	slot = (slot + 1) % 4;
	snprintf(p[slot], sizeof(p[slot]), "%s/%s/rows.reg%s", dir, sub, suffix);
	return p[slot];
}

static int
copy_file(const char *from, const char *to, long cut, long flip)
{
	FILE *in, *out;
	char *buf;
	long n;

	if ((in = fopen(from, "rb")) == NULL)
		return -1;
	fseek(in, 0, SEEK_END);
	n = ftell(in);
	fseek(in, 0, SEEK_SET);
	if ((buf = malloc((size_t)n + 1)) == NULL || fread(buf, 1, (size_t)n, in) != (size_t)n)
		abort();
	fclose(in);
	if (flip >= 0 && flip < n)
		buf[flip] ^= 0x01;
	if (cut > 0)
		n = cut < n ? n - cut : 0;
	if ((out = fopen(to, "wb")) == NULL || fwrite(buf, 1, (size_t)n, out) != (size_t)n)
		abort();
	fclose(out);
	free(buf);
	return 0;
}

/* Changes the byte at offset at of the first occurrence of needle in the file to c. */
static int
patch_file(const char *path, const char *needle, size_t at, char c)
{
	FILE *f;
	char *buf, *p;
	long n;

	if ((f = fopen(path, "r+b")) == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if ((buf = calloc(1, (size_t)n + 1)) == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n ||
	    (p = strstr(buf, needle)) == NULL) {
		free(buf);
		fclose(f);
		return -1;
	}
	fseek(f, (long)(p - buf) + (long)at, SEEK_SET);
	fputc(c, f);
	fclose(f);
	free(buf);
	return 0;
}

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* A directory sub with the main store's journal (and snapshot, changed as asked). */
static void
make_copy(const char *sub, int with_snap, long snap_cut, long snap_flip)
{
	char d[1200];

	snprintf(d, sizeof(d), "%s/%s", dir, sub);
	mkdir(d, 0700);
	copy_file(path_of("main", ""), path_of(sub, ""), 0, -1);
	if (with_snap)
		copy_file(path_of("main", "+snapshot"), path_of(sub, "+snapshot"), snap_cut,
		    snap_flip);
}

static struct pht_station_diff *
open_in(const char *sub, const struct pht_key *key)
{
	struct pht_station_diff *d = NULL;
	struct pht_err e;
	char prefix[1200];

	snprintf(prefix, sizeof(prefix), "%s/%s/rows", dir, sub);
	if (pht_station_diff_open(prefix, key, &d, &e) != PHT_OK)
		abort();
	return d;
}

static int
admit(struct pht_station_diff *d, struct pht_train_rowsets *rs, int64_t t)
{
	struct pht_err e;

	pht_err_clear(&e);
	return pht_station_diff_admit(d, "reg", "fp-a", "train", rs, keys, K, NULL, t, &e);
}

/* How the store of sub was brought up at its first admission: the snapshot's offset. */
static uint64_t
first_use(const char *sub, const struct pht_key *key, int *decision)
{
	struct pht_station_diff *d = open_in(sub, key);
	struct pht_station_diff_info info;
	struct pht_train_rowsets *rs = random_release();

	*decision = admit(d, rs, 1800000000);
	pht_train_rowsets_free(rs);
	pht_station_diff_info(d, "reg", &info);
	pht_station_diff_free(d);
	return info.snapshot_offset;
}

int
main(void)
{
	struct pht_station_diff *d, *a, *b;
	struct pht_station_diff_info ia, ib;
	struct pht_key *other = NULL;
	struct pht_err e;
	char t[16], sub[1200];
	int i, ra, rb, agree = 1, released = 0, withheld = 0, tail = 0, da, db;
	unsigned saved;
	long size;

	if (mkdtemp(dir) == NULL || pht_key_generate(PHT_KEY_SIGN, &skey, NULL) != PHT_OK ||
	    pht_key_generate(PHT_KEY_SIGN, &other, NULL) != PHT_OK)
		return 1;
	snprintf(sub, sizeof(sub), "%s/main", dir);
	mkdir(sub, 0700);
	d = open_in("main", skey);
	for (i = 0; i < NROWS; i++) {
		snprintf(t, sizeof(t), "P%d", i);
		keys[i] = pht_station_diff_key(d, "reg", t, strlen(t), 0);
	}
	/* releases, a snapshot, then a tail of releases after it */
	for (i = 0; i < 60; i++) {
		struct pht_train_rowsets *rs = random_release();

		released += admit(d, rs, 1700000000 + i) == PHT_OK;
		pht_train_rowsets_free(rs);
	}
	pht_err_clear(&e);
	tap_ok(pht_station_diff_snapshot(d, "reg", K, &e) == PHT_OK &&
	    file_size(path_of("main", "+snapshot")) > 0,
	    "snapshot: written after %d releases (%s)", released, e.msg);
	for (i = 0; i < 30; i++) {
		struct pht_train_rowsets *rs = random_release();

		tail += admit(d, rs, 1700001000 + i) == PHT_OK;
		pht_train_rowsets_free(rs);
	}
	pht_station_diff_free(d);

	/* the same candidates to a start from the snapshot and to a full replay */
	make_copy("snap", 1, 0, -1);
	make_copy("full", 0, 0, -1);
	a = open_in("snap", skey);
	b = open_in("full", skey);
	saved = seed;
	for (i = 0; i < 80; i++) {
		struct pht_train_rowsets *rs = random_release();

		ra = admit(a, rs, 1700002000 + i);
		rb = admit(b, rs, 1700002000 + i);
		pht_train_rowsets_free(rs);
		agree &= ra == rb && (ra == PHT_OK || ra == PHT_ERR_DISCLOSURE);
		withheld += ra == PHT_ERR_DISCLOSURE;
		if (i == 0) {
			pht_station_diff_info(a, "reg", &ia);
			pht_station_diff_info(b, "reg", &ib);
		}
	}
	(void)saved;
	tap_ok(ia.snapshot_offset > 0 && ia.replayed == (uint64_t)tail,
	    "snapshot: a start uses it and replays only the %d releases after it "
	    "(replayed %llu)", tail, (unsigned long long)ia.replayed);
	tap_ok(ib.snapshot_offset == 0 && ib.replayed == (uint64_t)(released + tail),
	    "snapshot: without one the whole journal is replayed (%llu releases)",
	    (unsigned long long)ib.replayed);
	tap_ok(agree, "snapshot: 80 further releases get the same answers from the snapshot "
	    "and tail as from a full replay (%d withheld)", withheld);
	tap_ok(withheld > 5 && withheld < 75, "snapshot: some of them are withheld, some released");
	pht_station_diff_free(a);
	pht_station_diff_free(b);

	/* what must not be used */
	size = file_size(path_of("main", "+snapshot"));
	make_copy("flip", 1, 0, size - 32 - 3);
	tap_ok(first_use("flip", skey, &da) == 0, "snapshot: one bit changed in the basis is "
	    "detected (the MAC); the journal is replayed");
	make_copy("flipmac", 1, 0, size - 1);
	tap_ok(first_use("flipmac", skey, &da) == 0, "snapshot: one bit changed in the MAC is "
	    "detected");
	make_copy("cut", 1, 100, -1);
	tap_ok(first_use("cut", skey, &da) == 0, "snapshot: a truncated one is detected");
	make_copy("key", 1, 0, -1);
	tap_ok(first_use("key", other, &da) == 0, "snapshot: one made under another station "
	    "key is not used");
	make_copy("good", 1, 0, -1);
	tap_ok(first_use("good", skey, &db) > 0, "snapshot: the unchanged copy is used");
	/* a journal rewritten before the snapshot's end: a release's train renamed */
	make_copy("stale", 1, 0, -1);
	tap_ok(patch_file(path_of("stale", ""), "\"train\":\"train\"", 13, 't') == 0,
	    "stale: the first release's train renamed in the journal");
	tap_ok(first_use("stale", skey, &da) == 0, "snapshot: a journal whose first bytes "
	    "changed does not match it; the journal is replayed");
	/* a journal shorter than the snapshot covers */
	snprintf(sub, sizeof(sub), "%s/short", dir);
	mkdir(sub, 0700);
	copy_file(path_of("main", ""), path_of("short", ""), file_size(path_of("main", "")) / 2,
	    -1);
	copy_file(path_of("main", "+snapshot"), path_of("short", "+snapshot"), 0, -1);
	{
		/* cut back to a whole line */
		FILE *f = fopen(path_of("short", ""), "rb");
		long last = 0, pos = 0;
		int c;

		while (f != NULL && (c = fgetc(f)) != EOF) {
			pos++;
			if (c == '\n')
				last = pos;
		}
		if (f != NULL)
			fclose(f);
		if (truncate(path_of("short", ""), last) != 0)
			abort();
	}
	tap_ok(first_use("short", skey, &da) == 0, "snapshot: one ahead of the journal is "
	    "not used");
	pht_key_free(skey);
	pht_key_free(other);
	return tap_done();
}
