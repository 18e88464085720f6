/* cmd_audit.c — pht audit verify|list|show|replay|repair: the auditor's tools over the audit log. */
#include "pht_cli.h"
#include "cmd_audit_archive.h"

#include "pht_audit.h"
#include "pht_buf.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_http.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_hash.h"
#include "pht_station_code.h"
#include "pht_station_config.h"
#include "pht_station_exec.h"
#include "pht_limits.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *audit_help =
    "usage: pht audit verify LOG --station-key PUB [--head SEQ:HASH]\n"
    "       pht audit list LOG\n"
    "       pht audit show LOG TRAIN_ID [--code]\n"
    "       pht audit replay LOG TRAIN_ID --config STATION.json [--train FILE]\n"
    "       pht audit repair LOG --station-key KEY [--head SEQ:HASH | --config STATION.json]\n"
    "       pht audit verify LOG.000000000042 ... LOG --station-key PUB [--head SEQ:HASH]\n"
    "       pht audit verify BUNDLE [--station-key PUB]   (or --bundle BUNDLE)\n"
    "       pht audit export (--config STATION.json | --log LOG... --station-key PUB)\n"
    "                        --from DATE --to DATE [--head-file F]\n"
    "                        [--with-data-detail] --out BUNDLE\n"
    "       pht audit rotate (--config STATION.json | LOG --station-key KEY)\n"
    "       pht audit prune --config STATION.json [--dry-run] [ARCHIVE...]\n"
    "\n"
    "verify  checks every line of a station's audit log: its hash (SHA-256 of\n"
    "        the entry bytes), the station's signature (PUB: the station's\n"
    "        NAME.sign.pub), seq continuity and the link to the previous\n"
    "        entry, and that the last line is whole. With --head, the log must\n"
    "        also hold the head the station published (entry SEQ with HASH).\n"
    "        Reports the first broken line and why.\n"
    "list    one line per run: time, train id, signer, train name, outcome.\n"
    "show    every entry about one train: code hash, params, data hashes,\n"
    "        resource use, the released output; with --code also the code\n"
    "        itself, from the station's code store (LOG.code/HASH.lua),\n"
    "        checked against the logged code_sha256.\n"
    "replay  re-runs a logged train on the station's data with the recorded\n"
    "        seed, params and round (FILE: the train's Lua source, or its\n"
    "        signed envelope; without --train the code the station stored\n"
    "        under the logged code_sha256) and says whether the output's\n"
    "        SHA-256 matches the released one.\n"
    "repair  after a crash left a torn last line: moves the torn bytes to\n"
    "        LOG.torn-SEQ-TIME and logs a signed 'repaired' entry (KEY: the\n"
    "        station's private NAME.sign.key). Nothing else is ever repaired.\n"
    "        Says what it removed (bytes, and the entries: never a complete\n"
    "        one) and compares the log with the head the node published\n"
    "        (--head, or fetched from the node in STATION.json's node\n"
    "        section): entries the log lost before the repair are listed,\n"
    "        and the exit code is then 1.\n"
    "\n"
    "export  writes an auditor's bundle: the entries from DATE to DATE\n"
    "        (YYYY-MM-DD or RFC 3339), the hash they continue from, the\n"
    "        station's public key and the node's heads (F: {seq, hash} or an\n"
    "        array of them); verify checks it offline. The runs whose outcome\n"
    "        may depend on data values keep only their entries' hashes and\n"
    "        signatures (the chain still verifies) unless the station gives\n"
    "        --with-data-detail.\n"
    "rotate  closes the log as LOG.<last seq> and starts a new file whose\n"
    "        first entry continues the chain; verify takes the files in order.\n"
    "prune   deletes archives all of whose entries are older than the\n"
    "        config's retention_years (default 5), oldest first; named\n"
    "        archives that are younger are refused.\n"
    "\n"
    "The format is described in docs/audit-log.md.\n"
    "Exit codes: 0 ok (verified, found, output matches, repaired), 1 the log\n"
    "is broken, the train is not in it, or the replay does not match,\n"
    "2 bad usage or unreadable input.\n";

/* Positional arguments and --name VALUE options of one subcommand. */
struct args {
	const char *pos[3];
	size_t npos;
	const char *station_key, *head, *config, *train;
	int code;                        /* --code (show only) */
};

static int
parse_args(const char *cmd, int argc, char **argv, size_t maxpos, struct args *a)
{
	struct pht_cli_opt o[] = {PHT_CLI_OPT("station-key"), PHT_CLI_OPT("head"),
	    PHT_CLI_OPT("config"), PHT_CLI_OPT("train"), PHT_CLI_OPT_FLAG("code")};
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = pht_cli_opt_parse(cmd, argc, argv, 2, o, 5, a->pos, maxpos,
	    &a->npos)) != 0)
		return r;
	if ((a->code = o[4].n > 0) && strcmp(cmd, "audit show") != 0)
		return pht_cli_usage_error(cmd, "unknown option --code");
	a->station_key = pht_cli_opt_val(&o[0]);
	a->head = pht_cli_opt_val(&o[1]);
	a->config = pht_cli_opt_val(&o[2]);
	a->train = pht_cli_opt_val(&o[3]);
	return PHT_EXIT_OK;
}

/* SEQ:HASH (HASH 64 hex digits) into *h; a usage error for cmd otherwise. */
static int
parse_head(const char *cmd, const char *text, struct pht_audit_head *h)
{
	const char *colon = strchr(text, ':');
	char *end;
	unsigned long long s;

	s = strtoull(text, &end, 10);
	if (colon == NULL || end != colon || text[0] < '0' || text[0] > '9' ||
	    strlen(colon + 1) != PHT_AUDIT_HASH_HEX)
		return pht_cli_usage_error(cmd, "--head: '%s' is not SEQ:HASH (HASH 64 hex "
		    "digits)", text);
	h->seq = s;
	memcpy(h->hash, colon + 1, PHT_AUDIT_HASH_HEX + 1);
	return PHT_EXIT_OK;
}

static int
audit_verify(int argc, char **argv)
{
	struct pht_audit_report rep;
	struct pht_audit_head want;
	struct pht_key *pub = NULL;
	struct pht_err err;
	struct args a;
	int r;

	pht_err_clear(&err);
	if ((r = parse_args("audit verify", argc, argv, 1, &a)) != 0)
		return r;
	if (a.npos != 1 || a.station_key == NULL)
		return pht_cli_usage_error("audit verify", "give LOG and --station-key PUB");
	if (a.head != NULL && (r = parse_head("audit verify", a.head, &want)) != 0)
		return r;
	if ((r = pht_key_load_as(a.station_key, PHT_KEY_SIGN, 0, &pub, &err)) != PHT_OK) {
		pht_cli_error("audit verify", &err);
		return pht_cli_exit_for(r);
	}
	r = pht_audit_verify(a.pos[0], pub, a.head != NULL ? &want : NULL, &rep, &err);
	pht_key_free(pub);
	if (r == PHT_ERR_TAMPERED) {
		printf("%s: BROKEN at line %" PRIu64 " (%s); %" PRIu64 " entries verified "
		    "before it\n", a.pos[0], rep.line, pht_audit_fault_name(rep.fault),
		    rep.entries);
		pht_cli_error("audit verify", &err);
		return PHT_EXIT_FAIL;
	}
	if (r != PHT_OK) {
		pht_cli_error("audit verify", &err);
		return pht_cli_exit_for(r);
	}
	printf("%s: OK, %" PRIu64 " entries, head %" PRIu64 " %s\n", a.pos[0],
	    rep.entries, rep.head.seq, rep.head.hash);
	if (rep.start.seq > 0)
		printf("%s: continues from entry %" PRIu64 " %s after a rotation: verify it "
		    "together with the files before it\n", a.pos[0], rep.start.seq,
		    rep.start.hash);
	return PHT_EXIT_OK;
}

/* ---- list ---- */

/* One row of pht audit list: a train, or an entry about no readable train. */
struct run {
	char time[32];
	char train[129];
	char signer[80];
	char name[129];
	char outcome[32];
};

struct runs {
	struct run *v;
	size_t n, cap;
	int oom;
};

static void
copy_field(char *dst, size_t n, const json_t *e, const char *k)
{
	const char *s = json_string_value(json_object_get(e, k));

	if (s != NULL && s[0] != '\0')
		snprintf(dst, n, "%s", s);
}

static int
list_fn(uint64_t line, const char *hash, const json_t *e, void *arg)
{
	struct runs *rs = arg;
	const char *train = json_string_value(json_object_get(e, "train"));
	const char *ev = json_string_value(json_object_get(e, "event"));
	struct run *r = NULL;
	size_t i;

	(void)line;
	(void)hash;
	/* a run starts at "received"; later entries about the train join its latest run */
	if (train != NULL && (ev == NULL || strcmp(ev, "received") != 0))
		for (i = rs->n; i-- > 0;)
			if (strcmp(rs->v[i].train, train) == 0) {
				r = &rs->v[i];
				break;
			}
	if (r == NULL) {
		if (rs->n == rs->cap) {
			size_t nc = rs->cap ? rs->cap * 2 : 64;
			struct run *nv = realloc(rs->v, nc * sizeof(*nv));
			if (nv == NULL) {
				rs->oom = 1;
				return 1;
			}
			rs->v = nv;
			rs->cap = nc;
		}
		r = &rs->v[rs->n++];
		memset(r, 0, sizeof(*r));
		snprintf(r->train, sizeof(r->train), "%s", train != NULL ? train : "-");
		snprintf(r->signer, sizeof(r->signer), "-");
		snprintf(r->name, sizeof(r->name), "-");
		copy_field(r->time, sizeof(r->time), e, "time");
	}
	copy_field(r->name, sizeof(r->name), e, "name");
	if (strcmp(r->signer, "-") == 0 || json_object_get(e, "signer_name") != NULL) {
		copy_field(r->signer, 17, e, "signer");      /* a fingerprint's first 16 */
		copy_field(r->signer, sizeof(r->signer), e, "signer_name");
	}
	if (ev != NULL && strcmp(ev, "executed") != 0)
		snprintf(r->outcome, sizeof(r->outcome), "%s", ev);
	return 0;
}

static int
audit_list(int argc, char **argv)
{
	struct runs rs = {NULL, 0, 0, 0};
	struct pht_err err;
	struct args a;
	size_t i;
	int r;

	pht_err_clear(&err);
	if ((r = parse_args("audit list", argc, argv, 1, &a)) != 0)
		return r;
	if (a.npos != 1 || a.station_key || a.head || a.config || a.train)
		return pht_cli_usage_error("audit list", "give only LOG");
	r = pht_audit_foreach(a.pos[0], list_fn, &rs, &err);
	for (i = 0; i < rs.n; i++)
		printf("%s  %-32s  %-16s  %-20s  %s\n", rs.v[i].time, rs.v[i].train,
		    rs.v[i].signer, rs.v[i].name, rs.v[i].outcome);
	free(rs.v);
	if (rs.oom) {
		fprintf(stderr, "pht audit list: out of memory\n");
		return PHT_EXIT_FAIL;
	}
	if (r != PHT_OK) {
		pht_cli_error("audit list", &err);
		return r == PHT_ERR_TAMPERED ? PHT_EXIT_FAIL : pht_cli_exit_for(r);
	}
	return PHT_EXIT_OK;
}

/* ---- show ---- */

struct show {
	const char *train;
	size_t found;
	int oom, quiet;
	char code_sha256[PHT_SHA256_HEX_LEN + 1];   /* the first one logged, or "" */
};

static int
show_fn(uint64_t line, const char *hash, const json_t *e, void *arg)
{
	static const char *const skip[] = {"seq", "time", "prev", "event", "train", NULL};
	struct show *sh = arg;
	const char *train = json_string_value(json_object_get(e, "train"));
	const char *k;
	json_t *v;
	size_t i;

	if (train == NULL || strcmp(train, sh->train) != 0)
		return 0;
	if (sh->code_sha256[0] == '\0' && json_string_length(json_object_get(e,
	    "code_sha256")) == PHT_SHA256_HEX_LEN)
		memcpy(sh->code_sha256, json_string_value(json_object_get(e, "code_sha256")),
		    PHT_SHA256_HEX_LEN + 1);
	if (sh->quiet) {
		sh->found++;
		return 0;
	}
	if (sh->found++ == 0)
		printf("train %s\n", sh->train);
	printf("\n%s  %s  (entry %" PRIu64 ", line %" PRIu64 ", hash %.16s...)\n",
	    json_string_value(json_object_get(e, "time")),
	    json_string_value(json_object_get(e, "event")),
	    (uint64_t)json_integer_value(json_object_get(e, "seq")), line, hash);
	json_object_foreach((json_t *)e, k, v) {
		char *text;
		for (i = 0; skip[i] != NULL; i++)
			if (strcmp(k, skip[i]) == 0)
				break;
		if (skip[i] != NULL)
			continue;
		if (json_is_string(v)) {
			printf("  %-16s %s\n", k, json_string_value(v));
			continue;
		}
		if ((text = pht_json_dump(v)) == NULL) {
			sh->oom = 1;
			return 1;
		}
		printf("  %-16s %s\n", k, text);
		free(text);
	}
	return 0;
}

/*
 * The code store of LOG: LOG.code, or for a rotated file LOG.<12 digits>
 * the store of LOG. *out (caller frees), NULL on OOM.
 */
static char *
code_dir_of(const char *log)
{
	size_t n = strlen(log), i;
	char *base, *dir;

	if (n > 13 && log[n - 13] == '.') {
		for (i = n - 12; i < n && log[i] >= '0' && log[i] <= '9'; i++)
			;
		if (i == n)
			n -= 13;
	}
	if ((base = strndup(log, n)) == NULL)
		return NULL;
	dir = pht_station_code_dir(base);
	free(base);
	return dir;
}

/* The code of a logged train from the station's code store, checked against its hash. */
static int
stored_code(const char *dir, const char *train, const char *sha, struct pht_buf **out,
    struct pht_err *err)
{
	if (sha[0] == '\0')
		return pht_errf(err, PHT_ERR_NOT_FOUND, "no entry about train %s names its "
		    "code_sha256", train);
	return pht_station_code_get(dir, sha, out, err);
}

/* pht audit show --code: the code after the entries. */
static int
show_code(const char *log, const char *train, const char *sha)
{
	struct pht_buf *code = NULL;
	struct pht_err err;
	char *dir = code_dir_of(log);
	int r;

	pht_err_clear(&err);
	if (dir == NULL)
		r = pht_errf(&err, PHT_ERR_NOMEM, "out of memory");
	else
		r = stored_code(dir, train, sha, &code, &err);
	if (r == PHT_OK) {
		printf("\n== code (SHA-256 %s, %s/%s.lua) ==\n", sha, dir, sha);
		fwrite(pht_buf_data(code), 1, pht_buf_len(code), stdout);
		if (pht_buf_len(code) > 0 &&
		    pht_buf_data(code)[pht_buf_len(code) - 1] != '\n')
			printf("\n");
	} else {
		pht_cli_error("audit show: --code", &err);
	}
	pht_buf_free(code);
	free(dir);
	return r == PHT_OK ? PHT_EXIT_OK : PHT_EXIT_FAIL;
}

static int
audit_show(int argc, char **argv)
{
	struct pht_err err;
	struct show sh;
	struct args a;
	int r;

	pht_err_clear(&err);
	if ((r = parse_args("audit show", argc, argv, 2, &a)) != 0)
		return r;
	if (a.npos != 2 || a.station_key || a.head || a.config || a.train)
		return pht_cli_usage_error("audit show", "give LOG and TRAIN_ID");
	memset(&sh, 0, sizeof(sh));
	sh.train = a.pos[1];
	r = pht_audit_foreach(a.pos[0], show_fn, &sh, &err);
	if (sh.oom) {
		fprintf(stderr, "pht audit show: out of memory\n");
		return PHT_EXIT_FAIL;
	}
	if (r != PHT_OK) {
		pht_cli_error("audit show", &err);
		return r == PHT_ERR_TAMPERED ? PHT_EXIT_FAIL : pht_cli_exit_for(r);
	}
	if (sh.found == 0) {
		fprintf(stderr, "pht audit show: %s: no entries about train %s\n", a.pos[0],
		    a.pos[1]);
		return PHT_EXIT_FAIL;
	}
	return a.code ? show_code(a.pos[0], a.pos[1], sh.code_sha256) : PHT_EXIT_OK;
}

/* ---- replay ---- */

/*
 * The train code in file: the "code" of a signed envelope's payload, or
 * else the file as Lua source, assembled as pht train sign assembles it.
 * *code is borrowed from *keep.
 */
static int
read_code(const char *file, struct pht_buf **keep, json_t **payload,
    const char **code, size_t *len, struct pht_err *err)
{
	struct pht_envelope *env = NULL;
	const uint8_t *p;
	json_t *c;
	size_t plen;
	int r;

	*payload = NULL;
	if ((r = pht_file_read(file, PHT_ENVELOPE_MAX, keep, err)) != PHT_OK)
		return r;
	if (pht_envelope_parse(pht_buf_str(*keep), pht_buf_len(*keep), &env, NULL) == PHT_OK) {
		p = pht_envelope_payload(env, &plen);
		r = pht_json_parse((const char *)p, plen, file, payload, err);
		pht_envelope_free(env);
		if (r != PHT_OK)
			return r;
		if (!json_is_string(c = json_object_get(*payload, "code")))
			return pht_errf(err, PHT_ERR_MALFORMED, "%s: the envelope carries no "
			    "train code", file);
		*code = json_string_value(c);
		*len = json_string_length(c);
		return PHT_OK;
	}
	pht_buf_free(*keep);
	*keep = NULL;
	if ((r = pht_cli_read_train(file, PHT_TRAIN_CODE_MAX, keep, err)) != PHT_OK)
		return r;
	*code = pht_buf_str(*keep);
	*len = pht_buf_len(*keep);
	return PHT_OK;
}

/* Without --train: the code the station stored under the train's logged hash. */
static int
replay_stored_code(const struct pht_station_config *cfg, const char *log,
    const char *train, struct pht_buf **out, struct pht_err *err)
{
	struct show sh;
	char *dir;
	int r;

	memset(&sh, 0, sizeof(sh));
	sh.train = train;
	sh.quiet = 1;
	if ((r = pht_audit_foreach(log, show_fn, &sh, err)) != PHT_OK)
		return r;
	if ((dir = pht_station_code_dir(pht_station_config_audit_log(cfg))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	r = stored_code(dir, train, sh.code_sha256, out, err);
	free(dir);
	return r;
}

static int
audit_replay(int argc, char **argv)
{
	struct pht_station_config *cfg = NULL;
	struct pht_station_replay rep;
	struct pht_buf *file = NULL;
	json_t *payload = NULL;
	struct pht_err err;
	const char *code = NULL;
	size_t len = 0;
	struct args a;
	int r, rc;

	pht_err_clear(&err);
	memset(&rep, 0, sizeof(rep));
	if ((r = parse_args("audit replay", argc, argv, 2, &a)) != 0)
		return r;
	if (a.npos != 2 || a.config == NULL || a.station_key || a.head)
		return pht_cli_usage_error("audit replay",
		    "give LOG TRAIN_ID --config STATION.json [--train FILE]");
	if ((r = pht_station_config_load(a.config, &cfg, &err)) != PHT_OK ||
	    (a.train != NULL ? (r = read_code(a.train, &file, &payload, &code, &len,
	    &err)) : (r = replay_stored_code(cfg, a.pos[0], a.pos[1], &file, &err))) !=
	    PHT_OK) {
		pht_cli_error("audit replay", &err);
		rc = r == PHT_ERR_NOT_FOUND || r == PHT_ERR_HASH_MISMATCH ? PHT_EXIT_FAIL :
		    pht_cli_exit_for(r);
		goto out;
	}
	if (a.train == NULL) {
		code = pht_buf_str(file);
		len = pht_buf_len(file);
	}
	r = pht_station_replay(cfg, a.pos[0], a.pos[1], code, len, &rep, &err);
	if (r != PHT_OK) {
		pht_cli_error("audit replay", &err);
		rc = r == PHT_ERR_MALFORMED || r == PHT_ERR_IO || r == PHT_ERR_INVALID ?
		    pht_cli_exit_for(r) : PHT_EXIT_FAIL;
		goto out;
	}
	if (rep.data_changed)
		fprintf(stderr, "pht audit replay: note: the dataset's files differ from "
		    "the ones the train ran on\n");
	printf("train %s: released output sha256 %s, replay %s: %s\n", a.pos[1],
	    rep.recorded_sha256, rep.replay_sha256, rep.matches ? "MATCH" : "MISMATCH");
	rc = rep.matches ? PHT_EXIT_OK : PHT_EXIT_FAIL;
out:
	pht_station_replay_clear(&rep);
	json_decref(payload);
	pht_buf_free(file);
	pht_station_config_free(cfg);
	return rc;
}

/*
 * The head the node published for the station of config (GET /v1/stations
 * with the station's own node credentials). PHT_ERR_NOT_FOUND if the node
 * has none for it.
 */
static int
node_head(const char *config, struct pht_audit_head *h, struct pht_err *err)
{
	struct pht_station_config *cfg = NULL;
	const struct pht_station_node *node;
	struct pht_http_opts ho;
	struct pht_http *http = NULL;
	json_t *resp = NULL, *st, *head;
	char url[1024];
	const char *hash;
	long status;
	size_t i, n;
	int r;

	if ((r = pht_station_config_load(config, &cfg, err)) != PHT_OK)
		return r;
	if ((node = pht_station_config_node(cfg)) == NULL || node->url == NULL) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: no node section", config);
		goto out;
	}
	memset(&ho, 0, sizeof(ho));
	ho.cert = node->cert;
	ho.key = node->key;
	ho.ca = node->ca;
	ho.connect_timeout_ms = 5000;
	ho.timeout_ms = 15000;
	n = strlen(node->url);
	while (n > 0 && node->url[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s/v1/stations", (int)n, node->url);
	if ((r = pht_http_new(&ho, &http, err)) != PHT_OK ||
	    (r = pht_http_request_json(http, "GET", url, NULL, 0, &status, &resp,
	    err)) != PHT_OK)
		goto out;
	r = pht_errf(err, PHT_ERR_NOT_FOUND, "the node has no published head for "
	    "station %s", pht_station_config_id(cfg));
	json_array_foreach(json_object_get(resp, "stations"), i, st) {
		head = json_object_get(st, "log_head");
		hash = json_string_value(json_object_get(head, "hash"));
		if (strcmp(json_string_value(json_object_get(st, "id")) != NULL ?
		    json_string_value(json_object_get(st, "id")) : "",
		    pht_station_config_id(cfg)) != 0 || hash == NULL ||
		    strlen(hash) != PHT_AUDIT_HASH_HEX ||
		    json_integer_value(json_object_get(head, "seq")) < 0)
			continue;
		h->seq = (uint64_t)json_integer_value(json_object_get(head, "seq"));
		memcpy(h->hash, hash, PHT_AUDIT_HASH_HEX + 1);
		r = PHT_OK;
	}
out:
	json_decref(resp);
	pht_http_free(http);
	pht_station_config_free(cfg);
	return r;
}

/*
 * Repairs a torn last line (pht_audit_repair) and says exactly what went:
 * the bytes, and that they were the unfinished start of one entry (a torn
 * line is never a complete entry). With a published head (--head, or the
 * node's through --config) it also says which entries the log had lost
 * before the repair: those were cut, and no repair brings them back.
 */
static int
audit_repair(int argc, char **argv)
{
	struct pht_audit_report before;
	struct pht_audit_head pub_head;
	struct pht_key *key = NULL, *pub = NULL;
	struct pht_err err, e;
	struct args a;
	size_t removed = 0;
	int r, have_head = 0, rc = PHT_EXIT_OK;

	pht_err_clear(&err);
	pht_err_clear(&e);
	memset(&before, 0, sizeof(before));
	if ((r = parse_args("audit repair", argc, argv, 1, &a)) != 0)
		return r;
	if (a.npos != 1 || a.station_key == NULL || (a.head && a.config) || a.train)
		return pht_cli_usage_error("audit repair", "give LOG and --station-key KEY "
		    "(and --head SEQ:HASH or --config STATION.json)");
	if (a.head != NULL && (r = parse_head("audit repair", a.head, &pub_head)) != 0)
		return r;
	have_head = a.head != NULL;
	if ((r = pht_key_load_as(a.station_key, PHT_KEY_SIGN, 1, &key, &err)) != PHT_OK) {
		pht_cli_error("audit repair", &err);
		return pht_cli_exit_for(r);
	}
	if (a.config != NULL) {
		if (node_head(a.config, &pub_head, &e) == PHT_OK)
			have_head = 1;
		else
			printf("%s: the node's published head could not be read: %s\n",
			    a.pos[0], pht_err_msg(&e));
	}
	/* what verifies before the repair: the entries that stay */
	if ((pub = pht_key_public_copy(key)) != NULL)
		(void)pht_audit_verify(a.pos[0], pub, NULL, &before, NULL);
	r = pht_audit_repair(a.pos[0], key, &removed, &err);
	if (r != PHT_OK) {
		pht_cli_error("audit repair", &err);
		rc = r == PHT_ERR_IO ? PHT_EXIT_USAGE : PHT_EXIT_FAIL;
		goto out;
	}
	printf("%s: removed a torn last line of %zu bytes after entry %" PRIu64 ": "
	    "the unfinished start of entry %" PRIu64 "; no complete entry was removed "
	    "(the bytes are kept aside: see the 'repaired' entry, now entry %" PRIu64
	    ")\n", a.pos[0], removed, before.head.seq, before.head.seq + 1,
	    before.head.seq + 1);
	if (!have_head) {
		printf("%s: entries after entry %" PRIu64 " that were lost with the tear "
		    "cannot be seen from the log alone: compare with the node's published "
		    "head (--config STATION.json or --head SEQ:HASH)\n", a.pos[0],
		    before.head.seq);
	} else if (pub_head.seq > before.head.seq) {
		printf("%s: the node's published head is entry %" PRIu64 ": entries %"
		    PRIu64 " to %" PRIu64 " (%" PRIu64 " entries) are missing from this "
		    "log; they were lost before the repair (the log was cut), not removed "
		    "by it\n", a.pos[0], pub_head.seq, before.head.seq + 1, pub_head.seq,
		    pub_head.seq - before.head.seq);
		rc = PHT_EXIT_FAIL;
	} else if (pht_audit_verify(a.pos[0], pub, &pub_head, NULL, &e) == PHT_OK) {
		printf("%s: holds the node's published head (entry %" PRIu64 "): nothing "
		    "acknowledged was lost\n", a.pos[0], pub_head.seq);
	} else {
		printf("%s: does not hold the node's published head (entry %" PRIu64
		    "): %s\n", a.pos[0], pub_head.seq, pht_err_msg(&e));
		rc = PHT_EXIT_FAIL;
	}
out:
	pht_key_free(pub);
	pht_key_free(key);
	return rc;
}

int
pht_cmd_audit(int argc, char **argv)
{
	if (argc < 2 || pht_cli_wants_help(argc, argv)) {
		fputs(audit_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? PHT_EXIT_USAGE : PHT_EXIT_OK;
	}
	if (strcmp(argv[1], "verify") == 0 && pht_cmd_audit_verify_is_set(argc, argv))
		return pht_cmd_audit_verify_set(argc, argv);
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify(argc, argv);
	if (strcmp(argv[1], "export") == 0)
		return pht_cmd_audit_export(argc, argv);
	if (strcmp(argv[1], "rotate") == 0)
		return pht_cmd_audit_rotate(argc, argv);
	if (strcmp(argv[1], "prune") == 0)
		return pht_cmd_audit_prune(argc, argv);
	if (strcmp(argv[1], "list") == 0)
		return audit_list(argc, argv);
	if (strcmp(argv[1], "show") == 0)
		return audit_show(argc, argv);
	if (strcmp(argv[1], "replay") == 0)
		return audit_replay(argc, argv);
	if (strcmp(argv[1], "repair") == 0)
		return audit_repair(argc, argv);
	return pht_cli_usage_error("audit", "unknown subcommand '%s'", argv[1]);
}
