/* pht_station_setsys.c — the set system's life: atoms of the released row sets, transactions (add, commit, rollback) and figures; the basis is in pht_station_setsys_basis.c, the search in pht_station_setsys_search.c. */
#include "pht_station_setsys_int.h"
#include "pht_err.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NONE PHT_SETSYS_NONE

double
pht_setsys_elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

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
	s->clean = 1;   /* nothing released: nothing determined */
	return s;
}

size_t
pht_station_setsys_nids(const struct pht_station_setsys *s)
{
	return s->nids;
}

int64_t
pht_station_setsys_k(const struct pht_station_setsys *s)
{
	return s->k;
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
		pht_setsys_row_free(&s->rows[i]);
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

int
pht_setsys_grow(void **p, size_t *cap, size_t want, size_t elem)
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

int
pht_setsys_ensure_atoms(struct pht_station_setsys *s, size_t n)
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
		size_t i;

		memset(s->saved, 0, s->saved_cap * sizeof(*s->saved));
		for (i = 0; i < s->nrows; i++)
			s->rows[i].taint = 0;
		s->tx_serial = 1;
	}
	s->grew = 0;
	s->w_changed = 0;
	s->tx_clean = s->clean;
	s->checked = 0;
	s->verified = 0;
	s->tx_natoms = s->natoms;
	s->tx_nrows = s->nrows;
	s->nundo = 0;
	s->ntxids = 0;
	return PHT_OK;
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
	qsort(touched, ns, sizeof(*touched), pht_setsys_cmp_u32);
	if (s->natoms + ns + (nfresh > 0) > lim->atoms) {
		r = PHT_ERR_TOO_LARGE;
		goto fail;
	}
	if ((r = pht_setsys_ensure_atoms(s, s->natoms + ns + 1)) != PHT_OK)
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
	struct pht_setsys_row nr;
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
		if ((r = pht_setsys_row_alloc(&nr, (size_t)s->rows[i].n + extra)) != PHT_OK)
			return r;
		memcpy(nr.idx, s->rows[i].idx, s->rows[i].n * sizeof(*nr.idx));
		memcpy(nr.val, s->rows[i].val, s->rows[i].n * sizeof(*nr.val));
		nr.n = s->rows[i].n;
		nr.pivot = s->rows[i].pivot;
		/* new atoms are numbered above every old one, in the order of their parents */
		nr.taint = s->rows[i].taint;
		for (j = 0; j < s->rows[i].n; j++)
			if (s->newid[s->rows[i].idx[j]] != NONE) {
				s->colcnt[s->newid[s->rows[i].idx[j]]]++;
				nr.idx[nr.n] = s->newid[s->rows[i].idx[j]];
				nr.val[nr.n++] = s->rows[i].val[j];
			}
		s->entries += extra;
		if ((r = pht_setsys_replace_counted(s, i, &nr)) != PHT_OK)
			return r;
		if (s->entries > lim->entries)
			return PHT_ERR_TOO_LARGE;
	}
	return PHT_OK;
}

/* Checks the n ids (distinct, some open transaction) and notes them for rollback. */
static int
note_ids(struct pht_station_setsys *s, const uint32_t *rows, size_t n)
{
	uint32_t maxid = 0;
	size_t i;
	int r;

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
	if (pht_setsys_grow((void **)&s->txids, &s->txids_cap, s->ntxids + n,
	    sizeof(*s->txids)) != PHT_OK)
		return PHT_ERR_NOMEM;
	memcpy(s->txids + s->ntxids, rows, n * sizeof(*rows));
	s->ntxids += n;
	return PHT_OK;
}

/*
 * Splits the atoms the set cuts and brings the basis to the new atoms:
 * split columns copied, pivots that became small handed to a large atom
 * of their row, or else their rows joined to W.
 */
static int
resplit(struct pht_station_setsys *s, const uint32_t *rows, size_t n,
    const struct pht_station_setsys_limits *lim)
{
	uint32_t *split = NULL, pr;
	size_t ns = 0, t;
	int r;

	if ((r = split_atoms(s, rows, n, lim, &split, &ns)) != PHT_OK)
		return r;
	r = copy_split_columns(s, split, ns, lim);
	for (t = 0; t < ns; t++)
		s->newid[split[t]] = NONE;
	/* a pivot atom that became small may have to hand its row a large pivot */
	for (t = 0; t < ns && r == PHT_OK; t++)
		if ((pr = s->pivot_row[split[t]]) != NONE && !pht_setsys_large(s, split[t]))
			r = pht_setsys_basis_repivot(s, pr, lim);
	/* then those with no large atom to move to join W */
	for (t = 0; t < ns && r == PHT_OK; t++)
		if ((pr = s->pivot_row[split[t]]) != NONE && !pht_setsys_large(s, split[t])) {
			r = pht_setsys_basis_join_w(s, pr, lim);
			s->w_changed = 1;
		}
	free(split);
	return r;
}

int
pht_station_setsys_add(struct pht_station_setsys *s, const uint32_t *rows,
    size_t n, const struct pht_station_setsys_limits *lim, int *grew)
{
	uint32_t *atoms = NULL, a, nat = 0;
	struct pht_setsys_row nr;
	size_t i;
	int r;

	memset(&nr, 0, sizeof(nr));
	if (grew != NULL)
		*grew = 0;
	if (!s->tx || n == 0)
		return PHT_ERR_INVALID;
	if (pht_setsys_elapsed(&s->tx_t0) > lim->seconds)
		return PHT_ERR_TOO_LARGE;
	if ((r = note_ids(s, rows, n)) != PHT_OK || (r = resplit(s, rows, n, lim)) != PHT_OK)
		return r;
	/* the set's indicator in atom coordinates, reduced by the basis */
	if ((atoms = malloc((n + 1) * sizeof(*atoms))) == NULL)
		return PHT_ERR_NOMEM;
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
	r = pht_setsys_basis_reduce(s, atoms, nat, &nr);
	free(atoms);
	if (r != PHT_OK || nr.n == 0)
		return r;       /* already in the span: nothing changes */
	if ((r = pht_setsys_basis_insert(s, &nr, lim)) == PHT_OK && grew != NULL)
		*grew = 1;
	return r;
}

int
pht_station_setsys_clean(const struct pht_station_setsys *s)
{
	return s->clean;
}

void
pht_station_setsys_distrust(struct pht_station_setsys *s)
{
	s->clean = 0;
	s->tx_clean = 0;
}

void
pht_station_setsys_commit(struct pht_station_setsys *s)
{
	size_t i;

	for (i = 0; i < s->nundo; i++)
		if (s->undo[i].is_row)
			pht_setsys_row_free(&s->undo[i].old);
	/*
	 * Clean if a check showed it; without a check (a replay), only if
	 * nothing new can be determined: the span did not grow in W.
	 */
	if (s->checked)
		s->clean = s->verified;
	else
		s->clean = s->k <= 1 || (s->tx_clean && !(s->grew && s->w_changed));
	s->nundo = 0;
	s->ntxids = 0;
	s->tx = 0;
}

void
pht_station_setsys_rollback(struct pht_station_setsys *s)
{
	struct pht_setsys_undo *u;
	size_t i;
	uint32_t a;

	if (!s->tx)
		return;
	for (i = s->nundo; i-- > 0;) {
		u = &s->undo[i];
		if (u->is_row) {
			pht_setsys_count_cols(s, &s->rows[u->i], -1);
			pht_setsys_row_free(&s->rows[u->i]);
			s->rows[u->i] = u->old;
			pht_setsys_count_cols(s, &s->rows[u->i], 1);
		} else
			s->pivot_row[u->i] = u->old_pivot_row;
	}
	for (i = s->tx_nrows; i < s->nrows; i++) {
		pht_setsys_count_cols(s, &s->rows[i], -1);
		pht_setsys_row_free(&s->rows[i]);
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

void
pht_station_setsys_stats(const struct pht_station_setsys *s,
    struct pht_station_setsys_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	st->atoms = s->natoms;
	st->basis = s->nrows;
	for (i = 0; i < s->nrows; i++)
		st->small_basis += !pht_setsys_large(s, s->rows[i].pivot);
	st->entries = s->entries;
	st->bytes = s->entries * 12 + s->rows_cap * sizeof(*s->rows) + s->ids_cap * 8 +
	    s->atoms_cap * 44;
	st->candidates = s->candidates;
}
