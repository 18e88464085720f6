/* pht_train_rowsets_ops.c — operations on encoded row sets: the rows of a set, symmetric difference, equality, remapping and the strict decoder. */
#include "pht_train_rowsets_int.h"

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
	    train_rowsets_reserve(rs, len) != PHT_OK) {
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
		if ((r = train_rowsets_push_ref(rs, off - body_len - SET_HEAD, kind, count,
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
