/* cmd_train.c — pht train sign|verify|assemble|describe: argument parsing over the proto library. */
#include "pht_cli.h"
#include "cmd_permit.h"
#include "cmd_check.h"

#include "pht_buf.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_permit.h"
#include "pht_time.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"
#include "pht_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_EXPIRY "24h"

static const char *train_help =
    "usage: pht train sign TRAIN.lua --key SIGNKEY --out FILE [options]\n"
    "       pht train verify FILE --trust DIR_OR_FILE\n"
    "       pht train assemble TRAIN.lua\n"
    "       pht train describe TRAIN.lua [--json]\n"
    "\n"
    "A train file may hold lines --#include \"NAME\": sign (and run, sim, permit\n"
    "--train, audit replay) read the train with each such line replaced by the\n"
    "file NAME (\"lib/...\" from the train library: $PHT_TRAIN_LIB, else the\n"
    "folder lib beside the train's folder; other names under the train's\n"
    "folder). What is signed and run is that one assembled text; assemble\n"
    "prints it (docs/std-trains.md).\n"
    "\n"
    "describe: prints the train's name, version, declared params (type,\n"
    "required or default, column types) and what a station releases, read\n"
    "without running the train with data (--json: as JSON).\n"
    "\n"
    "sign: wraps the train's code and parameters in a payload and writes it,\n"
    "signed with your Ed25519 key, as an envelope to FILE.\n"
    "  --key SIGNKEY        private signing key (NAME.sign.key from pht keygen)\n"
    "  --out FILE           where to write the signed envelope\n"
    "  --params JSON        the train's parameters, a JSON object (default {})\n"
    "  --datasets A,B       datasets the train reads (default none named)\n"
    "  --stations X,Y       target station ids (default none named)\n"
    "  --expires DURATION   validity from now: 90s, 30m, 1h, 7d (default 24h)\n"
    "  --round N            round number, 1 to 1000000 (default 1)\n"
    "  --result-key SEALPUB X25519 public key results are sealed to (default:\n"
    "                       NAME.seal.pub beside NAME.sign.key, if present)\n"
    "  --name NAME          the train's name, shown to stations (optional)\n"
    "  --permit ID          the data permit it runs under (optional)\n"
    "  --permit-file FILE   the signed permit (pht permit issue): carried inside\n"
    "                       the train, sets --permit to its id\n"
    "  --approval FILE      a reviewer's code approval (pht permit approve)\n"
    "                       listing this code: carried inside the train, for\n"
    "                       permits that allow trains their reviewers approved\n"
    "\n"
    "verify: checks the envelope's signature against the trusted public keys\n"
    "(a .pub file, or every *.pub in a directory except *.seal.pub; a key's\n"
    "name is its file name without .sign.pub or .pub), then the payload: every\n"
    "field, the code's SHA-256, the expiry and the issue time. Prints who\n"
    "signed it. Otherwise prints one line saying why: bad signature, unknown\n"
    "signer, expired, not yet valid, code hash mismatch, malformed field X.\n"
    "\n"
    "Exit codes: 0 signed / verified, 1 signing failed or the train is\n"
    "rejected, 2 bad usage or unreadable input.\n";

/* Splits "a,b,c" into a new array of borrowed pieces of a copy; caller frees both. */
static int
split_list(const char *s, char **copy, const char ***items, size_t *n)
{
	size_t cap = 1, i;
	char *p, *q;

	*items = NULL;
	*n = 0;
	if ((*copy = strdup(s)) == NULL)
		return PHT_ERR_NOMEM;
	for (i = 0; s[i] != '\0'; i++)
		cap += s[i] == ',';
	if ((*items = calloc(cap, sizeof(**items))) == NULL)
		return PHT_ERR_NOMEM;
	if (s[0] == '\0')
		return PHT_OK;
	for (p = *copy;; p = q + 1) {
		if ((q = strchr(p, ',')) != NULL)
			*q = '\0';
		if (*p == '\0')
			return PHT_ERR_INVALID;
		(*items)[(*n)++] = p;
		if (q == NULL)
			break;
	}
	return PHT_OK;
}

/* NAME.sign.key -> NAME.seal.pub; NULL if the key is not named that way. */
static char *
default_result_key(const char *keypath)
{
	size_t n = strlen(keypath), sl = strlen(PHT_KEY_SIGN_PRIV_SUFFIX);
	size_t pl = strlen(PHT_KEY_SEAL_PUB_SUFFIX);
	char *p;

	if (n < sl || strcmp(keypath + n - sl, PHT_KEY_SIGN_PRIV_SUFFIX) != 0)
		return NULL;
	if ((p = malloc(n - sl + pl + 1)) == NULL)
		return NULL;
	memcpy(p, keypath, n - sl);
	memcpy(p + n - sl, PHT_KEY_SEAL_PUB_SUFFIX, pl + 1);
	return p;
}

enum { O_KEY, O_OUT, O_PARAMS, O_DATASETS, O_STATIONS, O_EXPIRES, O_ROUND,
    O_RESULT, O_NAME, O_PERMIT, O_PERMIT_FILE, O_APPROVAL, O_N };

/* One pht train sign: its options and everything it holds until the end. */
struct sign_job {
	struct pht_cli_opt o[O_N];
	const char *train;                   /* TRAIN.lua */
	struct pht_trainmsg_spec spec;
	struct pht_buf *code, *pfile, *abuf;
	struct pht_permit *permit;
	struct pht_key *key, *rkey;
	json_t *params;
	const char **ds, **st;
	char *dcopy, *scopy, *rpath;
	char id[PHT_TRAINMSG_ID_LEN + 1];
	struct pht_err err;
};

static void
sign_job_clear(struct sign_job *j)
{
	json_decref(j->params);
	free(j->dcopy);
	free(j->scopy);
	free(j->ds);
	free(j->st);
	free(j->rpath);
	pht_buf_free(j->code);
	pht_buf_free(j->pfile);
	pht_permit_free(j->permit);
	pht_buf_free(j->abuf);
	pht_key_free(j->key);
	pht_key_free(j->rkey);
}

static int
sign_nomem(void)
{
	fprintf(stderr, "pht train sign: out of memory\n");
	return PHT_EXIT_FAIL;
}

/* --params, --datasets and --stations into the spec. */
static int
sign_lists(struct sign_job *j)
{
	const char *v;
	int r;

	if ((v = pht_cli_opt_val(&j->o[O_PARAMS])) != NULL) {
		if (pht_json_parse(v, strlen(v), "--params", &j->params, &j->err) != PHT_OK) {
			pht_cli_error("train sign", &j->err);
			return PHT_EXIT_USAGE;
		}
		if (!json_is_object(j->params))
			return pht_cli_usage_error("train sign", "--params must be a JSON object");
	}
	if ((v = pht_cli_opt_val(&j->o[O_DATASETS])) != NULL &&
	    (r = split_list(v, &j->dcopy, &j->ds, &j->spec.n_datasets)) != 0)
		return r == PHT_ERR_NOMEM ? sign_nomem() :
		    pht_cli_usage_error("train sign", "--datasets: empty name in '%s'", v);
	if ((v = pht_cli_opt_val(&j->o[O_STATIONS])) != NULL &&
	    (r = split_list(v, &j->scopy, &j->st, &j->spec.n_stations)) != 0)
		return r == PHT_ERR_NOMEM ? sign_nomem() :
		    pht_cli_usage_error("train sign", "--stations: empty name in '%s'", v);
	return PHT_EXIT_OK;
}

/* The signing key, and the result key (--result-key or NAME.seal.pub beside it). */
static int
sign_keys(struct sign_job *j)
{
	const char *keyfile = pht_cli_opt_val(&j->o[O_KEY]);
	struct stat sb;

	if (pht_key_load_as(keyfile, PHT_KEY_SIGN, 1, &j->key, &j->err) != PHT_OK) {
		pht_cli_error("train sign", &j->err);
		return PHT_EXIT_USAGE;
	}
	if (pht_cli_opt_val(&j->o[O_RESULT]) != NULL) {
		if ((j->rpath = strdup(pht_cli_opt_val(&j->o[O_RESULT]))) == NULL)
			return sign_nomem();
	} else if ((j->rpath = default_result_key(keyfile)) == NULL ||
	    stat(j->rpath, &sb) != 0) {
		return pht_cli_usage_error("train sign", "no --result-key given and no %s "
		    "beside the signing key", j->rpath != NULL ? j->rpath : "NAME.seal.pub");
	}
	if (pht_key_load_as(j->rpath, PHT_KEY_SEAL, 0, &j->rkey, &j->err) != PHT_OK ||
	    pht_key_public_raw(j->rkey, j->spec.result_key, &j->err) != PHT_OK) {
		pht_cli_error("train sign", &j->err);
		return PHT_EXIT_USAGE;
	}
	return PHT_EXIT_OK;
}

/* --permit, --permit-file (carried inside the train, byte for byte) and --approval. */
static int
sign_permit(struct sign_job *j)
{
	const char *pf = pht_cli_opt_val(&j->o[O_PERMIT_FILE]);
	int ex;

	j->spec.permit = pht_cli_opt_val(&j->o[O_PERMIT]);
	if (pf != NULL) {
		if (pht_cli_read_permit(pf, &j->pfile, &j->permit, &j->err) != PHT_OK) {
			pht_cli_error("train sign", &j->err);
			return PHT_EXIT_USAGE;
		}
		if (j->spec.permit != NULL &&
		    strcmp(j->spec.permit, pht_permit_id(j->permit)) != 0)
			return pht_cli_usage_error("train sign", "--permit %s but "
			    "--permit-file holds permit %s", j->spec.permit,
			    pht_permit_id(j->permit));
		j->spec.permit = pht_permit_id(j->permit);
		j->spec.permit_envelope = pht_buf_str(j->pfile);
	}
	if (pht_cli_opt_val(&j->o[O_APPROVAL]) != NULL) {
		if (j->spec.permit == NULL)
			return pht_cli_usage_error("train sign", "--approval needs --permit "
			    "or --permit-file (approvals count under a permit's reviewers)");
		if ((ex = pht_cli_load_approval("train sign",
		    pht_cli_opt_val(&j->o[O_APPROVAL]), pht_buf_str(j->code),
		    pht_buf_len(j->code), &j->abuf)) != PHT_EXIT_OK)
			return ex;
		j->spec.code_approval = pht_buf_str(j->abuf);
	}
	return PHT_EXIT_OK;
}

/* Builds the payload, signs it and writes the envelope to --out. */
static int
sign_write(struct sign_job *j)
{
	char *payload = NULL, *env = NULL, fp[PHT_KEY_FP_LEN + 1], t[21];
	size_t plen = 0, elen = 0;
	int r, ex = PHT_EXIT_OK;

	if ((r = pht_trainmsg_build(&j->spec, &payload, &plen, &j->err)) != 0) {
		pht_err_prefix(&j->err, "%s", j->train);
		pht_cli_error("train sign", &j->err);
		ex = PHT_EXIT_USAGE;
	} else if ((r = pht_envelope_sign(j->key, (const uint8_t *)payload, plen, &env,
	    &elen, &j->err)) != 0 ||
	    (r = pht_file_write_atomic(pht_cli_opt_val(&j->o[O_OUT]), env, elen, 0644,
	    &j->err)) != 0 ||
	    (r = pht_key_fingerprint(j->key, fp, &j->err)) != 0) {
		pht_cli_error("train sign", &j->err);
		ex = pht_cli_exit_for(r);
	} else {
		pht_time_format(j->spec.expires, t);
		printf("signed train %s by %s, expires %s; wrote %s\n", j->id, fp, t,
		    pht_cli_opt_val(&j->o[O_OUT]));
	}
	free(payload);
	free(env);
	return ex;
}

static int
train_sign(int argc, char **argv)
{
	static const struct pht_cli_opt table[O_N] = {
		PHT_CLI_OPT("key"), PHT_CLI_OPT("out"), PHT_CLI_OPT("params"),
		PHT_CLI_OPT("datasets"), PHT_CLI_OPT("stations"), PHT_CLI_OPT("expires"),
		PHT_CLI_OPT("round"), PHT_CLI_OPT("result-key"), PHT_CLI_OPT("name"),
		PHT_CLI_OPT("permit"), PHT_CLI_OPT("permit-file"), PHT_CLI_OPT("approval"),
	};
	struct sign_job j;
	const char *expires;
	uint64_t round = 1;
	int64_t dur = 0;
	size_t npos;
	int ex;

	memset(&j, 0, sizeof(j));
	memcpy(j.o, table, sizeof(table));
	pht_err_clear(&j.err);
	if ((ex = pht_cli_opt_parse("train sign", argc, argv, 2, j.o, O_N, &j.train, 1,
	    &npos)) != 0)
		return ex;
	if (npos != 1)
		return pht_cli_usage_error("train sign", "give exactly one TRAIN.lua");
	if (pht_cli_opt_val(&j.o[O_KEY]) == NULL || pht_cli_opt_val(&j.o[O_OUT]) == NULL)
		return pht_cli_usage_error("train sign", "--key and --out are required");
	expires = pht_cli_opt_val(&j.o[O_EXPIRES]);
	if (pht_duration_parse(expires != NULL ? expires : DEFAULT_EXPIRY, &dur) != PHT_OK)
		return pht_cli_usage_error("train sign", "--expires: '%s' is not a "
		    "duration like 90s, 30m, 1h or 7d", expires);
	if (pht_cli_opt_val(&j.o[O_ROUND]) != NULL &&
	    pht_cli_uint(pht_cli_opt_val(&j.o[O_ROUND]), 1, PHT_TRAINMSG_MAX_ROUND,
	    &round) != 0)
		return pht_cli_usage_error("train sign", "--round: '%s' is not an "
		    "integer from 1 to %d", pht_cli_opt_val(&j.o[O_ROUND]),
		    PHT_TRAINMSG_MAX_ROUND);
	if ((ex = sign_lists(&j)) != PHT_EXIT_OK || (ex = sign_keys(&j)) != PHT_EXIT_OK)
		goto out;
	if (pht_cli_read_train(j.train, PHT_TRAIN_CODE_MAX, &j.code, &j.err) != PHT_OK) {
		pht_cli_error("train sign", &j.err);
		ex = PHT_EXIT_USAGE;
		goto out;
	}
	if (pht_trainmsg_new_id(j.id, &j.err) != PHT_OK) {
		pht_cli_error("train sign", &j.err);
		ex = PHT_EXIT_FAIL;
		goto out;
	}
	j.spec.id = j.id;
	j.spec.name = pht_cli_opt_val(&j.o[O_NAME]);
	if ((ex = sign_permit(&j)) != PHT_EXIT_OK)
		goto out;
	j.spec.code = pht_buf_str(j.code);
	j.spec.code_len = pht_buf_len(j.code);
	j.spec.params = j.params;
	j.spec.datasets = j.ds;
	j.spec.stations = j.st;
	j.spec.round = (int64_t)round;
	j.spec.issued = pht_time_now();
	j.spec.expires = j.spec.issued + dur;
	ex = sign_write(&j);
out:
	sign_job_clear(&j);
	return ex;
}

static void
print_list(const char *label, const char *const *items, size_t n)
{
	size_t i;

	printf("%s:", label);
	if (n == 0)
		printf(" (none named)");
	for (i = 0; i < n; i++)
		printf("%s%s", i == 0 ? " " : ",", items[i]);
	printf("\n");
}

static int
train_verify(int argc, char **argv)
{
	struct pht_cli_opt opts[] = {PHT_CLI_OPT("trust")};
	struct pht_trust *trust = NULL;
	struct pht_envelope *env = NULL;
	struct pht_trainmsg *msg = NULL;
	struct pht_buf *file = NULL;
	const uint8_t *payload;
	const char *pos[1], *const *items;
	char t[21];
	struct pht_err err;
	size_t npos, plen, n;
	int r, ex = PHT_EXIT_USAGE;

	pht_err_clear(&err);
	if ((r = pht_cli_opt_parse("train verify", argc, argv, 2, opts, 1, pos, 1, &npos)) != 0)
		return r;
	if (npos != 1)
		return pht_cli_usage_error("train verify", "give exactly one FILE");
	if (pht_cli_opt_val(&opts[0]) == NULL)
		return pht_cli_usage_error("train verify", "--trust is required");
	if ((trust = pht_trust_new()) == NULL) {
		fprintf(stderr, "pht train verify: out of memory\n");
		return PHT_EXIT_FAIL;
	}
	if ((r = pht_trust_load(trust, pht_cli_opt_val(&opts[0]), &err)) != PHT_OK) {
		pht_cli_error("train verify: trust", &err);
		goto out;
	}
	if (pht_trust_count(trust) == 0) {
		fprintf(stderr, "pht train verify: %s: no trusted signing keys (*.pub)\n",
		    pht_cli_opt_val(&opts[0]));
		goto out;
	}
	/* One byte over the bound, so an oversized file is a rejection. */
	r = pht_file_read(pos[0], PHT_ENVELOPE_MAX + 1, &file, &err);
	if (r == PHT_ERR_TOO_LARGE) {
		fprintf(stderr, "pht train verify: %s: envelope: too large: more than "
		    "%u bytes\n", pos[0], PHT_ENVELOPE_MAX);
		ex = PHT_EXIT_FAIL;
		goto out;
	}
	if (r != PHT_OK) {
		pht_cli_error("train verify", &err);
		goto out;
	}
	/* From here on every failure is a rejection of the train: exit 1. */
	ex = PHT_EXIT_FAIL;
	if ((r = pht_envelope_open(pht_buf_str(file), pht_buf_len(file), trust, &env,
	    &err)) != PHT_OK) {
		fprintf(stderr, "pht train verify: %s: %s\n", pos[0], pht_err_msg(&err));
		goto out;
	}
	payload = pht_envelope_payload(env, &plen);
	if ((r = pht_trainmsg_parse(payload, plen, pht_time_now(), &msg, &err)) !=
	    PHT_OK) {
		fprintf(stderr, "pht train verify: %s: %s\n", pos[0], pht_err_msg(&err));
		goto out;
	}
	printf("verified train %s\n", pht_trainmsg_id(msg));
	printf("signed by: %s (%s)\n", pht_envelope_signer_name(env),
	    pht_envelope_signer_fp(env));
	printf("name: %s\n", pht_trainmsg_name(msg) != NULL ?
	    pht_trainmsg_name(msg) : "(none)");
	printf("round: %lld\n", (long long)pht_trainmsg_round(msg));
	pht_time_format(pht_trainmsg_issued(msg), t);
	printf("issued: %s\n", t);
	pht_time_format(pht_trainmsg_expires(msg), t);
	printf("expires: %s\n", t);
	items = pht_trainmsg_datasets(msg, &n);
	print_list("datasets", items, n);
	items = pht_trainmsg_stations(msg, &n);
	print_list("stations", items, n);
	printf("code_sha256: %s\n", pht_trainmsg_code_sha256(msg));
	ex = PHT_EXIT_OK;
out:
	pht_trainmsg_free(msg);
	pht_envelope_free(env);
	pht_buf_free(file);
	pht_trust_free(trust);
	return ex;
}

/* pht train assemble TRAIN.lua: the text sign would sign, on stdout. */
static int
train_assemble(int argc, char **argv)
{
	struct pht_buf *code = NULL;
	struct pht_err err;
	int r;

	pht_err_clear(&err);
	if (argc != 3 || argv[2][0] == '-')
		return pht_cli_usage_error("train assemble", "give exactly one TRAIN.lua");
	if ((r = pht_cli_read_train(argv[2], PHT_TRAIN_CODE_MAX, &code, &err)) != PHT_OK) {
		pht_cli_error("train assemble", &err);
		return pht_cli_exit_for(r);
	}
	r = fwrite(pht_buf_data(code), 1, pht_buf_len(code), stdout) == pht_buf_len(code) &&
	    fflush(stdout) == 0;
	pht_buf_free(code);
	if (!r) {
		fprintf(stderr, "pht train assemble: cannot write the output\n");
		return PHT_EXIT_FAIL;
	}
	return PHT_EXIT_OK;
}

int
pht_cmd_train(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0 || pht_cli_wants_help(argc, argv)) {
		fputs(train_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? PHT_EXIT_USAGE : PHT_EXIT_OK;
	}
	if (strcmp(argv[1], "sign") == 0)
		return train_sign(argc, argv);
	if (strcmp(argv[1], "verify") == 0)
		return train_verify(argc, argv);
	if (strcmp(argv[1], "assemble") == 0)
		return train_assemble(argc, argv);
	if (strcmp(argv[1], "describe") == 0)
		return pht_cmd_train_describe(argc, argv);
	return pht_cli_usage_error("train", "unknown subcommand '%s' (sign, verify, assemble, describe)",
	    argv[1]);
}
