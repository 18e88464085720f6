/* cmd_run.c — pht run (dispatch a train through the federation) and pht stations (list them). */
#include "pht_cli.h"
#include "cmd_permit.h"
#include "pht_analyst_config.h"

#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_envelope.h"
#include "pht_analyst_client.h"
#include "pht_permit.h"
#include "pht_time.h"
#include "pht_train.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"
#include "pht_limits.h"

#include <errno.h>
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
    "               --station-keys DIR --stations A,B,...|all [--params JSON]\n"
    "               [--datasets D1,D2] [--timeout 10m] [--min-stations N]\n"
    "               [--max-rounds N] [--out FILE] [--config ANALYST.json]\n"
    "               [--permit-file PERMIT [--approval APPROVAL]]\n"
    "       pht stations --node URL --cert CERT --key KEY --ca CA [--json]\n"
    "               [--config ANALYST.json]\n"
    "\n"
    "pht run dispatches a train through the federation node: each round it\n"
    "signs a train envelope with --sign-key (results are sealed to the X25519\n"
    "key beside it, --seal-key), posts it, waits for the stations' results\n"
    "(progress on stderr), verifies each result's signature against the\n"
    "station's pinned key in --station-keys (DIR/STATION.sign.pub or\n"
    "DIR/STATION.pub), opens it, and runs the train's combine in the sandbox,\n"
    "until combine says done. The final result is printed as JSON on stdout\n"
    "(and written to --out FILE).\n"
    "\n"
    "  --timeout D        how long each round may take (90s, 10m, 1h; default 10m)\n"
    "  --min-stations N   go on when at least N stations released a result\n"
    "                     (default: all of them); the others are named on stderr\n"
    "                     and later rounds go to the stations that answered\n"
    "                     (combine sees which: results.stations; the standard\n"
    "                     iterative trains then restart on them and name the\n"
    "                     others in stations_dropped, docs/train-api.md)\n"
    "  --stations all     every station the node lists that has a pinned key\n"
    "  --permit-file F    the data permit (pht permit issue) every round runs\n"
    "                     under, carried inside each signed train\n"
    "  --approval F       a reviewer's code approval of TRAIN.lua (pht permit\n"
    "                     approve), carried with the permit\n"
    "  --config FILE      ANALYST.json with any of: node, cert, key, ca,\n"
    "                     sign_key, seal_key, station_keys, stations, datasets,\n"
    "                     timeout, min_stations (paths relative to the file;\n"
    "                     options given on the command line win)\n"
    "\n"
    "pht stations lists the stations the node knows, their datasets (from the\n"
    "published dictionaries) and when they were last seen.\n"
    "\n"
    "Exit codes: 0 done, 1 the run failed (too few stations, a combine error,\n"
    "the node unreachable), 2 bad usage or unreadable input.\n";

/* Set by SIGINT/SIGTERM: the client stops polling (a handler only sets a flag). */
static volatile sig_atomic_t run_stop;

static void
on_signal(int sig)
{
	(void)sig;
	run_stop = 1;
}

/* The options of both commands, as given or from ANALYST.json. */
struct run_opts {
	const char *train, *node, *cert, *key, *ca, *sign_key, *seal_key;
	const char *station_keys, *stations, *params, *datasets, *timeout, *out;
	const char *min_stations, *max_rounds, *config, *permit_file, *approval;
	int json;
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

static int
parse_opts(int argc, char **argv, int first, struct run_opts *o, const char *cmd)
{
	struct { const char *name; const char **slot; } tab[] = {
		{"--node", &o->node}, {"--cert", &o->cert}, {"--key", &o->key},
		{"--ca", &o->ca}, {"--sign-key", &o->sign_key}, {"--seal-key", &o->seal_key},
		{"--station-keys", &o->station_keys}, {"--stations", &o->stations},
		{"--params", &o->params}, {"--datasets", &o->datasets},
		{"--timeout", &o->timeout}, {"--out", &o->out},
		{"--min-stations", &o->min_stations}, {"--max-rounds", &o->max_rounds},
		{"--config", &o->config}, {"--permit-file", &o->permit_file},
		{"--approval", &o->approval},
	};
	size_t t;
	int i;

	for (i = first; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			o->json = 1;
			continue;
		}
		for (t = 0; t < sizeof(tab) / sizeof(tab[0]); t++)
			if (strcmp(argv[i], tab[t].name) == 0)
				break;
		if (t < sizeof(tab) / sizeof(tab[0])) {
			if (i + 1 >= argc || *tab[t].slot != NULL)
				return pht_cli_usage_error(cmd, "option %s needs one value "
				    "(given once)", argv[i]);
			*tab[t].slot = argv[++i];
		} else if (argv[i][0] != '-' && o->train == NULL) {
			o->train = argv[i];
		} else {
			return pht_cli_usage_error(cmd, "unknown option or extra argument "
			    "'%s'", argv[i]);
		}
	}
	if (o->config != NULL)
		return load_config(o, cmd);
	return PHT_EXIT_OK;
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
	h->cancel = &run_stop;
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

int
pht_cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct pht_analyst_run_spec spec;
	struct pht_key *sign = NULL, *seal = NULL;
	struct pht_trust *keys = NULL;
	struct pht_buf *code = NULL, *pbuf = NULL, *abuf = NULL;
	struct pht_permit *permit = NULL;
	struct pht_limits lim;
	struct pht_err err;
	struct sigaction sa;
	const char *stations[RUN_MAX_STATIONS], *datasets[RUN_MAX_DATASETS];
	char *stlist = NULL, *dslist = NULL, *seal_path = NULL, *dump = NULL;
	json_t *params = NULL, *meta = NULL, *result = NULL, *report = NULL, *f;
	int64_t timeout = 600, v;
	size_t nst = 0, nds = 0, i, len;
	int rc = PHT_EXIT_FAIL, r;
	char *end;

	memset(&o, 0, sizeof(o));
	memset(&spec, 0, sizeof(spec));
	pht_err_clear(&err);
	if (pht_cli_wants_help(argc, argv)) {
		fputs(run_help, stdout);
		return PHT_EXIT_OK;
	}
	if ((rc = parse_opts(argc, argv, 1, &o, "run")) != PHT_EXIT_OK)
		goto out;
	rc = PHT_EXIT_USAGE;
	if (o.train == NULL || o.node == NULL || o.cert == NULL || o.key == NULL ||
	    o.ca == NULL || o.sign_key == NULL || o.station_keys == NULL ||
	    o.stations == NULL) {
		rc = pht_cli_usage_error("run", "give TRAIN.lua, --node, --cert, --key, "
		    "--ca, --sign-key, --station-keys and --stations (or --config)");
		goto out;
	}
	if (strncmp(o.node, "https://", 8) != 0) {
		rc = pht_cli_usage_error("run", "--node %s: must be an https:// URL", o.node);
		goto out;
	}
	if (o.timeout != NULL && pht_duration_parse(o.timeout, &timeout) != PHT_OK) {
		rc = pht_cli_usage_error("run", "--timeout %s: give a duration like 90s, "
		    "10m or 1h", o.timeout);
		goto out;
	}
	if (o.min_stations != NULL) {
		errno = 0;
		v = strtoll(o.min_stations, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1 || v > RUN_MAX_STATIONS) {
			rc = pht_cli_usage_error("run", "--min-stations %s: give 1 to %d",
			    o.min_stations, RUN_MAX_STATIONS);
			goto out;
		}
		spec.min_stations = (size_t)v;
	}
	if (o.max_rounds != NULL) {
		errno = 0;
		v = strtoll(o.max_rounds, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1 || v > 100000) {
			rc = pht_cli_usage_error("run", "--max-rounds %s: give 1 to 100000",
			    o.max_rounds);
			goto out;
		}
		spec.max_rounds = (int)v;
	}
	if (o.params != NULL) {
		if (pht_json_parse(o.params, strlen(o.params), "--params", &params,
		    &err) != PHT_OK || !json_is_object(params)) {
			if (params != NULL)
				pht_errf(&err, PHT_ERR_INVALID, "--params: not a JSON object");
			pht_cli_error("run", &err);
			goto out;
		}
	}
	/* keys: signing, sealing (beside it by default), pinned station keys */
	if (o.seal_key == NULL) {
		len = strlen(o.sign_key);
		if (len < 9 || strcmp(o.sign_key + len - 9, ".sign.key") != 0) {
			rc = pht_cli_usage_error("run", "--seal-key: give it (the sign key "
			    "is not named NAME.sign.key)");
			goto out;
		}
		if ((seal_path = strdup(o.sign_key)) == NULL)
			goto out;
		memcpy(seal_path + len - 9, ".seal.key", 9);
		o.seal_key = seal_path;
	}
	if ((r = pht_key_load_as(o.sign_key, PHT_KEY_SIGN, 1, &sign, &err)) != PHT_OK ||
	    (r = pht_key_load_as(o.seal_key, PHT_KEY_SEAL, 1, &seal, &err)) != PHT_OK) {
		pht_cli_error("run", &err);
		rc = pht_cli_exit_for(r);
		goto out;
	}
	if ((keys = pht_trust_new()) == NULL)
		goto out;
	if ((r = pht_trust_load(keys, o.station_keys, &err)) != PHT_OK) {
		pht_err_prefix(&err, "--station-keys");
		pht_cli_error("run", &err);
		rc = pht_cli_exit_for(r);
		goto out;
	}
	if ((r = pht_cli_read_train(o.train, PHT_TRAIN_CODE_MAX, &code, &err)) != PHT_OK) {
		pht_cli_error("run", &err);
		rc = pht_cli_exit_for(r);
		goto out;
	}
	if (o.permit_file != NULL) {
		/* the permit travels inside every round's signed train */
		if ((r = pht_cli_read_permit(o.permit_file, &pbuf, &permit, &err)) !=
		    PHT_OK) {
			pht_cli_error("run", &err);
			rc = pht_cli_exit_for(r);
			goto out;
		}
		spec.permit = pht_permit_id(permit);
		spec.permit_envelope = pht_buf_str(pbuf);
	}
	if (o.approval != NULL) {
		if (o.permit_file == NULL) {
			rc = pht_cli_usage_error("run", "--approval needs --permit-file "
			    "(approvals count under a permit's reviewers)");
			goto out;
		}
		if ((rc = pht_cli_load_approval("run", o.approval, pht_buf_str(code),
		    pht_buf_len(code), &abuf)) != PHT_EXIT_OK)
			goto out;
		spec.code_approval = pht_buf_str(abuf);
		rc = PHT_EXIT_FAIL;
	}
	pht_limits_default(&lim);
	if ((r = pht_train_describe(pht_buf_str(code), pht_buf_len(code), o.train, &lim,
	    &meta, &err)) != PHT_OK) {
		pht_cli_error("run", &err);
		rc = PHT_EXIT_FAIL;
		goto out;
	}
	/* station list */
	if (strcmp(o.stations, "all") == 0) {
		if ((rc = all_stations(&o, keys, &stlist)) != PHT_EXIT_OK)
			goto out;
		rc = PHT_EXIT_USAGE;
	} else if ((stlist = strdup(o.stations)) == NULL) {
		goto out;
	}
	if (split_list(stlist, stations, RUN_MAX_STATIONS, &nst) != 0) {
		rc = pht_cli_usage_error("run", "--stations %s: give A,B,... or all",
		    o.stations);
		goto out;
	}
	for (i = 0; i < nst; i++) {
		size_t j;
		const char *name;
		for (j = 0; j < pht_trust_count(keys); j++) {
			pht_trust_get(keys, j, &name, NULL);
			if (strcmp(name, stations[i]) == 0)
				break;
		}
		if (j == pht_trust_count(keys)) {
			rc = pht_cli_usage_error("run", "station %s has no pinned key in %s "
			    "(%s.sign.pub)", stations[i], o.station_keys, stations[i]);
			goto out;
		}
	}
	if (o.datasets != NULL && ((dslist = strdup(o.datasets)) == NULL ||
	    split_list(dslist, datasets, RUN_MAX_DATASETS, &nds) != 0)) {
		rc = pht_cli_usage_error("run", "--datasets %s: give D1,D2,...", o.datasets);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	spec.node_url = o.node;
	http_opts(&o, &spec.http);
	spec.sign_key = sign;
	spec.seal_key = seal;
	spec.station_keys = keys;
	spec.stations = stations;
	spec.nstations = nst;
	spec.code = pht_buf_str(code);
	spec.code_len = pht_buf_len(code);
	spec.chunkname = o.train;
	spec.name = json_string_value(json_object_get(meta, "name"));
	spec.params = params;
	spec.datasets = datasets;
	spec.ndatasets = nds;
	spec.round_timeout = timeout;
	spec.limits = &lim;
	spec.progress = progress;
	spec.note = note;
	fprintf(stderr, "pht run: train %s %s to %zu station%s via %s\n", spec.name,
	    json_string_value(json_object_get(meta, "version")), nst, nst == 1 ? "" : "s",
	    o.node);
	r = pht_analyst_run(&spec, &result, &report, &err);
	json_array_foreach(json_object_get(report, "failed"), i, f)
		fprintf(stderr, "pht run: station %s, round %lld: %s\n",
		    json_string_value(json_object_get(f, "station")),
		    (long long)json_integer_value(json_object_get(f, "round")),
		    json_string_value(json_object_get(f, "reason")));
	if (r != PHT_OK) {
		pht_cli_error("run", &err);
		rc = PHT_EXIT_FAIL;
		goto out;
	}
	if ((dump = pht_json_dump(result)) == NULL)
		goto out;
	printf("%s\n", dump);
	if (fflush(stdout) != 0)
		goto out;
	if (o.out != NULL) {
		len = strlen(dump);
		dump[len] = '\n';
		r = pht_file_write_atomic(o.out, dump, len + 1, 0644, &err);
		dump[len] = '\0';
		if (r != PHT_OK) {
			pht_cli_error("run: --out", &err);
			goto out;
		}
	}
	rc = PHT_EXIT_OK;
out:
	free(dump);
	free(stlist);
	free(dslist);
	free(seal_path);
	json_decref(params);
	json_decref(meta);
	json_decref(result);
	json_decref(report);
	pht_buf_free(code);
	pht_buf_free(pbuf);
	pht_buf_free(abuf);
	pht_permit_free(permit);
	pht_trust_free(keys);
	pht_key_free(sign);
	pht_key_free(seal);
	opts_clear(&o);
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
	if ((rc = parse_opts(argc, argv, 1, &o, "stations")) != PHT_EXIT_OK)
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
