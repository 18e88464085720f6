/* pht_train_rowsets_int.h — private to the row-set files (pht_train_rowsets*.c): the encoding constants, the builder struct and the helpers both sides use. */
#ifndef PHT_TRAIN_ROWSETS_INT_H
#define PHT_TRAIN_ROWSETS_INT_H

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

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline size_t
varint_len(uint32_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Strict LEB128 read of a uint32: no overlong forms. 0 on error. */
static inline int
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
static inline uint64_t
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

/* ---- pht_train_rowsets.c (encoding) ---- */

/* Grows rs's buffer to hold more bytes after len: PHT_OK, or PHT_ERR_NOMEM (rs unchanged). */
int
train_rowsets_reserve(struct pht_train_rowsets *rs, size_t more);

/*
 * Appends a set reference for the set just written at [start, rs->len),
 * whose hash_bytes() is h.
 */
int
train_rowsets_push_ref(struct pht_train_rowsets *rs, size_t start, uint8_t kind, uint64_t count,
    uint64_t h);

#endif
