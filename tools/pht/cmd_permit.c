/* cmd_permit.c — pht permit issue|approve|show|verify|revoke|halt|post. */
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
#include "pht_time.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"
#include "pht_limits.h"


#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
	uint64_t v;

	if (pht_cli_uint(s, (uint64_t)min, (uint64_t)max, &v) != 0)
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
collect_codes(const char *cmd, const struct pht_cli_opt *sha,
    const struct pht_cli_opt *train, char **codes, size_t *n, char **strs, size_t *nstrs)
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

enum { I_KEY, I_ID, I_ANALYST, I_STATION, I_DATASET, I_COLUMNS, I_PURPOSE,
    I_SHA, I_TRAIN, I_FROM, I_UNTIL, I_RUNS, I_ROUNDS, I_OUT, I_REVIEWER,
    I_RA_SHA, I_RA_TRAIN, I_N };

static const struct pht_cli_opt issue_opts[I_N] = {
	PHT_CLI_OPT("key"), PHT_CLI_OPT("id"),
	PHT_CLI_OPT_MANY("analyst", PHT_PERMIT_MAX_LIST),
	PHT_CLI_OPT_MANY("station", PHT_PERMIT_MAX_LIST),
	PHT_CLI_OPT_MANY("dataset", PHT_PERMIT_MAX_LIST),
	PHT_CLI_OPT_MANY("columns", PHT_PERMIT_MAX_LIST),
	PHT_CLI_OPT("purpose"),
	PHT_CLI_OPT_MANY("train-sha256", PHT_PERMIT_MAX_CODES),
	PHT_CLI_OPT_MANY("train", PHT_PERMIT_MAX_CODES),
	PHT_CLI_OPT("from"), PHT_CLI_OPT("until"),
	PHT_CLI_OPT("max-runs"), PHT_CLI_OPT("max-rounds"),
	PHT_CLI_OPT("out"),
	PHT_CLI_OPT_MANY("reviewer", PHT_PERMIT_MAX_LIST),
	PHT_CLI_OPT_MANY("row-access-sha256", PHT_PERMIT_MAX_CODES),
	PHT_CLI_OPT_MANY("row-access", PHT_PERMIT_MAX_CODES),
};

/*
 * One pht permit issue: its options, the spec being filled and what it
 * points to. strs[0..nstrs) are the strings made along the way (owned).
 */
struct issue_job {
	struct pht_cli_opt o[I_N];
	struct pht_permit_spec spec;
	struct pht_permit_user *users, *revs;
	struct pht_permit_dataset *ds;
	const char **cols;
	char **strs, **codes, **ra;
	size_t nstrs, ncodes, nra;
	struct pht_err err;
};

static const char *const issue_cmd = "permit issue";

static void
issue_job_clear(struct issue_job *j)
{
	size_t i;

	for (i = 0; j->strs != NULL && i < j->nstrs; i++)
		free(j->strs[i]);
	free(j->strs);
	free(j->codes);
	free(j->ra);
	free(j->cols);
	free(j->users);
	free(j->revs);
	free(j->ds);
}

static int
issue_nomem(void)
{
	fprintf(stderr, "pht %s: out of memory\n", issue_cmd);
	return PHT_EXIT_FAIL;
}

/* The required options, the dates and the caps. */
static int
issue_check(struct issue_job *j, int64_t now)
{
	const struct pht_cli_opt *o = j->o;

	if (pht_cli_opt_val(&o[I_KEY]) == NULL || pht_cli_opt_val(&o[I_ID]) == NULL ||
	    pht_cli_opt_val(&o[I_OUT]) == NULL || pht_cli_opt_val(&o[I_PURPOSE]) == NULL ||
	    pht_cli_opt_val(&o[I_FROM]) == NULL || pht_cli_opt_val(&o[I_UNTIL]) == NULL ||
	    o[I_ANALYST].n == 0 || o[I_STATION].n == 0 || o[I_DATASET].n == 0 ||
	    o[I_SHA].n + o[I_TRAIN].n + o[I_REVIEWER].n + o[I_RA_SHA].n +
	    o[I_RA_TRAIN].n == 0)
		return pht_cli_usage_error(issue_cmd, "--key, --id, --analyst, --station, "
		    "--dataset (with --columns), --purpose, --train-sha256, --train or "
		    "--reviewer, --from, --until and --out are required");
	if (parse_date(pht_cli_opt_val(&o[I_FROM]), now, &j->spec.valid_from) != 0)
		return pht_cli_usage_error(issue_cmd, "--from: '%s' is not a date",
		    pht_cli_opt_val(&o[I_FROM]));
	if (parse_date(pht_cli_opt_val(&o[I_UNTIL]), now, &j->spec.valid_until) != 0)
		return pht_cli_usage_error(issue_cmd, "--until: '%s' is not a date",
		    pht_cli_opt_val(&o[I_UNTIL]));
	if (pht_cli_opt_val(&o[I_RUNS]) != NULL && parse_i64(pht_cli_opt_val(&o[I_RUNS]),
	    1, PHT_PERMIT_MAX_RUNS, &j->spec.max_runs) != 0)
		return pht_cli_usage_error(issue_cmd, "--max-runs: not an integer from 1 "
		    "to %d", PHT_PERMIT_MAX_RUNS);
	if (pht_cli_opt_val(&o[I_ROUNDS]) != NULL &&
	    parse_i64(pht_cli_opt_val(&o[I_ROUNDS]), 1, PHT_PERMIT_MAX_ROUNDS,
	    &j->spec.max_rounds) != 0)
		return pht_cli_usage_error(issue_cmd, "--max-rounds: not an integer from 1 "
		    "to %d", PHT_PERMIT_MAX_ROUNDS);
	return PHT_EXIT_OK;
}

/* The arrays of the spec, sized from the options given. */
static int
issue_alloc(struct issue_job *j)
{
	const struct pht_cli_opt *o = j->o;

	j->users = calloc(o[I_ANALYST].n, sizeof(*j->users));
	j->ds = calloc(o[I_DATASET].n, sizeof(*j->ds));
	j->revs = calloc(o[I_REVIEWER].n + 1, sizeof(*j->revs));
	j->strs = calloc(o[I_ANALYST].n * 2 + o[I_REVIEWER].n * 2 + o[I_COLUMNS].n * 2 +
	    o[I_TRAIN].n + o[I_RA_TRAIN].n + 1, sizeof(*j->strs));
	j->ra = calloc(o[I_RA_SHA].n + o[I_RA_TRAIN].n + 1, sizeof(*j->ra));
	j->codes = calloc(o[I_SHA].n + o[I_TRAIN].n + o[I_RA_SHA].n + o[I_RA_TRAIN].n +
	    1, sizeof(*j->codes));
	j->cols = calloc(o[I_COLUMNS].n * (PHT_PERMIT_MAX_COLUMNS + 1) + 1,
	    sizeof(*j->cols));
	if (j->users == NULL || j->ds == NULL || j->strs == NULL || j->codes == NULL ||
	    j->ra == NULL || j->cols == NULL || j->revs == NULL)
		return issue_nomem();
	return PHT_EXIT_OK;
}

/* --reviewer NAME=KEYFILE: the permit carries the key itself (base64). */
static int
issue_reviewers(struct issue_job *j)
{
	const struct pht_cli_opt *o = &j->o[I_REVIEWER];
	uint8_t raw[PHT_KEY_RAW_LEN];
	struct pht_key *k = NULL;
	const char *a, *eq;
	size_t i;
	int r;

	for (i = 0; i < o->n; i++) {
		a = o->vals[i];
		eq = strchr(a, '=');
		if (eq == NULL || eq == a || eq[1] == '\0')
			return pht_cli_usage_error(issue_cmd, "--reviewer: '%s' is not "
			    "NAME=KEY.sign.pub", a);
		if ((j->strs[j->nstrs] = strndup(a, (size_t)(eq - a))) == NULL)
			return issue_nomem();
		j->revs[i].name = j->strs[j->nstrs++];
		if ((r = pht_key_load_as(eq + 1, PHT_KEY_SIGN, 0, &k, &j->err)) != PHT_OK ||
		    (r = pht_key_public_raw(k, raw, &j->err)) != PHT_OK) {
			pht_key_free(k);
			pht_err_prefix(&j->err, "--reviewer %s", j->revs[i].name);
			pht_cli_error(issue_cmd, &j->err);
			return pht_cli_exit_for(r);
		}
		pht_key_free(k);
		k = NULL;
		if ((j->strs[j->nstrs] = malloc(pht_b64_encoded_len(PHT_KEY_RAW_LEN) + 1)) ==
		    NULL)
			return issue_nomem();
		pht_b64_encode(raw, PHT_KEY_RAW_LEN, j->strs[j->nstrs]);
		j->revs[i].key = j->strs[j->nstrs++];
	}
	return PHT_EXIT_OK;
}

/* --analyst NAME=FPR or NAME=KEYFILE. */
static int
issue_analysts(struct issue_job *j)
{
	const struct pht_cli_opt *o = &j->o[I_ANALYST];
	char fp[PHT_KEY_FP_LEN + 1];
	struct pht_key *k = NULL;
	const char *a, *eq;
	size_t i;

	for (i = 0; i < o->n; i++) {
		a = o->vals[i];
		eq = strchr(a, '=');
		if (eq == NULL || eq == a || eq[1] == '\0')
			return pht_cli_usage_error(issue_cmd, "--analyst: '%s' is not "
			    "NAME=FINGERPRINT or NAME=KEY.sign.pub", a);
		if ((j->strs[j->nstrs] = strndup(a, (size_t)(eq - a))) == NULL)
			return issue_nomem();
		j->users[i].name = j->strs[j->nstrs++];
		if (strlen(eq + 1) == PHT_KEY_FP_LEN && strspn(eq + 1,
		    "0123456789abcdef") == PHT_KEY_FP_LEN) {
			j->users[i].key = eq + 1;
			continue;
		}
		if (pht_key_load_as(eq + 1, PHT_KEY_SIGN, 0, &k, &j->err) != PHT_OK ||
		    pht_key_fingerprint(k, fp, &j->err) != PHT_OK) {
			pht_key_free(k);
			pht_err_prefix(&j->err, "--analyst %s", j->users[i].name);
			pht_cli_error(issue_cmd, &j->err);
			return PHT_EXIT_USAGE;
		}
		pht_key_free(k);
		k = NULL;
		if ((j->strs[j->nstrs] = strdup(fp)) == NULL)
			return issue_nomem();
		j->users[i].key = j->strs[j->nstrs++];
	}
	return PHT_EXIT_OK;
}

/* The columns of dataset j->ds[d] from every --columns NAME:a,b,c; *ncol grows. */
static int
issue_columns_of(struct issue_job *j, size_t d, size_t *ncol)
{
	const struct pht_cli_opt *o = &j->o[I_COLUMNS];
	const char *name = j->ds[d].name, *c;
	size_t i, nl = strlen(name);
	char *copy, *tok, *save;

	for (i = 0; i < o->n; i++) {
		c = o->vals[i];
		if (strncmp(c, name, nl) != 0 || c[nl] != ':')
			continue;
		if ((copy = strdup(c + nl + 1)) == NULL)
			return issue_nomem();
		j->strs[j->nstrs++] = copy;
		save = NULL;
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if (j->ds[d].ncolumns >= PHT_PERMIT_MAX_COLUMNS)
				return pht_cli_usage_error(issue_cmd, "--columns: more than "
				    "%d columns for %s", PHT_PERMIT_MAX_COLUMNS, name);
			j->cols[(*ncol)++] = tok;
			j->ds[d].ncolumns++;
		}
	}
	if (j->ds[d].ncolumns == 0)
		return pht_cli_usage_error(issue_cmd, "--dataset %s: no --columns %s:... "
		    "names its allowed columns", name, name);
	return PHT_EXIT_OK;
}

/* --dataset D with its --columns D:a,b,c; every --columns names a --dataset. */
static int
issue_datasets(struct issue_job *j)
{
	const struct pht_cli_opt *dso = &j->o[I_DATASET], *co = &j->o[I_COLUMNS];
	const char *c, *colon;
	size_t i, d, ncol = 0;
	int ex;

	for (i = 0; i < co->n; i++) {
		c = co->vals[i];
		colon = strchr(c, ':');
		for (d = 0; d < dso->n; d++)
			if (colon != NULL && strlen(dso->vals[d]) == (size_t)(colon - c) &&
			    strncmp(dso->vals[d], c, (size_t)(colon - c)) == 0)
				break;
		if (colon == NULL || d == dso->n)
			return pht_cli_usage_error(issue_cmd, "--columns: '%s' is not "
			    "DATASET:col,... for a --dataset given", c);
	}
	for (d = 0; d < dso->n; d++) {
		j->ds[d].name = dso->vals[d];
		j->ds[d].columns = j->cols + ncol;
		if ((ex = issue_columns_of(j, d, &ncol)) != PHT_EXIT_OK)
			return ex;
	}
	return PHT_EXIT_OK;
}

/* The allowed code hashes and those granted row access (allowed too, listed once). */
static int
issue_codes(struct issue_job *j)
{
	size_t i, k;
	int ex;

	if ((ex = collect_codes(issue_cmd, &j->o[I_SHA], &j->o[I_TRAIN], j->codes,
	    &j->ncodes, j->strs, &j->nstrs)) != PHT_EXIT_OK ||
	    (ex = collect_codes(issue_cmd, &j->o[I_RA_SHA], &j->o[I_RA_TRAIN], j->ra,
	    &j->nra, j->strs, &j->nstrs)) != PHT_EXIT_OK)
		return ex;
	for (i = 0; i < j->nra; i++) {
		for (k = 0; k < j->ncodes && strcmp(j->codes[k], j->ra[i]) != 0; k++)
			;
		if (k == j->ncodes)
			j->codes[j->ncodes++] = j->ra[i];
	}
	return PHT_EXIT_OK;
}

/* Builds the permit from the spec, signs it and writes it to --out. */
static int
issue_sign(struct issue_job *j)
{
	struct pht_permit_spec *spec = &j->spec;
	const char *out = pht_cli_opt_val(&j->o[I_OUT]);
	char fp[PHT_KEY_FP_LEN + 1], f[21], u[21], *payload = NULL;
	size_t plen = 0;
	int r, ex;

	spec->id = pht_cli_opt_val(&j->o[I_ID]);
	spec->purpose = pht_cli_opt_val(&j->o[I_PURPOSE]);
	spec->users = j->users;
	spec->nusers = j->o[I_ANALYST].n;
	spec->stations = j->o[I_STATION].vals;
	spec->nstations = j->o[I_STATION].n;
	spec->datasets = j->ds;
	spec->ndatasets = j->o[I_DATASET].n;
	spec->code_sha256 = (const char *const *)j->codes;
	spec->ncodes = j->ncodes;
	spec->reviewers = j->revs;
	spec->nreviewers = j->o[I_REVIEWER].n;
	spec->row_access = (const char *const *)j->ra;
	spec->nrow_access = j->nra;
	if ((r = pht_permit_build(spec, &payload, &plen, &j->err)) != PHT_OK) {
		pht_cli_error(issue_cmd, &j->err);
		return pht_cli_exit_for(r);
	}
	if ((ex = sign_to(issue_cmd, pht_cli_opt_val(&j->o[I_KEY]), payload, plen, out,
	    fp)) == PHT_EXIT_OK) {
		pht_time_format(spec->valid_from, f);
		pht_time_format(spec->valid_until, u);
		printf("signed permit %s by %s, valid %s to %s; wrote %s\n", spec->id, fp,
		    f, u, out);
	}
	free(payload);
	return ex;
}

/* The stages of pht permit issue, in order; each returns PHT_EXIT_OK to go on. */
static int (*const issue_stages[])(struct issue_job *) = {
	issue_alloc, issue_reviewers, issue_analysts, issue_datasets, issue_codes,
	issue_sign,
};

static int
permit_issue(int argc, char **argv)
{
	struct issue_job *j;
	const char *pos[1];
	size_t npos, i;
	int64_t now = pht_time_now();
	int ex;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return issue_nomem();
	memcpy(j->o, issue_opts, sizeof(issue_opts));
	pht_err_clear(&j->err);
	j->spec.issued = now;
	if ((ex = pht_cli_opt_parse(issue_cmd, argc, argv, 2, j->o, I_N, pos, 0,
	    &npos)) == PHT_EXIT_OK && (ex = issue_check(j, now)) == PHT_EXIT_OK)
		for (i = 0; i < sizeof(issue_stages) / sizeof(issue_stages[0]); i++)
			if ((ex = issue_stages[i](j)) != PHT_EXIT_OK)
				break;
	issue_job_clear(j);
	free(j);
	return ex;
}

static int
permit_approve(int argc, char **argv)
{
	enum { O_KEY, O_SHA, O_TRAIN, O_NOTE, O_OUT, O_N };
	struct pht_cli_opt o[O_N] = {
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
	if ((r = pht_cli_opt_parse(cmd, argc, argv, 2, o, O_N, pos, 0, &npos)) != 0)
		return r;
	if (pht_cli_opt_val(&o[O_KEY]) == NULL || pht_cli_opt_val(&o[O_OUT]) == NULL ||
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
	    ncodes, pht_cli_opt_val(&o[O_NOTE]), &payload, &plen, &err)) != PHT_OK) {
		pht_cli_error(cmd, &err);
		ex = pht_cli_exit_for(r);
		goto out;
	}
	if ((ex = sign_to(cmd, pht_cli_opt_val(&o[O_KEY]), payload, plen,
	    pht_cli_opt_val(&o[O_OUT]), fp)) == PHT_EXIT_OK)
		printf("signed code approval of %zu train%s by %s; wrote %s\n", ncodes,
		    ncodes == 1 ? "" : "s", fp, pht_cli_opt_val(&o[O_OUT]));
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
print_parsed(const struct pht_cli_signed *p, const char *fp, const char *name)
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
	struct pht_cli_signed p;
	struct pht_err err;
	char fp[PHT_KEY_FP_LEN + 1], name[PHT_KEY_NAME_MAX + 1];
	int r;

	pht_err_clear(&err);
	if (argc != 3)
		return pht_cli_usage_error("permit show", "give exactly one FILE");
	if ((r = pht_cli_signed_load(argv[2], NULL, &p, fp, name, &err)) != PHT_OK) {
		pht_cli_error("permit show", &err);
		return pht_cli_exit_for(r);
	}
	print_parsed(&p, fp, name);
	printf("signature: not checked (pht permit verify FILE --authority KEY)\n");
	pht_cli_signed_clear(&p);
	return PHT_EXIT_OK;
}

static int
permit_verify(int argc, char **argv)
{
	struct pht_cli_opt o[1] = {{"authority", 64, 0, {0}, 0}};
	struct pht_trust *trust = NULL;
	struct pht_cli_signed p;
	struct pht_err err;
	const char *pos[1];
	char fp[PHT_KEY_FP_LEN + 1], name[PHT_KEY_NAME_MAX + 1];
	size_t npos, i;
	int r, ex = PHT_EXIT_FAIL;

	pht_err_clear(&err);
	memset(&p, 0, sizeof(p));
	if ((r = pht_cli_opt_parse("permit verify", argc, argv, 2, o, 1, pos, 1, &npos)) != 0)
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
	if ((r = pht_cli_signed_load(pos[0], trust, &p, fp, name, &err)) != PHT_OK) {
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
	pht_cli_signed_clear(&p);
	pht_trust_free(trust);
	return ex;
}

static int
permit_revoke(int argc, char **argv)
{
	enum { O_KEY, O_SEQ, O_ID, O_OUT, O_N };
	struct pht_cli_opt o[O_N] = {
		{"key", 1, 0, {0}, 0}, {"seq", 1, 0, {0}, 0},
		{"id", PHT_CLI_OPT_MAX, 0, {0}, 0}, {"out", 1, 0, {0}, 0},
	};
	struct pht_err err;
	const char *pos[1];
	char *payload = NULL, fp[PHT_KEY_FP_LEN + 1];
	size_t npos, plen = 0;
	int64_t seq;
	int r, ex;

	pht_err_clear(&err);
	if ((r = pht_cli_opt_parse("permit revoke", argc, argv, 2, o, O_N, pos, 0, &npos)) != 0)
		return r;
	if (pht_cli_opt_val(&o[O_KEY]) == NULL || pht_cli_opt_val(&o[O_SEQ]) == NULL ||
	    pht_cli_opt_val(&o[O_OUT]) == NULL)
		return pht_cli_usage_error("permit revoke", "--key, --seq and --out are "
		    "required");
	if (parse_i64(pht_cli_opt_val(&o[O_SEQ]), 1, PHT_REVOCATIONS_MAX_SEQ, &seq) != 0)
		return pht_cli_usage_error("permit revoke", "--seq: '%s' is not a "
		    "positive integer", pht_cli_opt_val(&o[O_SEQ]));
	if ((r = pht_revocations_build(seq, pht_time_now(), o[O_ID].vals, o[O_ID].n,
	    &payload, &plen, &err)) != PHT_OK) {
		pht_cli_error("permit revoke", &err);
		return pht_cli_exit_for(r);
	}
	if ((ex = sign_to("permit revoke", pht_cli_opt_val(&o[O_KEY]), payload, plen,
	    pht_cli_opt_val(&o[O_OUT]), fp)) == PHT_EXIT_OK)
		printf("signed revocation list seq %" PRId64 " (%zu permit%s revoked) by "
		    "%s; wrote %s\n", seq, o[O_ID].n, o[O_ID].n == 1 ? "" : "s", fp,
		    pht_cli_opt_val(&o[O_OUT]));
	free(payload);
	return ex;
}

static int
permit_halt(int argc, char **argv)
{
	enum { O_KEY, O_SCOPE, O_UNTIL, O_REASON, O_LIFT, O_OUT, O_N };
	struct pht_cli_opt o[O_N] = {
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
	if ((r = pht_cli_opt_parse("permit halt", argc, argv, 2, o, O_N, pos, 0, &npos)) != 0)
		return r;
	if (pht_cli_opt_val(&o[O_KEY]) == NULL || pht_cli_opt_val(&o[O_SCOPE]) == NULL ||
	    pht_cli_opt_val(&o[O_OUT]) == NULL)
		return pht_cli_usage_error("permit halt", "--key, --scope and --out are "
		    "required");
	if (o[O_LIFT].n > 0 && pht_cli_opt_val(&o[O_UNTIL]) != NULL)
		return pht_cli_usage_error("permit halt", "--lift and --until exclude "
		    "each other");
	if (pht_cli_opt_val(&o[O_UNTIL]) != NULL &&
	    (parse_date(pht_cli_opt_val(&o[O_UNTIL]), now, &until) != 0 ||
	    until < now))
		return pht_cli_usage_error("permit halt", "--until: '%s' is not a date "
		    "from now on", pht_cli_opt_val(&o[O_UNTIL]));
	if (o[O_LIFT].n > 0)
		until = now;
	if ((r = pht_halt_build(pht_cli_opt_val(&o[O_SCOPE]), now, until,
	    pht_cli_opt_val(&o[O_REASON]),
	    &payload, &plen, &err)) != PHT_OK) {
		pht_cli_error("permit halt", &err);
		return pht_cli_exit_for(r);
	}
	if ((ex = sign_to("permit halt", pht_cli_opt_val(&o[O_KEY]), payload, plen,
	    pht_cli_opt_val(&o[O_OUT]),
	    fp)) == PHT_EXIT_OK)
		printf("signed %s order for %s by %s; wrote %s\n", o[O_LIFT].n > 0 ?
		    "lift" : "halt", pht_cli_opt_val(&o[O_SCOPE]), fp, pht_cli_opt_val(&o[O_OUT]));
	free(payload);
	return ex;
}

static int
permit_post(int argc, char **argv)
{
	enum { O_NODE, O_CERT, O_KEY, O_CA, O_N };
	struct pht_cli_opt o[O_N] = {
		{"node", 1, 0, {0}, 0}, {"cert", 1, 0, {0}, 0},
		{"tls-key", 1, 0, {0}, 0}, {"ca", 1, 0, {0}, 0},
	};
	struct pht_http_opts ho;
	struct pht_http *http = NULL;
	struct pht_cli_signed p;
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
	if ((r = pht_cli_opt_parse("permit post", argc, argv, 2, o, O_N, pos, 1, &npos)) != 0)
		return r;
	if (npos != 1 || pht_cli_opt_val(&o[O_NODE]) == NULL ||
	    pht_cli_opt_val(&o[O_CERT]) == NULL ||
	    pht_cli_opt_val(&o[O_KEY]) == NULL || pht_cli_opt_val(&o[O_CA]) == NULL)
		return pht_cli_usage_error("permit post", "give FILE, --node, --cert, "
		    "--tls-key and --ca");
	if ((r = pht_cli_signed_load(pos[0], NULL, &p, fp, name, &err)) != PHT_OK ||
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
	n = strlen(pht_cli_opt_val(&o[O_NODE]));
	while (n > 0 && pht_cli_opt_val(&o[O_NODE])[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s%s", (int)n, pht_cli_opt_val(&o[O_NODE]),
	    p.rev != NULL ? "/v1/revocations" : "/v1/halts");
	memset(&ho, 0, sizeof(ho));
	ho.cert = pht_cli_opt_val(&o[O_CERT]);
	ho.key = pht_cli_opt_val(&o[O_KEY]);
	ho.ca = pht_cli_opt_val(&o[O_CA]);
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
	pht_cli_signed_clear(&p);
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
