/* cmd_proto.c — pht keygen and pht train sign|verify: argument parsing over the proto library. */
#include "pht_cli.h"
#include "cmd_permit.h"

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

/* One long option: "--name VALUE" or "--name=VALUE". */
struct opt {
	const char *name;
	const char *val;
};

/*
 * Parses argv[start..argc) into opts (each at most once) and up to maxpos
 * positional arguments. Returns PHT_EXIT_OK or prints a usage error and
 * returns PHT_EXIT_USAGE.
 */
static int
parse_opts(const char *cmd, int argc, char **argv, int start, struct opt *opts,
    size_t nopts, const char **pos, size_t maxpos, size_t *npos)
{
	int i, only_pos = 0;
	size_t j, len;

	*npos = 0;
	for (i = start; i < argc; i++) {
		const char *a = argv[i], *eq, *val;

		if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
			if (*npos >= maxpos)
				return pht_cli_usage_error(cmd, "unexpected argument '%s'", a);
			pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return pht_cli_usage_error(cmd, "unknown option '%s'", a);
		eq = strchr(a, '=');
		len = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
		for (j = 0; j < nopts; j++)
			if (strlen(opts[j].name) == len &&
			    strncmp(opts[j].name, a + 2, len) == 0)
				break;
		if (j == nopts)
			return pht_cli_usage_error(cmd, "unknown option '%s'", a);
		if (opts[j].val != NULL)
			return pht_cli_usage_error(cmd, "option --%s given twice",
			    opts[j].name);
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return pht_cli_usage_error(cmd, "option --%s needs a value",
			    opts[j].name);
		opts[j].val = val;
	}
	return PHT_EXIT_OK;
}

static const char *keygen_help =
    "usage: pht keygen --name NAME --out DIR\n"
    "\n"
    "Generates the key pairs of one party (analyst, station or permit\n"
    "authority) and writes them as PEM files into DIR (created, mode 0700,\n"
    "if missing):\n"
    "  DIR/NAME.sign.key   Ed25519 signing key, private (PKCS#8, mode 0600)\n"
    "  DIR/NAME.sign.pub   Ed25519 signing key, public (give it to those who\n"
    "                      must trust your signature)\n"
    "  DIR/NAME.seal.key   X25519 result key, private (PKCS#8, mode 0600)\n"
    "  DIR/NAME.seal.pub   X25519 result key, public (results are sealed to it)\n"
    "Existing files are never overwritten. Prints the signing key's\n"
    "fingerprint: the lower-case hex SHA-256 of its raw 32-byte public key.\n"
    "\n"
    "NAME: 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'.\n"
    "Exit codes: 0 written, 1 failed, 2 bad usage or existing files.\n";

int
pht_cmd_keygen(int argc, char **argv)
{
	struct opt opts[] = {{"name", NULL}, {"out", NULL}};
	char fp[PHT_KEY_FP_LEN + 1];
	struct pht_err err;
	const char *pos[1];
	size_t npos;
	int r;

	pht_err_clear(&err);
	if (pht_cli_wants_help(argc, argv)) {
		fputs(keygen_help, stdout);
		return PHT_EXIT_OK;
	}
	if ((r = parse_opts("keygen", argc, argv, 1, opts, 2, pos, 0, &npos)) != 0)
		return r;
	if (opts[0].val == NULL || opts[1].val == NULL)
		return pht_cli_usage_error("keygen", "--name and --out are required");
	if (!pht_key_name_ok(opts[0].val))
		return pht_cli_usage_error("keygen", "bad name '%s': use 1 to %d letters, "
		    "digits, '.', '_' or '-', not starting with '.' or '-'",
		    opts[0].val, PHT_KEY_NAME_MAX);
	if ((r = pht_key_generate_files(opts[1].val, opts[0].val, fp, NULL, &err)) !=
	    PHT_OK) {
		pht_cli_error("keygen", &err);
		return pht_cli_exit_for(r);
	}
	printf("wrote %s/%s.{sign,seal}.{key,pub} (private keys mode 0600)\n",
	    opts[1].val, opts[0].val);
	printf("fingerprint: %s\n", fp);
	return PHT_EXIT_OK;
}

static const char *train_help =
    "usage: pht train sign TRAIN.lua --key SIGNKEY --out FILE [options]\n"
    "       pht train verify FILE --trust DIR_OR_FILE\n"
    "       pht train assemble TRAIN.lua\n"
    "\n"
    "A train file may hold lines --#include \"NAME\": sign (and run, sim, permit\n"
    "--train, audit replay) read the train with each such line replaced by the\n"
    "file NAME (\"lib/...\" from the train library: $PHT_TRAIN_LIB, else the\n"
    "folder lib beside the train's folder; other names under the train's\n"
    "folder). What is signed and run is that one assembled text; assemble\n"
    "prints it (docs/std-trains.md).\n"
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

/* Strictly parses a decimal integer in [lo, hi]. */
static int
parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	*out = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out < lo || *out > hi)
		return -1;
	return 0;
}

/* NAME.sign.key -> NAME.seal.pub; NULL if the key is not named that way. */
static char *
default_result_key(const char *keypath)
{
	size_t n = strlen(keypath), sl = strlen(PHT_KEY_SIGN_PRIV_SUFFIX);
	char *p;

	if (n < sl || strcmp(keypath + n - sl, PHT_KEY_SIGN_PRIV_SUFFIX) != 0)
		return NULL;
	if ((p = malloc(n - sl + strlen(PHT_KEY_SEAL_PUB_SUFFIX) + 1)) == NULL)
		return NULL;
	memcpy(p, keypath, n - sl);
	strcpy(p + n - sl, PHT_KEY_SEAL_PUB_SUFFIX); /* sized above */
	return p;
}

static int
train_sign(int argc, char **argv)
{
	enum { O_KEY, O_OUT, O_PARAMS, O_DATASETS, O_STATIONS, O_EXPIRES, O_ROUND,
	    O_RESULT, O_NAME, O_PERMIT, O_PERMIT_FILE, O_APPROVAL, O_N };
	struct opt opts[O_N] = {
		{"key", NULL}, {"out", NULL}, {"params", NULL}, {"datasets", NULL},
		{"stations", NULL}, {"expires", NULL}, {"round", NULL},
		{"result-key", NULL}, {"name", NULL}, {"permit", NULL},
		{"permit-file", NULL}, {"approval", NULL},
	};
	struct pht_buf *pfile = NULL, *abuf = NULL;
	struct pht_envelope *penv = NULL;
	struct pht_permit *permit = NULL;
	struct pht_trainmsg_spec spec;
	struct pht_key *key = NULL, *rkey = NULL;
	struct pht_buf *code = NULL;
	struct pht_err err;
	json_t *params = NULL;
	const char *pos[1], **ds = NULL, **st = NULL;
	char *dcopy = NULL, *scopy = NULL, *rpath = NULL, *payload = NULL;
	char *env = NULL, fp[PHT_KEY_FP_LEN + 1], t[21], id[PHT_TRAINMSG_ID_LEN + 1];
	size_t npos, plen = 0, elen = 0;
	long long round = 1;
	int64_t dur = 0;
	struct stat sb;
	int r, ex = PHT_EXIT_USAGE;

	pht_err_clear(&err);
	memset(&spec, 0, sizeof(spec));
	if ((r = parse_opts("train sign", argc, argv, 2, opts, O_N, pos, 1, &npos)) != 0)
		return r;
	if (npos != 1)
		return pht_cli_usage_error("train sign", "give exactly one TRAIN.lua");
	if (opts[O_KEY].val == NULL || opts[O_OUT].val == NULL)
		return pht_cli_usage_error("train sign", "--key and --out are required");
	if (pht_duration_parse(opts[O_EXPIRES].val != NULL ? opts[O_EXPIRES].val :
	    DEFAULT_EXPIRY, &dur) != PHT_OK)
		return pht_cli_usage_error("train sign", "--expires: '%s' is not a "
		    "duration like 90s, 30m, 1h or 7d", opts[O_EXPIRES].val);
	if (opts[O_ROUND].val != NULL &&
	    parse_int(opts[O_ROUND].val, 1, PHT_TRAINMSG_MAX_ROUND, &round) != 0)
		return pht_cli_usage_error("train sign", "--round: '%s' is not an "
		    "integer from 1 to %d", opts[O_ROUND].val, PHT_TRAINMSG_MAX_ROUND);
	if (opts[O_PARAMS].val != NULL) {
		if (pht_json_parse(opts[O_PARAMS].val, strlen(opts[O_PARAMS].val),
		    "--params", &params, &err) != PHT_OK) {
			pht_cli_error("train sign", &err);
			goto out;
		}
		if (!json_is_object(params)) {
			pht_cli_usage_error("train sign", "--params must be a JSON object");
			goto out;
		}
	}
	if (opts[O_DATASETS].val != NULL &&
	    (r = split_list(opts[O_DATASETS].val, &dcopy, &ds, &spec.n_datasets)) != 0) {
		if (r == PHT_ERR_NOMEM)
			goto nomem;
		pht_cli_usage_error("train sign", "--datasets: empty name in '%s'",
		    opts[O_DATASETS].val);
		goto out;
	}
	if (opts[O_STATIONS].val != NULL &&
	    (r = split_list(opts[O_STATIONS].val, &scopy, &st, &spec.n_stations)) != 0) {
		if (r == PHT_ERR_NOMEM)
			goto nomem;
		pht_cli_usage_error("train sign", "--stations: empty name in '%s'",
		    opts[O_STATIONS].val);
		goto out;
	}
	if ((r = pht_key_load_as(opts[O_KEY].val, PHT_KEY_SIGN, 1, &key, &err)) != 0) {
		pht_cli_error("train sign", &err);
		goto out;
	}
	if (opts[O_RESULT].val != NULL) {
		if ((rpath = strdup(opts[O_RESULT].val)) == NULL)
			goto nomem;
	} else if ((rpath = default_result_key(opts[O_KEY].val)) == NULL ||
	    stat(rpath, &sb) != 0) {
		pht_cli_usage_error("train sign", "no --result-key given and no %s "
		    "beside the signing key", rpath != NULL ? rpath : "NAME.seal.pub");
		goto out;
	}
	if ((r = pht_key_load_as(rpath, PHT_KEY_SEAL, 0, &rkey, &err)) != 0 ||
	    (r = pht_key_public_raw(rkey, spec.result_key, &err)) != 0) {
		pht_cli_error("train sign", &err);
		goto out;
	}
	if ((r = pht_cli_read_train(pos[0], PHT_TRAIN_CODE_MAX, &code, &err)) != 0) {
		pht_cli_error("train sign", &err);
		goto out;
	}
	if ((r = pht_trainmsg_new_id(id, &err)) != 0) {
		pht_cli_error("train sign", &err);
		ex = PHT_EXIT_FAIL;
		goto out;
	}
	spec.id = id;
	spec.name = opts[O_NAME].val;
	spec.permit = opts[O_PERMIT].val;
	if (opts[O_PERMIT_FILE].val != NULL) {
		/* the permit travels inside the signed train, byte for byte */
		const uint8_t *pl;
		size_t pn;
		if ((r = pht_file_read(opts[O_PERMIT_FILE].val, PHT_TRAINMSG_MAX_PERMIT,
		    &pfile, &err)) == 0 &&
		    (r = pht_envelope_parse(pht_buf_str(pfile), pht_buf_len(pfile), &penv,
		    &err)) == 0) {
			pl = pht_envelope_payload(penv, &pn);
			r = pht_permit_parse(pl, pn, &permit, &err);
		}
		if (r != 0) {
			pht_err_prefix(&err, "--permit-file");
			pht_cli_error("train sign", &err);
			goto out;
		}
		if (spec.permit != NULL && strcmp(spec.permit, pht_permit_id(permit)) != 0) {
			pht_cli_usage_error("train sign", "--permit %s but --permit-file "
			    "holds permit %s", spec.permit, pht_permit_id(permit));
			goto out;
		}
		spec.permit = pht_permit_id(permit);
		spec.permit_envelope = pht_buf_str(pfile);
	}
	if (opts[O_APPROVAL].val != NULL) {
		if (spec.permit == NULL) {
			pht_cli_usage_error("train sign", "--approval needs --permit or "
			    "--permit-file (approvals count under a permit's reviewers)");
			goto out;
		}
		if ((ex = pht_cli_load_approval("train sign", opts[O_APPROVAL].val,
		    pht_buf_str(code), pht_buf_len(code), &abuf)) != PHT_EXIT_OK)
			goto out;
		ex = PHT_EXIT_USAGE;
		spec.code_approval = pht_buf_str(abuf);
	}
	spec.code = pht_buf_str(code);
	spec.code_len = pht_buf_len(code);
	spec.params = params;
	spec.datasets = ds;
	spec.stations = st;
	spec.round = round;
	spec.issued = pht_time_now();
	spec.expires = spec.issued + dur;
	if ((r = pht_trainmsg_build(&spec, &payload, &plen, &err)) != 0) {
		pht_err_prefix(&err, "%s", pos[0]);
		pht_cli_error("train sign", &err);
		goto out;
	}
	if ((r = pht_envelope_sign(key, (const uint8_t *)payload, plen, &env, &elen,
	    &err)) != 0 ||
	    (r = pht_file_write_atomic(opts[O_OUT].val, env, elen, 0644, &err)) != 0 ||
	    (r = pht_key_fingerprint(key, fp, &err)) != 0) {
		pht_cli_error("train sign", &err);
		ex = pht_cli_exit_for(r);
		goto out;
	}
	pht_time_format(spec.expires, t);
	printf("signed train %s by %s, expires %s; wrote %s\n", id, fp, t,
	    opts[O_OUT].val);
	ex = PHT_EXIT_OK;
	goto out;
nomem:
	fprintf(stderr, "pht train sign: out of memory\n");
	ex = PHT_EXIT_FAIL;
out:
	json_decref(params);
	free(dcopy);
	free(scopy);
	free(ds);
	free(st);
	free(rpath);
	free(payload);
	free(env);
	pht_buf_free(code);
	pht_buf_free(pfile);
	pht_envelope_free(penv);
	pht_permit_free(permit);
	pht_buf_free(abuf);
	pht_key_free(key);
	pht_key_free(rkey);
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
	struct opt opts[] = {{"trust", NULL}};
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
	if ((r = parse_opts("train verify", argc, argv, 2, opts, 1, pos, 1, &npos)) != 0)
		return r;
	if (npos != 1)
		return pht_cli_usage_error("train verify", "give exactly one FILE");
	if (opts[0].val == NULL)
		return pht_cli_usage_error("train verify", "--trust is required");
	if ((trust = pht_trust_new()) == NULL) {
		fprintf(stderr, "pht train verify: out of memory\n");
		return PHT_EXIT_FAIL;
	}
	if ((r = pht_trust_load(trust, opts[0].val, &err)) != PHT_OK) {
		pht_cli_error("train verify: trust", &err);
		goto out;
	}
	if (pht_trust_count(trust) == 0) {
		fprintf(stderr, "pht train verify: %s: no trusted signing keys (*.pub)\n",
		    opts[0].val);
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
	return pht_cli_usage_error("train", "unknown subcommand '%s' (sign, verify, assemble)",
	    argv[1]);
}
