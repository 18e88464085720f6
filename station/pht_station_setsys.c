/* pht_station_setsys.c — atoms of the released row sets, a Gauss-Jordan basis of their span over GF(2^61 - 1), and the search for a determined small group. */
#include "pht_station_setsys.h"
#include "pht_err.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FP ((uint64_t)0x1FFFFFFFFFFFFFFFULL)   /* 2^61 - 1, a prime */
#define NONE UINT32_MAX

static uint64_t
f_add(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;

	return s >= FP ? s - FP : s;
}

static uint64_t
f_sub(uint64_t a, uint64_t b)
{
	return a >= b ? a - b : a + FP - b;
}

static uint64_t
f_mul(uint64_t a, uint64_t b)
{
	unsigned __int128 m = (unsigned __int128)a * b;
	uint64_t s = ((uint64_t)m & FP) + (uint64_t)(m >> 61);

	return s >= FP ? s - FP : s;
}

static uint64_t
f_inv(uint64_t a)
{
	uint64_t r = 1, e = FP - 2;

	while (e > 0) {
		if (e & 1)
			r = f_mul(r, a);
		a = f_mul(a, a);
		e >>= 1;
	}
	return r;
}

static double
elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A basis vector: n non-zero entries at ascending atoms, 1 at its pivot. */
struct row {
	uint32_t *idx;
	uint64_t *val;
	uint32_t n;
	uint32_t pivot;
};

/* What to undo at rollback: a row replaced, or a pivot entry changed. */
struct undo {
	int is_row;
	uint32_t i;             /* row index, or atom */
	uint32_t old_pivot_row;
	struct row old;
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
	struct row *rows;
	uint32_t *saved;        /* per row: the transaction that kept its old version */
	size_t nrows, rows_cap, saved_cap;
	uint32_t tx_serial;
	uint64_t entries;
	/* the open transaction */
	int tx, grew;
	int w_changed;          /* W (the rows with small pivots) changed in this transaction */
	size_t tx_natoms, tx_nrows;
	struct undo *undo;
	size_t nundo, undo_cap;
	uint32_t *txids;
	size_t ntxids, txids_cap;
	uint64_t candidates;    /* visited by the last check */
	struct timespec tx_t0;  /* when the transaction began (the time bound) */
};

void
pht_station_setsys_default_limits(struct pht_station_setsys_limits *lim)
{
	lim->atoms = (uint64_t)1 << 20;
	lim->basis = (uint64_t)1 << 16;
	lim->entries = (uint64_t)1 << 25;
	lim->candidates = (uint64_t)1 << 20;
	lim->seconds = 20.0;
}

struct pht_station_setsys *
pht_station_setsys_new(int64_t k)
{
	struct pht_station_setsys *s;

	if (k < 1 || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->k = k;
	return s;
}

int64_t
pht_station_setsys_k(const struct pht_station_setsys *s)
{
	return s->k;
}

static void
row_free(struct row *r)
{
	free(r->idx);
	free(r->val);
	r->idx = NULL;
	r->val = NULL;
	r->n = 0;
}

void
pht_station_setsys_free(struct pht_station_setsys *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->tx)
		pht_station_setsys_rollback(s);
	for (i = 0; i < s->nrows; i++)
		row_free(&s->rows[i]);
	free(s->rows);
	free(s->saved);
	free(s->atom_of);
	free(s->idstamp);
	free(s->size);
	free(s->parent);
	free(s->pivot_row);
	free(s->colcnt);
	free(s->newid);
	free(s->cnt);
	free(s->cstamp);
	free(s->acc);
	free(s->undo);
	free(s->txids);
	free(s);
}

static int
grow(void **p, size_t *cap, size_t want, size_t elem)
{
	size_t nc = *cap ? *cap : 16;
	void *np;

	if (want <= *cap)
		return PHT_OK;
	while (nc < want)
		nc *= 2;
	if ((np = realloc(*p, nc * elem)) == NULL)
		return PHT_ERR_NOMEM;
	*p = np;
	*cap = nc;
	return PHT_OK;
}

static int
ensure_ids(struct pht_station_setsys *s, size_t n)
{
	size_t cap, old = s->ids_cap;
	uint32_t *a, *b;

	if (n <= s->ids_cap)
		goto fill;
	for (cap = old ? old : 1024; cap < n; cap *= 2)
		;
	if ((a = realloc(s->atom_of, cap * sizeof(*a))) == NULL)
		return PHT_ERR_NOMEM;
	s->atom_of = a;
	if ((b = realloc(s->idstamp, cap * sizeof(*b))) == NULL)
		return PHT_ERR_NOMEM;
	s->idstamp = b;
	memset(s->idstamp + old, 0, (cap - old) * sizeof(*b));
	s->ids_cap = cap;
fill:
	for (; s->nids < n; s->nids++)
		s->atom_of[s->nids] = NONE;
	return PHT_OK;
}

static int
ensure_atoms(struct pht_station_setsys *s, size_t n)
{
	size_t cap, old = s->atoms_cap, i;

	if (n <= old)
		return PHT_OK;
	for (cap = old ? old : 1024; cap < n; cap *= 2)
		;
#define RE(f) do { \
		void *np = realloc(s->f, cap * sizeof(*s->f)); \
		if (np == NULL) \
			return PHT_ERR_NOMEM; \
		s->f = np; \
	} while (0)
	RE(size);
	RE(parent);
	RE(pivot_row);
	RE(colcnt);
	RE(newid);
	RE(cnt);
	RE(cstamp);
	RE(acc);
#undef RE
	for (i = old; i < cap; i++) {
		s->size[i] = 0;
		s->parent[i] = NONE;
		s->pivot_row[i] = NONE;
		s->colcnt[i] = 0;
		s->newid[i] = NONE;
		s->cnt[i] = 0;
		s->cstamp[i] = 0;
		s->acc[i] = 0;
	}
	s->atoms_cap = cap;
	return PHT_OK;
}

int
pht_station_setsys_begin(struct pht_station_setsys *s)
{
	if (s->tx)
		return PHT_ERR_INVALID;
	s->tx = 1;
	clock_gettime(CLOCK_MONOTONIC, &s->tx_t0);
	if (++s->tx_serial == 0) {
		memset(s->saved, 0, s->saved_cap * sizeof(*s->saved));
		s->tx_serial = 1;
	}
	s->grew = 0;
	s->w_changed = 0;
	s->tx_natoms = s->natoms;
	s->tx_nrows = s->nrows;
	s->nundo = 0;
	s->ntxids = 0;
	return PHT_OK;
}

static int
push_undo(struct pht_station_setsys *s, const struct undo *u)
{
	if (grow((void **)&s->undo, &s->undo_cap, s->nundo + 1, sizeof(*s->undo)) != PHT_OK)
		return PHT_ERR_NOMEM;
	s->undo[s->nundo++] = *u;
	return PHT_OK;
}

static void
count_cols(struct pht_station_setsys *s, const struct row *r, int sign)
{
	uint32_t j;

	for (j = 0; j < r->n; j++)
		s->colcnt[r->idx[j]] += (uint32_t)sign;
	s->entries += sign > 0 ? r->n : -(uint64_t)r->n;
}

/*
 * Puts nr in place of row i (taking nr's arrays), keeping the version
 * rollback needs: the first one of the transaction (a row added in the
 * transaction needs none).
 */
static int
replace_row(struct pht_station_setsys *s, uint32_t i, struct row *nr)
{
	struct undo u;

	if (i >= s->saved_cap) {
		size_t old = s->saved_cap;

		if (grow((void **)&s->saved, &s->saved_cap, (size_t)i + 1,
		    sizeof(*s->saved)) != PHT_OK) {
			row_free(nr);
			return PHT_ERR_NOMEM;
		}
		memset(s->saved + old, 0, (s->saved_cap - old) * sizeof(*s->saved));
	}
	count_cols(s, &s->rows[i], -1);
	if (i >= s->tx_nrows || s->saved[i] == s->tx_serial)
		row_free(&s->rows[i]);
	else {
		memset(&u, 0, sizeof(u));
		u.is_row = 1;
		u.i = i;
		u.old = s->rows[i];
		if (push_undo(s, &u) != PHT_OK) {
			count_cols(s, &s->rows[i], 1);
			row_free(nr);
			return PHT_ERR_NOMEM;
		}
		s->saved[i] = s->tx_serial;
	}
	s->rows[i] = *nr;
	count_cols(s, &s->rows[i], 1);
	memset(nr, 0, sizeof(*nr));
	return PHT_OK;
}

static int
set_pivot(struct pht_station_setsys *s, uint32_t atom, uint32_t row)
{
	struct undo u;

	memset(&u, 0, sizeof(u));
	u.i = atom;
	u.old_pivot_row = s->pivot_row[atom];
	if (push_undo(s, &u) != PHT_OK)
		return PHT_ERR_NOMEM;
	s->pivot_row[atom] = row;
	return PHT_OK;
}

static int
row_alloc(struct row *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	if ((r->idx = malloc((n + 1) * sizeof(*r->idx))) == NULL ||
	    (r->val = malloc((n + 1) * sizeof(*r->val))) == NULL) {
		row_free(r);
		return PHT_ERR_NOMEM;
	}
	return PHT_OK;
}

/* The entry of r at atom a (0 if none), by binary search. */
static uint64_t
row_at(const struct row *r, uint32_t a)
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

/* out = a - c * b, zeros dropped. */
static int
row_axpy(const struct row *a, uint64_t c, const struct row *b, struct row *out)
{
	uint32_t i = 0, j = 0, n = 0;
	uint64_t v;

	if (row_alloc(out, (size_t)a->n + b->n) != PHT_OK)
		return PHT_ERR_NOMEM;
	out->pivot = a->pivot;
	while (i < a->n || j < b->n) {
		if (j == b->n || (i < a->n && a->idx[i] < b->idx[j])) {
			out->idx[n] = a->idx[i];
			out->val[n++] = a->val[i++];
			continue;
		}
		if (i == a->n || b->idx[j] < a->idx[i]) {
			v = f_sub(0, f_mul(c, b->val[j]));
			if (v != 0) {
				out->idx[n] = b->idx[j];
				out->val[n++] = v;
			}
			j++;
			continue;
		}
		v = f_sub(a->val[i], f_mul(c, b->val[j]));
		if (v != 0) {
			out->idx[n] = a->idx[i];
			out->val[n++] = v;
		}
		i++;
		j++;
	}
	out->n = n;
	return PHT_OK;
}

static int
is_large(const struct pht_station_setsys *s, uint32_t a)
{
	return s->size[a] >= (uint64_t)s->k;
}

/*
 * Removes column col from rows but skip, using row src (1 at col): from
 * every row if src's pivot is large, else only from the W rows (the rows
 * with large pivots may keep entries at small pivots; W rows are 0 on
 * every large atom).
 */
static int
eliminate(struct pht_station_setsys *s, uint32_t col, uint32_t skip, const struct row *src,
    const struct pht_station_setsys_limits *lim)
{
	struct row nr;
	uint64_t c;
	uint32_t i;
	int r, large = is_large(s, src->pivot);

	/* src itself holds col: stop once it is the only one */
	for (i = 0; i < s->nrows && s->colcnt[col] > 1; i++) {
		if (i == skip || (!large && is_large(s, s->rows[i].pivot)) ||
		    (c = row_at(&s->rows[i], col)) == 0)
			continue;
		if ((r = row_axpy(&s->rows[i], c, src, &nr)) != PHT_OK ||
		    (r = replace_row(s, i, &nr)) != PHT_OK)
			return r;
		if (s->entries > lim->entries || ((i & 63) == 0 &&
		    elapsed(&s->tx_t0) > lim->seconds))
			return PHT_ERR_TOO_LARGE;
	}
	return PHT_OK;
}

/*
 * The entry of r to pivot on: a large atom if r has one, else any; among
 * those, the atom in the fewest rows (least fill), then the lowest. -1 if r is empty.
 */
static long
choose_pivot(const struct pht_station_setsys *s, const struct row *r, int large_only)
{
	long best = -1;
	uint32_t j;
	int bl = 0, l;

	for (j = 0; j < r->n; j++) {
		l = is_large(s, r->idx[j]);
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
row_normalise(struct row *r, uint32_t j)
{
	uint64_t inv = f_inv(r->val[j]);
	uint32_t i;

	for (i = 0; i < r->n; i++)
		r->val[i] = f_mul(r->val[i], inv);
	r->val[j] = 1;
	r->pivot = r->idx[j];
}

/*
 * Row i's pivot atom became small and it has no large atom: it joins W,
 * reduced by the W rows at the small pivots it holds (it is 0 at the
 * pivots of the other rows that join W now: they were large pivots).
 */
static int
join_w(struct pht_station_setsys *s, uint32_t i, const struct pht_station_setsys_limits *lim)
{
	struct row nr;
	uint32_t old = s->rows[i].pivot, t, a, pr;
	int r, again = 1;

		while (again) {
			again = 0;
			for (t = 0; t < s->rows[i].n; t++) {
				a = s->rows[i].idx[t];
				if (a == old || (pr = s->pivot_row[a]) == NONE || pr == i ||
				    is_large(s, a))
					continue;
				if ((r = row_axpy(&s->rows[i], s->rows[i].val[t], &s->rows[pr],
				    &nr)) != PHT_OK || (r = replace_row(s, i, &nr)) != PHT_OK)
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
static int
repivot(struct pht_station_setsys *s, uint32_t i, const struct pht_station_setsys_limits *lim)
{
	struct row nr;
	long j;
	uint32_t old = s->rows[i].pivot;
	int r;

	if ((j = choose_pivot(s, &s->rows[i], 1)) < 0)
		return PHT_OK;
	if ((r = row_alloc(&nr, s->rows[i].n)) != PHT_OK)
		return r;
	memcpy(nr.idx, s->rows[i].idx, s->rows[i].n * sizeof(*nr.idx));
	memcpy(nr.val, s->rows[i].val, s->rows[i].n * sizeof(*nr.val));
	nr.n = s->rows[i].n;
	row_normalise(&nr, (uint32_t)j);
	if ((r = replace_row(s, i, &nr)) != PHT_OK ||
	    (r = set_pivot(s, old, NONE)) != PHT_OK ||
	    (r = set_pivot(s, s->rows[i].pivot, i)) != PHT_OK)
		return r;
	return eliminate(s, s->rows[i].pivot, i, &s->rows[i], lim);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * Splits the atoms the set cuts. *split gets the atoms split (ascending,
 * each with newid[] set to the part inside the set), *nsplit their number.
 */
static int
split_atoms(struct pht_station_setsys *s, const uint32_t *rows, size_t n,
    const struct pht_station_setsys_limits *lim, uint32_t **split, size_t *nsplit)
{
	uint32_t *touched = NULL, a, fresh = NONE;
	size_t nt = 0, i, ns = 0, nfresh = 0;
	int r = PHT_OK;

	*split = NULL;
	*nsplit = 0;
	if ((touched = malloc((n + 1) * sizeof(*touched))) == NULL)
		return PHT_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		a = s->atom_of[rows[i]];
		if (a == NONE) {
			nfresh++;
			continue;
		}
		if (s->cnt[a]++ == 0)
			touched[nt++] = a;
	}
	for (i = 0; i < nt; i++)
		if (s->cnt[touched[i]] < s->size[touched[i]])
			touched[ns++] = touched[i];
		else
			s->cnt[touched[i]] = 0;
	qsort(touched, ns, sizeof(*touched), cmp_u32);
	if (s->natoms + ns + (nfresh > 0) > lim->atoms) {
		r = PHT_ERR_TOO_LARGE;
		goto fail;
	}
	if ((r = ensure_atoms(s, s->natoms + ns + 1)) != PHT_OK)
		goto fail;
	for (i = 0; i < ns; i++) {
		a = touched[i];
		s->newid[a] = (uint32_t)s->natoms;
		s->parent[s->natoms] = a;
		s->size[s->natoms] = s->cnt[a];
		s->size[a] -= s->cnt[a];
		s->cnt[a] = 0;
		s->natoms++;
	}
	if (nfresh > 0) {
		fresh = (uint32_t)s->natoms;
		s->parent[fresh] = NONE;
		s->size[fresh] = nfresh;
		s->natoms++;
	}
	for (i = 0; i < n; i++) {
		a = s->atom_of[rows[i]];
		s->atom_of[rows[i]] = a == NONE ? fresh : s->newid[a] != NONE ? s->newid[a] : a;
	}
	*split = touched;
	*nsplit = ns;
	return PHT_OK;
fail:
	for (i = 0; i < nt; i++)
		s->cnt[touched[i]] = 0;
	free(touched);
	return r;
}

/* Every row with an atom just split gets the same entry at the new part. */
static int
copy_split_columns(struct pht_station_setsys *s, const uint32_t *split, size_t ns,
    const struct pht_station_setsys_limits *lim)
{
	struct row nr;
	uint32_t i, j, extra;
	size_t t;
	int any = 0, r;

	for (t = 0; t < ns; t++)
		any |= s->colcnt[split[t]] > 0;
	if (!any)
		return PHT_OK;
	for (i = 0; i < s->nrows; i++) {
		for (j = 0, extra = 0; j < s->rows[i].n; j++)
			extra += s->newid[s->rows[i].idx[j]] != NONE;
		if (extra == 0)
			continue;
		if ((r = row_alloc(&nr, (size_t)s->rows[i].n + extra)) != PHT_OK)
			return r;
		memcpy(nr.idx, s->rows[i].idx, s->rows[i].n * sizeof(*nr.idx));
		memcpy(nr.val, s->rows[i].val, s->rows[i].n * sizeof(*nr.val));
		nr.n = s->rows[i].n;
		nr.pivot = s->rows[i].pivot;
		/* new atoms are numbered above every old one, in the order of their parents */
		for (j = 0; j < s->rows[i].n; j++)
			if (s->newid[s->rows[i].idx[j]] != NONE) {
				nr.idx[nr.n] = s->newid[s->rows[i].idx[j]];
				nr.val[nr.n++] = s->rows[i].val[j];
			}
		if ((r = replace_row(s, i, &nr)) != PHT_OK)
			return r;
		if (s->entries > lim->entries)
			return PHT_ERR_TOO_LARGE;
	}
	return PHT_OK;
}

int
pht_station_setsys_add(struct pht_station_setsys *s, const uint32_t *rows,
    size_t n, const struct pht_station_setsys_limits *lim, int *grew)
{
	uint32_t *split = NULL, *atoms = NULL, maxid = 0, a, nat = 0, pr;
	size_t ns = 0, i, t, nz;
	struct row nr;
	long j;
	int r;

	memset(&nr, 0, sizeof(nr));
	if (grew != NULL)
		*grew = 0;
	if (!s->tx || n == 0)
		return PHT_ERR_INVALID;
	if (elapsed(&s->tx_t0) > lim->seconds)
		return PHT_ERR_TOO_LARGE;
	for (i = 0; i < n; i++)
		maxid = rows[i] > maxid ? rows[i] : maxid;
	if ((r = ensure_ids(s, (size_t)maxid + 1)) != PHT_OK)
		return r;
	if (++s->id_stamp == 0) {
		memset(s->idstamp, 0, s->ids_cap * sizeof(*s->idstamp));
		s->id_stamp = 1;
	}
	for (i = 0; i < n; i++) {
		if (s->idstamp[rows[i]] == s->id_stamp)
			return PHT_ERR_INVALID;
		s->idstamp[rows[i]] = s->id_stamp;
	}
	if (grow((void **)&s->txids, &s->txids_cap, s->ntxids + n, sizeof(*s->txids)) != PHT_OK)
		return PHT_ERR_NOMEM;
	memcpy(s->txids + s->ntxids, rows, n * sizeof(*rows));
	s->ntxids += n;

	if ((r = split_atoms(s, rows, n, lim, &split, &ns)) != PHT_OK)
		return r;
	r = copy_split_columns(s, split, ns, lim);
	for (t = 0; t < ns; t++)
		s->newid[split[t]] = NONE;
	if (r != PHT_OK)
		goto out;
	/* a pivot atom that became small may have to hand its row a large pivot */
	for (t = 0; t < ns && r == PHT_OK; t++)
		if ((pr = s->pivot_row[split[t]]) != NONE && !is_large(s, split[t]))
			r = repivot(s, pr, lim);
	/* then those with no large atom to move to join W */
	for (t = 0; t < ns && r == PHT_OK; t++)
		if ((pr = s->pivot_row[split[t]]) != NONE && !is_large(s, split[t])) {
			r = join_w(s, pr, lim);
			s->w_changed = 1;
		}
	if (r != PHT_OK)
		goto out;

	/* the set's indicator in atom coordinates, reduced by the basis */
	if ((atoms = malloc((n + 1) * sizeof(*atoms))) == NULL) {
		r = PHT_ERR_NOMEM;
		goto out;
	}
	if (++s->col_stamp == 0) {
		memset(s->cstamp, 0, s->atoms_cap * sizeof(*s->cstamp));
		s->col_stamp = 1;
	}
	for (i = 0; i < n; i++) {
		a = s->atom_of[rows[i]];
		if (s->cstamp[a] != s->col_stamp) {
			s->cstamp[a] = s->col_stamp;
			atoms[nat++] = a;
			s->acc[a] = 1;
		}
	}
	{
		/* the touched atoms: the set's, then those of the rows subtracted */
		uint32_t *tch = NULL, ntch = nat, k2;
		size_t cap = (size_t)nat + 16;

		if ((tch = malloc(cap * sizeof(*tch))) == NULL) {
			r = PHT_ERR_NOMEM;
			goto clear;
		}
		memcpy(tch, atoms, nat * sizeof(*tch));
		/*
		 * first the rows with large pivots in the set (1 there, 0 at the
		 * other large pivots), then the W rows at the small pivots left
		 * non-zero (0 on large atoms and at the other small pivots)
		 */
		uint32_t phase, end;
		uint64_t c;

		for (phase = 0; phase < 2 && r == PHT_OK; phase++) {
			end = phase == 0 ? nat : ntch;
			for (i = 0; i < end && r == PHT_OK; i++) {
				a = phase == 0 ? atoms[i] : tch[i];
				if ((pr = s->pivot_row[a]) == NONE || is_large(s, a) != (phase == 0) ||
				    (c = s->acc[a]) == 0)
					continue;
				for (k2 = 0; k2 < s->rows[pr].n; k2++) {
					a = s->rows[pr].idx[k2];
					s->acc[a] = f_sub(s->acc[a], phase == 0 ? s->rows[pr].val[k2] :
					    f_mul(c, s->rows[pr].val[k2]));
					if (s->cstamp[a] != s->col_stamp) {
						s->cstamp[a] = s->col_stamp;
						if (ntch == cap && grow((void **)&tch, &cap, cap + 1,
						    sizeof(*tch)) != PHT_OK) {
							r = PHT_ERR_NOMEM;
							break;
						}
						tch[ntch++] = a;
					}
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
				qsort(tch, ntch, sizeof(*tch), cmp_u32);
			for (i = 0, nz = 0; i < ntch; i++)
				nz += s->acc[tch[i]] != 0;
			if (nz > 0 && (r = row_alloc(&nr, nz)) == PHT_OK)
				for (i = 0; i < ntch; i++)
					if (s->acc[tch[i]] != 0) {
						nr.idx[nr.n] = tch[i];
						nr.val[nr.n++] = s->acc[tch[i]];
					}
		}
		for (i = 0; i < ntch; i++)
			s->acc[tch[i]] = 0;
		free(tch);
	}
	if (r != PHT_OK || nr.n == 0)
		goto out;       /* already in the span: nothing changes */

	if (s->nrows + 1 > lim->basis || s->entries + nr.n > lim->entries) {
		r = PHT_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = grow((void **)&s->rows, &s->rows_cap, s->nrows + 1, sizeof(*s->rows))) != PHT_OK)
		goto out;
	j = choose_pivot(s, &nr, 0);
	row_normalise(&nr, (uint32_t)j);
	s->rows[s->nrows] = nr;
	count_cols(s, &s->rows[s->nrows], 1);
	memset(&nr, 0, sizeof(nr));
	s->nrows++;
	if ((r = set_pivot(s, s->rows[s->nrows - 1].pivot, (uint32_t)(s->nrows - 1))) != PHT_OK ||
	    (r = eliminate(s, s->rows[s->nrows - 1].pivot, (uint32_t)(s->nrows - 1),
	    &s->rows[s->nrows - 1], lim)) != PHT_OK)
		goto out;
	s->grew = 1;
	s->w_changed |= !is_large(s, s->rows[s->nrows - 1].pivot);
	if (grew != NULL)
		*grew = 1;
	goto out;
clear:
	for (i = 0; i < nat; i++)
		s->acc[atoms[i]] = 0;
out:
	row_free(&nr);
	free(atoms);
	free(split);
	return r;
}

void
pht_station_setsys_commit(struct pht_station_setsys *s)
{
	size_t i;

	for (i = 0; i < s->nundo; i++)
		if (s->undo[i].is_row)
			row_free(&s->undo[i].old);
	s->nundo = 0;
	s->ntxids = 0;
	s->tx = 0;
}

void
pht_station_setsys_rollback(struct pht_station_setsys *s)
{
	struct undo *u;
	size_t i;
	uint32_t a;

	if (!s->tx)
		return;
	for (i = s->nundo; i-- > 0;) {
		u = &s->undo[i];
		if (u->is_row) {
			count_cols(s, &s->rows[u->i], -1);
			row_free(&s->rows[u->i]);
			s->rows[u->i] = u->old;
			count_cols(s, &s->rows[u->i], 1);
		} else
			s->pivot_row[u->i] = u->old_pivot_row;
	}
	for (i = s->tx_nrows; i < s->nrows; i++) {
		count_cols(s, &s->rows[i], -1);
		row_free(&s->rows[i]);
	}
	s->nrows = s->tx_nrows;
	for (i = 0; i < s->ntxids; i++)
		while ((a = s->atom_of[s->txids[i]]) != NONE && a >= s->tx_natoms)
			s->atom_of[s->txids[i]] = s->parent[a];
	for (i = s->natoms; i-- > s->tx_natoms;) {
		if (s->parent[i] != NONE)
			s->size[s->parent[i]] += s->size[i];
		s->size[i] = 0;
		s->parent[i] = NONE;
		s->pivot_row[i] = NONE;
	}
	s->natoms = s->tx_natoms;
	s->nundo = 0;
	s->ntxids = 0;
	s->tx = 0;
}

/* ---- the search for a determined small union ---- */

struct search {
	struct pht_station_setsys *s;
	const struct pht_station_setsys_limits *lim;
	uint32_t *w;            /* W rows (indices into s->rows) */
	size_t nw;
	uint32_t *cstart, *clist;       /* atom -> W rows holding it (CSR) */
	uint32_t *rstamp, rs;
	uint32_t *T;
	size_t nT, T_cap;
	uint64_t sizeT;
	size_t start;
	uint32_t *pool;
	size_t npool, pool_cap;
	uint64_t found;
	uint64_t nbad;          /* non-pivot columns of T whose sum is not 0 or 1 */
	uint64_t ones;          /* rows of the non-pivot columns whose sum is 1 */
	struct timespec t0;
};

/* Adds (sign 1) or removes row r to the partial sum, keeping nbad and ones. */
static void
acc_row(struct search *q, const struct row *r, int sign)
{
	struct pht_station_setsys *s = q->s;
	uint64_t o, v;
	uint32_t j, c;

	for (j = 0; j < r->n; j++) {
		c = r->idx[j];
		o = s->acc[c];
		v = s->acc[c] = sign > 0 ? f_add(o, r->val[j]) : f_sub(o, r->val[j]);
		if (c == r->pivot)
			continue;
		if (o == 1)
			q->ones -= s->size[c];
		else if (o != 0)
			q->nbad--;
		if (v == 1)
			q->ones += s->size[c];
		else if (v != 0)
			q->nbad++;
	}
}

static int
pool_push(struct search *q, uint32_t v)
{
	if (q->npool == q->pool_cap &&
	    grow((void **)&q->pool, &q->pool_cap, q->npool + 1, sizeof(*q->pool)) != PHT_OK)
		return PHT_ERR_NOMEM;
	q->pool[q->npool++] = v;
	return PHT_OK;
}

static int
in_T(const struct search *q, uint32_t wi)
{
	size_t i;

	for (i = 0; i < q->nT; i++)
		if (q->T[i] == wi)
			return 1;
	return 0;
}

/* Adds to the pool the W rows after start holding atom c that fit in room. */
static int
branch_rows(struct search *q, uint32_t c, uint64_t room)
{
	struct pht_station_setsys *s = q->s;
	uint32_t i, wi;

	for (i = q->cstart[c]; i < q->cstart[c + 1]; i++) {
		wi = q->clist[i];
		if (wi <= q->start || q->rstamp[wi] == q->rs || in_T(q, wi) ||
		    s->size[s->rows[q->w[wi]].pivot] > room)
			continue;
		q->rstamp[wi] = q->rs;
		if (pool_push(q, wi) != PHT_OK)
			return PHT_ERR_NOMEM;
	}
	return PHT_OK;
}

static int
dfs(struct search *q)
{
	struct pht_station_setsys *s = q->s;
	const struct row *r;
	size_t i, base = q->npool, end;
	uint32_t j, c, bad = NONE;
	uint64_t ones = 0, room, v;
	int rc;

	if (++s->candidates > q->lim->candidates ||
	    ((s->candidates & 1023) == 1 && elapsed(&q->t0) > q->lim->seconds))
		return PHT_ERR_TOO_LARGE;
	if (q->nbad == 0 && q->sizeT + q->ones < (uint64_t)s->k) {
		q->found = q->sizeT + q->ones;
		return PHT_ERR_DISCLOSURE;
	}
	if (q->sizeT + 1 >= (uint64_t)s->k)
		return PHT_OK;  /* no room for another row */
	/* the partial sum on the columns of T: a wrong column, or the columns at 1 */
	if (++s->col_stamp == 0) {
		memset(s->cstamp, 0, s->atoms_cap * sizeof(*s->cstamp));
		s->col_stamp = 1;
	}
	for (i = 0; i < q->nT; i++) {
		r = &s->rows[q->w[q->T[i]]];
		for (j = 0; j < r->n; j++) {
			c = r->idx[j];
			if (c == r->pivot || s->cstamp[c] == s->col_stamp)
				continue;
			s->cstamp[c] = s->col_stamp;
			v = s->acc[c];
			if (v == 1) {
				ones += s->size[c];
				if ((rc = pool_push(q, c)) != PHT_OK)
					return rc;
			} else if (v != 0 && (bad == NONE || q->cstart[c + 1] - q->cstart[c] <
			    q->cstart[bad + 1] - q->cstart[bad]))
				bad = c;
		}
	}
	(void)ones;
	end = q->npool;
	if (grow((void **)&q->T, &q->T_cap, q->nT + 1, sizeof(*q->T)) != PHT_OK)
		return PHT_ERR_NOMEM;
	room = (uint64_t)s->k - 1 - q->sizeT;
	/* the rows that can still change a wrong column, or else a column at 1 */
	q->rs++;
	if (bad != NONE)
		rc = branch_rows(q, bad, room);
	else
		for (i = base, rc = PHT_OK; i < end && rc == PHT_OK; i++)
			rc = branch_rows(q, q->pool[i], room);
	if (rc != PHT_OK)
		return rc;
	for (i = end; i < q->npool; i++) {
		uint32_t wi = q->pool[i];

		r = &s->rows[q->w[wi]];
		acc_row(q, r, 1);
		q->T[q->nT++] = wi;
		q->sizeT += s->size[r->pivot];
		rc = dfs(q);
		q->sizeT -= s->size[r->pivot];
		q->nT--;
		acc_row(q, r, -1);
		if (rc != PHT_OK)
			return rc;
	}
	q->npool = base;
	return PHT_OK;
}

int
pht_station_setsys_check(struct pht_station_setsys *s,
    const struct pht_station_setsys_limits *lim, uint64_t *rows)
{
	struct search q;
	size_t i;
	uint32_t j, c;
	int r = PHT_OK;

	*rows = 0;
	s->candidates = 0;
	/*
	 * Every small union lies in W: if W did not change (the new vectors
	 * took large pivots; splits keep W as a set of row vectors), nothing
	 * new is determined.
	 */
	if (!s->grew || !s->w_changed || s->k <= 1)
		return PHT_OK;
	memset(&q, 0, sizeof(q));
	q.s = s;
	q.lim = lim;
	q.t0 = s->tx_t0;        /* one time bound for the whole release */
	if ((q.w = malloc((s->nrows + 1) * sizeof(*q.w))) == NULL ||
	    (q.cstart = calloc(s->natoms + 2, sizeof(*q.cstart))) == NULL)
		goto nomem;
	for (i = 0; i < s->nrows; i++)
		if (!is_large(s, s->rows[i].pivot))
			q.w[q.nw++] = (uint32_t)i;
	if (q.nw == 0)
		goto out;
	/* CSR of the W rows' non-pivot atoms */
	for (i = 0; i < q.nw; i++)
		for (j = 0; j < s->rows[q.w[i]].n; j++)
			if ((c = s->rows[q.w[i]].idx[j]) != s->rows[q.w[i]].pivot)
				q.cstart[c + 1]++;
	for (i = 0; i < s->natoms; i++)
		q.cstart[i + 1] += q.cstart[i];
	q.cstart[s->natoms + 1] = q.cstart[s->natoms];
	if ((q.clist = malloc(((size_t)q.cstart[s->natoms] + 1) * sizeof(*q.clist))) == NULL ||
	    (q.rstamp = calloc(q.nw + 1, sizeof(*q.rstamp))) == NULL)
		goto nomem;
	{
		uint32_t *fill = malloc((s->natoms + 1) * sizeof(*fill));

		if (fill == NULL)
			goto nomem;
		memcpy(fill, q.cstart, (s->natoms + 1) * sizeof(*fill));
		for (i = 0; i < q.nw; i++)
			for (j = 0; j < s->rows[q.w[i]].n; j++)
				if ((c = s->rows[q.w[i]].idx[j]) != s->rows[q.w[i]].pivot)
					q.clist[fill[c]++] = (uint32_t)i;
		free(fill);
	}
	for (q.start = 0; q.start < q.nw && r == PHT_OK; q.start++) {
		const struct row *w0 = &s->rows[q.w[q.start]];

		if (s->size[w0->pivot] >= (uint64_t)s->k)
			continue;
		if (grow((void **)&q.T, &q.T_cap, 1, sizeof(*q.T)) != PHT_OK)
			goto nomem;
		acc_row(&q, w0, 1);
		q.T[0] = (uint32_t)q.start;
		q.nT = 1;
		q.sizeT = s->size[w0->pivot];
		r = dfs(&q);
		acc_row(&q, w0, -1);
	}
	if (r == PHT_ERR_DISCLOSURE)
		*rows = q.found;
	goto out;
nomem:
	r = PHT_ERR_NOMEM;
out:
	free(q.w);
	free(q.cstart);
	free(q.clist);
	free(q.rstamp);
	free(q.pool);
	free(q.T);
	return r;
}

void
pht_station_setsys_stats(const struct pht_station_setsys *s,
    struct pht_station_setsys_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	st->atoms = s->natoms;
	st->basis = s->nrows;
	for (i = 0; i < s->nrows; i++)
		st->small_basis += !is_large(s, s->rows[i].pivot);
	st->entries = s->entries;
	st->bytes = s->entries * 12 + s->rows_cap * sizeof(*s->rows) + s->ids_cap * 8 +
	    s->atoms_cap * 44;
	st->candidates = s->candidates;
}
