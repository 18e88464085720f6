/* test_exec.c — pht_station_exec: every refusal with its code, what the log records, the seen-ids store. */
#include "tap.h"
#include "train_envelope.h"

#include "pht_audit.h"
#include "pht_audit_archive.h"
#include "pht_buf.h"
#include "pht_file.h"
#include "pht_hash.h"
#include "pht_dataset.h"
#include "pht_dataset_source.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_key.h"
#include "pht_station_config.h"
#include "pht_station_exec.h"
#include "pht_station_redact.h"
#include "pht_station_seen.h"
#include "pht_time.h"
#include "pht_trainmsg.h"

#if PHT_TEST_SQLITE
#include <sqlite3.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/pht-exec-XXXXXX";
static char csv[1024], dict[1024];

static const char *mean_code =
    "return { name = 'mean', version = '1',\n"
    "  station = function(data, params, round)\n"
    "    local c = data:column(params.column)\n"
    "    return { n = c:count(), sum = c:sum() }\n"
    "  end,\n"
    "  combine = function(r) return { done = true, result = r[1] } end }\n";

static const char *loop_code =
    "return { name = 'loop', version = '1',\n"
    "  station = function() local i = 0 while true do i = i + 1 end end,\n"
    "  combine = function(r) return { done = true, result = r[1] } end }\n";

/* A config text for the station in dir with extra policy/datasets. */
static struct pht_station_config *
config(const char *datasets, const char *policy)
{
	struct pht_station_config *cfg = NULL;
	struct pht_err e;
	char text[4096];

	snprintf(text, sizeof(text),
	    "{\"station\":\"st-a\",\"datasets\":%s,"
	    "\"signers\":[{\"name\":\"analyst\",\"key\":\"analyst.sign.pub\",\"mode\":\"auto\"},"
	    "{\"name\":\"visitor\",\"key\":\"visitor.sign.pub\",\"mode\":\"review\"}],"
	    "\"policy\":%s,\"audit_log\":\"audit.log\",\"key\":\"st-a.sign.key\","
	    "\"seen_ids\":\"seen-ids\"}", datasets, policy);
	if (pht_station_config_parse(text, strlen(text), "test.json", dir, &cfg, &e) != PHT_OK) {
		tap_diag("config: %s", e.msg);
		return NULL;
	}
	return cfg;
}

/* A signed envelope of a train; times relative to now. Caller frees. */
static char *
envelope(const char *signer, const char *code, const char *params, const char *ds,
    const char *station, int64_t issued, int64_t expires, size_t *len)
{
	char path[1100];

	snprintf(path, sizeof(path), "%s/%s.sign.key", dir, signer);
	return test_train_envelope(path, code, params, ds, station, issued, expires, len);
}

/* The last entry of the log (new reference). */
struct last {
	json_t *e;
};

static int
last_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct last *l = arg;

	(void)line;
	(void)hash;
	json_decref(l->e);
	l->e = json_incref((json_t *)entry);
	return 0;
}

static const char *
last_str(const char *field)
{
	static char buf[512];
	struct last l = {NULL};
	char path[1100];
	const char *s;

	snprintf(path, sizeof(path), "%s/audit.log", dir);
	buf[0] = '\0';
	if (pht_audit_foreach(path, last_fn, &l, NULL) == PHT_OK && l.e != NULL &&
	    (s = json_string_value(json_object_get(l.e, field))) != NULL)
		snprintf(buf, sizeof(buf), "%s", s);
	json_decref(l.e);
	return buf;
}

/* The last entry of the log with this event (new reference), or NULL. */
struct last_of {
	const char *event;
	json_t *e;
};

static int
last_of_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct last_of *l = arg;
	const char *ev = json_string_value(json_object_get(entry, "event"));

	(void)line;
	(void)hash;
	if (ev != NULL && strcmp(ev, l->event) == 0) {
		json_decref(l->e);
		l->e = json_incref((json_t *)entry);
	}
	return 0;
}

static json_t *
last_of(const char *event)
{
	struct last_of l = {event, NULL};
	char path[1100];

	snprintf(path, sizeof(path), "%s/audit.log", dir);
	if (pht_audit_foreach(path, last_of_fn, &l, NULL) != PHT_OK) {
		json_decref(l.e);
		return NULL;
	}
	return l.e;
}

/* Runs one envelope and checks outcome, error code and the logged event. */
static void
expect(struct pht_station *st, char *env, const size_t *len, enum pht_station_outcome outcome,
    int code, const char *detail, const char *event, const char *what)
{
	struct pht_station_result res;
	struct pht_err e;
	int r;

	pht_err_clear(&e);
	r = pht_station_exec(st, env, *len, &res, &e);
	if (!tap_ok(r == PHT_OK && res.outcome == outcome && e.code == code &&
	    strstr(e.msg, detail) != NULL && strcmp(last_str("event"), event) == 0 &&
	    (outcome == PHT_STATION_RELEASED) == (res.output != NULL), "%s", what))
		tap_diag("r=%d outcome=%s code=%d msg=%s event=%s", r,
		    pht_station_outcome_name(res.outcome), e.code, e.msg, last_str("event"));
	pht_station_result_clear(&res);
	free(env);
}

/* What the analyst would be told about one train (pht_station_answer). */
struct told {
	enum pht_station_outcome outcome;
	int data_dependent;
	uint64_t entries;               /* audit entries the run added */
	char status[32], error[64], reason[1024];
	char logged[512];               /* reason of the outcome entry in the log */
	int logged_dd;                  /* its "data_dependent" */
};

static void
tell(struct pht_station *st, char *env, const size_t *len, struct told *t)
{
	struct pht_station_result res;
	struct pht_err e;
	const char *status = "", *error = "";
	uint64_t before;

	memset(t, 0, sizeof(*t));
	{
		struct pht_audit_head h;
		char path[1100];
		snprintf(path, sizeof(path), "%s/audit.log", dir);
		before = pht_audit_read_head(path, &h, NULL) == PHT_OK ? h.seq : 0;
	}
	pht_err_clear(&e);
	if (pht_station_exec(st, env, *len, &res, &e) != PHT_OK) {
		tap_diag("station error: %s", e.msg);
		free(env);
		return;
	}
	pht_station_answer(&res, PHT_OK, &e, &status, &error, t->reason,
	    sizeof(t->reason));
	snprintf(t->status, sizeof(t->status), "%s", status);
	snprintf(t->error, sizeof(t->error), "%s", error);
	t->outcome = res.outcome;
	t->data_dependent = res.data_dependent;
	t->entries = res.head.seq - before;
	snprintf(t->logged, sizeof(t->logged), "%s", last_str("reason"));
	{
		struct last l = {NULL};
		char path[1100];
		snprintf(path, sizeof(path), "%s/audit.log", dir);
		if (pht_audit_foreach(path, last_fn, &l, NULL) == PHT_OK && l.e != NULL)
			t->logged_dd = json_is_true(json_object_get(l.e, "data_dependent"));
		json_decref(l.e);
	}
	pht_station_result_clear(&res);
	free(env);
}

static const char *
train_code(const char *body)
{
	static char code[2048];

	snprintf(code, sizeof(code), "return { name = 'x', version = '1',\n"
	    "  station = function(data, params, round)\n%s\n  end,\n"
	    "  combine = function(r) return { done = true, result = r[1] } end }\n", body);
	return code;
}

/*
 * Failures that may depend on data values all look the same to the
 * analyst; the audit log keeps each one's detail. Failures that depend
 * only on public metadata stay precise.
 */
static void
test_one_answer(const char *dsj)
{
	static const struct {
		const char *what, *body, *logged;
		enum pht_station_outcome outcome;
	} dd[] = {
		{"the memory cap, hit after reading data",
		    "    local s = data:column('age'):sum()\n"
		    "    local t = {} for i = 1, 100000000 do t[i] = s + i end\n"
		    "    return { n = #t }", "memory cap", PHT_STATION_FAILED},
		{"a train error after reading data",
		    "    local s = data:column('age'):sum()\n"
		    "    error('the sum is ' .. s)", "the sum is ", PHT_STATION_FAILED},
		{"a subset smaller than k (the two oldest patients)",
		    "    return { s = data:where('age', '>', 85):column('age'):sum() }",
		    "smaller than k", PHT_STATION_FAILED},
		{"an output check failing on a value computed from data",
		    "    local s = data:column('age'):sum()\n"
		    "    return { label = 'the sum is ' .. s }", "exceeds the cap of 8",
		    PHT_STATION_WITHHELD},
	};
	struct pht_station_config *cfg;
	struct pht_station *st = NULL;
	struct told t[4], m;
	size_t len, i;
	int same = 1;

	cfg = config(dsj, "{\"k\":5,\"output\":{\"max_string\":8},"
	    "\"limits\":{\"instructions\":2000000000,\"memory_mb\":16,"
	    "\"time_seconds\":3}}");
	if (pht_station_open(cfg, &st, NULL) != PHT_OK) {
		tap_ok(0, "open the station for the answers");
		return;
	}
	for (i = 0; i < 4; i++) {
		tell(st, envelope("analyst", train_code(dd[i].body), "{}", "registry", "st-a",
		    0, 3600, &len), &len, &t[i]);
		tap_ok(t[i].outcome == dd[i].outcome && t[i].data_dependent == 1 &&
		    t[i].logged_dd == 1 && strstr(t[i].logged, dd[i].logged) != NULL,
		    "%s: %s, data-dependent; the audit log keeps \"%s\" (%s)", dd[i].what,
		    pht_station_outcome_name(t[i].outcome), dd[i].logged, t[i].logged);
		if (i > 0 && (strcmp(t[i].status, t[0].status) != 0 ||
		    strcmp(t[i].error, t[0].error) != 0 ||
		    strcmp(t[i].reason, t[0].reason) != 0 || t[i].entries != t[0].entries)) {
			tap_diag("%s: told %s / %s / %s after %llu entries", dd[i].what,
			    t[i].status, t[i].error, t[i].reason,
			    (unsigned long long)t[i].entries);
			same = 0;
		}
	}
	tap_diag("told: %s / %s / %s", t[0].status, t[0].error, t[0].reason);
	tap_ok(same, "the analyst is told the same status, error and reason, byte for "
	    "byte, and the log head moves by the same number of entries, for all four");
	tap_ok(strcmp(t[0].status, "failed") == 0 && strstr(t[0].reason, "memory") == NULL &&
	    strstr(t[0].reason, "train") == NULL && strstr(t[0].reason, "seq") == NULL,
	    "  \"failed\", with no category and no audit reference");

	/* public metadata only: told precisely */
	tell(st, envelope("analyst", train_code(
	    "    local c = data:column('nope')\n    return { n = c:count() }"), "{}",
	    "registry", "st-a", 0, 3600, &len), &len, &m);
	tap_ok(m.outcome == PHT_STATION_FAILED && m.data_dependent == 0 && m.logged_dd == 0 &&
	    strstr(m.reason, "train error") != NULL &&
	    strstr(m.reason, "no column 'nope' in dataset registry") != NULL &&
	    strcmp(m.error, "train error") == 0,
	    "a column not in the published dictionary, before any data: told precisely (%s)",
	    m.reason);
	tell(st, envelope("analyst", train_code(
	    "    if type(params.column) ~= 'string' then error('param column: give a column name') end\n"
	    "    return { n = data:column(params.column):count() }"), "{\"column\":7}",
	    "registry", "st-a", 0, 3600, &len), &len, &m);
	tap_ok(m.data_dependent == 0 && strstr(m.reason, "param column: give a column name") != NULL,
	    "a bad param checked before any aggregate: told precisely (%s)", m.reason);
	tell(st, envelope("analyst", "return { name = 'x', version = '1', station = function(",
	    "{}", "registry", "st-a", 0, 3600, &len), &len, &m);
	tap_ok(m.outcome == PHT_STATION_FAILED && m.data_dependent == 0 &&
	    strstr(m.reason, "train error") != NULL && strstr(m.reason, "near") != NULL,
	    "a syntax error: told precisely (%s)", m.reason);
	tell(st, envelope("analyst", train_code(
	    "    local i = 0 while true do i = i + 1 end"), "{}", "registry", "st-a", 0, 3600,
	    &len), &len, &m);
	tap_ok(m.data_dependent == 1 && strcmp(m.reason, t[0].reason) == 0,
	    "a run killed before it could report (wall clock): assumed data-dependent");

	/* an auto signer at a station without permits: never row access */
	{
		struct pht_station_result res;
		struct pht_err e;
		char *env = envelope("analyst", train_code(
		    "    local ok = pcall(function() return data:column('age'):values() end)\n"
		    "    return { rows = ok }"), "{}", "registry", "st-a", 0, 3600, &len);
		json_t *x;

		tap_ok(pht_station_exec(st, env, len, &res, &e) == PHT_OK &&
		    res.outcome == PHT_STATION_RELEASED && res.row_access == 0 &&
		    json_is_false(json_object_get(res.output, "rows")),
		    "an auto signer without a permit: col:values() refused");
		x = last_of("executed");
		tap_ok(x != NULL && json_object_get(x, "row_access") == NULL,
		    "  and its executed entry has no row_access");
		json_decref(x);
		pht_station_result_clear(&res);
		free(env);
	}
	pht_station_close(st);
}

/* The text of dir/name, or "" (static, cut at 1 MiB). */
static const char *
slurp(const char *name)
{
	static struct pht_buf *b;
	char path[1200];

	pht_buf_free(b);
	b = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (pht_file_read(path, 1 << 20, &b, NULL) != PHT_OK)
		return "";
	return pht_buf_str(b);
}

/*
 * An auditor's bundle leaves out the entries of data-dependent failures
 * (hash and signature stay, the chain still verifies) unless the station
 * asks for the detail.
 */
static void
test_export(void)
{
	struct pht_audit_export_spec spec;
	struct pht_audit_bundle_report rep;
	struct pht_key *pub = NULL;
	struct pht_err e;
	const char *logs[1];
	char lp[1100], kp[1100], b1[1100], b2[1100], *text;
	const char *detail[] = {"the sum is", "memory cap", "smaller than k",
	    "exceeds the cap of 8", NULL};
	uint64_t count = 0;
	size_t i;
	int leaked = 0, kept = 1, r;

	snprintf(lp, sizeof(lp), "%s/audit.log", dir);
	snprintf(kp, sizeof(kp), "%s/st-a.sign.pub", dir);
	snprintf(b1, sizeof(b1), "%s/bundle-default", dir);
	snprintf(b2, sizeof(b2), "%s/bundle-detail", dir);
	if (pht_key_load(kp, &pub, NULL) != PHT_OK) {
		tap_ok(0, "load the station's public key");
		return;
	}
	logs[0] = lp;
	memset(&spec, 0, sizeof(spec));
	spec.logs = logs;
	spec.nlogs = 1;
	spec.station_pub = pub;
	spec.from = 0;
	spec.to = pht_time_now() + 86400;
	spec.out_dir = b1;
	r = pht_audit_export(&spec, &count, &e);
	if (r == PHT_OK)
		r = pht_audit_bundle_verify(b1, pub, &rep, &e);
	/* 5 data-dependent failures above, each an executed and an outcome entry */
	tap_ok(r == PHT_OK && rep.entries == count && rep.left_out >= 10,
	    "a bundle by default: verifies, %llu of %llu entries left out",
	    (unsigned long long)rep.left_out, (unsigned long long)count);
	text = strdup(slurp("bundle-default/entries.log"));
	for (i = 0; detail[i] != NULL; i++)
		if (strstr(text, detail[i]) != NULL) {
			tap_diag("the default bundle holds \"%s\"", detail[i]);
			leaked = 1;
		}
	tap_ok(!leaked && strstr(text, "\"left_out\":{\"prev\":") != NULL &&
	    strstr(text, "\"data_dependent\"") == NULL &&
	    strstr(text, "\"event\":\"received\"") != NULL &&
	    strstr(text, "no column 'nope'") != NULL,
	    "  no data-dependent detail in it; received entries and a metadata error stay");
	tap_ok(strstr(slurp("bundle-default/bundle.json"), "\"data_detail\": false") != NULL,
	    "  bundle.json says data_detail false");

	spec.out_dir = b2;
	spec.data_detail = 1;
	r = pht_audit_export(&spec, &count, &e);
	if (r == PHT_OK)
		r = pht_audit_bundle_verify(b2, pub, &rep, &e);
	tap_ok(r == PHT_OK && rep.left_out == 0,
	    "with data detail asked for: verifies, nothing left out");
	for (i = 0; detail[i] != NULL; i++)
		kept &= strstr(slurp("bundle-detail/entries.log"), detail[i]) != NULL;
	tap_ok(kept, "  and holds the detail of every failure");

	/* a left-out line is bound by its signature and the chain */
	{
		char *p = strstr(text, "\"left_out\":{\"prev\":\""), *bj, *q;
		char path[1200], sha_old[65], sha_new[65];

		/* the prev of a left-out line changed, entries_sha256 made to match */
		(void)pht_sha256_hex(text, strlen(text), sha_old, NULL);
		p += strlen("\"left_out\":{\"prev\":\"");
		p[0] = p[0] == 'a' ? 'b' : 'a';
		(void)pht_sha256_hex(text, strlen(text), sha_new, NULL);
		snprintf(path, sizeof(path), "%s/entries.log", b1);
		pht_file_write_atomic(path, text, strlen(text), 0600, NULL);
		bj = strdup(slurp("bundle-default/bundle.json"));
		if ((q = strstr(bj, sha_old)) != NULL)
			memcpy(q, sha_new, 64);
		snprintf(path, sizeof(path), "%s/bundle.json", b1);
		pht_file_write_atomic(path, bj, strlen(bj), 0600, NULL);
		free(bj);
		r = pht_audit_bundle_verify(b1, pub, &rep, &e);
		tap_ok(q != NULL && r == PHT_ERR_TAMPERED,
		    "a changed prev in a left-out line breaks the chain (%s)", e.msg);
	}
	free(text);
	pht_key_free(pub);
}

static void
test_seen(void)
{
	char path[1100], *d;
	struct pht_err e;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/seen-test", dir);
	tap_ok(pht_station_seen_has(path, "abc", NULL) == 0, "seen: missing store has nothing");
	tap_ok(pht_station_seen_add(path, "abc", &e) == PHT_OK, "seen: add");
	tap_ok(pht_station_seen_has(path, "abc", NULL) == 1 &&
	    pht_station_seen_has(path, "ab", NULL) == 0, "seen: has the id, not its prefix");
	pht_err_clear(&e);
	tap_ok(pht_station_seen_add(path, "abc", &e) == PHT_ERR_REPLAY &&
	    strcmp(e.msg, "train abc was seen before") == 0, "seen: second add is a replay");
	pht_err_clear(&e);
	tap_ok(pht_station_seen_add(path, "a/b", &e) == PHT_ERR_INVALID &&
	    strstr(e.msg, "bad train id") != NULL, "seen: bad id refused");
	tap_ok(pht_station_seen_add(path, "", &e) == PHT_ERR_INVALID, "seen: empty id refused");
	/* a crash left "de" of "def" without its newline */
	f = fopen(path, "a");
	fputs("de", f);
	fclose(f);
	tap_ok(pht_station_seen_has(path, "de", NULL) == 0,
	    "seen: an unconfirmed partial line does not count");
	tap_ok(pht_station_seen_add(path, "def", &e) == PHT_OK, "seen: add after a torn line");
	f = fopen(path, "r");
	d = calloc(1, 64);
	n = fread(d, 1, 63, f);
	fclose(f);
	tap_ok(n == 11 && strcmp(d, "abc\nde\ndef\n") == 0, "seen: torn line closed off first");
	free(d);
	pht_err_clear(&e);
	tap_ok(pht_station_seen_add("/nonexistent/pht/seen", "abc", &e) == PHT_ERR_IO &&
	    strstr(e.msg, "/nonexistent/pht/seen") != NULL, "seen: unwritable store: IO");
	unlink(path);
}

#if PHT_TEST_SQLITE
/*
 * The station on an SQLite dataset: the registry's cells copied as text
 * into a table, read back by a query; the same train gives the same
 * output as on the CSV, and the executed entry records the result's hash.
 */
static void
test_sqlite_dataset(double want_sum, size_t want_n)
{
	struct pht_dataset_source *src = NULL;
	struct pht_dataset_cells *cells = NULL;
	struct pht_station_config *cfg;
	struct pht_station *st = NULL;
	struct pht_station_result res;
	struct pht_err e;
	char db[1100], sql[4096], dsj[4096], *env;
	sqlite3 *h = NULL;
	sqlite3_stmt *ins = NULL;
	size_t i, k, o, len;

	snprintf(db, sizeof(db), "%s/registry.db", dir);
	pht_err_clear(&e);
	if (!tap_ok(pht_dataset_source_csv_new(csv, dict, &src, &e) == PHT_OK &&
	    pht_dataset_source_cells(src, 0, &cells, &e) == PHT_OK &&
	    sqlite3_open(db, &h) == SQLITE_OK, "sqlite: the registry's cells (%s)",
	    e.msg))
		goto out;
	o = (size_t)snprintf(sql, sizeof(sql), "CREATE TABLE registry (");
	for (k = 0; k < cells->ncols && o < sizeof(sql); k++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s\"%s\" TEXT",
		    k ? ", " : "", cells->names[k]);
	snprintf(sql + o, sizeof(sql) - o, ")");
	tap_ok(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK, "sqlite: a table");
	o = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO registry VALUES (");
	for (k = 0; k < cells->ncols; k++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s?", k ? ", " : "");
	snprintf(sql + o, sizeof(sql) - o, ")");
	sqlite3_prepare_v2(h, sql, -1, &ins, NULL);
	for (i = 0; ins != NULL && i < cells->nrows; i++) {
		for (k = 0; k < cells->ncols; k++)
			sqlite3_bind_text(ins, (int)k + 1, cells->cells[i * cells->ncols + k],
			    -1, SQLITE_STATIC);
		sqlite3_step(ins);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	sqlite3_close(h);
	snprintf(dsj, sizeof(dsj), "{\"registry\":{\"sqlite\":\"%s\",\"dict\":\"%s\","
	    "\"query\":\"SELECT * FROM registry ORDER BY rowid\"}}", db, dict);
	cfg = config(dsj, "{\"k\":5}");
	pht_err_clear(&e);
	if (!tap_ok(cfg != NULL && pht_station_open(cfg, &st, &e) == PHT_OK,
	    "sqlite: the station opens (%s)", e.msg))
		goto out;
	env = envelope("analyst", mean_code, "{\"column\":\"age\"}", "registry", "st-a",
	    0, 3600, &len);
	pht_err_clear(&e);
	tap_ok(pht_station_exec(st, env, len, &res, &e) == PHT_OK &&
	    res.outcome == PHT_STATION_RELEASED && res.output != NULL &&
	    json_integer_value(json_object_get(res.output, "n")) == (json_int_t)want_n &&
	    json_number_value(json_object_get(res.output, "sum")) == want_sum,
	    "sqlite: the train's output equals the CSV's (%s)", e.msg);
	pht_station_result_clear(&res);
	free(env);
	pht_station_close(st);
out:
	pht_dataset_source_cells_free(cells);
	pht_dataset_source_free(src);
	unlink(db);
}
#endif

int
main(void)
{
	struct pht_station_config *cfg;
	struct pht_station *st = NULL;
	struct pht_station_result res;
	struct pht_dataset *ds = NULL;
	struct pht_err e;
	const char *src = getenv("PHT_SRC");
	char path[1100], moved[1100], dsj[4096], cmd[1200], *env, *bad;
	const char *names[] = {"st-a", "analyst", "visitor", "stranger"};
	double want_sum = 0;
	size_t len, i;
	int r;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(csv, sizeof(csv), "%s/tests/data/station/registry.csv", src ? src : ".");
	snprintf(dict, sizeof(dict), "%s/tests/data/station/registry.dict.json", src ? src : ".");
	for (i = 0; i < 4; i++)
		if (pht_key_generate_files(dir, names[i], NULL, NULL, NULL) != PHT_OK)
			return 1;
	test_seen();

	/* the expected answer, from the dataset loaded here */
	tap_ok(pht_dataset_load(csv, dict, NULL, &ds, &e) == PHT_OK, "load the test dataset");
	for (i = 0; i < pht_dataset_nrows(ds); i++)
		want_sum += (double)pht_dataset_find(ds, "age")->v.i64[i];

	/* opening: every file the station needs */
	snprintf(dsj, sizeof(dsj), "{\"registry\":{\"csv\":\"%s\",\"dict\":\"%s\"}}", csv, dict);
	cfg = config(dsj, "{}");
	snprintf(path, sizeof(path), "%s/st-a.sign.key", dir);
	snprintf(moved, sizeof(moved), "%s/moved-key", dir);
	rename(path, moved);
	pht_err_clear(&e);
	tap_ok(pht_station_open(cfg, &st, &e) == PHT_ERR_IO && st == NULL &&
	    strstr(e.msg, "station key") != NULL && strstr(e.msg, "st-a.sign.key") != NULL,
	    "open without the station key: IO naming it (%s)", e.msg);
	rename(moved, path);
	{
		char text[4096];
		snprintf(text, sizeof(text), "{\"station\":\"st-a\",\"datasets\":%s,"
		    "\"signers\":[{\"name\":\"analyst\",\"key\":\"analyst.sign.key\",\"mode\":\"auto\"}],"
		    "\"audit_log\":\"audit.log\",\"key\":\"st-a.sign.key\",\"seen_ids\":\"seen-ids\"}",
		    dsj);
		cfg = NULL;
		pht_station_config_parse(text, strlen(text), "test.json", dir, &cfg, NULL);
		pht_err_clear(&e);
		tap_ok(pht_station_open(cfg, &st, &e) == PHT_ERR_INVALID &&
		    strstr(e.msg, "signer analyst") != NULL, "a private key as a signer's key is refused (%s)", e.msg);
	}

	cfg = config(dsj, "{\"k\":5,\"output\":{\"max_string\":8},"
	    "\"limits\":{\"instructions\":1000000,\"time_seconds\":10}}");
	tap_ok(pht_station_open(cfg, &st, &e) == PHT_OK, "open the station");

	/* the good path */
	env = envelope("analyst", mean_code, "{\"column\":\"age\"}", "registry", "st-a",
	    0, 3600, &len);
	pht_err_clear(&e);
	r = pht_station_exec(st, env, len, &res, &e);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_RELEASED && res.output != NULL,
	    "a good train is released");
	tap_ok(json_integer_value(json_object_get(res.output, "n")) ==
	    (json_int_t)pht_dataset_nrows(ds) &&
	    json_number_value(json_object_get(res.output, "sum")) == want_sum,
	    "its output equals the sum computed here");
	tap_ok(res.head.seq == 3 && strcmp(last_str("event"), "released") == 0 &&
	    strlen(res.output_sha256) == 64, "received, executed, released logged");
	tap_ok(strcmp(last_str("train"), res.train) == 0, "the log names the train");
	pht_station_result_clear(&res);
	/* the same envelope again */
	expect(st, env, &len, PHT_STATION_REJECTED, PHT_ERR_REPLAY, "was seen before",
	    "rejected", "a replay is rejected and logged");

	expect(st, envelope("analyst", mean_code, "{\"column\":\"age\"}", "registry", "st-a",
	    -7200, -3600, &len), &len, PHT_STATION_REJECTED, PHT_ERR_EXPIRED, "expired",
	    "rejected", "an expired train is rejected");
	tap_ok(strlen(last_str("train")) == 32, "...with its id in the log");
	expect(st, envelope("analyst", mean_code, "{\"column\":\"age\"}", "registry", "st-a",
	    3600, 7200, &len), &len, PHT_STATION_REJECTED, PHT_ERR_NOT_YET_VALID, "",
	    "rejected", "a train issued in the future is rejected");
	expect(st, envelope("stranger", mean_code, "{\"column\":\"age\"}", "registry", "st-a",
	    0, 3600, &len), &len, PHT_STATION_REJECTED, PHT_ERR_UNKNOWN_SIGNER, "unknown signer",
	    "rejected", "an unknown signer is rejected");
	tap_ok(last_str("train")[0] == '\0' && strlen(last_str("envelope_sha256")) == 64 &&
	    strlen(last_str("signer")) == 64, "...logged with envelope hash and claimed signer");
	env = envelope("analyst", mean_code, "{\"column\":\"age\"}", "registry", "st-a",
	    0, 3600, &len);
	env[40] = env[40] == 'A' ? 'B' : 'A';
	expect(st, env, &len, PHT_STATION_REJECTED, PHT_ERR_BAD_SIGNATURE, "bad signature",
	    "rejected", "a changed payload byte: bad signature");
	bad = strdup("{\"v\":1}");
	len = strlen(bad);
	expect(st, bad, &len, PHT_STATION_REJECTED, PHT_ERR_MALFORMED,
	    "envelope", "rejected", "a malformed envelope is rejected");
	{
		/* a payload whose code hash lies, signed by a trusted key */
		struct pht_key *key = NULL;
		struct pht_trainmsg_spec spec;
		const char *stv[1] = {"st-a"};
		char *payload = NULL, *p;
		size_t plen;

		memset(&spec, 0, sizeof(spec));
		spec.code = mean_code;
		spec.code_len = strlen(mean_code);
		spec.stations = stv;
		spec.n_stations = 1;
		spec.round = 1;
		spec.issued = pht_time_now();
		spec.expires = spec.issued + 3600;
		snprintf(path, sizeof(path), "%s/analyst.sign.key", dir);
		pht_key_load(path, &key, NULL);
		pht_trainmsg_build(&spec, &payload, &plen, NULL);
		p = strstr(payload, "\"code_sha256\":\"") + 15;
		p[0] = p[0] == '0' ? '1' : '0';
		pht_envelope_sign(key, (uint8_t *)payload, plen, &env, &len, NULL);
		expect(st, env, &len, PHT_STATION_REJECTED, PHT_ERR_HASH_MISMATCH, "hash",
		    "rejected", "a code hash mismatch is rejected");
		free(payload);
		pht_key_free(key);
	}
	expect(st, envelope("analyst", mean_code, "{\"column\":\"age\"}", "registry", "st-b",
	    0, 3600, &len), &len, PHT_STATION_REJECTED, PHT_ERR_POLICY,
	    "station st-a is not among the train's targets", "rejected",
	    "a train for another station is rejected");
	expect(st, envelope("analyst", mean_code, "{\"column\":\"age\"}", NULL, NULL,
	    0, 3600, &len), &len, PHT_STATION_REJECTED, PHT_ERR_POLICY,
	    "not among the train's targets", "rejected",
	    "a train naming no station is rejected");
	expect(st, envelope("analyst", mean_code, "{\"column\":\"age\"}", "other", "st-a",
	    0, 3600, &len), &len, PHT_STATION_REJECTED, PHT_ERR_POLICY,
	    "none of the train's datasets (other) is held at station st-a", "rejected",
	    "a train for a dataset not held here is rejected");
	expect(st, envelope("analyst", mean_code, "{\"column\":\"age\"}", NULL, "st-a",
	    0, 3600, &len), &len, PHT_STATION_RELEASED, PHT_OK, "", "released",
	    "a train naming no dataset runs on the only one");
	expect(st, envelope("visitor", mean_code, "{\"column\":\"age\"}", "registry", "st-a",
	    0, 3600, &len), &len, PHT_STATION_QUEUED, PHT_OK, "signer visitor is marked review",
	    "queued", "a review signer's train is queued");
	tap_ok(strcmp(last_str("name"), "mean") == 0, "...and the queued entry names it");
	expect(st, envelope("analyst", loop_code, "{}", "registry", "st-a", 0, 3600, &len), &len,
	    PHT_STATION_FAILED, PHT_ERR_LIMIT, "instruction", "failed",
	    "an endless loop fails on the policy's instruction budget");
	{
		json_t *x = last_of("executed");
		tap_ok(strcmp(last_str("error"), "limit exceeded") == 0 && x != NULL &&
		    strlen(json_string_value(json_object_get(x, "csv_sha256"))) == 64,
		    "...logged with its error, after an executed entry with the data hashes");
		json_decref(x);
	}
	expect(st, envelope("analyst", mean_code, "{\"column\":\"nope\"}", "registry", "st-a",
	    0, 3600, &len), &len, PHT_STATION_FAILED, PHT_ERR_TRAIN, "nope", "failed",
	    "a train error fails with its message");
	expect(st, envelope("analyst",
	    "return { name = 'w', version = '1',\n"
	    "  station = function() return { label = 'a long label' } end,\n"
	    "  combine = function(r) return { done = true, result = r[1] } end }\n",
	    "{}", "registry", "st-a", 0, 3600, &len), &len, PHT_STATION_WITHHELD, PHT_ERR_DISCLOSURE,
	    "output $.label: string of 12 bytes exceeds the cap of 8", "withheld",
	    "an output over the policy's string cap is withheld");
	expect(st, envelope("analyst", mean_code, "{\"column\":\"age\"}", "registry", "st-a",
	    0, 3600, &len), &len, PHT_STATION_RELEASED, PHT_OK, "", "released",
	    "the station still works after every refusal");

	/* the log breaks under the station's feet: nothing is released */
	{
		FILE *f;
		snprintf(path, sizeof(path), "%s/audit.log", dir);
		f = fopen(path, "a");
		fputs("{\"hash\":\"forged\"}\n", f);
		fclose(f);
		env = envelope("analyst", mean_code, "{\"column\":\"age\"}", "registry", "st-a",
		    0, 3600, &len);
		pht_err_clear(&e);
		r = pht_station_exec(st, env, len, &res, &e);
		tap_ok(r == PHT_ERR_TAMPERED && res.output == NULL &&
		    strstr(e.msg, "malformed line") != NULL,
		    "a log broken by someone else stops the station (%s)", e.msg);
		pht_station_result_clear(&res);
		free(env);
	}
	pht_station_close(st);
	st = NULL;
	cfg = config(dsj, "{}");
	pht_err_clear(&e);
	tap_ok(pht_station_open(cfg, &st, &e) == PHT_ERR_TAMPERED && st == NULL,
	    "and it will not open again until the log is dealt with");

	/* two datasets: a train must say which; a dataset that fails to load */
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	unlink(path);
	snprintf(dsj, sizeof(dsj), "{\"registry\":{\"csv\":\"%s\",\"dict\":\"%s\"},"
	    "\"gone\":{\"csv\":\"gone.csv\"}}", csv, dict);
	cfg = config(dsj, "{}");
	tap_ok(pht_station_open(cfg, &st, &e) == PHT_OK, "a station with two datasets");
	expect(st, envelope("analyst", mean_code, "{\"column\":\"age\"}", NULL, "st-a",
	    0, 3600, &len), &len, PHT_STATION_REJECTED, PHT_ERR_POLICY,
	    "the train names no dataset and this station holds 2", "rejected",
	    "naming no dataset at a station with two is rejected");
	expect(st, envelope("analyst", mean_code, "{\"column\":\"age\"}", "gone", "st-a",
	    0, 3600, &len), &len, PHT_STATION_FAILED, PHT_ERR_IO, "dataset gone", "failed",
	    "a dataset that does not load fails the train, logged");
	pht_station_close(st);
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	unlink(path);
	snprintf(dsj, sizeof(dsj), "{\"registry\":{\"csv\":\"%s\",\"dict\":\"%s\"}}", csv, dict);
	test_one_answer(dsj);
	test_export();
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	unlink(path);
#if PHT_TEST_SQLITE
	test_sqlite_dataset(want_sum, pht_dataset_nrows(ds));
#endif

	pht_dataset_free(ds);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
