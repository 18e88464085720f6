/* cmd_sim.c — pht sim: a whole train, station() at each local dataset then combine(), round after round. */
#include "pht_cli.h"

#include "pht_buf.h"
#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_train.h"
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
    "usage: pht sim TRAIN.lua --station NAME=PATH.csv [--station NAME=PATH.csv ...]\n"
    "               [--params JSON] [--time-limit SECONDS] [--memory-limit MB]\n"
    "               [--instruction-limit N] [--k N] [--max-rounds N] [--seed N]\n"
    "               [--time-resolution DAYS] [--km-min-cell N] [--grid COLUMN=STEP]\n"
    "               [--grid-digits N] [--row-access] [--drop-station NAME:ROUND]\n"
    "\n"
    "Runs a whole train on this machine, without network or signatures, for\n"
    "analysts developing trains: station(data, params, round) at each named\n"
    "dataset (its dictionary is PATH with .csv replaced by .dict.json), then\n"
    "combine(results, params, round) over their outputs, round after round\n"
    "until combine returns {done = true, result = ...}.\n"
    "\n"
    "Every run uses the station's sandbox, limits and disclosure checks: a\n"
    "fresh Lua state in a child process, the instruction budget, memory cap and\n"
    "wall-clock limit below, subsets smaller than k refused, small group_by and\n"
    "crosstab cells suppressed, outputs limited to plain data within the caps.\n"
    "\n"
    "Options:\n"
    "  --station NAME=PATH.csv   a station and its dataset (repeatable)\n"
    "  --params JSON             the first round's params (a JSON object; default {})\n"
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
"                            --min-stations does (repeatable)\n"
    "\n"
    "Prints the final result as JSON on stdout and nothing else there; progress\n"
    "per round goes to stderr.\n"
    "\n"
    "Exit codes: 0 done, 1 a run failed or the rounds ran out, 2 bad usage or\n"
    "unreadable input.\n";

struct sim_station {
	const char *name;
	char *csv;
	char *dict;
	struct pht_dataset *ds;
	uint64_t drop_round;      /* --drop-station: no result from this round on (0: never) */
};

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

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

/* NAME=PATH.csv into st (dictionary path derived). */
static int
parse_station(const char *arg, struct sim_station *st)
{
	const char *eq = strchr(arg, '=');
	size_t plen;

	if (eq == NULL || eq == arg || eq[1] == '\0')
		return -1;
	plen = strlen(eq + 1);
	if (plen < 5 || strcmp(eq + 1 + plen - 4, ".csv") != 0)
		return -1;
	st->name = NULL;
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

	if (colon == NULL || colon == arg || parse_u64(colon + 1, 1, 100000, &round) != 0)
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

int
pht_cmd_sim(int argc, char **argv)
{
	struct sim_station stations[SIM_MAX_STATIONS];
	size_t nst = 0, i, j;
	struct pht_limits lim;
	struct pht_resolution res;
	struct pht_resolution_grid grids[SIM_MAX_GRIDS];
	char *grid_names[SIM_MAX_GRIDS];
	struct pht_run_stats stats;
	struct pht_buf *code = NULL;
	struct pht_err err;
	const char *train = NULL, *params_arg = NULL, *drops[SIM_MAX_STATIONS];
	size_t ndrops = 0;
	json_t *params = NULL, *meta = NULL, *results = NULL, *out = NULL, *next;
	uint64_t v, max_rounds = 50, seed = 0;
	char *name, *dump, who[300];
	int a, round, r, rc = PHT_EXIT_FAIL, nlen;

	if (pht_cli_wants_help(argc, argv)) {
		fputs(sim_help, stdout);
		return PHT_EXIT_OK;
	}
	pht_limits_default(&lim);
	pht_resolution_default(&res);
	res.grids = grids;
	lim.resolution = &res;
	memset(grid_names, 0, sizeof(grid_names));
	pht_err_clear(&err);
	memset(stations, 0, sizeof(stations));
	for (a = 1; a < argc; a++) {
		const char *opt = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (opt[0] != '-' || opt[1] == '\0') {
			if (train != NULL) {
				rc = pht_cli_usage_error("sim", "unexpected argument '%s'", opt);
				goto out;
			}
			train = opt;
			continue;
		}
		if (strcmp(opt, "--row-access") == 0 && !lim.row_access) {
			lim.row_access = 1;
			continue;
		}
		if (val == NULL) {
			rc = pht_cli_usage_error("sim", "option %s needs a value", opt);
			goto out;
		}
		a++;
		if (strcmp(opt, "--station") == 0) {
			if (nst == SIM_MAX_STATIONS) {
				rc = pht_cli_usage_error("sim", "at most %d stations", SIM_MAX_STATIONS);
				goto out;
			}
			nlen = parse_station(val, &stations[nst]);
			if (nlen < 0) {
				free(stations[nst].csv);
				free(stations[nst].dict);
				stations[nst].csv = stations[nst].dict = NULL;
				rc = pht_cli_usage_error("sim", "--station %s: give NAME=PATH.csv", val);
				goto out;
			}
			name = strndup(val, (size_t)nlen);
			stations[nst].name = name;
			nst++;
			if (name == NULL) {
				rc = pht_cli_usage_error("sim", "out of memory");
				goto out;
			}
			for (j = 0; j + 1 < nst; j++)
				if (strcmp(stations[j].name, name) == 0) {
					rc = pht_cli_usage_error("sim", "station %s named twice", name);
					goto out;
				}
		} else if (strcmp(opt, "--drop-station") == 0) {
			if (ndrops == SIM_MAX_STATIONS) {
				rc = pht_cli_usage_error("sim", "at most %d --drop-station", SIM_MAX_STATIONS);
				goto out;
			}
			drops[ndrops++] = val;
		} else if (strcmp(opt, "--params") == 0 && params_arg == NULL) {
			params_arg = val;
		} else if (strcmp(opt, "--time-limit") == 0) {
			if (parse_seconds(val, &lim.wall_seconds) != 0) {
				rc = pht_cli_usage_error("sim", "--time-limit %s: give seconds in "
				    "(0, 86400]", val);
				goto out;
			}
		} else if (strcmp(opt, "--memory-limit") == 0) {
			if (parse_u64(val, 1, 1 << 20, &v) != 0) {
				rc = pht_cli_usage_error("sim", "--memory-limit %s: give megabytes "
				    "(1 to 1048576)", val);
				goto out;
			}
			lim.memory_bytes = (size_t)v << 20;
		} else if (strcmp(opt, "--instruction-limit") == 0) {
			if (parse_u64(val, 1000, UINT64_MAX / 2, &lim.instructions) != 0) {
				rc = pht_cli_usage_error("sim", "--instruction-limit %s: give a "
				    "count of at least 1000", val);
				goto out;
			}
		} else if (strcmp(opt, "--k") == 0) {
			if (parse_u64(val, 1, INT32_MAX, &v) != 0) {
				rc = pht_cli_usage_error("sim", "--k %s: give a positive integer", val);
				goto out;
			}
			lim.k = (int64_t)v;
		} else if (strcmp(opt, "--time-resolution") == 0) {
			if (parse_positive(val, &res.time_days) != 0 || res.time_days > 3660) {
				rc = pht_cli_usage_error("sim", "--time-resolution %s: give days in "
				    "(0, 3660]", val);
				goto out;
			}
		} else if (strcmp(opt, "--km-min-cell") == 0) {
			if (parse_u64(val, 1, 1000000, &v) != 0) {
				rc = pht_cli_usage_error("sim", "--km-min-cell %s: give 1 to 1000000", val);
				goto out;
			}
			res.km_min_cell = (int64_t)v;
		} else if (strcmp(opt, "--grid-digits") == 0) {
			if (parse_u64(val, 1, 6, &v) != 0) {
				rc = pht_cli_usage_error("sim", "--grid-digits %s: give 1 to 6", val);
				goto out;
			}
			res.grid_digits = (int)v;
		} else if (strcmp(opt, "--grid") == 0) {
			if (res.ngrids == SIM_MAX_GRIDS) {
				rc = pht_cli_usage_error("sim", "at most %d grids", SIM_MAX_GRIDS);
				goto out;
			}
			if (parse_grid(val, &grids[res.ngrids], &grid_names[res.ngrids]) != 0) {
				rc = pht_cli_usage_error("sim", "--grid %s: give COLUMN=STEP with a "
				    "positive step", val);
				goto out;
			}
			res.ngrids++;
		} else if (strcmp(opt, "--max-rounds") == 0) {
			if (parse_u64(val, 1, 100000, &max_rounds) != 0) {
				rc = pht_cli_usage_error("sim", "--max-rounds %s: give 1 to 100000", val);
				goto out;
			}
		} else if (strcmp(opt, "--seed") == 0) {
			if (parse_u64(val, 1, UINT64_MAX, &seed) != 0) {
				rc = pht_cli_usage_error("sim", "--seed %s: give a positive integer", val);
				goto out;
			}
		} else {
			rc = pht_cli_usage_error("sim", "unknown or repeated option '%s'", opt);
			goto out;
		}
	}
	if (train == NULL || nst == 0) {
		rc = pht_cli_usage_error("sim", "give TRAIN.lua and at least one "
		    "--station NAME=PATH.csv");
		goto out;
	}
	for (i = 0; i < ndrops; i++)
		if (parse_drop(drops[i], stations, nst) != 0) {
			rc = pht_cli_usage_error("sim", "--drop-station %s: give NAME:ROUND with a "
			    "station NAME given by --station and ROUND from 1 to 100000", drops[i]);
			goto out;
		}
	if (params_arg != NULL) {
		if ((r = pht_json_parse(params_arg, strlen(params_arg), "--params", &params,
		    &err)) != PHT_OK || !json_is_object(params)) {
			if (r == PHT_OK)
				pht_errf(&err, PHT_ERR_INVALID, "--params: not a JSON object");
			pht_cli_error("sim", &err);
			rc = PHT_EXIT_USAGE;
			goto out;
		}
	} else if ((params = json_object()) == NULL)
		goto out;
	if ((r = pht_cli_read_train(train, PHT_TRAIN_CODE_MAX, &code, &err)) != PHT_OK) {
		pht_cli_error("sim", &err);
		rc = pht_cli_exit_for(r);
		goto out;
	}
	for (i = 0; i < nst; i++) {
		if ((r = pht_dataset_load(stations[i].csv, stations[i].dict, NULL,
		    &stations[i].ds, &err)) != PHT_OK) {
			pht_err_prefix(&err, "station %s", stations[i].name);
			pht_cli_error("sim", &err);
			rc = pht_cli_exit_for(r);
			goto out;
		}
		fprintf(stderr, "pht sim: station %s: dataset %s, %zu rows, %zu columns\n",
		    stations[i].name, pht_dataset_name(stations[i].ds),
		    pht_dataset_nrows(stations[i].ds), pht_dataset_ncols(stations[i].ds));
	}
	if ((r = pht_train_describe(pht_buf_str(code), pht_buf_len(code), train, &lim,
	    &meta, &err)) != PHT_OK) {
		pht_cli_error("sim", &err);
		goto out;
	}
	fprintf(stderr, "pht sim: train %s %s\n",
	    json_string_value(json_object_get(meta, "name")),
	    json_string_value(json_object_get(meta, "version")));

	for (round = 1; (uint64_t)round <= max_rounds; round++) {
		if ((results = json_array()) == NULL)
			goto out;
		for (i = 0, j = 0; i < nst; i++) {
			if (stations[i].drop_round != 0 &&
			    (uint64_t)round >= stations[i].drop_round) {
				fprintf(stderr, "pht sim: round %d: station %s: no result "
				    "(--drop-station)\n", round, stations[i].name);
				continue;
			}
			j++;
			r = pht_train_run_station(pht_buf_str(code), pht_buf_len(code), train,
			    stations[i].ds, params, round, seed, &lim, &out, &stats, &err);
			if (r != PHT_OK) {
				pht_err_prefix(&err, "round %d: station %s", round, stations[i].name);
				pht_cli_error("sim", &err);
				goto out;
			}
			snprintf(who, sizeof(who), "station %s", stations[i].name);
			progress(round, who, &stats);
			if (json_array_append_new(results, json_pack("{s:s, s:o}", "station",
			    stations[i].name, "output", out)) != 0)
				goto out;
			out = NULL;
		}
		if (j == 0) {
			fprintf(stderr, "pht sim: round %d: no station released a result\n",
			    round);
			goto out;
		}
		r = pht_train_run_combine(pht_buf_str(code), pht_buf_len(code), train, results,
		    params, round, seed, &lim, &out, &stats, &err);
		if (r != PHT_OK) {
			pht_err_prefix(&err, "round %d: combine", round);
			pht_cli_error("sim", &err);
			goto out;
		}
		progress(round, "combine", &stats);
		json_decref(results);
		results = NULL;
		if (json_is_true(json_object_get(out, "done"))) {
			dump = pht_json_dump(json_object_get(out, "result"));
			if (dump == NULL)
				goto out;
			printf("%s\n", dump);
			free(dump);
			fprintf(stderr, "pht sim: done after %d round%s\n", round,
			    round == 1 ? "" : "s");
			rc = fflush(stdout) == 0 ? PHT_EXIT_OK : PHT_EXIT_FAIL;
			goto out;
		}
		next = json_incref(json_object_get(out, "params"));
		json_decref(params);
		params = next;
		json_decref(out);
		out = NULL;
	}
	fprintf(stderr, "pht sim: the train did not finish within %llu rounds\n",
	    (unsigned long long)max_rounds);
out:
	for (i = 0; i < nst; i++) {
		free((char *)stations[i].name);
		free(stations[i].csv);
		free(stations[i].dict);
		pht_dataset_free(stations[i].ds);
	}
	json_decref(params);
	json_decref(meta);
	json_decref(results);
	json_decref(out);
	pht_buf_free(code);
	for (i = 0; i < SIM_MAX_GRIDS; i++)
		free(grid_names[i]);
	return rc;
}
