/* pht_station_setsys_basis.c — the Gauss-Jordan basis of the released sets over GF(2^61 - 1): sparse rows, reduction, pivoting with large atoms preferred, and the undo log. */
#include "pht_station_setsys_int.h"
#include "pht_err.h"

#include <stdlib.h>
#include <string.h>

#define FP PHT_SETSYS_P
#define NONE PHT_SETSYS_NONE

static uint64_t
f_inv(uint64_t a)
{
	uint64_t r = 1, e = FP - 2;

	while (e > 0) {
		if (e & 1)
			r = pht_setsys_fmul(r, a);
		a = pht_setsys_fmul(a, a);
		e >>= 1;
	}
	return r;
}

int
pht_setsys_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

void
pht_setsys_row_free(struct pht_setsys_row *r)
{
	free(r->idx);
	free(r->val);
	r->idx = NULL;
	r->val = NULL;
	r->n = 0;
}

int
pht_setsys_row_alloc(struct pht_setsys_row *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	if ((r->idx = malloc((n + 1) * sizeof(*r->idx))) == NULL ||
	    (r->val = malloc((n + 1) * sizeof(*r->val))) == NULL) {
		pht_setsys_row_free(r);
		return PHT_ERR_NOMEM;
	}
	return PHT_OK;
}

uint64_t
pht_setsys_row_at(const struct pht_setsys_row *r, uint32_t a)
{
	size_t lo = 0, hi = r->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (r->idx[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n && r->idx[lo] == a ? r->val[lo] : 0;
}

/*
 * out = a - c * b, zeros dropped; tainted if a or b is (serial: the open
 * transaction). colcnt and entries are moved from a to out as it goes.
 */
static int
row_axpy(struct pht_station_setsys *s, const struct pht_setsys_row *a, uint64_t c,
    const struct pht_setsys_row *b, struct pht_setsys_row *out)
{
	uint32_t i = 0, j = 0, n = 0;
	uint64_t v;

	if (pht_setsys_row_alloc(out, (size_t)a->n + b->n) != PHT_OK)
		return PHT_ERR_NOMEM;
	out->pivot = a->pivot;
	out->taint = b->taint == s->tx_serial ? s->tx_serial : a->taint;
	while (i < a->n || j < b->n) {
		if (j == b->n || (i < a->n && a->idx[i] < b->idx[j])) {
			out->idx[n] = a->idx[i];
			out->val[n++] = a->val[i++];
			continue;
		}
		if (i == a->n || b->idx[j] < a->idx[i]) {
			v = pht_setsys_fsub(0, pht_setsys_fmul(c, b->val[j]));
			if (v != 0) {
				s->colcnt[b->idx[j]]++;
				out->idx[n] = b->idx[j];
				out->val[n++] = v;
			}
			j++;
			continue;
		}
		v = pht_setsys_fsub(a->val[i], pht_setsys_fmul(c, b->val[j]));
		if (v != 0) {
			out->idx[n] = a->idx[i];
			out->val[n++] = v;
		} else
			s->colcnt[a->idx[i]]--;
		i++;
		j++;
	}
	out->n = n;
	s->entries = s->entries - a->n + n;
	return PHT_OK;
}

static int
push_undo(struct pht_station_setsys *s, const struct pht_setsys_undo *u)
{
	if (pht_setsys_grow((void **)&s->undo, &s->undo_cap, s->nundo + 1,
	    sizeof(*s->undo)) != PHT_OK)
		return PHT_ERR_NOMEM;
	s->undo[s->nundo++] = *u;
	return PHT_OK;
}

void
pht_setsys_count_cols(struct pht_station_setsys *s, const struct pht_setsys_row *r, int sign)
{
	uint32_t j;

	for (j = 0; j < r->n; j++)
		s->colcnt[r->idx[j]] += (uint32_t)sign;
	s->entries += sign > 0 ? r->n : -(uint64_t)r->n;
}

int
pht_setsys_replace_row(struct pht_station_setsys *s, uint32_t i, struct pht_setsys_row *nr)
{
	pht_setsys_count_cols(s, &s->rows[i], -1);
	pht_setsys_count_cols(s, nr, 1);
	return pht_setsys_replace_counted(s, i, nr);
}

/*
 * Puts nr in place of row i (taking nr's arrays), keeping the version
 * rollback needs: the first one of the transaction (a row added in the
 * transaction needs none).
 */
int
pht_setsys_replace_counted(struct pht_station_setsys *s, uint32_t i, struct pht_setsys_row *nr)
{
	struct pht_setsys_undo u;

	if (i >= s->saved_cap) {
		size_t old = s->saved_cap;

		if (pht_setsys_grow((void **)&s->saved, &s->saved_cap, (size_t)i + 1,
		    sizeof(*s->saved)) != PHT_OK) {
			pht_setsys_count_cols(s, nr, -1);
			pht_setsys_count_cols(s, &s->rows[i], 1);
			pht_setsys_row_free(nr);
			return PHT_ERR_NOMEM;
		}
		memset(s->saved + old, 0, (s->saved_cap - old) * sizeof(*s->saved));
	}
	if (i >= s->tx_nrows || s->saved[i] == s->tx_serial)
		pht_setsys_row_free(&s->rows[i]);
	else {
		memset(&u, 0, sizeof(u));
		u.is_row = 1;
		u.i = i;
		u.old = s->rows[i];
		if (push_undo(s, &u) != PHT_OK) {
			pht_setsys_count_cols(s, nr, -1);
			pht_setsys_count_cols(s, &s->rows[i], 1);
			pht_setsys_row_free(nr);
			return PHT_ERR_NOMEM;
		}
		s->saved[i] = s->tx_serial;
	}
	s->rows[i] = *nr;
	memset(nr, 0, sizeof(*nr));
	return PHT_OK;
}

static int
set_pivot(struct pht_station_setsys *s, uint32_t atom, uint32_t row)
{
	struct pht_setsys_undo u;

	memset(&u, 0, sizeof(u));
	u.i = atom;
	u.old_pivot_row = s->pivot_row[atom];
	if (push_undo(s, &u) != PHT_OK)
		return PHT_ERR_NOMEM;
	s->pivot_row[atom] = row;
	return PHT_OK;
}

/*
 * Removes column col from rows but skip, using row src (1 at col): from
 * every row if src's pivot is large, else only from the W rows (the rows
 * with large pivots may keep entries at small pivots; W rows are 0 on
 * every large atom).
 */
static int
eliminate(struct pht_station_setsys *s, uint32_t col, uint32_t skip,
    const struct pht_setsys_row *src, const struct pht_station_setsys_limits *lim)
{
	struct pht_setsys_row nr;
	uint64_t c;
	uint32_t i;
	int r, large = pht_setsys_large(s, src->pivot);

	/* src itself holds col: stop once it is the only one */
	for (i = 0; i < s->nrows && s->colcnt[col] > 1; i++) {
		if (i == skip || (!large && pht_setsys_large(s, s->rows[i].pivot)) ||
		    (c = pht_setsys_row_at(&s->rows[i], col)) == 0)
			continue;
		if ((r = row_axpy(s, &s->rows[i], c, src, &nr)) != PHT_OK ||
		    (r = pht_setsys_replace_counted(s, i, &nr)) != PHT_OK)
			return r;
		if (s->entries > lim->entries || ((i & 63) == 0 &&
		    pht_setsys_elapsed(&s->tx_t0) > lim->seconds))
			return PHT_ERR_TOO_LARGE;
	}
	return PHT_OK;
}

/*
 * The entry of r to pivot on: a large atom if r has one, else any; among
 * those, the atom in the fewest rows (least fill), then the lowest. -1 if r is empty.
 */
static long
choose_pivot(const struct pht_station_setsys *s, const struct pht_setsys_row *r, int large_only)
{
	long best = -1;
	uint32_t j;
	int bl = 0, l;

	for (j = 0; j < r->n; j++) {
		l = pht_setsys_large(s, r->idx[j]);
		if (large_only && !l)
			continue;
		if (best < 0 || l > bl || (l == bl && s->colcnt[r->idx[j]] <
		    s->colcnt[r->idx[best]])) {
			best = (long)j;
			bl = l;
		}
	}
	return best;
}

/* Multiplies r by the inverse of its entry j and makes that atom its pivot. */
static void
row_normalise(struct pht_setsys_row *r, uint32_t j)
{
	uint64_t inv = f_inv(r->val[j]);
	uint32_t i;

	for (i = 0; i < r->n; i++)
		r->val[i] = pht_setsys_fmul(r->val[i], inv);
	r->val[j] = 1;
	r->pivot = r->idx[j];
}

/*
 * Row i's pivot atom became small and it has no large atom: it joins W,
 * reduced by the W rows at the small pivots it holds (it is 0 at the
 * pivots of the other rows that join W now: they were large pivots).
 */
int
pht_setsys_basis_join_w(struct pht_station_setsys *s, uint32_t i,
    const struct pht_station_setsys_limits *lim)
{
	struct pht_setsys_row nr;
	uint32_t old = s->rows[i].pivot, t, a, pr;
	int r, again = 1;

	while (again) {
		again = 0;
		for (t = 0; t < s->rows[i].n; t++) {
			a = s->rows[i].idx[t];
			if (a == old || (pr = s->pivot_row[a]) == NONE || pr == i ||
			    pht_setsys_large(s, a))
				continue;
			if ((r = row_axpy(s, &s->rows[i], s->rows[i].val[t], &s->rows[pr],
			    &nr)) != PHT_OK || (r = pht_setsys_replace_counted(s, i, &nr)) != PHT_OK)
				return r;
			if (s->entries > lim->entries)
				return PHT_ERR_TOO_LARGE;
			again = 1;
			break;
		}
	}
	return PHT_OK;
}

/*
 * Row i's pivot atom became small: if the row has a large atom, pivot on
 * that instead (keeping small-pivot rows free of large atoms).
 */
int
pht_setsys_basis_repivot(struct pht_station_setsys *s, uint32_t i,
    const struct pht_station_setsys_limits *lim)
{
	struct pht_setsys_row nr;
	long j;
	uint32_t old = s->rows[i].pivot;
	int r;

	if ((j = choose_pivot(s, &s->rows[i], 1)) < 0)
		return PHT_OK;
	if ((r = pht_setsys_row_alloc(&nr, s->rows[i].n)) != PHT_OK)
		return r;
	memcpy(nr.idx, s->rows[i].idx, s->rows[i].n * sizeof(*nr.idx));
	memcpy(nr.val, s->rows[i].val, s->rows[i].n * sizeof(*nr.val));
	nr.n = s->rows[i].n;
	nr.taint = s->rows[i].taint;
	row_normalise(&nr, (uint32_t)j);
	if ((r = pht_setsys_replace_row(s, i, &nr)) != PHT_OK ||
	    (r = set_pivot(s, old, NONE)) != PHT_OK ||
	    (r = set_pivot(s, s->rows[i].pivot, i)) != PHT_OK)
		return r;
	return eliminate(s, s->rows[i].pivot, i, &s->rows[i], lim);
}

/* Appends atom a to the touched list *tch (of *ntch, capacity *cap) unless marked. */
static int
touch(struct pht_station_setsys *s, uint32_t a, uint32_t **tch, uint32_t *ntch, size_t *cap)
{
	if (s->cstamp[a] == s->col_stamp)
		return PHT_OK;
	s->cstamp[a] = s->col_stamp;
	if (*ntch == *cap && pht_setsys_grow((void **)tch, cap, *cap + 1, sizeof(**tch)) != PHT_OK)
		return PHT_ERR_NOMEM;
	(*tch)[(*ntch)++] = a;
	return PHT_OK;
}

int
pht_setsys_basis_reduce(struct pht_station_setsys *s, const uint32_t *atoms, uint32_t nat,
    struct pht_setsys_row *out)
{
	/* the touched atoms: the set's, then those of the rows subtracted */
	uint32_t *tch = NULL, ntch = nat, k2, phase, end, a, pr, i, nz;
	size_t cap = (size_t)nat + 16;
	const struct pht_setsys_row *row;
	uint64_t c;
	int r = PHT_OK;

	memset(out, 0, sizeof(*out));
	if ((tch = malloc(cap * sizeof(*tch))) == NULL) {
		for (i = 0; i < nat; i++)
			s->acc[atoms[i]] = 0;
		return PHT_ERR_NOMEM;
	}
	memcpy(tch, atoms, nat * sizeof(*tch));
	/*
	 * first the rows with large pivots in the set (1 there, 0 at the
	 * other large pivots), then the W rows at the small pivots left
	 * non-zero (0 on large atoms and at the other small pivots)
	 */
	for (phase = 0; phase < 2 && r == PHT_OK; phase++) {
		end = phase == 0 ? nat : ntch;
		for (i = 0; i < end && r == PHT_OK; i++) {
			a = phase == 0 ? atoms[i] : tch[i];
			if ((pr = s->pivot_row[a]) == NONE || pht_setsys_large(s, a) != (phase == 0) ||
			    (c = s->acc[a]) == 0)
				continue;
			row = &s->rows[pr];
			for (k2 = 0; k2 < row->n && r == PHT_OK; k2++) {
				a = row->idx[k2];
				s->acc[a] = pht_setsys_fsub(s->acc[a], phase == 0 ? row->val[k2] :
				    pht_setsys_fmul(c, row->val[k2]));
				r = touch(s, a, &tch, &ntch, &cap);
			}
		}
	}
	if (r == PHT_OK) {
		/* in atom order: a sweep of the marks when they are dense */
		if ((size_t)ntch * 16 > s->natoms) {
			for (a = 0, i = 0; a < s->natoms; a++)
				if (s->cstamp[a] == s->col_stamp)
					tch[i++] = a;
		} else
			qsort(tch, ntch, sizeof(*tch), pht_setsys_cmp_u32);
		for (i = 0, nz = 0; i < ntch; i++)
			nz += s->acc[tch[i]] != 0;
		if (nz > 0 && (r = pht_setsys_row_alloc(out, nz)) == PHT_OK)
			for (i = 0; i < ntch; i++)
				if (s->acc[tch[i]] != 0) {
					out->idx[out->n] = tch[i];
					out->val[out->n++] = s->acc[tch[i]];
				}
	}
	for (i = 0; i < ntch; i++)
		s->acc[tch[i]] = 0;
	free(tch);
	return r;
}

int
pht_setsys_basis_insert(struct pht_station_setsys *s, struct pht_setsys_row *nr,
    const struct pht_station_setsys_limits *lim)
{
	struct pht_setsys_row *row;
	uint32_t i;
	int r;

	if (s->nrows + 1 > lim->basis || s->entries + nr->n > lim->entries) {
		pht_setsys_row_free(nr);
		return PHT_ERR_TOO_LARGE;
	}
	if ((r = pht_setsys_grow((void **)&s->rows, &s->rows_cap, s->nrows + 1,
	    sizeof(*s->rows))) != PHT_OK) {
		pht_setsys_row_free(nr);
		return r;
	}
	row_normalise(nr, (uint32_t)choose_pivot(s, nr, 0));
	nr->taint = s->tx_serial;
	i = (uint32_t)s->nrows++;
	row = &s->rows[i];
	*row = *nr;
	memset(nr, 0, sizeof(*nr));
	pht_setsys_count_cols(s, row, 1);
	if ((r = set_pivot(s, row->pivot, i)) != PHT_OK ||
	    (r = eliminate(s, row->pivot, i, row, lim)) != PHT_OK)
		return r;
	s->grew = 1;
	s->w_changed |= !pht_setsys_large(s, s->rows[i].pivot);
	return PHT_OK;
}
