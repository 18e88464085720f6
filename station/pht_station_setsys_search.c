/* pht_station_setsys_search.c — the check: is a union of 1 to k - 1 rows a sum of W rows (a depth-first search over partial sums, guided by the columns they get wrong)? */
#include "pht_station_setsys_int.h"
#include "pht_err.h"

#include <stdlib.h>
#include <string.h>

#define NONE PHT_SETSYS_NONE

/*
 * A union U of fewer than k rows in the span lies in W and is the sum of
 * the W rows at the pivot atoms it holds (each 1 there, 0 at the other
 * pivots). So the search looks for a set T of W rows whose sum is 0 or 1
 * on every other atom and holds fewer than k rows. T grows from a start
 * row by rows of later index (each T is found from its first row), and
 * only by rows that can change a column the partial sum gets wrong (a
 * value other than 0 and 1: T must come to hold a row there), or, when no
 * column is wrong but the sum holds too many rows, a column at 1.
 *
 * When the committed state was clean, a new union is outside the old span,
 * so T holds a tainted row: the W rows are ordered tainted first and only
 * those start. A row that leaves no room for another (its pivot atom
 * brings T to k - 1 rows) ends T: it is tested against the partial sum
 * without being added, stopping at the first column it gets wrong.
 */
struct search {
	struct pht_station_setsys *s;
	const struct pht_station_setsys_limits *lim;
	uint32_t *w;            /* W rows (indices into s->rows), tainted first */
	size_t nw, nstart;      /* the search starts from w[0 .. nstart) */
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
acc_row(struct search *q, const struct pht_setsys_row *r, int sign)
{
	struct pht_station_setsys *s = q->s;
	uint64_t o, v;
	uint32_t j, c;

	for (j = 0; j < r->n; j++) {
		c = r->idx[j];
		o = s->acc[c];
		v = s->acc[c] = sign > 0 ? pht_setsys_fadd(o, r->val[j]) :
		    pht_setsys_fsub(o, r->val[j]);
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

/*
 * Whether T with row r added is a union of fewer than k rows, the partial
 * sum left as it is: the rows it holds, or 0 (r gets a column wrong).
 */
static uint64_t
ends_union(const struct search *q, const struct pht_setsys_row *r)
{
	const struct pht_station_setsys *s = q->s;
	uint64_t o, v, nbad = q->nbad, ones = q->ones, rows;
	uint32_t j, c;

	for (j = 0; j < r->n; j++) {
		if ((c = r->idx[j]) == r->pivot)
			continue;
		o = s->acc[c];
		if ((v = pht_setsys_fadd(o, r->val[j])) > 1)
			return 0;       /* wrong, and no row can follow to mend it */
		if (o == 1)
			ones -= s->size[c];
		else if (o != 0)
			nbad--;
		if (v == 1)
			ones += s->size[c];
	}
	rows = q->sizeT + s->size[r->pivot] + ones;
	return nbad == 0 && rows < (uint64_t)s->k ? rows : 0;
}

/* One more partial sum visited: PHT_ERR_TOO_LARGE past the bounds. */
static int
visit(struct search *q)
{
	struct pht_station_setsys *s = q->s;

	if (++s->candidates > q->lim->candidates ||
	    ((s->candidates & 1023) == 1 && pht_setsys_elapsed(&q->t0) > q->lim->seconds))
		return PHT_ERR_TOO_LARGE;
	return PHT_OK;
}

static int
pool_push(struct search *q, uint32_t v)
{
	if (q->npool == q->pool_cap && pht_setsys_grow((void **)&q->pool, &q->pool_cap,
	    q->npool + 1, sizeof(*q->pool)) != PHT_OK)
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

/*
 * The columns of the partial sum: the wrong one held by the fewest W rows
 * (*bad, NONE if none), and the columns at 1 pushed on the pool.
 */
static int
scan_columns(struct search *q, uint32_t *bad)
{
	struct pht_station_setsys *s = q->s;
	const struct pht_setsys_row *r;
	uint32_t j, c;
	uint64_t v;
	size_t i;
	int rc;

	*bad = NONE;
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
				if ((rc = pool_push(q, c)) != PHT_OK)
					return rc;
			} else if (v != 0 && (*bad == NONE || q->cstart[c + 1] - q->cstart[c] <
			    q->cstart[*bad + 1] - q->cstart[*bad]))
				*bad = c;
		}
	}
	return PHT_OK;
}

static int
dfs(struct search *q)
{
	struct pht_station_setsys *s = q->s;
	const struct pht_setsys_row *r;
	size_t i, base = q->npool, end;
	uint32_t bad, wi;
	uint64_t room, rows;
	int rc;

	if ((rc = visit(q)) != PHT_OK)
		return rc;
	if (q->nbad == 0 && q->sizeT + q->ones < (uint64_t)s->k) {
		q->found = q->sizeT + q->ones;
		return PHT_ERR_DISCLOSURE;
	}
	if (q->sizeT + 1 >= (uint64_t)s->k)
		return PHT_OK;  /* no room for another row */
	if ((rc = scan_columns(q, &bad)) != PHT_OK)
		return rc;
	end = q->npool;
	if (pht_setsys_grow((void **)&q->T, &q->T_cap, q->nT + 1, sizeof(*q->T)) != PHT_OK)
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
		wi = q->pool[i];
		r = &s->rows[q->w[wi]];
		if (q->sizeT + s->size[r->pivot] + 1 >= (uint64_t)s->k) {
			/* no room after it: T ends with it or not at all */
			if ((rc = visit(q)) != PHT_OK)
				return rc;
			if ((rows = ends_union(q, r)) > 0) {
				q->found = rows;
				return PHT_ERR_DISCLOSURE;
			}
			continue;
		}
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

/* The W rows (tainted first when the committed state was clean) and their columns. */
static int
setup(struct search *q)
{
	struct pht_station_setsys *s = q->s;
	const struct pht_setsys_row *r;
	uint32_t *fill = NULL, j, c;
	size_t i, pass;

	if ((q->w = malloc((s->nrows + 1) * sizeof(*q->w))) == NULL ||
	    (q->cstart = calloc(s->natoms + 2, sizeof(*q->cstart))) == NULL)
		return PHT_ERR_NOMEM;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < s->nrows; i++)
			if (!pht_setsys_large(s, s->rows[i].pivot) && (!s->tx_clean ||
			    (s->rows[i].taint == s->tx_serial) == (pass == 0)))
				q->w[q->nw++] = (uint32_t)i;
		if (pass == 0)
			q->nstart = q->nw;
		if (!s->tx_clean)
			break;
	}
	if (q->nstart == 0)
		return PHT_OK;
	/* CSR of the W rows' non-pivot atoms */
	for (i = 0; i < q->nw; i++)
		for (r = &s->rows[q->w[i]], j = 0; j < r->n; j++)
			if ((c = r->idx[j]) != r->pivot)
				q->cstart[c + 1]++;
	for (i = 0; i < s->natoms; i++)
		q->cstart[i + 1] += q->cstart[i];
	q->cstart[s->natoms + 1] = q->cstart[s->natoms];
	if ((q->clist = malloc(((size_t)q->cstart[s->natoms] + 1) * sizeof(*q->clist))) == NULL ||
	    (q->rstamp = calloc(q->nw + 1, sizeof(*q->rstamp))) == NULL ||
	    (fill = malloc((s->natoms + 1) * sizeof(*fill))) == NULL)
		return PHT_ERR_NOMEM;
	memcpy(fill, q->cstart, (s->natoms + 1) * sizeof(*fill));
	for (i = 0; i < q->nw; i++)
		for (r = &s->rows[q->w[i]], j = 0; j < r->n; j++)
			if ((c = r->idx[j]) != r->pivot)
				q->clist[fill[c]++] = (uint32_t)i;
	free(fill);
	return PHT_OK;
}

int
pht_station_setsys_check(struct pht_station_setsys *s,
    const struct pht_station_setsys_limits *lim, uint64_t *rows)
{
	struct search q;
	const struct pht_setsys_row *w0;
	int r = PHT_OK;

	*rows = 0;
	s->candidates = 0;
	s->checked = 1;
	s->verified = 0;
	/*
	 * Every small union lies in W: if W did not change (the new vectors
	 * took large pivots; splits keep W as a set of row vectors), nothing
	 * new is determined.
	 */
	if (s->k <= 1 || !s->grew || !s->w_changed) {
		s->verified = s->k <= 1 || s->tx_clean;
		return PHT_OK;
	}
	memset(&q, 0, sizeof(q));
	q.s = s;
	q.lim = lim;
	q.t0 = s->tx_t0;        /* one time bound for the whole release */
	if ((r = setup(&q)) != PHT_OK)
		goto out;
	for (q.start = 0; q.start < q.nstart && r == PHT_OK; q.start++) {
		w0 = &s->rows[q.w[q.start]];
		if (pht_setsys_grow((void **)&q.T, &q.T_cap, 1, sizeof(*q.T)) != PHT_OK) {
			r = PHT_ERR_NOMEM;
			break;
		}
		acc_row(&q, w0, 1);
		q.T[0] = (uint32_t)q.start;
		q.nT = 1;
		q.sizeT = s->size[w0->pivot];
		r = dfs(&q);
		acc_row(&q, w0, -1);
	}
	if (r == PHT_ERR_DISCLOSURE)
		*rows = q.found;
	s->verified = r == PHT_OK;
out:
	free(q.w);
	free(q.cstart);
	free(q.clist);
	free(q.rstamp);
	free(q.pool);
	free(q.T);
	return r;
}
