/* cmd_check.c — pht train describe, --params @FILE, and the checks pht run and pht sim make before anything is sent. */
#include "pht_cli.h"
#include "cmd_check.h"

#include "pht_analyst_check.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_limits.h"
#include "pht_train.h"
#include "pht_train_decl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
pht_cli_read_params(const char *cmd, const char *arg, json_t **out)
{
	struct pht_buf *b = NULL;
	struct pht_err err;
	const char *text = arg, *what = "--params";
	size_t len;
	int r;

	*out = NULL;
	pht_err_clear(&err);
	if (arg == NULL) {
		if ((*out = json_object()) == NULL) {
			fprintf(stderr, "pht %s: out of memory\n", cmd);
			return PHT_EXIT_FAIL;
		}
		return PHT_EXIT_OK;
	}
	len = strlen(arg);
	if (arg[0] == '@') {
		what = arg + 1;
		if ((r = pht_file_read(strcmp(arg, "@-") == 0 ? "/dev/stdin" : arg + 1,
		    PHT_TRAINMSG_MAX, &b, &err)) != PHT_OK) {
			pht_err_prefix(&err, "--params");
			pht_cli_error(cmd, &err);
			return PHT_EXIT_USAGE;
		}
		text = pht_buf_str(b);
		len = pht_buf_len(b);
	}
	r = pht_json_parse(text, len, what, out, &err);
	pht_buf_free(b);
	if (r == PHT_OK && !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		r = pht_errf(&err, PHT_ERR_INVALID, "%s: not a JSON object", what);
	}
	if (r != PHT_OK) {
		if (strcmp(what, "--params") != 0)
			pht_err_prefix(&err, "--params");
		pht_cli_error(cmd, &err);
		return PHT_EXIT_USAGE;
	}
	return PHT_EXIT_OK;
}

void
pht_cli_check_say(void *arg, int problem, const char *line)
{
	fprintf(stderr, "pht %s: %s%s\n", (const char *)arg, problem ? "" : "note: ", line);
}

int
pht_cli_check_start(const char *cmd, const json_t *meta, const json_t *params,
    struct pht_train_decl **decl, struct pht_analyst_check *c)
{
	struct pht_err err;

	memset(c, 0, sizeof(*c));
	pht_err_clear(&err);
	if (pht_train_decl_parse(meta, decl, &err) != PHT_OK) {
		pht_err_prefix(&err, "the train's declaration");
		pht_cli_error(cmd, &err);
		return PHT_EXIT_FAIL;
	}
	c->decl = *decl;
	c->params = params;
	c->say = pht_cli_check_say;
	c->arg = (void *)cmd;
	return pht_analyst_check_params(c) == 0 ? PHT_EXIT_OK : PHT_EXIT_USAGE;
}

static const char *describe_help =
    "usage: pht train describe TRAIN.lua [--json]\n"
    "\n"
    "Prints what the train declares, read without running it with data: its\n"
    "name and version, each param with its type, whether it is required or its\n"
    "default, the column types it takes, and what a station releases. --json\n"
    "prints the declaration as JSON. pht run and pht sim check their params\n"
    "against it (docs/train-api.md, \"Declaring params\").\n";

int
pht_cmd_train_describe(int argc, char **argv)
{
	struct pht_cli_opt o[] = {PHT_CLI_OPT_FLAG("json")};
	struct pht_train_decl *decl = NULL;
	struct pht_limits lim;
	struct pht_buf *code = NULL, *text = NULL;
	struct pht_err err;
	const char *pos[1] = {NULL};
	json_t *meta = NULL;
	char *dump;
	size_t npos;
	int r, rc = PHT_EXIT_FAIL;

	if (pht_cli_wants_help(argc, argv)) {
		fputs(describe_help, stdout);
		return PHT_EXIT_OK;
	}
	if ((r = pht_cli_opt_parse("train describe", argc, argv, 2, o, 1, pos, 1,
	    &npos)) != 0)
		return r;
	if (pos[0] == NULL)
		return pht_cli_usage_error("train describe", "give TRAIN.lua");
	pht_err_clear(&err);
	pht_limits_default(&lim);
	if ((r = pht_cli_read_train(pos[0], PHT_TRAIN_CODE_MAX, &code, &err)) != PHT_OK) {
		pht_cli_error("train describe", &err);
		return pht_cli_exit_for(r);
	}
	if (pht_train_describe(pht_buf_str(code), pht_buf_len(code), pos[0], &lim, &meta,
	    &err) != PHT_OK || pht_train_decl_parse(meta, &decl, &err) != PHT_OK) {
		pht_cli_error("train describe", &err);
		goto out;
	}
	if (o[0].n > 0) {
		if ((dump = json_dumps(meta, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
			goto out;
		printf("%s\n", dump);
		free(dump);
	} else {
		if ((text = pht_buf_new(PHT_TRAIN_CODE_MAX)) == NULL ||
		    pht_train_decl_format(decl, meta, text) != PHT_OK)
			goto out;
		fwrite(pht_buf_str(text), 1, pht_buf_len(text), stdout);
	}
	rc = fflush(stdout) == 0 ? PHT_EXIT_OK : PHT_EXIT_FAIL;
out:
	pht_train_decl_free(decl);
	json_decref(meta);
	pht_buf_free(code);
	pht_buf_free(text);
	return rc;
}
