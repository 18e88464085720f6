/* test_complement.c — complementary suppression in the data API's primitives, checked by the station's release auditor: released figures never determine a small suppressed group. */
#include "tap.h"

#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_key.h"
#include "pht_station_diff.h"
#include "pht_train.h"
#include "pht_train_rowsets.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NPAT 40
#define K 5

static char dir[] = "/tmp/pht-complement-XXXXXX";
static struct pht_key *skey;
static struct pht_station_diff *aud;
static struct pht_dataset *ds;
static const uint64_t *keys;
static struct pht_limits lim;

/*
 * 40 patients (k = 5). arm: a 20, b 12, c 6, d 2 (d is small: the view
 * minus a, b and c would be its 2 patients). site: x 25, y 13, missing 2
 * (the missing-key group is small). age: 12 in (20, 40], 14 in (40, 60],
 * 12 in (60, 80], 2 in (80, 100] (a tail bin of 2). score: missing for 2.
 */
static const char dict[] = "{\"dataset\":\"reg\",\"columns\":["
    "{\"name\":\"pid\",\"type\":\"integer\",\"role\":\"identifier\"},"
    "{\"name\":\"arm\",\"type\":\"category\",\"levels\":[\"a\",\"b\",\"c\",\"d\"]},"
    "{\"name\":\"site\",\"type\":\"category\",\"levels\":[\"x\",\"y\"]},"
    "{\"name\":\"age\",\"type\":\"number\"},"
    "{\"name\":\"score\",\"type\":\"number\"}]}";

/* Which arm, site and age band patient i (0..39) is in. */
static char
arm_of(int i)
{
	return i < 20 ? 'a' : i < 32 ? 'b' : i < 38 ? 'c' : 'd';
}

static const char *
site_of(int i)
{
	return i % 20 == 7 ? "" : i % 3 == 0 ? "y" : "x";
}

static double
age_of(int i)
{
	int band = i < 12 ? 0 : i < 26 ? 1 : i < 38 ? 2 : 3;

	return 21 + 20 * band + (i % 7);
}

static int
load(void)
{
	char csv[8192];
	size_t len = 0;
	struct pht_err e;
	int i, ny = 0, nmiss = 0;

	len += (size_t)snprintf(csv + len, sizeof(csv) - len, "pid,arm,site,age,score\n");
	for (i = 0; i < NPAT; i++) {
		len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%d,%c,%s,%g,", 1000 + i,
		    arm_of(i), site_of(i), age_of(i));
		if (i == 3 || i == 30)
			len += (size_t)snprintf(csv + len, sizeof(csv) - len, "\n");
		else
			len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%d\n", 50 + i % 9);
		ny += strcmp(site_of(i), "y") == 0;
		nmiss += site_of(i)[0] == '\0';
	}
	if (ny != 13 || nmiss != 2) {
		tap_diag("site: %d y and %d missing", ny, nmiss);
		return -1;
	}
	if (pht_dataset_load_mem(csv, len, dict, strlen(dict), "reg.csv", &ds, &e) != PHT_OK) {
		tap_diag("dataset: %s", e.msg);
		return -1;
	}
	return 0;
}

/* Runs station() with the body given; *rs gets the row sets. */
static json_t *
run(const char *body, struct pht_train_rowsets **rs)
{
	char code[4096];
	json_t *out = NULL;
	struct pht_run_stats st;
	struct pht_err e;

	*rs = NULL;
	snprintf(code, sizeof(code), "return { name = 't', version = '1',\n"
	    "station = function(data)\n%s\nend,\n"
	    "combine = function() return {done = true, result = 0} end }\n", body);
	if (pht_train_run_station_rows(code, strlen(code), "t.lua", ds, NULL, 1, 1, &lim, &out,
	    &st, rs, &e) != PHT_OK) {
		tap_diag("train failed: %s", e.msg);
		return NULL;
	}
	return out;
}

/* The auditor's verdict on rs as a release on store `dataset` (rs freed). */
static int
admit(const char *dataset, struct pht_train_rowsets *rs, struct pht_err *e)
{
	int r;

	pht_err_clear(e);
	if (rs == NULL)
		return PHT_ERR_INVALID;
	r = pht_station_diff_admit(aud, dataset, "fp-a", "t", rs, keys, K, NULL, 1700000000, e);
	pht_train_rowsets_free(rs);
	return r;
}

/* The rows of the dataset for which keep(i) holds. */
static size_t
rows_where(uint32_t *rows, int (*keep)(int, const void *), const void *arg)
{
	size_t n = 0;
	int i;

	for (i = 0; i < NPAT; i++)
		if (keep(i, arg))
			rows[n++] = (uint32_t)i;
	return n;
}

static int
in_arm(int i, const void *arg)
{
	return arm_of(i) == *(const char *)arg;
}

static int
in_site(int i, const void *arg)
{
	return strcmp(site_of(i), (const char *)arg) == 0;
}

static int
every(int i, const void *arg)
{
	(void)i;
	(void)arg;
	return 1;
}

static int
has_score(int i, const void *arg)
{
	(void)arg;
	return i != 3 && i != 30;
}

/*
 * What a primitive without complementary suppression records for a
 * grouping: the view and each group of at least k rows (the control: the
 * auditor must withhold it).
 */
static struct pht_train_rowsets *
uncomplemented(int (*keep)(int, const void *), const char *const *keys_, size_t nkeys)
{
	struct pht_train_rowsets *rs = pht_train_rowsets_new(NPAT);
	uint32_t rows[NPAT];
	size_t j, n;

	n = rows_where(rows, every, NULL);
	pht_train_rowsets_add(rs, rows, n, 1);
	for (j = 0; j < nkeys; j++) {
		n = rows_where(rows, keep, keys_[j]);
		if (n >= K)
			pht_train_rowsets_add(rs, rows, n, 0);
	}
	return rs;
}

static int
is_sup(const json_t *o)
{
	return json_is_true(json_object_get(o, "suppressed")) &&
	    json_object_get(o, "n") == NULL;
}

static json_int_t
n_of(const json_t *o)
{
	return json_integer_value(json_object_get(o, "n"));
}

static void
test_group_by(void)
{
	static const char *const arms[] = {"a", "b", "c", "d"};
	static const char *const sites[] = {"x", "y", ""};
	struct pht_train_rowsets *rs;
	struct pht_err e;
	json_t *o, *gs;
	int r;

	o = run("local out = {}\n"
	    "for i, g in ipairs(data:group_by('arm')) do\n"
	    "  out[i] = {key = g.key, n = g.n, suppressed = g.suppressed, has_data = g.data ~= nil}\n"
	    "end\nreturn out", &rs);
	tap_ok(o != NULL && json_array_size(o) == 4 && n_of(json_array_get(o, 0)) == 20 &&
	    n_of(json_array_get(o, 1)) == 12 && is_sup(json_array_get(o, 2)) &&
	    is_sup(json_array_get(o, 3)) &&
	    !json_is_true(json_object_get(json_array_get(o, 2), "has_data")),
	    "group_by(arm): d (2 rows) suppressed, and c (6, the smallest released) with it; "
	    "a and b released");
	tap_ok(rs != NULL && pht_train_rowsets_count(rs) == 3,
	    "group_by(arm) records the view and the two released groups (%zu sets)",
	    rs != NULL ? pht_train_rowsets_count(rs) : 0);
	r = admit("grp", rs, &e);
	tap_ok(r == PHT_OK, "the station's auditor releases group_by(arm) (%s)", e.msg);
	r = admit("grp-control", uncomplemented(in_arm, arms, 4), &e);
	tap_ok(r == PHT_ERR_DISCLOSURE && strstr(e.msg, "group of 2 rows") != NULL,
	    "control: the view and a, b, c without the complement are withheld: %s", e.msg);
	json_decref(o);

	/* the missing-key group is a cell */
	o = run("local out = {}\n"
	    "for i, g in ipairs(data:group_by('site')) do\n"
	    "  out[i] = {key = g.key, n = g.n, suppressed = g.suppressed, missing = g.missing}\n"
	    "end\nreturn out", &rs);
	gs = json_array_get(o, 2);
	tap_ok(o != NULL && json_array_size(o) == 3 && n_of(json_array_get(o, 0)) == 25 &&
	    is_sup(json_array_get(o, 1)) && json_is_true(json_object_get(gs, "missing")) &&
	    is_sup(gs),
	    "group_by(site): the missing group (2 rows) suppressed, and y (13) with it");
	r = admit("site", rs, &e);
	tap_ok(r == PHT_OK, "the station's auditor releases group_by(site) (%s)", e.msg);
	r = admit("site-control", uncomplemented(in_site, sites, 3), &e);
	tap_ok(r == PHT_ERR_DISCLOSURE,
	    "control: x and y released beside the view would show the 2 rows missing site: %s",
	    e.msg);
	json_decref(o);
}

static void
test_aggregate_by(void)
{
	struct pht_train_rowsets *rs;
	struct pht_err e;
	json_t *o, *gs, *total;
	int r;

	o = run("local gs, total = data:aggregate_by('arm', {'age'})\n"
	    "return {groups = gs, total = total}", &rs);
	gs = json_object_get(o, "groups");
	total = json_object_get(o, "total");
	tap_ok(o != NULL && json_array_size(gs) == 4 && n_of(json_array_get(gs, 0)) == 20 &&
	    n_of(json_array_get(gs, 1)) == 12 && is_sup(json_array_get(gs, 2)) &&
	    is_sup(json_array_get(gs, 3)) && n_of(total) == NPAT &&
	    n_of(json_object_get(json_object_get(total, "stats"), "age")) == NPAT,
	    "aggregate_by(arm): c and d suppressed as group_by's, the total released");
	r = admit("aggby", rs, &e);
	tap_ok(r == PHT_OK, "the station's auditor releases aggregate_by(arm) (%s)", e.msg);
	json_decref(o);

	/*
	 * score is missing for patient 3 (arm a) and 30 (arm b): in each of
	 * those groups and in the total, 0 < missing < k, so score's figures
	 * are withheld there; nothing is left but the groups' counts.
	 */
	o = run("local gs, total = data:aggregate_by('arm', {'score'})\n"
	    "return {groups = gs, total = total}", &rs);
	gs = json_object_get(o, "groups");
	total = json_object_get(o, "total");
	tap_ok(o != NULL && n_of(json_array_get(gs, 0)) == 20 &&
	    is_sup(json_object_get(json_object_get(json_array_get(gs, 0), "stats"), "score")) &&
	    is_sup(json_object_get(json_object_get(total, "stats"), "score")) &&
	    n_of(total) == NPAT,
	    "aggregate_by(arm, {score}): score's figures withheld where 1 to k - 1 rows miss it");
	r = admit("aggby-miss", rs, &e);
	tap_ok(r == PHT_OK, "the station's auditor releases it (%s)", e.msg);
	json_decref(o);
}

static void
test_aggregate_missing(void)
{
	struct pht_train_rowsets *rs, *c;
	struct pht_err e;
	uint32_t rows[NPAT];
	size_t n;
	json_t *o, *s;
	int r;

	o = run("return data:aggregate({'age', 'score'})", &rs);
	s = json_object_get(o, "stats");
	tap_ok(o != NULL && n_of(o) == NPAT && n_of(json_object_get(s, "age")) == NPAT &&
	    is_sup(json_object_get(s, "score")),
	    "aggregate{age, score}: score (2 of 40 missing) withheld beside the view's n");
	r = admit("agg", rs, &e);
	tap_ok(r == PHT_OK, "the station's auditor releases it (%s)", e.msg);
	c = pht_train_rowsets_new(NPAT);
	n = rows_where(rows, every, NULL);
	pht_train_rowsets_add(c, rows, n, 1);
	n = rows_where(rows, has_score, NULL);
	pht_train_rowsets_add(c, rows, n, 0);
	r = admit("agg-control", c, &e);
	tap_ok(r == PHT_ERR_DISCLOSURE, "control: the view's n beside score's figures over 38 "
	    "rows is withheld: %s", e.msg);
	json_decref(o);
}

static void
test_histogram(void)
{
	struct pht_train_rowsets *rs;
	struct pht_err e;
	json_t *o, *bins;
	int r, i, nsup = 0;

	o = run("return data:histogram('age', {20, 40, 60, 80, 100})", &rs);
	bins = json_object_get(o, "bins");
	for (i = 0; i < 4; i++)
		nsup += json_is_true(json_object_get(json_array_get(bins, (size_t)i), "suppressed"));
	tap_ok(o != NULL && json_array_size(bins) == 4 && nsup == 2 &&
	    json_is_true(json_object_get(json_array_get(bins, 3), "suppressed")) &&
	    json_is_true(json_object_get(json_array_get(bins, 0), "suppressed")) &&
	    json_integer_value(json_object_get(json_array_get(bins, 1), "count")) == 14,
	    "histogram(age): the tail bin of 2 suppressed, and (20, 40] (12, the smallest) with it");
	r = admit("hist", rs, &e);
	tap_ok(r == PHT_OK, "the station's auditor releases the histogram (%s)", e.msg);
	json_decref(o);

	/*
	 * score, 2 missing: 5 values in (40, 50], 33 in (50, 60]. No bin is
	 * under k, but the view's count minus the bins would be the 2 rows
	 * missing: the smaller bin goes.
	 */
	o = run("return {h = data:histogram('score', {40, 50, 60}), n = data:nrows()}", &rs);
	bins = json_object_get(json_object_get(o, "h"), "bins");
	tap_ok(o != NULL && json_array_size(bins) == 2 &&
	    json_is_true(json_object_get(json_array_get(bins, 0), "suppressed")) &&
	    json_integer_value(json_object_get(json_array_get(bins, 1), "count")) == 33,
	    "histogram(score), 2 values missing: (40, 50] (5, the smaller) suppressed");
	r = admit("hist-miss", rs, &e);
	tap_ok(r == PHT_OK, "the station's auditor releases it beside nrows (%s)", e.msg);
	json_decref(o);
}

static void
test_crosstab(void)
{
	struct pht_train_rowsets *rs;
	struct pht_err e;
	json_t *o;
	int r;

	/* crosstab beside both margins (group_by of each column, missing group included) */
	o = run("local t = data:crosstab('arm', 'site')\n"
	    "local a, s = data:group_by('arm'), data:group_by('site')\n"
	    "return {t = t, n = data:nrows()}", &rs);
	tap_ok(o != NULL, "crosstab(arm, site) beside both group_by's and nrows runs");
	r = admit("ct", rs, &e);
	tap_ok(r == PHT_OK, "the station's auditor releases the crosstab with its margins (%s)",
	    e.msg);
	json_decref(o);
}

int
main(void)
{
	char prefix[1100];
	struct pht_err e;

	if (mkdtemp(dir) == NULL || pht_key_generate(PHT_KEY_SIGN, &skey, NULL) != PHT_OK)
		return 1;
	pht_limits_default(&lim);
	lim.k = K;
	snprintf(prefix, sizeof(prefix), "%s/rel", dir);
	if (load() != 0 || pht_station_diff_open(prefix, skey, &aud, &e) != PHT_OK ||
	    pht_station_diff_rowkeys(aud, ds, &keys, &e) != PHT_OK) {
		tap_ok(0, "setup: %s", e.msg);
		return tap_done();
	}
	test_group_by();
	test_aggregate_by();
	test_aggregate_missing();
	test_histogram();
	test_crosstab();
	pht_station_diff_free(aud);
	pht_dataset_free(ds);
	pht_key_free(skey);
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
