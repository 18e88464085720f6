/* test_train_data_groups.c — group_by, key folding, crosstab (folded and complementary cells) and removed rows against a naive computation over the generator's arrays. */
#include "tap.h"
#include "train_data_fixture.h"

#include "pht_err.h"
#include "pht_json.h"
#include "pht_train.h"
#include "pht_train_rowsets.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
test_group_by(void)
{
	size_t cnt[3] = {0, 0, 0}, scnt[5] = {0}, i, smiss = 0;
	double asum[3] = {0, 0, 0};
	size_t acnt[3] = {0, 0, 0};
	json_t *o, *e;
	int64_t saved_k = lim.k;
	int j, ok;

	for (i = 0; i < N; i++) {
		cnt[g.sex[i]]++;
		if (!g.age_miss[i]) {
			asum[g.sex[i]] += g.age[i];
			acnt[g.sex[i]]++;
		}
		if (g.stage_miss[i])
			smiss++;
		else
			scnt[g.stage[i]]++;
	}
	lim.k = (int64_t)cnt[2] + 1;    /* X is rare: suppressed */
	tap_ok(cnt[0] >= (size_t)lim.k && cnt[1] >= (size_t)lim.k && cnt[2] > 0,
	    "generator: F and M above k, X below");
	o = run_body("local out = {}\n"
	    "for i, grp in ipairs(data:group_by('sex')) do\n"
	    "  out[i] = {key = grp.key, n = grp.n, suppressed = grp.suppressed,\n"
	    "    mean = grp.data and grp.data:column('age'):mean()}\n"
	    "end\nreturn out", 1);
	tap_ok(json_array_size(o) == 3, "group_by(sex) gives one group per level");
	/* X is small: the smaller of F and M is suppressed with it (complementary) */
	e = json_array_get(o, cnt[0] < cnt[1] ? 0 : 1);
	tap_ok(json_is_true(json_object_get(e, "suppressed")) && json_object_get(e, "n") == NULL &&
	    json_object_get(e, "mean") == NULL,
	    "group %s (%zu rows, the smaller released one) is suppressed with X: F and M minus "
	    "the view would give X's rows", cnt[0] < cnt[1] ? "F" : "M",
	    cnt[0] < cnt[1] ? cnt[0] : cnt[1]);
	for (j = 0; j < 2; j++) {
		if (j == (cnt[0] < cnt[1] ? 0 : 1))
			continue;
		e = json_array_get(o, (size_t)j);
		tap_ok(strcmp(str(e, "key"), j == 0 ? "F" : "M") == 0 &&
		    num(e, "n") == (double)cnt[j] &&
		    near(num(e, "mean"), asum[j] / (double)acnt[j]),
		    "group %s: n = %zu and its view's mean", j == 0 ? "F" : "M", cnt[j]);
	}
	e = json_array_get(o, 2);
	tap_ok(strcmp(str(e, "key"), "X") == 0 && json_is_true(json_object_get(e, "suppressed")) &&
	    json_object_get(e, "n") == NULL && json_object_get(e, "mean") == NULL,
	    "group X (%zu rows < k = %lld) is suppressed without a count", cnt[2],
	    (long long)lim.k);
	json_decref(o);
	lim.k = saved_k;

	o = run_body("local out = {}\n"
	    "for i, grp in ipairs(data:group_by('stage')) do\n"
	    "  out[i] = {key = grp.key, n = grp.n, missing = grp.missing} end\n"
	    "return out", 1);
	ok = json_array_size(o) == 5;
	for (j = 0; ok && j < 4; j++) {
		e = json_array_get(o, (size_t)j);
		ok = num(e, "key") == j + 1 && num(e, "n") == (double)scnt[j + 1];
	}
	e = json_array_get(o, 4);
	tap_ok(ok && json_is_true(json_object_get(e, "missing")) && num(e, "n") == (double)smiss,
	    "group_by(stage): integer keys 1..4 and a missing group of %zu", smiss);
	json_decref(o);

	o = run_body("local g = data:group_by('smoker')\n"
	    "return {k1 = g[1].key, k2 = g[2].key, n2 = g[2].n}", 1);
	for (i = 0, cnt[0] = 0; i < N; i++)
		cnt[0] += (size_t)g.smoker[i];
	tap_ok(o != NULL && json_is_false(json_object_get(o, "k1")) &&
	    json_is_true(json_object_get(o, "k2")) && num(o, "n2") == (double)cnt[0],
	    "group_by(smoker): false then true");
	json_decref(o);
}

/* Entry e is the folded small groups: {suppressed = true} and nothing else. */
static int
is_folded(const json_t *e)
{
	return json_is_true(json_object_get(e, "suppressed")) && json_object_size(e) == 1;
}

/*
 * Integer and date keys are values: groups of 0 < n < k rows lose their
 * key and fold into one {suppressed = true} entry before the missing
 * group, in group_by and aggregate_by alike.
 */
void
test_key_folding(void)
{
	size_t cnt[5] = {0}, i, j, m = 300, nmiss = 0, mx = 0, mn = SIZE_MAX, nrel = 0;
	int64_t saved_k = lim.k;
	json_t *o, *e;
	int ok, w;

	for (i = 0; i < m; i++) {
		if (g.stage_miss[i])
			nmiss++;
		else
			cnt[g.stage[i]]++;
	}
	for (j = 1; j <= 4; j++) {
		mx = cnt[j] > mx ? cnt[j] : mx;
		mn = cnt[j] < mn ? cnt[j] : mn;
	}
	lim.k = (int64_t)mx;    /* the largest stage groups released, the others small */
	for (j = 1; j <= 4; j++)
		nrel += cnt[j] == mx;
	tap_ok(mn > 0 && mn < mx && nmiss > 0,
	    "generator: the first %zu rows have stage groups of %zu..%zu rows and %zu missing",
	    m, mn, mx, nmiss);
	for (w = 0; w < 2; w++) {
		o = run_body(w == 0 ? "local gb = data:where('id', '<=', 300):group_by('stage')\n"
		    "for _, e in ipairs(gb) do e.data = nil end\nreturn gb" :
		    "return data:where('id', '<=', 300):aggregate_by('stage', {'age'})", 1);
		ok = json_array_size(o) == nrel + 2;
		for (i = 0, j = 1; ok && j <= 4; j++) {
			if (cnt[j] != mx)
				continue;
			e = json_array_get(o, i++);
			ok = num(e, "key") == (double)j && num(e, "n") == (double)mx;
		}
		e = json_array_get(o, nrel);
		ok = ok && is_folded(e);
		e = json_array_get(o, nrel + 1);
		ok = ok && json_is_true(json_object_get(e, "missing")) &&
		    json_object_get(e, "key") == NULL &&
		    (nmiss >= mx ? num(e, "n") == (double)nmiss :
		    json_is_true(json_object_get(e, "suppressed")));
		tap_ok(o != NULL && ok, "%s on an integer key at k = %zu: %zu released groups with "
		    "keys, then one {suppressed = true} without key for the %zu small ones, then "
		    "the missing group", w == 0 ? "group_by" : "aggregate_by", mx, nrel, 4 - nrel);
		json_decref(o);
	}
	lim.k = saved_k;

	/* dates: nearly every day is a group of one; at k = 5 none shows its key */
	{
		size_t dmiss = 0;

		for (i = 0; i < N; i++)
			dmiss += (size_t)g.dx_miss[i];
		o = run_body("local gb, ab = data:group_by('dx'), data:aggregate_by('dx', {'age'})\n"
		    "for _, e in ipairs(gb) do e.data = nil end\n"
		    "return {gb = gb, ab = ab}", 1);
		ok = 1;
		for (w = 0; w < 2; w++) {
			json_t *l = json_object_get(o, w == 0 ? "gb" : "ab");
			size_t n = json_array_size(l);

			ok = ok && n >= 2 && is_folded(json_array_get(l, n - 2)) &&
			    json_is_true(json_object_get(json_array_get(l, n - 1), "missing")) &&
			    num(json_array_get(l, n - 1), "n") == (double)dmiss;
			for (i = 0; ok && i + 2 < n; i++)
				ok = num(json_array_get(l, i), "n") >= 5;
		}
		tap_ok(o != NULL && ok, "group_by and aggregate_by(dx): only days of >= 5 rows keep "
		    "their key; the rest is one folded entry, then the %zu rows missing dx", dmiss);
		json_decref(o);
	}
}

void
test_crosstab(void)
{
	size_t cells[3][4], i;
	json_t *o, *counts, *c;
	int a, b, ok = 1, nprim = 0, nsup = 0, lines_ok = 1;
	int sup[3][4];

	memset(cells, 0, sizeof(cells));
	for (i = 0; i < N; i++)
		if (!g.stage_miss[i])
			cells[g.sex[i]][g.stage[i] - 1]++;
	lim.k = 10;
	/* the rows with a stage: none hidden in a line (missing the other column) */
	o = run_body("return data:where('stage', 'notnull'):crosstab('sex', 'stage')", 1);
	lim.k = 5;
	counts = json_object_get(o, "counts");
	tap_ok(json_array_size(json_object_get(o, "rows")) == 3 &&
	    json_array_size(json_object_get(o, "cols")) == 4 && json_array_size(counts) == 3,
	    "crosstab(sex, stage) is 3 x 4");
	for (a = 0; a < 3; a++)
		for (b = 0; b < 4; b++) {
			c = json_array_get(json_array_get(counts, (size_t)a), (size_t)b);
			sup[a][b] = json_is_object(c) && json_is_true(json_object_get(c, "suppressed"));
			nsup += sup[a][b];
			if (cells[a][b] > 0 && cells[a][b] < 10) {
				nprim++;
				ok = ok && sup[a][b];
			} else if (!sup[a][b])
				ok = ok && json_is_integer(c) &&
				    json_integer_value(c) == (json_int_t)cells[a][b];
		}
	tap_ok(ok, "crosstab: every cell under k = 10 suppressed (%d), every released cell "
	    "equals the naive count", nprim);
	/* no line has exactly one suppressed cell beside a non-zero released one */
	for (a = 0; a < 3; a++) {
		int n1 = 0, rel = 0;

		for (b = 0; b < 4; b++) {
			n1 += sup[a][b];
			rel += !sup[a][b] && cells[a][b] > 0;
		}
		lines_ok = lines_ok && !(n1 == 1 && rel > 0);
	}
	for (b = 0; b < 4; b++) {
		int n1 = 0, rel = 0;

		for (a = 0; a < 3; a++) {
			n1 += sup[a][b];
			rel += !sup[a][b] && cells[a][b] > 0;
		}
		lines_ok = lines_ok && !(n1 == 1 && rel > 0);
	}
	tap_ok(lines_ok && nsup > nprim, "complementary suppression: %d cells suppressed in all "
	    "(%d primary); no row or column is left with a single suppressed cell", nsup, nprim);
	tap_str(json_string_value(json_array_get(json_object_get(o, "rows"), 1)), "M",
	    "crosstab row keys are level names");
	json_decref(o);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * crosstab over a date key at k = 5: the days of >= 5 rows are lines with
 * their key, all other days one last line {suppressed = true}, whose
 * cells count the rows of those days by sex.
 */
void
test_crosstab_folded(void)
{
	int64_t *days = calloc(N, sizeof(int64_t));
	size_t i, j, n = 0, nbig = 0, small[3] = {0, 0, 0}, run;
	json_t *o, *rows, *last;
	int ok;

	for (i = 0; days != NULL && i < N; i++)
		if (!g.dx_miss[i])
			days[n++] = g.dx[i];
	qsort(days, n, sizeof(int64_t), cmp_i64);
	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && days[i + run] == days[i]; run++)
			;
		nbig += run >= 5;
	}
	for (i = 0; i < N; i++) {
		size_t same = 0;

		if (g.dx_miss[i])
			continue;
		for (j = 0; j < N; j++)
			same += !g.dx_miss[j] && g.dx[j] == g.dx[i];
		if (same < 5)
			small[g.sex[i]]++;
	}
	free(days);
	o = run_body("return data:where('dx', 'notnull'):crosstab('dx', 'sex')", 1);
	rows = json_object_get(o, "rows");
	last = json_array_get(json_object_get(o, "counts"), json_array_size(rows) - 1);
	ok = json_array_size(rows) == nbig + 1 && is_folded(json_array_get(rows, nbig));
	for (j = 0; ok && j < 3; j++)
		ok = small[j] >= 5 ? json_integer_value(json_array_get(last, j)) == (json_int_t)small[j] :
		    json_is_true(json_object_get(json_array_get(last, j), "suppressed"));
	tap_ok(o != NULL && ok, "crosstab(dx, sex): %zu days of >= 5 rows keep their key, the rest "
	    "is one {suppressed = true} line counting %zu, %zu and %zu rows", nbig, small[0],
	    small[1], small[2]);
	json_decref(o);
}

/*
 * Complementary suppression on a table built by hand (k = 5):
 *
 *        x   y   z
 *   p    3  10   7     row p: x is the one primary cell
 *   q    6   8   9
 *   r   12   0   5
 *
 * p.x (3) is primary; row p then has one suppressed cell, so its smallest
 * released cell p.z (7) goes; column x: q.x (6); column z: r.z (5); row q:
 * q.y (8); row r: r.x (12, as r.y is 0); column y: p.y (10). Left: q.z = 9
 * and r.y = 0. Only q.z's rows are a recorded row set (r.y is empty).
 */
void
test_crosstab_complementary(void)
{
	static const int tab[3][3] = {{3, 10, 7}, {6, 8, 9}, {12, 0, 5}};
	static const char dict[] = "{\"dataset\":\"ct\",\"columns\":["
	    "{\"name\":\"a\",\"type\":\"category\",\"levels\":[\"p\",\"q\",\"r\"]},"
	    "{\"name\":\"b\",\"type\":\"category\",\"levels\":[\"x\",\"y\",\"z\"]},"
	    "{\"name\":\"n\",\"type\":\"integer\"}]}";
	static const char code[] = "return { name = 'ct', version = '1',\n"
	    "station = function(data) return data:crosstab('a', 'b') end,\n"
	    "combine = function() return {done = true, result = 0} end }\n";
	struct pht_dataset *ct = NULL;
	struct pht_train_rowsets *rs = NULL;
	char csv[4096];
	size_t len, i;
	int a, b, t, ok = 1;
	json_t *o = NULL, *c;

	len = (size_t)snprintf(csv, sizeof(csv), "a,b,n\n");
	for (a = 0; a < 3; a++)
		for (b = 0; b < 3; b++)
			for (t = 0; t < tab[a][b]; t++)
				len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%c,%c,%d\n",
				    "pqr"[a], "xyz"[b], t);
	len += (size_t)snprintf(csv + len, sizeof(csv) - len, "NA,x,0\np,NA,0\n");
	if (pht_dataset_load_mem(csv, len, dict, strlen(dict), "ct.csv", &ct, &run_err) != PHT_OK) {
		tap_ok(0, "the crosstab dataset loads: %s", run_err.msg);
		return;
	}
	if (pht_train_run_station_rows(code, strlen(code), "ct.lua", ct, NULL, 1, 1, &lim, &o,
	    &st, &rs, &run_err) != PHT_OK)
		tap_diag("crosstab failed: %s", run_err.msg);
	for (a = 0; a < 3; a++)
		for (b = 0; b < 3; b++) {
			c = json_array_get(json_array_get(json_object_get(o, "counts"), (size_t)a),
			    (size_t)b);
			if ((a == 1 && b == 2) || (a == 2 && b == 1))
				ok = ok && json_is_integer(c) &&
				    json_integer_value(c) == tab[a][b];
			else
				ok = ok && json_is_true(json_object_get(c, "suppressed"));
		}
	tap_ok(o != NULL && ok, "a row with exactly one primary cell: complementary suppression "
	    "leaves only q.z = 9 and r.y = 0");
	for (i = 0, t = 0; rs != NULL && i < pht_train_rowsets_count(rs); i++)
		t += pht_train_rowsets_size(rs, i) == 9;
	tap_ok(rs != NULL && pht_train_rowsets_count(rs) == 1 && t == 1,
	    "only the released non-zero cell's rows are recorded (1 set of 9 rows; %zu sets)",
	    rs != NULL ? pht_train_rowsets_count(rs) : 0);
	json_decref(o);
	pht_train_rowsets_free(rs);
	pht_dataset_free(ct);
}

/*
 * No row-level value reaches a train: each removed call raises an error
 * the train can catch, naming docs/train-api.md; the aggregates carry no
 * minimum or maximum.
 */
void
test_removed(void)
{
	static const struct {
		const char *call, *what;
	} calls[] = {
		{"data:column('age'):values()", "col:values()"},
		{"data:column('age')[1]", "col[i]"},
		{"data:column('age')[0]", "col[i]"},
		{"data:column('stage')[1.5]", "col[i]"},
		{"data:column('age'):min()", "col:min()"},
		{"data:column('dx'):max()", "col:max()"},
		{"data:where('sex', '==', 'F'):column('age'):max()", "col:max()"},
		{"data:filter(function(row) return true end)", "data:filter()"},
		{"data:order('age', 'desc')", "data:order()"},
		{"data:order('age')", "data:order()"},
	};
	char body[512], want[256];
	size_t i;
	json_t *o;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		snprintf(body, sizeof(body), "local ok, e = pcall(function() return %s end)\n"
		    "return {ok = ok, e = tostring(e), after = data:column('id'):sum()}",
		    calls[i].call);
		snprintf(want, sizeof(want), "%s is not available: no row-level value reaches a "
		    "train (docs/train-api.md)", calls[i].what);
		o = run_body(body, 1);
		tap_ok(o != NULL && json_is_false(json_object_get(o, "ok")) &&
		    strstr(str(o, "e"), want) != NULL &&
		    json_integer_value(json_object_get(o, "after")) == (json_int_t)N * (N + 1) / 2,
		    "%s raises a catchable error: %s", calls[i].call, str(o, "e"));
		json_decref(o);
	}
	/* uncaught: the run fails as a train error with the same text */
	o = run_body("return data:column('age'):values()", 1);
	tap_ok(o == NULL && run_err.code == PHT_ERR_TRAIN &&
	    strstr(run_err.msg, "col:values() is not available: no row-level value reaches a train "
	    "(docs/train-api.md)") != NULL, "uncaught, values() fails the run: %s", run_err.msg);
	o = run_body("local a = data:aggregate({'age', 'stage', 'smoker'}).stats\n"
	    "local by = data:aggregate_by('sex', {'age', 'stage'})\n"
	    "local found = {}\n"
	    "for _, t in ipairs({a.age, a.stage, a.smoker, by[1].stats.age, by[2].stats.stage}) do\n"
	    "  for k in pairs(t) do if k == 'min' or k == 'max' then found[#found + 1] = k end end\n"
	    "end\n"
	    "return {found = #found, n = a.age.n}", 1);
	tap_ok(o != NULL && num(o, "found") == 0 && num(o, "n") > 0,
	    "aggregate and aggregate_by stats have no min and no max");
	json_decref(o);
}
