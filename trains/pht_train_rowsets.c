/* pht_train_rowsets.c — canonical encoding, strict decoding and comparison of the row sets behind an output. */
#include "pht_train_rowsets.h"
#include "pht_buf.h"
#include "pht_err.h"

#include <stdlib.h>
#include <string.h>

#define KIND_ALL 0
#define KIND_LIST 1
#define KIND_BITMAP 2
#define HEADER 8
#define SET_HEAD 5

/* Where set i lives in bytes: its kind, count and body. */
struct set_ref {
	size_t body;            /* offset of the body */
	size_t body_len;
	uint64_t count;
	uint8_t kind;
	uint64_t hash;          /* hash_bytes() of kind, count and body */
};

/*
 * Invariant: bytes[0..len) is the encoding of sets[0..nsets): the header
 * with nrows and nsets, then each set's kind, count and body in order.
 */
struct pht_train_rowsets {
	uint32_t nrows;
	struct set_ref *sets;
	size_t nsets, sets_cap;
	uint8_t *bytes;
	size_t len, cap;
};

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static size_t
varint_len(uint32_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t
varint_put(uint8_t *p, uint32_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Strict LEB128 read of a uint32: no overlong forms. 0 on error. */
static int
varint_get(const uint8_t *p, size_t avail, size_t *used, uint32_t *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < avail && i < 5; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			if (i > 0 && p[i] == 0)
				return 0;       /* overlong */
			if (x > UINT32_MAX)
				return 0;
			*used = i + 1;
			*v = (uint32_t)x;
			return 1;
		}
	}
	return 0;
}

/*
 * A 64-bit hash of n bytes, eight at a time (only compared within one
 * process, to find equal sets quickly; equality is then checked byte for
 * byte).
 */
static uint64_t
hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	for (w = 0; n > 0; n--)
		w = (w << 8) | p[n - 1];
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 32);
}

struct pht_train_rowsets *
pht_train_rowsets_new(uint32_t nrows)
{
	struct pht_train_rowsets *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return NULL;
	rs->nrows = nrows;
	rs->cap = 256;
	if ((rs->bytes = malloc(rs->cap)) == NULL) {
		free(rs);
		return NULL;
	}
	put32(rs->bytes, nrows);
	put32(rs->bytes + 4, 0);
	rs->len = HEADER;
	return rs;
}

void
pht_train_rowsets_free(struct pht_train_rowsets *rs)
{
	if (rs == NULL)
		return;
	free(rs->sets);
	free(rs->bytes);
	free(rs);
}

/*
 * Writes the bitmap of the n ascending rows s into p (len bytes): the bits
 * of each 64-row word gathered in a register, then stored byte by byte
 * (LSB first, whatever the host's byte order).
 */
static void
put_bitmap(uint8_t *p, size_t len, const uint32_t *s, size_t n)
{
	uint64_t w = 0;
	size_t i, cur = 0, wi, k;

	memset(p, 0, len);
	for (i = 0; i < n; i++) {
		wi = s[i] >> 6;
		if (wi != cur) {
			for (k = 0; k < 8 && cur * 8 + k < len; k++)
				p[cur * 8 + k] = (uint8_t)(w >> (8 * k));
			cur = wi;
			w = 0;
		}
		w |= (uint64_t)1 << (s[i] & 63);
	}
	for (k = 0; k < 8 && cur * 8 + k < len; k++)
		p[cur * 8 + k] |= (uint8_t)(w >> (8 * k));
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int
reserve(struct pht_train_rowsets *rs, size_t more)
{
	size_t want = rs->len + more, nc;
	uint8_t *nb;

	if (want <= rs->cap)
		return PHT_OK;
	nc = rs->cap;
	while (nc < want)
		nc = nc * 2;
	if ((nb = realloc(rs->bytes, nc)) == NULL)
		return PHT_ERR_NOMEM;
	rs->bytes = nb;
	rs->cap = nc;
	return PHT_OK;
}

/*
 * Appends a set reference for the set just written at [start, rs->len),
 * whose hash_bytes() is h.
 */
static int
push_ref(struct pht_train_rowsets *rs, size_t start, uint8_t kind, uint64_t count,
    uint64_t h)
{
	struct set_ref *ns;

	if (rs->nsets == rs->sets_cap) {
		size_t nc = rs->sets_cap ? rs->sets_cap * 2 : 16;
		if ((ns = realloc(rs->sets, nc * sizeof(*ns))) == NULL)
			return PHT_ERR_NOMEM;
		rs->sets = ns;
		rs->sets_cap = nc;
	}
	rs->sets[rs->nsets].body = start + SET_HEAD;
	rs->sets[rs->nsets].body_len = rs->len - start - SET_HEAD;
	rs->sets[rs->nsets].count = count;
	rs->sets[rs->nsets].kind = kind;
	rs->sets[rs->nsets].hash = h;
	rs->nsets++;
	return PHT_OK;
}

int
pht_train_rowsets_add(struct pht_train_rowsets *rs, const uint32_t *rows,
    size_t n, int all)
{
	uint32_t *sorted = NULL;
	const uint32_t *s = rows;
	size_t i, list_len = 0, bmp_len, start, body_len;
	uint8_t kind, *p;
	uint64_t h;
	int r = PHT_OK, ordered = 1;

	if (all)
		n = rs->nrows;
	if (n == 0)
		return PHT_OK;
	if (n > rs->nrows)
		return PHT_ERR_INVALID;
	if (!all) {
		/* one pass: order and the LIST length if ordered (no carried state) */
		uint32_t gap;
		int unordered = 0;

		list_len = varint_len(rows[0]);
		for (i = 1; i < n; i++) {
			gap = rows[i] - rows[i - 1];
			unordered |= rows[i] <= rows[i - 1];
			list_len += 1 + (size_t)(gap >= 1u << 7) + (size_t)(gap >= 1u << 14) +
			    (size_t)(gap >= 1u << 21) + (size_t)(gap >= 1u << 28);
		}
		ordered = !unordered;
		/* ascending: the last row is the largest */
		if (ordered && rows[n - 1] >= rs->nrows)
			return PHT_ERR_INVALID;
		if (!ordered)
			for (i = 0; i < n; i++)
				if (rows[i] >= rs->nrows)
					return PHT_ERR_INVALID;
		if (!ordered) {
			if ((sorted = malloc(n * sizeof(*sorted))) == NULL)
				return PHT_ERR_NOMEM;
			memcpy(sorted, rows, n * sizeof(*sorted));
			qsort(sorted, n, sizeof(*sorted), cmp_u32);
			for (i = 1; i < n; i++)
				if (sorted[i] == sorted[i - 1]) {
					r = PHT_ERR_INVALID;
					goto out;
				}
			s = sorted;
		}
	}
	bmp_len = ((size_t)rs->nrows + 7) / 8;
	if (n == rs->nrows) {
		kind = KIND_ALL;
		body_len = 0;
	} else {
		if (!ordered) {
			list_len = varint_len(s[0]);
			for (i = 1; i < n && list_len <= bmp_len; i++)
				list_len += varint_len(s[i] - s[i - 1]);
		}
		kind = list_len <= bmp_len ? KIND_LIST : KIND_BITMAP;
		body_len = kind == KIND_LIST ? list_len : bmp_len;
	}
	if (rs->nsets >= PHT_TRAIN_ROWSETS_MAX_SETS ||
	    rs->len + SET_HEAD + body_len > PHT_TRAIN_ROWSETS_MAX_BYTES) {
		r = PHT_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = reserve(rs, SET_HEAD + body_len)) != PHT_OK)
		goto out;
	start = rs->len;
	p = rs->bytes + start;
	p[0] = kind;
	put32(p + 1, (uint32_t)n);
	p += SET_HEAD;
	if (kind == KIND_LIST) {
		p += varint_put(p, s[0]);
		for (i = 1; i < n; i++) {
			uint32_t gap = s[i] - s[i - 1];

			if (gap < 0x80)
				*p++ = (uint8_t)gap;
			else
				p += varint_put(p, gap);
		}
	} else if (kind == KIND_BITMAP)
		put_bitmap(p, bmp_len, s, n);
	/* Already there? The encoding is canonical: same bytes, same set. */
	h = hash_bytes(rs->bytes + start, SET_HEAD + body_len);
	for (i = 0; i < rs->nsets; i++)
		if (rs->sets[i].hash == h && rs->sets[i].kind == kind &&
		    rs->sets[i].count == n && rs->sets[i].body_len == body_len &&
		    memcmp(rs->bytes + rs->sets[i].body, rs->bytes + start + SET_HEAD,
		    body_len) == 0)
			goto out;       /* not committed: len unchanged */
	rs->len = start + SET_HEAD + body_len;
	if ((r = push_ref(rs, start, kind, n, h)) != PHT_OK) {
		rs->len = start;
		goto out;
	}
	put32(rs->bytes + 4, (uint32_t)rs->nsets);
out:
	free(sorted);
	return r;
}

/* Bits set in x (inline: the baseline x86-64 target has no popcnt instruction). */
static inline uint64_t
popcount64(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ULL;
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

/*
 * Validates a bitmap of words (word w, bit b: row 64 w + b) over nrows
 * rows: no bit at or past nrows. Its number of rows in *n.
 */
static int
bits_check(const struct pht_train_rowsets *rs, const uint64_t *bits, size_t *n)
{
	size_t w, nwords = ((size_t)rs->nrows + 63) / 64, c = 0;

	for (w = 0; w < nwords; w++)
		c += (size_t)popcount64(bits[w]);
	if ((rs->nrows & 63) != 0 && (bits[nwords - 1] >> (rs->nrows & 63)) != 0)
		return PHT_ERR_INVALID;
	*n = c;
	return PHT_OK;
}

int
pht_train_rowsets_add_bits(struct pht_train_rowsets *rs, const uint64_t *bits)
{
	size_t n, i, w, nwords, list_len = 0, bmp_len, start, body_len;
	uint32_t r, prev = 0, gap;
	uint64_t m, h;
	uint8_t kind, *p;
	int rc, first = 1;

	if (rs->nrows == 0)
		return PHT_OK;
	if ((rc = bits_check(rs, bits, &n)) != PHT_OK)
		return rc;
	if (n == 0)
		return PHT_OK;
	nwords = ((size_t)rs->nrows + 63) / 64;
	bmp_len = ((size_t)rs->nrows + 7) / 8;
	if (n == rs->nrows) {
		kind = KIND_ALL;
		body_len = 0;
	} else if (n > bmp_len) {
		/* a LIST takes at least a byte per row: longer than the bitmap */
		kind = KIND_BITMAP;
		body_len = bmp_len;
	} else {
		for (w = 0; w < nwords && list_len <= bmp_len; w++)
			for (m = bits[w]; m != 0; m &= m - 1) {
				r = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(m));
				list_len += varint_len(first ? r : r - prev);
				prev = r;
				first = 0;
			}
		kind = list_len <= bmp_len ? KIND_LIST : KIND_BITMAP;
		body_len = kind == KIND_LIST ? list_len : bmp_len;
	}
	if (rs->nsets >= PHT_TRAIN_ROWSETS_MAX_SETS ||
	    rs->len + SET_HEAD + body_len > PHT_TRAIN_ROWSETS_MAX_BYTES)
		return PHT_ERR_TOO_LARGE;
	if ((rc = reserve(rs, SET_HEAD + body_len)) != PHT_OK)
		return rc;
	start = rs->len;
	p = rs->bytes + start;
	p[0] = kind;
	put32(p + 1, (uint32_t)n);
	p += SET_HEAD;
	if (kind == KIND_LIST) {
		first = 1;
		for (w = 0; w < nwords; w++)
			for (m = bits[w]; m != 0; m &= m - 1) {
				r = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(m));
				gap = first ? r : r - prev;
				if (gap < 0x80)
					*p++ = (uint8_t)gap;
				else
					p += varint_put(p, gap);
				prev = r;
				first = 0;
			}
	} else if (kind == KIND_BITMAP)
		/* LSB first, byte by byte, whatever the host's byte order */
		for (i = 0; i < bmp_len; i++)
			p[i] = (uint8_t)(bits[i >> 3] >> (8 * (i & 7)));
	/* Already there? The encoding is canonical: same bytes, same set. */
	h = hash_bytes(rs->bytes + start, SET_HEAD + body_len);
	for (i = 0; i < rs->nsets; i++)
		if (rs->sets[i].hash == h && rs->sets[i].kind == kind &&
		    rs->sets[i].count == n && rs->sets[i].body_len == body_len &&
		    memcmp(rs->bytes + rs->sets[i].body, rs->bytes + start + SET_HEAD,
		    body_len) == 0)
			return PHT_OK;  /* not committed: len unchanged */
	rs->len = start + SET_HEAD + body_len;
	if ((rc = push_ref(rs, start, kind, n, h)) != PHT_OK) {
		rs->len = start;
		return rc;
	}
	put32(rs->bytes + 4, (uint32_t)rs->nsets);
	return PHT_OK;
}

/*
 * The rows of add_groups: rows[i], or row i when rows is NULL; with bits,
 * the set bits in ascending order instead (rows unused).
 */
struct rowsrc {
	const uint32_t *rows;
	const uint64_t *bits;
	size_t nwords;
};

/* Group counting of one row (add_groups' pass 1); 0 if out of range. */
static inline __attribute__((always_inline)) int
group_count(uint32_t r, uint8_t g, size_t nslots, uint32_t nrows, uint64_t *count,
    uint64_t *list_len, uint32_t *prev)
{
	uint32_t gap;

	if (r >= nrows || g >= nslots)
		return 0;
	gap = count[g] == 0 ? r : r - prev[g];
	list_len[g] += 1 + (gap >= 1u << 7) + (gap >= 1u << 14) + (gap >= 1u << 21) +
	    (gap >= 1u << 28);
	prev[g] = r;
	count[g]++;
	return 1;
}

/* Writes one row into its group's body (add_groups' pass 2). */
static inline __attribute__((always_inline)) void
group_put(uint32_t r, uint8_t g, const uint8_t *use, const uint8_t *kind, uint8_t **p,
    uint64_t *count, uint32_t *prev)
{
	uint32_t gap;

	if (!use[g] || kind[g] == KIND_ALL)
		return;
	if (kind[g] == KIND_LIST) {
		gap = count[g] == 0 ? r : r - prev[g];
		if (gap < 0x80)
			*p[g]++ = (uint8_t)gap;
		else
			p[g] += varint_put(p[g], gap);
		prev[g] = r;
		count[g]++;
	} else
		p[g][r >> 3] |= (uint8_t)(1u << (r & 7));
}

static int
add_groups(struct pht_train_rowsets *rs, const struct rowsrc *src,
    size_t n, const uint8_t *slot, size_t nslots, const int *want)
{
	const uint32_t *rows = src->rows;
	uint64_t m;
	size_t w;
	uint64_t count[256], list_len[256];
	uint32_t prev[256], r;
	size_t off[256], body[256], i, total = 0, start, len, k, nnew = 0;
	uint8_t kind[256], use[256], *base, *p[256];
	size_t bmp_len = ((size_t)rs->nrows + 7) / 8;
	uint64_t h;
	int rc;

	if (nslots > 256)
		return PHT_ERR_INVALID;
	memset(count, 0, sizeof(count));
	memset(list_len, 0, sizeof(list_len));
	/* pass 1: ascending rows in range; per group its size and LIST length */
	if (src->bits != NULL) {
		for (w = 0, i = 0; w < src->nwords; w++)
			for (m = src->bits[w]; m != 0; m &= m - 1, i++) {
				r = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(m));
				if (i >= n || !group_count(r, slot[i], nslots, rs->nrows, count,
				    list_len, prev))
					return PHT_ERR_INVALID;
			}
		if (i != n)
			return PHT_ERR_INVALID;
	} else
		for (i = 0; i < n; i++) {
			r = rows != NULL ? rows[i] : (uint32_t)i;
			if ((i > 0 && rows != NULL && r <= rows[i - 1]) ||
			    !group_count(r, slot[i], nslots, rs->nrows, count, list_len, prev))
				return PHT_ERR_INVALID;
		}
	for (k = 0; k < nslots; k++) {
		body[k] = 0;
		use[k] = want[k] && count[k] > 0;
		if (!use[k])
			continue;
		if (count[k] == rs->nrows)
			kind[k] = KIND_ALL;
		else
			kind[k] = list_len[k] <= bmp_len ? KIND_LIST : KIND_BITMAP;
		body[k] = kind[k] == KIND_LIST ? list_len[k] : kind[k] == KIND_BITMAP ? bmp_len : 0;
		off[k] = total;
		total += SET_HEAD + body[k];
		nnew++;
	}
	if (nnew == 0)
		return PHT_OK;
	/* the bounds as if every set were new: else the caller adds one by one */
	if (rs->nsets + nnew > PHT_TRAIN_ROWSETS_MAX_SETS ||
	    rs->len + total > PHT_TRAIN_ROWSETS_MAX_BYTES)
		return PHT_ERR_INVALID;
	if ((rc = reserve(rs, total)) != PHT_OK)
		return rc;
	base = rs->bytes + rs->len;
	for (k = 0; k < nslots; k++) {
		if (!use[k])
			continue;
		p[k] = base + off[k];
		p[k][0] = kind[k];
		put32(p[k] + 1, (uint32_t)count[k]);
		p[k] += SET_HEAD;
		if (kind[k] == KIND_BITMAP)
			memset(p[k], 0, bmp_len);
		count[k] = 0;   /* reused: rows written so far */
	}
	/* pass 2: the bodies */
	if (src->bits != NULL)
		for (w = 0, i = 0; w < src->nwords; w++)
			for (m = src->bits[w]; m != 0; m &= m - 1, i++)
				group_put((uint32_t)(w * 64 + (size_t)__builtin_ctzll(m)), slot[i],
				    use, kind, p, count, prev);
	else
		for (i = 0; i < n; i++)
			group_put(rows != NULL ? rows[i] : (uint32_t)i, slot[i], use, kind, p,
			    count, prev);
	/* commit in group order, dropping a set already listed (as add does) */
	start = rs->len;
	for (k = 0; k < nslots; k++) {
		if (!use[k])
			continue;
		len = SET_HEAD + body[k];
		if (base + off[k] != rs->bytes + start)
			memmove(rs->bytes + start, base + off[k], len);
		h = hash_bytes(rs->bytes + start, len);
		for (i = 0; i < rs->nsets; i++)
			if (rs->sets[i].hash == h && rs->sets[i].kind == kind[k] &&
			    rs->sets[i].body_len == body[k] &&
			    memcmp(rs->bytes + rs->sets[i].body - SET_HEAD, rs->bytes + start, len) == 0)
				break;
		if (i < rs->nsets)
			continue;
		rs->len = start + len;
		if ((rc = push_ref(rs, start, kind[k], get32(rs->bytes + start + 1), h)) != PHT_OK) {
			rs->len = start;
			return rc;
		}
		put32(rs->bytes + 4, (uint32_t)rs->nsets);
		start += len;
	}
	return PHT_OK;
}

int
pht_train_rowsets_add_groups(struct pht_train_rowsets *rs, const uint32_t *rows,
    size_t n, const uint8_t *slot, size_t nslots, const int *want)
{
	struct rowsrc src = {rows, NULL, 0};

	return add_groups(rs, &src, n, slot, nslots, want);
}

int
pht_train_rowsets_add_groups_bits(struct pht_train_rowsets *rs, const uint64_t *bits,
    size_t n, const uint8_t *slot, size_t nslots, const int *want)
{
	struct rowsrc src = {NULL, bits, ((size_t)rs->nrows + 63) / 64};
	size_t c;

	if (rs->nrows == 0 || bits_check(rs, bits, &c) != PHT_OK || c != n)
		return PHT_ERR_INVALID;
	return add_groups(rs, &src, n, slot, nslots, want);
}

uint32_t
pht_train_rowsets_nrows(const struct pht_train_rowsets *rs)
{
	return rs->nrows;
}

size_t
pht_train_rowsets_count(const struct pht_train_rowsets *rs)
{
	return rs->nsets;
}

uint64_t
pht_train_rowsets_size(const struct pht_train_rowsets *rs, size_t i)
{
	return i < rs->nsets ? rs->sets[i].count : 0;
}

const uint8_t *
pht_train_rowsets_bytes(const struct pht_train_rowsets *rs, size_t *len)
{
	*len = rs->len;
	return rs->bytes;
}

int
pht_train_rowsets_put_one(const struct pht_train_rowsets *rs, size_t i,
    struct pht_buf *out)
{
	uint8_t h[HEADER];
	const struct set_ref *s = &rs->sets[i];
	int r;

	put32(h, rs->nrows);
	put32(h + 4, 1);
	if ((r = pht_buf_put(out, h, sizeof(h))) != PHT_OK ||
	    (r = pht_buf_put(out, rs->bytes + s->body - SET_HEAD, SET_HEAD + s->body_len)) != PHT_OK)
		return r;
	return PHT_OK;
}

/* Ascending iteration over a LIST set (validated on the way in). */
struct list_iter {
	const uint8_t *body;
	size_t len, pos;
	uint64_t left;          /* rows not yet read */
	uint32_t row;
	int started;
};

static void
list_init(struct list_iter *it, const struct pht_train_rowsets *rs, const struct set_ref *s)
{
	it->body = rs->bytes + s->body;
	it->len = s->body_len;
	it->pos = 0;
	it->left = s->count;
	it->row = 0;
	it->started = 0;
}

/* 1 with *row the next row, 0 at the end. */
static int
list_next(struct list_iter *it, uint32_t *row)
{
	size_t used;
	uint32_t v;

	if (it->left == 0 || !varint_get(it->body + it->pos, it->len - it->pos, &used, &v))
		return 0;
	it->pos += used;
	it->row = it->started ? it->row + v : v;
	it->started = 1;
	it->left--;
	*row = it->row;
	return 1;
}

static int
bit_at(const uint8_t *bmp, uint32_t r)
{
	return (bmp[r >> 3] >> (r & 7)) & 1;
}

/* Rows of set s of rs below limit. Linear in the size of s's encoding. */
static uint64_t
count_below(const struct pht_train_rowsets *rs, const struct set_ref *s, uint64_t limit)
{
	const uint8_t *bmp = rs->bytes + s->body;
	struct list_iter it;
	uint64_t n = 0, i;
	uint32_t r;

	if (limit >= rs->nrows)
		return s->count;
	switch (s->kind) {
	case KIND_ALL:
		return limit;
	case KIND_LIST:
		list_init(&it, rs, s);
		while (list_next(&it, &r) && r < limit)
			n++;
		return n;
	default:
		for (i = 0; i < limit >> 3; i++)
			n += (uint64_t)__builtin_popcount(bmp[i]);
		for (i = limit & ~(uint64_t)7; i < limit; i++)
			n += (uint64_t)bit_at(bmp, (uint32_t)i);
		return n;
	}
}

size_t
pht_train_rowsets_rows(const struct pht_train_rowsets *rs, size_t i, uint32_t *out)
{
	const struct set_ref *s = &rs->sets[i];
	const uint8_t *bmp = rs->bytes + s->body;
	struct list_iter it;
	size_t n = 0;
	uint32_t r;

	switch (s->kind) {
	case KIND_ALL:
		for (r = 0; r < rs->nrows; r++)
			out[n++] = r;
		break;
	case KIND_LIST:
		list_init(&it, rs, s);
		while (n < s->count && list_next(&it, &r))
			out[n++] = r;
		break;
	default:
		for (r = 0; r < rs->nrows && n < s->count; r++)
			if (bit_at(bmp, r))
				out[n++] = r;
		break;
	}
	return n;
}

/*
 * |A xor B| = |A| + |B| - 2 |A and B|, with the intersection counted in
 * time linear in the encodings (never in the rows an ALL set describes):
 * ALL with anything is the other set's rows below its size, LIST with
 * LIST a merge, LIST with BITMAP a bit test per listed row, BITMAP with
 * BITMAP a byte-wise AND.
 */
uint64_t
pht_train_rowsets_symdiff(const struct pht_train_rowsets *a, size_t i,
    const struct pht_train_rowsets *b, size_t j, uint64_t stop)
{
	const struct set_ref *sa = &a->sets[i], *sb = &b->sets[j];
	uint64_t na = sa->count, nb = sb->count, d, inter = 0, k, nbytes;
	struct list_iter ia, ib;
	const uint8_t *ba, *bb;
	uint32_t x, y;
	int hx, hy;

	d = na > nb ? na - nb : nb - na;
	if (d >= stop)
		return stop;            /* the sizes alone differ by stop or more */
	if (sa->kind == KIND_ALL)
		inter = count_below(b, sb, a->nrows);
	else if (sb->kind == KIND_ALL)
		inter = count_below(a, sa, b->nrows);
	else if (sa->kind == KIND_LIST && sb->kind == KIND_LIST) {
		/* a merge that stops once the difference reaches stop */
		d = 0;
		list_init(&ia, a, sa);
		list_init(&ib, b, sb);
		hx = list_next(&ia, &x);
		hy = list_next(&ib, &y);
		while ((hx || hy) && d < stop) {
			if (hx && (!hy || x < y)) {
				d++;
				hx = list_next(&ia, &x);
			} else if (hy && (!hx || y < x)) {
				d++;
				hy = list_next(&ib, &y);
			} else {
				hx = list_next(&ia, &x);
				hy = list_next(&ib, &y);
			}
		}
		return d < stop ? d : stop;
	} else if (sa->kind == KIND_LIST || sb->kind == KIND_LIST) {
		const struct pht_train_rowsets *lr = sa->kind == KIND_LIST ? a : b;
		const struct pht_train_rowsets *br = sa->kind == KIND_LIST ? b : a;
		const struct set_ref *ls = sa->kind == KIND_LIST ? sa : sb;
		const struct set_ref *bs = sa->kind == KIND_LIST ? sb : sa;

		bb = br->bytes + bs->body;
		list_init(&ia, lr, ls);
		while (list_next(&ia, &x))
			inter += x < br->nrows && bit_at(bb, x);
	} else {
		ba = a->bytes + sa->body;
		bb = b->bytes + sb->body;
		nbytes = sa->body_len < sb->body_len ? sa->body_len : sb->body_len;
		for (k = 0; k < nbytes; k++)
			inter += (uint64_t)__builtin_popcount(ba[k] & bb[k]);
	}
	d = na + nb - 2 * inter;
	return d < stop ? d : stop;
}

int
pht_train_rowsets_equal(const struct pht_train_rowsets *a, size_t i,
    const struct pht_train_rowsets *b, size_t j)
{
	const struct set_ref *x = &a->sets[i], *y = &b->sets[j];

	return a->nrows == b->nrows && x->kind == y->kind && x->count == y->count &&
	    x->body_len == y->body_len &&
	    memcmp(a->bytes + x->body, b->bytes + y->body, x->body_len) == 0;
}

int
pht_train_rowsets_remap(const struct pht_train_rowsets *rs, const uint32_t *map,
    uint32_t nrows, struct pht_train_rowsets **out)
{
	struct pht_train_rowsets *o = NULL;
	const struct set_ref *s;
	struct list_iter it;
	uint32_t *rows = NULL, row, r;
	size_t i, n;
	int rc = PHT_OK;

	*out = NULL;
	for (r = 0; r < rs->nrows; r++)
		if (map[r] >= nrows || (r > 0 && map[r] <= map[r - 1]))
			return PHT_ERR_INVALID;
	if ((o = pht_train_rowsets_new(nrows)) == NULL ||
	    (rows = malloc(((size_t)rs->nrows + 1) * sizeof(*rows))) == NULL) {
		pht_train_rowsets_free(o);
		return PHT_ERR_NOMEM;
	}
	/* the map is ascending, so each set stays ascending in the new rows */
	for (i = 0; i < rs->nsets && rc == PHT_OK; i++) {
		s = &rs->sets[i];
		n = 0;
		if (s->kind == KIND_ALL) {
			for (r = 0; r < rs->nrows; r++)
				rows[n++] = map[r];
		} else if (s->kind == KIND_LIST) {
			list_init(&it, rs, s);
			while (n < rs->nrows && list_next(&it, &row))
				rows[n++] = map[row];
		} else {
			for (r = 0; r < rs->nrows; r++)
				if (bit_at(rs->bytes + s->body, r))
					rows[n++] = map[r];
		}
		rc = pht_train_rowsets_add(o, rows, n, 0);
	}
	free(rows);
	if (rc != PHT_OK) {
		pht_train_rowsets_free(o);
		return rc;
	}
	*out = o;
	return PHT_OK;
}

static int
bad(struct pht_err *err, const char *what, size_t set, const char *why)
{
	return pht_errf(err, PHT_ERR_MALFORMED, "%s: row set %zu: %s", what, set, why);
}

int
pht_train_rowsets_decode(const uint8_t *data, size_t len, const char *what,
    struct pht_train_rowsets **out, struct pht_err *err)
{
	struct pht_train_rowsets *rs = NULL;
	size_t off, i, nsets, body_len, used, bmp_len, list_len, k;
	uint64_t count, pop;
	uint32_t v, row, prev = 0;
	uint8_t kind;
	int r;

	*out = NULL;
	if (len < HEADER)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: %zu bytes, shorter than the "
		    "row-set header", what, len);
	if (len > PHT_TRAIN_ROWSETS_MAX_BYTES)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: more than %zu bytes of row sets",
		    what, PHT_TRAIN_ROWSETS_MAX_BYTES);
	nsets = get32(data + 4);
	if (nsets > PHT_TRAIN_ROWSETS_MAX_SETS)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: %zu row sets, more than %d",
		    what, nsets, PHT_TRAIN_ROWSETS_MAX_SETS);
	if ((rs = pht_train_rowsets_new(get32(data))) == NULL ||
	    reserve(rs, len) != PHT_OK) {
		pht_train_rowsets_free(rs);
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", what);
	}
	memcpy(rs->bytes, data, len);
	bmp_len = ((size_t)rs->nrows + 7) / 8;
	off = HEADER;
	for (i = 0; i < nsets; i++) {
		if (len - off < SET_HEAD) {
			r = bad(err, what, i, "truncated");
			goto fail;
		}
		kind = data[off];
		count = get32(data + off + 1);
		rs->len = off;
		off += SET_HEAD;
		if (count == 0 || count > rs->nrows) {
			r = bad(err, what, i, "count is 0 or more than the dataset's rows");
			goto fail;
		}
		switch (kind) {
		case KIND_ALL:
			if (count != rs->nrows) {
				r = bad(err, what, i, "ALL with a count other than the dataset's rows");
				goto fail;
			}
			body_len = 0;
			break;
		case KIND_LIST:
			list_len = 0;
			for (k = 0; k < count; k++) {
				if (!varint_get(data + off + list_len, len - off - list_len, &used, &v)) {
					r = bad(err, what, i, "bad or truncated varint");
					goto fail;
				}
				list_len += used;
				if (k > 0 && v == 0) {
					r = bad(err, what, i, "rows not strictly ascending");
					goto fail;
				}
				if (k > 0 && v > UINT32_MAX - prev) {
					r = bad(err, what, i, "row out of range");
					goto fail;
				}
				row = k == 0 ? v : prev + v;
				if (row >= rs->nrows) {
					r = bad(err, what, i, "row out of range");
					goto fail;
				}
				prev = row;
			}
			body_len = list_len;
			if (count == rs->nrows || list_len > bmp_len) {
				r = bad(err, what, i, "not the canonical kind (LIST)");
				goto fail;
			}
			break;
		case KIND_BITMAP:
			if (len - off < bmp_len) {
				r = bad(err, what, i, "truncated bitmap");
				goto fail;
			}
			pop = 0;
			for (k = 0; k < bmp_len; k++)
				pop += (uint64_t)__builtin_popcount(data[off + k]);
			if ((rs->nrows & 7) != 0 &&
			    (data[off + bmp_len - 1] >> (rs->nrows & 7)) != 0) {
				r = bad(err, what, i, "bitmap padding bits set");
				goto fail;
			}
			if (pop != count) {
				r = bad(err, what, i, "bitmap does not hold count rows");
				goto fail;
			}
			/* Canonical only if the list would be longer. */
			list_len = 0;
			prev = 0;
			for (k = 0, row = 0; row < rs->nrows && list_len <= bmp_len; row++)
				if ((data[off + (row >> 3)] >> (row & 7)) & 1) {
					list_len += varint_len(k == 0 ? row : row - prev);
					prev = row;
					k++;
				}
			if (count == rs->nrows || list_len <= bmp_len) {
				r = bad(err, what, i, "not the canonical kind (BITMAP)");
				goto fail;
			}
			body_len = bmp_len;
			break;
		default:
			r = bad(err, what, i, "unknown kind");
			goto fail;
		}
		off += body_len;
		rs->len = off;
		if ((r = push_ref(rs, off - body_len - SET_HEAD, kind, count,
		    hash_bytes(data + off - body_len - SET_HEAD, SET_HEAD + body_len))) != PHT_OK) {
			r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", what);
			goto fail;
		}
	}
	if (off != len) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: %zu bytes after the last row set",
		    what, len - off);
		goto fail;
	}
	*out = rs;
	return PHT_OK;
fail:
	pht_train_rowsets_free(rs);
	return r;
}
