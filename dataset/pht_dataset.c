/* pht_dataset.c — loads a CSV and its dictionary into typed, validated columns. */
#include "pht_dataset.h"
#include "pht_buf.h"
#include "pht_csv.h"
#include "pht_dict.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_time.h"
#include "pht_limits.h"

#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSV_DEFAULT_MAX ((size_t)4 << 30)
#define NUMBER_MAX_LEN 127      /* longest number cell accepted */
#define SHOW_MAX 40             /* bytes of a bad cell quoted in a detail */
#define FIRST_MAX 420           /* room left for " (N bad cells in all)" */
#define HUGE_COLUMN ((size_t)4 << 20)   /* column arrays offered huge pages */
#define HUGE_ALIGN ((size_t)2 << 20)

/*
 * An exact-match table over n byte strings (open addressing, FNV-1a):
 * slot[h] holds index+1 of a string, 0 when empty; the table is at least
 * twice as large as n, so probes stay short.
 */
struct strtab {
	uint32_t *slot;
	size_t mask;
	const char *const *s;
	const size_t *len;
};

/*
 * The owning side of one column: data has room for the loader's row
 * capacity (then exactly nrows after loading); missing is NULL until the
 * first missing cell, then has a bit per row of capacity.
 */
struct col_store {
	void *data;
	uint8_t *missing;
	size_t elem;
	uint64_t misslen;           /* bit n: a missing code of n bytes (n < 63);
	                               bit 63: one of 63 bytes or more */
	struct strtab levels;       /* category only */
};

struct pht_dataset {
	struct pht_dict *dict;
	size_t nrows;
	size_t ncols;
	struct pht_column *cols;    /* public views, dictionary order */
	struct col_store *store;    /* same order */
	char csv_sha256[65];
	char dict_sha256[65];
	uint32_t *file_row;         /* after drop_rows: row -> row of the file */
	size_t file_nrows;          /* after drop_rows: data rows of the file */
};

/*
 * State of one load: the header map, a scratch buffer for unescaped cells,
 * and, when the CSV is a file mapping, how much of it has been given back.
 */
struct loader {
	struct pht_dataset *ds;
	const char *csv;
	int mapped;                 /* csv is our own read-only mapping */
	size_t released;            /* bytes of csv already dropped */
	const char *csv_name;
	size_t *map;                /* CSV field index -> column index */
	size_t cap;                 /* rows of room in every column */
	char *scratch;
	size_t scratch_cap;
	locale_t cloc;
	size_t nbad;
	char first[FIRST_MAX];
};

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

static int
strtab_build(struct strtab *t, const char *const *s, const size_t *len, size_t n)
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
static long
strtab_find(const struct strtab *t, const char *p, size_t len)
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
static void
show(const char *p, size_t len, char *out, size_t outsz)
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
	n = snprintf(L->first, sizeof(L->first), "%s:%zu:%s: ", L->csv_name,
	    line, col);
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

int
pht_column_level_code(const struct pht_column *c, const char *name)
{
	size_t i;

	if (c->type != PHT_COL_CATEGORY)
		return -1;
	for (i = 0; i < c->nlevels; i++)
		if (strcmp(c->levels[i], name) == 0)
			return (int)i;
	return -1;
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
		show(c->levels[i], c->level_len[i], one, sizeof(one));
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
	char shown[SHOW_MAX * 4 + 8], lv[200];
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
		len = pht_csv_unescape(f, L->scratch);
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
		if ((r = parse_int(p, len, &iv)) != 0) {
			show(p, len, shown, sizeof(shown));
			bad(L, line, dc->name, r == 2 ? "%s is out of the integer "
			    "range" : "%s is not an integer", shown);
		}
		((int64_t *)st->data)[row] = iv;
		break;
	case PHT_COL_NUMBER:
		fv = 0;
		if ((r = parse_num(L->cloc, p, len, &fv)) != 0) {
			show(p, len, shown, sizeof(shown));
			bad(L, line, dc->name, "%s %s", shown,
			    r == 2 ? "is out of the range of a finite number" :
			    r == 3 ? "is too long for a number" : "is not a number");
			fv = 0;
		}
		((double *)st->data)[row] = fv;
		break;
	case PHT_COL_DATE:
		dv = 0;
		if (parse_date(p, len, &dv) != 0) {
			show(p, len, shown, sizeof(shown));
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
			show(p, len, shown, sizeof(shown));
			bad(L, line, dc->name, "%s is not a boolean (0, 1, true, "
			    "false)", shown);
		}
		break;
	case PHT_COL_CATEGORY:
		li = strtab_find(&st->levels, p, len);
		((int32_t *)st->data)[row] = li < 0 ? 0 : (int32_t)li;
		if (li < 0) {
			show(p, len, shown, sizeof(shown));
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

/*
 * Gives back the pages of a mapped CSV below upto (page-aligned down), so
 * that a load's resident memory is the columns, not the file. The mapping
 * is private and read-only: a later touch would just read the file again.
 */
static void
release_below(struct loader *L, size_t upto)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (!L->mapped)
		return;
	upto -= upto % pg;
	if (upto <= L->released)
		return;
	(void)madvise((void *)(uintptr_t)(L->csv + L->released),
	    upto - L->released, MADV_DONTNEED);
	L->released = upto;
}

/* A pass over a mapping drops what it read in steps of this size. */
#define RELEASE_STEP ((size_t)8 << 20)

/* SHA-256 of data as lower-case hex; out[0] is NUL if OpenSSL fails. */
static void
sha256_hex(struct loader *L, const char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	size_t off = 0, n;
	int ok;

	out[0] = '\0';
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	while (ok && off < len) {
		n = len - off < RELEASE_STEP ? len - off : RELEASE_STEP;
		ok = EVP_DigestUpdate(ctx, data + off, n) == 1;
		off += n;
		if (L != NULL)
			release_below(L, off);
	}
	if (ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32)
		pht_hex_encode(md, 32, out);
	EVP_MD_CTX_free(ctx);
}

/* Line feeds in [from, end), dropping mapped pages behind the count. */
static size_t
count_newlines(struct loader *L, const char *from, const char *end)
{
	const char *q = from, *stop;
	size_t n = 0;

	while (q < end) {
		stop = (size_t)(end - q) < RELEASE_STEP ? end : q + RELEASE_STEP;
		while (q < stop && (q = memchr(q, '\n', (size_t)(stop - q))) != NULL) {
			n++;
			q++;
		}
		q = stop;
		release_below(L, (size_t)(q - L->csv));
	}
	return n;
}

static size_t
elem_size(enum pht_coltype t)
{
	switch (t) {
	case PHT_COL_NUMBER: return sizeof(double);
	case PHT_COL_INTEGER: return sizeof(int64_t);
	case PHT_COL_CATEGORY: return sizeof(int32_t);
	case PHT_COL_DATE: return sizeof(int32_t);
	case PHT_COL_BOOLEAN: return sizeof(uint8_t);
	}
	return sizeof(double);
}

void
pht_dataset_free(struct pht_dataset *ds)
{
	size_t i;

	if (ds == NULL)
		return;
	if (ds->store != NULL) {
		for (i = 0; i < ds->ncols; i++) {
			free(ds->store[i].data);
			free(ds->store[i].missing);
			free(ds->store[i].levels.slot);
		}
	}
	free(ds->store);
	free(ds->cols);
	free(ds->file_row);
	pht_dict_free(ds->dict);
	free(ds);
}

/* Maps the header onto the dictionary's columns (L->map). */
static int
read_header(struct loader *L, struct pht_csv *c, struct pht_err *err)
{
	const struct pht_dict *d = L->ds->dict;
	struct strtab names = { 0 };
	const char **nm = NULL;
	size_t *nl = NULL, *map = NULL, i, len;
	uint8_t *seen = NULL;
	char shown[SHOW_MAX * 4 + 8], *hdr = NULL;
	const char *p;
	long k;
	int r;

	if ((r = pht_csv_next(c, err)) < 0)
		return r;
	if (r == 0)
		return pht_errf(err, PHT_ERR_MALFORMED,
		    "%s: empty file (no header line)", L->csv_name);
	if ((nm = calloc(d->ncols, sizeof(*nm))) == NULL ||
	    (nl = calloc(d->ncols, sizeof(*nl))) == NULL ||
	    (seen = calloc(d->ncols, 1)) == NULL ||
	    (map = calloc(c->nfields, sizeof(*map))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", L->csv_name);
		goto out;
	}
	for (i = 0; i < d->ncols; i++) {
		nm[i] = d->cols[i].name;
		nl[i] = strlen(nm[i]);
	}
	if (strtab_build(&names, nm, nl, d->ncols) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", L->csv_name);
		goto out;
	}
	for (i = 0; i < c->nfields; i++) {
		p = c->fields[i].p;
		len = c->fields[i].len;
		if (c->fields[i].escaped) {
			free(hdr);
			if ((hdr = malloc(len ? len : 1)) == NULL) {
				r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory",
				    L->csv_name);
				goto out;
			}
			len = pht_csv_unescape(&c->fields[i], hdr);
			p = hdr;
		}
		if ((k = strtab_find(&names, p, len)) < 0) {
			show(p, len, shown, sizeof(shown));
			r = pht_errf(err, PHT_ERR_INVALID, "%s:%zu: header column %zu "
			    "%s is not in the dictionary", L->csv_name, c->rec_line,
			    i + 1, shown);
			goto out;
		}
		if (seen[k]) {
			show(p, len, shown, sizeof(shown));
			r = pht_errf(err, PHT_ERR_INVALID, "%s:%zu: header column %zu "
			    "%s appears twice", L->csv_name, c->rec_line, i + 1,
			    shown);
			goto out;
		}
		seen[k] = 1;
		map[i] = (size_t)k;
	}
	for (i = 0; i < d->ncols; i++) {
		if (!seen[i]) {
			show(nm[i], nl[i], shown, sizeof(shown));
			r = pht_errf(err, PHT_ERR_INVALID, "%s:%zu: column %s of the "
			    "dictionary is missing from the header", L->csv_name,
			    c->rec_line, shown);
			goto out;
		}
	}
	L->map = map;
	map = NULL; /* transferred */
	r = PHT_OK;
out:
	free(hdr);
	free(names.slot);
	free(seen);
	free(nl);
	free(nm);
	free(map);
	return r;
}

/*
 * A column array of size bytes. One of 4 MiB or more is offered
 * transparent huge pages over its 2 MiB-aligned interior before its first
 * write (THP "madvise" mode; a hint, its failure ignored): trains run in
 * forked children that read the parent's columns, and where the kernel
 * (or a hypervisor's shadow page tables) maps the child's pages one by one
 * on first touch, 4 KiB pages cost a fault per page per run — about 100 ms
 * per 80 MB column measured on the benchmark machine, against under 5 ms
 * with huge pages (bench/PROFILE.md section 2).
 */
static void *
column_alloc(size_t size)
{
	void *p = malloc(size);
	uintptr_t a, e;

	if (p != NULL && size >= HUGE_COLUMN) {
		a = ((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1);
		e = ((uintptr_t)p + size) & ~(uintptr_t)(HUGE_ALIGN - 1);
		if (e > a)
			(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
	return p;
}

/* Sets up the columns, with room for cap rows each. */
static int
alloc_columns(struct pht_dataset *ds, size_t cap)
{
	const struct pht_dict_col *dc;
	struct col_store *st;
	size_t i, k;

	ds->ncols = ds->dict->ncols;
	if ((ds->cols = calloc(ds->ncols, sizeof(*ds->cols))) == NULL ||
	    (ds->store = calloc(ds->ncols, sizeof(*ds->store))) == NULL)
		return PHT_ERR_NOMEM;
	for (i = 0; i < ds->ncols; i++) {
		dc = &ds->dict->cols[i];
		st = &ds->store[i];
		st->elem = elem_size(dc->type);
		for (k = 0; k < dc->nmissing; k++)
			st->misslen |= (uint64_t)1 << (dc->missing_len[k] < 63 ?
			    dc->missing_len[k] : 63);
		if (cap > SIZE_MAX / st->elem ||
		    (st->data = column_alloc(cap * st->elem)) == NULL)
			return PHT_ERR_NOMEM;
		if (dc->type == PHT_COL_CATEGORY &&
		    strtab_build(&st->levels, dc->levels, dc->level_len,
		    dc->nlevels) != PHT_OK)
			return PHT_ERR_NOMEM;
		ds->cols[i].name = dc->name;
		ds->cols[i].type = dc->type;
		ds->cols[i].unit = dc->unit;
		ds->cols[i].description = dc->description;
		ds->cols[i].role = dc->role;
		ds->cols[i].nlevels = dc->nlevels;
		ds->cols[i].levels = dc->levels;
	}
	return PHT_OK;
}

/* Trims every column to nrows and publishes the arrays in the views. */
static void
finish_columns(struct pht_dataset *ds)
{
	struct col_store *st;
	struct pht_column *col;
	size_t i, n = ds->nrows ? ds->nrows : 1;
	void *p;

	for (i = 0; i < ds->ncols; i++) {
		st = &ds->store[i];
		col = &ds->cols[i];
		if ((p = realloc(st->data, n * st->elem)) != NULL)
			st->data = p; /* a failed shrink keeps the larger block */
		if (st->missing != NULL &&
		    (p = realloc(st->missing, (n + 7) / 8)) != NULL)
			st->missing = p;
		col->v.f64 = st->data; /* the union: one pointer for every type */
		col->missing = st->missing;
	}
}

/*
 * The loader proper. mapped says csv is the loader's own read-only file
 * mapping, whose pages it may drop as it goes.
 */
static int
load_buffers(const char *csv, size_t csv_len, int mapped, const char *dict,
    size_t dict_len, const char *csv_name, const char *dict_name,
    struct pht_dataset **out, struct pht_err *err)
{
	struct loader L;
	struct pht_csv c;
	size_t i;
	int r;

	*out = NULL;
	memset(&L, 0, sizeof(L));
	L.csv_name = csv_name;
	L.csv = csv;
	L.mapped = mapped;
	pht_csv_init(&c, csv_name, csv, csv_len);
	if ((L.ds = calloc(1, sizeof(*L.ds))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", csv_name);
		goto out;
	}
	if ((L.cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) == (locale_t)0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", csv_name);
		goto out;
	}
	sha256_hex(&L, csv, csv_len, L.ds->csv_sha256);
	L.released = 0; /* the parse reads the file again from the start */
	sha256_hex(NULL, dict, dict_len, L.ds->dict_sha256);
	if (L.ds->csv_sha256[0] == '\0' || L.ds->dict_sha256[0] == '\0') {
		r = pht_errf(err, PHT_ERR_CRYPTO, "%s: SHA-256 failed", csv_name);
		goto out;
	}
	if ((r = pht_dict_parse(dict, dict_len, dict_name, &L.ds->dict, err)) != PHT_OK)
		goto out;
	if ((r = read_header(&L, &c, err)) != PHT_OK)
		goto out;
	/*
	 * A bound on the rows: every record after the header ends a line or
	 * the input, and holds at least nfields - 1 commas and a line feed.
	 */
	L.cap = count_newlines(&L, c.pos, csv + csv_len) + 1;
	if ((size_t)(csv + csv_len - c.pos) / c.nfields + 1 < L.cap)
		L.cap = (size_t)(csv + csv_len - c.pos) / c.nfields + 1;
	L.released = 0;
	if ((r = alloc_columns(L.ds, L.cap)) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory for %zu rows",
		    csv_name, L.cap);
		goto out;
	}
	c.expect = c.nfields;
	for (;;) {
		if ((r = pht_csv_next(&c, err)) < 0)
			goto out;
		if (r == 0)
			break;
		if (L.ds->nrows >= L.cap) {
			r = pht_errf(err, PHT_ERR_INTERNAL, "%s:%zu: more records "
			    "than lines", csv_name, c.rec_line);
			goto out;
		}
		for (i = 0; i < c.nfields; i++) {
			if (cell(&L, L.map[i], L.ds->nrows, &c.fields[i],
			    c.rec_line) != PHT_OK) {
				r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory",
				    csv_name);
				goto out;
			}
		}
		L.ds->nrows++;
		if ((size_t)(c.pos - csv) - L.released >= RELEASE_STEP)
			release_below(&L, (size_t)(c.pos - csv));
	}
	if (L.nbad > 0) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s (%zu bad cell%s in all)",
		    L.first, L.nbad, L.nbad == 1 ? "" : "s");
		goto out;
	}
	finish_columns(L.ds);
	*out = L.ds;
	L.ds = NULL; /* transferred */
	r = PHT_OK;
out:
	pht_csv_clear(&c);
	if (L.cloc != (locale_t)0)
		freelocale(L.cloc);
	free(L.scratch);
	free(L.map);
	pht_dataset_free(L.ds);
	return r;
}

int
pht_dataset_load_mem(const char *csv, size_t csv_len, const char *dict,
    size_t dict_len, const char *name, struct pht_dataset **out,
    struct pht_err *err)
{
	struct pht_buf *dn = NULL;
	size_t n = strlen(name);
	int r;

	*out = NULL;
	/* The dictionary is named after the CSV: NAME.csv -> NAME.dict.json. */
	if ((dn = pht_buf_new(n + 16)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
	if (n >= 4 && strcmp(name + n - 4, ".csv") == 0)
		r = pht_buf_put(dn, name, n - 4);
	else
		r = pht_buf_puts(dn, name);
	if (r == PHT_OK)
		r = pht_buf_puts(dn, ".dict.json");
	if (r != PHT_OK) {
		pht_buf_free(dn);
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
	}
	r = load_buffers(csv, csv_len, 0, dict, dict_len, name, pht_buf_str(dn),
	    out, err);
	pht_buf_free(dn);
	return r;
}

int
pht_dataset_load(const char *csv_path, const char *dict_path,
    const struct pht_dataset_opts *opts, struct pht_dataset **out,
    struct pht_err *err)
{
	size_t max = opts != NULL && opts->max_bytes != 0 ? opts->max_bytes :
	    CSV_DEFAULT_MAX;
	struct pht_buf *dict = NULL;
	void *map = MAP_FAILED;
	struct stat st;
	size_t len = 0;
	int fd = -1, r;

	*out = NULL;
	if ((r = pht_file_read(dict_path, PHT_DICT_MAX, &dict, err)) != PHT_OK)
		goto out;
	if ((fd = open(csv_path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", csv_path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", csv_path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = pht_errf(err, PHT_ERR_IO, "%s: not a regular file", csv_path);
		goto out;
	}
	if ((uint64_t)st.st_size > (uint64_t)max) {
		r = pht_errf(err, PHT_ERR_TOO_LARGE, "%s: larger than %zu bytes",
		    csv_path, max);
		goto out;
	}
	len = (size_t)st.st_size;
	if (len > 0) {
		/* Read-only mapping: file pages, not heap, and gone after load. */
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			r = pht_errf(err, PHT_ERR_IO, "%s: %s", csv_path,
			    strerror(errno));
			goto out;
		}
		(void)madvise(map, len, MADV_SEQUENTIAL);
	}
	r = load_buffers(len > 0 ? map : "", len, len > 0, pht_buf_str(dict),
	    pht_buf_len(dict), csv_path, dict_path, out, err);
out:
	if (map != MAP_FAILED)
		munmap(map, len);
	if (fd >= 0)
		close(fd);
	pht_buf_free(dict);
	return r;
}

const char *
pht_dataset_name(const struct pht_dataset *ds)
{
	return ds->dict->dataset;
}

size_t
pht_dataset_nrows(const struct pht_dataset *ds)
{
	return ds->nrows;
}

size_t
pht_dataset_ncols(const struct pht_dataset *ds)
{
	return ds->ncols;
}

const struct pht_column *
pht_dataset_column(const struct pht_dataset *ds, size_t i)
{
	return i < ds->ncols ? &ds->cols[i] : NULL;
}

int
pht_dataset_find_index(const struct pht_dataset *ds, const char *name)
{
	size_t i;

	for (i = 0; i < ds->ncols; i++)
		if (strcmp(ds->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct pht_column *
pht_dataset_identifier(const struct pht_dataset *ds)
{
	size_t i;

	for (i = 0; i < ds->ncols; i++)
		if (ds->cols[i].role == PHT_ROLE_IDENTIFIER)
			return &ds->cols[i];
	return NULL;
}

const struct pht_column *
pht_dataset_find(const struct pht_dataset *ds, const char *name)
{
	int i = pht_dataset_find_index(ds, name);

	return i < 0 ? NULL : &ds->cols[i];
}

const char *
pht_dataset_csv_sha256(const struct pht_dataset *ds)
{
	return ds->csv_sha256;
}

const char *
pht_dataset_dict_sha256(const struct pht_dataset *ds)
{
	return ds->dict_sha256;
}

int
pht_dataset_drop_rows(struct pht_dataset *ds, const uint8_t *drop, size_t *ndropped,
    struct pht_err *err)
{
	struct col_store *st;
	size_t i, row, w, n = 0, keep;
	uint32_t *file_row;
	uint8_t *bm;

	if (ndropped != NULL)
		*ndropped = 0;
	for (row = 0; row < ds->nrows; row++)
		n += (drop[row >> 3] >> (row & 7)) & 1;
	if (n == 0)
		return PHT_OK;
	if (ds->nrows > UINT32_MAX)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "%zu rows: too many to drop rows "
		    "from", ds->nrows);
	keep = ds->nrows - n;
	/* which row of the file each kept row is (through earlier drops too) */
	if ((file_row = malloc((keep + 1) * sizeof(*file_row))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (row = 0, w = 0; row < ds->nrows; row++)
		if (!((drop[row >> 3] >> (row & 7)) & 1))
			file_row[w++] = ds->file_row != NULL ? ds->file_row[row] : (uint32_t)row;
	if (ds->file_row == NULL)
		ds->file_nrows = ds->nrows;
	free(ds->file_row);
	ds->file_row = file_row;
	for (i = 0; i < ds->ncols; i++) {
		st = &ds->store[i];
		bm = NULL;
		if (st->missing != NULL &&
		    (bm = calloc(keep / 8 + 1, 1)) == NULL)
			return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		ds->cols[i].nmissing = 0;
		for (row = 0, w = 0; row < ds->nrows; row++) {
			if ((drop[row >> 3] >> (row & 7)) & 1)
				continue;
			if (w != row)
				memmove((char *)st->data + w * st->elem,
				    (char *)st->data + row * st->elem, st->elem);
			if (bm != NULL && ((st->missing[row >> 3] >> (row & 7)) & 1)) {
				bm[w >> 3] |= (uint8_t)(1u << (w & 7));
				ds->cols[i].nmissing++;
			}
			w++;
		}
		free(st->missing);
		st->missing = bm;
		if (bm != NULL && ds->cols[i].nmissing == 0) {
			free(bm);
			st->missing = NULL;
		}
	}
	ds->nrows = keep;
	finish_columns(ds);
	if (ndropped != NULL)
		*ndropped = n;
	return PHT_OK;
}

const uint32_t *
pht_dataset_file_rows(const struct pht_dataset *ds, size_t *file_nrows)
{
	*file_nrows = ds->file_row != NULL ? ds->file_nrows : ds->nrows;
	return ds->file_row;
}

const json_t *
pht_dataset_dict(const struct pht_dataset *ds)
{
	return ds->dict->json;
}

size_t
pht_dataset_column_bytes(const struct pht_dataset *ds)
{
	size_t i, total = 0;

	for (i = 0; i < ds->ncols; i++) {
		total += ds->nrows * ds->store[i].elem;
		if (ds->store[i].missing != NULL)
			total += (ds->nrows + 7) / 8;
	}
	return total;
}
