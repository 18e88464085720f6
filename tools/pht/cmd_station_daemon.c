/* cmd_station_daemon.c — pht station run (the polling daemon), queue, approve and refuse. */
#include "cmd_station_daemon.h"
#include "pht_cli.h"

#include "pht_audit.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_station_config.h"
#include "pht_station_daemon.h"
#include "pht_station_queue.h"
#include "pht_time.h"
#include "pht_trainmsg.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
log_stderr(void *arg, const char *line)
{
	char ts[21];

	(void)arg;
	pht_time_format(pht_time_now(), ts);
	fprintf(stderr, "%s pht station: %s\n", ts, line);
	fflush(stderr);
}

static int
int_arg(const char *s, int min, int max, int *out)
{
	uint64_t v;

	if (pht_cli_uint(s, (uint64_t)min, (uint64_t)max, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

int
pht_station_cmd_run(int argc, char **argv)
{
	struct pht_station_daemon_opts o;
	struct pht_err err;
	struct pht_cli_opt opts[] = {PHT_CLI_OPT("config"), PHT_CLI_OPT("wait"),
	    PHT_CLI_OPT("backoff-max")};
	const char *pos[1], *val;
	size_t npos;
	int v, r;

	memset(&o, 0, sizeof(o));
	if ((r = pht_cli_opt_parse("station run", argc, argv, 2, opts, 3, pos, 0,
	    &npos)) != 0)
		return r;
	o.config = pht_cli_opt_val(&opts[0]);
	if ((val = pht_cli_opt_val(&opts[1])) != NULL &&
	    int_arg(val, 1, 60, &o.wait_seconds) != 0)
		return pht_cli_usage_error("station run", "--wait %s: give 1 to 60 "
		    "seconds", val);
	if ((val = pht_cli_opt_val(&opts[2])) != NULL) {
		if (int_arg(val, 1, 3600, &v) != 0)
			return pht_cli_usage_error("station run", "--backoff-max %s: give "
			    "1 to 3600 seconds", val);
		o.backoff_max_ms = v * 1000;
		if (o.backoff_max_ms < 500)
			o.backoff_min_ms = o.backoff_max_ms;
	}
	if (o.config == NULL)
		return pht_cli_usage_error("station run", "--config STATION.json is "
		    "required");
	/* SIGTERM/SIGINT stop it; a closed terminal or a reload by habit does
	 * not (the daemon logs to stderr) */
	pht_cli_catch_stop(1);
	o.stop = &pht_cli_stop;
	o.log = log_stderr;
	pht_err_clear(&err);
	if ((r = pht_station_daemon_run(&o, &err)) != PHT_OK) {
		pht_cli_error("station run", &err);
		return pht_cli_exit_for(r);
	}
	return PHT_EXIT_OK;
}

/* Parses --config (and --json) for queue; NULL config on a usage error. */
static int
queue_dir_for(const char *config, char **dir, struct pht_station_config **cfgp,
    const char *cmd)
{
	struct pht_station_config *cfg = NULL;
	struct pht_err err;
	int r;

	*dir = NULL;
	pht_err_clear(&err);
	if ((r = pht_station_config_load(config, &cfg, &err)) != PHT_OK) {
		pht_cli_error(cmd, &err);
		return pht_cli_exit_for(r);
	}
	if ((*dir = pht_station_queue_dir(cfg)) == NULL) {
		pht_station_config_free(cfg);
		fprintf(stderr, "pht %s: out of memory\n", cmd);
		return PHT_EXIT_FAIL;
	}
	*cfgp = cfg;
	return PHT_EXIT_OK;
}

void
pht_station_print_list(const char *label, const json_t *a)
{
	const json_t *v;
	size_t i;

	printf("  %-10s ", label);
	if (json_array_size(a) == 0)
		printf("(none known)");
	json_array_foreach(a, i, v)
		printf("%s%s", i ? ", " : "", json_string_value(v));
	printf("\n");
}

/* When the queued train expires; an expired one can only be refused. */
static void
print_expiry(const json_t *it)
{
	struct pht_trainmsg *msg = NULL;
	char t[21];

	if (pht_station_queue_train(it, &msg, NULL) != PHT_OK) {
		printf("  %-10s %s\n", "expires", "? (the envelope does not parse)");
		return;
	}
	pht_time_format(pht_trainmsg_expires(msg), t);
	printf("  %-10s %s%s\n", "expires", t, pht_time_now() >= pht_trainmsg_expires(msg) ?
	    "  EXPIRED: it can only be refused" : "");
	pht_trainmsg_free(msg);
}

int
pht_station_cmd_queue(int argc, char **argv)
{
	struct pht_station_config *cfg = NULL;
	struct pht_cli_opt o[] = {PHT_CLI_OPT("config"), PHT_CLI_OPT_FLAG("json")};
	const char *config, *pos[1];
	struct pht_err err;
	json_t *items = NULL, *it;
	char *dir = NULL, *dump, *params;
	int json, rc;
	size_t k, npos;

	if (argc > 2 && strcmp(argv[2], "show") == 0)
		return pht_station_cmd_queue_show(argc - 1, argv + 1);
	if ((rc = pht_cli_opt_parse("station queue", argc, argv, 2, o, 2, pos, 0,
	    &npos)) != 0)
		return rc;
	config = pht_cli_opt_val(&o[0]);
	json = o[1].n > 0;
	if (config == NULL)
		return pht_cli_usage_error("station queue", "--config STATION.json is "
		    "required");
	if ((rc = queue_dir_for(config, &dir, &cfg, "station queue")) != PHT_EXIT_OK)
		return rc;
	pht_err_clear(&err);
	if (pht_station_queue_list(dir, &items, &err) != PHT_OK) {
		pht_cli_error("station queue", &err);
		rc = PHT_EXIT_FAIL;
		goto out;
	}
	if (json) {
		if ((dump = pht_json_dump(items)) != NULL)
			printf("%s\n", dump);
		free(dump);
		goto out;
	}
	if (json_array_size(items) == 0)
		printf("no trains waiting for approval\n");
	json_array_foreach(items, k, it) {
		const char *name = json_string_value(json_object_get(it, "name"));
		const char *by = json_string_value(json_object_get(it, "by"));
		params = pht_json_dump(json_object_get(it, "params"));
		printf("%s  %s%s%s\n", json_string_value(json_object_get(it, "train")),
		    json_string_value(json_object_get(it, "state")), by ? " by " : "",
		    by ? by : "");
		printf("  %-10s %s\n", "signer", json_string_value(json_object_get(it, "signer")));
		printf("  %-10s %s\n", "name", name != NULL ? name : "(none)");
		printf("  %-10s %s\n", "code", json_string_value(json_object_get(it, "code_sha256")));
		pht_station_print_list("datasets", json_object_get(it, "datasets"));
		pht_station_print_list("columns", json_object_get(it, "columns"));
		printf("  %-10s %s\n", "params", params != NULL ? params : "?");
		printf("  %-10s %s (round %lld)\n", "queued",
		    json_string_value(json_object_get(it, "queued")),
		    (long long)json_integer_value(json_object_get(it, "round")));
		print_expiry(it);
		free(params);
	}
out:
	json_decref(items);
	free(dir);
	pht_station_config_free(cfg);
	return rc;
}

int
pht_station_cmd_decide(int argc, char **argv)
{
	struct pht_station_config *cfg = NULL;
	struct pht_audit *log = NULL;
	struct pht_key *key = NULL;
	struct pht_err err;
	struct pht_cli_opt o[] = {PHT_CLI_OPT("config"), PHT_CLI_OPT("by")};
	const char *config, *id = NULL, *by;
	int approve = strcmp(argv[1], "approve") == 0, r, rc;
	json_t *item = NULL, *f = NULL;
	char *dir = NULL, cmd[32];
	const char *user;
	size_t npos;

	snprintf(cmd, sizeof(cmd), "station %s", argv[1]);
	if ((rc = pht_cli_opt_parse(cmd, argc, argv, 2, o, 2, &id, 1, &npos)) != 0)
		return rc;
	config = pht_cli_opt_val(&o[0]);
	by = pht_cli_opt_val(&o[1]);
	if (config == NULL || id == NULL)
		return pht_cli_usage_error(cmd, "give --config STATION.json and the "
		    "queued train's ID");
	if (by == NULL)
		by = (user = getenv("USER")) != NULL && *user != '\0' ? user : "steward";
	if ((rc = queue_dir_for(config, &dir, &cfg, cmd)) != PHT_EXIT_OK)
		return rc;
	pht_err_clear(&err);
	if ((r = pht_station_queue_get(dir, id, &item, &err)) != PHT_OK)
		goto fail;
	/* pending, and not expired if approved: checked before anything is logged */
	if ((r = pht_station_queue_may_decide(item, approve, pht_time_now(), &err)) !=
	    PHT_OK)
		goto fail;
	/* the decision is logged first: no decision takes effect unlogged */
	if ((r = pht_key_load_as(pht_station_config_key(cfg), PHT_KEY_SIGN, 1, &key,
	    &err)) != PHT_OK ||
	    (r = pht_audit_open(pht_station_config_audit_log(cfg), key, &log, &err)) !=
	    PHT_OK)
		goto fail;
	f = json_pack("{s:s, s:s, s:O, s:O}", "train", id, "by", by,
	    "signer_name", json_object_get(item, "signer"),
	    "code_sha256", json_object_get(item, "code_sha256"));
	if (f == NULL) {
		r = pht_errf(&err, PHT_ERR_INVALID, "--by: not valid UTF-8");
		goto fail;
	}
	{
		/* the permit the queued train names, for the audit entry */
		const char *envtext = json_string_value(json_object_get(item, "envelope"));
		struct pht_envelope *env = NULL;
		const uint8_t *pl;
		json_t *payload = NULL;
		size_t pn;
		if (envtext != NULL && pht_envelope_parse(envtext, strlen(envtext), &env,
		    NULL) == PHT_OK) {
			pl = pht_envelope_payload(env, &pn);
			if (pht_json_parse((const char *)pl, pn, "train", &payload, NULL) ==
			    PHT_OK && json_is_string(json_object_get(payload, "permit")))
				json_object_set(f, "permit", json_object_get(payload, "permit"));
		}
		json_decref(payload);
		pht_envelope_free(env);
	}
	if ((r = pht_audit_append(log, approve ? "approved" : "refused", f, NULL,
	    &err)) != PHT_OK ||
	    (r = pht_station_queue_decide(dir, id, approve, by, &err)) != PHT_OK)
		goto fail;
	printf("train %s %s by %s; the station daemon %s\n", id,
	    approve ? "approved" : "refused", by, approve ? "runs it next" :
	    "sends the analyst a signed refusal");
	rc = PHT_EXIT_OK;
	goto out;
fail:
	pht_cli_error(cmd, &err);
	rc = r == PHT_ERR_NOT_FOUND || r == PHT_ERR_DENIED ? PHT_EXIT_FAIL :
	    pht_cli_exit_for(r);
out:
	json_decref(f);
	json_decref(item);
	pht_audit_close(log);
	pht_key_free(key);
	free(dir);
	pht_station_config_free(cfg);
	return rc;
}
