/* test_diff.c — differencing protection, query budgets and output rounding: the released-rows store alone and through pht_station_exec. */
#include "tap.h"
#include "train_envelope.h"

#include "pht_audit.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_key.h"
#include "pht_station_config.h"
#include "pht_station_diff.h"
#include "pht_station_exec.h"
#include "pht_station_round.h"
#include "pht_time.h"
#include "pht_train_rowsets.h"
#include "pht_dataset.h"
#include "pht_trainmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NPAT 40

static char dir[] = "/tmp/pht-diff-XXXXXX";
static int ages[NPAT + 1];

/* count.lua-like trains: counts of views chosen by the analyst's params. */
static const char *count_code =
    "return { name = 'count', version = '1',\n"
    "  station = function(data, params)\n"
    "    local v = data\n"
    "    if params.col then v = data:where(params.col, params.op, params.value) end\n"
    "    return { count = v:nrows() }\n"
    "  end,\n"
    "  combine = function(r) return { done = true, result = r[1] } end }\n";

static const char *both_code =
    "return { name = 'both', version = '1',\n"
    "  station = function(data, params)\n"
    "    return { all = data:nrows(),\n"
    "             rest = data:where('patient_id', '~=', params.id):nrows() }\n"
    "  end,\n"
    "  combine = function(r) return { done = true, result = r[1] } end }\n";

static const char *groups_code =
    "return { name = 'groups', version = '1',\n"
    "  station = function(data)\n"
    "    local out = {}\n"
    "    for _, g in ipairs(data:group_by('sex')) do\n"
    "      out[#out + 1] = { key = g.key, n = g.n, mean = g.data:column('age'):mean() }\n"
    "    end\n"
    "    return { groups = out }\n"
    "  end,\n"
    "  combine = function(r) return { done = true, result = r[1] } end }\n";

/* The station's data: patient_id 1..40, age, sex alternating F/M. */
static int
write_data(void)
{
	char path[1100];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/reg.csv", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "patient_id,age,sex\n");
	for (i = 1; i <= NPAT; i++) {
		ages[i] = 20 + (i * 37) % 61;
		fprintf(f, "%d,%d,%s\n", i, ages[i], i % 2 ? "F" : "M");
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/reg.dict.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "{\"dataset\":\"reg\",\"description\":\"diff test\",\"columns\":["
	    "{\"name\":\"patient_id\",\"type\":\"integer\"},"
	    "{\"name\":\"age\",\"type\":\"integer\"},"
	    "{\"name\":\"sex\",\"type\":\"category\",\"levels\":[\"F\",\"M\"]}]}");
	fclose(f);
	return 0;
}

/* A station whose files all start with prefix, with the given policy. */
static struct pht_station *
station(const char *prefix, const char *policy)
{
	struct pht_station_config *cfg = NULL;
	struct pht_station *st = NULL;
	struct pht_err e;
	char text[4096];

	snprintf(text, sizeof(text),
	    "{\"station\":\"st-a\",\"datasets\":{\"reg\":{\"csv\":\"reg.csv\"}},"
	    "\"signers\":[{\"name\":\"analyst\",\"key\":\"analyst.sign.pub\",\"mode\":\"auto\"},"
	    "{\"name\":\"other\",\"key\":\"other.sign.pub\",\"mode\":\"auto\"}],"
	    "\"policy\":%s,\"audit_log\":\"%s-audit.log\",\"key\":\"st-a.sign.key\","
	    "\"seen_ids\":\"%s-seen\"}", policy, prefix, prefix);
	if (pht_station_config_parse(text, strlen(text), "test.json", dir, &cfg, &e) != PHT_OK ||
	    pht_station_open(cfg, &st, &e) != PHT_OK) {
		tap_diag("station: %s", e.msg);
		return NULL;
	}
	return st;
}

/* A train for station st-a on dataset ds, signed by signer's key. */
static char *
envelope(const char *signer, const char *ds, const char *code, const char *params,
    size_t *len)
{
	char path[1100];

	snprintf(path, sizeof(path), "%s/%s.sign.key", dir, signer);
	return test_train_envelope(path, code, params, ds, "st-a", 0, 3600, len);
}

/* The last audit entry of the station with prefix (new reference). */
static int
last_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	json_t **l = arg;

	(void)line;
	(void)hash;
	json_decref(*l);
	*l = json_incref((json_t *)entry);
	return 0;
}

static json_t *
last_entry(const char *prefix)
{
	char path[1100];
	json_t *l = NULL;

	snprintf(path, sizeof(path), "%s/%s-audit.log", dir, prefix);
	pht_audit_foreach(path, last_fn, &l, NULL);
	return l;
}

/* Runs a train; fills res; returns the outcome. */
static enum pht_station_outcome
run(struct pht_station *st, const char *signer, const char *code, const char *params,
    struct pht_station_result *res, struct pht_err *e)
{
	char *env;
	size_t len;
	int r;

	env = envelope(signer, "reg", code, params, &len);
	pht_err_clear(e);
	r = pht_station_exec(st, env, len, res, e);
	free(env);
	return r == PHT_OK ? res->outcome : (enum pht_station_outcome)-1;
}

static size_t
lines_of(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c;

	if (f == NULL)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* ---- the store alone ---- */

static struct pht_key *skey;

/* keys of patients 1..n of dataset ds as the station keys them */
static void
patient_keys(const struct pht_station_diff *d, const char *ds, const int *pid, size_t n,
    uint64_t *keys)
{
	char t[16];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(t, sizeof(t), "%d", pid[i]);
		keys[i] = pht_station_diff_key(d, ds, t, strlen(t), 0);
	}
}

/* A list of one set over nrows rows: the rows listed, or every row but skip. */
static struct pht_train_rowsets *
one_set(uint32_t nrows, const uint32_t *rows, size_t n)
{
	struct pht_train_rowsets *rs = pht_train_rowsets_new(nrows);

	pht_train_rowsets_add(rs, rows, n, 0);
	return rs;
}

static struct pht_train_rowsets *
span_set(uint32_t nrows, uint32_t lo, uint32_t hi, int skip)
{
	uint32_t rows[256];
	size_t n = 0;
	uint32_t i;

	for (i = lo; i < hi; i++)
		if ((int)i != skip)
			rows[n++] = i;
	return one_set(nrows, rows, n);
}

static int
admit(struct pht_station_diff *d, const char *ds, const char *fp, const char *train,
    struct pht_train_rowsets *rs, const uint64_t *keys, int64_t k,
    const struct pht_station_budget *b, int64_t now, struct pht_err *e)
{
	int r;

	pht_err_clear(e);
	r = pht_station_diff_admit(d, ds, fp, train, rs, keys, k, b, now, e);
	pht_train_rowsets_free(rs);
	return r;
}

static void
test_store(void)
{
	struct pht_station_diff *d = NULL, *d2 = NULL;
	struct pht_station_budget budget = {3, 3600};
	struct pht_err e;
	uint64_t keys[64], keys2[64];
	int pid[64];
	char prefix[1100], path[1200];
	struct pht_train_rowsets *rs;
	FILE *f;
	size_t i, n;
	int64_t t0 = 1700000000;

	snprintf(prefix, sizeof(prefix), "%s/store-rows", dir);
	snprintf(path, sizeof(path), "%s.reg", prefix);
	if (pht_station_diff_open(prefix, skey, &d, &e) != PHT_OK)
		abort();
	for (i = 0; i < NPAT; i++)
		pid[i] = (int)i + 1;
	patient_keys(d, "reg", pid, NPAT, keys);

	tap_ok(admit(d, "reg", "fp-a", "t1", span_set(NPAT, 0, NPAT, -1), keys, 5, NULL, t0,
	    &e) == PHT_OK && lines_of(path) == 2,
	    "store: the first release is admitted and recorded with the data's keys (%s)", e.msg);
	tap_ok(admit(d, "reg", "fp-a", "t2", span_set(NPAT, 0, NPAT, 16), keys, 5, NULL, t0,
	    &e) == PHT_ERR_DISCLOSURE && lines_of(path) == 2 &&
	    strcmp(e.msg, "differencing: with this output the sum over a group of 1 row (fewer "
	    "than k = 5) would follow from the releases on dataset reg to all analysts; nothing "
	    "is released") == 0,
	    "store: all rows but one after all rows is refused, nothing stored (%s)", e.msg);
	rs = span_set(NPAT, 0, NPAT, -1);
	{
		uint32_t rows[NPAT];

		for (i = 0, n = 0; i < NPAT; i++)
			if (i != 16)
				rows[n++] = (uint32_t)i;
		pht_train_rowsets_add(rs, rows, n, 0);
	}
	tap_ok(admit(d, "reg2", "fp-a", "t3", rs, keys, 5, NULL, t0, &e) == PHT_ERR_DISCLOSURE,
	    "store: both in one output is refused (%s)", e.msg);
	tap_ok(admit(d, "reg", "fp-b", "t5", span_set(NPAT, 0, NPAT, 16), keys, 5, NULL, t0,
	    &e) == PHT_ERR_DISCLOSURE,
	    "store: another analyst's all but one is refused too: analysts may collude (%s)",
	    e.msg);
	tap_ok(admit(d, "k1", "fp-a", "t4", span_set(NPAT, 0, NPAT, -1), keys, 1, NULL, t0,
	    &e) == PHT_OK && admit(d, "k1", "fp-a", "t4b", span_set(NPAT, 0, NPAT, 16), keys, 1,
	    NULL, t0, &e) == PHT_OK,
	    "store: with k = 1 a difference of one row is allowed (the check can pass)");
	tap_ok(admit(d, "other", "fp-a", "t7", span_set(NPAT, 0, NPAT, 16), keys, 5, NULL, t0,
	    &e) == PHT_OK, "store: another dataset is another store");
	tap_ok(admit(d, "reg", "fp-a", "t7c", span_set(NPAT, 0, 3, -1), keys, 5, NULL, t0,
	    &e) == PHT_ERR_DISCLOSURE && strstr(e.msg, "a group of 3 rows") != NULL,
	    "store: a set of 3 rows alone is refused at once (%s)", e.msg);

	/* three sets from three analysts: S1 = {p} + A + B, S2 = A, S3 = B */
	tap_ok(admit(d, "three", "fp-a", "s1", span_set(NPAT, 0, 11, -1), keys, 5, NULL, t0,
	    &e) == PHT_OK && admit(d, "three", "fp-b", "s2", span_set(NPAT, 1, 6, -1), keys, 5,
	    NULL, t0, &e) == PHT_OK, "three sets: S1 and S2 from two analysts are released");
	tap_ok(admit(d, "three", "fp-c", "s3", span_set(NPAT, 6, 11, -1), keys, 5, NULL, t0,
	    &e) == PHT_ERR_DISCLOSURE && strstr(e.msg, "a group of 1 row") != NULL,
	    "three sets: S3 from a third analyst is refused: S1 - S2 - S3 is one patient (%s)",
	    e.msg);
	tap_ok(admit(d, "halves", "fp-c", "t8", span_set(NPAT, 0, 20, -1), keys, 5, NULL, t0,
	    &e) == PHT_OK && admit(d, "halves", "fp-c", "t8b", span_set(NPAT, 20, 40, -1), keys,
	    5, NULL, t0, &e) == PHT_OK && admit(d, "halves", "fp-c", "t9",
	    span_set(NPAT, 0, NPAT, -1), keys, 5, NULL, t0, &e) == PHT_OK,
	    "store: disjoint halves, then all rows, are admitted");

	/* the cache follows another process's appends */
	if (pht_station_diff_open(prefix, skey, &d2, &e) != PHT_OK)
		abort();
	tap_ok(admit(d2, "reg", "fp-d", "t2b", span_set(NPAT, 0, NPAT, 16), keys, 5, NULL, t0,
	    &e) == PHT_ERR_DISCLOSURE, "store: a second auditor (another process) reads the "
	    "first's releases");
	tap_ok(admit(d2, "reg", "fp-d", "t2c", span_set(NPAT, 0, 20, -1), keys, 5, NULL, t0,
	    &e) == PHT_OK && admit(d, "reg", "fp-d", "t2d", span_set(NPAT, 0, 19, -1), keys, 5,
	    NULL, t0, &e) == PHT_ERR_DISCLOSURE,
	    "store: and the first sees the second's new release (%s)", e.msg);

	/* rows keep their identity across a data update */
	{
		int pid2[64];
		uint32_t r19[20];

		/* v2: the same 40 patients interleaved: row 2i = patient i+1, row 2i+1 = i+21 */
		for (i = 0; i < 20; i++) {
			pid2[2 * i] = (int)i + 1;
			pid2[2 * i + 1] = (int)i + 21;
		}
		patient_keys(d, "upd", pid2, NPAT, keys2);
		patient_keys(d, "upd", pid, NPAT, keys);
		tap_ok(admit(d, "upd", "fp-a", "u1", span_set(NPAT, 0, NPAT, -1), keys, 5, NULL,
		    t0, &e) == PHT_OK && admit(d, "upd", "fp-a", "u2", span_set(NPAT, 0, 20, -1),
		    keys, 5, NULL, t0, &e) == PHT_OK,
		    "update: all patients and patients 1-20 are released from version 1");
		for (i = 0; i < 19; i++)
			r19[i] = (uint32_t)(2 * i);     /* patients 1-19 in version 2's rows */
		tap_ok(admit(d, "upd", "fp-b", "u3", one_set(NPAT, r19, 19), keys2, 5, NULL, t0,
		    &e) == PHT_ERR_DISCLOSURE && strstr(e.msg, "a group of 1 row") != NULL,
		    "update: patients 1-19 from version 2 (rows reordered) are refused: patient 20 "
		    "keeps its key (%s)", e.msg);
		for (i = 0; i < 20; i++)
			r19[i] = (uint32_t)(2 * i);
		n = lines_of(path);
		tap_ok(admit(d, "upd", "fp-b", "u4", one_set(NPAT, r19, 20), keys2, 5, NULL, t0,
		    &e) == PHT_OK, "update: patients 1-20 from version 2 are the same set: "
		    "released (%s)", e.msg);
	}

	/* the budget: 3 per hour */
	tap_ok(pht_station_diff_budget(d, "reg", "fp-d", 5, &budget, t0, &e) == PHT_OK,
	    "budget: none used yet");
	for (i = 0; i < 3; i++)
		admit(d, "bud", "fp-d", "tb", span_set(NPAT, 0, NPAT, -1), keys, 5, &budget,
		    t0 + (int64_t)i, &e);
	pht_err_clear(&e);
	tap_ok(pht_station_diff_budget(d, "bud", "fp-d", 5, &budget, t0 + 10, &e) ==
	    PHT_ERR_POLICY && strcmp(e.msg, "query budget exhausted: 3 releases on dataset bud "
	    "in the last 1 hours for this analyst (the station's budget is 3 per 1 hours)") == 0,
	    "budget: the fourth release in the hour is refused (%s)", e.msg);
	tap_ok(admit(d, "bud", "fp-d", "tb", span_set(NPAT, 0, NPAT, -1), keys, 5, &budget,
	    t0 + 10, &e) == PHT_ERR_POLICY, "budget: admit refuses it too");
	tap_ok(pht_station_diff_budget(d, "other", "fp-d", 5, &budget, t0 + 10, &e) == PHT_OK,
	    "budget: counted per dataset");
	tap_ok(pht_station_diff_budget(d, "bud", "fp-d", 5, &budget, t0 + 3601, &e) == PHT_OK,
	    "budget: an hour later the window has moved on");
	tap_ok(pht_station_diff_budget(d2, "bud", "fp-d", 5, &budget, t0 + 10, &e) ==
	    PHT_ERR_POLICY, "budget: another process counts the same releases");

	/* a crash mid-append: the torn release never counted, and is cut off */
	snprintf(path, sizeof(path), "%s.crash", prefix);
	tap_ok(admit(d, "crash", "fp-a", "c1", span_set(NPAT, 0, NPAT, -1), keys, 5, NULL, t0,
	    &e) == PHT_OK, "crash: a first release");
	{
		struct pht_station_diff *d3 = NULL;
		FILE *g;
		long sz;
		char *buf;

		if (admit(d, "crash", "fp-a", "c2", span_set(NPAT, 0, 30, -1), keys, 5, NULL, t0,
		    &e) != PHT_OK)
			abort();
		/* cut the last line in its middle, as a crash during the write would */
		g = fopen(path, "r+");
		fseek(g, 0, SEEK_END);
		sz = ftell(g);
		buf = malloc((size_t)sz);
		fseek(g, 0, SEEK_SET);
		if (fread(buf, 1, (size_t)sz, g) != (size_t)sz)
			abort();
		fclose(g);
		for (i = (size_t)sz - 2; buf[i] != '\n'; i--)
			;
		if (truncate(path, (off_t)(i + 1 + ((size_t)sz - i) / 2)) != 0)
			abort();
		free(buf);
		n = lines_of(path);
		pht_station_diff_open(prefix, skey, &d3, &e);
		tap_ok(admit(d3, "crash", "fp-a", "c3", span_set(NPAT, 0, 39, -1), keys, 5, NULL,
		    t0, &e) == PHT_ERR_DISCLOSURE,
		    "crash: the complete lines before the torn one still count (%s)", e.msg);
		tap_ok(admit(d3, "crash", "fp-a", "c4", span_set(NPAT, 0, 31, -1), keys, 5, NULL,
		    t0, &e) == PHT_OK && lines_of(path) == n + 1,
		    "crash: the torn release does not count (all but 9 is safe without it), and "
		    "is cut off before the next append (%s)", e.msg);
		pht_station_diff_free(d3);
		d3 = NULL;
		pht_station_diff_open(prefix, skey, &d3, &e);
		tap_ok(admit(d3, "crash", "fp-a", "c5", span_set(NPAT, 0, 31, -1), keys, 5, NULL,
		    t0, &e) == PHT_OK, "crash: a fresh process then reads the store cleanly (%s)",
		    e.msg);
		pht_station_diff_free(d3);
	}

	/* a damaged store fails closed */
	snprintf(path, sizeof(path), "%s.reg", prefix);
	f = fopen(path, "a");
	fputs("{\"t\":1}\n", f);
	fclose(f);
	tap_ok(admit(d, "reg", "fp-e", "t11", span_set(NPAT, 0, NPAT, -1), keys, 5, NULL, t0,
	    &e) == PHT_ERR_MALFORMED && strstr(e.msg, "store-rows.reg:") != NULL &&
	    strstr(e.msg, "signer") != NULL, "store: a damaged line fails closed (%s)", e.msg);
	tap_ok(admit(d, "reg", "fp-e", "t11", span_set(NPAT, 0, NPAT, -1), keys, 5, NULL, t0,
	    &e) == PHT_ERR_MALFORMED && pht_station_diff_budget(d, "reg", "fp-e", 5, &budget,
	    t0, &e) == PHT_ERR_MALFORMED, "store: and keeps failing, admissions and budget");
	snprintf(path, sizeof(path), "%s.bad2", prefix);
	f = fopen(path, "w");
	fprintf(f, "{\"rows\":\"%064d\",\"n\":1,\"keys\":\"AAAAAAAAAAA=\"}\n", 0);
	fclose(f);
	tap_ok(admit(d, "bad2", "fp-e", "t12", span_set(NPAT, 0, NPAT, -1), keys, 5, NULL, t0,
	    &e) == PHT_ERR_MALFORMED && strstr(e.msg, "do not hash") != NULL,
	    "store: keys that do not match their id fail closed (%s)", e.msg);
	snprintf(path, sizeof(path), "%s.bad3", prefix);
	f = fopen(path, "w");
	fprintf(f, "{\"t\":1,\"signer\":\"x\",\"train\":\"y\",\"k\":5,\"rows\":\"%064d\","
	    "\"sets\":[]}\n", 0);
	fclose(f);
	tap_ok(admit(d, "bad3", "fp-e", "t13", span_set(NPAT, 0, NPAT, -1), keys, 5, NULL, t0,
	    &e) == PHT_ERR_MALFORMED && strstr(e.msg, "no keys stored") != NULL,
	    "store: a release naming keys never stored fails closed (%s)", e.msg);
	tap_ok(admit(d, "", "a", "t", span_set(NPAT, 0, NPAT, -1), keys, 5, NULL, t0, &e) ==
	    PHT_ERR_INVALID, "store: no dataset: invalid");
	pht_station_diff_free(d);
	pht_station_diff_free(d2);
	d = NULL;
	snprintf(prefix, sizeof(prefix), "/nonexistent/pht/rows");
	pht_station_diff_open(prefix, skey, &d, &e);
	tap_ok(admit(d, "reg", "a", "t", span_set(NPAT, 0, NPAT, -1), keys, 5, NULL, t0, &e) ==
	    PHT_ERR_IO && strstr(e.msg, "/nonexistent/pht/rows.reg") != NULL,
	    "store: unwritable: IO naming it");
	pht_station_diff_free(d);
}

/* ---- the config fields ---- */

/* Parses a config with the given policy and extra top-level fields. */
static int
parse(const char *policy, const char *extra, struct pht_station_config **cfg,
    struct pht_err *e)
{
	char text[2048];

	snprintf(text, sizeof(text), "{\"station\":\"s\",\"datasets\":{\"d\":{\"csv\":\"d.csv\"}},"
	    "\"signers\":[],\"policy\":%s,\"audit_log\":\"a.log\",\"key\":\"k\","
	    "\"seen_ids\":\"seen\"%s}", policy, extra);
	*cfg = NULL;
	pht_err_clear(e);
	return pht_station_config_parse(text, strlen(text), "c.json", "/base", cfg, e);
}

static void
bad_config(const char *policy, const char *detail, const char *what)
{
	struct pht_station_config *cfg;
	struct pht_err e;
	int r = parse(policy, "", &cfg, &e);

	tap_ok(r == PHT_ERR_MALFORMED && cfg == NULL && strcmp(e.msg, detail) == 0,
	    "config: %s is refused (%s)", what, e.msg);
	pht_station_config_free(cfg);
}

static void
test_config(void)
{
	struct pht_station_config *cfg;
	const struct pht_station_policy *p;
	struct pht_err e;

	tap_ok(parse("{}", "", &cfg, &e) == PHT_OK &&
	    strcmp(pht_station_config_released_rows(cfg), "/base/seen.rows") == 0 &&
	    pht_station_config_policy(cfg)->budget.releases == 0 &&
	    pht_station_config_policy(cfg)->round_counts == 0,
	    "config: by default the released-rows store is seen_ids + .rows, no budget, "
	    "no rounding");
	pht_station_config_free(cfg);
	tap_ok(parse("{\"budget\":{\"releases\":100,\"window_hours\":24},"
	    "\"rounding\":{\"counts\":5}}", ",\"released_rows\":\"state/rows\"", &cfg, &e) ==
	    PHT_OK && (p = pht_station_config_policy(cfg)) != NULL &&
	    p->budget.releases == 100 && p->budget.window_seconds == 24 * 3600 &&
	    p->round_counts == 5 &&
	    strcmp(pht_station_config_released_rows(cfg), "/base/state/rows") == 0,
	    "config: budget, rounding and released_rows are read (%s)", e.msg);
	pht_station_config_free(cfg);
	bad_config("{\"budget\":{\"releases\":100}}",
	    "c.json: policy.budget: needs both releases and window_hours", "a budget without a window");
	bad_config("{\"budget\":{\"releases\":0,\"window_hours\":1}}",
	    "c.json: policy.budget.releases: not a positive integer (1 to 1000000000)",
	    "a budget of 0 releases");
	bad_config("{\"budget\":{\"releases\":1,\"window_hours\":1,\"per\":\"x\"}}",
	    "c.json: policy.budget.per: unknown field", "an unknown budget field");
	bad_config("{\"budget\":[1]}", "c.json: policy.budget: not an object", "a budget array");
	bad_config("{\"rounding\":{}}", "c.json: policy.rounding.counts: missing",
	    "rounding without counts");
	bad_config("{\"rounding\":{\"counts\":2.5}}",
	    "c.json: policy.rounding.counts: not a positive integer (1 to 1000000)",
	    "a fractional rounding base");
	bad_config("{\"rounding\":{\"counts\":5,\"sums\":10}}",
	    "c.json: policy.rounding.sums: unknown field", "rounding of sums (not offered)");
}

/* ---- rounding ---- */

static void
test_round(void)
{
	json_t *v = json_loads("{\"n\":7,\"mean\":7,\"df\":3,\"sum\":13,\"x\":2.5,"
	    "\"groups\":[{\"key\":3,\"n\":12},{\"key\":8,\"count\":2,\"suppressed\":false}],"
	    "\"counts\":[[3,12],[7,0]],\"missing\":-7,\"events\":8}", 0, NULL);
	json_t *want = json_loads("{\"n\":5,\"mean\":7,\"df\":3,\"sum\":13,\"x\":2.5,"
	    "\"groups\":[{\"key\":3,\"n\":10},{\"key\":8,\"count\":0,\"suppressed\":false}],"
	    "\"counts\":[[5,10],[5,0]],\"missing\":-5,\"events\":10}", 0, NULL);
	size_t n = pht_station_round_counts(v, 5);

	tap_ok(n == 8 && json_equal(v, want),
	    "rounding to 5: counts under count keys (and inside them) only, halves away from "
	    "zero; keys, means, sums, df untouched (%zu changed)", n);
	tap_ok(pht_station_round_counts(v, 1) == 0 && json_equal(v, want),
	    "rounding base 1 changes nothing");
	json_decref(v);
	json_decref(want);
}

/* ---- rows keep their identity across a data update, through the station ---- */

/* upd.csv: 40 patients (pid identifier, num = pid, age), in the order given */
static int
write_upd(const int *order, size_t n)
{
	char path[1100];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/upd.csv", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "pid,num,age\n");
	for (i = 0; i < n; i++)
		fprintf(f, "P%03d,%d,%d\n", order[i], order[i], 20 + order[i] % 50);
	fclose(f);
	snprintf(path, sizeof(path), "%s/upd.dict.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "{\"dataset\":\"upd\",\"description\":\"update test\",\"columns\":["
	    "{\"name\":\"pid\",\"type\":\"category\",\"role\":\"identifier\",\"levels\":[");
	for (i = 1; i <= 60; i++)
		fprintf(f, "%s\"P%03zu\"", i > 1 ? "," : "", i);
	fprintf(f, "]},{\"name\":\"num\",\"type\":\"integer\"},"
	    "{\"name\":\"age\",\"type\":\"integer\"}]}");
	fclose(f);
	return 0;
}

static struct pht_station *
station_upd(void)
{
	struct pht_station_config *cfg = NULL;
	struct pht_station *st = NULL;
	struct pht_err e;
	char text[4096];

	snprintf(text, sizeof(text),
	    "{\"station\":\"st-a\",\"datasets\":{\"upd\":{\"csv\":\"upd.csv\"}},"
	    "\"signers\":[{\"name\":\"analyst\",\"key\":\"analyst.sign.pub\",\"mode\":\"auto\"},"
	    "{\"name\":\"other\",\"key\":\"other.sign.pub\",\"mode\":\"auto\"}],"
	    "\"policy\":{\"k\":5},\"audit_log\":\"u-audit.log\",\"key\":\"st-a.sign.key\","
	    "\"seen_ids\":\"u-seen\"}");
	if (pht_station_config_parse(text, strlen(text), "test.json", dir, &cfg, &e) != PHT_OK ||
	    pht_station_open(cfg, &st, &e) != PHT_OK) {
		tap_diag("station: %s", e.msg);
		return NULL;
	}
	return st;
}

static enum pht_station_outcome
run_upd(struct pht_station *st, const char *signer, const char *params, struct pht_err *e)
{
	struct pht_station_result res;
	char *env;
	size_t len;
	int r;

	enum pht_station_outcome o;

	env = envelope(signer, "upd", count_code, params, &len);
	pht_err_clear(e);
	r = pht_station_exec(st, env, len, &res, e);
	free(env);
	o = r == PHT_OK ? res.outcome : (enum pht_station_outcome)-1;
	pht_station_result_clear(&res);
	return o;
}

/* The row of ds whose pid is name, or -1. */
static long
row_of(const struct pht_dataset *ds, const char *name)
{
	const struct pht_column *c = pht_dataset_identifier(ds);
	int code = c != NULL ? pht_column_level_code(c, name) : -1;
	size_t i;

	for (i = 0; c != NULL && i < pht_dataset_nrows(ds); i++)
		if (c->v.i32[i] == code)
			return (long)i;
	return -1;
}

static void
test_update(void)
{
	struct pht_station *st;
	struct pht_station_diff *d = NULL;
	struct pht_dataset *v1 = NULL, *v2 = NULL;
	const uint64_t *k;
	uint64_t k17;
	struct pht_err e;
	char csv[1100], dict[1100], prefix[1100];
	int order[64], i;

	for (i = 0; i < 40; i++)
		order[i] = i + 1;
	if (write_upd(order, 40) != 0 || (st = station_upd()) == NULL)
		return;
	tap_ok(run_upd(st, "analyst", "{}", &e) == PHT_STATION_RELEASED &&
	    run_upd(st, "analyst", "{\"col\":\"num\",\"op\":\"<=\",\"value\":20}", &e) ==
	    PHT_STATION_RELEASED, "update: all patients and patients 1-20 are released (%s)",
	    e.msg);
	pht_station_close(st);

	/* version 2: the same patients interleaved (1, 21, 2, 22, ...) and five new ones */
	for (i = 0; i < 20; i++) {
		order[2 * i] = i + 1;
		order[2 * i + 1] = i + 21;
	}
	for (i = 0; i < 5; i++)
		order[40 + i] = 41 + i;
	if (write_upd(order, 45) != 0 || (st = station_upd()) == NULL)
		return;
	tap_ok(run_upd(st, "other", "{\"col\":\"num\",\"op\":\"<=\",\"value\":19}", &e) ==
	    PHT_STATION_WITHHELD && e.code == PHT_ERR_DISCLOSURE,
	    "update: patients 1-19 from the new version are withheld: patient 20 keeps its key "
	    "across the update (%s)", e.msg);
	tap_ok(run_upd(st, "other", "{\"col\":\"num\",\"op\":\"<=\",\"value\":40}", &e) ==
	    PHT_STATION_RELEASED, "update: patients 1-40 from the new version are released: "
	    "the same set (%s)", e.msg);
	tap_ok(run_upd(st, "other", "{}", &e) == PHT_STATION_RELEASED,
	    "update: all 45 are released: 5 new patients (%s)", e.msg);
	tap_ok(run_upd(st, "other", "{\"col\":\"num\",\"op\":\"~=\",\"value\":43}", &e) ==
	    PHT_STATION_WITHHELD, "update: all but a new patient is withheld (%s)", e.msg);
	pht_station_close(st);

	/* the keys themselves */
	snprintf(csv, sizeof(csv), "%s/upd.csv", dir);
	snprintf(dict, sizeof(dict), "%s/upd.dict.json", dir);
	snprintf(prefix, sizeof(prefix), "%s/keys-test", dir);
	pht_dataset_load(csv, dict, NULL, &v2, &e);
	for (i = 0; i < 40; i++)
		order[i] = 40 - i;
	write_upd(order, 40);
	pht_dataset_load(csv, dict, NULL, &v1, &e);
	pht_station_diff_open(prefix, skey, &d, &e);
	tap_ok(v1 != NULL && v2 != NULL && d != NULL &&
	    pht_station_diff_rowkeys(d, v1, &k, &e) == PHT_OK && row_of(v1, "P017") == 23 &&
	    (k17 = k[23]) == pht_station_diff_key(d, "upd", "P017", 4, 0) &&
	    pht_station_diff_rowkeys(d, v2, &k, &e) == PHT_OK && row_of(v2, "P017") == 32 &&
	    k[32] == k17 && k[23] != k17,
	    "keys: patient P017, row 24 of one version and row 33 of another, has one key (%s)",
	    e.msg);
	pht_dataset_free(v1);
	pht_dataset_free(v2);
	pht_station_diff_free(d);
	d = NULL;

	/* a store of the earlier per-analyst guard at the prefix itself */
	snprintf(prefix, sizeof(prefix), "%s/old-store", dir);
	{
		FILE *f = fopen(prefix, "w");

		if (f != NULL) {
			fputs("{\"t\":1,\"signer\":\"x\",\"dataset\":\"upd\",\"sets\":[]}\n", f);
			fclose(f);
		}
	}
	pht_err_clear(&e);
	tap_ok(pht_station_diff_open(prefix, skey, &d, &e) == PHT_ERR_POLICY && d == NULL &&
	    strstr(e.msg, "earlier per-analyst format") != NULL,
	    "upgrade: a store of the earlier guard at the prefix fails closed, never ignored (%s)",
	    e.msg);
	unlink(prefix);
	tap_ok(pht_station_diff_open(prefix, skey, &d, &e) == PHT_OK && d != NULL,
	    "upgrade: once it is moved aside the auditor opens (%s)", e.msg);
	pht_station_diff_free(d);
}

int
main(void)
{
	struct pht_station *st;
	struct pht_station_result res, first;
	struct pht_station_replay rep;
	struct pht_err e;
	const char *names[] = {"st-a", "analyst", "other"};
	char want[512], logpath[1100], *id1;
	json_t *l;
	size_t i;
	int over50 = 0;

	if (mkdtemp(dir) == NULL || write_data() != 0 ||
	    pht_key_generate(PHT_KEY_SIGN, &skey, NULL) != PHT_OK)
		return 1;
	for (i = 0; i < 3; i++)
		if (pht_key_generate_files(dir, names[i], NULL, NULL, NULL) != PHT_OK)
			return 1;
	test_store();
	test_config();
	test_round();

	/* the classic attack across two trains */
	if ((st = station("a", "{\"k\":5}")) == NULL)
		return tap_done();
	tap_ok(run(st, "analyst", count_code, "{}", &first, &e) == PHT_STATION_RELEASED &&
	    json_integer_value(json_object_get(first.output, "count")) == NPAT,
	    "count of all patients is released (%s)", e.msg);
	id1 = strdup(first.train);
	tap_ok(run(st, "analyst", count_code, "{\"col\":\"patient_id\",\"op\":\"~=\",\"value\":17}",
	    &res, &e) == PHT_STATION_WITHHELD && e.code == PHT_ERR_DISCLOSURE && res.output == NULL,
	    "count of all but patient 17, a second train, is withheld (%s)", e.msg);
	snprintf(want, sizeof(want), "differencing: with this output the sum over a group of "
	    "1 row (fewer than k = 5) would follow from the releases on dataset reg to all "
	    "analysts; nothing is released");
	l = last_entry("a");
	tap_ok(l != NULL && strcmp(json_string_value(json_object_get(l, "event")), "withheld") == 0 &&
	    strcmp(json_string_value(json_object_get(l, "reason")), want) == 0 &&
	    json_object_get(l, "output") == NULL &&
	    json_integer_value(json_object_get(l, "row_sets")) == 1,
	    "the audit log says withheld with the reason, the number of row sets and no rows or output");
	json_decref(l);
	pht_station_result_clear(&res);
	tap_ok(run(st, "analyst", both_code, "{\"id\":17}", &res, &e) == PHT_STATION_WITHHELD &&
	    e.code == PHT_ERR_DISCLOSURE && strstr(e.msg, "a group of 1 row") != NULL,
	    "both counts in one train are withheld too (%s)", e.msg);
	pht_station_result_clear(&res);

	/* ordinary analyses */
	tap_ok(run(st, "analyst", count_code, "{}", &res, &e) == PHT_STATION_RELEASED,
	    "the same query twice (difference 0) is released (%s)", e.msg);
	pht_station_result_clear(&res);
	{
		struct pht_station_result res2;
		enum pht_station_outcome o1, o2;

		o1 = run(st, "analyst", count_code,
		    "{\"col\":\"sex\",\"op\":\"==\",\"value\":\"F\"}", &res, &e);
		o2 = run(st, "analyst", count_code,
		    "{\"col\":\"sex\",\"op\":\"==\",\"value\":\"M\"}", &res2, &e);
		tap_ok(o1 == PHT_STATION_RELEASED && o2 == PHT_STATION_RELEASED,
		    "disjoint groups (F, then M) are released (%s)", e.msg);
		pht_station_result_clear(&res2);
	}
	pht_station_result_clear(&res);
	tap_ok(run(st, "analyst", groups_code, "{}", &res, &e) == PHT_STATION_RELEASED,
	    "group_by with each group's mean is released (%s)", e.msg);
	pht_station_result_clear(&res);
	for (i = 1; i <= NPAT; i++)
		over50 += ages[i] >= 50;
	tap_ok(run(st, "analyst", count_code, "{\"col\":\"age\",\"op\":\">=\",\"value\":50}",
	    &res, &e) == PHT_STATION_RELEASED &&
	    json_integer_value(json_object_get(res.output, "count")) == over50,
	    "a different big subset (age >= 50, %d patients) is released (%s)", over50, e.msg);
	pht_station_result_clear(&res);
	tap_ok(run(st, "other", count_code, "{\"col\":\"patient_id\",\"op\":\"~=\",\"value\":17}",
	    &res, &e) == PHT_STATION_WITHHELD && e.code == PHT_ERR_DISCLOSURE,
	    "another analyst's all-but-one is withheld too: analysts may collude (%s)", e.msg);
	pht_station_result_clear(&res);
	pht_station_result_clear(&first);
	pht_station_close(st);

	/* the budget through the station: 2 releases a day */
	if ((st = station("b", "{\"budget\":{\"releases\":2,\"window_hours\":24}}")) == NULL)
		return tap_done();
	run(st, "analyst", count_code, "{}", &res, &e);
	pht_station_result_clear(&res);
	run(st, "analyst", count_code, "{}", &res, &e);
	pht_station_result_clear(&res);
	tap_ok(run(st, "analyst", count_code, "{}", &res, &e) == PHT_STATION_REJECTED &&
	    e.code == PHT_ERR_POLICY && strstr(e.msg, "query budget exhausted: 2 releases on "
	    "dataset reg in the last 24 hours") != NULL,
	    "the third release in a day is rejected before it runs (%s)", e.msg);
	l = last_entry("b");
	tap_ok(l != NULL && strcmp(json_string_value(json_object_get(l, "event")), "rejected") == 0 &&
	    strstr(json_string_value(json_object_get(l, "reason")), "query budget exhausted") != NULL,
	    "the refusal is logged as rejected with the reason");
	json_decref(l);
	pht_station_result_clear(&res);
	tap_ok(run(st, "other", count_code, "{}", &res, &e) == PHT_STATION_RELEASED,
	    "another analyst has their own budget (%s)", e.msg);
	pht_station_result_clear(&res);
	pht_station_close(st);

	/* rounding through the station */
	if ((st = station("c", "{\"rounding\":{\"counts\":5}}")) == NULL)
		return tap_done();
	tap_ok(run(st, "analyst", count_code, "{\"col\":\"age\",\"op\":\">=\",\"value\":50}",
	    &res, &e) == PHT_STATION_RELEASED &&
	    json_integer_value(json_object_get(res.output, "count")) == (over50 + 2) / 5 * 5,
	    "count %d is released rounded to %d", over50, (over50 + 2) / 5 * 5);
	l = last_entry("c");
	tap_ok(l != NULL && json_integer_value(json_object_get(json_object_get(l, "rounding"),
	    "counts")) == 5 && json_integer_value(json_object_get(json_object_get(l, "rounding"),
	    "values_rounded")) == (over50 % 5 != 0) &&
	    json_integer_value(json_object_get(json_object_get(l, "output"), "count")) ==
	    (over50 + 2) / 5 * 5,
	    "the released entry logs the rounding and the rounded output");
	json_decref(l);
	snprintf(logpath, sizeof(logpath), "%s/c-audit.log", dir);
	memset(&rep, 0, sizeof(rep));
	tap_ok(pht_station_replay(pht_station_config(st), logpath, res.train, count_code,
	    strlen(count_code), &rep, &e) == PHT_OK && rep.matches,
	    "a replay applies the same rounding and matches the released hash (%s)", e.msg);
	pht_station_replay_clear(&rep);
	pht_station_result_clear(&res);
	pht_station_close(st);
	free(id1);
	test_update();
	return tap_done();
}
