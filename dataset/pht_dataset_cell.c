/* pht_dataset_cell.c — one CSV cell to a typed value: the dictionary's missing codes, integers, numbers (Clinger's fast path, else strtod), dates, booleans and levels, with the detail of the first bad cell. */
#include "pht_dataset_int.h"
#include "pht_csv.h"
#include "pht_dict.h"
#include "pht_err.h"
#include "pht_time.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBER_MAX_LEN 127      /* longest number cell accepted */

static uint64_t
fnv1a(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

int
pht_dataset_strtab_build(struct strtab *t, const char *const *s, const size_t *len, size_t n)
{
	size_t size = 8, i, h;

	while (size < 2 * n)
		size *= 2;
	if ((t->slot = calloc(size, sizeof(*t->slot))) == NULL)
		return PHT_ERR_NOMEM;
	t->mask = size - 1;
	t->s = s;
	t->len = len;
	for (i = 0; i < n; i++) {
		h = (size_t)fnv1a(s[i], len[i]) & t->mask;
		while (t->slot[h] != 0)
			h = (h + 1) & t->mask;
		t->slot[h] = (uint32_t)(i + 1);
	}
	return PHT_OK;
}

/*
 * a[0..len) == b[0..len): inline, as levels and names are short and a
 * call to memcmp per cell cost more than the comparison.
 */
static int
same_bytes(const char *a, const char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Index of p[0..len) in the table, or -1. */
long
pht_dataset_strtab_find(const struct strtab *t, const char *p, size_t len)
{
	size_t h = (size_t)fnv1a(p, len) & t->mask, i;

	while (t->slot[h] != 0) {
		i = t->slot[h] - 1;
		if (t->len[i] == len && same_bytes(t->s[i], p, len))
			return (long)i;
		h = (h + 1) & t->mask;
	}
	return -1;
}

/* Checks UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int
utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 3;
			cp = p[i] & 0x07;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * Writes p[0..len) quoted for a detail: at most SHOW_MAX bytes, control
 * bytes, quotes, backslashes and (when the cell is not valid UTF-8) every
 * non-ASCII byte escaped; "..." marks a cut.
 */
void
pht_dataset_show(const char *p, size_t len, char *out, size_t outsz)
{
	int utf8 = utf8_valid((const uint8_t *)p, len);
	size_t n = len, o = 0, i;
	uint8_t ch;

	if (n > SHOW_MAX) {
		n = SHOW_MAX;
		while (utf8 && n > 0 && ((uint8_t)p[n] & 0xc0) == 0x80)
			n--; /* do not cut a character */
	}
	if (outsz < 8) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (i = 0; i < n && o + 9 < outsz; i++) {
		ch = (uint8_t)p[i];
		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !utf8)) {
			snprintf(out + o, outsz - o, "\\x%02x", ch);
			o += 4;
		} else
			out[o++] = (char)ch;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* Records a bad cell: the first one's detail is kept, all are counted. */
static void bad(struct loader *L, size_t line, const char *col,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
bad(struct loader *L, size_t line, const char *col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (L->nbad++ > 0)
		return;
	n = snprintf(L->first, sizeof(L->first), L->rows_not_lines ?
	    "%s:row %zu:%s: " : "%s:%zu:%s: ", L->csv_name, line, col);
	if (n < 0 || (size_t)n >= sizeof(L->first))
		return;
	va_start(ap, fmt);
	vsnprintf(L->first + n, sizeof(L->first) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* 0: an integer in *out; 1: not an integer; 2: out of range. */
static int
parse_int(const char *p, size_t len, int64_t *out)
{
	uint64_t v = 0, limit = INT64_MAX;
	int neg = 0, over = 0;
	unsigned d;
	size_t i;

	if (len > 0 && p[0] == '-') {
		neg = 1;
		limit = (uint64_t)INT64_MAX + 1;
		p++;
		len--;
	}
	if (len == 0)
		return 1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 1;
		d = (unsigned)(p[i] - '0');
		if (v > (limit - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	if (over)
		return 2;
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

/* 10^0 .. 10^22: every one is exactly a double. */
static const double pow10_exact[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * Clinger's fast path. When p[0..len) is -?digits[.digits] (at least one
 * digit) with at most 19 significant digits, a mantissa below 2^53 and at
 * most 22 digits after the point, its value is mantissa / 10^fraction
 * digits: both exact doubles, so the one correctly rounded division gives
 * the bits strtod gives (in every rounding mode, as the sign is applied
 * before dividing). Returns 1 with *out set, or 0 when the text is not of
 * that form (the caller then uses strtod). Off where doubles are evaluated
 * with more precision (x87), which would round twice.
 */
static int
num_fast(const char *p, size_t len, double *out)
{
#if FLT_EVAL_METHOD == 0
	uint64_t m = 0;
	size_t i = 0, ndig = 0, nsig = 0, nfrac = 0;
	int neg = 0, dot = 0;
	double v;
	unsigned d;

	if (len > 0 && p[0] == '-') {
		neg = 1;
		i = 1;
	}
	for (; i < len; i++) {
		d = (unsigned)(uint8_t)p[i] - '0';
		if (d <= 9) {
			ndig++;
			nfrac += (size_t)dot;
			if (m == 0 && d == 0)
				continue; /* a leading zero: not significant */
			if (++nsig > 19)
				return 0;
			m = m * 10 + d;
		} else if (p[i] == '.' && !dot)
			dot = 1;
		else
			return 0;
	}
	if (ndig == 0 || nfrac > 22 || m >= ((uint64_t)1 << 53))
		return 0;
	v = (double)m;
	*out = (neg ? -v : v) / pow10_exact[nfrac];
	return 1;
#else
	(void)p;
	(void)len;
	(void)out;
	return 0;
#endif
}

/* 0: a finite double in *out; 1: not a number; 2: out of range; 3: too long. */
static int
parse_num(locale_t loc, const char *p, size_t len, double *out)
{
	char buf[NUMBER_MAX_LEN + 1], *end;
	size_t i;
	double v;

	if (len == 0)
		return 1;
	if (len > NUMBER_MAX_LEN)
		return 3;
	if (num_fast(p, len, out))
		return 0;
	/* Plain decimal notation only: no spaces, inf, nan, hex, leading '+'. */
	if (!((p[0] >= '0' && p[0] <= '9') || p[0] == '-' || p[0] == '.'))
		return 1;
	for (i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '+' ||
		    p[i] == '.' || p[i] == 'e' || p[i] == 'E'))
			return 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	errno = 0;
	v = strtod_l(buf, &end, loc);
	if (end != buf + len)
		return 1;
	if (!isfinite(v))
		return 2;
	*out = v;
	return 0;
}

/* 0: days since the epoch in *out; 1: not a valid YYYY-MM-DD date. */
static int
parse_date(const char *p, size_t len, int32_t *out)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	unsigned y, m, d, dim;
	size_t i;

	if (len != 10 || p[4] != '-' || p[7] != '-')
		return 1;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9'))
			return 1;
	y = (unsigned)((p[0] - '0') * 1000 + (p[1] - '0') * 100 +
	    (p[2] - '0') * 10 + (p[3] - '0'));
	m = (unsigned)((p[5] - '0') * 10 + (p[6] - '0'));
	d = (unsigned)((p[8] - '0') * 10 + (p[9] - '0'));
	if (m < 1 || m > 12)
		return 1;
	dim = mdays[m - 1];
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		dim = 29;
	if (d < 1 || d > dim)
		return 1;
	*out = (int32_t)pht_days_from_civil(y, m, d);
	return 0;
}

int
pht_dataset_parse_date(const char *s, size_t len, int32_t *days)
{
	return parse_date(s, len, days) == 0 ? PHT_OK : PHT_ERR_INVALID;
}

/* Formats up to a few levels of c as "a, b, c, ..." for a detail. */
static void
levels_text(const struct pht_dict_col *c, char *out, size_t outsz)
{
	size_t i, o = 0, k;
	char one[SHOW_MAX * 4 + 8];
	int n;

	out[0] = '\0';
	for (i = 0; i < c->nlevels && i < 6; i++) {
		pht_dataset_show(c->levels[i], c->level_len[i], one, sizeof(one));
		n = snprintf(out + o, outsz - o, "%s%s", i ? ", " : "", one);
		if (n < 0 || (size_t)n >= outsz - o)
			return;
		o += (size_t)n;
	}
	if (i < c->nlevels) {
		k = c->nlevels - i;
		snprintf(out + o, outsz - o, ", and %zu more", k);
	}
}

static void
set_missing_bit(uint8_t *bm, size_t row)
{
	bm[row >> 3] |= (uint8_t)(1u << (row & 7));
}

/* Validates and stores one cell; bad cells are counted, not fatal. */
static int
cell(struct loader *L, size_t ci, size_t row, const struct pht_csv_field *f,
    size_t line)
{
	const struct pht_dict_col *dc = &L->ds->dict->cols[ci];
	struct col_store *st = &L->ds->store[ci];
	struct pht_column *col = &L->ds->cols[ci];
	char shown[SHOW_MAX * 4 + 8], lv[200], dec[NUMBER_MAX_LEN];
	const char *p = f->p;
	size_t len = f->len, i, nsz;
	int64_t iv;
	int32_t dv;
	double fv;
	long li;
	char *ns;
	int r;

	if (f->escaped) {
		if (f->len > L->scratch_cap) {
			nsz = L->scratch_cap ? L->scratch_cap : 64;
			while (nsz < f->len)
				nsz *= 2;
			if ((ns = realloc(L->scratch, nsz)) == NULL)
				return PHT_ERR_NOMEM;
			L->scratch = ns;
			L->scratch_cap = nsz;
		}
		len = pht_csv_unescape(f, L->quote, L->scratch);
		p = L->scratch;
	}
	for (i = 0; ((st->misslen >> (len < 63 ? len : 63)) & 1) &&
	    i < dc->nmissing; i++) {
		if (dc->missing_len[i] == len &&
		    same_bytes(dc->missing[i], p, len)) {
			if (st->missing == NULL &&
			    (st->missing = calloc((L->cap + 7) / 8, 1)) == NULL)
				return PHT_ERR_NOMEM;
			set_missing_bit(st->missing, row);
			col->nmissing++;
			memset((char *)st->data + row * st->elem, 0, st->elem);
			return PHT_OK;
		}
	}
	switch (dc->type) {
	case PHT_COL_INTEGER:
		iv = 0;
		if (dc->datetime) {
			if ((L->fmt != NULL && L->fmt[ci] != NULL ?
			    pht_dataset_datefmt_parse(L->fmt[ci], p, len, &iv) :
			    pht_dataset_datetime_iso(p, len, &iv)) != 0) {
				iv = 0;
				pht_dataset_show(p, len, shown, sizeof(shown));
				bad(L, line, dc->name, "%s is not a valid datetime (%s)",
				    shown, L->fmt != NULL && L->fmt[ci] != NULL ?
				    L->fmt[ci] : "YYYY-MM-DDTHH:MM:SS");
			}
		} else if ((r = parse_int(p, len, &iv)) != 0) {
			pht_dataset_show(p, len, shown, sizeof(shown));
			bad(L, line, dc->name, r == 2 ? "%s is out of the integer "
			    "range" : "%s is not an integer", shown);
		}
		((int64_t *)st->data)[row] = iv;
		break;
	case PHT_COL_NUMBER:
		fv = 0;
		if (L->decimal_comma && len <= NUMBER_MAX_LEN) {
			/* ',' is the point; a '.' is refused, not read as one */
			for (i = 0; i < len; i++)
				dec[i] = p[i] == ',' ? '.' : p[i] == '.' ? ',' : p[i];
			r = parse_num(L->cloc, dec, len, &fv);
		} else
			r = parse_num(L->cloc, p, len, &fv);
		if (r != 0) {
			pht_dataset_show(p, len, shown, sizeof(shown));
			bad(L, line, dc->name, "%s %s", shown,
			    r == 2 ? "is out of the range of a finite number" :
			    r == 3 ? "is too long for a number" : "is not a number");
			fv = 0;
		}
		((double *)st->data)[row] = fv;
		break;
	case PHT_COL_DATE:
		dv = 0;
		if (L->fmt != NULL && L->fmt[ci] != NULL) {
			if (pht_dataset_datefmt_parse(L->fmt[ci], p, len, &iv) == 0)
				dv = (int32_t)(iv / 86400);
			else {
				pht_dataset_show(p, len, shown, sizeof(shown));
				bad(L, line, dc->name, "%s is not a valid date (%s)",
				    shown, L->fmt[ci]);
			}
		} else if (parse_date(p, len, &dv) != 0) {
			pht_dataset_show(p, len, shown, sizeof(shown));
			bad(L, line, dc->name, "%s is not a valid date "
			    "(YYYY-MM-DD)", shown);
		}
		((int32_t *)st->data)[row] = dv;
		break;
	case PHT_COL_BOOLEAN:
		if ((len == 1 && p[0] == '1') || (len == 4 && memcmp(p, "true", 4) == 0))
			((uint8_t *)st->data)[row] = 1;
		else if ((len == 1 && p[0] == '0') ||
		    (len == 5 && memcmp(p, "false", 5) == 0))
			((uint8_t *)st->data)[row] = 0;
		else {
			((uint8_t *)st->data)[row] = 0;
			pht_dataset_show(p, len, shown, sizeof(shown));
			bad(L, line, dc->name, "%s is not a boolean (0, 1, true, "
			    "false)", shown);
		}
		break;
	case PHT_COL_CATEGORY:
		li = pht_dataset_strtab_find(&st->levels, p, len);
		((int32_t *)st->data)[row] = li < 0 ? 0 : (int32_t)li;
		if (li < 0) {
			pht_dataset_show(p, len, shown, sizeof(shown));
			if (!utf8_valid((const uint8_t *)p, len))
				bad(L, line, dc->name, "%s is not valid UTF-8", shown);
			else {
				levels_text(dc, lv, sizeof(lv));
				bad(L, line, dc->name, "%s is not one of the levels "
				    "(%s)", shown, lv);
			}
		}
		break;
	}
	return PHT_OK;
}

int
pht_dataset_record(struct loader *L, const struct pht_csv_field *f,
    size_t nfields, size_t line)
{
	size_t i;

	for (i = 0; i < nfields; i++)
		if (cell(L, L->map[i], L->ds->nrows, &f[i], line) != PHT_OK)
			return PHT_ERR_NOMEM;
	return PHT_OK;
}

int
pht_dataset_cell_int(const char *p, size_t len, int64_t *out)
{
	return parse_int(p, len, out);
}

int
pht_dataset_cell_num(locale_t loc, const char *p, size_t len, double *out)
{
	return parse_num(loc, p, len, out);
}
