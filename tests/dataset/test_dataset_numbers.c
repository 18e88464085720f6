/* test_dataset_numbers.c — number cells load to the bits strtod_l gives, over 1e6+ random and edge-case strings. */
#include "tap.h"

#include "pht_dataset.h"
#include "pht_err.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 100000            /* rows per loaded CSV */
#define NBATCH 11               /* 1.1e6 random strings in all */
#define CELL_MAX 64             /* longest generated cell, NUL included */

static const char *dict =
    "{\"dataset\":\"t\",\"columns\":[{\"name\":\"v\",\"type\":\"number\"}]}";

/* xorshift64*: a fixed, seeded sequence, so a failure can be replayed. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static unsigned
below(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static char
digit(uint64_t *s)
{
	return (char)('0' + below(s, 10));
}

/* Writes digits of v (no sign) into a NUL-terminated d; returns its length. */
static size_t
u64_digits(uint64_t v, char *d)
{
	char t[24];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		d[i] = t[n - 1 - i];
	d[n] = '\0';
	return n;
}

/* Places a point before digit pos of d[0..n) (pos == n: a trailing point). */
static size_t
with_point(const char *d, size_t n, size_t pos, char *out)
{
	size_t o = 0;

	memcpy(out, d, pos);
	o = pos;
	out[o++] = '.';
	memcpy(out + o, d + pos, n - pos);
	o += n - pos;
	out[o] = '\0';
	return o;
}

/*
 * One random cell in out (at most CELL_MAX - 1 bytes), always a number the
 * dictionary allows (first byte a digit, '-' or '.'; at least one digit;
 * finite). Kinds: plain decimals of random shape; 15-19 significant
 * digits with the point anywhere; integers around 2^53 with the point
 * anywhere; 21-23 fractional digits; negative and positive zeros; leading
 * zeros; exponents with and without '+'.
 */
static void
gen(uint64_t *s, char *out)
{
	char d[40];
	size_t n = 0, i, o = 0, nint, nfrac;
	uint64_t v;

	if (below(s, 3) == 0)
		out[o++] = '-';
	switch (below(s, 7)) {
	case 0: /* plain, random shape */
		nint = below(s, 21);
		nfrac = below(s, 25);
		if (nint + nfrac == 0)
			nint = 1;
		for (i = 0; i < nint; i++)
			out[o++] = digit(s);
		if (nfrac > 0 || below(s, 4) == 0)
			out[o++] = '.';
		for (i = 0; i < nfrac; i++)
			out[o++] = digit(s);
		break;
	case 1: /* 15-19 significant digits, point anywhere or none */
		n = 15 + below(s, 5);
		d[0] = (char)('1' + below(s, 9));
		for (i = 1; i < n; i++)
			d[i] = digit(s);
		if (below(s, 4) == 0) {
			memcpy(out + o, d, n);
			o += n;
		} else
			o += with_point(d, n, below(s, (unsigned)n + 1), out + o);
		break;
	case 2: /* around 2^53, point anywhere, sometimes trailing zeros */
		v = ((uint64_t)1 << 53) - 4 + below(s, 9);
		n = u64_digits(v, d);
		o += with_point(d, n, below(s, (unsigned)n + 1), out + o);
		if (below(s, 3) == 0)
			for (i = below(s, 6) + 1; i > 0; i--)
				out[o++] = '0';
		break;
	case 3: /* 21, 22 or 23 fractional digits, few or many significant */
		nint = below(s, 3);
		for (i = 0; i < nint; i++)
			out[o++] = digit(s);
		out[o++] = '.';
		nfrac = 21 + below(s, 3);
		n = below(s, 20); /* leading zeros of the fraction */
		for (i = 0; i < nfrac; i++)
			out[o++] = i < n ? '0' : digit(s);
		break;
	case 4: /* zeros: 0, 0.0, .0, 0., 000.000 */
		nint = below(s, 4);
		for (i = 0; i < nint; i++)
			out[o++] = '0';
		if (nint == 0 || below(s, 2) == 0)
			out[o++] = '.';
		nfrac = nint == 0 ? 1 + below(s, 3) : below(s, 3);
		for (i = 0; i < nfrac; i++)
			out[o++] = '0';
		break;
	case 5: /* leading zeros before a plain decimal */
		for (i = below(s, 25) + 1; i > 0; i--)
			out[o++] = '0';
		for (i = below(s, 17); i > 0; i--)
			out[o++] = digit(s);
		if (below(s, 2) == 0) {
			out[o++] = '.';
			for (i = below(s, 10); i > 0; i--)
				out[o++] = digit(s);
		}
		break;
	default: /* an exponent: e/E, with -, + or no sign */
		for (i = below(s, 19) + 1; i > 0; i--)
			out[o++] = digit(s);
		if (below(s, 2) == 0) {
			out[o++] = '.';
			for (i = below(s, 8); i > 0; i--)
				out[o++] = digit(s);
		}
		out[o++] = below(s, 2) ? 'e' : 'E';
		switch (below(s, 3)) {
		case 0: out[o++] = '-'; break;
		case 1: out[o++] = '+'; break;
		}
		o += (size_t)snprintf(out + o, 6, "%u", below(s, 280));
		break;
	}
	out[o] = '\0';
}

/* Fixed edge cases, each compared like the random ones. */
static const char *const edge[] = {
	"0", "-0", "0.0", "-0.0", "-.0", "-0.", ".0", "0.", "-000.000",
	"9007199254740991", "9007199254740992", "9007199254740993",
	"-9007199254740991", "-9007199254740993", "900719925474099.1",
	"9007199254740991.0", "0.9007199254740993", "9.007199254740993",
	"9999999999999999", "99999999999999999", "9999999999999999999",
	"10000000000000000000", "18446744073709551615", "18446744073709551616",
	"0.1", "0.2", "0.3", "-0.1", "1.1", "2.675", "0.000001", "123.456",
	"0.0000000000000000000001", "0.00000000000000000000001",
	"1.0000000000000000000000", "1.00000000000000000000000",
	"0.1234567890123456789012", "4503599627370497.5",
	"1e22", "1e23", "1E-22", "1e+22", "1.7976931348623157e308",
	"2.2250738585072014e-308", "4.9e-324", "5e-324", "2.4703282292062327e-324",
	"123456789012345678901234567890", "0.30000000000000004",
	"00000000000000000000000000000000000001",
	"0000000000000000000000.1", "7.", ".5", "-.5",
	"3.141592653589793238462643383279",
};

/* Bit-for-bit equality of two doubles (so -0 != 0 and one ulp counts). */
static int
same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/*
 * Loads the n cells of cells (CELL_MAX apart) as one number column and
 * counts the rows whose value is not strtod_l's bits; the first is shown.
 */
static size_t
check_batch(locale_t cloc, const char *cells, size_t n, const char *what)
{
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	const struct pht_column *c;
	char *csv, *end;
	size_t len = 2, i, bad = 0, l;
	double want;
	int rc;

	if ((csv = malloc(2 + n * CELL_MAX)) == NULL)
		return n;
	memcpy(csv, "v\n", 2);
	for (i = 0; i < n; i++) {
		l = strlen(cells + i * CELL_MAX);
		memcpy(csv + len, cells + i * CELL_MAX, l);
		len += l;
		csv[len++] = '\n';
	}
	pht_err_clear(&err);
	rc = pht_dataset_load_mem(csv, len, dict, strlen(dict), "n.csv", &ds, &err);
	free(csv);
	if (rc != PHT_OK || ds == NULL || pht_dataset_nrows(ds) != n) {
		tap_diag("%s: load failed: %d %s", what, rc, err.msg);
		pht_dataset_free(ds);
		return n;
	}
	c = pht_dataset_column(ds, 0);
	for (i = 0; i < n; i++) {
		want = strtod_l(cells + i * CELL_MAX, &end, cloc);
		if (*end != '\0' || !same_bits(c->v.f64[i], want) ||
		    (c->missing != NULL && ((c->missing[i >> 3] >> (i & 7)) & 1))) {
			if (bad++ == 0)
				tap_diag("%s: \"%s\" loaded as %a, strtod_l gives %a", what,
				    cells + i * CELL_MAX, c->v.f64[i], want);
		}
	}
	pht_dataset_free(ds);
	return bad;
}

/*
 * How many cells of the plain form a naive mantissa * 10^-k (an inexact
 * power) gets wrong by at least an ulp: a sign that the cases would catch
 * a fast path off by one ulp.
 */
static size_t
naive_misses(locale_t cloc, const char *cells, size_t n)
{
	size_t i, k, miss = 0;
	const char *p;
	uint64_t m;
	int ok;
	double naive;

	for (i = 0; i < n; i++) {
		p = cells + i * CELL_MAX;
		m = 0;
		k = 0;
		ok = 1;
		for (; *p != '\0' && ok; p++) {
			if (*p >= '0' && *p <= '9') {
				if (m > UINT64_MAX / 20)
					ok = 0;
				m = m * 10 + (uint64_t)(*p - '0');
				if (strchr(cells + i * CELL_MAX, '.') != NULL &&
				    p > strchr(cells + i * CELL_MAX, '.'))
					k++;
			} else if (*p != '.' && *p != '-')
				ok = 0;
		}
		if (!ok || m >= ((uint64_t)1 << 53) || k == 0 || k > 22)
			continue;
		naive = (double)m * pow(10.0, -(double)k);
		if (cells[i * CELL_MAX] == '-')
			naive = -naive;
		if (!same_bits(naive, strtod_l(cells + i * CELL_MAX, NULL, cloc)))
			miss++;
	}
	return miss;
}

/* Loads one cell that must be refused; checks the code and the detail. */
static void
refused(const char *cell, int code, const char *detail)
{
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	char csv[256];
	int n, rc;

	n = snprintf(csv, sizeof(csv), "v\n1.5\n%s\n", cell);
	pht_err_clear(&err);
	rc = pht_dataset_load_mem(csv, (size_t)n, dict, strlen(dict), "n.csv", &ds,
	    &err);
	tap_ok(rc == code && ds == NULL, "\"%s\" refused with code %d (got %d)",
	    cell, code, rc);
	tap_ok(strstr(err.msg, detail) != NULL, "\"%s\": detail \"%s\" has "
	    "\"%s\"", cell, err.msg, detail);
	pht_dataset_free(ds);
}

/*
 * Missing codes of every length class (0, 2, 62, 63 and 70 bytes: lengths
 * of 63 and more share one bit of the loader's length mask) are still
 * found, and a cell as long as a code but different is still parsed.
 */
static void
test_missing_lengths(void)
{
	char c62[63], c63[64], c70[71], x63[64], csv[512], dj[512];
	struct pht_dataset *ds = NULL;
	const struct pht_column *c;
	struct pht_err err;
	int n, rc, i;

	memset(c62, 'a', 62);
	c62[62] = '\0';
	memset(c63, 'b', 63);
	c63[63] = '\0';
	memset(c70, 'c', 70);
	c70[70] = '\0';
	memset(x63, '1', 63);
	x63[63] = '\0';
	snprintf(dj, sizeof(dj), "{\"dataset\":\"t\",\"columns\":[{\"name\":"
	    "\"v\",\"type\":\"number\",\"missing\":[\"\",\"NA\",\"%s\","
	    "\"%s\",\"%s\"]}]}", c62, c63, c70);
	n = snprintf(csv, sizeof(csv), "v\n%s\n2.5\n%s\nNA\n%s\n\n%s\n", c62,
	    c63, c70, x63);
	pht_err_clear(&err);
	rc = pht_dataset_load_mem(csv, (size_t)n, dj, strlen(dj), "n.csv", &ds,
	    &err);
	tap_ok(rc == PHT_OK && ds != NULL && pht_dataset_nrows(ds) == 7,
	    "missing codes of 0, 2, 62, 63, 70 bytes: load (%d %s)", rc, err.msg);
	if (ds != NULL) {
		c = pht_dataset_column(ds, 0);
		for (i = 0, n = 0; i < 7; i++)
			n += c->missing != NULL && ((c->missing[i >> 3] >> (i & 7)) & 1);
		tap_ok(c->nmissing == 5 && n == 5 && c->missing != NULL &&
		    !(c->missing[0] & 0x02) && !(c->missing[0] & 0x40) &&
		    c->v.f64[1] == 2.5 && c->v.f64[6] == strtod(x63, NULL),
		    "rows 0, 2, 3, 4, 5 missing; 2.5 and the 63-digit number kept");
	} else
		tap_ok(0, "rows 0, 2, 3, 4, 5 missing; 2.5 and the 63-digit number kept");
	pht_dataset_free(ds);
	ds = NULL;
	/* 63 bytes, not the 63-byte code: parsed, and refused as a number */
	memset(x63, 'b', 63);
	x63[62] = 'c';
	n = snprintf(csv, sizeof(csv), "v\n%s\n", x63);
	pht_err_clear(&err);
	rc = pht_dataset_load_mem(csv, (size_t)n, dj, strlen(dj), "n.csv", &ds,
	    &err);
	tap_ok(rc == PHT_ERR_INVALID && ds == NULL &&
	    strstr(err.msg, "n.csv:2:v: \"bbbbbbbbbb") != NULL &&
	    strstr(err.msg, "is not a number") != NULL,
	    "a 63-byte cell that is no code: \"%s\"", err.msg);
	pht_dataset_free(ds);
}

int
main(void)
{
	locale_t cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	size_t nedge = sizeof(edge) / sizeof(edge[0]), i, b, bad, total = 0;
	size_t miss = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char *cells, what[64];

	if (cloc == (locale_t)0 || (cells = malloc(BATCH * CELL_MAX)) == NULL) {
		tap_ok(0, "setup (C locale, memory)");
		return tap_done();
	}

	/* The comparison itself sees one ulp and the sign of zero. */
	tap_ok(!same_bits(0.1, nextafter(0.1, 1.0)) && !same_bits(0.0, -0.0) &&
	    same_bits(0.1, strtod_l("0.1", NULL, cloc)),
	    "bit comparison tells one ulp and -0 apart");

	for (i = 0; i < nedge; i++)
		snprintf(cells + i * CELL_MAX, CELL_MAX, "%s", edge[i]);
	bad = check_batch(cloc, cells, nedge, "edge");
	tap_ok(bad == 0, "%zu edge cases: %zu differ from strtod_l", nedge, bad);
	total += nedge;

	for (b = 0; b < NBATCH; b++) {
		for (i = 0; i < BATCH; i++)
			gen(&seed, cells + i * CELL_MAX);
		snprintf(what, sizeof(what), "batch %zu", b);
		bad = check_batch(cloc, cells, BATCH, what);
		miss += naive_misses(cloc, cells, BATCH);
		tap_ok(bad == 0, "batch %zu: %d random cells, %zu differ from "
		    "strtod_l", b, BATCH, bad);
		total += BATCH;
	}
	tap_ok(total >= 1000000, "%zu strings compared in all", total);
	tap_ok(miss > 1000, "%zu cells where a naive m * 10^-k is off by an ulp "
	    "or more (the cases can catch a wrong fast path)", miss);

	/* What the dictionary refuses stays refused. */
	refused("+1.5", PHT_ERR_INVALID, "n.csv:3:v: \"+1.5\" is not a number");
	refused("-", PHT_ERR_INVALID, "\"-\" is not a number");
	refused(".", PHT_ERR_INVALID, "\".\" is not a number");
	refused("-.", PHT_ERR_INVALID, "\"-.\" is not a number");
	refused("1.2.3", PHT_ERR_INVALID, "\"1.2.3\" is not a number");
	refused("--1", PHT_ERR_INVALID, "\"--1\" is not a number");
	refused("-+1", PHT_ERR_INVALID, "\"-+1\" is not a number");
	refused("1-", PHT_ERR_INVALID, "\"1-\" is not a number");
	refused(" 1", PHT_ERR_INVALID, "\" 1\" is not a number");
	refused("1 ", PHT_ERR_INVALID, "\"1 \" is not a number");
	refused("inf", PHT_ERR_INVALID, "\"inf\" is not a number");
	refused("nan", PHT_ERR_INVALID, "\"nan\" is not a number");
	refused("0x10", PHT_ERR_INVALID, "\"0x10\" is not a number");
	refused("1e400", PHT_ERR_INVALID, "\"1e400\" is out of the range of a "
	    "finite number");
	refused("-1e400", PHT_ERR_INVALID, "\"-1e400\" is out of the range of "
	    "a finite number");
	refused("1000000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000000.5",
	    PHT_ERR_INVALID, "is too long for a number");

	test_missing_lengths();

	free(cells);
	freelocale(cloc);
	return tap_done();
}
