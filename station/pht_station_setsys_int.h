/* pht_station_setsys_int.h — the set system's insides, shared by its files: the field GF(2^61 - 1), sparse rows, the state and its invariants. Not for use outside pht_station_setsys*.c. */
#ifndef PHT_STATION_SETSYS_INT_H
#define PHT_STATION_SETSYS_INT_H

#include "pht_station_setsys.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PHT_SETSYS_P ((uint64_t)0x1FFFFFFFFFFFFFFFULL)   /* 2^61 - 1, a prime */
#define PHT_SETSYS_NONE UINT32_MAX

static inline uint64_t
pht_setsys_fadd(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;

	return s >= PHT_SETSYS_P ? s - PHT_SETSYS_P : s;
}

static inline uint64_t
pht_setsys_fsub(uint64_t a, uint64_t b)
{
	return a >= b ? a - b : a + PHT_SETSYS_P - b;
}

static inline uint64_t
pht_setsys_fmul(uint64_t a, uint64_t b)
{
	unsigned __int128 m = (unsigned __int128)a * b;
	uint64_t s = ((uint64_t)m & PHT_SETSYS_P) + (uint64_t)(m >> 61);

	return s >= PHT_SETSYS_P ? s - PHT_SETSYS_P : s;
}

/*
 * A basis vector: n non-zero entries at ascending atoms, 1 at its pivot.
 * taint is the serial of the last transaction that made it depend on a
 * set added in that transaction (a new row, or a row combined with one):
 * a row whose taint is not the open transaction's lies in the span as it
 * was at begin.
 */
struct pht_setsys_row {
	uint32_t *idx;
	uint64_t *val;
	uint32_t n;
	uint32_t pivot;
	uint32_t taint;
};

/* What to undo at rollback: a row replaced, or a pivot entry changed. */
struct pht_setsys_undo {
	int is_row;
	uint32_t i;             /* row index, or atom */
	uint32_t old_pivot_row;
	struct pht_setsys_row old;
};

/*
 * Invariants (outside the middle of an add):
 * - atom_of[id] is the atom of row id, NONE if no released set holds it;
 *   size[a] counts the ids whose atom is a; parent[a] is the atom a was
 *   split from in the transaction that made it (NONE for rows new then).
 * - rows[i] is 1 at its pivot; pivot_row[a] is the row whose pivot is a,
 *   or NONE. A W row (its pivot atom small: size < k) is 0 on every large
 *   atom and at every other pivot. A row with a large pivot is 0 at every
 *   other large pivot (it may be non-zero at small ones). So a vector of
 *   the span is 0 iff it is 0 at every pivot, and W is spanned by the W
 *   rows, Gauss-Jordan among themselves.
 * - colcnt[a] counts the rows non-zero at a; entries sums the rows' n.
 * - acc[] is all 0, newid[] all NONE, cnt[] all 0 between calls.
 * - clean: no union of 1 to k - 1 rows is in the span of the committed
 *   sets (shown by a check, or the system is empty). While it holds, a
 *   union the next transaction determines is outside the old span, so it
 *   is a sum of W rows of which at least one is tainted: the check starts
 *   only from those.
 */
struct pht_station_setsys {
	int64_t k;
	uint32_t *atom_of, *idstamp;
	size_t nids, ids_cap;
	uint32_t id_stamp;
	uint64_t *size;
	uint32_t *parent, *pivot_row, *colcnt, *newid, *cnt, *cstamp;
	uint64_t *acc;
	size_t natoms, atoms_cap;
	uint32_t col_stamp;
	struct pht_setsys_row *rows;
	uint32_t *saved;        /* per row: the transaction that kept its old version */
	size_t nrows, rows_cap, saved_cap;
	uint32_t tx_serial;
	uint64_t entries;
	int clean;
	/* the open transaction */
	int tx, grew;
	int w_changed;          /* W (the rows with small pivots) changed in this transaction */
	int tx_clean;           /* clean at begin */
	int checked, verified;  /* check called; it showed the state clean */
	size_t tx_natoms, tx_nrows;
	struct pht_setsys_undo *undo;
	size_t nundo, undo_cap;
	uint32_t *txids;
	size_t ntxids, txids_cap;
	uint64_t candidates;    /* visited by the last check */
	struct timespec tx_t0;  /* when the transaction began (the time bound) */
};

static inline int
pht_setsys_large(const struct pht_station_setsys *s, uint32_t a)
{
	return s->size[a] >= (uint64_t)s->k;
}

/* Grows *p (of *cap elements of elem bytes) to hold want; PHT_ERR_NOMEM. */
int pht_setsys_grow(void **p, size_t *cap, size_t want, size_t elem);

/* Makes room for n atoms (new ones empty); PHT_ERR_NOMEM. */
int pht_setsys_ensure_atoms(struct pht_station_setsys *s, size_t n);

/* Seconds since t0 (CLOCK_MONOTONIC). */
double pht_setsys_elapsed(const struct timespec *t0);

/* ---- rows (pht_station_setsys_basis.c) ---- */

void pht_setsys_row_free(struct pht_setsys_row *r);
int pht_setsys_row_alloc(struct pht_setsys_row *r, size_t n);
/* The entry of r at atom a (0 if none). */
uint64_t pht_setsys_row_at(const struct pht_setsys_row *r, uint32_t a);
/* Adds (sign 1) or removes r's entries to colcnt and entries. */
void pht_setsys_count_cols(struct pht_station_setsys *s, const struct pht_setsys_row *r,
    int sign);
/* Puts nr (its arrays taken) in place of row i, keeping what rollback needs. */
int pht_setsys_replace_row(struct pht_station_setsys *s, uint32_t i, struct pht_setsys_row *nr);
/* The same for an nr whose entries colcnt and entries already count instead of row i's. */
int pht_setsys_replace_counted(struct pht_station_setsys *s, uint32_t i,
    struct pht_setsys_row *nr);
/*
 * Reduces the new vector nr (atom coordinates) by nothing more: pivots it,
 * appends it to the basis and eliminates its pivot from the other rows.
 * Takes nr's arrays.
 */
int pht_setsys_basis_insert(struct pht_station_setsys *s, struct pht_setsys_row *nr,
    const struct pht_station_setsys_limits *lim);
/* After a split made the pivot atom of row i small: repivot or join W. */
int pht_setsys_basis_repivot(struct pht_station_setsys *s, uint32_t i,
    const struct pht_station_setsys_limits *lim);
int pht_setsys_basis_join_w(struct pht_station_setsys *s, uint32_t i,
    const struct pht_station_setsys_limits *lim);
/*
 * The set's indicator (the distinct atoms atoms[0..nat), each at 1 in
 * s->acc and marked in cstamp) reduced by the basis into *out (n = 0 if
 * it is in the span). Clears acc.
 */
int pht_setsys_basis_reduce(struct pht_station_setsys *s, const uint32_t *atoms, uint32_t nat,
    struct pht_setsys_row *out);

int pht_setsys_cmp_u32(const void *a, const void *b);

#endif
