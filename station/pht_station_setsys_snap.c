/* pht_station_setsys_snap.c — the set system as bytes and back: atoms, basis and whether it was shown clean, for the release auditor's snapshot. */
#include "pht_station_setsys_int.h"
#include "pht_buf.h"
#include "pht_err.h"

#include <stdlib.h>
#include <string.h>

#define NONE PHT_SETSYS_NONE
#define ORDER 0x01020304u       /* the byte order the arrays were written in */

/*
 * Layout (the host's byte order, marked by ORDER; another order does not
 * load): u32 ORDER, u32 clean, u64 k, u64 nids, u32 atom_of[nids],
 * u64 natoms, u64 size[natoms], u64 nrows, then per row u32 n, u32 pivot,
 * u32 idx[n], u64 val[n]. Everything else (pivots, column counts,
 * entries) follows from these and is rebuilt.
 */
int
pht_station_setsys_save(const struct pht_station_setsys *s, struct pht_buf *out)
{
	uint32_t h[2] = {ORDER, (uint32_t)s->clean};
	uint64_t v;
	size_t i;
	int r;

	if (s->tx)
		return PHT_ERR_INVALID;
	v = (uint64_t)s->k;
	if ((r = pht_buf_put(out, h, sizeof(h))) != PHT_OK ||
	    (r = pht_buf_put(out, &v, 8)) != PHT_OK)
		return r;
	v = s->nids;
	if ((r = pht_buf_put(out, &v, 8)) != PHT_OK ||
	    (r = pht_buf_put(out, s->atom_of, s->nids * sizeof(*s->atom_of))) != PHT_OK)
		return r;
	v = s->natoms;
	if ((r = pht_buf_put(out, &v, 8)) != PHT_OK ||
	    (r = pht_buf_put(out, s->size, s->natoms * sizeof(*s->size))) != PHT_OK)
		return r;
	v = s->nrows;
	if ((r = pht_buf_put(out, &v, 8)) != PHT_OK)
		return r;
	for (i = 0; i < s->nrows; i++) {
		h[0] = s->rows[i].n;
		h[1] = s->rows[i].pivot;
		if ((r = pht_buf_put(out, h, sizeof(h))) != PHT_OK ||
		    (r = pht_buf_put(out, s->rows[i].idx, h[0] * sizeof(uint32_t))) != PHT_OK ||
		    (r = pht_buf_put(out, s->rows[i].val, h[0] * sizeof(uint64_t))) != PHT_OK)
			return r;
	}
	return PHT_OK;
}

/* n counts of elem bytes from buf into a new array (*p), bounded by what is left. */
static int
get_array(struct pht_buf *buf, uint64_t n, size_t elem, void **p)
{
	*p = NULL;
	if (n > pht_buf_remaining(buf) / elem)
		return PHT_ERR_MALFORMED;
	if ((*p = malloc((size_t)n * elem + 1)) == NULL)
		return PHT_ERR_NOMEM;
	return pht_buf_get(buf, *p, (size_t)n * elem) == PHT_OK ? PHT_OK : PHT_ERR_MALFORMED;
}

/* Every invariant a saved state must meet (besides W's, which follow from the sets). */
static int
check_loaded(struct pht_station_setsys *s)
{
	uint64_t *count;
	size_t i, j, a;
	const struct pht_setsys_row *r;

	if ((count = calloc(s->natoms + 1, sizeof(*count))) == NULL)
		return PHT_ERR_NOMEM;
	for (i = 0; i < s->nids; i++)
		if (s->atom_of[i] != NONE && (s->atom_of[i] >= s->natoms ||
		    count[s->atom_of[i]]++ == UINT64_MAX))
			goto bad;
	for (a = 0; a < s->natoms; a++)
		if (count[a] != s->size[a] || count[a] == 0)
			goto bad;
	free(count);
	for (i = 0; i < s->nrows; i++) {
		r = &s->rows[i];
		if (r->n == 0 || r->pivot >= s->natoms || s->pivot_row[r->pivot] != NONE ||
		    pht_setsys_row_at(r, r->pivot) != 1)
			return PHT_ERR_MALFORMED;
		for (j = 0; j < r->n; j++)
			if (r->idx[j] >= s->natoms || (j > 0 && r->idx[j] <= r->idx[j - 1]) ||
			    r->val[j] == 0 || r->val[j] >= PHT_SETSYS_P)
				return PHT_ERR_MALFORMED;
		s->pivot_row[r->pivot] = (uint32_t)i;
		pht_setsys_count_cols(s, r, 1);
	}
	/*
	 * A W row is 0 on large atoms and at other pivots; a row with a large
	 * pivot is 0 at other large pivots.
	 */
	for (i = 0; i < s->nrows; i++) {
		int wrow = !pht_setsys_large(s, s->rows[i].pivot);

		r = &s->rows[i];
		for (j = 0; j < r->n; j++)
			if (r->idx[j] != r->pivot && ((wrow && (pht_setsys_large(s, r->idx[j]) ||
			    s->pivot_row[r->idx[j]] != NONE)) || (!wrow &&
			    pht_setsys_large(s, r->idx[j]) && s->pivot_row[r->idx[j]] != NONE)))
				return PHT_ERR_MALFORMED;
	}
	return PHT_OK;
bad:
	free(count);
	return PHT_ERR_MALFORMED;
}

int
pht_station_setsys_load(struct pht_buf *buf, size_t trailer, int64_t k,
    const struct pht_station_setsys_limits *lim, struct pht_station_setsys **out)
{
	struct pht_station_setsys *s;
	uint32_t h[2];
	uint64_t v, n;
	size_t i;
	int r = PHT_ERR_MALFORMED;

	*out = NULL;
	if ((s = pht_station_setsys_new(k)) == NULL)
		return PHT_ERR_NOMEM;
	if (pht_buf_get(buf, h, sizeof(h)) != PHT_OK || h[0] != ORDER || h[1] > 1 ||
	    pht_buf_get(buf, &v, 8) != PHT_OK || v != (uint64_t)k)
		goto out;
	s->clean = (int)h[1];
	if (pht_buf_get(buf, &n, 8) != PHT_OK || n > UINT32_MAX ||
	    (r = get_array(buf, n, sizeof(uint32_t), (void **)&s->atom_of)) != PHT_OK)
		goto out;
	s->nids = s->ids_cap = (size_t)n;
	r = PHT_ERR_MALFORMED;
	if ((s->idstamp = calloc(s->nids + 1, sizeof(*s->idstamp))) == NULL) {
		r = PHT_ERR_NOMEM;
		goto out;
	}
	if (pht_buf_get(buf, &n, 8) != PHT_OK)
		goto out;
	if (n > lim->atoms) {
		r = PHT_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = pht_setsys_ensure_atoms(s, (size_t)n + 1)) != PHT_OK ||
	    (r = n > pht_buf_remaining(buf) / 8 ? PHT_ERR_MALFORMED :
	    pht_buf_get(buf, s->size, (size_t)n * 8)) != PHT_OK)
		goto out;
	s->natoms = (size_t)n;
	r = PHT_ERR_MALFORMED;
	if (pht_buf_get(buf, &n, 8) != PHT_OK)
		goto out;
	if (n > lim->basis) {
		r = PHT_ERR_TOO_LARGE;
		goto out;
	}
	if (n > pht_buf_remaining(buf) / 8 || (r = pht_setsys_grow((void **)&s->rows,
	    &s->rows_cap, (size_t)n + 1, sizeof(*s->rows))) != PHT_OK)
		goto out;
	for (i = 0; i < n; i++) {
		struct pht_setsys_row *row = &s->rows[i];

		r = PHT_ERR_MALFORMED;
		if (pht_buf_get(buf, h, sizeof(h)) != PHT_OK)
			goto out;
		if ((v = s->entries + h[0]) > lim->entries) {
			r = PHT_ERR_TOO_LARGE;
			goto out;
		}
		s->entries = v;
		memset(row, 0, sizeof(*row));
		s->nrows = i + 1;
		row->pivot = h[1];
		if ((r = get_array(buf, h[0], sizeof(uint32_t), (void **)&row->idx)) != PHT_OK ||
		    (r = get_array(buf, h[0], sizeof(uint64_t), (void **)&row->val)) != PHT_OK)
			goto out;
		row->n = h[0];
	}
	s->entries = 0;         /* counted again with the columns */
	r = pht_buf_remaining(buf) != trailer ? PHT_ERR_MALFORMED : check_loaded(s);
out:
	if (r != PHT_OK)
		pht_station_setsys_free(s);
	else
		*out = s;
	return r;
}
