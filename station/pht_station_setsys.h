/* pht_station_setsys.h — the set system of released row sets: atoms, the span of their sums, and whether a group of fewer than k rows is determined by it. */
#ifndef PHT_STATION_SETSYS_H
#define PHT_STATION_SETSYS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Every released number is treated as a sum over its row set. The
 * released sets S_1..S_m determine, by linear combination, the sum over
 * any set whose indicator vector lies in their span V. A release is safe
 * when no indicator of a union of 1..k-1 rows is in V.
 *
 * Rows are numbered by the caller (dense ids 0, 1, ... that stay the same
 * patient across releases). The rows released so far are partitioned into
 * atoms (rows every released set either holds all of or none of); every
 * vector of V is constant on atoms, so V is kept in atom coordinates as a
 * Gauss-Jordan basis over the field of p = 2^61 - 1 (exact arithmetic; a
 * set system whose rank drops modulo p can only make more sets look
 * determined, i.e. refuse more). Atoms of k or more rows ("large") are
 * preferred as pivots, so the rows whose pivot is a small atom hold only
 * small atoms and span W, the part of V on small atoms, where any small
 * union must lie. A 0/1 vector of W is the sum of the W rows of its pivot
 * atoms; the check searches those sums (at most k - 1 rows, pivot atoms
 * of fewer than k rows together), guided by the columns a partial sum
 * still gets wrong. While the sets committed so far determine no small
 * union, a new one must use a W row that the open transaction changed, so
 * the search starts only from those.
 *
 * Changes are made in a transaction: begin, add sets, check, then commit
 * or roll back (the state returns exactly to what it was at begin).
 */
struct pht_station_setsys;

/* The bounds past which a release is withheld (fail closed). */
struct pht_station_setsys_limits {
	uint64_t atoms;         /* atoms in the partition */
	uint64_t basis;         /* rank of the released sets */
	uint64_t entries;       /* non-zero entries of the basis, all rows */
	uint64_t candidates;    /* partial sums the check may visit per release */
	double seconds;         /* wall-clock time per transaction (adds and check) */
};

/* The defaults documented in docs/security.md (T7). */
void pht_station_setsys_default_limits(struct pht_station_setsys_limits *lim);

/* An empty system for groups of fewer than k rows (k >= 1); NULL if out of memory. */
struct pht_station_setsys *pht_station_setsys_new(int64_t k);

/* Frees s (rolling back an open transaction); accepts NULL. */
void pht_station_setsys_free(struct pht_station_setsys *s);

/* The row ids it has room for (one more than the largest added). */
size_t pht_station_setsys_nids(const struct pht_station_setsys *s);

/* The k it was made for. */
int64_t pht_station_setsys_k(const struct pht_station_setsys *s);

/* Opens a transaction (PHT_ERR_INVALID if one is open). */
int pht_station_setsys_begin(struct pht_station_setsys *s);

/*
 * Adds the set of the n distinct row ids rows (any order; n > 0): splits
 * the atoms it cuts and adds its indicator to the basis. *grew (may be
 * NULL) is 1 if the set was not already in the span. PHT_ERR_TOO_LARGE
 * when a bound of lim would be passed, PHT_ERR_INVALID for a duplicate id
 * or no open transaction, PHT_ERR_NOMEM. After an error the transaction
 * must be rolled back.
 */
int pht_station_setsys_add(struct pht_station_setsys *s, const uint32_t *rows,
    size_t n, const struct pht_station_setsys_limits *lim, int *grew);

/*
 * Whether, with the sets added so far, the indicator of a union of 1 to
 * k - 1 rows is in the span: PHT_ERR_DISCLOSURE with *rows its number of
 * rows, PHT_OK if none is, PHT_ERR_TOO_LARGE when the search passes
 * lim's candidates or seconds (undecided: withhold), PHT_ERR_NOMEM.
 */
int pht_station_setsys_check(struct pht_station_setsys *s,
    const struct pht_station_setsys_limits *lim, uint64_t *rows);

/*
 * Whether the committed sets were shown to determine no union of 1 to
 * k - 1 rows (a check passed since the last change to W, or nothing was
 * added). While they were, a check searches only from the W rows the open
 * transaction changed (a new union needs one of them); otherwise it
 * searches from every W row. Commit keeps it up to date: a transaction
 * committed without a check that grew W clears it.
 */
int pht_station_setsys_clean(const struct pht_station_setsys *s);

/* Forgets that the committed sets were shown clean (tests compare both searches). */
void pht_station_setsys_distrust(struct pht_station_setsys *s);

/* Keeps (commit) or undoes (rollback) everything since begin. */
void pht_station_setsys_commit(struct pht_station_setsys *s);
void pht_station_setsys_rollback(struct pht_station_setsys *s);

struct pht_buf;

/*
 * Appends s (no transaction open: PHT_ERR_INVALID) to out: its atoms, its
 * basis and whether it was shown clean. PHT_ERR_TOO_LARGE past out's
 * maximum.
 */
int pht_station_setsys_save(const struct pht_station_setsys *s, struct pht_buf *out);

/*
 * Reads what pht_station_setsys_save wrote, from buf's cursor to the
 * trailer bytes before its end (not read), into a new system for k (*out; NULL on failure). PHT_ERR_MALFORMED for
 * bytes that are not a saved system for k in this byte order, or that
 * break its invariants; PHT_ERR_TOO_LARGE past lim's atoms, basis or
 * entries; PHT_ERR_NOMEM.
 */
int pht_station_setsys_load(struct pht_buf *buf, size_t trailer, int64_t k,
    const struct pht_station_setsys_limits *lim, struct pht_station_setsys **out);

/* Figures for benchmarks and the log: atoms, rank, basis entries, bytes held. */
struct pht_station_setsys_stats {
	uint64_t atoms, basis, small_basis, entries, bytes, candidates;
};
void pht_station_setsys_stats(const struct pht_station_setsys *s,
    struct pht_station_setsys_stats *st);

#endif
