/* test_kernels.c — the release kernels (data:km, data:histogram, data:quantile) against km.lua's station() as it was before data:km (km_reference.lua), brute-force counts and hand-computed cases, with their row sets, through the real runtime. */
#include "tap.h"
#include "model_util.h"

#include "pht_buf.h"
#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_train.h"
#include "pht_train_rowsets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 300

/*
 * The "surv" dataset: id, time (integer days 0..700, some missing), ftime
 * (time plus a fraction), wtime (ftime in weeks), status (some missing),
 * ev (0/1), arm a/b/c (some missing), sex, site (integer 1..5, and sites 6
 * and 7 with 2 and 1 rows), age (number, some missing, never in rows
 * 1..5), negt (ftime, row 9 negative).
 */
static const char surv_dict[] =
    "{\"dataset\":\"surv\",\"columns\":["
    "{\"name\":\"id\",\"type\":\"integer\"},"
    "{\"name\":\"time\",\"type\":\"integer\",\"unit\":\"days\"},"
    "{\"name\":\"ftime\",\"type\":\"number\",\"unit\":\"days\"},"
    "{\"name\":\"wtime\",\"type\":\"number\",\"unit\":\"weeks\"},"
    "{\"name\":\"status\",\"type\":\"boolean\"},"
    "{\"name\":\"ev\",\"type\":\"integer\"},"
    "{\"name\":\"arm\",\"type\":\"category\",\"levels\":[\"a\",\"b\",\"c\"]},"
    "{\"name\":\"sex\",\"type\":\"boolean\"},"
    "{\"name\":\"site\",\"type\":\"integer\"},"
    "{\"name\":\"age\",\"type\":\"number\"},"
    "{\"name\":\"negt\",\"type\":\"number\",\"unit\":\"days\"}]}";

/* Ten patients worked by hand (the expected values in main). */
static const char hand_dict[] =
    "{\"dataset\":\"hand\",\"columns\":["
    "{\"name\":\"time\",\"type\":\"integer\",\"unit\":\"days\"},"
    "{\"name\":\"status\",\"type\":\"boolean\"},"
    "{\"name\":\"age\",\"type\":\"number\"}]}";

static const char hand_csv[] =
    "time,status,age\n"
    "5,1,21\n12,0,25\n31,1,33\n40,1,38\n45,0,41\n"
    "61,1,47\n70,0,52\n95,1,58\n100,1,66\n200,0,90\n";

/* The CSV text and, in *rows, the same rows as JSON objects (missing cells absent). */
static char *
make_data(size_t *len, json_t **rows)
{
	struct pht_buf *b = pht_buf_new((size_t)1 << 20);
	uint64_t s = 777;
	char *out;
	int i;

	*rows = json_array();
	if (b == NULL || *rows == NULL)
		return NULL;
	pht_buf_puts(b, "id,time,ftime,wtime,status,ev,arm,sex,site,age,negt\n");
	for (i = 1; i <= N; i++) {
		unsigned t = below(&s, 701), frac = below(&s, 100), st = below(&s, 3) != 0;
		unsigned ev = below(&s, 2), arm = below(&s, 3), sex = below(&s, 2);
		unsigned site = 1 + below(&s, 5), agec = 180 + below(&s, 700);
		int miss_t = i % 41 == 7, miss_s = i % 53 == 11, miss_a = i % 29 == 13;
		int miss_age = i % 31 == 17;
		double ft = t + frac / 100.0, age = agec / 10.0;
		json_t *o = json_object();

		if (i == 100 || i == 200)
			site = 6;
		if (i == 150)
			site = 7;
		json_object_set_new(o, "id", json_integer(i));
		pht_buf_putf(b, "%d,", i);
		if (miss_t)
			pht_buf_puts(b, "NA,NA,NA,");
		else {
			pht_buf_putf(b, "%u,%u.%02u,%.17g,", t, t, frac, ft / 7);
			json_object_set_new(o, "time", json_integer(t));
			json_object_set_new(o, "ftime", json_real(ft));
			json_object_set_new(o, "wtime", json_real(ft / 7));
		}
		if (miss_s)
			pht_buf_puts(b, "NA,");
		else {
			pht_buf_putf(b, "%u,", st);
			json_object_set_new(o, "status", json_boolean(st));
		}
		pht_buf_putf(b, "%u,", ev);
		json_object_set_new(o, "ev", json_integer(ev));
		if (miss_a)
			pht_buf_puts(b, "NA,");
		else {
			pht_buf_putf(b, "%c,", "abc"[arm]);
			json_object_set_new(o, "arm", json_stringn(&"abc"[arm], 1));
		}
		pht_buf_putf(b, "%u,%u,", sex, site);
		json_object_set_new(o, "sex", json_boolean(sex));
		json_object_set_new(o, "site", json_integer(site));
		if (miss_age)
			pht_buf_puts(b, "NA,");
		else {
			pht_buf_putf(b, "%u.%u,", agec / 10, agec % 10);
			json_object_set_new(o, "age", json_real(age));
		}
		if (miss_t)
			pht_buf_puts(b, "NA\n");
		else
			pht_buf_putf(b, "%s%u.%02u\n", i == 9 ? "-" : "", t, frac);
		json_array_append_new(*rows, o);
	}
	out = pht_buf_steal(b, len);
	pht_buf_free(b);
	return out;
}

struct env {
	char *code, *km;
	size_t code_len;
	json_t *rows;
};

/*
 * Runs case `name` over ds with station k and resolution res (NULL: the
 * defaults), extra params merged in; output in *out, row sets in *rs.
 */
static int
run_case(const struct env *e, const char *name, const struct pht_dataset *ds, int64_t k,
    const struct pht_resolution *res, json_t *extra, json_t **out,
    struct pht_train_rowsets **rs, struct pht_err *err)
{
	struct pht_limits lim;
	struct pht_run_stats st;
	json_t *params = json_pack("{s:s, s:s, s:O, s:I}", "case", name, "km_src", e->km,
	    "rows", e->rows, "k", (json_int_t)k);
	int r;

	if (extra != NULL) {
		json_object_update(params, extra);
		json_decref(extra);
	}
	pht_limits_default(&lim);
	lim.k = k;
	lim.wall_seconds = 300;
	lim.resolution = res;
	*out = NULL;
	r = pht_train_run_station_rows(e->code, e->code_len, "kernels_check.lua", ds, params, 1,
	    1, &lim, out, &st, rs, err);
	json_decref(params);
	return r;
}

/* Runs a case and reports each of its checks; then that there were `want` of them. */
static void
checks_case(const struct env *e, const char *name, const struct pht_dataset *ds, int64_t k,
    const struct pht_resolution *res, size_t want)
{
	struct pht_train_rowsets *rs = NULL;
	struct pht_err err;
	json_t *out = NULL;

	if (!tap_ok(run_case(e, name, ds, k, res, NULL, &out, &rs, &err) == PHT_OK,
	    "case %s runs", name)) {
		tap_diag("%s", err.msg);
		return;
	}
	report_checks(name, out, want);
	json_decref(out);
	pht_train_rowsets_free(rs);
}

static void
fatal_case(const struct env *e, const char *name, const struct pht_dataset *ds,
    const char *detail)
{
	struct pht_train_rowsets *rs = NULL;
	struct pht_err err;
	json_t *out = NULL;
	int r = run_case(e, name, ds, 5, NULL, NULL, &out, &rs, &err);

	tap_ok(r == PHT_ERR_DISCLOSURE, "%s: the run ends with a disclosure error (%d)", name, r);
	if (!tap_ok(r != PHT_OK && strstr(err.msg, detail) != NULL, "%s: detail \"%s\"", name,
	    detail) && r != PHT_OK)
		tap_diag("detail: %s", err.msg);
	json_decref(out);
	pht_train_rowsets_free(rs);
}

/* The steps of the only group of a km output as "t:d:c t:d:c ...". */
static void
steps_text(const json_t *out, char *buf, size_t len)
{
	const json_t *g = json_array_get(json_object_get(out, "groups"), 0), *s;
	size_t i, off = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(g, "steps"), i, s) {
		int n = snprintf(buf + off, len - off, "%s%g:%lld:%lld", i ? " " : "",
		    json_number_value(json_object_get(s, "t")),
		    (long long)json_integer_value(json_object_get(s, "d")),
		    (long long)json_integer_value(json_object_get(s, "c")));
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

/* The sizes of the row sets, ascending, as "a,b,c". */
static void
sizes_text(const struct pht_train_rowsets *rs, char *buf, size_t len)
{
	uint64_t sz[64];
	size_t i, j, n = pht_train_rowsets_count(rs), off = 0;

	buf[0] = '\0';
	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		uint64_t v = pht_train_rowsets_size(rs, i);

		for (j = i; j > 0 && sz[j - 1] > v; j--)
			sz[j] = sz[j - 1];
		sz[j] = v;
	}
	for (i = 0; i < n; i++) {
		int w = snprintf(buf + off, len - off, "%s%llu", i ? "," : "",
		    (unsigned long long)sz[i]);
		if (w < 0 || (size_t)w >= len - off)
			return;
		off += (size_t)w;
	}
}

/* The hand KM case at k, interval and min_cell: steps, interval, and row-set sizes. */
static void
hand_km(const struct env *e, const struct pht_dataset *hand, int64_t k, double interval,
    int min_cell, const char *steps, double grid, const char *sizes, int suppressed)
{
	struct pht_train_rowsets *rs = NULL;
	struct pht_err err;
	json_t *out = NULL;
	char got[512], what[96];
	int r;

	snprintf(what, sizeof(what), "hand km k %lld, interval %g, min_cell %d", (long long)k,
	    interval, min_cell);
	r = run_case(e, "hand_km", hand, k, NULL, json_pack("{s:f, s:i}", "interval", interval,
	    "min_cell", min_cell), &out, &rs, &err);
	if (!tap_ok(r == PHT_OK, "%s runs", what)) {
		tap_diag("%s", err.msg);
		return;
	}
	steps_text(out, got, sizeof(got));
	tap_str(got, steps, "%s: steps", what);
	tap_ok(json_number_value(json_object_get(out, "interval")) == grid,
	    "%s: released on a grid of %g", what, grid);
	tap_ok(json_integer_value(json_object_get(out, "suppressed_groups")) == suppressed &&
	    json_integer_value(json_object_get(out, "n")) == 10,
	    "%s: n 10, %d suppressed group(s)", what, suppressed);
	sizes_text(rs, got, sizeof(got));
	tap_str(got, sizes, "%s: row sets", what);
	json_decref(out);
	pht_train_rowsets_free(rs);
}

int
main(void)
{
	const char *src = getenv("PHT_SRC");
	struct pht_dataset *ds = NULL, *hand = NULL;
	struct pht_train_rowsets *rs = NULL;
	struct pht_resolution res;
	struct pht_resolution_grid grid = {"ftime", 15};
	struct pht_err err;
	struct env e;
	char path[4096], *csv, got[512];
	size_t len, n;
	json_t *out = NULL, *bins;

	memset(&e, 0, sizeof(e));
	if (src == NULL)
		src = ".";
	snprintf(path, sizeof(path), "%s/tests/model/kernels_check.lua", src);
	e.code = read_file(path, &e.code_len);
	snprintf(path, sizeof(path), "%s/tests/model/km_reference.lua", src);
	e.km = read_file(path, &n);
	csv = make_data(&len, &e.rows);
	if (e.code == NULL || e.km == NULL || csv == NULL) {
		printf("Bail out! cannot read the check train or km_reference.lua under %s\n", src);
		return 1;
	}
	if (pht_dataset_load_mem(csv, len, surv_dict, strlen(surv_dict), "surv.csv", &ds,
	    &err) != PHT_OK || pht_dataset_load_mem(hand_csv, strlen(hand_csv), hand_dict,
	    strlen(hand_dict), "hand.csv", &hand, &err) != PHT_OK) {
		printf("Bail out! cannot load the test data: %s\n", err.msg);
		return 1;
	}

	/* km.lua's numbers exactly at k = 1; merged as km.lua merges at k = 5 */
	checks_case(&e, "km_equal", ds, 1, NULL, 59);
	checks_case(&e, "km_merge", ds, 5, NULL, 25);
	checks_case(&e, "km_errors", ds, 5, NULL, 6);
	/* the policy: 60 days and at least 4 patients a step */
	pht_resolution_default(&res);
	res.time_days = 60;
	res.km_min_cell = 4;
	checks_case(&e, "km_policy", ds, 1, &res, 48);
	/* histograms and quantiles at k = 5 against brute force; a grid of 15 for ftime */
	pht_resolution_default(&res);
	res.grids = &grid;
	res.ngrids = 1;
	checks_case(&e, "histogram", ds, 5, &res, 13);
	checks_case(&e, "quantile", ds, 5, NULL, 16);

	fatal_case(&e, "under_k", ds, "subset smaller than k");
	fatal_case(&e, "km_negative", ds, "km: refused: time: column 'negt' has a negative");

	/*
	 * By hand, times (status) 5 (1), 12 (0), 31 (1), 40 (1), 45 (0), 61 (1),
	 * 70 (0), 95 (1), 100 (1), 200 (0): on a grid of 30 they fall at 30 30
	 * 60 60 60 90 90 120 120 210.
	 */
	hand_km(&e, hand, 1, 30, 1, "30:1:1 60:2:1 90:1:1 120:2:0 210:0:1", 30,
	    "1,2,2,2,3,10", 0);
	/* m = 3: 30 (2) joins 60 (3), 90 (2) joins 120 (2), the tail 210 (1) joins 120 */
	hand_km(&e, hand, 3, 30, 1, "60:3:2 120:3:2", 30, "5,5,10", 0);
	/* m = 6: 30+60+90 = 7 released at 90; 120 and 210 are a tail of 3 joining it */
	hand_km(&e, hand, 3, 30, 6, "90:6:4", 30, "10", 0);
	/* interval 45 under a resolution of 30: the grid is 60 (45 rounded up to a multiple of 30) */
	hand_km(&e, hand, 1, 45, 1, "60:3:2 120:3:1 240:0:1", 60, "1,4,5,10", 0);
	/* m = 11 > 10 patients: the group is suppressed, only the complete cases are recorded */
	hand_km(&e, hand, 1, 30, 11, "", 30, "10", 1);

	/*
	 * Histogram by hand, k = 3, edges 35 50 70: below 21 25 33 (3), 38 41 47
	 * (3), 52 58 66 (3), above 90 (1): above is suppressed and, so that it
	 * cannot be had from the total, the first smallest released cell too.
	 */
	if (tap_ok(run_case(&e, "hand_hist", hand, 3, NULL, json_pack("{s:[f,f,f]}", "edges",
	    35.0, 50.0, 70.0), &out, &rs, &err) == PHT_OK, "hand histogram runs")) {
		bins = json_object_get(out, "bins");
		tap_ok(json_is_true(json_object_get(out, "above_suppressed")) &&
		    json_object_get(out, "above") == NULL, "hand histogram: above (1 value) suppressed");
		tap_ok(json_is_true(json_object_get(out, "below_suppressed")) &&
		    json_object_get(out, "below") == NULL,
		    "hand histogram: below suppressed as the complement");
		tap_ok(json_array_size(bins) == 2 &&
		    json_integer_value(json_object_get(json_array_get(bins, 0), "count")) == 3 &&
		    json_integer_value(json_object_get(json_array_get(bins, 1), "count")) == 3 &&
		    json_is_false(json_object_get(json_array_get(bins, 1), "suppressed")),
		    "hand histogram: (35,50] 3, (50,70] 3");
		sizes_text(rs, got, sizeof(got));
		tap_str(got, "3,3,10", "hand histogram: row sets of the view and the two bins");
	} else
		tap_diag("%s", err.msg);
	json_decref(out);
	pht_train_rowsets_free(rs);
	rs = NULL;

	/*
	 * glm_step by hand, age ~ status + time: besides the view (the complete
	 * cases, all 10 rows) the 6 rows with status 1, the one binary term
	 * (time is not 0/1: its products are sums over the complete cases),
	 * and the 4 with status 0: a 0/1 column's two values are cells.
	 */
	if (tap_ok(run_case(&e, "hand_model", hand, 3, NULL, NULL, &out, &rs, &err) == PHT_OK,
	    "hand glm_step runs")) {
		sizes_text(rs, got, sizeof(got));
		tap_str(got, "4,6,10", "glm_step: row sets of the complete cases and of status = 1 "
		    "and 0");
	} else
		tap_diag("%s", err.msg);
	json_decref(out);
	pht_train_rowsets_free(rs);
	rs = NULL;

	/* quantile by hand, k = 3: blocks 21 25 33 | 38 41 47 | 52 58 66 90 */
	if (tap_ok(run_case(&e, "hand_quantile", hand, 3, NULL, json_pack("{s:f}", "p", 0.5),
	    &out, &rs, &err) == PHT_OK, "hand quantile runs")) {
		tap_ok(json_number_value(json_object_get(out, "value")) == 42 &&
		    json_integer_value(json_object_get(out, "count")) == 3,
		    "median: the mean of 38 41 47 (rank 4.5 rounds to 5, block 2)");
		sizes_text(rs, got, sizeof(got));
		tap_str(got, "3,10", "median: row sets of the view and the block");
	} else
		tap_diag("%s", err.msg);
	json_decref(out);
	pht_train_rowsets_free(rs);
	rs = NULL;
	if (tap_ok(run_case(&e, "hand_quantile", hand, 3, NULL, json_pack("{s:f}", "p", 1.0),
	    &out, &rs, &err) == PHT_OK, "hand quantile p = 1 runs")) {
		tap_ok(json_number_value(json_object_get(out, "value")) == 66.5 &&
		    json_integer_value(json_object_get(out, "count")) == 4,
		    "p = 1: the mean of the last block 52 58 66 90, never the maximum");
	} else
		tap_diag("%s", err.msg);
	json_decref(out);
	pht_train_rowsets_free(rs);

	pht_dataset_free(ds);
	pht_dataset_free(hand);
	json_decref(e.rows);
	free(e.code);
	free(e.km);
	free(csv);
	return tap_done();
}
