/* pht_train_kernel.c — what the kernel files of the data API share: argument tables, event coding, scratch memory, row sets, the station's resolution. */
#include "pht_train_kernel.h"
#include "pht_train.h"
#include "pht_train_data.h"
#include "pht_train_lua.h"
#include "pht_train_rowsets.h"
#include "pht_train_stat.h"
#include "pht_err.h"
#include "pht_time.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void *
pht_train_kernel_scratch(lua_State *L, const char *fn, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		luaL_error(L, "%s: request too large", fn);
	return lua_newuserdatauv(L, n * size > 0 ? n * size : 1, 0);
}

size_t
pht_train_kernel_complement(const size_t *count, uint8_t *sup, size_t n, size_t hidden,
    int64_t k)
{
	size_t u = hidden, i, best;

	for (i = 0; i < n; i++)
		if (sup[i])
			u += count[i];
	while (u > 0 && (int64_t)u < k) {
		best = n;
		for (i = 0; i < n; i++)
			if (!sup[i] && count[i] > 0 && (best == n || count[i] < count[best]))
				best = i;
		if (best == n)
			break;
		sup[best] = 1;
		u += count[best];
	}
	return u;
}

int
pht_train_kernel_field(lua_State *L, const char *name)
{
	lua_pushstring(L, name);
	return lua_rawget(L, 2);
}

/* args[field] as a column; lin NULL: no column carrying a lineage. */
static const struct pht_column *
kernel_column(lua_State *L, const char *fn, const char *field, int required,
    const struct pht_train_lineage **lin)
{
	const struct pht_column *c;
	int t = pht_train_kernel_field(L, field);

	if (lin != NULL)
		*lin = NULL;
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		if (required)
			luaL_error(L, "%s: %s: a column name is required", fn, field);
		return NULL;
	}
	if (t != LUA_TSTRING)
		luaL_error(L, "%s: %s: a column name is required, not a %s", fn, field,
		    luaL_typename(L, -1));
	c = lin != NULL ? pht_train_data_column_arg_lineage(L, 1, lua_gettop(L), lin) :
	    pht_train_data_column_arg(L, 1, lua_gettop(L));
	lua_pop(L, 1);
	return c;
}

const struct pht_column *
pht_train_kernel_column(lua_State *L, const char *fn, const char *field, int required)
{
	return kernel_column(L, fn, field, required, NULL);
}

const struct pht_column *
pht_train_kernel_column_lineage(lua_State *L, const char *fn, const char *field,
    int required, const struct pht_train_lineage **lin)
{
	return kernel_column(L, fn, field, required, lin);
}

void
pht_train_kernel_event(lua_State *L, const char *fn, const struct pht_column *c,
    struct pht_train_event *ev)
{
	int t = pht_train_kernel_field(L, "event_value");

	memset(ev, 0, sizeof(*ev));
	switch (c->type) {
	case PHT_COL_BOOLEAN:
		if (t == LUA_TNIL || (t == LUA_TBOOLEAN && lua_toboolean(L, -1)))
			ev->kind = PHT_EV_TRUE;
		else if (t == LUA_TBOOLEAN)
			ev->kind = PHT_EV_FALSE;
		else
			ev->kind = PHT_EV_NEVER;
		break;
	case PHT_COL_NUMBER:
	case PHT_COL_INTEGER:
		if (t == LUA_TNIL)
			ev->kind = PHT_EV_01;
		else if (t == LUA_TNUMBER) {
			ev->kind = PHT_EV_EQUAL;
			ev->value = (double)lua_tonumber(L, -1);
		} else
			luaL_error(L, "%s: event_value: column '%s' is numeric, event_value must be "
			    "a number", fn, c->name);
		break;
	case PHT_COL_CATEGORY:
		if (t != LUA_TSTRING)
			luaL_error(L, "%s: event_value: column '%s' is a category; name the level "
			    "meaning an event", fn, c->name);
		ev->level = pht_column_level_code(c, lua_tostring(L, -1));
		ev->kind = ev->level >= 0 ? PHT_EV_LEVEL : PHT_EV_NEVER;
		break;
	default:
		luaL_error(L, "%s: event: column '%s' has type %s, which cannot be an event "
		    "indicator", fn, c->name, pht_coltype_name(c->type));
	}
	lua_pop(L, 1);
}

void
pht_train_kernel_note_rows(lua_State *L, const uint32_t *rows, size_t n)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	int r;

	if (c->rowsets == NULL || n == 0)
		return;
	r = pht_train_rowsets_add(c->rowsets, rows, n, 0);
	if (r == PHT_ERR_TOO_LARGE)
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "more than %d distinct row sets "
		    "(or %zu MiB of them) behind one output", PHT_TRAIN_ROWSETS_MAX_SETS,
		    PHT_TRAIN_ROWSETS_MAX_BYTES >> 20);
	else if (r != PHT_OK)
		pht_train_lua_fatal(L, PHT_ERR_NOMEM, "out of memory recording row sets");
}

void
pht_train_kernel_reserve_sets(lua_State *L, const char *fn, size_t nsets, const char *what)
{
	struct pht_train_ctx *c = pht_train_ctx_of(L);
	size_t have;

	if (c->rowsets == NULL)
		return;
	have = pht_train_rowsets_count(c->rowsets);
	if (nsets > PHT_TRAIN_ROWSETS_MAX_SETS || have > PHT_TRAIN_ROWSETS_MAX_SETS - nsets)
		pht_train_lua_fatal(L, PHT_ERR_DISCLOSURE, "%s: refused: %s would be %zu row "
		    "sets, more than the %d behind one output (with the %zu recorded before)",
		    fn, what, nsets, PHT_TRAIN_ROWSETS_MAX_SETS, have);
}

double
pht_train_kernel_grid_step(lua_State *L, const struct pht_column *c)
{
	const struct pht_resolution *res = pht_train_ctx_of(L)->res;
	size_t i;

	for (i = 0; i < res->ngrids; i++)
		if (strcmp(res->grids[i].column, c->name) == 0)
			return res->grids[i].step;
	return 0;
}

double
pht_train_kernel_time_resolution(lua_State *L, const struct pht_column *c)
{
	static const struct {
		const char *unit;
		double days;
	} units[] = {
		{"days", 1}, {"day", 1}, {"weeks", 7}, {"week", 7},
		{"months", 30.4375}, {"month", 30.4375}, {"years", 365.25}, {"year", 365.25},
	};
	double step = pht_train_kernel_grid_step(L, c), days = pht_train_ctx_of(L)->res->time_days;
	size_t i;

	if (step > 0)
		return step;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (c->unit != NULL && strcasecmp(c->unit, units[i].unit) == 0)
			return days / units[i].days;
	return days;
}

int
pht_train_kernel_grid_digits(lua_State *L)
{
	return pht_train_ctx_of(L)->res->grid_digits;
}

/* The grid values nearest x either side, for the message of pht_train_kernel_threshold. */
static void
grid_neighbours(double x, double step, int digits, double *lo, double *hi)
{
	double s = pht_train_stat_snap(x, step, digits), d;

	if (step > 0)
		d = step;
	else if (s == 0)
		d = pow(10, floor(log10(fabs(x))) - digits + 1);
	else
		d = pow(10, floor(log10(fabs(s))) - digits + 1);
	*lo = s <= x ? s : pht_train_stat_snap(s - d, step, digits);
	*hi = s >= x ? s : pht_train_stat_snap(s + d, step, digits);
}

void
pht_train_kernel_threshold(lua_State *L, const char *fn, const struct pht_column *c, double x)
{
	double step = pht_train_kernel_grid_step(L, c), lo, hi, s;
	int digits = pht_train_kernel_grid_digits(L);
	char msg[320];
	int64_t y, days;
	unsigned m, d;

	if (!isfinite(x))
		return;         /* compares as everything or nothing */
	if (c->type == PHT_COL_DATE) {
		days = (int64_t)x;
		if (step > 0) {
			if (fmod((double)days, step) == 0)
				return;
			snprintf(msg, sizeof(msg), "%s: %s: a date the station compares with must be "
			    "a multiple of its grid, %g days from 1970-01-01", fn, c->name, step);
		} else {
			pht_civil_from_days(days, &y, &m, &d);
			if (d == 1)
				return;
			snprintf(msg, sizeof(msg), "%s: %s: the station compares dates with the first "
			    "day of a month only, not %04lld-%02u-%02u", fn, c->name, (long long)y, m, d);
		}
	} else {
		if (c->type != PHT_COL_NUMBER && c->type != PHT_COL_INTEGER)
			return;
		s = pht_train_stat_snap(x, step, digits);
		if (s == x || fabs(s - x) <= 1e-9 * fmax(1, fabs(x)))
			return;
		grid_neighbours(x, step, digits, &lo, &hi);
		if (step > 0)
			snprintf(msg, sizeof(msg), "%s: %s: %.15g is not on the station's grid for this "
			    "column (multiples of %g): use %.15g or %.15g", fn, c->name, x, step, lo, hi);
		else
			snprintf(msg, sizeof(msg), "%s: %s: %.15g is not on the station's grid (%d "
			    "significant digits): use %.15g or %.15g", fn, c->name, x, digits, lo, hi);
	}
	luaL_error(L, "%s (docs/train-api.md, \"Thresholds\")", msg);
}

int64_t
pht_train_kernel_km_min_cell(lua_State *L)
{
	return pht_train_ctx_of(L)->res->km_min_cell;
}
