/* cmd_station.c — pht station exec, halt|resume and orders (run, queue and decide: cmd_station_daemon.c). */
#include "pht_cli.h"
#include "cmd_catalog.h"
#include "cmd_permit.h"
#include "cmd_station_daemon.h"

#include "pht_buf.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_station_config.h"
#include "pht_resultmsg.h"
#include "pht_key.h"
#include "pht_station_exec.h"
#include "pht_station_gov.h"
#include "pht_station_redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *station_help =
    "usage: pht station exec --config STATION.json TRAIN.signed\n"
    "       pht station run --config STATION.json [--wait S] [--backoff-max S]\n"
    "       pht station queue --config STATION.json [--json]\n"
    "       pht station queue show --config STATION.json ID [--std DIR]\n"
    "       pht station approve|refuse --config STATION.json ID [--by NAME]\n"
    "       pht station halt|resume --config STATION.json [--by NAME] [--reason TEXT]\n"
    "       pht station orders --config STATION.json REVOCATIONS|HALT-ORDER ...\n"
    "       pht station catalog --config STATION.json\n"
    "\n"
    "catalog: prints this station's DCAT-AP catalogue entry (docs/catalog.md).\n"
    "halt: no train runs until resume, and a running one is killed at once\n"
    "(within about 50 ms); both are logged (docs/governance.md).\n"
    "run: the station daemon (docs/federation.md): connects out to the node\n"
    "in the config's node section, publishes the data dictionaries, long-polls\n"
    "the inbox (--wait, default 30 s), takes every train through the steps\n"
    "below and posts a signed result sealed to the analyst. Retries with\n"
    "backoff up to --backoff-max seconds (default 30) while the node is away.\n"
    "queue/approve/refuse: trains of 'review' signers wait in the approval\n"
    "queue; a steward's decision is logged in the audit log. queue lists\n"
    "them with their expiry; queue show ID prints one with its permit, the\n"
    "columns it names, its code and a diff against the standard train of\n"
    "its name (DIR/NAME.lua; default PHT_TRAIN_STD or the built-in\n"
    "trains/std). approve refuses a train that has expired.\n"
    "\n"
    "exec:\n"
    "Runs one signed train at this station, as the station daemon does:\n"
    "verifies the envelope against the station's trusted signers, checks the\n"
    "payload (code hash, expiry), refuses a train id seen before, checks that\n"
    "this station is a target and holds a dataset the train names, queues\n"
    "trains of signers marked 'review', runs the train in the sandbox with\n"
    "the policy's limits and k, checks the output against the policy's caps,\n"
    "and logs every step to the station's audit log.\n"
    "\n"
    "On release, prints the released output (JSON, one line) on stdout and\n"
    "nothing else there. The station config is described in\n"
    "docs/station-config.md.\n"
    "\n"
    "Exit codes: 0 released (or queued for review: said on stderr), 1 the\n"
    "train was rejected, failed or its output withheld (reason on stderr and\n"
    "in the audit log, then the answer the analyst would get: one generic\n"
    "answer for anything that may depend on data values), 2 bad usage or an\n"
    "unreadable config.\n";

static int
station_exec(int argc, char **argv)
{
	struct pht_station_config *cfg = NULL;
	struct pht_station *st = NULL;
	struct pht_station_result res;
	struct pht_buf *env = NULL;
	struct pht_cli_opt o[1] = {PHT_CLI_OPT("config")};
	const char *config, *file = NULL;
	struct pht_err err;
	char *out = NULL;
	size_t npos;
	int r, rc = PHT_EXIT_FAIL;

	memset(&res, 0, sizeof(res));
	pht_err_clear(&err);
	if (pht_cli_opt_parse("station exec", argc, argv, 2, o, 1, &file, 1, &npos) != 0)
		return PHT_EXIT_USAGE;
	config = pht_cli_opt_val(&o[0]);
	if (config == NULL || file == NULL)
		return pht_cli_usage_error("station exec",
		    "give --config STATION.json and one TRAIN.signed");
	if ((r = pht_station_config_load(config, &cfg, &err)) != PHT_OK) {
		pht_cli_error("station exec", &err);
		return pht_cli_exit_for(r);
	}
	if ((r = pht_file_read(file, PHT_ENVELOPE_MAX, &env, &err)) != PHT_OK) {
		pht_station_config_free(cfg);
		pht_cli_error("station exec", &err);
		return pht_cli_exit_for(r);
	}
	if ((r = pht_station_open(cfg, &st, &err)) != PHT_OK) {
		pht_cli_error("station exec", &err);
		rc = pht_cli_exit_for(r);
		goto out;
	}
	if ((r = pht_station_exec(st, pht_buf_str(env), pht_buf_len(env), &res, &err)) !=
	    PHT_OK) {
		pht_cli_error("station exec: the station could not do its job", &err);
		rc = PHT_EXIT_FAIL;
		goto out;
	}
	switch (res.outcome) {
	case PHT_STATION_RELEASED:
		if ((out = pht_json_dump(res.output)) == NULL) {
			fprintf(stderr, "pht station exec: out of memory\n");
			goto out;
		}
		printf("%s\n", out);
		fflush(stdout);
		fprintf(stderr, "pht station exec: train %s released (output sha256 %s, "
		    "audit entry %llu)\n", res.train, res.output_sha256,
		    (unsigned long long)res.head.seq);
		rc = PHT_EXIT_OK;
		break;
	case PHT_STATION_QUEUED:
		fprintf(stderr, "pht station exec: train %s queued: %s\n", res.train,
		    pht_err_msg(&err));
		rc = PHT_EXIT_OK;
		break;
	default: {
		const char *status, *error;
		char told[PHT_RESULTMSG_MAX_REASON];

		fprintf(stderr, "pht station exec: train %s %s: %s\n",
		    res.train[0] ? res.train : "(unread)",
		    pht_station_outcome_name(res.outcome), pht_err_msg(&err));
		pht_station_answer(&res, PHT_OK, &err, &status, &error, told, sizeof(told));
		fprintf(stderr, "pht station exec: the analyst is told: %s: %s: %s\n",
		    status, error, told);
		rc = PHT_EXIT_FAIL;
		break;
	}
	}
out:
	free(out);
	pht_station_result_clear(&res);
	pht_station_close(st);
	pht_buf_free(env);
	return rc;
}

/* pht station halt|resume: argv[1] says which. */
static int
station_halt(int argc, char **argv)
{
	enum { O_CONFIG, O_BY, O_REASON, O_N };
	struct pht_cli_opt o[O_N] = {
		{"config", 1, 0, {0}, 0}, {"by", 1, 0, {0}, 0}, {"reason", 1, 0, {0}, 0},
	};
	struct pht_station_config *cfg = NULL;
	struct pht_err err;
	const char *pos[1], *cmd = argv[1], *by;
	int halt = strcmp(argv[1], "halt") == 0, r;
	size_t npos;

	pht_err_clear(&err);
	if ((r = pht_cli_opt_parse(halt ? "station halt" : "station resume", argc, argv, 2, o,
	    O_N, pos, 0, &npos)) != 0)
		return r;
	if (pht_cli_opt_val(&o[O_CONFIG]) == NULL)
		return pht_cli_usage_error(halt ? "station halt" : "station resume",
		    "--config STATION.json is required");
	by = pht_cli_opt_val(&o[O_BY]);
	if ((r = pht_station_config_load(pht_cli_opt_val(&o[O_CONFIG]), &cfg, &err)) !=
	    PHT_OK || (r = pht_station_gov_set_halt(cfg, halt, by != NULL ? by : "operator",
	    pht_cli_opt_val(&o[O_REASON]), &err)) != PHT_OK) {
		pht_cli_error(halt ? "station halt" : "station resume", &err);
		pht_station_config_free(cfg);
		return pht_cli_exit_for(r);
	}
	printf("station %s %s%s\n", pht_station_config_id(cfg), cmd[0] == 'h' ?
	    "halted: no train runs and a running one is stopped" : "resumed",
	    cmd[0] == 'h' ? " (pht station resume undoes it)" : "");
	pht_station_config_free(cfg);
	return PHT_EXIT_OK;
}

/* pht station orders: stores revocation lists and halt orders given as files. */
static int
station_orders(int argc, char **argv)
{
	struct pht_cli_opt o[1] = {{"config", 1, 0, {0}, 0}};
	struct pht_station_config *cfg = NULL;
	struct pht_station *st = NULL;
	struct pht_buf *b = NULL;
	struct pht_cli_signed p;
	struct pht_err err;
	const char *pos[PHT_CLI_OPT_MAX];
	char fp[PHT_KEY_FP_LEN + 1], name[PHT_KEY_NAME_MAX + 1];
	size_t npos, i;
	int r, changed, ex = PHT_EXIT_OK;

	pht_err_clear(&err);
	memset(&p, 0, sizeof(p));
	if ((r = pht_cli_opt_parse("station orders", argc, argv, 2, o, 1, pos, PHT_CLI_OPT_MAX,
	    &npos)) != 0)
		return r;
	if (pht_cli_opt_val(&o[0]) == NULL || npos == 0)
		return pht_cli_usage_error("station orders", "give --config STATION.json "
		    "and at least one FILE");
	if ((r = pht_station_config_load(pht_cli_opt_val(&o[0]), &cfg, &err)) != PHT_OK ||
	    (r = pht_station_open(cfg, &st, &err)) != PHT_OK) {
		pht_cli_error("station orders", &err);
		return pht_cli_exit_for(r);
	}
	for (i = 0; i < npos; i++) {
		pht_cli_signed_clear(&p);
		pht_buf_free(b);
		b = NULL;
		if ((r = pht_cli_signed_load(pos[i], NULL, &p, fp, name, &err)) == PHT_OK &&
		    (r = pht_file_read(pos[i], PHT_ENVELOPE_MAX, &b, &err)) == PHT_OK) {
			if (p.rev != NULL)
				r = pht_station_gov_update_revocations(pht_station_governance(st),
				    pht_buf_str(b), pht_buf_len(b), &changed, &err);
			else if (p.halt != NULL)
				r = pht_station_gov_update_halt(pht_station_governance(st),
				    pht_buf_str(b), pht_buf_len(b), &changed, &err);
			else
				r = pht_errf(&err, PHT_ERR_INVALID, "a permit: permits travel "
				    "with the trains");
		}
		if (r != PHT_OK) {
			pht_err_prefix(&err, "%s", pos[i]);
			pht_cli_error("station orders", &err);
			ex = pht_cli_exit_for(r);
			continue;
		}
		printf("%s: %s %s\n", pos[i], p.rev != NULL ? "revocation list" :
		    "halt order", changed ? "stored" : "already stored");
	}
	pht_cli_signed_clear(&p);
	pht_buf_free(b);
	pht_station_close(st);
	return ex;
}

int
pht_cmd_station(int argc, char **argv)
{
	if (argc < 2 || pht_cli_wants_help(argc, argv)) {
		fputs(station_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? PHT_EXIT_USAGE : PHT_EXIT_OK;
	}
	if (strcmp(argv[1], "catalog") == 0)
		return pht_cmd_station_catalog(argc, argv);
	if (strcmp(argv[1], "exec") == 0)
		return station_exec(argc, argv);
	if (strcmp(argv[1], "run") == 0)
		return pht_station_cmd_run(argc, argv);
	if (strcmp(argv[1], "queue") == 0)
		return pht_station_cmd_queue(argc, argv);
	if (strcmp(argv[1], "approve") == 0 || strcmp(argv[1], "refuse") == 0)
		return pht_station_cmd_decide(argc, argv);
	if (strcmp(argv[1], "halt") == 0 || strcmp(argv[1], "resume") == 0)
		return station_halt(argc, argv);
	if (strcmp(argv[1], "orders") == 0)
		return station_orders(argc, argv);
	return pht_cli_usage_error("station", "unknown subcommand '%s'", argv[1]);
}
