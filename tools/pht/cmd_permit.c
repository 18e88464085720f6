/* cmd_permit.c — pht permit issue|approve|show|verify|revoke|halt|post, and pht station halt|resume. */
#include "cmd_permit.h"
#include "pht_cli.h"

#include "pht_buf.h"
#include "pht_enc.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_hash.h"
#include "pht_http.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_permit.h"
#include "pht_station_config.h"
#include "pht_station_exec.h"
#include "pht_station_gov.h"
#include "pht_time.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"
#include "pht_limits.h"


#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPEAT 1024

static const char *permit_help =
"usage: pht permit issue --key AUTHORITY.sign.key --id ID\n"
"           --analyst NAME=FINGERPRINT|NAME=KEY.sign.pub ...  --station ID ...\n"
"           --dataset NAME ... --columns NAME:col,col,... ...  --purpose TEXT\n"
"           (--train-sha256 HASH | --train FILE.lua | --reviewer NAME=KEY.sign.pub) ...\n"
"           --from DATE --until DATE [--max-runs N] [--max-rounds N]\n"
"           [--row-access FILE.lua | --row-access-sha256 HASH] ... --out FILE\n"
"       pht permit approve --key REVIEWER.sign.key (--train FILE.lua | --train-sha256 HASH) ...\n"
"           [--note TEXT] --out FILE\n"
"       pht permit show FILE\n"
"       pht permit verify FILE --authority AUTHORITY.sign.pub|DIR\n"
"       pht permit revoke --key AUTHORITY.sign.key --seq N [--id ID ...] --out FILE\n"
"       pht permit halt --key AUTHORITY.sign.key --scope all|permit:ID|dataset:NAME\n"
"           [--until DATE] [--reason TEXT] [--lift] --out FILE\n"
"       pht permit post FILE --node URL --cert CERT --tls-key KEY --ca CA\n"
"\n"
"A data permit is signed by a permit authority (a data access body): who may\n"
"run which train code on which stations, datasets and columns, for what\n"
"purpose, from when until when, with optional caps. Stations that trust the\n"
"authority run trains only under a valid permit (docs/governance.md).\n"
"\n"
"  issue   sign a permit. Every --dataset needs a --columns NAME:... naming\n"
"          the columns allowed in it. --train FILE.lua adds the SHA-256 of\n"
"          that train as signed (its --#include lines assembled, as pht\n"
"          train assemble prints it). DATE is YYYY-MM-DD,\n"
"          YYYY-MM-DDTHH:MM:SSZ, now, or a\n"
"          duration from now (30m, 12h, 90d). --reviewer allows, besides\n"
"          the listed hashes, any train code that reviewer approved.\n"
"          --row-access lets that train code (added to the permit's code)\n"
"          read row-level values (col:values()), e.g. a steward's\n"
"          data-quality train; no other train ever gets them.\n"
"  approve sign a code approval as a reviewer: the SHA-256 of each train\n"
"          file reviewed, assembled. A train carries it (pht train sign --approval,\n"
"          pht run --approval); a permit naming the reviewer then allows it.\n"
"  show    print a permit, code approval, revocation list or halt order\n"
"          (signature not checked: use verify).\n"
"  verify  check the signature against the authority's (or reviewer's)\n"
"          public key and, for\n"
"          a permit, that it is valid now (exit 1 otherwise).\n"
"  revoke  sign a revocation list: the complete list of revoked permit ids,\n"
"          with a sequence number larger than that of the previous list.\n"
"  halt    sign a halt order for every train, one permit or one dataset;\n"
"          --lift signs an order that ends an earlier halt of that scope.\n"
"  post    hand a revocation list or halt order to the node, which serves\n"
"          it to every station (GET /v1/revocations, /v1/halts).\n";

/* A long option that may be given `max` times ("--name VALUE" or "--name=VALUE"). */
struct ropt {
	const char *name;
	size_t max;
	int flag;                       /* takes no value */
	const char *vals[MAX_REPEAT];
	size_t n;
};

/* Parses argv[start..) into opts and up to maxpos positionals. */
static int
parse_ropts(const char *cmd, int argc, char **argv, int start, struct ropt *o,
    size_t no, const char **pos, size_t maxpos, size_t *npos)
{
	size_t j, len;
	int i;

	*npos = 0;
	for (i = start; i < argc; i++) {
		const char *a = argv[i], *eq;

		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (a[0] == '-' && a[1] != '\0')
				return pht_cli_usage_error(cmd, "unknown option '%s'", a);
			if (*npos >= maxpos)
				return pht_cli_usage_error(cmd, "unexpected argument '%s'", a);
			pos[(*npos)++] = a;
			continue;
		}
		eq = strchr(a, '=');
		len = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
		for (j = 0; j < no; j++)
			if (strlen(o[j].name) == len && strncmp(o[j].name, a + 2, len) == 0)
				break;
		if (j == no)
			return pht_cli_usage_error(cmd, "unknown option '%s'", a);
		if (o[j].n >= o[j].max)
			return pht_cli_usage_error(cmd, "option --%s given too often",
			    o[j].name);
		if (o[j].flag) {
			if (eq != NULL)
				return pht_cli_usage_error(cmd, "option --%s takes no value",
				    o[j].name);
			o[j].vals[o[j].n++] = "";
			continue;
		}
		if (eq != NULL)
			o[j].vals[o[j].n++] = eq + 1;
		else if (i + 1 < argc)
			o[j].vals[o[j].n++] = argv[++i];
		else
			return pht_cli_usage_error(cmd, "option --%s needs a value", o[j].name);
	}
	return PHT_EXIT_OK;
}

static const char *
one(const struct ropt *o)
{
	return o->n > 0 ? o->vals[0] : NULL;
}

/* DATE: YYYY-MM-DD, RFC 3339 UTC, "now" or a duration from now. */
static int
parse_date(const char *s, int64_t now, int64_t *out)
{
	char buf[32];
	int64_t d;

	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (pht_time_parse(s, out) == PHT_OK)
		return 0;
	if (strlen(s) == 10 && snprintf(buf, sizeof(buf), "%sT00:00:00Z", s) > 0 &&
	    pht_time_parse(buf, out) == PHT_OK)
		return 0;
	if (pht_duration_parse(s, &d) == PHT_OK) {
		*out = now + d;
		return 0;
	}
	return -1;
}

static int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* Signs payload with the key file and writes the envelope to out_path. */
static int
sign_to(const char *cmd, const char *keyfile, const char *payload, size_t len,
    const char *out_path, char fp[PHT_KEY_FP_LEN + 1])
{
	struct pht_key *key = NULL;
	struct pht_err err;
	char *env = NULL;
	size_t elen = 0;
	int r;

	pht_err_clear(&err);
	if ((r = pht_key_load_as(keyfile, PHT_KEY_SIGN, 1, &key, &err)) != PHT_OK ||
	    (r = pht_key_fingerprint(key, fp, &err)) != PHT_OK ||
	    (r = pht_envelope_sign(key, (const uint8_t *)payload, len, &env, &elen,
	    &err)) != PHT_OK ||
	    (r = pht_file_write_atomic(out_path, env, elen, 0644, &err)) != PHT_OK)
		pht_cli_error(cmd, &err);
	free(env);
	pht_key_free(key);
	return r == PHT_OK ? PHT_EXIT_OK : pht_cli_exit_for(r);
}

static int
sha256_file(const char *path, char out[PHT_SHA256_HEX_LEN + 1], struct pht_err *err)
{
	struct pht_buf *b = NULL;
	int r;

	if ((r = pht_cli_read_train(path, PHT_TRAIN_CODE_MAX, &b, err)) != PHT_OK)
		return r;
	r = pht_sha256_hex(pht_buf_data(b), pht_buf_len(b), out, err);
	pht_buf_free(b);
	return r;
}

/*
 * The train code hashes of --train-sha256 (given) and --train FILE (hashed)
 * into codes[0..*n): codes must hold sha->n + train->n entries; the hashes
 * of files are allocated and their strings appended to strs[*nstrs..].
 * Prints the error and returns its exit code, or PHT_EXIT_OK.
 */
static int
collect_codes(const char *cmd, const struct ropt *sha, const struct ropt *train,
    char **codes, size_t *n, char **strs, size_t *nstrs)
{
	struct pht_err err;
	char h[PHT_SHA256_HEX_LEN + 1];
	size_t i;
	int r;

	pht_err_clear(&err);
	for (i = 0; i < sha->n; i++)
		codes[i] = (char *)sha->vals[i];
	*n = sha->n;
	for (i = 0; i < train->n; i++) {
		if ((r = sha256_file(train->vals[i], h, &err)) != PHT_OK) {
			pht_cli_error(cmd, &err);
			return pht_cli_exit_for(r);
		}
		if ((strs[*nstrs] = strdup(h)) == NULL) {
			fprintf(stderr, "pht %s: out of memory\n", cmd);
			return PHT_EXIT_FAIL;
		}
		codes[(*n)++] = strs[(*nstrs)++];
	}
	return PHT_EXIT_OK;
}

static int
permit_issue(int argc, char **argv)
{
	enum { O_KEY, O_ID, O_ANALYST, O_STATION, O_DATASET, O_COLUMNS, O_PURPOSE,
	    O_SHA, O_TRAIN, O_FROM, O_UNTIL, O_RUNS, O_ROUNDS, O_OUT, O_REVIEWER,
	    O_RA_SHA, O_RA_TRAIN, O_N };
	struct ropt o[O_N] = {
		{"key", 1, 0, {0}, 0}, {"id", 1, 0, {0}, 0},
		{"analyst", PHT_PERMIT_MAX_LIST, 0, {0}, 0},
		{"station", PHT_PERMIT_MAX_LIST, 0, {0}, 0},
		{"dataset", PHT_PERMIT_MAX_LIST, 0, {0}, 0},
		{"columns", PHT_PERMIT_MAX_LIST, 0, {0}, 0},
		{"purpose", 1, 0, {0}, 0},
		{"train-sha256", PHT_PERMIT_MAX_CODES, 0, {0}, 0},
		{"train", PHT_PERMIT_MAX_CODES, 0, {0}, 0},
		{"from", 1, 0, {0}, 0}, {"until", 1, 0, {0}, 0},
		{"max-runs", 1, 0, {0}, 0}, {"max-rounds", 1, 0, {0}, 0},
		{"out", 1, 0, {0}, 0},
		{"reviewer", PHT_PERMIT_MAX_LIST, 0, {0}, 0},
		{"row-access-sha256", PHT_PERMIT_MAX_CODES, 0, {0}, 0},
		{"row-access", PHT_PERMIT_MAX_CODES, 0, {0}, 0},
	};
	const char *cmd = "permit issue", *pos[1];
	struct pht_permit_spec spec;
	struct pht_permit_user *users = NULL, *revs = NULL;
	struct pht_permit_dataset *ds = NULL;
	struct pht_key *k = NULL;
	struct pht_err err;
	char **strs = NULL, **codes = NULL, **ra = NULL, *payload = NULL;
	char fp[PHT_KEY_FP_LEN + 1];
	const char **cols = NULL;
	size_t npos, i, j, nstrs = 0, plen = 0, ncodes, nra = 0;
	int64_t now = pht_time_now();
	int ex = PHT_EXIT_USAGE, r;

	pht_err_clear(&err);
	memset(&spec, 0, sizeof(spec));
	if ((r = parse_ropts(cmd, argc, argv, 2, o, O_N, pos, 0, &npos)) != 0)
		return r;
	if (one(&o[O_KEY]) == NULL || one(&o[O_ID]) == NULL || one(&o[O_OUT]) == NULL ||
	    one(&o[O_PURPOSE]) == NULL || one(&o[O_FROM]) == NULL ||
	    one(&o[O_UNTIL]) == NULL || o[O_ANALYST].n == 0 || o[O_STATION].n == 0 ||
	    o[O_DATASET].n == 0 || o[O_SHA].n + o[O_TRAIN].n + o[O_REVIEWER].n +
	    o[O_RA_SHA].n + o[O_RA_TRAIN].n == 0)
		return pht_cli_usage_error(cmd, "--key, --id, --analyst, --station, "
		    "--dataset (with --columns), --purpose, --train-sha256, --train or "
		    "--reviewer, --from, --until and --out are required");
	if (parse_date(one(&o[O_FROM]), now, &spec.valid_from) != 0)
		return pht_cli_usage_error(cmd, "--from: '%s' is not a date",
		    one(&o[O_FROM]));
	if (parse_date(one(&o[O_UNTIL]), now, &spec.valid_until) != 0)
		return pht_cli_usage_error(cmd, "--until: '%s' is not a date",
		    one(&o[O_UNTIL]));
	if (one(&o[O_RUNS]) != NULL && parse_i64(one(&o[O_RUNS]), 1,
	    PHT_PERMIT_MAX_RUNS, &spec.max_runs) != 0)
		return pht_cli_usage_error(cmd, "--max-runs: not an integer from 1 to %d",
		    PHT_PERMIT_MAX_RUNS);
	if (one(&o[O_ROUNDS]) != NULL && parse_i64(one(&o[O_ROUNDS]), 1,
	    PHT_PERMIT_MAX_ROUNDS, &spec.max_rounds) != 0)
		return pht_cli_usage_error(cmd, "--max-rounds: not an integer from 1 "
		    "to %d", PHT_PERMIT_MAX_ROUNDS);
	users = calloc(o[O_ANALYST].n, sizeof(*users));
	ds = calloc(o[O_DATASET].n, sizeof(*ds));
	revs = calloc(o[O_REVIEWER].n + 1, sizeof(*revs));
	strs = calloc(o[O_ANALYST].n * 2 + o[O_REVIEWER].n * 2 + o[O_COLUMNS].n * 2 +
	    o[O_TRAIN].n + o[O_RA_TRAIN].n + 1, sizeof(*strs));
	ra = calloc(o[O_RA_SHA].n + o[O_RA_TRAIN].n + 1, sizeof(*ra));
	codes = calloc(o[O_SHA].n + o[O_TRAIN].n + o[O_RA_SHA].n + o[O_RA_TRAIN].n + 1,
	    sizeof(*codes));
	cols = calloc(o[O_COLUMNS].n * (PHT_PERMIT_MAX_COLUMNS + 1) + 1, sizeof(*cols));
	if (users == NULL || ds == NULL || strs == NULL || codes == NULL || ra == NULL ||
	    cols == NULL || revs == NULL)
		goto nomem;
	/* --reviewer NAME=KEYFILE: the permit carries the key itself (base64) */
	for (i = 0; i < o[O_REVIEWER].n; i++) {
		const char *a = o[O_REVIEWER].vals[i], *eq = strchr(a, '=');
		uint8_t raw[PHT_KEY_RAW_LEN];
		if (eq == NULL || eq == a || eq[1] == '\0') {
			pht_cli_usage_error(cmd, "--reviewer: '%s' is not NAME=KEY.sign.pub", a);
			goto out;
		}
		if ((strs[nstrs] = strndup(a, (size_t)(eq - a))) == NULL)
			goto nomem;
		revs[i].name = strs[nstrs++];
		if ((r = pht_key_load_as(eq + 1, PHT_KEY_SIGN, 0, &k, &err)) != PHT_OK ||
		    (r = pht_key_public_raw(k, raw, &err)) != PHT_OK) {
			pht_err_prefix(&err, "--reviewer %s", revs[i].name);
			pht_cli_error(cmd, &err);
			ex = pht_cli_exit_for(r);
			goto out;
		}
		pht_key_free(k);
		k = NULL;
		if ((strs[nstrs] = malloc(pht_b64_encoded_len(PHT_KEY_RAW_LEN) + 1)) == NULL)
			goto nomem;
		pht_b64_encode(raw, PHT_KEY_RAW_LEN, strs[nstrs]);
		revs[i].key = strs[nstrs++];
	}
	/* --analyst NAME=FPR or NAME=KEYFILE */
	for (i = 0; i < o[O_ANALYST].n; i++) {
		const char *a = o[O_ANALYST].vals[i], *eq = strchr(a, '=');
		if (eq == NULL || eq == a || eq[1] == '\0') {
			pht_cli_usage_error(cmd, "--analyst: '%s' is not NAME=FINGERPRINT "
			    "or NAME=KEY.sign.pub", a);
			goto out;
		}
		if ((strs[nstrs] = strndup(a, (size_t)(eq - a))) == NULL)
			goto nomem;
		users[i].name = strs[nstrs++];
		if (strlen(eq + 1) == PHT_KEY_FP_LEN && strspn(eq + 1,
		    "0123456789abcdef") == PHT_KEY_FP_LEN) {
			users[i].key = eq + 1;
			continue;
		}
		if ((r = pht_key_load_as(eq + 1, PHT_KEY_SIGN, 0, &k, &err)) != PHT_OK ||
		    (r = pht_key_fingerprint(k, fp, &err)) != PHT_OK) {
			pht_err_prefix(&err, "--analyst %s", users[i].name);
			pht_cli_error(cmd, &err);
			goto out;
		}
		pht_key_free(k);
		k = NULL;
		if ((strs[nstrs] = strdup(fp)) == NULL)
			goto nomem;
		users[i].key = strs[nstrs++];
	}
	/* --dataset D with its --columns D:a,b,c */
	{
		size_t ncol = 0;
		for (i = 0; i < o[O_COLUMNS].n; i++) {
			const char *c = o[O_COLUMNS].vals[i], *colon = strchr(c, ':');
			for (j = 0; j < o[O_DATASET].n; j++)
				if (colon != NULL && strlen(o[O_DATASET].vals[j]) ==
				    (size_t)(colon - c) && strncmp(o[O_DATASET].vals[j], c,
				    (size_t)(colon - c)) == 0)
					break;
			if (colon == NULL || j == o[O_DATASET].n) {
				pht_cli_usage_error(cmd, "--columns: '%s' is not DATASET:col,... "
				    "for a --dataset given", c);
				goto out;
			}
		}
		for (j = 0; j < o[O_DATASET].n; j++) {
			const char *name = o[O_DATASET].vals[j];
			size_t nl = strlen(name);
			ds[j].name = name;
			ds[j].columns = cols + ncol;
			for (i = 0; i < o[O_COLUMNS].n; i++) {
				const char *c = o[O_COLUMNS].vals[i];
				char *copy, *tok, *save = NULL;
				if (strncmp(c, name, nl) != 0 || c[nl] != ':')
					continue;
				if ((copy = strdup(c + nl + 1)) == NULL)
					goto nomem;
				strs[nstrs++] = copy;
				for (tok = strtok_r(copy, ",", &save); tok != NULL;
				    tok = strtok_r(NULL, ",", &save)) {
					if (ds[j].ncolumns >= PHT_PERMIT_MAX_COLUMNS) {
						pht_cli_usage_error(cmd, "--columns: more than %d "
						    "columns for %s", PHT_PERMIT_MAX_COLUMNS, name);
						goto out;
					}
					cols[ncol++] = tok;
					ds[j].ncolumns++;
				}
			}
			if (ds[j].ncolumns == 0) {
				pht_cli_usage_error(cmd, "--dataset %s: no --columns %s:... "
				    "names its allowed columns", name, name);
				goto out;
			}
		}
	}
	if ((ex = collect_codes(cmd, &o[O_SHA], &o[O_TRAIN], codes, &ncodes, strs,
	    &nstrs)) != PHT_EXIT_OK || (ex = collect_codes(cmd, &o[O_RA_SHA],
	    &o[O_RA_TRAIN], ra, &nra, strs, &nstrs)) != PHT_EXIT_OK)
		goto out;
	ex = PHT_EXIT_USAGE;
	/* code granted row access is allowed code too: listed once */
	for (i = 0; i < nra; i++) {
		for (j = 0; j < ncodes && strcmp(codes[j], ra[i]) != 0; j++)
			;
		if (j == ncodes)
			codes[ncodes++] = ra[i];
	}
	spec.id = one(&o[O_ID]);
	spec.issued = now;
	spec.purpose = one(&o[O_PURPOSE]);
	spec.users = users;
	spec.nusers = o[O_ANALYST].n;
	spec.stations = o[O_STATION].vals;
	spec.nstations = o[O_STATION].n;
	spec.datasets = ds;
	spec.ndatasets = o[O_DATASET].n;
	spec.code_sha256 = (const char *const *)codes;
	spec.ncodes = ncodes;
	spec.reviewers = revs;
	spec.nreviewers = o[O_REVIEWER].n;
	spec.row_access = (const char *const *)ra;
	spec.nrow_access = nra;
	if ((r = pht_permit_build(&spec, &payload, &plen, &err)) != PHT_OK) {
		pht_cli_error(cmd, &err);
		ex = pht_cli_exit_for(r);
		goto out;
	}
	if ((ex = sign_to(cmd, one(&o[O_KEY]), payload, plen, one(&o[O_OUT]), fp)) ==
	    PHT_EXIT_OK) {
		char f[21], u[21];
		pht_time_format(spec.valid_from, f);
		pht_time_format(spec.valid_until, u);
		printf("signed permit %s by %s, valid %s to %s; wrote %s\n", spec.id, fp,
		    f, u, one(&o[O_OUT]));
	}
	goto out;
nomem:
	fprintf(stderr, "pht %s: out of memory\n", cmd);
	ex = PHT_EXIT_FAIL;
out:
	for (i = 0; strs != NULL && i < nstrs; i++)
		free(strs[i]);
	free(strs);
	free(codes);
	free(ra);
	free(cols);
	free(users);
	free(revs);
	free(ds);
	free(payload);
	pht_key_free(k);
	return ex;
}

static int
permit_approve(int argc, char **argv)
{
	enum { O_KEY, O_SHA, O_TRAIN, O_NOTE, O_OUT, O_N };
	struct ropt o[O_N] = {
		{"key", 1, 0, {0}, 0},
		{"train-sha256", PHT_PERMIT_MAX_CODES, 0, {0}, 0},
		{"train", PHT_PERMIT_MAX_CODES, 0, {0}, 0},
		{"note", 1, 0, {0}, 0}, {"out", 1, 0, {0}, 0},
	};
	const char *cmd = "permit approve", *pos[1];
	struct pht_err err;
	char **codes = NULL, **strs = NULL, *payload = NULL, fp[PHT_KEY_FP_LEN + 1];
	size_t npos, i, ncodes = 0, nstrs = 0, plen = 0;
	int ex = PHT_EXIT_USAGE, r;

	pht_err_clear(&err);
	if ((r = parse_ropts(cmd, argc, argv, 2, o, O_N, pos, 0, &npos)) != 0)
		return r;
	if (one(&o[O_KEY]) == NULL || one(&o[O_OUT]) == NULL ||
	    o[O_SHA].n + o[O_TRAIN].n == 0)
		return pht_cli_usage_error(cmd, "--key, --train or --train-sha256, and "
		    "--out are required");
	if ((codes = calloc(o[O_SHA].n + o[O_TRAIN].n, sizeof(*codes))) == NULL ||
	    (strs = calloc(o[O_TRAIN].n + 1, sizeof(*strs))) == NULL)
		goto nomem;
	if ((ex = collect_codes(cmd, &o[O_SHA], &o[O_TRAIN], codes, &ncodes, strs,
	    &nstrs)) != PHT_EXIT_OK)
		goto out;
	if ((r = pht_code_approval_build(pht_time_now(), (const char *const *)codes,
	    ncodes, one(&o[O_NOTE]), &payload, &plen, &err)) != PHT_OK) {
		pht_cli_error(cmd, &err);
		ex = pht_cli_exit_for(r);
		goto out;
	}
	if ((ex = sign_to(cmd, one(&o[O_KEY]), payload, plen, one(&o[O_OUT]), fp)) ==
	    PHT_EXIT_OK)
		printf("signed code approval of %zu train%s by %s; wrote %s\n", ncodes,
		    ncodes == 1 ? "" : "s", fp, one(&o[O_OUT]));
	goto out;
nomem:
	fprintf(stderr, "pht %s: out of memory\n", cmd);
	ex = PHT_EXIT_FAIL;
out:
	for (i = 0; i < nstrs; i++)
		free(strs[i]);
	free(strs);
	free(codes);
	free(payload);
	return ex;
}

int
pht_cli_load_approval(const char *cmd, const char *path, const char *code,
    size_t len, struct pht_buf **out)
{
	struct pht_envelope *env = NULL;
	struct pht_code_approval *a = NULL;
	struct pht_buf *b = NULL;
	struct pht_err err;
	const uint8_t *pl;
	char hex[PHT_SHA256_HEX_LEN + 1];
	size_t pn;
	int r, ex;

	*out = NULL;
	pht_err_clear(&err);
	if ((r = pht_file_read(path, PHT_TRAINMSG_MAX_PERMIT, &b, &err)) == PHT_OK &&
	    (r = pht_envelope_parse(pht_buf_str(b), pht_buf_len(b), &env,
	    &err)) == PHT_OK) {
		pl = pht_envelope_payload(env, &pn);
		r = pht_code_approval_parse(pl, pn, &a, &err);
	}
	if (r != PHT_OK) {
		pht_err_prefix(&err, "--approval");
		pht_cli_error(cmd, &err);
		ex = pht_cli_exit_for(r);
		goto out;
	}
	if (pht_sha256_hex(code, len, hex, &err) != PHT_OK) {
		pht_cli_error(cmd, &err);
		ex = PHT_EXIT_FAIL;
		goto out;
	}
	if (!pht_code_approval_has(a, hex)) {
		ex = pht_cli_usage_error(cmd, "--approval %s does not list this train's "
		    "code (sha256 %s)", path, hex);
		goto out;
	}
	*out = b;
	b = NULL; /* transferred */
	ex = PHT_EXIT_OK;
out:
	pht_code_approval_free(a);
	pht_envelope_free(env);
	pht_buf_free(b);
	return ex;
}

/* What an envelope holds, parsed as whichever kind it is. */
struct parsed {
	struct pht_permit *permit;
	struct pht_revocations *rev;
	struct pht_halt *halt;
	struct pht_code_approval *approval;
};

static void
parsed_clear(struct parsed *p)
{
	pht_permit_free(p->permit);
	pht_revocations_free(p->rev);
	pht_halt_free(p->halt);
	pht_code_approval_free(p->approval);
	memset(p, 0, sizeof(*p));
}

/* Reads FILE, opens the envelope (verifying it when trust is given), parses the payload. */
static int
load_any(const char *path, const struct pht_trust *trust, struct parsed *p,
    char fp[PHT_KEY_FP_LEN + 1], char name[PHT_KEY_NAME_MAX + 1], struct pht_err *err)
{
	struct pht_buf *b = NULL;
	struct pht_envelope *e = NULL;
	struct pht_err e2;
	const uint8_t *pl;
	json_t *v = NULL;
	const char *kind;
	size_t plen;
	int r;

	memset(p, 0, sizeof(*p));
	if ((r = pht_file_read(path, PHT_ENVELOPE_MAX, &b, err)) != PHT_OK)
		return r;
	r = trust != NULL ? pht_envelope_open(pht_buf_str(b), pht_buf_len(b), trust, &e,
	    err) : pht_envelope_parse(pht_buf_str(b), pht_buf_len(b), &e, err);
	if (r != PHT_OK) {
		pht_err_prefix(err, "%s", path);
		goto out;
	}
	snprintf(fp, PHT_KEY_FP_LEN + 1, "%s", pht_envelope_signer_fp(e));
	snprintf(name, PHT_KEY_NAME_MAX + 1, "%s", pht_envelope_signer_name(e) != NULL ?
	    pht_envelope_signer_name(e) : "");
	pl = pht_envelope_payload(e, &plen);
	/* the kind only picks the parser; the parser checks it again strictly */
	kind = pht_json_parse((const char *)pl, plen, "payload", &v, &e2) == PHT_OK ?
	    json_string_value(json_object_get(v, "kind")) : NULL;
	if (kind != NULL && strcmp(kind, PHT_REVOCATIONS_KIND) == 0)
		r = pht_revocations_parse(pl, plen, &p->rev, err);
	else if (kind != NULL && strcmp(kind, PHT_HALT_KIND) == 0)
		r = pht_halt_parse(pl, plen, &p->halt, err);
	else if (kind != NULL && strcmp(kind, PHT_CODE_APPROVAL_KIND) == 0)
		r = pht_code_approval_parse(pl, plen, &p->approval, err);
	else
		r = pht_permit_parse(pl, plen, &p->permit, err);
	if (r != PHT_OK)
		pht_err_prefix(err, "%s", path);
out:
	json_decref(v);
	pht_envelope_free(e);
	pht_buf_free(b);
	return r;
}

static void
print_strings(const char *label, const json_t *a)
{
	json_t *v;
	size_t i;

	printf("%s:", label);
	json_array_foreach(a, i, v)
		printf("%s%s", i == 0 ? " " : ", ", json_string_value(v));
	printf("\n");
}

static void
print_parsed(const struct parsed *p, const char *fp, const char *name)
{
	char t[21], u[21];
	size_t i;

	if (p->permit != NULL) {
		const json_t *root = pht_permit_json(p->permit), *v;
		const char *k;
		printf("permit: %s\n", pht_permit_id(p->permit));
		pht_time_format(pht_permit_issued(p->permit), t);
		printf("issued: %s\n", t);
		printf("authority: %s%s%s%s\n", fp, name[0] ? " (" : "", name,
		    name[0] ? ")" : "");
		printf("purpose: %s\n", pht_permit_purpose(p->permit));
		json_array_foreach(json_object_get(root, "users"), i, v)
			printf("data user: %s %s\n", json_string_value(json_object_get(v,
			    "name")), json_string_value(json_object_get(v, "key")));
		print_strings("stations", json_object_get(root, "stations"));
		json_object_foreach((json_t *)json_object_get(root, "datasets"), k, v) {
			char label[128];
			snprintf(label, sizeof(label), "dataset %s, columns", k);
			print_strings(label, v);
		}
		if (json_object_get(root, "code_sha256") != NULL)
			print_strings("train code sha256", json_object_get(root,
			    "code_sha256"));
		if (json_object_get(root, "row_access") != NULL)
			print_strings("row access for train code sha256",
			    json_object_get(root, "row_access"));
		json_array_foreach(json_object_get(root, "reviewers"), i, v) {
			uint8_t raw[PHT_KEY_RAW_LEN + 3];
			char rfp[PHT_KEY_FP_LEN + 1] = "?";
			size_t rl;
			const char *b64 = json_string_value(json_object_get(v, "key"));
			if (pht_b64_decode(b64, strlen(b64), raw, sizeof(raw), &rl) == PHT_OK &&
			    rl == PHT_KEY_RAW_LEN)
				pht_key_fingerprint_raw(raw, rfp);
			printf("code reviewer: %s %s (trains it approves are allowed)\n",
			    json_string_value(json_object_get(v, "name")), rfp);
		}
		pht_time_format(pht_permit_valid_from(p->permit), t);
		pht_time_format(pht_permit_valid_until(p->permit), u);
		printf("valid: %s to %s\n", t, u);
		if (pht_permit_max_runs(p->permit) > 0)
			printf("max runs per station: %" PRId64 "\n",
			    pht_permit_max_runs(p->permit));
		if (pht_permit_max_rounds(p->permit) > 0)
			printf("max rounds: %" PRId64 "\n", pht_permit_max_rounds(p->permit));
	} else if (p->rev != NULL) {
		pht_time_format(pht_revocations_issued(p->rev), t);
		printf("revocation list: seq %" PRId64 ", issued %s\n",
		    pht_revocations_seq(p->rev), t);
		printf("authority: %s%s%s%s\n", fp, name[0] ? " (" : "", name,
		    name[0] ? ")" : "");
		printf("revoked:");
		for (i = 0; i < pht_revocations_count(p->rev); i++)
			printf("%s%s", i == 0 ? " " : ", ", pht_revocations_id(p->rev, i));
		printf("%s\n", pht_revocations_count(p->rev) == 0 ? " (none)" : "");
	} else if (p->approval != NULL) {
		const json_t *root = pht_code_approval_json(p->approval);
		printf("code approval, issued %s\n", json_string_value(json_object_get(root,
		    "issued")));
		printf("reviewer: %s%s%s%s\n", fp, name[0] ? " (" : "", name,
		    name[0] ? ")" : "");
		print_strings("train code sha256", json_object_get(root, "code_sha256"));
		if (json_object_get(root, "note") != NULL)
			printf("note: %s\n", json_string_value(json_object_get(root, "note")));
	} else if (p->halt != NULL) {
		pht_time_format(pht_halt_issued(p->halt), t);
		printf("halt order: scope %s, issued %s\n", pht_halt_scope(p->halt), t);
		printf("authority: %s%s%s%s\n", fp, name[0] ? " (" : "", name,
		    name[0] ? ")" : "");
		if (pht_halt_until(p->halt) != 0) {
			pht_time_format(pht_halt_until(p->halt), u);
			printf("until: %s%s\n", u, pht_halt_until(p->halt) ==
			    pht_halt_issued(p->halt) ? " (lifts the halt of this scope)" : "");
		}
		if (pht_halt_reason(p->halt) != NULL)
			printf("reason: %s\n", pht_halt_reason(p->halt));
	}
}

static int
permit_show(int argc, char **argv)
{
	struct parsed p;
	struct pht_err err;
	char fp[PHT_KEY_FP_LEN + 1], name[PHT_KEY_NAME_MAX + 1];
	int r;

	pht_err_clear(&err);
	if (argc != 3)
		return pht_cli_usage_error("permit show", "give exactly one FILE");
	if ((r = load_any(argv[2], NULL, &p, fp, name, &err)) != PHT_OK) {
		pht_cli_error("permit show", &err);
		return pht_cli_exit_for(r);
	}
	print_parsed(&p, fp, name);
	printf("signature: not checked (pht permit verify FILE --authority KEY)\n");
	parsed_clear(&p);
	return PHT_EXIT_OK;
}

static int
permit_verify(int argc, char **argv)
{
	struct ropt o[1] = {{"authority", 64, 0, {0}, 0}};
	struct pht_trust *trust = NULL;
	struct parsed p;
	struct pht_err err;
	const char *pos[1];
	char fp[PHT_KEY_FP_LEN + 1], name[PHT_KEY_NAME_MAX + 1];
	size_t npos, i;
	int r, ex = PHT_EXIT_FAIL;

	pht_err_clear(&err);
	memset(&p, 0, sizeof(p));
	if ((r = parse_ropts("permit verify", argc, argv, 2, o, 1, pos, 1, &npos)) != 0)
		return r;
	if (npos != 1 || o[0].n == 0)
		return pht_cli_usage_error("permit verify", "give FILE and --authority");
	if ((trust = pht_trust_new()) == NULL)
		return PHT_EXIT_FAIL;
	for (i = 0; i < o[0].n; i++)
		if ((r = pht_trust_load(trust, o[0].vals[i], &err)) != PHT_OK) {
			pht_cli_error("permit verify", &err);
			ex = pht_cli_exit_for(r);
			goto out;
		}
	if ((r = load_any(pos[0], trust, &p, fp, name, &err)) != PHT_OK) {
		pht_cli_error("permit verify", &err);
		ex = pht_cli_exit_for(r);
		goto out;
	}
	print_parsed(&p, fp, name);
	if (p.permit != NULL &&
	    (r = pht_permit_check_time(p.permit, pht_time_now(), &err)) != PHT_OK) {
		printf("signature: good\n");
		pht_cli_error("permit verify", &err);
		goto out;
	}
	printf("signature: good%s\n", p.permit != NULL ? "; valid now" : "");
	ex = PHT_EXIT_OK;
out:
	parsed_clear(&p);
	pht_trust_free(trust);
	return ex;
}

static int
permit_revoke(int argc, char **argv)
{
	enum { O_KEY, O_SEQ, O_ID, O_OUT, O_N };
	struct ropt o[O_N] = {
		{"key", 1, 0, {0}, 0}, {"seq", 1, 0, {0}, 0},
		{"id", MAX_REPEAT, 0, {0}, 0}, {"out", 1, 0, {0}, 0},
	};
	struct pht_err err;
	const char *pos[1];
	char *payload = NULL, fp[PHT_KEY_FP_LEN + 1];
	size_t npos, plen = 0;
	int64_t seq;
	int r, ex;

	pht_err_clear(&err);
	if ((r = parse_ropts("permit revoke", argc, argv, 2, o, O_N, pos, 0, &npos)) != 0)
		return r;
	if (one(&o[O_KEY]) == NULL || one(&o[O_SEQ]) == NULL || one(&o[O_OUT]) == NULL)
		return pht_cli_usage_error("permit revoke", "--key, --seq and --out are "
		    "required");
	if (parse_i64(one(&o[O_SEQ]), 1, PHT_REVOCATIONS_MAX_SEQ, &seq) != 0)
		return pht_cli_usage_error("permit revoke", "--seq: '%s' is not a "
		    "positive integer", one(&o[O_SEQ]));
	if ((r = pht_revocations_build(seq, pht_time_now(), o[O_ID].vals, o[O_ID].n,
	    &payload, &plen, &err)) != PHT_OK) {
		pht_cli_error("permit revoke", &err);
		return pht_cli_exit_for(r);
	}
	if ((ex = sign_to("permit revoke", one(&o[O_KEY]), payload, plen,
	    one(&o[O_OUT]), fp)) == PHT_EXIT_OK)
		printf("signed revocation list seq %" PRId64 " (%zu permit%s revoked) by "
		    "%s; wrote %s\n", seq, o[O_ID].n, o[O_ID].n == 1 ? "" : "s", fp,
		    one(&o[O_OUT]));
	free(payload);
	return ex;
}

static int
permit_halt(int argc, char **argv)
{
	enum { O_KEY, O_SCOPE, O_UNTIL, O_REASON, O_LIFT, O_OUT, O_N };
	struct ropt o[O_N] = {
		{"key", 1, 0, {0}, 0}, {"scope", 1, 0, {0}, 0}, {"until", 1, 0, {0}, 0},
		{"reason", 1, 0, {0}, 0}, {"lift", 1, 1, {0}, 0}, {"out", 1, 0, {0}, 0},
	};
	struct pht_err err;
	const char *pos[1];
	char *payload = NULL, fp[PHT_KEY_FP_LEN + 1];
	size_t npos, plen = 0;
	int64_t now = pht_time_now(), until = 0;
	int r, ex;

	pht_err_clear(&err);
	if ((r = parse_ropts("permit halt", argc, argv, 2, o, O_N, pos, 0, &npos)) != 0)
		return r;
	if (one(&o[O_KEY]) == NULL || one(&o[O_SCOPE]) == NULL || one(&o[O_OUT]) == NULL)
		return pht_cli_usage_error("permit halt", "--key, --scope and --out are "
		    "required");
	if (o[O_LIFT].n > 0 && one(&o[O_UNTIL]) != NULL)
		return pht_cli_usage_error("permit halt", "--lift and --until exclude "
		    "each other");
	if (one(&o[O_UNTIL]) != NULL && (parse_date(one(&o[O_UNTIL]), now, &until) != 0 ||
	    until < now))
		return pht_cli_usage_error("permit halt", "--until: '%s' is not a date "
		    "from now on", one(&o[O_UNTIL]));
	if (o[O_LIFT].n > 0)
		until = now;
	if ((r = pht_halt_build(one(&o[O_SCOPE]), now, until, one(&o[O_REASON]),
	    &payload, &plen, &err)) != PHT_OK) {
		pht_cli_error("permit halt", &err);
		return pht_cli_exit_for(r);
	}
	if ((ex = sign_to("permit halt", one(&o[O_KEY]), payload, plen, one(&o[O_OUT]),
	    fp)) == PHT_EXIT_OK)
		printf("signed %s order for %s by %s; wrote %s\n", o[O_LIFT].n > 0 ?
		    "lift" : "halt", one(&o[O_SCOPE]), fp, one(&o[O_OUT]));
	free(payload);
	return ex;
}

static int
permit_post(int argc, char **argv)
{
	enum { O_NODE, O_CERT, O_KEY, O_CA, O_N };
	struct ropt o[O_N] = {
		{"node", 1, 0, {0}, 0}, {"cert", 1, 0, {0}, 0},
		{"tls-key", 1, 0, {0}, 0}, {"ca", 1, 0, {0}, 0},
	};
	struct pht_http_opts ho;
	struct pht_http *http = NULL;
	struct parsed p;
	struct pht_buf *b = NULL;
	struct pht_err err;
	const char *pos[1];
	char fp[PHT_KEY_FP_LEN + 1], name[PHT_KEY_NAME_MAX + 1], url[2048];
	json_t *body = NULL, *resp = NULL;
	size_t npos, n;
	long status = 0;
	int r, ex = PHT_EXIT_FAIL;

	pht_err_clear(&err);
	memset(&p, 0, sizeof(p));
	if ((r = parse_ropts("permit post", argc, argv, 2, o, O_N, pos, 1, &npos)) != 0)
		return r;
	if (npos != 1 || one(&o[O_NODE]) == NULL || one(&o[O_CERT]) == NULL ||
	    one(&o[O_KEY]) == NULL || one(&o[O_CA]) == NULL)
		return pht_cli_usage_error("permit post", "give FILE, --node, --cert, "
		    "--tls-key and --ca");
	if ((r = load_any(pos[0], NULL, &p, fp, name, &err)) != PHT_OK ||
	    (r = pht_file_read(pos[0], PHT_ENVELOPE_MAX, &b, &err)) != PHT_OK) {
		pht_cli_error("permit post", &err);
		ex = pht_cli_exit_for(r);
		goto out;
	}
	if (p.permit != NULL || p.approval != NULL) {
		ex = pht_cli_usage_error("permit post", "%s is a %s: %s travel with the "
		    "trains (pht train sign --%s); post revocation lists and halt orders",
		    pos[0], p.permit != NULL ? "permit" : "code approval",
		    p.permit != NULL ? "permits" : "code approvals",
		    p.permit != NULL ? "permit-file" : "approval");
		goto out;
	}
	n = strlen(one(&o[O_NODE]));
	while (n > 0 && one(&o[O_NODE])[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s%s", (int)n, one(&o[O_NODE]),
	    p.rev != NULL ? "/v1/revocations" : "/v1/halts");
	memset(&ho, 0, sizeof(ho));
	ho.cert = one(&o[O_CERT]);
	ho.key = one(&o[O_KEY]);
	ho.ca = one(&o[O_CA]);
	ho.connect_timeout_ms = 5000;
	if ((body = json_pack("{s:s}", "envelope", pht_buf_str(b))) == NULL) {
		fprintf(stderr, "pht permit post: out of memory\n");
		goto out;
	}
	if ((r = pht_http_new(&ho, &http, &err)) != PHT_OK ||
	    (r = pht_http_request_json(http, "POST", url, body, 0, &status, &resp,
	    &err)) != PHT_OK) {
		pht_cli_error("permit post", &err);
		ex = pht_cli_exit_for(r);
		goto out;
	}
	printf("posted %s to %s\n", p.rev != NULL ? "revocation list" : "halt order", url);
	ex = PHT_EXIT_OK;
out:
	json_decref(body);
	json_decref(resp);
	pht_http_free(http);
	pht_buf_free(b);
	parsed_clear(&p);
	return ex;
}

int
pht_cmd_permit(int argc, char **argv)
{
	if (argc < 2 || pht_cli_wants_help(argc, argv)) {
		fputs(permit_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? PHT_EXIT_USAGE : PHT_EXIT_OK;
	}
	if (strcmp(argv[1], "issue") == 0)
		return permit_issue(argc, argv);
	if (strcmp(argv[1], "approve") == 0)
		return permit_approve(argc, argv);
	if (strcmp(argv[1], "show") == 0)
		return permit_show(argc, argv);
	if (strcmp(argv[1], "verify") == 0)
		return permit_verify(argc, argv);
	if (strcmp(argv[1], "revoke") == 0)
		return permit_revoke(argc, argv);
	if (strcmp(argv[1], "halt") == 0)
		return permit_halt(argc, argv);
	if (strcmp(argv[1], "post") == 0)
		return permit_post(argc, argv);
	return pht_cli_usage_error("permit", "unknown subcommand '%s'", argv[1]);
}

int
pht_station_cmd_halt(int argc, char **argv)
{
	enum { O_CONFIG, O_BY, O_REASON, O_N };
	struct ropt o[O_N] = {
		{"config", 1, 0, {0}, 0}, {"by", 1, 0, {0}, 0}, {"reason", 1, 0, {0}, 0},
	};
	struct pht_station_config *cfg = NULL;
	struct pht_err err;
	const char *pos[1], *cmd = argv[1];
	int halt = strcmp(argv[1], "halt") == 0, r;
	size_t npos;

	pht_err_clear(&err);
	if ((r = parse_ropts(halt ? "station halt" : "station resume", argc, argv, 2, o,
	    O_N, pos, 0, &npos)) != 0)
		return r;
	if (one(&o[O_CONFIG]) == NULL)
		return pht_cli_usage_error(halt ? "station halt" : "station resume",
		    "--config STATION.json is required");
	if ((r = pht_station_config_load(one(&o[O_CONFIG]), &cfg, &err)) != PHT_OK ||
	    (r = pht_station_gov_set_halt(cfg, halt, one(&o[O_BY]) != NULL ?
	    one(&o[O_BY]) : "operator", one(&o[O_REASON]), &err)) != PHT_OK) {
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

int
pht_station_cmd_orders(int argc, char **argv)
{
	struct ropt o[1] = {{"config", 1, 0, {0}, 0}};
	struct pht_station_config *cfg = NULL;
	struct pht_station *st = NULL;
	struct pht_buf *b = NULL;
	struct parsed p;
	struct pht_err err;
	const char *pos[MAX_REPEAT];
	char fp[PHT_KEY_FP_LEN + 1], name[PHT_KEY_NAME_MAX + 1];
	size_t npos, i;
	int r, changed, ex = PHT_EXIT_OK;

	pht_err_clear(&err);
	memset(&p, 0, sizeof(p));
	if ((r = parse_ropts("station orders", argc, argv, 2, o, 1, pos, MAX_REPEAT,
	    &npos)) != 0)
		return r;
	if (one(&o[0]) == NULL || npos == 0)
		return pht_cli_usage_error("station orders", "give --config STATION.json "
		    "and at least one FILE");
	if ((r = pht_station_config_load(one(&o[0]), &cfg, &err)) != PHT_OK ||
	    (r = pht_station_open(cfg, &st, &err)) != PHT_OK) {
		pht_cli_error("station orders", &err);
		return pht_cli_exit_for(r);
	}
	for (i = 0; i < npos; i++) {
		parsed_clear(&p);
		pht_buf_free(b);
		b = NULL;
		if ((r = load_any(pos[i], NULL, &p, fp, name, &err)) == PHT_OK &&
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
	parsed_clear(&p);
	pht_buf_free(b);
	pht_station_close(st);
	return ex;
}
