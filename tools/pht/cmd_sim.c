/* cmd_sim.c — pht sim: a whole train on local datasets, the round loop of pht_analyst_rounds.h with station() run in-process as its transport. */
#include "pht_cli.h"
#include "pht_analyst_format.h"
#include "cmd_check.h"
#include "pht_analyst_check.h"
#include "pht_analyst_rounds.h"

#include "pht_buf.h"
#include "pht_dataset.h"
#include "pht_dataset_source.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_train.h"
#include "pht_train_decl.h"
#include "pht_limits.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_MAX_STATIONS 64
#define SIM_MAX_GRIDS 64

static const char *sim_help =
    "usage: pht sim TRAIN.lua --station NAME=PATH.csv|SOURCE.json [--station ...]\n"
    "               [--params JSON] [--time-limit SECONDS] [--memory-limit MB]\n"
    "               [--instruction-limit N] [--k N] [--max-rounds N] [--seed N]\n"
    "               [--time-resolution DAYS] [--km-min-cell N] [--grid COLUMN=STEP]\n"
    "               [--grid-digits N] [--row-access] [--drop-station NAME:ROUND]\n"
    "               [--min-stations N] [--format json|table|csv]\n"
    "               [--check]\n"
    "\n"
    "Runs a whole train on this machine, without network or signatures, for\n"
    "analysts developing trains: station(data, params, round) at each named\n"
    "dataset (its dictionary is PATH with .csv replaced by .dict.json, or the\n"
    "one a SOURCE.json names), then combine(results, params, round) over\n"
    "their outputs, round after round until combine returns\n"
    "{done = true, result = ...}.\n"
    "\n"
    "Every run uses the station's sandbox, limits and disclosure checks: a\n"
    "fresh Lua state in a child process, the instruction budget, memory cap and\n"
    "wall-clock limit below, subsets smaller than k refused, small group_by and\n"
    "crosstab cells suppressed, outputs limited to plain data within the caps.\n"
    "\n"
    "Options:\n"
    "  --station NAME=PATH.csv   a station and its dataset (repeatable); or\n"
    "  --station NAME=SOURCE.json  a dataset source as in a station config's\n"
    "                            datasets entry (docs/dataset.md, \"Sources\")\n"
    "  --params JSON|@FILE       the first round's params (a JSON object, or a file\n"
    "                            holding one; default {}), checked against the\n"
    "                            train's declaration and each dataset's dictionary\n"
    "                            before anything runs (pht train describe)\n"
    "  --check                   only check the params, run nothing\n"
    "  --time-limit SECONDS      wall-clock limit per run (default 60)\n"
    "  --memory-limit MB         Lua heap cap per run (default 512)\n"
    "  --instruction-limit N     instruction budget per run (default 2000000000)\n"
    "  --k N                     smallest usable subset (default 5)\n"
    "  --time-resolution DAYS    the station's KM time resolution (default 30)\n"
    "  --km-min-cell N           patients per released KM step at least (default 1)\n"
    "  --grid COLUMN=STEP        histogram edges of COLUMN snap to multiples of STEP\n"
    "                            (repeatable; the station policy's \"grid\")\n"
    "  --grid-digits N           significant digits of other edges (default 2)\n"
    "  --max-rounds N            give up after N rounds (default 50)\n"
    "  --seed N                  math.random seed for every run (default: fresh)\n"
    "  --row-access              let col:values() hand row-level values to the\n"
    "                            train, as a station does only for a code hash a\n"
    "                            data permit grants row_access (default: off)\n"
"  --drop-station NAME:ROUND  testing: station NAME gives no result from round\n"
"                            ROUND on, as a station that stops answering, and\n"
"                            the rounds go on with the others, as pht run\n"
"                            --min-stations does (repeatable; alone it implies\n"
"                            --min-stations 1)\n"
"  --min-stations N          go on when at least N stations released a result\n"
"                            (default: all of them); a station whose dataset\n"
"                            holds fewer than k rows declines, as a station does\n"
"  --format F                json (default), table or csv (docs/std-trains.md,\n"
"                            \"Output formats\")\n"
    "\n"
    "Prints the final result on stdout and nothing else there (--format json,\n"
    "the default: one line of JSON; table: as R prints a coxph, glm or survfit\n"
    "object; csv: one row per coefficient or curve point); progress per round\n"
    "goes to stderr.\n"
    "\n"
    "Exit codes: 0 done, 1 a run failed or the rounds ran out, 2 bad usage or\n"
    "unreadable input.\n";

struct sim_station {
	const char *name;
	char *csv;
	char *dict;
	struct pht_dataset *ds;
	uint64_t drop_round;      /* --drop-station: no result from this round on (0: never) */
	int why_round;            /* the round why is about (0: none) */
	char why[PHT_ERR_DETAIL_MAX + 32]; /* why it gave no result then */
};

static int
parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > 86400)
		return -1;
	*out = v;
	return 0;
}

/* A positive finite number with nothing after it. */
static int
parse_positive(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* COLUMN=STEP into g; *name is the column name (allocated; g->column points to it). */
static int
parse_grid(const char *arg, struct pht_resolution_grid *g, char **name)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || parse_positive(eq + 1, &g->step) != 0)
		return -1;
	if ((*name = strndup(arg, (size_t)(eq - arg))) == NULL)
		return -1;
	g->column = *name;
	return 0;
}

/* NAME=PATH.csv into st (dictionary path derived), or NAME=SOURCE.json (dict NULL). */
static int
parse_station(const char *arg, struct sim_station *st)
{
	const char *eq = strchr(arg, '=');
	size_t plen;

	if (eq == NULL || eq == arg || eq[1] == '\0')
		return -1;
	plen = strlen(eq + 1);
	st->name = NULL;
	if (plen >= 6 && strcmp(eq + 1 + plen - 5, ".json") == 0) {
		/* a source file (csv in a dialect, sqlite, postgres): no dict here */
		st->csv = strdup(eq + 1);
		return st->csv == NULL ? -1 : (int)(eq - arg);
	}
	if (plen < 5 || strcmp(eq + 1 + plen - 4, ".csv") != 0)
		return -1;
	st->csv = strdup(eq + 1);
	st->dict = malloc(plen - 4 + sizeof(".dict.json"));
	if (st->csv == NULL || st->dict == NULL)
		return -1;
	memcpy(st->dict, eq + 1, plen - 4);
	memcpy(st->dict + plen - 4, ".dict.json", sizeof(".dict.json"));
	return (int)(eq - arg);
}

/* --drop-station NAME:ROUND: sets drop_round of the station named NAME. */
static int
parse_drop(const char *arg, struct sim_station *st, size_t nst)
{
	const char *colon = strrchr(arg, ':');
	uint64_t round;
	size_t i;

	if (colon == NULL || colon == arg || pht_cli_uint(colon + 1, 1, 100000, &round) != 0)
		return -1;
	for (i = 0; i < nst; i++)
		if (strlen(st[i].name) == (size_t)(colon - arg) &&
		    strncmp(st[i].name, arg, (size_t)(colon - arg)) == 0) {
			st[i].drop_round = round;
			return 0;
		}
	return -1;
}

static void
progress(int round, const char *who, const struct pht_run_stats *s)
{
	fprintf(stderr, "pht sim: round %d: %s: ok (%llu instructions, peak %zu KiB, "
	    "%.0f ms wall, %.0f ms CPU, %llu rows read%s%s, seed %llu)\n", round, who,
	    (unsigned long long)s->instructions, s->peak_memory / 1024, s->wall_ms,
	    s->cpu_ms, (unsigned long long)s->rows_read,
	    s->columns_read[0] ? " from " : "", s->columns_read,
	    (unsigned long long)s->seed);
}

/* One pht sim: the stations, limits and train, and what the rounds hold. */
struct sim_job {
	struct sim_station stations[SIM_MAX_STATIONS];
	size_t nst;
	struct pht_limits lim;
	struct pht_resolution res;
	struct pht_resolution_grid grids[SIM_MAX_GRIDS];
	char *grid_names[SIM_MAX_GRIDS];
	const char *train;
	uint64_t max_rounds, seed, min_stations;
	enum pht_analyst_format format;
	struct pht_buf *code;
	json_t *params, *meta;
	struct pht_train_decl *decl;  /* the train's declared params, or NULL */
	struct pht_err err;
	int said;                 /* the failure is already on stderr */
	int check_only;           /* --check */
};

static void
sim_job_clear(struct sim_job *j)
{
	size_t i;

	for (i = 0; i < j->nst; i++) {
		free((char *)j->stations[i].name);
		free(j->stations[i].csv);
		free(j->stations[i].dict);
		pht_dataset_free(j->stations[i].ds);
	}
	json_decref(j->params);
	pht_train_decl_free(j->decl);
	json_decref(j->meta);
	pht_buf_free(j->code);
	for (i = 0; i < SIM_MAX_GRIDS; i++)
		free(j->grid_names[i]);
}

enum { S_STATION, S_DROP, S_MIN, S_FORMAT, S_PARAMS, S_TIME, S_MEMORY, S_INSN, S_K, S_TRES, S_KMCELL,
    S_GDIGITS, S_GRID, S_ROUNDS, S_SEED, S_ROWS, S_CHECK, S_N };

static const struct pht_cli_opt sim_opts[S_N] = {
	PHT_CLI_OPT_MANY("station", PHT_CLI_OPT_MAX),
	PHT_CLI_OPT_MANY("drop-station", PHT_CLI_OPT_MAX), PHT_CLI_OPT("min-stations"),
	PHT_CLI_OPT("format"),
	PHT_CLI_OPT("params"), PHT_CLI_OPT("time-limit"), PHT_CLI_OPT("memory-limit"),
	PHT_CLI_OPT("instruction-limit"), PHT_CLI_OPT("k"),
	PHT_CLI_OPT("time-resolution"), PHT_CLI_OPT("km-min-cell"),
	PHT_CLI_OPT("grid-digits"), PHT_CLI_OPT_MANY("grid", PHT_CLI_OPT_MAX),
	PHT_CLI_OPT("max-rounds"), PHT_CLI_OPT("seed"), PHT_CLI_OPT_FLAG("row-access"),
	PHT_CLI_OPT_FLAG("check"),
};

/* --station NAME=PATH.csv, each name once. */
static int
sim_stations(struct sim_job *j, const struct pht_cli_opt *o)
{
	struct sim_station *st;
	const char *val;
	size_t i, k;
	int nlen;

	for (i = 0; i < o->n; i++) {
		val = o->vals[i];
		if (j->nst == SIM_MAX_STATIONS)
			return pht_cli_usage_error("sim", "at most %d stations",
			    SIM_MAX_STATIONS);
		st = &j->stations[j->nst];
		if ((nlen = parse_station(val, st)) < 0) {
			free(st->csv);
			free(st->dict);
			st->csv = st->dict = NULL;
			return pht_cli_usage_error("sim", "--station %s: give NAME=PATH.csv "
			    "or NAME=SOURCE.json", val);
		}
		st->name = strndup(val, (size_t)nlen);
		j->nst++;
		if (st->name == NULL)
			return pht_cli_usage_error("sim", "out of memory");
		for (k = 0; k + 1 < j->nst; k++)
			if (strcmp(j->stations[k].name, st->name) == 0)
				return pht_cli_usage_error("sim", "station %s named twice",
				    st->name);
	}
	return PHT_EXIT_OK;
}

/* The sandbox limits and the output resolution. */
static int
sim_limits(struct sim_job *j, const struct pht_cli_opt *o)
{
	struct pht_resolution *res = &j->res;
	const char *val;
	uint64_t v;
	size_t i;

	j->lim.row_access = o[S_ROWS].n > 0;
	if ((val = pht_cli_opt_val(&o[S_TIME])) != NULL &&
	    parse_seconds(val, &j->lim.wall_seconds) != 0)
		return pht_cli_usage_error("sim", "--time-limit %s: give seconds in "
		    "(0, 86400]", val);
	if ((val = pht_cli_opt_val(&o[S_MEMORY])) != NULL) {
		if (pht_cli_uint(val, 1, 1 << 20, &v) != 0)
			return pht_cli_usage_error("sim", "--memory-limit %s: give "
			    "megabytes (1 to 1048576)", val);
		j->lim.memory_bytes = (size_t)v << 20;
	}
	if ((val = pht_cli_opt_val(&o[S_INSN])) != NULL &&
	    pht_cli_uint(val, 1000, UINT64_MAX / 2, &j->lim.instructions) != 0)
		return pht_cli_usage_error("sim", "--instruction-limit %s: give a count "
		    "of at least 1000", val);
	if ((val = pht_cli_opt_val(&o[S_K])) != NULL) {
		if (pht_cli_uint(val, 1, INT32_MAX, &v) != 0)
			return pht_cli_usage_error("sim", "--k %s: give a positive integer",
			    val);
		j->lim.k = (int64_t)v;
	}
	if ((val = pht_cli_opt_val(&o[S_TRES])) != NULL &&
	    (parse_positive(val, &res->time_days) != 0 || res->time_days > 3660))
		return pht_cli_usage_error("sim", "--time-resolution %s: give days in "
		    "(0, 3660]", val);
	if ((val = pht_cli_opt_val(&o[S_KMCELL])) != NULL) {
		if (pht_cli_uint(val, 1, 1000000, &v) != 0)
			return pht_cli_usage_error("sim", "--km-min-cell %s: give 1 to "
			    "1000000", val);
		res->km_min_cell = (int64_t)v;
	}
	if ((val = pht_cli_opt_val(&o[S_GDIGITS])) != NULL) {
		if (pht_cli_uint(val, 1, 6, &v) != 0)
			return pht_cli_usage_error("sim", "--grid-digits %s: give 1 to 6", val);
		res->grid_digits = (int)v;
	}
	for (i = 0; i < o[S_GRID].n; i++) {
		val = o[S_GRID].vals[i];
		if (res->ngrids == SIM_MAX_GRIDS)
			return pht_cli_usage_error("sim", "at most %d grids", SIM_MAX_GRIDS);
		if (parse_grid(val, &j->grids[res->ngrids], &j->grid_names[res->ngrids]) != 0)
			return pht_cli_usage_error("sim", "--grid %s: give COLUMN=STEP with a "
			    "positive step", val);
		res->ngrids++;
	}
	return PHT_EXIT_OK;
}

/* Every option into the job. */
static int
sim_args(struct sim_job *j, int argc, char **argv)
{
	struct pht_cli_opt *o;
	const char *val;
	size_t npos, i;
	int ex;

	if ((o = malloc(sizeof(sim_opts))) == NULL)
		return pht_cli_usage_error("sim", "out of memory");
	memcpy(o, sim_opts, sizeof(sim_opts));
	if ((ex = pht_cli_opt_parse("sim", argc, argv, 1, o, S_N, &j->train, 1,
	    &npos)) != PHT_EXIT_OK || (ex = sim_stations(j, &o[S_STATION])) != PHT_EXIT_OK ||
	    (ex = sim_limits(j, o)) != PHT_EXIT_OK)
		goto out;
	ex = PHT_EXIT_USAGE;
	if ((val = pht_cli_opt_val(&o[S_ROUNDS])) != NULL &&
	    pht_cli_uint(val, 1, 100000, &j->max_rounds) != 0) {
		ex = pht_cli_usage_error("sim", "--max-rounds %s: give 1 to 100000", val);
		goto out;
	}
	if ((val = pht_cli_opt_val(&o[S_MIN])) != NULL &&
	    pht_cli_uint(val, 1, SIM_MAX_STATIONS, &j->min_stations) != 0) {
		ex = pht_cli_usage_error("sim", "--min-stations %s: give 1 to %d", val,
		    SIM_MAX_STATIONS);
		goto out;
	}
	if ((val = pht_cli_opt_val(&o[S_FORMAT])) != NULL &&
	    pht_analyst_format_parse(val, &j->format) != 0) {
		ex = pht_cli_usage_error("sim", "--format %s: give json, table or csv", val);
		goto out;
	}
	/* --drop-station alone goes on with the others, as before */
	if (j->min_stations == 0 && o[S_DROP].n > 0)
		j->min_stations = 1;
	if ((val = pht_cli_opt_val(&o[S_SEED])) != NULL &&
	    pht_cli_uint(val, 1, UINT64_MAX, &j->seed) != 0) {
		ex = pht_cli_usage_error("sim", "--seed %s: give a positive integer", val);
		goto out;
	}
	if (j->train == NULL || j->nst == 0) {
		ex = pht_cli_usage_error("sim", "give TRAIN.lua and at least one "
		    "--station NAME=PATH.csv");
		goto out;
	}
	if (o[S_DROP].n > SIM_MAX_STATIONS) {
		ex = pht_cli_usage_error("sim", "at most %d --drop-station",
		    SIM_MAX_STATIONS);
		goto out;
	}
	for (i = 0; i < o[S_DROP].n; i++)
		if (parse_drop(o[S_DROP].vals[i], j->stations, j->nst) != 0) {
			ex = pht_cli_usage_error("sim", "--drop-station %s: give NAME:ROUND "
			    "with a station NAME given by --station and ROUND from 1 to "
			    "100000", o[S_DROP].vals[i]);
			goto out;
		}
	j->check_only = o[S_CHECK].n > 0;
	if ((ex = pht_cli_read_params("sim", pht_cli_opt_val(&o[S_PARAMS]), &j->params)) !=
	    PHT_EXIT_OK)
		goto out;
	ex = PHT_EXIT_OK;
out:
	free(o);
	return ex;
}

/* A station's dataset: a CSV beside its dictionary, or a source file. */
static int
sim_load_dataset(struct sim_station *st, struct pht_err *err)
{
	struct pht_dataset_source *src = NULL;
	int r;

	if (st->dict != NULL)
		return pht_dataset_load(st->csv, st->dict, NULL, &st->ds, err);
	if ((r = pht_dataset_source_load_file(st->csv, 1, &src, err)) == PHT_OK)
		r = pht_dataset_source_load(src, NULL, &st->ds, err);
	pht_dataset_source_free(src);
	return r;
}

/* The train, each station's dataset and the train's description. */
static int
sim_load(struct sim_job *j)
{
	struct sim_station *st;
	size_t i;
	int r;

	if ((r = pht_cli_read_train(j->train, PHT_TRAIN_CODE_MAX, &j->code, &j->err)) !=
	    PHT_OK) {
		pht_cli_error("sim", &j->err);
		return pht_cli_exit_for(r);
	}
	for (i = 0; i < j->nst; i++) {
		st = &j->stations[i];
		if ((r = sim_load_dataset(st, &j->err)) != PHT_OK) {
			pht_err_prefix(&j->err, "station %s", st->name);
			pht_cli_error("sim", &j->err);
			return pht_cli_exit_for(r);
		}
		fprintf(stderr, "pht sim: station %s: dataset %s, %zu rows, %zu columns\n",
		    st->name, pht_dataset_name(st->ds), pht_dataset_nrows(st->ds),
		    pht_dataset_ncols(st->ds));
	}
	if (pht_train_describe(pht_buf_str(j->code), pht_buf_len(j->code), j->train,
	    &j->lim, &j->meta, &j->err) != PHT_OK) {
		pht_cli_error("sim", &j->err);
		return PHT_EXIT_FAIL;
	}
	fprintf(stderr, "pht sim: train %s %s\n",
	    json_string_value(json_object_get(j->meta, "name")),
	    json_string_value(json_object_get(j->meta, "version")));
	return PHT_EXIT_OK;
}

/*
 * The params against the train's declaration and each station's
 * dictionary, before anything runs: every problem on stderr.
 */
static int
sim_check(struct sim_job *j)
{
	struct pht_analyst_check c;
	json_t *dicts;
	size_t i, problems = 0;
	int ex;

	if ((ex = pht_cli_check_start("sim", j->meta, j->params, &j->decl, &c)) !=
	    PHT_EXIT_OK)
		return ex;
	for (i = 0; i < j->nst; i++) {
		dicts = json_pack("{s:O}", pht_dataset_name(j->stations[i].ds),
		    (json_t *)pht_dataset_dict(j->stations[i].ds));
		if (dicts == NULL)
			return PHT_EXIT_FAIL;
		problems += pht_analyst_check_station(&c, j->stations[i].name, dicts);
		json_decref(dicts);
	}
	if (problems > 0)
		return PHT_EXIT_USAGE;
	if (j->check_only)
		fprintf(stderr, "pht sim: the params fit the train and the %zu "
		    "dataset%s\n", j->nst, j->nst == 1 ? "" : "s");
	return PHT_EXIT_OK;
}

/*
 * The transport of pht sim: station() run here at each station of the
 * round, in the order given by --station. A station whose dataset holds
 * fewer than k rows declines, as a station does (pht_train_check_rows);
 * one dropped by --drop-station gives no result from its round on. Both
 * are said on stderr and kept for sim_reason. A failed run ends the run.
 */
static int
sim_round(void *arg, int round, const json_t *params, const char *const *names,
    size_t n, json_t **outputs, struct pht_err *err)
{
	struct sim_job *j = arg;
	struct sim_station *st;
	struct pht_run_stats stats;
	struct pht_err e;
	char who[300];
	size_t i, k;

	for (i = 0; i < j->nst; i++) {
		st = &j->stations[i];
		for (k = 0; k < n && strcmp(names[k], st->name) != 0; k++)
			;
		if (k == n)
			continue;
		st->why_round = round;
		if (st->drop_round != 0 && (uint64_t)round >= st->drop_round) {
			snprintf(st->why, sizeof(st->why), "no result (--drop-station)");
		} else if (pht_train_check_rows(st->ds, &j->lim, &e) != PHT_OK) {
			snprintf(st->why, sizeof(st->why), "rejected: refused: %s", e.msg);
		} else {
			st->why_round = 0;
			if (pht_train_run_station(pht_buf_str(j->code), pht_buf_len(j->code),
			    j->train, st->ds, params, round, j->seed, &j->lim, &outputs[k],
			    &stats, err) != PHT_OK) {
				pht_err_prefix(err, "round %d: station %s", round, st->name);
				return err->code;
			}
			snprintf(who, sizeof(who), "station %s", st->name);
			progress(round, who, &stats);
			continue;
		}
		fprintf(stderr, "pht sim: round %d: station %s: %s\n", round, st->name,
		    st->why);
	}
	return PHT_OK;
}

/* The transport's reason: what sim_round said about station in round. */
static const char *
sim_reason(void *arg, int round, const char *station)
{
	struct sim_job *j = arg;
	size_t i;

	for (i = 0; i < j->nst; i++)
		if (strcmp(j->stations[i].name, station) == 0)
			return j->stations[i].why_round == round ? j->stations[i].why : NULL;
	return NULL;
}

static void
sim_combined(void *arg, int round, const struct pht_run_stats *stats)
{
	(void)arg;
	progress(round, "combine", stats);
}

/* The rounds (pht_analyst_rounds.h) until combine() says done: the result on stdout. */
static int
sim_rounds(struct sim_job *j)
{
	struct pht_analyst_transport local = {sim_round, sim_reason, j};
	struct pht_analyst_rounds spec;
	struct pht_analyst_rounds_end end;
	const char *names[SIM_MAX_STATIONS];
	json_t *result = NULL;
	char *dump;
	size_t i;
	int ex = PHT_EXIT_FAIL;

	for (i = 0; i < j->nst; i++)
		names[i] = j->stations[i].name;
	memset(&spec, 0, sizeof(spec));
	spec.code = pht_buf_str(j->code);
	spec.code_len = pht_buf_len(j->code);
	spec.chunkname = j->train;
	spec.params = j->params;
	spec.stations = names;
	spec.nstations = j->nst;
	spec.min_stations = (size_t)j->min_stations;   /* 0: all */
	spec.max_rounds = (int)j->max_rounds;
	spec.seed = j->seed;
	spec.limits = &j->lim;
	spec.transport = &local;
	spec.combined = sim_combined;
	if (pht_analyst_rounds_run(&spec, &result, &end, &j->err) != PHT_OK) {
		if (end.ran_out)
			fprintf(stderr, "pht sim: the train did not finish within %llu "
			    "rounds\n", (unsigned long long)j->max_rounds);
		else
			pht_cli_error("sim", &j->err);
		json_decref(end.participation);
		return PHT_EXIT_FAIL;
	}
	json_decref(end.participation);
	if (pht_analyst_format(result, j->format, &dump, &j->err) != PHT_OK) {
		pht_cli_error("sim: --format", &j->err);
	} else {
		fputs(dump, stdout);
		free(dump);
		fprintf(stderr, "pht sim: done after %d round%s\n", end.rounds,
		    end.rounds == 1 ? "" : "s");
		ex = fflush(stdout) == 0 ? PHT_EXIT_OK : PHT_EXIT_FAIL;
	}
	json_decref(result);
	return ex;
}

int
pht_cmd_sim(int argc, char **argv)
{
	struct sim_job *j;
	int ex;

	if (pht_cli_wants_help(argc, argv)) {
		fputs(sim_help, stdout);
		return PHT_EXIT_OK;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		fprintf(stderr, "pht sim: out of memory\n");
		return PHT_EXIT_FAIL;
	}
	pht_limits_default(&j->lim);
	pht_resolution_default(&j->res);
	j->res.grids = j->grids;
	j->lim.resolution = &j->res;
	j->max_rounds = 50;
	pht_err_clear(&j->err);
	if ((ex = sim_args(j, argc, argv)) == PHT_EXIT_OK &&
	    (ex = sim_load(j)) == PHT_EXIT_OK &&
	    (ex = sim_check(j)) == PHT_EXIT_OK && !j->check_only)
		ex = sim_rounds(j);
	sim_job_clear(j);
	free(j);
	return ex;
}
