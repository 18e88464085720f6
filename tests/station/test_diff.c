/* test_diff.c — differencing protection, query budgets and output rounding: the released-rows store alone and through pht_station_exec. */
#include "tap.h"

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

static char *
envelope(const char *signer, const char *code, const char *params, size_t *len)
{
	struct pht_trainmsg_spec spec;
	struct pht_key *key = NULL;
	const char *dsv[1] = {"reg"}, *stv[1] = {"st-a"};
	char path[1100], *payload = NULL, *env = NULL;
	json_t *p = json_loads(params, 0, NULL);
	size_t plen;
	int64_t now = pht_time_now();

	memset(&spec, 0, sizeof(spec));
	spec.code = code;
	spec.code_len = strlen(code);
	spec.params = p;
	spec.datasets = dsv;
	spec.n_datasets = 1;
	spec.stations = stv;
	spec.n_stations = 1;
	spec.round = 1;
	spec.issued = now;
	spec.expires = now + 3600;
	snprintf(path, sizeof(path), "%s/%s.sign.key", dir, signer);
	if (pht_key_load(path, &key, NULL) != PHT_OK ||
	    pht_trainmsg_build(&spec, &payload, &plen, NULL) != PHT_OK ||
	    pht_envelope_sign(key, (uint8_t *)payload, plen, &env, len, NULL) != PHT_OK)
		abort();
	free(payload);
	pht_key_free(key);
	json_decref(p);
	return env;
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

	env = envelope(signer, code, params, &len);
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

static void
test_store(void)
{
	struct pht_train_rowsets *all, *but17, *twice, *disjoint;
	struct pht_station_budget budget = {3, 3600};
	struct pht_err e;
	uint32_t rows[NPAT];
	char path[1100];
	FILE *f;
	size_t i, n;
	int64_t t0 = 1700000000;

	snprintf(path, sizeof(path), "%s/store-rows", dir);
	all = pht_train_rowsets_new(NPAT);
	but17 = pht_train_rowsets_new(NPAT);
	twice = pht_train_rowsets_new(NPAT);
	disjoint = pht_train_rowsets_new(NPAT);
	pht_train_rowsets_add(all, NULL, 0, 1);
	for (i = 0, n = 0; i < NPAT; i++)
		if (i != 16)
			rows[n++] = (uint32_t)i;
	pht_train_rowsets_add(but17, rows, n, 0);
	pht_train_rowsets_add(twice, NULL, 0, 1);
	pht_train_rowsets_add(twice, rows, n, 0);
	for (i = 0; i < 20; i++)
		rows[i] = (uint32_t)(2 * i);
	pht_train_rowsets_add(disjoint, rows, 20, 0);
	for (i = 0; i < 20; i++)
		rows[i] = (uint32_t)(2 * i + 1);
	pht_train_rowsets_add(disjoint, rows, 20, 0);

	tap_ok(pht_station_diff_admit(path, "fp-a", "reg", "h1", "t1", all, 5, NULL, t0, &e) ==
	    PHT_OK && lines_of(path) == 1, "store: the first release is admitted and recorded");
	pht_err_clear(&e);
	tap_ok(pht_station_diff_admit(path, "fp-a", "reg", "h1", "t2", but17, 5, NULL, t0, &e) ==
	    PHT_ERR_DISCLOSURE && lines_of(path) == 1 &&
	    strcmp(e.msg, "differencing: the rows behind this output differ from those behind "
	    "train t1, released earlier to the same analyst, by 1 row (fewer than k = 5); "
	    "nothing is released") == 0,
	    "store: all rows but one after all rows is refused, nothing stored (%s)", e.msg);
	pht_err_clear(&e);
	tap_ok(pht_station_diff_admit(path, "fp-a", "reg", "h1", "t3", twice, 5, NULL, t0, &e) ==
	    PHT_ERR_DISCLOSURE && strcmp(e.msg, "differencing: two row sets behind this "
	    "output differ by 1 row (fewer than k = 5); nothing is released") == 0,
	    "store: both in one output is refused (%s)", e.msg);
	tap_ok(pht_station_diff_admit(path, "fp-a", "reg", "h1", "t4", but17, 1, NULL, t0, &e) ==
	    PHT_OK, "store: with k = 1 a difference of one row is allowed (the check can pass)");
	tap_ok(pht_station_diff_admit(path, "fp-b", "reg", "h1", "t5", but17, 5, NULL, t0, &e) ==
	    PHT_OK, "store: another analyst is compared only with their own releases");
	tap_ok(pht_station_diff_admit(path, "fp-a", "reg", "h2", "t6", all, 5, NULL, t0, &e) ==
	    PHT_OK, "store: other data (another CSV hash) is not compared");
	tap_ok(pht_station_diff_admit(path, "fp-a", "other", "h1", "t7", all, 5, NULL, t0, &e) ==
	    PHT_OK, "store: another dataset is not compared");
	{
		struct pht_train_rowsets *fewer = pht_train_rowsets_new(NPAT - 1);

		pht_train_rowsets_add(fewer, NULL, 0, 1);
		pht_err_clear(&e);
		tap_ok(pht_station_diff_admit(path, "fp-a", "reg", "h1", "t7b", fewer, 5, NULL, t0,
		    &e) == PHT_OK, "store: the same file seen with a row left out (an opt-out) "
		    "numbers rows differently and is not compared (%s)", e.msg);
		pht_train_rowsets_free(fewer);
	}
	tap_ok(pht_station_diff_admit(path, "fp-c", "reg", "h1", "t8", disjoint, 5, NULL, t0, &e) ==
	    PHT_OK && pht_station_diff_admit(path, "fp-c", "reg", "h1", "t9", all, 5, NULL, t0,
	    &e) == PHT_OK, "store: disjoint halves, then all rows, are admitted");

	/* the budget: 3 per hour */
	tap_ok(pht_station_diff_budget(path, "fp-d", "reg", &budget, t0, &e) == PHT_OK,
	    "budget: none used yet");
	for (i = 0; i < 3; i++)
		pht_station_diff_admit(path, "fp-d", "reg", "h1", "tb", all, 5, &budget,
		    t0 + (int64_t)i, &e);
	pht_err_clear(&e);
	tap_ok(pht_station_diff_budget(path, "fp-d", "reg", &budget, t0 + 10, &e) ==
	    PHT_ERR_POLICY && strcmp(e.msg, "query budget exhausted: 3 releases on dataset reg "
	    "in the last 1 hours for this analyst (the station's budget is 3 per 1 hours)") == 0,
	    "budget: the fourth release in the hour is refused (%s)", e.msg);
	pht_err_clear(&e);
	tap_ok(pht_station_diff_admit(path, "fp-d", "reg", "h1", "tb", all, 5, &budget, t0 + 10,
	    &e) == PHT_ERR_POLICY, "budget: admit refuses it too");
	tap_ok(pht_station_diff_budget(path, "fp-d", "other", &budget, t0 + 10, &e) == PHT_OK,
	    "budget: counted per dataset");
	tap_ok(pht_station_diff_budget(path, "fp-d", "reg", &budget, t0 + 3601, &e) == PHT_OK,
	    "budget: an hour later the window has moved on");

	/* a torn last line is cut off; a damaged line fails closed */
	n = lines_of(path);
	f = fopen(path, "a");
	fputs("{\"t\":1,\"sig", f);
	fclose(f);
	tap_ok(pht_station_diff_admit(path, "fp-e", "reg", "h1", "t10", all, 5, NULL, t0, &e) ==
	    PHT_OK && lines_of(path) == n + 1, "store: a torn last line is ignored and cut off");
	f = fopen(path, "a");
	fputs("{\"t\":1}\n", f);
	fclose(f);
	pht_err_clear(&e);
	tap_ok(pht_station_diff_admit(path, "fp-e", "reg", "h1", "t11", all, 5, NULL, t0, &e) ==
	    PHT_ERR_MALFORMED && strstr(e.msg, "store-rows:") != NULL &&
	    strstr(e.msg, "signer") != NULL, "store: a damaged line fails closed (%s)", e.msg);
	pht_err_clear(&e);
	tap_ok(pht_station_diff_admit(path, "", "reg", "h1", "t", all, 5, NULL, t0, &e) ==
	    PHT_ERR_INVALID && strstr(e.msg, "signer") != NULL, "store: no signer: invalid");
	tap_ok(pht_station_diff_admit("/nonexistent/pht/rows", "a", "reg", "h1", "t", all, 5,
	    NULL, t0, &e) == PHT_ERR_IO && strstr(e.msg, "/nonexistent/pht/rows") != NULL,
	    "store: unwritable: IO naming it");
	pht_train_rowsets_free(all);
	pht_train_rowsets_free(but17);
	pht_train_rowsets_free(twice);
	pht_train_rowsets_free(disjoint);
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

	if (mkdtemp(dir) == NULL || write_data() != 0)
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
	snprintf(want, sizeof(want), "differencing: the rows behind this output differ from "
	    "those behind train %s, released earlier to the same analyst, by 1 row (fewer than "
	    "k = 5); nothing is released", id1);
	l = last_entry("a");
	tap_ok(l != NULL && strcmp(json_string_value(json_object_get(l, "event")), "withheld") == 0 &&
	    strcmp(json_string_value(json_object_get(l, "reason")), want) == 0 &&
	    json_object_get(l, "output") == NULL &&
	    json_integer_value(json_object_get(l, "row_sets")) == 1,
	    "the audit log says withheld with the reason, the number of row sets and no rows or output");
	json_decref(l);
	pht_station_result_clear(&res);
	tap_ok(run(st, "analyst", both_code, "{\"id\":17}", &res, &e) == PHT_STATION_WITHHELD &&
	    e.code == PHT_ERR_DISCLOSURE && strstr(e.msg, "two row sets behind this output "
	    "differ by 1 row") != NULL, "both counts in one train are withheld too (%s)", e.msg);
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
	    &res, &e) == PHT_STATION_RELEASED,
	    "another analyst's all-but-one is compared only with their own releases (%s)", e.msg);
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
	return tap_done();
}
