/* test_model.c — the model kernels (data:cox_stratum, data:glm_step) against straightforward Lua references, through the real runtime. */
#include "tap.h"
#include "model_util.h"

#include "pht_buf.h"
#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_train.h"
#include "pht_train_assemble.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 240

/*
 * The "model" dataset, in dictionary order: id, site a/b/c, time 1..25
 * (integer, ties, ~3% missing), status, x1 (number, 5% missing), grp
 * g1/g2/g3 (some missing), flag, age, ev01 (0/1), evcode (1/2), y (number,
 * not whole), cnt (0..6), bin no/yes, off, dx (date), one (a one-level
 * category), rare (2 rows true), rareev (3 rows true), negt (time + 0.5,
 * row 7 negative).
 */
static const char model_dict[] =
    "{\"dataset\":\"model\",\"columns\":["
    "{\"name\":\"id\",\"type\":\"integer\"},"
    "{\"name\":\"site\",\"type\":\"category\",\"levels\":[\"a\",\"b\",\"c\"]},"
    "{\"name\":\"time\",\"type\":\"integer\"},"
    "{\"name\":\"status\",\"type\":\"boolean\"},"
    "{\"name\":\"x1\",\"type\":\"number\"},"
    "{\"name\":\"grp\",\"type\":\"category\",\"levels\":[\"g1\",\"g2\",\"g3\"]},"
    "{\"name\":\"flag\",\"type\":\"boolean\"},"
    "{\"name\":\"age\",\"type\":\"integer\"},"
    "{\"name\":\"ev01\",\"type\":\"integer\"},"
    "{\"name\":\"evcode\",\"type\":\"integer\"},"
    "{\"name\":\"y\",\"type\":\"number\"},"
    "{\"name\":\"cnt\",\"type\":\"integer\"},"
    "{\"name\":\"bin\",\"type\":\"category\",\"levels\":[\"no\",\"yes\"]},"
    "{\"name\":\"off\",\"type\":\"number\"},"
    "{\"name\":\"dx\",\"type\":\"date\"},"
    "{\"name\":\"one\",\"type\":\"category\",\"levels\":[\"only\"]},"
    "{\"name\":\"rare\",\"type\":\"boolean\"},"
    "{\"name\":\"rareev\",\"type\":\"boolean\"},"
    "{\"name\":\"cellgrp\",\"type\":\"boolean\"},"
    "{\"name\":\"cellev\",\"type\":\"integer\"},"
    "{\"name\":\"negt\",\"type\":\"number\"}]}";

/* Hand-sized strata: part a (3 deaths), b (a tie), one (a single event), none (all censored). */
static const char hand_dict[] =
    "{\"dataset\":\"hand\",\"columns\":["
    "{\"name\":\"part\",\"type\":\"category\",\"levels\":[\"a\",\"b\",\"one\",\"none\"]},"
    "{\"name\":\"time\",\"type\":\"number\"},"
    "{\"name\":\"status\",\"type\":\"boolean\"},"
    "{\"name\":\"x\",\"type\":\"number\"}]}";

static const char hand_csv[] =
    "part,time,status,x\n"
    "a,1,1,0\na,2,1,1\na,3,1,0\n"
    "b,4,1,0\nb,4,1,1\n"
    "one,5,0,0.5\none,6,0,1.5\none,7,1,2\none,7,0,-1\none,8,0,0\none,9,0,NA\none,10,0,1\n"
    "none,1,0,1\nnone,2,0,2\nnone,2,0,3\nnone,3,0,0\nnone,4,0,1\nnone,5,0,2\nnone,6,0,0\nnone,9,0,1\n";

static char *
make_csv(size_t *len)
{
	struct pht_buf *b = pht_buf_new((size_t)1 << 20);
	uint64_t s = 12345;
	char *out;
	int i;

	if (b == NULL)
		return NULL;
	pht_buf_puts(b, "id,site,time,status,x1,grp,flag,age,ev01,evcode,y,cnt,bin,off,dx,one,"
	    "rare,rareev,cellgrp,cellev,negt\n");
	for (i = 1; i <= N; i++) {
		unsigned t = 1 + below(&s, 25);
		int st = below(&s, 3) != 0;
		int x1c = (int)below(&s, 4001) - 2000;          /* x1 = x1c / 1000 */
		unsigned grp = below(&s, 3), age = 30 + below(&s, 51), cnt = below(&s, 7);
		int yc = (int)below(&s, 100001) - 30000;          /* y = yc / 1000 */
		int offc = (int)below(&s, 2001) - 1000;            /* off = offc / 1000 */

		pht_buf_putf(b, "%d,%c,", i, "abc"[below(&s, 3)]);
		if (i % 33 == 5)
			pht_buf_puts(b, "NA,");
		else
			pht_buf_putf(b, "%u,", t);
		pht_buf_putf(b, "%d,", st);
		if (i % 20 == 3)
			pht_buf_puts(b, ",");
		else
			pht_buf_putf(b, "%s%d.%03d,", x1c < 0 ? "-" : "", abs(x1c) / 1000, abs(x1c) % 1000);
		if (i % 37 == 9)
			pht_buf_puts(b, "NA,");
		else
			pht_buf_putf(b, "g%u,", grp + 1);
		pht_buf_putf(b, "%d,%u,%d,%d,", below(&s, 2) == 0, age, st, 1 + (below(&s, 5) == 0));
		pht_buf_putf(b, "%s%d.%03d,%u,%s,", yc < 0 ? "-" : "", abs(yc) / 1000, abs(yc) % 1000,
		    cnt, below(&s, 3) == 0 ? "yes" : "no");
		pht_buf_putf(b, "%s%d.%03d,2020-01-%02d,only,", offc < 0 ? "-" : "", abs(offc) / 1000,
		    abs(offc) % 1000, 1 + i % 28);
		pht_buf_putf(b, "%d,%d,", i == 10 || i == 30, i == 11 || i == 31 || i == 51);
		/* rows 1-60: cellgrp on 6 rows, 2 of them with cellev (outcome_cell_*) */
		pht_buf_putf(b, "%d,%d,", i <= 60 && i % 10 == 0,
		    i <= 60 && ((i % 10 == 0 && i <= 20) || (i % 10 >= 1 && i % 10 <= 3)));
		if (i == 7)
			pht_buf_puts(b, "-1.5\n");
		else
			pht_buf_putf(b, "%u.5\n", t);
	}
	out = pht_buf_steal(b, len);
	pht_buf_free(b);
	return out;
}

/* A standard train, assembled (trains/pht_train_assemble.h); NULL on failure. */
static char *
read_train(const char *path)
{
	struct pht_buf *b = NULL;
	struct pht_err err;
	char *out;

	if (pht_train_assemble(path, NULL, (size_t)4 << 20, &b, &err) != PHT_OK) {
		printf("# %s\n", err.msg);
		return NULL;
	}
	out = pht_buf_steal(b, NULL);
	pht_buf_free(b);
	return out;
}

struct env {
	char *code, *cox, *glm;
	size_t code_len;
};

/* Runs case `name` over ds with station k; returns the run's result code, output in *out. */
static int
run_case(const struct env *e, const char *name, const struct pht_dataset *ds, int64_t k,
    json_t **out, struct pht_run_stats *st, struct pht_err *err)
{
	struct pht_limits lim;
	json_t *params = json_pack("{s:s, s:s, s:s}", "case", name, "cox_src", e->cox,
	    "glm_src", e->glm);
	int r;

	pht_limits_default(&lim);
	lim.k = k;
	lim.wall_seconds = 300;
	/* the brute-force references read the rows (col:values()), as a permit allows */
	lim.row_access = 1;
	*out = NULL;
	r = pht_train_run_station(e->code, e->code_len, "model_check.lua", ds, params, 1, 1, &lim,
	    out, st, err);
	json_decref(params);
	return r;
}

/* Runs a case and reports each of its checks as a TAP line; then that there were `want` of them. */
static void
checks_case(const struct env *e, const char *name, const struct pht_dataset *ds, int64_t k,
    size_t want)
{
	struct pht_run_stats st;
	struct pht_err err;
	json_t *out = NULL;
	int r = run_case(e, name, ds, k, &out, &st, &err);

	if (!tap_ok(r == PHT_OK, "case %s runs", name)) {
		tap_diag("%s", err.msg);
		return;
	}
	report_checks(name, out, want);
	json_decref(out);
}

static void
fatal_case(const struct env *e, const char *name, const struct pht_dataset *ds, const char *detail)
{
	struct pht_run_stats st;
	struct pht_err err;
	json_t *out = NULL;
	int r = run_case(e, name, ds, 5, &out, &st, &err);

	tap_ok(r == PHT_ERR_DISCLOSURE, "%s: the run ends with a disclosure error (%d)", name, r);
	tap_ok(r != PHT_OK && strstr(err.msg, detail) != NULL, "%s: detail \"%s\"", name, detail);
	if (r != PHT_OK && strstr(err.msg, detail) == NULL)
		tap_diag("detail: %s", err.msg);
	json_decref(out);
}

int
main(void)
{
	const char *src = getenv("PHT_SRC");
	struct pht_dataset *ds = NULL, *hand = NULL;
	struct pht_run_stats st;
	struct pht_err err;
	struct env e;
	char path[4096], *csv;
	size_t len;
	json_t *out = NULL;

	memset(&e, 0, sizeof(e));
	if (src == NULL)
		src = ".";
	snprintf(path, sizeof(path), "%s/tests/model/model_check.lua", src);
	e.code = read_file(path, &e.code_len);
	/* the standard trains as they are signed: their includes assembled */
	snprintf(path, sizeof(path), "%s/trains/std/cox.lua", src);
	e.cox = read_train(path);
	snprintf(path, sizeof(path), "%s/trains/std/glm.lua", src);
	e.glm = read_train(path);
	csv = make_csv(&len);
	if (e.code == NULL || e.cox == NULL || e.glm == NULL || csv == NULL) {
		printf("Bail out! cannot read the check train or the standard trains under %s\n", src);
		return 1;
	}
	if (pht_dataset_load_mem(csv, len, model_dict, strlen(model_dict), "model.csv", &ds,
	    &err) != PHT_OK || pht_dataset_load_mem(hand_csv, strlen(hand_csv), hand_dict,
	    strlen(hand_dict), "hand.csv", &hand, &err) != PHT_OK) {
		printf("Bail out! cannot load the test data: %s\n", err.msg);
		return 1;
	}

	checks_case(&e, "cox", ds, 5, 41);
	checks_case(&e, "strata", ds, 5, 42);
	checks_case(&e, "glm", ds, 5, 125);
	checks_case(&e, "hand", hand, 1, 4);
	checks_case(&e, "few", hand, 1, 12);
	checks_case(&e, "errors", ds, 5, 33);
	checks_case(&e, "std", ds, 5, 18);

	/* a view under k: the kernel call is fatal, not an error the train can catch */
	fatal_case(&e, "rare_cov_cox", ds, "subset smaller than k (2 rows with one value of the "
	    "0/1 column rare, k = 5)");
	fatal_case(&e, "rare_event_cox", ds, "subset smaller than k (3 rows with one value of the "
	    "0/1 column rareev, k = 5)");
	fatal_case(&e, "rare_cov_glm", ds, "subset smaller than k (2 rows with one value of the "
	    "0/1 column rare, k = 5)");
	fatal_case(&e, "rare_outcome_glm", ds, "subset smaller than k (3 rows with one value of the "
	    "0/1 column rareev, k = 5)");
	fatal_case(&e, "outcome_cell_glm", ds, "glm_step: refused: the outcome crossed with term "
	    "'cellgrp': a cell of 1 to k - 1 rows");
	fatal_case(&e, "outcome_cell_cox", ds, "cox_stratum: refused: the event crossed with term "
	    "'cellgrp': a cell of 1 to k - 1 rows");
	fatal_case(&e, "under_k", ds, "subset smaller than k (3 rows, k = 5)");
	fatal_case(&e, "under_k_glm", ds, "subset smaller than k (2 rows, k = 5)");

	/* invalid cells: the kernels end the run and name no value */
	fatal_case(&e, "invalid_time", ds, "cox_stratum: refused: time: column 'negt' has a "
	    "negative follow-up time at this station");
	fatal_case(&e, "invalid_event", ds, "cox_stratum: refused: event: column 'evcode' has "
	    "values other than 0/1 at this station; give event_value");
	fatal_case(&e, "invalid_poisson", ds, "glm_step: refused: outcome: column 'y' has values "
	    "family poisson cannot take");
	fatal_case(&e, "invalid_binomial", ds, "glm_step: refused: outcome: column 'evcode' has "
	    "values family binomial cannot take");

	/* an extreme beta: the kernels refuse the run instead of flagging */
	fatal_case(&e, "extreme_glm", ds, "glm_step: refused: a fitted value at the given beta "
	    "would be clamped");
	fatal_case(&e, "extreme_glm_low", ds, "glm_step: refused: a fitted value");
	fatal_case(&e, "extreme_poisson", ds, "glm_step: refused:");
	fatal_case(&e, "extreme_cox", ds, "cox_stratum: refused: exp of a linear predictor");
	/* a beta that clamps nothing but makes one row dominate the weights */
	fatal_case(&e, "dominant_cox", ds, "cox_stratum: refused: one row carries more than 90% "
	    "of the weight of a risk set");
	fatal_case(&e, "dominant_poisson", ds, "glm_step: refused: one row carries more than 90% "
	    "of the weight of the complete cases");

	/* the view's rows and the kernel's columns are recorded as read */
	if (tap_ok(run_case(&e, "accounting", ds, 5, &out, &st, &err) == PHT_OK,
	    "accounting case runs")) {
		tap_ok(st.rows_read == N, "rows read: all %d rows of the view (%llu)", N,
		    (unsigned long long)st.rows_read);
		tap_str(st.columns_read, "time,status,x1",
		    "columns read: time, status and x1, the kernel's columns");
		tap_ok(json_integer_value(json_object_get(out, "n")) +
		    json_integer_value(json_object_get(out, "dropped")) == N,
		    "n + dropped is the view's row count");
	} else
		tap_diag("%s", err.msg);
	json_decref(out);

	pht_dataset_free(ds);
	pht_dataset_free(hand);
	free(csv);
	free(e.code);
	free(e.cox);
	free(e.glm);
	return tap_done();
}
