/* pht_train_data_group.c — grouping: group ids, group_by and crosstab with their suppression of small cells. */
#include "pht_train_data_int.h"

/* ---- grouping: each row of a view mapped to a group number ---- */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static inline int64_t
ival(const struct pht_column *c, size_t r)
{
	switch (c->type) {
	case PHT_COL_INTEGER:
		return c->v.i64[r];
	case PHT_COL_BOOLEAN:
		return c->v.u8[r];
	default:
		return c->v.i32[r];
	}
}

/*
 * Group ids of a category (i32 codes) or boolean (u8) column: the code, or
 * NO_GROUP when missing or out of range; the number of those. Specialised
 * like the other kernels.
 */
static inline __attribute__((always_inline)) size_t
code_gid_kernel(const void *arr, const uint8_t *miss, const uint32_t *sel, size_t n,
    int has_sel, int has_miss, int is_u8, uint32_t ngroups, uint32_t *gid)
{
	size_t i, r, nmiss = 0;
	uint32_t x;
	int bad;

	for (i = 0; i < n; i++) {
		r = has_sel ? sel[i] : i;
		x = is_u8 ? ((const uint8_t *)arr)[r] : (uint32_t)((const int32_t *)arr)[r];
		bad = x >= ngroups;
		if (has_miss)
			bad |= (miss[r >> 3] >> (r & 7)) & 1;
		gid[i] = bad ? NO_GROUP : x;
		nmiss += (size_t)bad;
	}
	return nmiss;
}

static size_t
code_gid(const struct pht_column *c, const struct view *v, uint32_t ngroups, uint32_t *gid)
{
	size_t m = 0;

	if (c->type == PHT_COL_BOOLEAN)
		SPECIALISE_RET(m, code_gid_kernel, c->v.u8, c->missing, v, 1, ngroups, gid);
	else
		SPECIALISE_RET(m, code_gid_kernel, c->v.i32, c->missing, v, 0, ngroups, gid);
	return m;
}

void
train_data_group_rows(lua_State *L, const struct view *v, const struct pht_column *c,
    const char *what, struct grouping *g)
{
	size_t i, r, n = 0, lo, hi, mid;
	int64_t x;

	memset(g, 0, sizeof(*g));
	g->col = c;
	g->gid = train_data_scratch(L, v->n, sizeof(uint32_t));
	if (c->type == PHT_COL_NUMBER)
		luaL_error(L, "%s: column %s is a number column; use a category, boolean, "
		    "integer or date column", what, c->name);
	if (c->type == PHT_COL_INTEGER || c->type == PHT_COL_DATE) {
		g->keys = train_data_scratch(L, v->n, sizeof(int64_t));
		for (i = 0; i < v->n; i++) {
			r = vrow(v, i);
			if (!is_missing(c->missing, r))
				g->keys[n++] = ival(c, r);
		}
		qsort(g->keys, n, sizeof(int64_t), cmp_i64);
		for (i = 0, g->ngroups = 0; i < n; i++)
			if (g->ngroups == 0 || g->keys[g->ngroups - 1] != g->keys[i])
				g->keys[g->ngroups++] = g->keys[i];
	} else {
		lua_pushnil(L);
		g->ngroups = c->type == PHT_COL_BOOLEAN ? 2 : c->nlevels;
		if (g->ngroups < NO_GROUP) {
			g->nmissing = code_gid(c, v, (uint32_t)g->ngroups, g->gid);
			return;
		}
	}
	for (i = 0; i < v->n; i++) {
		r = vrow(v, i);
		if (is_missing(c->missing, r)) {
			g->gid[i] = NO_GROUP;
			g->nmissing++;
			continue;
		}
		x = ival(c, r);
		if (g->keys != NULL) {
			lo = 0;
			hi = g->ngroups;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				if (g->keys[mid] <= x)
					lo = mid;
				else
					hi = mid;
			}
			g->gid[i] = (uint32_t)lo;
		} else if (x >= 0 && (size_t)x < g->ngroups)
			g->gid[i] = (uint32_t)x;
		else {
			g->gid[i] = NO_GROUP;
			g->nmissing++;
		}
	}
}

void
train_data_push_group_key(lua_State *L, const struct grouping *g, size_t j)
{
	switch (g->col->type) {
	case PHT_COL_CATEGORY:
		lua_pushstring(L, g->col->levels[j]);
		break;
	case PHT_COL_BOOLEAN:
		lua_pushboolean(L, j != 0);
		break;
	case PHT_COL_DATE:
		train_data_push_date(L, g->keys[j]);
		break;
	default:
		lua_pushinteger(L, g->keys[j]);
		break;
	}
}

void
train_data_push_folded(lua_State *L)
{
	lua_createtable(L, 0, 1);
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "suppressed");
}

/*
 * Pushes {key=..., n=..., data=view} or, when suppressed, {key=...,
 * suppressed=true} (with missing=true instead of a key for the rows
 * missing the column). Returns the group's view, to be filled by the
 * caller, or NULL if suppressed.
 */
static struct view *
push_group(lua_State *L, const struct view *v, const struct grouping *g,
    size_t j, size_t count, int suppressed)
{
	struct view *nv;

	lua_createtable(L, 0, 3);
	if (j == g->ngroups) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "missing");
	} else {
		train_data_push_group_key(L, g, j);
		lua_setfield(L, -2, "key");
	}
	if (suppressed) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "suppressed");
		return NULL;
	}
	lua_pushinteger(L, (lua_Integer)count);
	lua_setfield(L, -2, "n");
	nv = train_data_new_view(L, v->ds, count, 0);
	nv->marked = v->marked;
	train_data_inherit_with(L, v, nv);
	lua_setfield(L, -2, "data");
	return nv;
}

void
train_data_note_groups(lua_State *L, struct view *v, const struct grouping *g,
    const uint8_t *gid8, const size_t *counts, const int *released)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	size_t nslots = g->ngroups + 1, i, j, *off, slot;
	uint32_t *rows;
	int r;

	if (c->rowsets == NULL || c->ds != v->ds)
		return;
	if (gid8 != NULL) {
		/* one pass per group list, no gathering, when the rows ascend */
		if (v->bits != NULL)
			r = pht_train_rowsets_add_groups_bits(c->rowsets, v->bits, v->n, gid8,
			    nslots, released);
		else
			r = pht_train_rowsets_add_groups(c->rowsets, v->all ? NULL : v->sel, v->n,
			    gid8, nslots, released);
		if (r == PHT_ERR_NOMEM)
			pht_train_lua_fatal(L, PHT_ERR_NOMEM, "out of memory recording row sets");
		if (r == PHT_OK)
			return;
	}
	/* one by one: a bitmap selection (aggregate_by's self, argument 1) as sel */
	train_data_materialize(L, 1, v);
	off = train_data_scratch(L, nslots, sizeof(size_t));
	rows = train_data_scratch(L, v->n, sizeof(uint32_t));
	for (j = 0, i = 0; j < nslots; j++) {
		off[j] = i;
		i += released[j] ? counts[j] : 0;
	}
	for (i = 0; i < v->n; i++) {
		if (gid8 != NULL)
			slot = gid8[i];
		else
			slot = g->gid[i] == NO_GROUP ? g->ngroups : g->gid[i];
		if (released[slot])
			rows[off[slot]++] = (uint32_t)vrow(v, i);
	}
	for (j = 0; j < nslots; j++) {
		if (!released[j] || counts[j] == 0)
			continue;
		train_data_record_set(L, rows + off[j] - counts[j], counts[j], 0);
	}
	lua_pop(L, 2);
}

void
train_data_suppress_groups(const struct grouping *g, const size_t *counts, int64_t k, uint8_t *sup,
    int *released)
{
	size_t j, nslots = g->ngroups + 1;

	for (j = 0; j < nslots; j++)
		sup[j] = (uint8_t)is_small(counts[j], k);
	pht_train_kernel_complement(counts, sup, nslots, 0, k);
	if (released != NULL)
		for (j = 0; j < nslots; j++)
			released[j] = !sup[j] && (j < g->ngroups || counts[j] > 0);
}

int
train_data_view_group_by(lua_State *L)
{
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	struct view *v = train_data_check_view(L);
	const struct pht_column *c = train_data_find_col(L, v, 2);
	struct grouping g;
	struct view **views;
	size_t *counts, *fill, i, j, slot, nslots, nfolded = 0;
	uint8_t *sup;
	int *released;
	lua_Integer idx = 0;

	lua_settop(L, 2);
	train_data_guard_rows(L, v->n);
	train_data_mark_rows(L, v);
	train_data_note_rows(L, v);
	train_data_group_rows(L, v, c, "group_by", &g);
	if (g.ngroups > GROUPS_MAX)
		return luaL_error(L, "group_by: column %s has more than %d distinct values",
		    c->name, GROUPS_MAX);
	/* Slot ngroups holds the rows missing the column. */
	nslots = g.ngroups + 1;
	counts = train_data_scratch(L, nslots, sizeof(size_t));
	fill = train_data_scratch(L, nslots, sizeof(size_t));
	views = train_data_scratch(L, nslots, sizeof(struct view *));
	memset(counts, 0, nslots * sizeof(size_t));
	memset(fill, 0, nslots * sizeof(size_t));
	for (i = 0; i < v->n; i++)
		counts[g.gid[i] == NO_GROUP ? g.ngroups : g.gid[i]]++;
	sup = train_data_scratch(L, nslots, 1);
	released = train_data_scratch(L, nslots, sizeof(int));
	train_data_suppress_groups(&g, counts, ctx->k, sup, released);
	/* each released group's n leaves: its rows are a set behind the output */
	train_data_note_groups(L, v, &g, NULL, counts, released);
	lua_createtable(L, (int)nslots, 0);
	for (j = 0; j < nslots; j++) {
		views[j] = NULL;
		if (j < g.ngroups && folds_small_keys(&g) && is_small(counts[j], ctx->k)) {
			nfolded++;
			continue;
		}
		if (j == g.ngroups && nfolded > 0) {
			train_data_push_folded(L);
			lua_rawseti(L, -2, ++idx);
		}
		if (j == g.ngroups && counts[j] == 0)
			break;
		views[j] = push_group(L, v, &g, j, counts[j], sup[j]);
		lua_rawseti(L, -2, ++idx);
	}
	for (i = 0; i < v->n; i++) {
		slot = g.gid[i] == NO_GROUP ? g.ngroups : g.gid[i];
		if (views[slot] != NULL)
			views[slot]->sel[fill[slot]++] = (uint32_t)vrow(v, i);
	}
	return 1;
}

/* ---- crosstab ---- */

/*
 * The lines (rows or columns) of a crosstab over grouping g: each group
 * its own line, in group order, except that (integer and date keys, as in
 * group_by) the groups of 0 < n < k rows of the view share one last line,
 * shown as {suppressed = true}. count[j] is group j's rows in the view.
 * Fills line[j] for every group; returns the number of lines, *folded set
 * when the last one is the shared line.
 */
static size_t
crosstab_lines(const struct grouping *g, const size_t *count, int64_t k, uint32_t *line,
    int *folded)
{
	size_t j, n = 0, nsmall = 0;

	for (j = 0; j < g->ngroups; j++)
		if (folds_small_keys(g) && is_small(count[j], k))
			nsmall++;
		else
			line[j] = (uint32_t)n++;
	*folded = nsmall > 0;
	if (*folded)
		for (j = 0; j < g->ngroups; j++)
			if (is_small(count[j], k))
				line[j] = (uint32_t)n;
	return n + (size_t)*folded;
}

/* Pushes the keys of the lines as a sequence ({suppressed = true} for a shared line). */
static void
push_lines(lua_State *L, const struct grouping *g, const size_t *count, int64_t k,
    size_t nlines, int folded)
{
	size_t j;
	lua_Integer idx = 0;

	lua_createtable(L, (int)nlines, 0);
	for (j = 0; j < g->ngroups; j++) {
		if (folds_small_keys(g) && is_small(count[j], k))
			continue;
		train_data_push_group_key(L, g, j);
		lua_rawseti(L, -2, ++idx);
	}
	if (folded) {
		train_data_push_folded(L);
		lua_rawseti(L, -2, ++idx);
	}
}

/*
 * The smallest non-zero released cell among n cells from start, step
 * apart (the first on a tie), or SIZE_MAX when there is none.
 */
static size_t
smallest_released(const size_t *cnt, const uint8_t *sup, size_t start, size_t step, size_t n)
{
	size_t t, c, best = SIZE_MAX;

	for (t = 0; t < n; t++) {
		c = start + t * step;
		if (!sup[c] && cnt[c] > 0 && (best == SIZE_MAX || cnt[c] < cnt[best]))
			best = c;
	}
	return best;
}

/*
 * Complementary suppression of an nr x nc table of counts cnt (row-major)
 * whose primarily suppressed cells are set in sup. A line's (row's or
 * column's) total, from group_by say, minus its released cells is the
 * union of its suppressed cells and of its rows missing the other column
 * (hide[l], never released: a cell like the others); the view's rows
 * minus the released cells, the union of every suppressed cell and of the
 * rows missing either column (hide_all). While one of these unions holds
 * 0 < rows < k, or a line has exactly one suppressed cell and no hidden
 * rows (the cell would be determined by the line alone, then usable in
 * the other line it is in), the
 * smallest non-zero released cell of that line (of the table, for the
 * view's) is suppressed too. A line with no non-zero
 * released cell left is left so (the line's total is then that union
 * itself, which group_by suppresses). Lines wait in a queue (rows
 * 0..nr-1, columns nr..nr+nc-1), each at most once, and are checked again
 * when one of their cells is suppressed; the table's union after the
 * queue is empty. Scratch: u (the unions) and nu (their suppressed cells)
 * and queue of nr + nc entries, queued of nr + nc bytes.
 * What lines alone cannot see (a suppressed cell determined through a
 * chain of lines, each with two or more) the release auditor withholds.
 */
static void
complementary_suppress(const size_t *cnt, uint8_t *sup, size_t nr, size_t nc,
    const size_t *hide, size_t hide_all, int64_t k, size_t *u, size_t *nu, uint32_t *queue,
    uint8_t *queued)
{
	size_t nl = nr + nc, head = 0, len, l, best, i, j, all = hide_all;

	for (l = 0; l < nl; l++) {
		u[l] = hide[l];
		nu[l] = 0;
	}
	for (i = 0; i < nr; i++)
		for (j = 0; j < nc; j++)
			if (sup[i * nc + j]) {
				u[i] += cnt[i * nc + j];
				u[nr + j] += cnt[i * nc + j];
				nu[i]++;
				nu[nr + j]++;
				all += cnt[i * nc + j];
			}
	for (l = 0; l < nl; l++) {
		queue[l] = (uint32_t)l;
		queued[l] = 1;
	}
	len = nl;
	for (;;) {
		if (len == 0) {
			if (!is_small(all, k) ||
			    (best = smallest_released(cnt, sup, 0, 1, nr * nc)) == SIZE_MAX)
				break;
		} else {
			l = queue[head];
			head = (head + 1) % nl;
			len--;
			queued[l] = 0;
			if (!is_small(u[l], k) && !(nu[l] == 1 && hide[l] == 0))
				continue;
			best = l < nr ? smallest_released(cnt, sup, l * nc, 1, nc) :
			    smallest_released(cnt, sup, l - nr, nc, nr);
			if (best == SIZE_MAX)
				continue;
		}
		sup[best] = 1;
		i = best / nc;
		j = best % nc;
		u[i] += cnt[best];
		u[nr + j] += cnt[best];
		nu[i]++;
		nu[nr + j]++;
		all += cnt[best];
		if (!queued[i]) {
			queue[(head + len++) % nl] = (uint32_t)i;
			queued[i] = 1;
		}
		if (!queued[nr + j]) {
			queue[(head + len++) % nl] = (uint32_t)(nr + j);
			queued[nr + j] = 1;
		}
	}
}

/*
 * Records the rows of each released, non-zero cell as a row set behind
 * the output (cell[i]: view position i's cell, SIZE_MAX for rows missing
 * either column). Suppressed cells and the view as a whole are not
 * recorded: only the released counts leave.
 */
static void
note_cells(lua_State *L, const struct view *v, const size_t *cell, const size_t *cnt,
    const uint8_t *sup, size_t ncells)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	size_t *off, i, j, at;
	uint32_t *rows;

	if (c->rowsets == NULL || c->ds != v->ds)
		return;
	off = train_data_scratch(L, ncells, sizeof(size_t));
	rows = train_data_scratch(L, v->n, sizeof(uint32_t));
	for (j = 0, at = 0; j < ncells; j++) {
		off[j] = at;
		at += sup[j] ? 0 : cnt[j];
	}
	for (i = 0; i < v->n; i++)
		if (cell[i] != SIZE_MAX && !sup[cell[i]])
			rows[off[cell[i]]++] = (uint32_t)vrow(v, i);
	for (j = 0; j < ncells; j++) {
		if (sup[j] || cnt[j] == 0)
			continue;
		train_data_record_set(L, rows + off[j] - cnt[j], cnt[j], 0);
	}
	lua_pop(L, 2);
}

int
train_data_view_crosstab(lua_State *L)
{
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	struct view *v = train_data_check_view(L);
	const struct pht_column *ca = train_data_find_col(L, v, 2), *cb = train_data_find_col(L, v, 3);
	struct grouping ga, gb;
	size_t *cells, *acount, *bcount, *cell, *hide, *usum, i, j, nr, nc, ncells, nhidden = 0;
	uint32_t *aline, *bline, *queue;
	uint8_t *sup, *queued;
	int afold, bfold;

	lua_settop(L, 3);
	train_data_guard_rows(L, v->n);
	train_data_mark_rows(L, v);
	train_data_group_rows(L, v, ca, "crosstab", &ga);                        /* 4, 5 */
	train_data_group_rows(L, v, cb, "crosstab", &gb);                        /* 6, 7 */
	if (ga.ngroups > GROUPS_MAX || gb.ngroups > GROUPS_MAX ||
	    (gb.ngroups > 0 && ga.ngroups > GROUPS_MAX / gb.ngroups))
		return luaL_error(L, "crosstab: more than %d cells", GROUPS_MAX);
	acount = train_data_scratch(L, ga.ngroups, sizeof(size_t));
	bcount = train_data_scratch(L, gb.ngroups, sizeof(size_t));
	aline = train_data_scratch(L, ga.ngroups, sizeof(uint32_t));
	bline = train_data_scratch(L, gb.ngroups, sizeof(uint32_t));
	memset(acount, 0, ga.ngroups * sizeof(size_t));
	memset(bcount, 0, gb.ngroups * sizeof(size_t));
	for (i = 0; i < v->n; i++) {
		if (ga.gid[i] != NO_GROUP)
			acount[ga.gid[i]]++;
		if (gb.gid[i] != NO_GROUP)
			bcount[gb.gid[i]]++;
	}
	nr = crosstab_lines(&ga, acount, ctx->k, aline, &afold);
	nc = crosstab_lines(&gb, bcount, ctx->k, bline, &bfold);
	ncells = nr * nc;
	cells = train_data_scratch(L, ncells, sizeof(size_t));
	sup = train_data_scratch(L, ncells, 1);
	cell = train_data_scratch(L, v->n, sizeof(size_t));
	hide = train_data_scratch(L, nr + nc, sizeof(size_t));
	usum = train_data_scratch(L, 2 * (nr + nc), sizeof(size_t));
	queue = train_data_scratch(L, nr + nc, sizeof(uint32_t));
	queued = train_data_scratch(L, nr + nc, 1);
	memset(cells, 0, ncells * sizeof(size_t));
	memset(hide, 0, (nr + nc) * sizeof(size_t));
	for (i = 0; i < v->n; i++) {
		cell[i] = SIZE_MAX;
		if (ga.gid[i] != NO_GROUP && gb.gid[i] != NO_GROUP) {
			cell[i] = (size_t)aline[ga.gid[i]] * nc + bline[gb.gid[i]];
			cells[cell[i]]++;
			continue;
		}
		/* a row missing b is hidden in its a line, and the other way round */
		if (ga.gid[i] != NO_GROUP)
			hide[aline[ga.gid[i]]]++;
		if (gb.gid[i] != NO_GROUP)
			hide[nr + bline[gb.gid[i]]]++;
		nhidden++;
	}
	for (j = 0; j < ncells; j++)
		sup[j] = (uint8_t)is_small(cells[j], ctx->k);
	complementary_suppress(cells, sup, nr, nc, hide, nhidden, ctx->k, usum, usum + nr + nc,
	    queue, queued);
	note_cells(L, v, cell, cells, sup, ncells);
	lua_createtable(L, 0, 3);
	push_lines(L, &ga, acount, ctx->k, nr, afold);
	lua_setfield(L, -2, "rows");
	push_lines(L, &gb, bcount, ctx->k, nc, bfold);
	lua_setfield(L, -2, "cols");
	lua_createtable(L, (int)nr, 0);
	for (i = 0; i < nr; i++) {
		lua_createtable(L, (int)nc, 0);
		for (j = 0; j < nc; j++) {
			if (sup[i * nc + j]) {
				lua_createtable(L, 0, 1);
				lua_pushboolean(L, 1);
				lua_setfield(L, -2, "suppressed");
			} else
				lua_pushinteger(L, (lua_Integer)cells[i * nc + j]);
			lua_rawseti(L, -2, (lua_Integer)j + 1);
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "counts");
	return 1;
}
