/* cmd_station_review.c — pht station queue show: what a steward reads before deciding on one queued train. */
#include "cmd_station_daemon.h"
#include "pht_cli.h"

#include "pht_buf.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_limits.h"
#include "pht_station_code.h"
#include "pht_station_config.h"
#include "pht_station_queue.h"
#include "pht_time.h"
#include "pht_train_assemble.h"
#include "pht_trainmsg.h"
#include "pht_udiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PHT_STD_TRAINS
#define PHT_STD_TRAINS "trains/std"
#endif

/* One labelled line (a list of strings: pht_station_print_list). */
static void
field(const char *label, const char *value)
{
	printf("  %-10s %s\n", label, value);
}


/* The permit the train carries (or names): who, what for, until when, which columns. */
static void
show_permit(const struct pht_trainmsg *msg)
{
	const char *text = pht_trainmsg_permit_envelope(msg), *ds;
	struct pht_envelope *env = NULL;
	const uint8_t *payload;
	json_t *p = NULL, *cols, *v;
	size_t plen, i;

	if (pht_trainmsg_permit(msg) == NULL) {
		field("permit", "none");
		return;
	}
	if (text == NULL || pht_envelope_parse(text, strlen(text), &env, NULL) != PHT_OK) {
		printf("  %-10s %s (named by id: the permit stored at the station)\n",
		    "permit", pht_trainmsg_permit(msg));
		pht_envelope_free(env);
		return;
	}
	payload = pht_envelope_payload(env, &plen);
	if (pht_json_parse((const char *)payload, plen, "permit", &p, NULL) == PHT_OK) {
		printf("  %-10s %s, valid %s to %s%s\n", "permit", pht_trainmsg_permit(msg),
		    json_string_value(json_object_get(p, "valid_from")),
		    json_string_value(json_object_get(p, "valid_until")),
		    pht_trainmsg_code_approval(msg) != NULL ?
		    ", with a reviewer's code approval" : "");
		field("purpose", json_string_value(json_object_get(p, "purpose")) != NULL ?
		    json_string_value(json_object_get(p, "purpose")) : "?");
		json_object_foreach(json_object_get(p, "datasets"), ds, cols) {
			printf("  %-10s %s: ", "allows", ds);
			json_array_foreach(cols, i, v)
				printf("%s%s", i ? ", " : "", json_string_value(v));
			printf("\n");
		}
	}
	json_decref(p);
	pht_envelope_free(env);
}

/*
 * The code as stored at the station under its hash (the code store), or,
 * for a train queued before the store held it, from the envelope.
 */
static int
queued_code(const struct pht_station_config *cfg, const struct pht_trainmsg *msg,
    struct pht_buf **out, struct pht_err *err)
{
	const char *code;
	size_t len;
	char *dir = pht_station_code_dir(pht_station_config_audit_log(cfg));
	int r;

	if (dir == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	r = pht_station_code_get(dir, pht_trainmsg_code_sha256(msg), out, err);
	free(dir);
	if (r != PHT_ERR_NOT_FOUND)
		return r;
	code = pht_trainmsg_code(msg, &len);
	if ((*out = pht_buf_new(len + 1)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	return pht_buf_put(*out, code, len);
}

/* The diff against the standard train of the same name, assembled as it is signed. */
static void
show_diff(const char *stddir, const char *name, const struct pht_buf *code)
{
	struct pht_buf *std = NULL, *d = NULL;
	struct pht_err err;
	char file[160], *path = NULL, *lib = NULL;
	const char *lastslash;

	printf("\n== the standard train %s ==\n", name != NULL ? name : "(unnamed)");
	if (name == NULL || strchr(name, '/') != NULL || strlen(name) > 100) {
		printf("no standard train to compare with\n");
		return;
	}
	snprintf(file, sizeof(file), "%s.lua", name);
	if ((path = pht_path_join(stddir, file)) == NULL)
		goto out;
	if (access(path, F_OK) != 0) {
		printf("none named %s in %s: read the whole code above\n", name, stddir);
		goto out;
	}
	/* the library beside the standard trains: DIR/../lib */
	lastslash = strrchr(stddir, '/');
	if (lastslash != NULL && (lib = malloc((size_t)(lastslash - stddir) + 5)) != NULL)
		snprintf(lib, (size_t)(lastslash - stddir) + 5, "%.*s/lib",
		    (int)(lastslash - stddir), stddir);
	pht_err_clear(&err);
	if (pht_train_assemble(path, lib, PHT_TRAIN_CODE_MAX, &std, &err) != PHT_OK) {
		printf("%s: cannot be assembled: %s\n", path, pht_err_msg(&err));
		goto out;
	}
	if (pht_buf_len(std) == pht_buf_len(code) &&
	    memcmp(pht_buf_data(std), pht_buf_data(code), pht_buf_len(code)) == 0) {
		printf("identical to %s (assembled)\n", path);
		goto out;
	}
	if ((d = pht_buf_new((size_t)8 << 20)) == NULL)
		goto out;
	if (pht_udiff(pht_buf_str(std), pht_buf_len(std), pht_buf_str(code),
	    pht_buf_len(code), path, "queued train", 3, d, &err) != PHT_OK)
		printf("differs from %s: %s\n", path, pht_err_msg(&err));
	else
		fwrite(pht_buf_data(d), 1, pht_buf_len(d), stdout);
out:
	pht_buf_free(std);
	pht_buf_free(d);
	free(path);
	free(lib);
}

int
pht_station_cmd_queue_show(int argc, char **argv)
{
	struct pht_station_config *cfg = NULL;
	struct pht_cli_opt o[] = {PHT_CLI_OPT("config"), PHT_CLI_OPT("std")};
	const char *config, *id = NULL, *stddir, *state, *by;
	struct pht_trainmsg *msg = NULL;
	struct pht_buf *code = NULL;
	struct pht_err err;
	json_t *item = NULL;
	char *dir = NULL, *params = NULL, t[21];
	size_t npos;
	int64_t exp;
	int r, rc;

	if ((rc = pht_cli_opt_parse("station queue show", argc, argv, 2, o, 2, &id, 1,
	    &npos)) != 0)
		return rc;
	config = pht_cli_opt_val(&o[0]);
	if (config == NULL || id == NULL)
		return pht_cli_usage_error("station queue show", "give --config "
		    "STATION.json and the queued train's ID");
	if ((stddir = pht_cli_opt_val(&o[1])) == NULL &&
	    ((stddir = getenv("PHT_TRAIN_STD")) == NULL || *stddir == '\0'))
		stddir = PHT_STD_TRAINS;
	pht_err_clear(&err);
	if ((r = pht_station_config_load(config, &cfg, &err)) != PHT_OK)
		goto fail;
	if ((dir = pht_station_queue_dir(cfg)) == NULL) {
		r = pht_errf(&err, PHT_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((r = pht_station_queue_get(dir, id, &item, &err)) != PHT_OK ||
	    (r = pht_station_queue_train(item, &msg, &err)) != PHT_OK ||
	    (r = queued_code(cfg, msg, &code, &err)) != PHT_OK)
		goto fail;
	state = json_string_value(json_object_get(item, "state"));
	by = json_string_value(json_object_get(item, "by"));
	exp = pht_trainmsg_expires(msg);
	pht_time_format(exp, t);
	printf("train %s  %s%s%s\n", id, state, by != NULL ? " by " : "",
	    by != NULL ? by : "");
	field("signer", json_string_value(json_object_get(item, "signer")));
	field("name", pht_trainmsg_name(msg) != NULL ? pht_trainmsg_name(msg) : "(none)");
	field("code", pht_trainmsg_code_sha256(msg));
	pht_station_print_list("datasets", json_object_get(item, "datasets"));
	pht_station_print_list("columns", json_object_get(item, "columns"));
	params = pht_json_dump(pht_trainmsg_params(msg));
	field("params", params != NULL ? params : "?");
	show_permit(msg);
	printf("  %-10s %s (round %lld)\n", "queued",
	    json_string_value(json_object_get(item, "queued")),
	    (long long)pht_trainmsg_round(msg));
	printf("  %-10s %s%s\n", "expires", t, pht_time_now() >= exp ?
	    "  EXPIRED: it can only be refused" : "");
	printf("\n== code (SHA-256 %s, %zu bytes) ==\n", pht_trainmsg_code_sha256(msg),
	    pht_buf_len(code));
	fwrite(pht_buf_data(code), 1, pht_buf_len(code), stdout);
	if (pht_buf_len(code) > 0 && pht_buf_data(code)[pht_buf_len(code) - 1] != '\n')
		printf("\n");
	show_diff(stddir, pht_trainmsg_name(msg), code);
	rc = PHT_EXIT_OK;
	goto out;
fail:
	pht_cli_error("station queue show", &err);
	rc = r == PHT_ERR_NOT_FOUND ? PHT_EXIT_FAIL : pht_cli_exit_for(r);
out:
	free(params);
	pht_buf_free(code);
	pht_trainmsg_free(msg);
	json_decref(item);
	free(dir);
	pht_station_config_free(cfg);
	return rc;
}
