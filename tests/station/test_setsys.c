/* test_setsys.c — the set-system auditor alone: differencing patterns it must refuse, safe sequences it must allow, its bounds, rollback, and agreement with a brute-force check. */
#include "tap.h"

#include "pht_err.h"
#include "pht_station_setsys.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static struct pht_station_setsys_limits lim;

/*
 * One release of nsets sets, each given as (first, count) ranges of row
 * ids, as the store admits it: begin, add every set, check, then commit
 * if nothing is determined, else roll back. Returns the check's result.
 */
static int
release(struct pht_station_setsys *s, uint64_t *rows, size_t nsets, ...)
{
	uint32_t ids[4096];
	va_list ap;
	size_t i, n;
	int r = PHT_OK;

	*rows = 0;
	pht_station_setsys_begin(s);
	va_start(ap, nsets);
	for (i = 0; i < nsets && r == PHT_OK; i++) {
		const uint32_t *list = va_arg(ap, const uint32_t *);

		n = va_arg(ap, size_t);
		memcpy(ids, list, n * sizeof(*ids));
		r = pht_station_setsys_add(s, ids, n, &lim, NULL);
	}
	va_end(ap);
	if (r == PHT_OK)
		r = pht_station_setsys_check(s, &lim, rows);
	if (r == PHT_OK)
		pht_station_setsys_commit(s);
	else
		pht_station_setsys_rollback(s);
	return r;
}

/* ids lo..hi-1 into a static buffer slot */
static uint32_t bufs[16][4096];

static const uint32_t *
range(int slot, uint32_t lo, uint32_t hi, size_t *n)
{
	uint32_t i;

	for (i = lo; i < hi; i++)
		bufs[slot][i - lo] = i;
	*n = hi - lo;
	return bufs[slot];
}

static void
test_patterns(void)
{
	struct pht_station_setsys *s;
	uint64_t rows;
	size_t n1, n2, n3, n4;
	const uint32_t *a, *b, *c, *d;
	uint32_t u[64];
	int r, i;

	/* all vs all but one */
	s = pht_station_setsys_new(5);
	a = range(0, 0, 40, &n1);
	b = range(1, 1, 40, &n2);
	tap_ok(release(s, &rows, 1, a, n1) == PHT_OK, "pairs: all rows alone is safe");
	tap_ok(release(s, &rows, 1, b, n2) == PHT_ERR_DISCLOSURE && rows == 1,
	    "pairs: all but one after all is refused");
	tap_ok(release(s, &rows, 1, b, n2) == PHT_ERR_DISCLOSURE,
	    "pairs: refused again: the refusal stored nothing (rolled back)");
	c = range(2, 0, 36, &n3);
	tap_ok(release(s, &rows, 1, c, n3) == PHT_ERR_DISCLOSURE && rows == 4,
	    "pairs: all but four is refused (k = 5)");
	c = range(2, 0, 35, &n3);
	tap_ok(release(s, &rows, 1, c, n3) == PHT_OK, "pairs: all but five is allowed");
	pht_station_setsys_free(s);

	/* three sets: S1 = {p} + A + B, S2 = A, S3 = B, |A| = |B| = 5 */
	s = pht_station_setsys_new(5);
	a = range(0, 0, 11, &n1);       /* p = 0, A = 1..5, B = 6..10 */
	b = range(1, 1, 6, &n2);
	c = range(2, 6, 11, &n3);
	tap_ok(release(s, &rows, 1, a, n1) == PHT_OK && release(s, &rows, 1, b, n2) == PHT_OK,
	    "three sets: S1 then S2 are each safe");
	tap_ok(release(s, &rows, 1, c, n3) == PHT_ERR_DISCLOSURE && rows == 1,
	    "three sets: S3 = B is refused: S1 - S2 - S3 is one patient");
	tap_ok(release(s, &rows, 3, a, n1, b, n2, c, n3) == PHT_ERR_DISCLOSURE,
	    "three sets in one release are refused too");
	pht_station_setsys_free(s);
	s = pht_station_setsys_new(5);
	tap_ok(release(s, &rows, 3, a, n1, b, n2, c, n3) == PHT_ERR_DISCLOSURE && rows == 1,
	    "three sets in one release, on a fresh system, are refused");
	pht_station_setsys_free(s);

	/* n sets: the whole minus n disjoint blocks of 6 leaves one row */
	s = pht_station_setsys_new(5);
	a = range(0, 0, 61, &n1);
	tap_ok(release(s, &rows, 1, a, n1) == PHT_OK, "n sets: the whole (61 rows) is safe");
	for (i = 0, r = PHT_OK; i < 9 && r == PHT_OK; i++) {
		b = range(1, (uint32_t)(1 + 6 * i), (uint32_t)(7 + 6 * i), &n2);
		r = release(s, &rows, 1, b, n2);
	}
	tap_ok(r == PHT_OK, "n sets: nine disjoint blocks of 6 are each safe");
	b = range(1, 55, 61, &n2);
	tap_ok(release(s, &rows, 1, b, n2) == PHT_ERR_DISCLOSURE && rows == 1,
	    "n sets: the tenth block is refused (whole minus ten blocks is one row)");
	pht_station_setsys_free(s);

	/*
	 * unions of small atoms: b = {20,21} and d = {22,23} are determined
	 * together (S1 + S2 - S3 + S4 = b + d) though neither alone is, and
	 * every two of the sets differ by 20 rows or more
	 */
	s = pht_station_setsys_new(5);
	{
		uint32_t s1[12], s2[12], s3[30];
		size_t k1 = 0, k2 = 0, k3 = 0;

		for (i = 0; i < 10; i++) {
			s1[k1++] = (uint32_t)i;                 /* a */
			s2[k2++] = (uint32_t)(10 + i);          /* c */
			s3[k3++] = (uint32_t)i;
			s3[k3++] = (uint32_t)(10 + i);
			s3[k3++] = (uint32_t)(24 + i);          /* e */
		}
		s1[k1++] = 20;
		s1[k1++] = 21;
		s2[k2++] = 22;
		s2[k2++] = 23;
		d = range(3, 24, 34, &n4);
		tap_ok(release(s, &rows, 1, s1, k1) == PHT_OK && release(s, &rows, 1, s2, k2) ==
		    PHT_OK && release(s, &rows, 1, s3, k3) == PHT_OK,
		    "small atoms: a + b, c + d and a + c + e are each safe");
		tap_ok(release(s, &rows, 1, d, n4) == PHT_ERR_DISCLOSURE && rows == 4,
		    "small atoms: then e is refused: b + d, two atoms of 2 rows, is determined "
		    "together");
		u[0] = 20;
		u[1] = 21;
		for (i = 0; i < 10; i++)
			u[2 + i] = (uint32_t)(24 + i);
		tap_ok(release(s, &rows, 1, u, (size_t)12) == PHT_OK,
		    "small atoms: b + e instead is safe (no union under 5 rows follows)");
	}
	pht_station_setsys_free(s);

	/* complementary cells: a 2x2 crosstab, margin minus released cells */
	s = pht_station_setsys_new(5);
	{
		uint32_t r0[30], r1[30], c0[30], c00[30], c01[30], c10[30];
		size_t nr0 = 0, nr1 = 0, nc0 = 0, n00 = 0, n01 = 0, n10 = 0;
		uint32_t id;

		/* rows 0..29 sex F/M by parity; column 0 = id < 14; cell (M, col0) has 3 rows */
		for (id = 0; id < 30; id++) {
			int sex = id % 2, col = (sex == 0 && id < 20) || (sex == 1 && id < 6);

			if (sex == 0)
				r0[nr0++] = id;
			else
				r1[nr1++] = id;
			if (col)
				c0[nc0++] = id;
			if (sex == 0 && col)
				c00[n00++] = id;
			if (sex == 0 && !col)
				c01[n01++] = id;
			if (sex == 1 && !col)
				c10[n10++] = id;
		}
		tap_ok(release(s, &rows, 3, r0, nr0, r1, nr1, c0, nc0) == PHT_OK,
		    "crosstab: the margins are safe");
		tap_ok(release(s, &rows, 3, c00, n00, c01, n01, c10, n10) == PHT_ERR_DISCLOSURE &&
		    rows == 3, "crosstab: the released cells with one suppressed cell (3 rows) "
		    "are refused: margin - cells gives it");
		tap_ok(release(s, &rows, 1, c10, n10) == PHT_ERR_DISCLOSURE && rows == 3,
		    "crosstab: the one cell (M, not column 0) alone is refused as well");
		tap_ok(release(s, &rows, 1, c01, n01) == PHT_ERR_DISCLOSURE && rows == 3,
		    "crosstab: so is any other cell: with the margins one cell fixes the table");
	}
	pht_station_setsys_free(s);

	/* safe sequences: nested large groups and disjoint large groups */
	s = pht_station_setsys_new(5);
	for (i = 0, r = PHT_OK; i < 20 && r == PHT_OK; i++) {
		a = range(0, 0, (uint32_t)(200 - 10 * i), &n1);
		r = release(s, &rows, 1, a, n1);
	}
	tap_ok(r == PHT_OK, "safe: 20 nested sets, 10 rows apart, are all released");
	for (i = 0, r = PHT_OK; i < 20 && r == PHT_OK; i++) {
		a = range(0, (uint32_t)(1000 + 7 * i), (uint32_t)(1007 + 7 * i), &n1);
		r = release(s, &rows, 1, a, n1);
	}
	tap_ok(r == PHT_OK, "safe: 20 disjoint groups of 7 are all released");
	a = range(0, 1000, 1140, &n1);
	tap_ok(release(s, &rows, 1, a, n1) == PHT_OK,
	    "safe: their union is released (already determined)");
	a = range(0, 1000, 1139, &n1);
	tap_ok(release(s, &rows, 1, a, n1) == PHT_ERR_DISCLOSURE && rows == 1,
	    "then the union minus one row is refused");
	pht_station_setsys_free(s);

	/* bounds */
	s = pht_station_setsys_new(5);
	lim.atoms = 3;
	a = range(0, 0, 40, &n1);
	b = range(1, 0, 20, &n2);
	c = range(2, 10, 30, &n3);
	tap_ok(release(s, &rows, 1, a, n1) == PHT_OK && release(s, &rows, 1, b, n2) == PHT_OK &&
	    release(s, &rows, 1, c, n3) == PHT_ERR_TOO_LARGE,
	    "bounds: past the atom bound the release is withheld");
	pht_station_setsys_default_limits(&lim);
	lim.basis = 2;
	tap_ok(release(s, &rows, 1, c, n3) == PHT_ERR_TOO_LARGE,
	    "bounds: past the basis bound the release is withheld");
	pht_station_setsys_default_limits(&lim);
	lim.entries = 2;
	tap_ok(release(s, &rows, 1, c, n3) == PHT_ERR_TOO_LARGE,
	    "bounds: past the entry bound the release is withheld");
	pht_station_setsys_default_limits(&lim);
	tap_ok(release(s, &rows, 1, c, n3) == PHT_OK,
	    "bounds: with the defaults the same release is safe (the bounds were undone)");
	pht_station_setsys_free(s);
	/* A + {p} then A + {q}: p - q is in the span, so the check has a candidate */
	s = pht_station_setsys_new(5);
	a = range(0, 0, 11, &n1);
	b = range(1, 0, 10, &n2);
	bufs[1][10] = 11;
	n2 = 11;
	lim.candidates = 0;
	tap_ok(release(s, &rows, 1, a, n1) == PHT_OK && release(s, &rows, 1, b, n2) ==
	    PHT_ERR_TOO_LARGE, "bounds: past the candidate bound the release is withheld, "
	    "not waved through");
	pht_station_setsys_default_limits(&lim);
	lim.seconds = -1;
	tap_ok(release(s, &rows, 1, b, n2) == PHT_ERR_TOO_LARGE,
	    "bounds: past the time bound the release is withheld");
	pht_station_setsys_default_limits(&lim);
	tap_ok(release(s, &rows, 1, b, n2) == PHT_OK, "bounds: with the defaults it is safe");
	pht_station_setsys_free(s);
}

/* ---- agreement with a brute-force check on small systems ---- */

#define BP ((uint64_t)0x1FFFFFFFFFFFFFFFULL)
#define NMAX 11

static uint64_t
bmul(uint64_t a, uint64_t b)
{
	unsigned __int128 m = (unsigned __int128)a * b;

	return (uint64_t)(m % BP);
}

static uint64_t
binv(uint64_t a)
{
	uint64_t r = 1, e = BP - 2;

	for (; e > 0; e >>= 1, a = bmul(a, a))
		if (e & 1)
			r = bmul(r, a);
	return r;
}

/* Rank of the nv vectors of length n over GF(p). */
static int
rank_of(uint64_t m[][NMAX], int nv, int n)
{
	uint64_t a[64][NMAX], f, inv;
	int r = 0, c, i, j, piv;

	memcpy(a, m, (size_t)nv * sizeof(a[0]));
	for (c = 0; c < n && r < nv; c++) {
		for (piv = r; piv < nv && a[piv][c] == 0; piv++)
			;
		if (piv == nv)
			continue;
		for (j = 0; j < n; j++) {
			uint64_t t = a[r][j];
			a[r][j] = a[piv][j];
			a[piv][j] = t;
		}
		inv = binv(a[r][c]);
		for (i = 0; i < nv; i++) {
			if (i == r || a[i][c] == 0)
				continue;
			f = bmul(a[i][c], inv);
			for (j = 0; j < n; j++)
				a[i][j] = (a[i][j] + BP - bmul(f, a[r][j])) % BP;
		}
		r++;
	}
	return r;
}

/* 1 if some union of 1..k-1 of the n rows is in the span of the sets (bit masks). */
static int
brute(const unsigned *sets, int ns, int n, int k)
{
	uint64_t m[64][NMAX];
	unsigned u;
	int i, j, base;

	for (i = 0; i < ns; i++)
		for (j = 0; j < n; j++)
			m[i][j] = (sets[i] >> j) & 1;
	base = rank_of(m, ns, n);
	for (u = 1; u < (1u << n); u++) {
		if (__builtin_popcount(u) >= k)
			continue;
		for (j = 0; j < n; j++)
			m[ns][j] = (u >> j) & 1;
		if (rank_of(m, ns + 1, n) == base)
			return 1;
	}
	return 0;
}

static void
test_brute(void)
{
	unsigned kept[64], cand, seed = 12345;
	int trial, step, nk, n, k, agree = 1, refused = 0, allowed = 0;
	uint64_t rows;

	for (trial = 0; trial < 300 && agree; trial++) {
		struct pht_station_setsys *s;

		n = 4 + trial % (NMAX - 3);
		k = 2 + trial % 4;
		s = pht_station_setsys_new(k);
		nk = 0;
		for (step = 0; step < 10 && agree; step++) {
			uint32_t ids[NMAX];
			size_t m = 0;
			int j, sys, bf;

			seed = seed * 1103515245u + 12345u;
			cand = (seed >> 8) & ((1u << n) - 1);
			if (trial % 3 == 0)     /* bias towards large sets */
				cand |= (seed >> 3) & ((1u << n) - 1);
			if (cand == 0)
				continue;
			for (j = 0; j < n; j++)
				if ((cand >> j) & 1)
					ids[m++] = (uint32_t)j;
			pht_station_setsys_begin(s);
			sys = pht_station_setsys_add(s, ids, m, &lim, NULL);
			if (sys == PHT_OK)
				sys = pht_station_setsys_check(s, &lim, &rows);
			kept[nk] = cand;
			bf = brute(kept, nk + 1, n, k);
			if ((sys == PHT_ERR_DISCLOSURE) != bf || (sys != PHT_OK &&
			    sys != PHT_ERR_DISCLOSURE)) {
				tap_diag("trial %d step %d n %d k %d set %x: system %d, brute force %d",
				    trial, step, n, k, cand, sys, bf);
				agree = 0;
			}
			if (sys == PHT_OK) {
				pht_station_setsys_commit(s);
				nk++;
				allowed++;
			} else {
				pht_station_setsys_rollback(s);
				refused++;
			}
		}
		pht_station_setsys_free(s);
	}
	tap_ok(agree && refused > 100 && allowed > 100, "brute force: 300 random systems of "
	    "4 to %d rows agree set by set (%d refused, %d allowed)", NMAX, refused, allowed);
}


/* ---- the search from the changed rows against the search from every row ---- */

/* A random set over n rows: a random subset, an interval, or a union of blocks. */
static size_t
random_set(unsigned *seed, int n, uint32_t *ids)
{
	size_t m = 0;
	int j, lo, hi, kind, b;

	*seed = *seed * 1103515245u + 12345u;
	kind = (int)((*seed >> 16) % 3);
	lo = (int)((*seed >> 4) % (unsigned)n);
	*seed = *seed * 1103515245u + 12345u;
	hi = lo + 1 + (int)((*seed >> 8) % (unsigned)(n - lo));
	b = 2 + (int)((*seed >> 20) % 5);
	for (j = 0; j < n; j++) {
		*seed = *seed * 1103515245u + 12345u;
		if ((kind == 0 && ((*seed >> 12) & 3) != 0) || (kind == 1 && j >= lo && j < hi) ||
		    (kind == 2 && ((j / b) % 2 == 0) != (j >= lo && j < hi)))
			ids[m++] = (uint32_t)j;
	}
	return m;
}

/*
 * Two systems get the same releases; before each one the second forgets
 * that its committed sets were shown clean, so its check searches from
 * every W row while the first starts only from the rows the release
 * changed. Their answers must agree.
 */
static void
test_fast_vs_full(void)
{
	unsigned seed = 777;
	int trial, step, n, k, agree = 1, refused = 0, allowed = 0, clean = 1;
	uint64_t rows_a, rows_b;
	uint32_t ids[64];

	for (trial = 0; trial < 200 && agree; trial++) {
		struct pht_station_setsys *a, *b;

		n = 20 + trial % 40;
		k = 2 + trial % 5;
		a = pht_station_setsys_new(k);
		b = pht_station_setsys_new(k);
		for (step = 0; step < 25 && agree; step++) {
			size_t m = random_set(&seed, n, ids);
			int ra, rb;

			if (m == 0)
				continue;
			pht_station_setsys_distrust(b);
			pht_station_setsys_begin(a);
			pht_station_setsys_begin(b);
			ra = pht_station_setsys_add(a, ids, m, &lim, NULL);
			rb = pht_station_setsys_add(b, ids, m, &lim, NULL);
			if (ra == PHT_OK)
				ra = pht_station_setsys_check(a, &lim, &rows_a);
			if (rb == PHT_OK)
				rb = pht_station_setsys_check(b, &lim, &rows_b);
			if (ra != rb || (ra != PHT_OK && ra != PHT_ERR_DISCLOSURE)) {
				tap_diag("trial %d step %d n %d k %d: from the changed rows %d, "
				    "from every row %d", trial, step, n, k, ra, rb);
				agree = 0;
			}
			if (ra == PHT_OK) {
				pht_station_setsys_commit(a);
				pht_station_setsys_commit(b);
				clean &= pht_station_setsys_clean(a);
				allowed++;
			} else {
				pht_station_setsys_rollback(a);
				pht_station_setsys_rollback(b);
				refused++;
			}
		}
		pht_station_setsys_free(a);
		pht_station_setsys_free(b);
	}
	tap_ok(agree && refused > 200 && allowed > 200, "changed rows: 200 random systems of 20 "
	    "to 59 rows give the same answers searched from the changed W rows and from "
	    "every W row (%d refused, %d allowed)", refused, allowed);
	tap_ok(clean, "changed rows: every committed release leaves the system clean");
}

/*
 * Sets added without a check (as a replay of the store does) may already
 * determine a small union: the system is then not clean, and a release
 * that changes W is searched from every W row and refused, though it
 * determines nothing new.
 */
static void
test_unchecked(void)
{
	struct pht_station_setsys *s;
	uint32_t x[12], y[12];
	const uint32_t *a, *b;
	size_t n1, n2, i;
	uint64_t rows;

	for (i = 0; i < 3; i++) {
		x[i] = (uint32_t)(30 + i);      /* X: 3 rows */
		y[i] = (uint32_t)(33 + i);      /* Y: 3 rows */
	}
	for (i = 0; i < 6; i++)
		x[3 + i] = y[3 + i] = (uint32_t)(36 + i);       /* Z: 6 rows */
	s = pht_station_setsys_new(5);
	tap_ok(release(s, &rows, 1, x, (size_t)9) == PHT_OK &&
	    release(s, &rows, 1, y, (size_t)9) == PHT_OK && pht_station_setsys_clean(s),
	    "unchecked: X + Z then Y + Z are safe (X - Y is in W, no small union)");
	pht_station_setsys_free(s);

	s = pht_station_setsys_new(5);
	a = range(0, 0, 11, &n1);
	b = range(1, 1, 11, &n2);
	pht_station_setsys_begin(s);
	pht_station_setsys_add(s, a, n1, &lim, NULL);
	pht_station_setsys_add(s, b, n2, &lim, NULL);
	pht_station_setsys_commit(s);
	tap_ok(!pht_station_setsys_clean(s), "unchecked: sets committed without a check that "
	    "determine row 0 leave the system not clean");
	tap_ok(release(s, &rows, 1, x, (size_t)9) == PHT_OK,
	    "unchecked: X + Z is released (W does not change)");
	tap_ok(release(s, &rows, 1, y, (size_t)9) == PHT_ERR_DISCLOSURE && rows == 1,
	    "unchecked: Y + Z is refused: the search from every W row finds row 0");
	pht_station_setsys_free(s);
}

int
main(void)
{
	pht_station_setsys_default_limits(&lim);
	test_patterns();
	test_brute();
	test_fast_vs_full();
	test_unchecked();
	return tap_done();
}
