/* test_station_gov.c — the station's governance state: stored revocations and halt orders, run caps, column checks, and queued trains re-checked at approval. */
#include "tap.h"

#include "pht_audit.h"
#include "pht_enc.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_key.h"
#include "pht_permit.h"
#include "pht_station_config.h"
#include "pht_station_exec.h"
#include "pht_station_gov.h"
#include "pht_time.h"
#include "pht_trainmsg.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/pht-gov-XXXXXX";
static char analyst_fp[PHT_KEY_FP_LEN + 1], visitor_fp[PHT_KEY_FP_LEN + 1];
static char mean_sha[65], qc_sha[65];

/* A steward's data-quality train: row-level values if it has row access. */
static const char *qc_code =
    "return { name = 'qc', version = '1',\n"
    "  station = function(data, params, round)\n"
    "    local ok, v = pcall(function() return data:column('age'):values() end)\n"
    "    if not ok then return { rows = false, why = tostring(v) } end\n"
    "    return { rows = true, first = v[1] }\n"
    "  end,\n"
    "  combine = function(r) return { done = true, result = r[1] } end }\n";

static const char *mean_code =
    "return { name = 'mean', version = '1',\n"
    "  station = function(data, params, round)\n"
    "    local c = data:column(params.column)\n"
    "    return { n = c:count(), sum = c:sum() }\n"
    "  end,\n"
    "  combine = function(r) return { done = true, result = r[1] } end }\n";

static const char *csv_text =
    "age,sex,bmi\n"
    "30,M,20.5\n41,F,22.0\n52,M,24.5\n63,F,26.0\n74,M,28.5\n85,F,30.0\n";
static const char *dict_text =
    "{\"dataset\":\"reg\",\"columns\":["
    "{\"name\":\"age\",\"type\":\"integer\"},"
    "{\"name\":\"sex\",\"type\":\"category\",\"levels\":[\"M\",\"F\"]},"
    "{\"name\":\"bmi\",\"type\":\"number\"}]}";

static void
write_file(const char *name, const char *text)
{
	char *p = pht_path_join(dir, name);

	if (p == NULL || pht_file_write_atomic(p, text, strlen(text), 0600, NULL) != PHT_OK)
		abort();
	free(p);
}

static struct pht_station *
open_station(void)
{
	struct pht_station_config *cfg = NULL;
	struct pht_station *st = NULL;
	struct pht_err e;
	const char *text =
	    "{\"station\":\"st-a\",\"datasets\":{\"reg\":{\"csv\":\"reg.csv\"}},"
	    "\"signers\":[{\"name\":\"analyst\",\"key\":\"analyst.sign.pub\",\"mode\":\"auto\"},"
	    "{\"name\":\"visitor\",\"key\":\"visitor.sign.pub\",\"mode\":\"review\"}],"
	    "\"audit_log\":\"audit.log\",\"key\":\"st-a.sign.key\",\"seen_ids\":\"seen-ids\","
	    "\"permit_authorities\":[\"authority.sign.pub\"]}";

	if (pht_station_config_parse(text, strlen(text), "test.json", dir, &cfg, &e) !=
	    PHT_OK || pht_station_open(cfg, &st, &e) != PHT_OK) {
		tap_diag("station: %s", e.msg);
		return NULL;
	}
	return st;
}

/* A signed document: payload signed with NAME.sign.key. Caller frees. */
static char *
sign_with(const char *name, const char *payload)
{
	struct pht_key *key = NULL;
	char path[1100], *env = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s.sign.key", dir, name);
	if (pht_key_load(path, &key, NULL) != PHT_OK ||
	    pht_envelope_sign(key, (const uint8_t *)payload, strlen(payload), &env, &len,
	    NULL) != PHT_OK)
		abort();
	pht_key_free(key);
	return env;
}

/*
 * A permit for user_fp over the columns (comma-separated) of reg, for the
 * codes, row access for ra (may be empty), signed by authority.
 */
static char *
permit_doc(const char *id, const char *user_fp, const char *columns_csv,
    int64_t from, int64_t until, int64_t max_runs, const char *const *codes,
    size_t ncodes, const char *const *ra, size_t nra)
{
	struct pht_permit_user users[1] = {{"someone", user_fp}};
	const char *stations[1] = {"st-a"};
	const char *cols[8];
	struct pht_permit_dataset ds[1] = {{"reg", cols, 0}};
	struct pht_permit_spec s;
	char *copy = strdup(columns_csv), *tok, *save = NULL, *payload = NULL, *env;
	size_t len;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		cols[ds[0].ncolumns++] = tok;
	memset(&s, 0, sizeof(s));
	s.id = id;
	s.issued = pht_time_now();
	s.purpose = "test";
	s.users = users;
	s.nusers = 1;
	s.stations = stations;
	s.nstations = 1;
	s.datasets = ds;
	s.ndatasets = 1;
	s.code_sha256 = codes;
	s.ncodes = ncodes;
	s.row_access = ra;
	s.nrow_access = nra;
	s.valid_from = from;
	s.valid_until = until;
	s.max_runs = max_runs;
	if (pht_permit_build(&s, &payload, &len, NULL) != PHT_OK)
		abort();
	env = sign_with("authority", payload);
	free(payload);
	free(copy);
	return env;
}

/* A permit for users (fingerprints) over columns of reg for mean_code. */
static char *
permit(const char *id, const char *user_fp, const char *columns_csv,
    int64_t from, int64_t until, int64_t max_runs)
{
	const char *codes[1] = {mean_sha};

	return permit_doc(id, user_fp, columns_csv, from, until, max_runs, codes, 1,
	    NULL, 0);
}

/* A signed train of code by signer under permit_id, carrying permit_env (may be NULL). */
static char *
signed_train(const char *signer, const char *code, const char *params,
    const char *permit_id, const char *permit_env, size_t *len)
{
	struct pht_trainmsg_spec spec;
	const char *dsv[1] = {"reg"}, *stv[1] = {"st-a"};
	char *payload = NULL, *env;
	json_t *p = params != NULL ? json_loads(params, 0, NULL) : NULL;
	size_t plen;

	memset(&spec, 0, sizeof(spec));
	spec.code = code;
	spec.code_len = strlen(code);
	spec.params = p;
	spec.datasets = dsv;
	spec.n_datasets = 1;
	spec.stations = stv;
	spec.n_stations = 1;
	spec.round = 1;
	spec.issued = pht_time_now();
	spec.expires = spec.issued + 3600;
	spec.permit = permit_id;
	spec.permit_envelope = permit_env;
	if (pht_trainmsg_build(&spec, &payload, &plen, NULL) != PHT_OK)
		abort();
	env = sign_with(signer, payload);
	*len = strlen(env);
	free(payload);
	json_decref(p);
	return env;
}

/* mean_code over column by signer under permit_id. */
static char *
train(const char *signer, const char *column, const char *permit_id,
    const char *permit_env, size_t *len)
{
	char params[128];

	snprintf(params, sizeof(params), "{\"column\":\"%s\"}", column);
	return signed_train(signer, mean_code, params, permit_id, permit_env, len);
}

/* Every entry of the log about train id with this event: "row_access" true? -1 if none. */
struct ra_scan {
	const char *train, *event;
	int found;
};

static int
ra_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct ra_scan *a = arg;
	const char *ev = json_string_value(json_object_get(entry, "event"));
	const char *id = json_string_value(json_object_get(entry, "train"));

	(void)line;
	(void)hash;
	if (ev != NULL && id != NULL && strcmp(ev, a->event) == 0 && strcmp(id, a->train) == 0)
		a->found = json_is_true(json_object_get(entry, "row_access"));
	return 0;
}

static int
logged_row_access(const char *train, const char *event)
{
	struct ra_scan a = {train, event, -1};
	char path[1100];

	snprintf(path, sizeof(path), "%s/audit.log", dir);
	if (pht_audit_foreach(path, ra_fn, &a, NULL) != PHT_OK)
		return -2;
	return a.found;
}

/*
 * Row-level values reach a train only under a permit that grants row
 * access to its code hash; such runs are marked in the audit log.
 */
static void
test_row_access(struct pht_station *st)
{
	struct pht_station_result res;
	struct pht_err e;
	const char *both[2] = {mean_sha, qc_sha}, *only_mean[1] = {mean_sha},
	    *only_qc[1] = {qc_sha};
	char *p, *t;
	size_t l;
	int64_t now = pht_time_now();
	int r;

	/* a permit for the code, without row access */
	p = permit_doc("P-ra0", analyst_fp, "age", now - 10, now + 3600, 0, both, 2, NULL, 0);
	t = signed_train("analyst", qc_code, NULL, "P-ra0", p, &l);
	r = pht_station_exec(st, t, l, &res, &e);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_RELEASED && res.row_access == 0 &&
	    json_is_false(json_object_get(res.output, "rows")),
	    "a permit for the code without row_access: the train runs, col:values() refused");
	tap_ok(strstr(json_string_value(json_object_get(res.output, "why")) ?
	    json_string_value(json_object_get(res.output, "why")) : "", "not available") != NULL,
	    "  the train saw the API's error (%s)",
	    json_string_value(json_object_get(res.output, "why")));
	tap_ok(logged_row_access(res.train, "executed") == 0 &&
	    logged_row_access(res.train, "released") == 0, "  no row_access in the log");
	pht_station_result_clear(&res);
	free(t);
	free(p);

	/* row access granted, but to another code hash */
	p = permit_doc("P-ra1", analyst_fp, "age", now - 10, now + 3600, 0, both, 2, only_mean,
	    1);
	t = signed_train("analyst", qc_code, NULL, "P-ra1", p, &l);
	r = pht_station_exec(st, t, l, &res, &e);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_RELEASED && res.row_access == 0 &&
	    json_is_false(json_object_get(res.output, "rows")) &&
	    logged_row_access(res.train, "executed") == 0,
	    "row access granted to another code hash: refused to this one, not marked");
	pht_station_result_clear(&res);
	free(t);
	free(p);

	/* granted to this code: the run has it and the log says so */
	p = permit_doc("P-ra2", analyst_fp, "age", now - 10, now + 3600, 0, only_qc, 1, only_qc,
	    1);
	t = signed_train("analyst", qc_code, NULL, "P-ra2", p, &l);
	r = pht_station_exec(st, t, l, &res, &e);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_RELEASED && res.row_access == 1 &&
	    json_is_true(json_object_get(res.output, "rows")) &&
	    json_integer_value(json_object_get(res.output, "first")) == 30,
	    "row access granted to this code hash: col:values() works (first age 30)");
	tap_ok(logged_row_access(res.train, "executed") == 1 &&
	    logged_row_access(res.train, "released") == 1,
	    "  executed and released entries say row_access: true");
	{
		struct pht_station_replay rep;
		char path[1100];

		snprintf(path, sizeof(path), "%s/audit.log", dir);
		r = pht_station_replay(pht_station_config(st), path, res.train, qc_code,
		    strlen(qc_code), &rep, &e);
		tap_ok(r == PHT_OK && rep.matches == 1 &&
		    json_is_true(json_object_get(rep.output, "rows")),
		    "  pht audit replay repeats it with the row access it had: MATCH");
		pht_station_replay_clear(&rep);
	}
	pht_station_result_clear(&res);
	free(t);

	/* an auto signer without a permit never gets it */
	t = signed_train("analyst", qc_code, NULL, NULL, NULL, &l);
	r = pht_station_exec(st, t, l, &res, &e);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_REJECTED && res.row_access == 0,
	    "no permit at a station that requires one: rejected, no row access");
	pht_station_result_clear(&res);
	free(t);
	free(p);
}

static void
test_revocations_store(struct pht_station *st)
{
	struct pht_station_gov *gov = pht_station_governance(st);
	struct pht_err e;
	const char *ids2[] = {"P-x"}, *ids3[] = {"P-x", "P-y"};
	char *p2 = NULL, *p3 = NULL, *e2, *e3, *e3b, *rogue;
	size_t len;
	int changed = -1;

	pht_revocations_build(2, pht_time_now(), ids2, 1, &p2, &len, NULL);
	pht_revocations_build(3, pht_time_now(), ids3, 2, &p3, &len, NULL);
	e2 = sign_with("authority", p2);
	e3 = sign_with("authority", p3);
	rogue = sign_with("visitor", p3);
	tap_ok(pht_station_gov_update_revocations(gov, e3, strlen(e3), &changed, &e) ==
	    PHT_OK && changed == 1, "a revocation list is stored");
	tap_ok(pht_station_gov_update_revocations(gov, e3, strlen(e3), &changed, &e) ==
	    PHT_OK && changed == 0, "the same list again: unchanged");
	tap_ok(pht_station_gov_update_revocations(gov, e2, strlen(e2), &changed, &e) ==
	    PHT_ERR_REPLAY && changed == 0, "an older list: PHT_ERR_REPLAY");
	tap_str(e.msg, "revocation list seq 2 is older than the stored list (seq 3)",
	    "  detail");
	free(p3);
	p3 = NULL;
	pht_revocations_build(3, pht_time_now() + 1, ids2, 1, &p3, &len, NULL);
	e3b = sign_with("authority", p3);
	tap_ok(pht_station_gov_update_revocations(gov, e3b, strlen(e3b), &changed, &e) ==
	    PHT_ERR_REPLAY, "another list under the same seq: PHT_ERR_REPLAY");
	tap_ok(strstr(e.msg, "differs from it under the same seq") != NULL, "  detail: %s",
	    e.msg);
	tap_ok(pht_station_gov_update_revocations(gov, rogue, strlen(rogue), &changed,
	    &e) == PHT_ERR_UNKNOWN_SIGNER, "a list signed by a non-authority: unknown signer");
	tap_ok(strncmp(e.msg, "permit authority: envelope: unknown signer", 42) == 0,
	    "  detail: %s", e.msg);
	tap_ok(pht_station_gov_update_halt(gov, e3, strlen(e3), &changed, &e) ==
	    PHT_ERR_MALFORMED, "a revocation list offered as a halt order: malformed");
	tap_str(e.msg, "halt: malformed: unknown field revoked", "  detail");
	free(p2);
	free(p3);
	free(e2);
	free(e3);
	free(e3b);
	free(rogue);
}

static void
test_columns(void)
{
	struct pht_permit *p = NULL;
	struct pht_envelope *env = NULL;
	struct pht_err e;
	const uint8_t *pl;
	size_t plen;
	char *text = permit("P-c", analyst_fp, "age,sex", 0, pht_time_now() + 3600, 0);

	pht_envelope_parse(text, strlen(text), &env, NULL);
	pl = pht_envelope_payload(env, &plen);
	pht_permit_parse(pl, plen, &p, NULL);
	tap_ok(pht_station_gov_check_columns(p, "reg", "age,sex", &e) == PHT_OK,
	    "columns read within the permit pass");
	tap_ok(pht_station_gov_check_columns(p, "reg", "", &e) == PHT_OK,
	    "no column read passes");
	tap_ok(pht_station_gov_check_columns(p, "reg", "age,bmi", &e) == PHT_ERR_DENIED,
	    "a column outside: PHT_ERR_DENIED");
	tap_str(e.msg, "permit P-c: the train read column bmi of dataset reg, which the "
	    "permit does not allow", "  detail");
	tap_ok(pht_station_gov_check_columns(p, "reg", "age,sex,...", &e) == PHT_ERR_DENIED,
	    "a list the runtime cut short cannot be shown covered");
	tap_ok(strstr(e.msg, "more columns than the runtime could list") != NULL,
	    "  detail: %s", e.msg);
	pht_permit_free(p);
	pht_envelope_free(env);
	free(text);
}

static void
test_run_cap(struct pht_station *st)
{
	struct pht_station_gov *gov = pht_station_governance(st);
	struct pht_err e;
	int64_t runs = 0;

	tap_ok(pht_station_gov_runs(gov, "P-cap") == 0, "no runs counted for a new permit");
	tap_ok(pht_station_gov_count_run(gov, "P-cap", 2, &runs, &e) == PHT_OK && runs == 1,
	    "first run counted");
	tap_ok(pht_station_gov_count_run(gov, "P-cap", 2, &runs, &e) == PHT_OK && runs == 2,
	    "second run counted");
	tap_ok(pht_station_gov_count_run(gov, "P-cap", 2, &runs, &e) == PHT_ERR_DENIED,
	    "a third run past max_runs 2: PHT_ERR_DENIED");
	tap_str(e.msg, "permit P-cap: all 2 runs are used at this station", "  detail");
	tap_ok(pht_station_gov_runs(gov, "P-cap") == 2, "the refused run was not counted");
	tap_ok(pht_station_gov_count_run(gov, "P-free", 0, &runs, &e) == PHT_OK && runs == 1,
	    "no cap: counted all the same");
}

/* The approval queue re-checks: a queued train whose permit is revoked or expires does not run. */
static void
test_queued_rechecked(struct pht_station **stp)
{
	struct pht_station_result res;
	struct pht_err e;
	const char *ids[] = {"P-q1"};
	char *p1, *p2, *t1, *t2, *rp = NULL, *rev;
	size_t l1, l2, len;
	int64_t now = pht_time_now();
	int r;

	p1 = permit("P-q1", visitor_fp, "age", now - 10, now + 3600, 0);
	p2 = permit("P-q2", visitor_fp, "age", now - 10, now + 3, 0);
	t1 = train("visitor", "age", "P-q1", p1, &l1);
	t2 = train("visitor", "age", "P-q2", p2, &l2);
	r = pht_station_exec(*stp, t1, l1, &res, &e);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_QUEUED, "a review signer's train "
	    "under a valid permit is queued");
	tap_str(res.permit, "P-q1", "  the result names its permit");
	pht_station_result_clear(&res);
	r = pht_station_exec(*stp, t2, l2, &res, &e);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_QUEUED, "a second one is queued");
	pht_station_result_clear(&res);

	pht_revocations_build(10, now, ids, 1, &rp, &len, NULL);
	rev = sign_with("authority", rp);
	tap_ok(pht_station_gov_update_revocations(pht_station_governance(*stp), rev,
	    strlen(rev), NULL, &e) == PHT_OK, "P-q1 is revoked while its train waits");
	r = pht_station_exec_approved(*stp, t1, l1, &res, &e);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_REJECTED, "the approved train "
	    "of a revoked permit is rejected");
	tap_str(e.msg, "permit P-q1 was revoked (revocation list seq 10)", "  detail");
	pht_station_result_clear(&res);

	/* wait (bounded) until P-q2 has expired */
	for (int i = 0; i < 100 && pht_time_now() < now + 3; i++)
		usleep(100000);
	r = pht_station_exec_approved(*stp, t2, l2, &res, &e);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_REJECTED && e.code == PHT_ERR_EXPIRED,
	    "the approved train of a permit that expired meanwhile is rejected");
	tap_ok(strstr(e.msg, "permit P-q2: expired at") != NULL, "  detail: %s", e.msg);
	pht_station_result_clear(&res);
	free(p1);
	free(p2);
	free(t1);
	free(t2);
	free(rp);
	free(rev);
}

static void
test_release_and_halt(struct pht_station *st)
{
	struct pht_station_result res;
	struct pht_err e;
	char *p, *t;
	size_t l;
	int64_t now = pht_time_now();
	int r;

	p = permit("P-ok", analyst_fp, "age,sex", now - 10, now + 3600, 0);
	t = train("analyst", "age", "P-ok", p, &l);
	r = pht_station_exec(st, t, l, &res, &e);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_RELEASED && res.output != NULL &&
	    json_integer_value(json_object_get(res.output, "n")) == 6 &&
	    json_number_value(json_object_get(res.output, "sum")) == 345,
	    "a train under a covering permit is released (n 6, sum of ages 345)");
	tap_ok(pht_station_gov_runs(pht_station_governance(st), "P-ok") == 1,
	    "  its run was counted");
	pht_station_result_clear(&res);
	free(t);
	{
		struct pht_station_config *cfg = NULL;
		char path[1100];
		snprintf(path, sizeof(path), "%s/test.json", dir);
		write_file("test.json",
		    "{\"station\":\"st-a\",\"datasets\":{\"reg\":{\"csv\":\"reg.csv\"}},"
		    "\"signers\":[],\"audit_log\":\"audit.log\",\"key\":\"st-a.sign.key\","
		    "\"seen_ids\":\"seen-ids\"}");
		pht_station_config_load(path, &cfg, NULL);
		tap_ok(pht_station_gov_set_halt(cfg, 1, "tester", "why not", &e) == PHT_OK,
		    "halt");
		t = train("analyst", "age", "P-ok", NULL, &l);
		r = pht_station_exec(st, t, l, &res, &e);
		tap_ok(r == PHT_OK && res.outcome == PHT_STATION_REJECTED && e.code ==
		    PHT_ERR_DENIED, "a halted station rejects the train");
		tap_ok(strncmp(e.msg, "station is halted by tester since ", 34) == 0 &&
		    strstr(e.msg, ": why not") != NULL, "  detail: %s", e.msg);
		pht_station_result_clear(&res);
		free(t);
		tap_ok(pht_station_gov_set_halt(cfg, 0, "tester", NULL, &e) == PHT_OK,
		    "resume");
		tap_ok(pht_station_gov_set_halt(cfg, 0, "tester", NULL, &e) == PHT_ERR_DENIED,
		    "resuming a running station: PHT_ERR_DENIED");
		tap_str(e.msg, "station st-a is not halted", "  detail");
		t = train("analyst", "age", "P-ok", NULL, &l);
		r = pht_station_exec(st, t, l, &res, &e);
		tap_ok(r == PHT_OK && res.outcome == PHT_STATION_RELEASED,
		    "after resume the stored permit serves a train naming it");
		pht_station_result_clear(&res);
		free(t);
		pht_station_config_free(cfg);
	}
	free(p);
}

static void
test_config(void)
{
	struct pht_station_config *cfg = NULL;
	struct pht_err e;
	const char *base = "{\"station\":\"s\",\"datasets\":{\"d\":{\"csv\":\"d.csv\"}},"
	    "\"signers\":[],\"audit_log\":\"a\",\"key\":\"k\",\"seen_ids\":\"s\"";
	char text[1024];

	snprintf(text, sizeof(text), "%s}", base);
	tap_ok(pht_station_config_parse(text, strlen(text), "c.json", NULL, &cfg, &e) ==
	    PHT_OK && pht_station_config_require_permit(cfg) == 0 &&
	    pht_station_config_npermit_authorities(cfg) == 0,
	    "without authorities no permit is required");
	pht_station_config_free(cfg);
	snprintf(text, sizeof(text), "%s,\"permit_authorities\":[\"a.pub\"]}", base);
	tap_ok(pht_station_config_parse(text, strlen(text), "c.json", "/x", &cfg, &e) ==
	    PHT_OK && pht_station_config_require_permit(cfg) == 1 &&
	    strcmp(pht_station_config_permit_authority(cfg, 0), "/x/a.pub") == 0,
	    "with authorities a permit is required by default; paths resolved");
	pht_station_config_free(cfg);
	snprintf(text, sizeof(text), "%s,\"permit_authorities\":[\"a.pub\"],"
	    "\"require_permit\":false}", base);
	tap_ok(pht_station_config_parse(text, strlen(text), "c.json", NULL, &cfg, &e) ==
	    PHT_OK && pht_station_config_require_permit(cfg) == 0,
	    "require_permit false is honoured");
	pht_station_config_free(cfg);
	snprintf(text, sizeof(text), "%s,\"require_permit\":true}", base);
	tap_ok(pht_station_config_parse(text, strlen(text), "c.json", NULL, &cfg, &e) ==
	    PHT_ERR_MALFORMED, "require_permit without authorities is refused");
	tap_str(e.msg, "c.json: require_permit: true, but no permit_authorities are "
	    "configured", "  detail");
	snprintf(text, sizeof(text), "%s,\"permit_authorities\":[]}", base);
	tap_ok(pht_station_config_parse(text, strlen(text), "c.json", NULL, &cfg, &e) ==
	    PHT_ERR_MALFORMED, "an empty authority list is refused");
	tap_str(e.msg, "c.json: permit_authorities: not a non-empty array of public key "
	    "files", "  detail");
	snprintf(text, sizeof(text), "%s,\"permit_authorities\":[\"a.pub\"],"
	    "\"require_permit\":1}", base);
	tap_ok(pht_station_config_parse(text, strlen(text), "c.json", NULL, &cfg, &e) ==
	    PHT_ERR_MALFORMED, "require_permit must be a boolean");
	tap_str(e.msg, "c.json: require_permit: not true or false", "  detail");
	snprintf(text, sizeof(text), "%s,\"permit_authorities\":[7]}", base);
	tap_ok(pht_station_config_parse(text, strlen(text), "c.json", NULL, &cfg, &e) ==
	    PHT_ERR_MALFORMED, "an authority that is not a path is refused");
	tap_str(e.msg, "c.json: permit_authorities[0]: not a string", "  detail");
}

int
main(void)
{
	struct pht_station *st;
	char path[1100];
	uint8_t md[32];
	unsigned int n = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	if (pht_key_generate_files(dir, "st-a", NULL, NULL, NULL) != PHT_OK ||
	    pht_key_generate_files(dir, "analyst", analyst_fp, NULL, NULL) != PHT_OK ||
	    pht_key_generate_files(dir, "visitor", visitor_fp, NULL, NULL) != PHT_OK ||
	    pht_key_generate_files(dir, "authority", NULL, NULL, NULL) != PHT_OK)
		return 1;
	write_file("reg.csv", csv_text);
	write_file("reg.dict.json", dict_text);
	/* the permit names the code by its SHA-256, computed here independently */
	if (EVP_Digest(mean_code, strlen(mean_code), md, &n, EVP_sha256(), NULL) != 1)
		return 1;
	pht_hex_encode(md, 32, mean_sha);
	if (EVP_Digest(qc_code, strlen(qc_code), md, &n, EVP_sha256(), NULL) != 1)
		return 1;
	pht_hex_encode(md, 32, qc_sha);
	test_config();
	test_columns();
	if ((st = open_station()) == NULL) {
		tap_ok(0, "open the station");
		return tap_done();
	}
	test_revocations_store(st);
	test_run_cap(st);
	test_release_and_halt(st);
	test_row_access(st);
	test_queued_rechecked(&st);
	pht_station_close(st);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
