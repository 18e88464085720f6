/* test_train_rowsets.c — the row sets behind an output: canonical encoding, exact symmetric differences, every refusal of the decoder, and what the runtime reports for real trains. */
#include "tap.h"
#include "sandbox_gen.h"

#include "pht_buf.h"
#include "pht_err.h"
#include "pht_train.h"
#include "pht_train_rowsets.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* |A xor B| of two row arrays over nrows rows, the naive way. */
static uint64_t
naive_symdiff(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t nrows)
{
	uint8_t *ma = calloc(nrows, 1), *mb = calloc(nrows, 1);
	uint64_t d = 0;
	size_t i;

	for (i = 0; i < na; i++)
		ma[a[i]] = 1;
	for (i = 0; i < nb; i++)
		mb[b[i]] = 1;
	for (i = 0; i < nrows; i++)
		d += ma[i] != mb[i];
	free(ma);
	free(mb);
	return d;
}

/* Decodes hand-made bytes and checks the refusal and its detail. */
static void
refuse(const uint8_t *b, size_t n, const char *detail, const char *what)
{
	struct pht_train_rowsets *rs = NULL;
	struct pht_err err;
	int r;

	pht_err_clear(&err);
	r = pht_train_rowsets_decode(b, n, "t", &rs, &err);
	tap_ok(r == PHT_ERR_MALFORMED && rs == NULL && strstr(err.msg, detail) != NULL,
	    "decode refuses %s (\"%s\")", what, err.msg);
	pht_train_rowsets_free(rs);
}

static size_t
hdr(uint8_t *b, uint32_t nrows, uint32_t nsets)
{
	memcpy(b, &nrows, 4);
	memcpy(b + 4, &nsets, 4);
	return 8;
}

static size_t
set_head(uint8_t *b, uint8_t kind, uint32_t count)
{
	b[0] = kind;
	memcpy(b + 1, &count, 4);
	return 5;
}

static int
run_rows(const struct pht_dataset *ds, const char *body, struct pht_train_rowsets **rs,
    struct pht_err *err)
{
	struct pht_limits lim;
	struct pht_run_stats stats;
	json_t *out = NULL;
	char code[2048];
	int r;

	pht_limits_default(&lim);
	lim.wall_seconds = 30;
	snprintf(code, sizeof(code), "return { name = 'rows', version = '1',\n"
	    "  station = function(data, params)\n%s\n  end,\n"
	    "  combine = function(r) return { done = true, result = r } end }\n", body);
	r = pht_train_run_station_rows(code, strlen(code), "rows.lua", ds, NULL, 1, 1, &lim,
	    &out, &stats, rs, err);
	json_decref(out);
	return r;
}

/* The next value of a 64-bit LCG (the tests' own, so the sets are the same every run). */
static uint64_t
lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 33;
}

/* 1 when a and b hold the same bytes. */
static int
same_bytes(const struct pht_train_rowsets *a, const struct pht_train_rowsets *b)
{
	size_t la, lb;
	const uint8_t *ba = pht_train_rowsets_bytes(a, &la), *bb = pht_train_rowsets_bytes(b, &lb);

	return la == lb && memcmp(ba, bb, la) == 0;
}

/*
 * The bitmap forms (a where() on the whole dataset hands its selection
 * over as bits) record the same sets, byte for byte, as the row forms:
 * every kind (ALL, LIST with gaps of one to three varint bytes, BITMAP, the
 * LIST/BITMAP boundary), several groups, a set already there.
 */
static void
test_bits_forms(void)
{
	static const uint32_t sizes[] = {1000, 4099, 70001};
	static const uint32_t per[] = {0, 1, 3, 7, 8, 9, 64, 1000, 20000, 60000};
	struct pht_train_rowsets *x, *y;
	uint64_t *bits, seed = 7;
	uint32_t *rows, nrows, n, i;
	uint8_t *slot;
	size_t si, pi, nw, ok = 0, okg = 0, trials = 0;
	int want[5] = {1, 0, 1, 1, 1};

	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		nrows = sizes[si];
		nw = (nrows + 63) / 64;
		bits = calloc(nw, sizeof(*bits));
		rows = malloc(nrows * sizeof(*rows));
		slot = malloc(nrows);
		for (pi = 0; pi < sizeof(per) / sizeof(per[0]); pi++) {
			/* keep each row with chance 1 in per[pi] (every row when 0) */
			memset(bits, 0, nw * sizeof(*bits));
			for (i = 0, n = 0; i < nrows; i++)
				if (per[pi] == 0 || lcg(&seed) % per[pi] == 0) {
					bits[i / 64] |= (uint64_t)1 << (i % 64);
					slot[n] = (uint8_t)(lcg(&seed) % 5);
					rows[n++] = i;
				}
			x = pht_train_rowsets_new(nrows);
			y = pht_train_rowsets_new(nrows);
			trials++;
			/* twice: the second is a set already there */
			ok += pht_train_rowsets_add(x, rows, n, 0) == PHT_OK &&
			    pht_train_rowsets_add_bits(y, bits) == PHT_OK &&
			    pht_train_rowsets_add(x, rows, n, 0) == PHT_OK &&
			    pht_train_rowsets_add_bits(y, bits) == PHT_OK && same_bytes(x, y);
			okg += pht_train_rowsets_add_groups(x, rows, n, slot, 5, want) == PHT_OK &&
			    pht_train_rowsets_add_groups_bits(y, bits, n, slot, 5, want) == PHT_OK &&
			    same_bytes(x, y) && pht_train_rowsets_count(x) == pht_train_rowsets_count(y);
			pht_train_rowsets_free(x);
			pht_train_rowsets_free(y);
		}
		free(bits);
		free(rows);
		free(slot);
	}
	tap_ok(ok == trials, "a set given as a bitmap is recorded as the same bytes as given "
	    "row by row (%zu of %zu: ALL, LIST, BITMAP, datasets of 1000 to 70001 rows)", ok,
	    trials);
	tap_ok(okg == trials, "groups over a bitmap selection are recorded as the same bytes as "
	    "over its rows (%zu of %zu)", okg, trials);
	/* a bit past the last row is refused, and nothing is recorded */
	x = pht_train_rowsets_new(100);
	bits = calloc(2, sizeof(*bits));
	slot = calloc(64, 1);
	bits[1] = (uint64_t)1 << 36;    /* row 100 */
	tap_ok(pht_train_rowsets_add_bits(x, bits) == PHT_ERR_INVALID &&
	    pht_train_rowsets_add_groups_bits(x, bits, 1, slot, 1, want) == PHT_ERR_INVALID &&
	    pht_train_rowsets_count(x) == 0, "a bitmap with a row past the dataset is refused");
	bits[1] = (uint64_t)1 << 35;    /* row 99 */
	tap_ok(pht_train_rowsets_add_groups_bits(x, bits, 2, slot, 1, want) == PHT_ERR_INVALID &&
	    pht_train_rowsets_count(x) == 0, "groups over a bitmap of another row count are refused");
	free(bits);
	free(slot);
	pht_train_rowsets_free(x);
}

int
main(void)
{
	struct pht_train_rowsets *a, *b, *d = NULL, *one = NULL;
	struct pht_dataset *ds = NULL;
	struct pht_buf *buf;
	struct pht_err err;
	struct gen g;
	uint32_t rows[1000], other[1000], rev[5], nrows = 1000, i;
	uint8_t raw[64];
	const uint8_t *bytes;
	size_t len, n, ok = 0, trials = 0;
	uint64_t seed = 42, sd, want;
	int r;

	test_bits_forms();
	/* canonical kinds */
	a = pht_train_rowsets_new(nrows);
	for (i = 0; i < nrows; i++)
		rows[i] = i;
	tap_ok(pht_train_rowsets_add(a, NULL, 0, 1) == PHT_OK &&
	    pht_train_rowsets_count(a) == 1 && pht_train_rowsets_size(a, 0) == nrows,
	    "all rows make one set of %u", nrows);
	bytes = pht_train_rowsets_bytes(a, &len);
	tap_ok(len == 8 + 5 && bytes[8] == 0, "all rows are encoded as ALL in 13 bytes (%zu)", len);
	tap_ok(pht_train_rowsets_add(a, rows, nrows, 0) == PHT_OK && pht_train_rowsets_count(a) == 1,
	    "the same set given row by row is not added twice");
	tap_ok(pht_train_rowsets_add(a, rows, 0, 0) == PHT_OK && pht_train_rowsets_count(a) == 1,
	    "an empty set is not recorded");
	tap_ok(pht_train_rowsets_add(a, rows, 10, 0) == PHT_OK && pht_train_rowsets_count(a) == 2,
	    "rows 0..9 make a second set");
	bytes = pht_train_rowsets_bytes(a, &len);
	tap_ok(len == 13 + 5 + 10 && bytes[13] == 1, "ten rows are a LIST of 10 one-byte varints");
	for (i = 0; i < 999; i++)
		other[i] = i < 17 ? i : i + 1;   /* every row but 17 */
	tap_ok(pht_train_rowsets_add(a, other, 999, 0) == PHT_OK && pht_train_rowsets_count(a) == 3,
	    "all rows but row 17 make a third set");
	bytes = pht_train_rowsets_bytes(a, &len);
	tap_ok(len == 28 + 5 + 125 && bytes[28] == 2, "999 of 1000 rows are a 125-byte BITMAP");
	rev[0] = 9; rev[1] = 3; rev[2] = 5; rev[3] = 1; rev[4] = 7;
	tap_ok(pht_train_rowsets_add(a, rev, 5, 0) == PHT_OK && pht_train_rowsets_count(a) == 4,
	    "rows in any order are sorted");
	rev[4] = 3;
	tap_ok(pht_train_rowsets_add(a, rev, 5, 0) == PHT_ERR_INVALID, "a duplicate row is refused");
	rev[4] = 1000;
	tap_ok(pht_train_rowsets_add(a, rev, 5, 0) == PHT_ERR_INVALID, "a row past the end is refused");

	tap_ok(pht_train_rowsets_symdiff(a, 0, a, 2, 5) == 1,
	    "all rows vs all but one: symmetric difference 1");
	tap_ok(pht_train_rowsets_symdiff(a, 0, a, 1, 5) == 5,
	    "all rows vs ten rows: the sizes alone say >= 5 (stop)");
	tap_ok(pht_train_rowsets_symdiff(a, 0, a, 0, 5) == 0 && pht_train_rowsets_equal(a, 2, a, 2),
	    "a set against itself: 0, equal");

	{
		uint32_t got[1000];
		size_t n0 = pht_train_rowsets_rows(a, 0, got), n2, n3, i2, good = 1;

		for (i2 = 0; i2 < n0; i2++)
			good &= got[i2] == i2;
		n2 = pht_train_rowsets_rows(a, 2, got);
		for (i2 = 0; i2 < n2; i2++)
			good &= got[i2] == (i2 < 17 ? i2 : i2 + 1);
		n3 = pht_train_rowsets_rows(a, 3, got);
		good &= n3 == 5 && got[0] == 1 && got[1] == 3 && got[2] == 5 && got[3] == 7 &&
		    got[4] == 9;
		tap_ok(n0 == 1000 && n2 == 999 && good, "rows: an ALL, a BITMAP and a LIST set list "
		    "their rows in order (%zu, %zu, %zu)", n0, n2, n3);
	}

	/* encoding round trip, byte for byte */
	bytes = pht_train_rowsets_bytes(a, &len);
	r = pht_train_rowsets_decode(bytes, len, "t", &d, &err);
	tap_ok(r == PHT_OK && pht_train_rowsets_count(d) == 4 &&
	    pht_train_rowsets_equal(a, 2, d, 2) && pht_train_rowsets_symdiff(a, 3, d, 3, 100) == 0,
	    "decode(encode) gives the same sets");
	buf = pht_buf_new(1 << 20);
	tap_ok(pht_train_rowsets_put_one(a, 2, buf) == PHT_OK &&
	    pht_train_rowsets_decode(pht_buf_data(buf), pht_buf_len(buf), "t", &one, &err) == PHT_OK &&
	    pht_train_rowsets_count(one) == 1 && pht_train_rowsets_equal(one, 0, a, 2),
	    "one set alone encodes and decodes");
	pht_buf_free(buf);
	pht_train_rowsets_free(one);
	pht_train_rowsets_free(d);
	d = NULL;

	/* random sets: symdiff exact against the naive count, below the stop */
	for (trials = 0; trials < 200; trials++) {
		size_t na = 0, nb = 0;
		uint32_t dens = gen_below(&seed, 100) + 1;

		b = pht_train_rowsets_new(nrows);
		for (i = 0; i < nrows; i++) {
			if (gen_below(&seed, 100) < dens)
				rows[na++] = i;
			if (gen_below(&seed, 100) < dens || (na > 0 && rows[na - 1] == i &&
			    gen_below(&seed, 10) != 0))
				other[nb++] = i;
		}
		if (pht_train_rowsets_add(b, rows, na, 0) != PHT_OK ||
		    pht_train_rowsets_add(b, other, nb, 0) != PHT_OK) {
			pht_train_rowsets_free(b);
			continue;
		}
		want = naive_symdiff(rows, na, other, nb, nrows);
		bytes = pht_train_rowsets_bytes(b, &len);
		if (pht_train_rowsets_decode(bytes, len, "t", &d, &err) != PHT_OK) {
			pht_train_rowsets_free(b);
			continue;
		}
		if (pht_train_rowsets_count(d) == 1)
			sd = 0;   /* equal sets collapsed into one */
		else
			sd = pht_train_rowsets_symdiff(d, 0, d, 1, 2000);
		if (sd == want && (pht_train_rowsets_count(d) != 2 ||
		    pht_train_rowsets_symdiff(d, 0, d, 1, 3) == (want < 3 ? want : 3)))
			ok++;
		pht_train_rowsets_free(d);
		d = NULL;
		pht_train_rowsets_free(b);
	}
	tap_ok(ok == trials, "200 random pairs (LIST and BITMAP, 1-100%% dense): symdiff equals the "
	    "naive count, and is cut at the stop (%zu/%zu)", ok, trials);

	/* ALL against LIST and BITMAP sets, both ways round, and LIST against BITMAP */
	for (trials = 0, ok = 0; trials < 100; trials++) {
		size_t na = 0, nb = 0;
		uint32_t dens = gen_below(&seed, 100) + 1, dens2 = gen_below(&seed, 100) + 1;
		uint64_t w1, w2;

		for (i = 0; i < nrows; i++) {
			if (gen_below(&seed, 100) < dens)
				rows[na++] = i;
			if (gen_below(&seed, 100) < dens2)
				other[nb++] = i;
		}
		b = pht_train_rowsets_new(nrows);
		if (na == 0 || nb == 0 || na == nrows || nb == nrows ||
		    pht_train_rowsets_add(b, NULL, 0, 1) != PHT_OK ||
		    pht_train_rowsets_add(b, rows, na, 0) != PHT_OK ||
		    pht_train_rowsets_add(b, other, nb, 0) != PHT_OK ||
		    pht_train_rowsets_count(b) != 3) {
			pht_train_rowsets_free(b);
			ok++;   /* a degenerate draw: nothing to compare */
			continue;
		}
		w1 = nrows - na;
		w2 = naive_symdiff(rows, na, other, nb, nrows);
		if (pht_train_rowsets_symdiff(b, 0, b, 1, UINT64_MAX) == w1 &&
		    pht_train_rowsets_symdiff(b, 1, b, 0, UINT64_MAX) == w1 &&
		    pht_train_rowsets_symdiff(b, 0, b, 1, w1) == w1 &&
		    (w1 == 0 || pht_train_rowsets_symdiff(b, 1, b, 0, w1 - 1) == w1 - 1) &&
		    pht_train_rowsets_symdiff(b, 1, b, 2, UINT64_MAX) == w2 &&
		    pht_train_rowsets_symdiff(b, 2, b, 1, UINT64_MAX) == w2 &&
		    pht_train_rowsets_symdiff(b, 2, b, 0, UINT64_MAX) == nrows - nb)
			ok++;
		pht_train_rowsets_free(b);
	}
	tap_ok(ok == trials, "100 random sets against ALL and each other, both ways round: exact "
	    "symdiff (LIST or BITMAP, 1-100%% dense) and the stop (%zu/%zu)", ok, trials);

	/* add_groups: the same list as one add per group, duplicates dropped */
	for (trials = 0, ok = 0; trials < 50; trials++) {
		uint8_t slot[1000];
		int wg[6];
		uint32_t grp[1000];
		size_t ng = 0, k, j, la, lb;
		const uint8_t *xa, *xb;
		struct pht_train_rowsets *x = pht_train_rowsets_new(nrows), *y = pht_train_rowsets_new(nrows);
		uint32_t dens = gen_below(&seed, 100) + 1;

		for (i = 0, n = 0; i < nrows; i++)
			if (gen_below(&seed, 100) < dens) {
				rows[n] = i;
				/* mostly 6 groups; sometimes one group takes everything */
				slot[n] = trials % 10 == 0 ? 2 : (uint8_t)gen_below(&seed, 6);
				n++;
			}
		for (k = 0; k < 6; k++)
			wg[k] = gen_below(&seed, 4) != 0;
		/* an existing set equal to group 1 (dropped as a duplicate) */
		for (j = 0; j < n; j++)
			if (slot[j] == 1)
				grp[ng++] = rows[j];
		pht_train_rowsets_add(x, grp, ng, 0);
		pht_train_rowsets_add(y, grp, ng, 0);
		if (trials % 7 == 0)
			for (j = n; j < nrows; j++)
				slot[j] = 0;    /* rows NULL: row j is in group slot[j], j < nrows */
		r = pht_train_rowsets_add_groups(x, trials % 7 == 0 ? NULL : rows,
		    trials % 7 == 0 ? nrows : n, slot, 6, wg);
		for (k = 0; k < 6 && r == PHT_OK; k++) {
			if (!wg[k])
				continue;
			for (j = 0, ng = 0; j < (trials % 7 == 0 ? (size_t)nrows : n); j++)
				if (slot[j] == k)
					grp[ng++] = trials % 7 == 0 ? (uint32_t)j : rows[j];
			if (pht_train_rowsets_add(y, grp, ng, 0) != PHT_OK)
				r = -1;
		}
		xa = pht_train_rowsets_bytes(x, &la);
		xb = pht_train_rowsets_bytes(y, &lb);
		if (r == PHT_OK && la == lb && memcmp(xa, xb, la) == 0)
			ok++;
		pht_train_rowsets_free(x);
		pht_train_rowsets_free(y);
	}
	tap_ok(ok == trials, "add_groups: 50 random groupings (LIST, BITMAP, ALL, a duplicate, "
	    "rows NULL) give the bytes of one add per group (%zu/%zu)", ok, trials);
	{
		uint8_t slot[5] = {0, 1, 0, 1, 0};
		int wg[2] = {1, 1};
		uint32_t desc[5] = {9, 7, 5, 3, 1};

		b = pht_train_rowsets_new(nrows);
		tap_ok(pht_train_rowsets_add_groups(b, desc, 5, slot, 2, wg) == PHT_ERR_INVALID &&
		    pht_train_rowsets_count(b) == 0 &&
		    (desc[0] = 1000, pht_train_rowsets_add_groups(b, desc, 1, slot, 2, wg)) ==
		    PHT_ERR_INVALID && pht_train_rowsets_count(b) == 0,
		    "add_groups refuses descending rows and a row past the end, adding nothing");
		pht_train_rowsets_free(b);
	}
	{
		uint8_t zero[1000];
		int wg[1] = {1};
		const uint8_t *xb;
		size_t lb;

		memset(zero, 0, sizeof(zero));
		struct pht_train_rowsets *whole = pht_train_rowsets_new(nrows);

		b = pht_train_rowsets_new(nrows);
		pht_train_rowsets_add(whole, NULL, 0, 1);
		bytes = pht_train_rowsets_bytes(whole, &len);
		r = pht_train_rowsets_add_groups(b, NULL, nrows, zero, 1, wg);
		xb = pht_train_rowsets_bytes(b, &lb);
		tap_ok(r == PHT_OK && lb == len && memcmp(bytes, xb, len) == 0 && xb[8] == 0,
		    "add_groups: one group of every row is an ALL set");
		pht_train_rowsets_free(whole);
		pht_train_rowsets_free(b);
	}

	/*
	 * An ALL set of 2^32 - 1 rows against a LIST: the difference without
	 * walking the rows (the fuzz suite's slow input was of this kind).
	 */
	b = pht_train_rowsets_new(UINT32_MAX);
	rev[0] = 0;
	rev[1] = 5;
	rev[2] = UINT32_MAX - 1;
	tap_ok(b != NULL && pht_train_rowsets_add(b, NULL, 0, 1) == PHT_OK &&
	    pht_train_rowsets_add(b, rev, 3, 0) == PHT_OK &&
	    pht_train_rowsets_symdiff(b, 0, b, 1, UINT64_MAX) == (uint64_t)UINT32_MAX - 3 &&
	    pht_train_rowsets_symdiff(b, 1, b, 0, UINT64_MAX) == (uint64_t)UINT32_MAX - 3 &&
	    pht_train_rowsets_symdiff(b, 0, b, 0, UINT64_MAX) == 0,
	    "ALL of 4294967295 rows vs 3 listed rows: 4294967292, both ways");
	bytes = b != NULL ? pht_train_rowsets_bytes(b, &len) : NULL;
	tap_ok(bytes != NULL && pht_train_rowsets_decode(bytes, len, "t", &d, &err) == PHT_OK &&
	    pht_train_rowsets_symdiff(d, 1, d, 0, UINT64_MAX) == (uint64_t)UINT32_MAX - 3,
	    "the same after decoding (%zu bytes)", len);
	pht_train_rowsets_free(d);
	d = NULL;
	pht_train_rowsets_free(b);

	/* the bounds */
	b = pht_train_rowsets_new(nrows);
	for (n = 0, r = PHT_OK; n < PHT_TRAIN_ROWSETS_MAX_SETS + 1 && r == PHT_OK; n++) {
		rows[0] = (uint32_t)(n % nrows);
		rows[1] = (uint32_t)((n / nrows + 1 + n % nrows) % nrows);
		if (rows[0] == rows[1])
			rows[1] = (rows[1] + 1) % nrows;
		other[0] = (uint32_t)n;
		r = pht_train_rowsets_add(b, n < nrows ? other : rows, n < nrows ? 1 : 2, 0);
	}
	tap_ok(r == PHT_ERR_TOO_LARGE && pht_train_rowsets_count(b) == PHT_TRAIN_ROWSETS_MAX_SETS,
	    "set number %d is refused with PHT_ERR_TOO_LARGE", PHT_TRAIN_ROWSETS_MAX_SETS + 1);
	pht_train_rowsets_free(b);
	pht_train_rowsets_free(a);

	/* the strict decoder */
	n = hdr(raw, 10, 1);
	refuse(raw, 7, "shorter than the row-set header", "a short header");
	refuse(raw, n, "row set 0: truncated", "a missing set");
	n = hdr(raw, 10, 5000);
	refuse(raw, n, "more than 4096", "more than 4096 sets");
	n = hdr(raw, 10, 1);
	n += set_head(raw + n, 0, 9);
	refuse(raw, n, "ALL with a count other", "ALL with a wrong count");
	n = hdr(raw, 10, 1);
	n += set_head(raw + n, 1, 0);
	refuse(raw, n, "count is 0", "an empty set");
	n = hdr(raw, 10, 1);
	n += set_head(raw + n, 1, 2);
	raw[n++] = 3;
	raw[n++] = 0;
	refuse(raw, n, "not strictly ascending", "a repeated row (gap 0)");
	n = hdr(raw, 10, 1);
	n += set_head(raw + n, 1, 2);
	raw[n++] = 3;
	raw[n++] = 7;
	refuse(raw, n, "row out of range", "a row past the dataset");
	n = hdr(raw, 200, 1);
	n += set_head(raw + n, 1, 1);
	raw[n++] = 0x83;
	raw[n++] = 0x00;
	refuse(raw, n, "bad or truncated varint", "an overlong varint");
	n = hdr(raw, 10, 1);
	n += set_head(raw + n, 1, 2);
	raw[n++] = 3;
	refuse(raw, n, "bad or truncated varint", "a truncated list");
	n = hdr(raw, 12, 1);
	n += set_head(raw + n, 2, 1);
	raw[n++] = 0x01;
	raw[n++] = 0x00;
	refuse(raw, n, "not the canonical kind (BITMAP)", "a bitmap where a list is shorter");
	n = hdr(raw, 12, 1);
	n += set_head(raw + n, 2, 11);
	raw[n++] = 0xff;
	raw[n++] = 0x17;
	refuse(raw, n, "bitmap padding bits set", "bits past the last row");
	n = hdr(raw, 12, 1);
	n += set_head(raw + n, 2, 11);
	raw[n++] = 0xff;
	raw[n++] = 0x03;
	refuse(raw, n, "bitmap does not hold count rows", "a bitmap whose count is wrong");
	n = hdr(raw, 10, 1);
	n += set_head(raw + n, 7, 1);
	refuse(raw, n, "unknown kind", "an unknown kind");
	n = hdr(raw, 10, 1);
	n += set_head(raw + n, 1, 1);
	raw[n++] = 4;
	raw[n++] = 0;
	refuse(raw, n, "1 bytes after the last row set", "trailing bytes");
	n = hdr(raw, 3, 1);
	n += set_head(raw + n, 1, 3);
	raw[n++] = 0;
	raw[n++] = 1;
	raw[n++] = 1;
	refuse(raw, n, "not the canonical kind (LIST)", "a list of every row (must be ALL)");

	/* what the runtime reports */
	if (gen_make(&g, 80, 5) != 0 || gen_load(&g, &ds, &err) != PHT_OK) {
		tap_ok(0, "synthetic dataset");
		return tap_done();
	}
	r = run_rows(ds, "return { all = data:nrows(), but17 = data:where('id', '~=', 17):nrows() }",
	    &d, &err);
	tap_ok(r == PHT_OK && d != NULL && pht_train_rowsets_count(d) == 2 &&
	    pht_train_rowsets_nrows(d) == 80 && pht_train_rowsets_symdiff(d, 0, d, 1, 5) == 1,
	    "count of all and of all but patient 17 in one run: two sets differing by 1 row (%s)",
	    r == PHT_OK ? "ok" : err.msg);
	pht_train_rowsets_free(d);
	d = NULL;
	r = run_rows(ds, "local s = 0\n"
	    "for _, grp in ipairs(data:group_by('sex')) do\n"
	    "  if grp.data then s = s + grp.data:column('age'):count() end\n"
	    "end\n"
	    "return { n = data:column('age'):sum(), again = data:column('age'):mean(), s = s }",
	    &d, &err);
	n = 0;
	for (i = 0; i < g.n; i++)
		n += g.sex[i] != 2;
	tap_ok(r == PHT_OK && d != NULL && pht_train_rowsets_size(d, 0) == 80,
	    "group_by records the whole view first (%s)", r == PHT_OK ? "ok" : err.msg);
	/*
	 * the view; each released group (its n leaves); per group the rows
	 * with an age (its count), over the view the rows with an age (sum
	 * and mean: one set); at most 3 groups
	 */
	tap_ok(d != NULL && pht_train_rowsets_count(d) >= 3 && pht_train_rowsets_count(d) <= 8,
	    "group_by records each released group; each aggregate adds the rows it uses; two "
	    "aggregates of one column are one set (%zu sets)",
	    d != NULL ? pht_train_rowsets_count(d) : 0);
	pht_train_rowsets_free(d);
	d = NULL;
	/*
	 * aggregate_by records what group_by + a sum per released group records
	 * (a column with no missing cell: a sum records the rows it sums)
	 */
	{
		struct pht_train_rowsets *e = NULL;
		const uint8_t *be;
		size_t lene;

		static const char *const views[] = {"data:where('id', '>', 10)", "data:where('id', '>', 10)",
		    "data"};
		static const char *const keys[] = {"stage", "sex", "sex"};
		char body[1024];
		int t;

		for (t = 0; t < 3; t++) {
			e = NULL;
			snprintf(body, sizeof(body), "local by = %s:aggregate_by('%s', {'id'})\n"
			    "return { n = #by }", views[t], keys[t]);
			r = run_rows(ds, body, &d, &err);
			snprintf(body, sizeof(body), "local n = 0\n"
			    "for _, grp in ipairs(%s:group_by('%s')) do\n"
			    "  if grp.data then n = n + grp.data:column('id'):sum() end\n"
			    "end\nreturn { n = n }", views[t], keys[t]);
			if (r == PHT_OK)
				r = run_rows(ds, body, &e, &err);
			bytes = d != NULL ? pht_train_rowsets_bytes(d, &len) : NULL;
			be = e != NULL ? pht_train_rowsets_bytes(e, &lene) : NULL;
			tap_ok(r == PHT_OK && bytes != NULL && be != NULL && pht_train_rowsets_count(d) >= 3 &&
			    len == lene && memcmp(bytes, be, len) == 0,
			    "%s:aggregate_by('%s') records the view and each released group: the same "
			    "%zu sets, byte for byte, as group_by + sums (%s)", views[t], keys[t],
			    d != NULL ? pht_train_rowsets_count(d) : 0, r == PHT_OK ? "ok" : err.msg);
			pht_train_rowsets_free(d);
			pht_train_rowsets_free(e);
			d = NULL;
		}
	}
	r = run_rows(ds, "local v = data:where('id', '<=', 40)\n"
	    "return { a = v:nrows(), b = data:where('id', '<', 41):column('id'):sum() }", &d, &err);
	tap_ok(r == PHT_OK && d != NULL && pht_train_rowsets_count(d) == 1 &&
	    pht_train_rowsets_size(d, 0) == 40,
	    "the same rows selected two ways are one set of 40 (%s)", r == PHT_OK ? "ok" : err.msg);
	pht_train_rowsets_free(d);
	d = NULL;
	r = run_rows(ds, "return { x = 1 }", &d, &err);
	tap_ok(r == PHT_OK && d != NULL && pht_train_rowsets_count(d) == 0,
	    "a train that reads no data reports no row sets");
	pht_train_rowsets_free(d);
	d = NULL;
	r = run_rows(ds, "local t = 0\nfor i = 1, 80 do\n"
	    "  local v = data:where('id', '~=', i)\n  t = t + v:nrows()\nend\n"
	    "for i = 1, 70 do\n  local v = data:where('id', '<=', i + 5)\n  t = t + v:nrows()\nend\n"
	    "return { t = t }", &d, &err);
	tap_ok(r == PHT_OK && d != NULL && pht_train_rowsets_count(d) == 80 + 70,
	    "150 distinct subsets (80 of 79 rows, 70 of 6..75 rows) are all reported (%zu)", d != NULL ? pht_train_rowsets_count(d) : 0);
	pht_train_rowsets_free(d);
	d = NULL;
	r = run_rows(ds, "local t = 0\nfor i = 1, 80 do\n  for j = i + 1, 80 do\n"
	    "    t = t + data:where('id', '~=', i):where('id', '~=', j):nrows()\n"
	    "  end\nend\n"
	    "for a = 1, 76 do\n  for b = a + 4, 80 do\n"
	    "    t = t + data:where('id', '>=', a):where('id', '<=', b):nrows()\n"
	    "  end\nend\nreturn { t = t }", &d, &err);
	tap_ok(r == PHT_ERR_DISCLOSURE && d == NULL &&
	    strstr(err.msg, "more than 4096 distinct row sets") != NULL,
	    "more than 4096 distinct sets end the run with disclosure control (%s)", err.msg);
	pht_dataset_free(ds);
	gen_free(&g);
	return tap_done();
}
