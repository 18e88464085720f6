/* pht_train_rowsets.h — the distinct row sets behind a run's output: an exact, bounded, canonical encoding the station compares across releases. */
#ifndef PHT_TRAIN_ROWSETS_H
#define PHT_TRAIN_ROWSETS_H

#include <stddef.h>
#include <stdint.h>

struct pht_buf;
struct pht_err;

/*
 * A list of distinct, non-empty sets of row numbers of one dataset of
 * nrows rows, kept in one canonical byte encoding (docs/trains.md,
 * "Row sets"): equal sets have equal bytes. Little-endian, so a store
 * written on one host reads on another:
 *
 *   u32 nrows, u32 nsets, then per set: u8 kind, u32 count, body
 *     kind 0 ALL     count == nrows, no body
 *     kind 1 LIST    count LEB128 varints: the first row, then the gaps
 *                    (each >= 1) between ascending rows
 *     kind 2 BITMAP  ceil(nrows / 8) bytes, bit r (LSB first) = row r
 *
 * The encoder picks ALL when the set is every row, else the shorter of
 * LIST and BITMAP (LIST on a tie). Bounded: at most
 * PHT_TRAIN_ROWSETS_MAX_SETS sets and PHT_TRAIN_ROWSETS_MAX_BYTES bytes.
 */
#define PHT_TRAIN_ROWSETS_MAX_SETS 4096
#define PHT_TRAIN_ROWSETS_MAX_BYTES ((size_t)16 << 20)

struct pht_train_rowsets;

/* An empty list over a dataset of nrows rows; NULL on allocation failure. */
struct pht_train_rowsets *pht_train_rowsets_new(uint32_t nrows);

/* Frees rs; accepts NULL. */
void pht_train_rowsets_free(struct pht_train_rowsets *rs);

/*
 * Adds the set of the n rows at rows (each < nrows, no duplicates, any
 * order; rows may be NULL when all is set, meaning rows 0..nrows-1).
 * An empty set or one already in the list is not added (PHT_OK).
 * PHT_ERR_INVALID for a row out of range or a duplicate, PHT_ERR_TOO_LARGE
 * when a bound would be passed (the list is unchanged), PHT_ERR_NOMEM.
 */
int pht_train_rowsets_add(struct pht_train_rowsets *rs, const uint32_t *rows,
    size_t n, int all);

/*
 * Adds one set per group g < nslots (at most 256) with want[g]: the rows
 * rows[i] (i < n; row i when rows is NULL) whose slot[i] is g, in the
 * order g = 0, 1, ...: the same list as pht_train_rowsets_add() called for
 * each group's rows, without gathering them first. PHT_ERR_INVALID, with
 * nothing added, when the rows do not strictly ascend, a row or slot is
 * out of range, or the new sets could pass a bound: the caller then adds
 * the groups one by one. PHT_ERR_NOMEM.
 */
int pht_train_rowsets_add_groups(struct pht_train_rowsets *rs, const uint32_t *rows,
    size_t n, const uint8_t *slot, size_t nslots, const int *want);

/*
 * The same as pht_train_rowsets_add() and pht_train_rowsets_add_groups()
 * (the same sets, the same bytes) with the rows given as a bitmap of
 * ceil(nrows / 64) words, row 64 w + b the bit b of word w, no bit at or
 * past nrows (PHT_ERR_INVALID otherwise); for the groups, n is the number
 * of rows in bits and slot[i] the group of the i-th row in ascending order.
 */
int pht_train_rowsets_add_bits(struct pht_train_rowsets *rs, const uint64_t *bits);
int pht_train_rowsets_add_groups_bits(struct pht_train_rowsets *rs, const uint64_t *bits,
    size_t n, const uint8_t *slot, size_t nslots, const int *want);

/* Rows of the dataset, number of sets, and the size of set i. */
uint32_t pht_train_rowsets_nrows(const struct pht_train_rowsets *rs);
size_t pht_train_rowsets_count(const struct pht_train_rowsets *rs);
uint64_t pht_train_rowsets_size(const struct pht_train_rowsets *rs, size_t i);

/*
 * Writes the rows of set i, ascending, to out (room for
 * pht_train_rowsets_size(rs, i) entries); returns how many it wrote.
 */
size_t pht_train_rowsets_rows(const struct pht_train_rowsets *rs, size_t i, uint32_t *out);

/*
 * |A xor B| for set i of a and set j of b (over datasets of the same size),
 * counted exactly up to stop: the result is the symmetric difference if it
 * is below stop, else stop.
 */
uint64_t pht_train_rowsets_symdiff(const struct pht_train_rowsets *a, size_t i,
    const struct pht_train_rowsets *b, size_t j, uint64_t stop);

/* 1 if set i of a and set j of b are the same set. */
int pht_train_rowsets_equal(const struct pht_train_rowsets *a, size_t i,
    const struct pht_train_rowsets *b, size_t j);

/*
 * The sets of rs, computed on a dataset cut from a larger one, in the
 * rows of the larger one: *out gets a new list over nrows rows holding
 * each set of rs with every row r replaced by map[r]. map has
 * pht_train_rowsets_nrows(rs) entries, strictly ascending, each < nrows
 * (the rows of the whole that the cut kept, as pht_dataset_file_rows gives
 * them). *out is NULL on failure: PHT_ERR_INVALID for a map that is not
 * strictly ascending or reaches nrows, PHT_ERR_TOO_LARGE when the new
 * list would pass a bound, PHT_ERR_NOMEM.
 */
int pht_train_rowsets_remap(const struct pht_train_rowsets *rs, const uint32_t *map,
    uint32_t nrows, struct pht_train_rowsets **out);

/* The encoding (borrowed; valid until rs changes) and its length. */
const uint8_t *pht_train_rowsets_bytes(const struct pht_train_rowsets *rs, size_t *len);

/*
 * The encoding of set i alone, as a one-set list, appended to out.
 * PHT_ERR_TOO_LARGE if out cannot hold it.
 */
int pht_train_rowsets_put_one(const struct pht_train_rowsets *rs, size_t i,
    struct pht_buf *out);

/*
 * Decodes len hostile bytes strictly: the layout above exactly, every
 * count matching its body, LIST rows ascending and < nrows without
 * overlong varints, BITMAP padding bits zero, ALL only for count ==
 * nrows, the canonical kind for each set, the bounds, no trailing bytes.
 * PHT_ERR_MALFORMED naming the first problem (what names the input).
 */
int pht_train_rowsets_decode(const uint8_t *data, size_t len, const char *what,
    struct pht_train_rowsets **out, struct pht_err *err);

#endif
