/* pht_train_rowsets.c — canonical encoding of the row sets behind an output: the set builder and its exact encodings. */
#include "pht_train_rowsets_int.h"

#include <sys/mman.h>

#define HUGE_BYTES ((size_t)2 << 20)  /* a transparent huge page */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
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

/*
 * Grows by doubling. A buffer of HUGE_BYTES or more (the caps are 256
 * times a power of two, so a whole number of 2 MiB pages) is a fresh
 * 2 MiB-aligned block offered transparent huge pages before it is
 * written: the row sets of a large release (megabytes of LIST bodies,
 * written once in the train's child) then take one page fault per 2 MiB
 * instead of one per 4 KiB, which is most of their cost where page
 * faults are dear (a paravirtualized guest). The advice is a hint; its
 * failure is ignored.
 */
int
train_rowsets_reserve(struct pht_train_rowsets *rs, size_t more)
{
	size_t want = rs->len + more, nc;
	void *nb;

	if (want <= rs->cap)
		return PHT_OK;
	nc = rs->cap;
	while (nc < want)
		nc = nc * 2;
	if (nc < HUGE_BYTES) {
		if ((nb = realloc(rs->bytes, nc)) == NULL)
			return PHT_ERR_NOMEM;
	} else {
		if (posix_memalign(&nb, HUGE_BYTES, nc) != 0)
			return PHT_ERR_NOMEM;
		(void)madvise(nb, nc, MADV_HUGEPAGE);
		memcpy(nb, rs->bytes, rs->len);
		free(rs->bytes);
	}
	rs->bytes = nb;
	rs->cap = nc;
	return PHT_OK;
}

int
train_rowsets_push_ref(struct pht_train_rowsets *rs, size_t start, uint8_t kind, uint64_t count,
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
	if ((r = train_rowsets_reserve(rs, SET_HEAD + body_len)) != PHT_OK)
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
	if ((r = train_rowsets_push_ref(rs, start, kind, n, h)) != PHT_OK) {
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
	if ((rc = train_rowsets_reserve(rs, SET_HEAD + body_len)) != PHT_OK)
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
	if ((rc = train_rowsets_push_ref(rs, start, kind, n, h)) != PHT_OK) {
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
	if ((rc = train_rowsets_reserve(rs, total)) != PHT_OK)
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
		if ((rc = train_rowsets_push_ref(rs, start, kind[k], get32(rs->bytes + start + 1), h)) != PHT_OK) {
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
