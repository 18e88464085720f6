/* cmd_run.c — pht run (dispatch a train through the federation) and pht stations (list them). */
#include "pht_cli.h"
#include "cmd_permit.h"
#include "cmd_check.h"
#include "pht_analyst_config.h"

#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_envelope.h"
#include "pht_analyst_check.h"
#include "pht_analyst_client.h"
#include "pht_analyst_format.h"
#include "pht_analyst_runs.h"
#include "pht_permit.h"
#include "pht_time.h"
#include "pht_train.h"
#include "pht_train_decl.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"
#include "pht_limits.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN_MAX_STATIONS 1000
#define RUN_MAX_DATASETS 256

static const char *run_help =
    "usage: pht run TRAIN.lua --node URL --cert CERT --key KEY --ca CA\n"
    "               --sign-key NAME.sign.key [--seal-key NAME.seal.key]\n"
    "               --station-keys DIR --stations A,B,...|all\n"
    "               [--params JSON|@FILE] [--check]\n"
    "               [--datasets D1,D2] [--timeout 10m] [--min-stations N]\n"
    "               [--max-rounds N] [--out FILE] [--config ANALYST.json]\n"
    "               [--format json|table|csv]\n"
    "               [--permit-file PERMIT [--approval APPROVAL]]\n"
    "               [--expires 7d] [--detach] [--run-dir DIR]\n"
    "       pht run --resume RUN [--timeout D] [--out FILE] [--format F]\n"
    "               (or: pht results RUN)\n"
    "       pht stations --node URL --cert CERT --key KEY --ca CA [--json]\n"
    "               [--config ANALYST.json]\n"
    "\n"
    "pht run dispatches a train through the federation node: each round it\n"
    "signs a train envelope with --sign-key (results are sealed to the X25519\n"
    "key beside it, --seal-key), posts it, waits for the stations' results\n"
    "(progress on stderr), verifies each result's signature against the\n"
    "station's pinned key in --station-keys (DIR/STATION.sign.pub or\n"
    "DIR/STATION.pub), opens it, and runs the train's combine in the sandbox,\n"
    "until combine says done. The final result is printed on stdout in\n"
    "--format (and written to --out FILE as JSON).\n"
    "\n"
    "  --params JSON|@FILE  the first round's params: a JSON object, or a file\n"
    "                     holding one. Before anything is sent they are checked\n"
    "                     against the train's declaration (pht train describe)\n"
    "                     and the columns they name against the dictionaries the\n"
    "                     stations publish (pht stations)\n"
    "  --check            only these checks: nothing is signed or sent\n"
    "  --timeout D        how long pht run waits for each round (90s, 10m, 1h;\n"
    "                     default 10m); when it passes with too few results and\n"
    "                     the train still valid, pht run stops waiting: the run\n"
    "                     is saved in its run folder (exit 3) and pht results RUN\n"
    "                     picks the results up later and goes on with the rounds\n"
    "  --expires D        how long each round's train stays valid at the stations\n"
    "                     (default 7d): a data steward reviewing it has that long\n"
    "  --detach           stop waiting as soon as the first round is at the node\n"
    "  --run-dir DIR      the run folder (default: $PHT_RUNS/RUN, else\n"
    "                     ~/.pht/runs/RUN; RUN is the first round's train id)\n"
    "  --resume RUN       go on with a saved run (RUN: its id or its folder)\n"
    "  --min-stations N   go on when at least N stations released a result\n"
    "                     (default: all of them); the others are named on stderr\n"
    "                     and later rounds go to the stations that answered\n"
    "                     (combine sees which: results.stations; the standard\n"
    "                     iterative trains then restart on them and name the\n"
    "                     others in stations_dropped, docs/train-api.md);\n"
    "                     the result's \"participation\" names the stations\n"
    "                     included and missing in each round, with the\n"
    "                     category each missing one gave\n"
    "  --format F         json (default: one line), table (as R prints a coxph,\n"
    "                     glm or survfit object) or csv (one row per coefficient\n"
    "                     or curve point); docs/std-trains.md, \"Output formats\"\n"
    "  --stations all     every station the node lists that has a pinned key\n"
    "  --permit-file F    the data permit (pht permit issue) every round runs\n"
    "                     under, carried inside each signed train\n"
    "  --approval F       a reviewer's code approval of TRAIN.lua (pht permit\n"
    "                     approve), carried with the permit\n"
    "  --config FILE      ANALYST.json with any of: node, cert, key, ca,\n"
    "                     sign_key, seal_key, station_keys, stations, datasets,\n"
    "                     timeout, expires, min_stations (paths relative to\n"
    "                     the file; options given on the command line win)\n"
    "\n"
    "pht stations lists the stations the node knows, their datasets (from the\n"
    "published dictionaries) and when they were last seen.\n"
    "\n"
    "Exit codes: 0 done, 1 the run failed (too few stations, a combine error,\n"
    "the node unreachable), 2 bad usage or unreadable input, 3 stopped waiting\n"
    "(the run folder holds the run: pht results RUN).\n";

/* The options of both commands, as given or from ANALYST.json. */
struct run_opts {
	const char *train, *node, *cert, *key, *ca, *sign_key, *seal_key;
	const char *station_keys, *stations, *params, *datasets, *timeout, *out;
	const char *min_stations, *max_rounds, *config, *permit_file, *approval;
	const char *format;
	const char *expires, *run_dir, *resume;
	int json, check, detach;
	struct pht_analyst_config cfg;  /* holds the strings taken from the config */
};

static void
opts_clear(struct run_opts *o)
{
	pht_analyst_config_clear(&o->cfg);
}

/* Options not given on the command line taken from ANALYST.json. */
static int
load_config(struct run_opts *o, const char *cmd)
{
	const struct pht_analyst_config *c = &o->cfg;
	struct {
		const char **opt;
		const char *const *cfg;
	} tab[] = {
		{&o->cert, &c->cert}, {&o->key, &c->key}, {&o->ca, &c->ca},
		{&o->sign_key, &c->sign_key}, {&o->seal_key, &c->seal_key},
		{&o->station_keys, &c->station_keys}, {&o->node, &c->node},
		{&o->timeout, &c->timeout}, {&o->datasets, &c->datasets},
		{&o->stations, &c->stations}, {&o->min_stations, &c->min_stations},
		{&o->expires, &c->expires},
	};
	struct pht_err err;
	size_t i;
	int r;

	if ((r = pht_analyst_config_load(o->config, &o->cfg, &err)) != PHT_OK) {
		pht_cli_error(cmd, &err);
		return pht_cli_exit_for(r);
	}
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (*tab[i].opt == NULL)
			*tab[i].opt = *tab[i].cfg;
	return PHT_EXIT_OK;
}

/*
 * The option table of pht run (every row) and pht stations (the rows up
 * to R_STATIONS_END), parsed by pht_cli_opt_parse into o; then
 * ANALYST.json fills what the command line left out.
 */
enum { R_NODE, R_CERT, R_KEY, R_CA, R_CONFIG, R_JSON, R_STATIONS_END = R_JSON + 1,
    R_SIGN = R_STATIONS_END, R_SEAL, R_STKEYS, R_STATIONS, R_PARAMS, R_DATASETS,
    R_TIMEOUT, R_OUT, R_MIN, R_MAXR, R_PERMIT, R_APPROVAL, R_FORMAT, R_CHECK, R_EXPIRES,
    R_DETACH, R_RUN_DIR, R_RESUME, R_N };

static const struct pht_cli_opt run_opts_tab[R_N] = {
	PHT_CLI_OPT("node"), PHT_CLI_OPT("cert"), PHT_CLI_OPT("key"), PHT_CLI_OPT("ca"),
	PHT_CLI_OPT("config"), PHT_CLI_OPT_FLAG("json"),
	PHT_CLI_OPT("sign-key"), PHT_CLI_OPT("seal-key"), PHT_CLI_OPT("station-keys"),
	PHT_CLI_OPT("stations"), PHT_CLI_OPT("params"), PHT_CLI_OPT("datasets"),
	PHT_CLI_OPT("timeout"), PHT_CLI_OPT("out"), PHT_CLI_OPT("min-stations"),
	PHT_CLI_OPT("max-rounds"), PHT_CLI_OPT("permit-file"), PHT_CLI_OPT("approval"),
	PHT_CLI_OPT("format"),
	PHT_CLI_OPT_FLAG("check"),
	PHT_CLI_OPT("expires"), PHT_CLI_OPT_FLAG("detach"), PHT_CLI_OPT("run-dir"),
	PHT_CLI_OPT("resume"),
};

static int
parse_opts(int argc, char **argv, size_t nopts, struct run_opts *o, const char *cmd)
{
	struct {
		size_t row;
		const char **slot;
	} tab[] = {
		{R_NODE, &o->node}, {R_CERT, &o->cert}, {R_KEY, &o->key}, {R_CA, &o->ca},
		{R_CONFIG, &o->config}, {R_SIGN, &o->sign_key}, {R_SEAL, &o->seal_key},
		{R_STKEYS, &o->station_keys}, {R_STATIONS, &o->stations},
		{R_PARAMS, &o->params}, {R_DATASETS, &o->datasets},
		{R_TIMEOUT, &o->timeout}, {R_OUT, &o->out}, {R_MIN, &o->min_stations},
		{R_MAXR, &o->max_rounds}, {R_PERMIT, &o->permit_file},
		{R_APPROVAL, &o->approval}, {R_FORMAT, &o->format},
		{R_EXPIRES, &o->expires}, {R_RUN_DIR, &o->run_dir}, {R_RESUME, &o->resume},
	};
	struct pht_cli_opt *opt;
	size_t npos, i;
	int ex;

	if ((opt = malloc(sizeof(run_opts_tab))) == NULL)
		return pht_cli_usage_error(cmd, "out of memory");
	memcpy(opt, run_opts_tab, sizeof(run_opts_tab));
	/* pht stations takes no TRAIN.lua: maxpos 0 */
	ex = pht_cli_opt_parse(cmd, argc, argv, 1, opt, nopts, &o->train,
	    nopts == R_N ? 1 : 0, &npos);
	for (i = 0; ex == PHT_EXIT_OK && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].row < nopts)
			*tab[i].slot = pht_cli_opt_val(&opt[tab[i].row]);
	o->json = opt[R_JSON].n > 0;
	o->check = nopts > R_CHECK && opt[R_CHECK].n > 0;
	o->detach = nopts > R_DETACH && opt[R_DETACH].n > 0;
	free(opt);
	if (ex == PHT_EXIT_OK && o->config != NULL)
		return load_config(o, cmd);
	return ex;
}

/* Splits a comma list into out (strings point into buf, which is modified). */
static int
split_list(char *buf, const char **out, size_t max, size_t *n)
{
	char *p = buf, *c;

	*n = 0;
	while (p != NULL && *p != '\0') {
		if ((c = strchr(p, ',')) != NULL)
			*c++ = '\0';
		if (*p == '\0' || *n == max)
			return -1;
		out[(*n)++] = p;
		p = c;
	}
	return *n > 0 ? 0 : -1;
}

static void
http_opts(const struct run_opts *o, struct pht_http_opts *h)
{
	memset(h, 0, sizeof(*h));
	h->cert = o->cert;
	h->key = o->key;
	h->ca = o->ca;
	h->cancel = &pht_cli_stop;   /* SIGINT/SIGTERM: the client stops polling */
}

/* Progress on stderr: rewritten in place on a terminal, one line per change otherwise. */
static void
progress(void *arg, const struct pht_analyst_progress *p)
{
	int tty = isatty(STDERR_FILENO);

	(void)arg;
	fprintf(stderr, "%spht run: round %d: %zu/%zu stations answered, %zu error%s%s",
	    tty ? "\r" : "", p->round, p->answered, p->expected, p->errors,
	    p->errors == 1 ? "" : "s", tty ? "   " : "\n");
	if (p->refused > 0 && !tty)
		fprintf(stderr, "pht run: round %d: %zu result%s refused\n", p->round,
		    p->refused, p->refused == 1 ? "" : "s");
	fflush(stderr);
}

static void
note(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%spht run: %s\n", isatty(STDERR_FILENO) ? "\n" : "", line);
	fflush(stderr);
}

/* --stations all: every listed station with a pinned key. */
static int
all_stations(const struct run_opts *o, const struct pht_trust *keys, char **out)
{
	struct pht_http_opts h;
	struct pht_buf *b = NULL;
	struct pht_err err;
	json_t *list = NULL, *st;
	const char *id, *name;
	size_t i, j;
	int r;

	http_opts(o, &h);
	if ((r = pht_analyst_list_stations(o->node, &h, &list, &err)) != PHT_OK) {
		pht_cli_error("run: listing the stations", &err);
		return pht_cli_exit_for(r);
	}
	if ((b = pht_buf_new(1 << 20)) == NULL) {
		json_decref(list);
		return PHT_EXIT_FAIL;
	}
	json_array_foreach(list, i, st) {
		if ((id = json_string_value(json_object_get(st, "id"))) == NULL)
			continue;
		for (j = 0; j < pht_trust_count(keys); j++) {
			pht_trust_get(keys, j, &name, NULL);
			if (strcmp(name, id) == 0)
				break;
		}
		if (j == pht_trust_count(keys)) {
			fprintf(stderr, "pht run: station %s has no pinned key in %s: "
			    "left out\n", id, o->station_keys);
			continue;
		}
		pht_buf_putf(b, "%s%s", pht_buf_len(b) ? "," : "", id);
	}
	json_decref(list);
	if (pht_buf_len(b) == 0) {
		pht_buf_free(b);
		fprintf(stderr, "pht run: --stations all: the node lists no station "
		    "with a pinned key\n");
		return PHT_EXIT_FAIL;
	}
	*out = pht_buf_steal(b, NULL);
	pht_buf_free(b);
	return PHT_EXIT_OK;
}

/* One pht run: its options and what they load; run_job_clear frees it. */
struct run_job {
	struct run_opts o;
	struct pht_analyst_run_spec spec;
	struct pht_key *sign, *seal;
	struct pht_trust *keys;          /* pinned station keys */
	struct pht_buf *code, *pbuf, *abuf;
	struct pht_permit *permit;
	struct pht_analyst_saved_run saved;  /* --resume: the run folder read back */
	char *run_dir;                       /* the run folder once known */
	struct pht_limits lim;
	struct pht_err err;
	const char *stations[RUN_MAX_STATIONS], *datasets[RUN_MAX_DATASETS];
	char *stlist, *dslist, *seal_path;
	json_t *params, *meta;
	struct pht_train_decl *decl;     /* the train's declared params, or NULL */
	int64_t timeout, expires;
	enum pht_analyst_format format;
};

static void
run_job_clear(struct run_job *j)
{
	free(j->stlist);
	free(j->dslist);
	free(j->seal_path);
	json_decref(j->params);
	pht_train_decl_free(j->decl);
	json_decref(j->meta);
	pht_buf_free(j->code);
	pht_buf_free(j->pbuf);
	pht_buf_free(j->abuf);
	pht_permit_free(j->permit);
	pht_trust_free(j->keys);
	pht_key_free(j->sign);
	pht_key_free(j->seal);
	pht_analyst_runs_clear(&j->saved);
	free(j->run_dir);
	opts_clear(&j->o);
}

/* The options every run needs, and the numbers and params given. */
static int
run_check_opts(struct run_job *j)
{
	const struct run_opts *o = &j->o;
	uint64_t v;

	if (o->train == NULL || o->node == NULL || o->cert == NULL || o->key == NULL ||
	    o->ca == NULL || o->sign_key == NULL || o->station_keys == NULL ||
	    o->stations == NULL)
		return pht_cli_usage_error("run", "give TRAIN.lua, --node, --cert, --key, "
		    "--ca, --sign-key, --station-keys and --stations (or --config)");
	if (strncmp(o->node, "https://", 8) != 0)
		return pht_cli_usage_error("run", "--node %s: must be an https:// URL",
		    o->node);
	if (o->timeout != NULL && pht_duration_parse(o->timeout, &j->timeout) != PHT_OK)
		return pht_cli_usage_error("run", "--timeout %s: give a duration like 90s, "
		    "10m or 1h", o->timeout);
	if (o->expires != NULL && (pht_duration_parse(o->expires, &j->expires) != PHT_OK ||
	    j->expires > 366 * 86400))
		return pht_cli_usage_error("run", "--expires %s: give a duration like 12h, "
		    "7d or 30d (at most 366d)", o->expires);
	if (j->expires < j->timeout)
		return pht_cli_usage_error("run", "--expires %s is shorter than --timeout "
		    "%s: the trains would expire while pht run waits",
		    o->expires != NULL ? o->expires : "7d",
		    o->timeout != NULL ? o->timeout : "10m");
	j->spec.expires = j->expires;
	j->spec.detach = o->detach;
	if (o->min_stations != NULL) {
		if (pht_cli_uint(o->min_stations, 1, RUN_MAX_STATIONS, &v) != 0)
			return pht_cli_usage_error("run", "--min-stations %s: give 1 to %d",
			    o->min_stations, RUN_MAX_STATIONS);
		j->spec.min_stations = (size_t)v;
	}
	if (o->format != NULL && pht_analyst_format_parse(o->format, &j->format) != 0)
		return pht_cli_usage_error("run", "--format %s: give json, table or csv",
		    o->format);
	if (o->max_rounds != NULL) {
		if (pht_cli_uint(o->max_rounds, 1, 100000, &v) != 0)
			return pht_cli_usage_error("run", "--max-rounds %s: give 1 to 100000",
			    o->max_rounds);
		j->spec.max_rounds = (int)v;
	}
	if (o->params != NULL)
		return pht_cli_read_params("run", o->params, &j->params);
	return PHT_EXIT_OK;
}

/* Keys: signing, sealing (beside it by default), the pinned station keys. */
static int
run_load_keys(struct run_job *j)
{
	struct run_opts *o = &j->o;
	size_t len;
	int r;

	if (o->seal_key == NULL) {
		len = strlen(o->sign_key);
		if (len < 9 || strcmp(o->sign_key + len - 9, ".sign.key") != 0)
			return pht_cli_usage_error("run", "--seal-key: give it (the sign key "
			    "is not named NAME.sign.key)");
		if ((j->seal_path = strdup(o->sign_key)) == NULL)
			return PHT_EXIT_FAIL;
		memcpy(j->seal_path + len - 9, ".seal.key", 9);
		o->seal_key = j->seal_path;
	}
	if ((r = pht_key_load_as(o->sign_key, PHT_KEY_SIGN, 1, &j->sign, &j->err)) !=
	    PHT_OK || (r = pht_key_load_as(o->seal_key, PHT_KEY_SEAL, 1, &j->seal,
	    &j->err)) != PHT_OK) {
		pht_cli_error("run", &j->err);
		return pht_cli_exit_for(r);
	}
	if ((j->keys = pht_trust_new()) == NULL)
		return PHT_EXIT_FAIL;
	if ((r = pht_trust_load(j->keys, o->station_keys, &j->err)) != PHT_OK) {
		pht_err_prefix(&j->err, "--station-keys");
		pht_cli_error("run", &j->err);
		return pht_cli_exit_for(r);
	}
	return PHT_EXIT_OK;
}

/* The train, the permit and approval it carries, and its description. */
static int
run_load_train(struct run_job *j)
{
	const struct run_opts *o = &j->o;
	int r;

	if ((r = pht_cli_read_train(o->train, PHT_TRAIN_CODE_MAX, &j->code, &j->err)) !=
	    PHT_OK) {
		pht_cli_error("run", &j->err);
		return pht_cli_exit_for(r);
	}
	if (o->permit_file != NULL) {
		/* the permit travels inside every round's signed train */
		if ((r = pht_cli_read_permit(o->permit_file, &j->pbuf, &j->permit,
		    &j->err)) != PHT_OK) {
			pht_cli_error("run", &j->err);
			return pht_cli_exit_for(r);
		}
		j->spec.permit = pht_permit_id(j->permit);
		j->spec.permit_envelope = pht_buf_str(j->pbuf);
	}
	if (o->approval != NULL) {
		if (o->permit_file == NULL)
			return pht_cli_usage_error("run", "--approval needs --permit-file "
			    "(approvals count under a permit's reviewers)");
		if ((r = pht_cli_load_approval("run", o->approval, pht_buf_str(j->code),
		    pht_buf_len(j->code), &j->abuf)) != PHT_EXIT_OK)
			return r;
		j->spec.code_approval = pht_buf_str(j->abuf);
	}
	pht_limits_default(&j->lim);
	if (pht_train_describe(pht_buf_str(j->code), pht_buf_len(j->code), o->train,
	    &j->lim, &j->meta, &j->err) != PHT_OK) {
		pht_cli_error("run", &j->err);
		return PHT_EXIT_FAIL;
	}
	return PHT_EXIT_OK;
}

/* The target stations (each with a pinned key) and the datasets. */
static int
run_targets(struct run_job *j)
{
	const struct run_opts *o = &j->o;
	const char *name;
	size_t i, k;
	int rc;

	if (strcmp(o->stations, "all") == 0) {
		if ((rc = all_stations(o, j->keys, &j->stlist)) != PHT_EXIT_OK)
			return rc;
	} else if ((j->stlist = strdup(o->stations)) == NULL) {
		return PHT_EXIT_FAIL;
	}
	if (split_list(j->stlist, j->stations, RUN_MAX_STATIONS, &j->spec.nstations) != 0)
		return pht_cli_usage_error("run", "--stations %s: give A,B,... or all",
		    o->stations);
	for (i = 0; i < j->spec.nstations; i++) {
		for (k = 0; k < pht_trust_count(j->keys); k++) {
			pht_trust_get(j->keys, k, &name, NULL);
			if (strcmp(name, j->stations[i]) == 0)
				break;
		}
		if (k == pht_trust_count(j->keys))
			return pht_cli_usage_error("run", "station %s has no pinned key in %s "
			    "(%s.sign.pub)", j->stations[i], o->station_keys, j->stations[i]);
	}
	if (o->datasets != NULL && ((j->dslist = strdup(o->datasets)) == NULL ||
	    split_list(j->dslist, j->datasets, RUN_MAX_DATASETS, &j->spec.ndatasets) != 0))
		return pht_cli_usage_error("run", "--datasets %s: give D1,D2,...",
		    o->datasets);
	return PHT_EXIT_OK;
}

/*
 * Before anything is signed or sent: the params against the train's
 * declaration, and the columns they name against the dictionaries the
 * target stations publish (GET /v1/stations).
 */
static int
run_check(struct run_job *j)
{
	struct pht_analyst_check c;
	struct pht_http_opts h;
	json_t *list = NULL;
	size_t problems;
	int rc;

	if ((rc = pht_cli_check_start("run", j->meta, j->params, &j->decl, &c)) !=
	    PHT_EXIT_OK)
		return rc;
	if (j->decl == NULL) {
		if (j->o.check)
			fprintf(stderr, "pht run: the train declares no params: nothing to "
			    "check\n");
		return PHT_EXIT_OK;
	}
	c.datasets = j->datasets;
	c.ndatasets = j->spec.ndatasets;
	http_opts(&j->o, &h);
	if (pht_analyst_list_stations(j->o.node, &h, &list, &j->err) != PHT_OK) {
		pht_cli_error("run: the stations' dictionaries", &j->err);
		return PHT_EXIT_FAIL;
	}
	problems = pht_analyst_check_stations(&c, list, j->stations, j->spec.nstations);
	json_decref(list);
	if (problems > 0)
		return PHT_EXIT_USAGE;
	if (j->o.check)
		fprintf(stderr, "pht run: the params fit the train and the dictionaries of "
		    "the %zu station%s\n", j->spec.nstations, j->spec.nstations == 1 ? "" : "s");
	return PHT_EXIT_OK;
}

/* The final result on stdout in --format and, with --out, in a file (JSON). */
static int
run_print(const struct run_job *j, const json_t *result)
{
	struct pht_err err;
	char *dump = NULL, *text = NULL;
	size_t len;
	int rc = PHT_EXIT_FAIL;

	if (pht_analyst_format(result, j->format, &text, &err) != PHT_OK) {
		pht_cli_error("run: --format", &err);
		return PHT_EXIT_FAIL;
	}
	fputs(text, stdout);
	free(text);
	if (fflush(stdout) != 0)
		goto out;
	if (j->o.out != NULL && (dump = pht_json_dump(result)) == NULL)
		goto out;
	if (j->o.out != NULL) {
		len = strlen(dump);
		dump[len] = '\n';
		if (pht_file_write_atomic(j->o.out, dump, len + 1, 0644, &err) != PHT_OK) {
			pht_cli_error("run: --out", &err);
			goto out;
		}
	}
	rc = PHT_EXIT_OK;
out:
	free(dump);
	return rc;
}

/*
 * --resume RUN: the run folder read back into the job (the files, the
 * train as signed, the round in flight); only --timeout, --out and
 * --format may be given with it. j->saved.result set: the run was done already.
 */
static int
run_resume(struct run_job *j)
{
	struct run_opts *o = &j->o;
	struct pht_analyst_saved_run *sv = &j->saved;
	const struct pht_analyst_runs_files *f = &sv->files;
	size_t i;
	int r;

	if (o->train != NULL || o->node != NULL || o->cert != NULL || o->key != NULL ||
	    o->ca != NULL || o->sign_key != NULL || o->seal_key != NULL ||
	    o->station_keys != NULL || o->stations != NULL || o->params != NULL ||
	    o->datasets != NULL || o->min_stations != NULL || o->max_rounds != NULL ||
	    o->permit_file != NULL || o->approval != NULL || o->config != NULL ||
	    o->expires != NULL || o->detach || o->run_dir != NULL || o->check)
		return pht_cli_usage_error("run", "--resume RUN takes only --timeout, --out "
		    "and --format: the rest is in the run folder");
	if (o->format != NULL && pht_analyst_format_parse(o->format, &j->format) != 0)
		return pht_cli_usage_error("run", "--format %s: give json, table or csv",
		    o->format);
	if ((r = pht_analyst_runs_path(o->resume, &j->run_dir, &j->err)) != PHT_OK ||
	    (r = pht_analyst_runs_load(j->run_dir, sv, &j->err)) != PHT_OK) {
		pht_cli_error("run: --resume", &j->err);
		return pht_cli_exit_for(r);
	}
	if (sv->result != NULL)
		return PHT_EXIT_OK;
	if (o->timeout == NULL)
		j->timeout = sv->timeout;
	else if (strcmp(o->timeout, "0") == 0)
		j->timeout = 0;
	else if (pht_duration_parse(o->timeout, &j->timeout) != PHT_OK)
		return pht_cli_usage_error("run", "--timeout %s: give 0 or a duration like "
		    "90s, 10m or 1h", o->timeout);
	o->node = f->node;
	o->cert = f->cert;
	o->key = f->key;
	o->ca = f->ca;
	o->sign_key = f->sign_key;
	o->seal_key = f->seal_key;
	o->station_keys = f->station_keys;
	o->train = f->train != NULL ? f->train : "train.lua";
	if ((r = run_load_keys(j)) != PHT_EXIT_OK)
		return r;
	j->code = sv->code;
	sv->code = NULL; /* transferred */
	pht_limits_default(&j->lim);
	if (pht_train_describe(pht_buf_str(j->code), pht_buf_len(j->code), o->train,
	    &j->lim, &j->meta, &j->err) != PHT_OK) {
		pht_cli_error("run", &j->err);
		return PHT_EXIT_FAIL;
	}
	if (sv->nstations > RUN_MAX_STATIONS || sv->ndatasets > RUN_MAX_DATASETS)
		return pht_cli_usage_error("run", "%s: too many stations or datasets",
		    j->run_dir);
	for (i = 0; i < sv->nstations; i++)
		j->stations[i] = sv->stations[i];
	for (i = 0; i < sv->ndatasets; i++)
		j->datasets[i] = sv->datasets[i];
	j->spec.nstations = sv->nstations;
	j->spec.ndatasets = sv->ndatasets;
	j->params = json_incref((json_t *)sv->params);
	j->spec.permit = sv->permit;
	j->spec.permit_envelope = sv->permit_envelope;
	j->spec.code_approval = sv->code_approval;
	j->spec.min_stations = sv->min_stations;
	j->spec.max_rounds = sv->max_rounds;
	j->spec.expires = sv->expires;
	j->spec.resume = &sv->resume;
	return PHT_EXIT_OK;
}

/* The run stopped waiting: saved in its run folder, and how to go on. */
static int
run_stopped(struct run_job *j, const json_t *report)
{
	const json_t *w = json_object_get(report, "waiting");
	const char *run = json_string_value(json_array_get(json_object_get(report,
	    "train_ids"), 0));
	struct pht_analyst_runs_files f;
	char until[21];
	int r;

	if (j->run_dir == NULL && j->o.run_dir != NULL &&
	    (j->run_dir = strdup(j->o.run_dir)) == NULL)
		return PHT_EXIT_FAIL;
	if (j->run_dir == NULL && (r = pht_analyst_runs_path(run, &j->run_dir,
	    &j->err)) != PHT_OK) {
		pht_cli_error("run: the run folder", &j->err);
		return PHT_EXIT_FAIL;
	}
	memset(&f, 0, sizeof(f));
	f.node = j->o.node;
	f.cert = j->o.cert;
	f.key = j->o.key;
	f.ca = j->o.ca;
	f.sign_key = j->o.sign_key;
	f.seal_key = j->o.seal_key;
	f.station_keys = j->o.station_keys;
	f.train = j->o.train;
	if ((r = pht_analyst_runs_save(j->run_dir, &j->spec, &f, report, &j->err)) !=
	    PHT_OK) {
		pht_cli_error("run: saving the run folder", &j->err);
		return PHT_EXIT_FAIL;
	}
	pht_time_format(json_integer_value(json_object_get(w, "expires")), until);
	fprintf(stderr, "pht run: stopped waiting in round %lld (train %s, valid at the "
	    "stations until %s); the run is saved in %s\n"
	    "pht run: pick up the results later with: pht results %s\n",
	    (long long)json_integer_value(json_object_get(w, "round")),
	    json_string_value(json_object_get(w, "train")), until, j->run_dir,
	    j->o.run_dir != NULL || j->o.resume != NULL ? j->run_dir : run);
	return PHT_EXIT_WAITING;
}

/* The rounds through the node (pht_analyst_run); what failed on stderr. */
static int
run_dispatch(struct run_job *j)
{
	struct pht_analyst_run_spec *spec = &j->spec;
	json_t *result = NULL, *report = NULL, *f;
	size_t i;
	int r, rc = PHT_EXIT_FAIL;

	pht_cli_catch_stop(0);

	spec->node_url = j->o.node;
	http_opts(&j->o, &spec->http);
	spec->sign_key = j->sign;
	spec->seal_key = j->seal;
	spec->station_keys = j->keys;
	spec->stations = j->stations;
	spec->code = pht_buf_str(j->code);
	spec->code_len = pht_buf_len(j->code);
	spec->chunkname = j->o.train;
	spec->name = json_string_value(json_object_get(j->meta, "name"));
	spec->params = j->params;
	spec->datasets = j->datasets;
	spec->round_timeout = j->timeout;
	if (spec->expires == 0)
		spec->expires = j->expires;
	spec->limits = &j->lim;
	spec->progress = progress;
	spec->note = note;
	fprintf(stderr, "pht run: train %s %s to %zu station%s via %s\n", spec->name,
	    json_string_value(json_object_get(j->meta, "version")), spec->nstations,
	    spec->nstations == 1 ? "" : "s", j->o.node);
	r = pht_analyst_run(spec, &result, &report, &j->err);
	json_array_foreach(json_object_get(report, "failed"), i, f)
		fprintf(stderr, "pht run: station %s, round %lld: %s\n",
		    json_string_value(json_object_get(f, "station")),
		    (long long)json_integer_value(json_object_get(f, "round")),
		    json_string_value(json_object_get(f, "reason")));
	if (r != PHT_OK)
		pht_cli_error("run", &j->err);
	else if (result == NULL)
		rc = run_stopped(j, report);
	else if ((rc = run_print(j, result)) == PHT_EXIT_OK && j->run_dir != NULL &&
	    pht_analyst_runs_done(j->run_dir, result, &j->err) != PHT_OK)
		pht_cli_error("run: the run folder", &j->err);
	json_decref(result);
	json_decref(report);
	return rc;
}

int
pht_cmd_run(int argc, char **argv)
{
	struct run_job *j;
	int rc;

	if (pht_cli_wants_help(argc, argv)) {
		fputs(run_help, stdout);
		return PHT_EXIT_OK;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		fprintf(stderr, "pht run: out of memory\n");
		return PHT_EXIT_FAIL;
	}
	pht_err_clear(&j->err);
	j->timeout = 600;
	j->expires = 7 * 86400;
	if ((rc = parse_opts(argc, argv, R_N, &j->o, "run")) != PHT_EXIT_OK)
		;
	else if (j->o.resume != NULL) {
		if ((rc = run_resume(j)) == PHT_EXIT_OK)
			rc = j->saved.result != NULL ? run_print(j, j->saved.result) :
			    run_dispatch(j);
	} else if ((rc = run_check_opts(j)) == PHT_EXIT_OK &&
	    (rc = run_load_keys(j)) == PHT_EXIT_OK &&
	    (rc = run_load_train(j)) == PHT_EXIT_OK &&
	    (rc = run_targets(j)) == PHT_EXIT_OK &&
	    (rc = run_check(j)) == PHT_EXIT_OK && !j->o.check)
		rc = run_dispatch(j);
	run_job_clear(j);
	free(j);
	return rc;
}

int
pht_cmd_stations(int argc, char **argv)
{
	struct run_opts o;
	struct pht_http_opts h;
	struct pht_err err;
	json_t *list = NULL, *st, *dicts, *d;
	const char *id, *seen, *dname;
	char *dump;
	size_t i;
	int r, rc;

	memset(&o, 0, sizeof(o));
	if (pht_cli_wants_help(argc, argv)) {
		fputs(run_help, stdout);
		return PHT_EXIT_OK;
	}
	if ((rc = parse_opts(argc, argv, R_STATIONS_END, &o, "stations")) != PHT_EXIT_OK)
		goto out;
	if (o.train != NULL || o.node == NULL || o.cert == NULL || o.key == NULL ||
	    o.ca == NULL) {
		rc = pht_cli_usage_error("stations", "give --node, --cert, --key and --ca "
		    "(or --config)");
		goto out;
	}
	http_opts(&o, &h);
	pht_err_clear(&err);
	if ((r = pht_analyst_list_stations(o.node, &h, &list, &err)) != PHT_OK) {
		pht_cli_error("stations", &err);
		rc = PHT_EXIT_FAIL;
		goto out;
	}
	if (o.json) {
		if ((dump = pht_json_dump(list)) != NULL)
			printf("%s\n", dump);
		free(dump);
		rc = PHT_EXIT_OK;
		goto out;
	}
	printf("%-20s %-22s %s\n", "STATION", "LAST SEEN", "DATASETS (columns)");
	json_array_foreach(list, i, st) {
		id = json_string_value(json_object_get(st, "id"));
		seen = json_string_value(json_object_get(st, "last_seen"));
		printf("%-20s %-22s ", id != NULL ? id : "?", seen != NULL ? seen : "never");
		dicts = json_object_get(st, "dictionaries");
		if (!json_is_object(dicts) || json_object_size(dicts) == 0)
			printf("(none published)");
		else {
			int first = 1;
			json_object_foreach(dicts, dname, d) {
				printf("%s%s (%zu)", first ? "" : ", ", dname,
				    json_array_size(json_object_get(d, "columns")));
				first = 0;
			}
		}
		printf("\n");
	}
	rc = PHT_EXIT_OK;
out:
	json_decref(list);
	opts_clear(&o);
	return rc;
}
