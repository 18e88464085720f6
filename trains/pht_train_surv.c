/* pht_train_surv.c — the Kaplan–Meier kernel of the data API: a station's released step table on the station's time grid. */
#include "pht_train_surv.h"
#include "pht_train.h"
#include "pht_train_data.h"
#include "pht_train_kernel.h"
#include "pht_train_lua.h"
#include "pht_err.h"

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One complete case: its group key, its time on the grid, its row and whether it is an event. */
struct kmrow {
	int64_t key;            /* category code, boolean 0/1, integer value; 0 without a group */
	double t;               /* ceil(time / w) * w */
	uint32_t row;
	uint8_t event;
};

/* One released step: grid time, events, censorings, its rows [a, b) of the sorted cases. */
struct kmstep {
	double t;
	size_t d, c, a, b;
};

/* A released or suppressed group: its cases [a, b) and its steps [s, e) of the step list. */
struct kmgroup {
	int64_t key;
	size_t a, b, s, e;
	int released;
};

static int
kmrow_cmp(const void *pa, const void *pb)
{
	const struct kmrow *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

/*
 * The grid the kernel releases on: w = max(res, interval) rounded up to
 * a multiple of res (interval <= 0: none asked). A width within 1e-9 of a
 * multiple is that multiple, so an interval the resolution divides is
 * used exactly as given (the times then match km.lua's K.grid).
 */
static double
km_grid(double res, double interval)
{
	double w = interval > res ? interval : res, q = w / res, qi = nearbyint(q);

	if (fabs(q - qi) <= 1e-9 * qi)
		return w;
	return ceil(q) * res;
}

/* Pushes x as an integer when it is a whole number Lua would keep exactly, else as a float. */
static void
push_time(lua_State *L, double x)
{
	if (x == floor(x) && fabs(x) < 9007199254740992.0)
		lua_pushinteger(L, (lua_Integer)x);
	else
		lua_pushnumber(L, x);
}

/* Pushes the group's label as km.lua's label(): a level name, "true"/"false", the integer. */
static void
push_label(lua_State *L, const struct pht_column *g, int64_t key)
{
	if (g->type == PHT_COL_CATEGORY)
		lua_pushstring(L, g->levels[key]);
	else if (g->type == PHT_COL_BOOLEAN)
		lua_pushstring(L, key ? "true" : "false");
	else
		lua_pushfstring(L, "%I", (lua_Integer)key);
}

/* km.lua's order of a group: the level's rank (1-based), true 1, false 0, the integer. */
static void
push_order(lua_State *L, const struct pht_column *g, int64_t key)
{
	lua_pushinteger(L, (lua_Integer)(g->type == PHT_COL_CATEGORY ? key + 1 : key));
}

/*
 * args[field], a finite number > 0 (min 0) or >= min (min > 0) when
 * given; 0 when absent.
 */
static double
num_arg(lua_State *L, const char *fn, const char *field, double min)
{
	double v = 0;
	int t = pht_train_kernel_field(L, field);

	if (t == LUA_TNUMBER) {
		v = (double)lua_tonumber(L, -1);
		if (!isfinite(v) || (min > 0 ? !(v >= min) : !(v > 0)))
			luaL_error(L, "%s: %s: a finite number %s %f is required", fn, field,
			    min > 0 ? ">=" : ">", min);
	} else if (t != LUA_TNIL)
		luaL_error(L, "%s: %s: a number is required, not a %s", fn, field,
		    luaL_typename(L, -1));
	lua_pop(L, 1);
	return v;
}

/*
 * Merges a group's cells (runs of equal grid time) forward until each
 * released step covers at least m cases; a short tail joins the last
 * released step. Appends the steps at steps + *ns. Returns 0 (and
 * appends nothing) when the group's cases together are fewer than m or a
 * step would have fewer than k at risk.
 */
static int
km_steps(const struct kmrow *r, size_t a, size_t b, int64_t m, int64_t k,
    struct kmstep *steps, size_t *ns)
{
	size_t i = a, j, start = a, pd = 0, pc = 0, first = *ns, s;

	while (i < b) {
		for (j = i; j < b && r[j].t == r[i].t; j++) {
			if (r[j].event)
				pd++;
			else
				pc++;
		}
		if ((int64_t)(pd + pc) >= m) {
			steps[*ns].t = r[i].t;
			steps[*ns].d = pd;
			steps[*ns].c = pc;
			steps[*ns].a = start;
			steps[*ns].b = j;
			(*ns)++;
			start = j;
			pd = pc = 0;
		}
		i = j;
	}
	if (pd + pc > 0) {
		if (*ns == first)
			return 0;
		steps[*ns - 1].d += pd;
		steps[*ns - 1].c += pc;
		steps[*ns - 1].b = b;
	}
	/* at risk at a step: the cases from its first row on (>= m >= k by construction) */
	for (s = first; s < *ns; s++)
		if ((int64_t)(b - steps[s].a) < k) {
			*ns = first;
			return 0;
		}
	return 1;
}

/*
 * The table rule at the level of a group: its steps add up to the
 * group's events and censorings, a two-way table of group by event
 * status, whose cells (like a crosstab's) must hold 0 or at least k
 * patients. Within the group a step may hold fewer than k events (at
 * least k at risk: the step rule); the group's totals may not, or a
 * group of six patients three of whom had the event would be that
 * table's suppressed cell (docs/security.md, Disclosure, limit (g)).
 */
static int
km_table_ok(const struct kmrow *r, size_t a, size_t b, int64_t k)
{
	size_t i, d = 0;

	for (i = a; i < b; i++)
		d += r[i].event;
	return !((d > 0 && (int64_t)d < k) || (b - a - d > 0 && (int64_t)(b - a - d) < k));
}

/*
 * data:km{time=, event=, event_value=, group=, interval=, min_cell=}
 * -> {n, dropped, min_cell, interval, suppressed_groups,
 *     groups = {{group, order, steps = {{t, d, c}, ...}}, ...}}
 */
static int
surv_km(lua_State *L)
{
	static const char *fn = "km";
	struct pht_train_ctx *ctx = pht_train_ctx_of(L);
	const struct pht_column *tc, *ec, *gc;
	struct pht_train_event ev;
	struct pht_train_view_rows vr;
	struct kmrow *rows;
	struct kmstep *steps;
	struct kmgroup *groups;
	uint32_t *order;
	double res, interval, min_cell, w, t;
	int64_t m, k = ctx->k, pol = pht_train_kernel_km_min_cell(L), small;
	size_t i, j, r, n = 0, ns = 0, ng = 0, nrel = 0, supp_rows = 0, smallest;
	int e;

	if (!lua_istable(L, 2))
		luaL_error(L, "%s: expects a table of arguments, {time = ..., event = ..., "
		    "interval = ...}", fn);
	lua_settop(L, 2);
	luaL_checkstack(L, 32, fn);
	tc = pht_train_kernel_column(L, fn, "time", 1);
	if (tc->type != PHT_COL_NUMBER && tc->type != PHT_COL_INTEGER)
		luaL_error(L, "%s: time: column '%s' is a %s column; it must be number or integer",
		    fn, tc->name, pht_coltype_name(tc->type));
	ec = pht_train_kernel_column(L, fn, "event", 1);
	pht_train_kernel_event(L, fn, ec, &ev);
	gc = pht_train_kernel_column(L, fn, "group", 0);
	if (gc != NULL && gc->type != PHT_COL_CATEGORY && gc->type != PHT_COL_BOOLEAN &&
	    gc->type != PHT_COL_INTEGER)
		luaL_error(L, "%s: group: column '%s' must be category, boolean or integer", fn,
		    gc->name);
	interval = num_arg(L, fn, "interval", 0);
	min_cell = num_arg(L, fn, "min_cell", 1);
	res = pht_train_kernel_time_resolution(L, tc);
	w = km_grid(res, interval);
	m = k;
	if (pol > m)
		m = pol;
	if (min_cell > (double)m)
		m = min_cell < 1e15 ? (int64_t)ceil(min_cell) : (int64_t)1e15;

	/* the complete cases, their grid times and events */
	pht_train_data_use(L, 1);
	pht_train_data_view_rows(L, 1, &vr);
	rows = pht_train_kernel_scratch(L, fn, vr.n, sizeof(*rows));
	for (i = 0; i < vr.n; i++) {
		r = pht_train_view_row(&vr, i);
		if (pht_column_is_missing(tc, r) || pht_column_is_missing(ec, r) ||
		    (gc != NULL && pht_column_is_missing(gc, r)))
			continue;
		if (ec->type == PHT_COL_CATEGORY && (ec->v.i32[r] < 0 ||
		    (size_t)ec->v.i32[r] >= ec->nlevels))
			continue;
		if (gc != NULL && gc->type == PHT_COL_CATEGORY && (gc->v.i32[r] < 0 ||
		    (size_t)gc->v.i32[r] >= gc->nlevels))
			continue;
		t = pht_train_kernel_num(tc, r);
		if (t < 0 || !isfinite(t))
			pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: time: column '%s' "
			    "has a negative or non-finite follow-up time at this station", fn,
			    tc->name);
		if ((e = pht_train_kernel_is_event(&ev, ec, r)) < 0)
			pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: event: column '%s' "
			    "has values other than 0/1 at this station; give event_value", fn,
			    ec->name);
		rows[n].key = gc == NULL ? 0 : gc->type == PHT_COL_CATEGORY ? gc->v.i32[r] :
		    gc->type == PHT_COL_BOOLEAN ? gc->v.u8[r] : gc->v.i64[r];
		rows[n].t = ceil(t / w) * w;
		rows[n].row = (uint32_t)r;
		rows[n].event = (uint8_t)e;
		n++;
	}
	qsort(rows, n, sizeof(*rows), kmrow_cmp);

	/* per group (runs of one key): its steps, or suppressed */
	steps = pht_train_kernel_scratch(L, fn, n, sizeof(*steps));
	groups = pht_train_kernel_scratch(L, fn, n, sizeof(*groups));
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && rows[j].key == rows[i].key; j++)
			;
		groups[ng].key = rows[i].key;
		groups[ng].a = i;
		groups[ng].b = j;
		groups[ng].s = ns;
		groups[ng].released = km_steps(rows, i, j, m, k, steps, &ns) &&
		    km_table_ok(rows, i, j, k);
		if (!groups[ng].released)
			ns = groups[ng].s;
		groups[ng].e = ns;
		if (groups[ng].released)
			nrel++;
		else
			supp_rows += j - i;
		ng++;
	}
	/*
	 * Complementary suppression: n minus the released groups would show
	 * the suppressed ones' patients; when they are fewer than m together,
	 * the smallest released group is suppressed as well.
	 */
	if (supp_rows > 0 && (int64_t)supp_rows < m && nrel > 0) {
		smallest = ng;
		small = INT64_MAX;
		for (i = 0; i < ng; i++)
			if (groups[i].released && (int64_t)(groups[i].b - groups[i].a) < small) {
				small = (int64_t)(groups[i].b - groups[i].a);
				smallest = i;
			}
		groups[smallest].released = 0;
		nrel--;
	}

	/* the row sets behind the release: the complete cases, each released group and step */
	order = pht_train_kernel_scratch(L, fn, n, sizeof(*order));
	for (i = 0; i < n; i++)
		order[i] = rows[i].row;
	pht_train_kernel_note_rows(L, order, n);
	for (i = 0; i < ng; i++) {
		if (!groups[i].released)
			continue;
		pht_train_kernel_note_rows(L, order + groups[i].a, groups[i].b - groups[i].a);
		for (j = groups[i].s; j < groups[i].e; j++)
			pht_train_kernel_note_rows(L, order + steps[j].a, steps[j].b - steps[j].a);
	}

	lua_createtable(L, 0, 6);
	lua_pushinteger(L, (lua_Integer)n);
	lua_setfield(L, -2, "n");
	lua_pushinteger(L, (lua_Integer)(vr.n - n));
	lua_setfield(L, -2, "dropped");
	lua_pushinteger(L, (lua_Integer)m);
	lua_setfield(L, -2, "min_cell");
	push_time(L, w);
	lua_setfield(L, -2, "interval");
	lua_pushinteger(L, (lua_Integer)(ng - nrel));
	lua_setfield(L, -2, "suppressed_groups");
	lua_createtable(L, (int)nrel, 0);
	for (i = 0, r = 0; i < ng; i++) {
		if (!groups[i].released)
			continue;
		lua_createtable(L, 0, 3);
		if (gc != NULL) {
			push_label(L, gc, groups[i].key);
			lua_setfield(L, -2, "group");
			push_order(L, gc, groups[i].key);
		} else
			lua_pushinteger(L, 0);
		lua_setfield(L, -2, "order");
		lua_createtable(L, (int)(groups[i].e - groups[i].s), 0);
		for (j = groups[i].s; j < groups[i].e; j++) {
			lua_createtable(L, 0, 3);
			push_time(L, steps[j].t);
			lua_setfield(L, -2, "t");
			lua_pushinteger(L, (lua_Integer)steps[j].d);
			lua_setfield(L, -2, "d");
			lua_pushinteger(L, (lua_Integer)steps[j].c);
			lua_setfield(L, -2, "c");
			lua_rawseti(L, -2, (lua_Integer)(j - groups[i].s + 1));
		}
		lua_setfield(L, -2, "steps");
		lua_rawseti(L, -2, (lua_Integer)++r);
	}
	lua_setfield(L, -2, "groups");
	return 1;
}

/*
 * data:time_resolution([name]) -> the station's time resolution: in days
 * without a name, else in the unit of the named time column (a policy grid
 * for that column wins).
 */
static int
surv_time_resolution(lua_State *L)
{
	const struct pht_column *c;

	pht_train_data_view_rows(L, 1, &(struct pht_train_view_rows){0});
	if (lua_isnoneornil(L, 2)) {
		lua_pushnumber(L, pht_train_ctx_of(L)->res->time_days);
		return 1;
	}
	c = pht_train_data_column_arg(L, 1, 2);
	lua_pushnumber(L, pht_train_kernel_time_resolution(L, c));
	return 1;
}

void
pht_train_surv_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"km", surv_km},
		{"time_resolution", surv_time_resolution},
		{NULL, NULL},
	};

	pht_train_data_view_methods_add(L, methods);
}
