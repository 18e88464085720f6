/* test_registry.c — runs pht-registry-gen and checks its output from the files alone. */
#include "tap.h"
#include "registry/csv_table.h"

#include "pht_dataset.h"
#include "pht_err.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Everything here is computed from the CSV and dictionary files the
 * generator writes, with a parser of this file's own: the generator's
 * internals are not used. The checked effects are the documented ones
 * (docs/registry.md) in their crudest form, with margins that a working
 * generator clears by far at the sample sizes used.
 */

static const char *gen_path;

/* Runs the generator with args (NULL-terminated, without argv[0]); stdout is
 * discarded, stderr captured into err (NUL-terminated). Returns the exit
 * status, or -1 if it did not exit normally. */
static int
run_gen(const char *const *args, char *err, size_t errlen)
{
	char *argv[32];
	char errfile[] = "/tmp/pht-reg-err-XXXXXX";
	int fd, status, i, n = 0;
	pid_t pid;
	ssize_t got;

	argv[n++] = (char *)gen_path;
	for (i = 0; args[i] != NULL && n < 31; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	if ((fd = mkstemp(errfile)) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fd);
		return -1;
	}
	if (pid == 0) {
		int dn = open("/dev/null", O_WRONLY);

		if (dn >= 0)
			dup2(dn, 1);
		dup2(fd, 2);
		execv(gen_path, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	err[0] = '\0';
	if (lseek(fd, 0, SEEK_SET) == 0 && (got = read(fd, err, errlen - 1)) > 0)
		err[got] = '\0';
	close(fd);
	unlink(errfile);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int
is_int(const char *s, long long *v)
{
	char *end;

	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return 0;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static int
is_num(const char *s)
{
	char *end;

	if (*s == '\0')
		return 0;
	errno = 0;
	(void)strtod(s, &end);
	return errno == 0 && *end == '\0';
}

/* Days since 1970-01-01 of "YYYY-MM-DD", or INT32_MIN if not a valid date. */
static long
parse_date(const char *s)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, i, leap;
	long days = 0;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return INT32_MIN;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] + (m == 2 && leap))
		return INT32_MIN;
	for (i = 1970; i < y; i++)
		days += 365 + ((i % 4 == 0 && i % 100 != 0) || i % 400 == 0);
	for (i = 1; i < m; i++)
		days += mdays[i - 1] + (i == 2 && leap);
	return days + d - 1;
}

static int
is_missing(const json_t *col, const char *s)
{
	const json_t *miss = json_object_get(col, "missing"), *v;
	size_t i;

	if (miss == NULL)
		return *s == '\0' || strcmp(s, "NA") == 0;
	json_array_foreach(miss, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/*
 * Checks one hospital's dictionary and every cell of its CSV against it.
 * Returns the number of data rows, or -1 if the files could not be read.
 */
static long
check_dataset(const char *dir, const char *name, int verbose)
{
	char path[512];
	struct table t;
	json_t *dict, *cols, *col, *lv;
	json_error_t jerr;
	size_t i, r, nc;
	long bad_type = 0, bad_cell = 0, bad_dict = 0, rows;
	char first_bad[256] = "";

	snprintf(path, sizeof(path), "%s/%s.dict.json", dir, name);
	if ((dict = json_load_file(path, 0, &jerr)) == NULL) {
		tap_ok(0, "%s: dictionary parses (%s)", name, jerr.text);
		return -1;
	}
	tap_str(json_string_value(json_object_get(dict, "dataset")), name,
	    "%s: dictionary names the dataset", name);
	tap_ok(json_is_string(json_object_get(dict, "description")),
	    "%s: dictionary has a description", name);
	cols = json_object_get(dict, "columns");
	snprintf(path, sizeof(path), "%s/%s.csv", dir, name);
	if (!json_is_array(cols) || table_read(path, &t) != 0) {
		tap_ok(0, "%s: columns array and CSV readable", name);
		json_decref(dict);
		return -1;
	}
	nc = json_array_size(cols);
	tap_ok(!t.ragged && !t.quoted, "%s: every row has %zu plain fields", name, t.ncols);
	tap_ok(nc == t.ncols, "%s: dictionary has %zu columns, CSV %zu", name, nc, t.ncols);
	for (i = 0; i < nc && i < t.ncols; i++) {
		col = json_array_get(cols, i);
		if (!json_is_string(json_object_get(col, "name")) ||
		    strcmp(json_string_value(json_object_get(col, "name")), t.cells[i]) != 0)
			bad_dict++;
	}
	tap_ok(bad_dict == 0, "%s: header names the dictionary's columns in order", name);
	{
		size_t nident = 0, at = 0;
		const char *role;

		for (i = 0; i < nc; i++) {
			role = json_string_value(json_object_get(json_array_get(cols, i), "role"));
			if (role != NULL && strcmp(role, "identifier") == 0) {
				nident++;
				at = i;
			}
		}
		tap_ok(nident == 1 && strcmp(json_string_value(json_object_get(
		    json_array_get(cols, at), "name")), "patient_id") == 0,
		    "%s: patient_id is the one identifier column", name);
	}

	for (i = 0; i < nc && i < t.ncols && !t.ragged; i++) {
		const char *type;

		col = json_array_get(cols, i);
		type = json_string_value(json_object_get(col, "type"));
		lv = json_object_get(col, "levels");
		if (type == NULL || (strcmp(type, "category") == 0) != json_is_array(lv) ||
		    !json_is_string(json_object_get(col, "unit")) ||
		    !json_is_string(json_object_get(col, "description"))) {
			bad_type++;
			continue;
		}
		for (r = 0; r < t.nrows; r++) {
			const char *s = cell(&t, r, i);
			long long v;
			int ok = 0;
			size_t k;
			json_t *l;

			if (is_missing(col, s))
				continue;
			if (strcmp(type, "integer") == 0)
				ok = is_int(s, &v);
			else if (strcmp(type, "number") == 0)
				ok = is_num(s);
			else if (strcmp(type, "boolean") == 0)
				ok = strcmp(s, "0") == 0 || strcmp(s, "1") == 0;
			else if (strcmp(type, "date") == 0)
				ok = parse_date(s) != INT32_MIN;
			else if (strcmp(type, "category") == 0)
				json_array_foreach(lv, k, l)
					if (strcmp(json_string_value(l), s) == 0)
						ok = 1;
			if (!ok && bad_cell++ == 0)
				snprintf(first_bad, sizeof(first_bad), "row %zu column %s: \"%s\"",
				    r + 2, t.cells[i], s);
		}
	}
	tap_ok(bad_type == 0, "%s: every column has a known type, unit, description "
	    "and levels exactly for categories", name);
	if (!tap_ok(bad_cell == 0, "%s: every cell is a missing code or valid for its "
	    "type (categories within levels)", name))
		tap_diag("%ld bad cells, first %s", bad_cell, first_bad);
	if (verbose)
		tap_diag("%s: %zu rows", name, t.nrows);
	rows = (long)t.nrows;
	{
		/* and the station's own loader takes the pair as it is */
		char csv[512];
		struct pht_dataset *ds = NULL;
		struct pht_err e;
		int rc;

		snprintf(csv, sizeof(csv), "%s/%s.csv", dir, name);
		snprintf(path, sizeof(path), "%s/%s.dict.json", dir, name);
		pht_err_clear(&e);
		rc = pht_dataset_load(csv, path, NULL, &ds, &e);
		if (!tap_ok(rc == PHT_OK && pht_dataset_nrows(ds) == t.nrows &&
		    pht_dataset_ncols(ds) == nc, "%s: pht_dataset_load accepts it", name))
			tap_diag("%s", pht_err_msg(&e));
		pht_dataset_free(ds);
	}
	table_free(&t);
	json_decref(dict);
	return rows;
}

/* Counts data rows (lines minus header) of DIR/NAME.csv; -1 if unreadable. */
static long
count_rows(const char *dir, const char *name)
{
	char path[512], *s;
	long n = 0;
	size_t i, len;

	snprintf(path, sizeof(path), "%s/%s.csv", dir, name);
	if ((s = slurp(path, &len)) == NULL)
		return -1;
	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	free(s);
	return n - 1;
}

static int
files_equal(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	char *x = slurp(a, &la), *y = slurp(b, &lb);
	int eq = x != NULL && y != NULL && la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return eq;
}

static void
test_determinism(const char *root)
{
	char a[256], b[256], c[256], e[512], pa[300], pb[300];
	const char *const *v;
	int i, same = 1, differ = 0;
	const char *names[] = { "hospital_01.csv", "hospital_01.dict.json",
	    "hospital_02.csv", "hospital_02.dict.json", "hospital_03.csv",
	    "hospital_03.dict.json" };

	snprintf(a, sizeof(a), "%s/a", root);
	snprintf(b, sizeof(b), "%s/b", root);
	snprintf(c, sizeof(c), "%s/c", root);
	{
		const char *args_a[] = { "--out", a, "--seed", "7", "--hospitals", "3",
		    "--patients", "600", NULL };
		const char *args_b[] = { "--out", b, "--seed", "7", "--hospitals", "3",
		    "--patients", "600", NULL };
		const char *args_c[] = { "--out", c, "--seed", "8", "--hospitals", "3",
		    "--patients", "600", NULL };

		v = args_a;
		tap_ok(run_gen(v, e, sizeof(e)) == 0, "seed 7 run exits 0");
		v = args_b;
		tap_ok(run_gen(v, e, sizeof(e)) == 0, "seed 7 second run exits 0");
		v = args_c;
		tap_ok(run_gen(v, e, sizeof(e)) == 0, "seed 8 run exits 0");
	}
	for (i = 0; i < 6; i++) {
		snprintf(pa, sizeof(pa), "%s/%s", a, names[i]);
		snprintf(pb, sizeof(pb), "%s/%s", b, names[i]);
		same &= files_equal(pa, pb);
		snprintf(pb, sizeof(pb), "%s/%s", c, names[i]);
		if (strstr(names[i], ".csv") != NULL && !files_equal(pa, pb))
			differ++;
	}
	tap_ok(same, "same seed: all six files byte-identical");
	tap_ok(differ == 3, "different seed: all three CSVs differ (%d did)", differ);
	snprintf(pa, sizeof(pa), "%s/hospital_04.csv", a);
	tap_ok(access(pa, F_OK) != 0, "--hospitals 3 writes no fourth hospital");
	{
		long n1 = check_dataset(a, "hospital_01", 1), n2 = check_dataset(a, "hospital_02", 1),
		    n3 = check_dataset(a, "hospital_03", 1);

		tap_ok(n1 > 0 && n2 > 0 && n3 > 0 && n1 + n2 + n3 == 600,
		    "--patients 600 is the total over hospitals (%ld + %ld + %ld)", n1, n2, n3);
		tap_ok(n1 > n2 && n1 > n3, "hospital_01 (the academic centre) is the largest");
	}
}

static void
test_rows_per_hospital(const char *root)
{
	char d[256], e[512];
	const char *args[] = { "--out", d, "--seed", "3", "--hospitals", "4",
	    "--rows-per-hospital", "250", NULL };
	long n[4];

	snprintf(d, sizeof(d), "%s/rph", root);
	tap_ok(run_gen(args, e, sizeof(e)) == 0, "--rows-per-hospital run exits 0");
	n[0] = count_rows(d, "hospital_01");
	n[1] = count_rows(d, "hospital_02");
	n[2] = count_rows(d, "hospital_03");
	n[3] = count_rows(d, "hospital_04");
	tap_ok(n[0] == 250 && n[1] == 250 && n[2] == 250 && n[3] == 250,
	    "--rows-per-hospital 250 gives 250 rows each (%ld %ld %ld %ld)",
	    n[0], n[1], n[2], n[3]);
}

/* Pooled counts over the hospitals of one run, for the effect checks. */
struct tally {
	long rows;
	long pfs_gt_os, bad_flag, os_without_pfs, pfs_cens_mismatch;
	long targeted_not_v600, targeted;
	long start_out_of_range, past_cutoff, nonpositive_time;
	long miss_ldh, miss_ecog, miss_braf;
	long dead1y_known[2], dead1y[2];   /* [0] stage III*, [1] IV-M1c */
	long trt_known[2], trt_dead[2];    /* [0] chemotherapy, [1] ipilimumab+nivolumab, stage IV */
	double cost_sum[2];                /* [0] chemotherapy, [1] ipilimumab+nivolumab */
	long cost_n[2];
	long adv[2], adv_n[2];             /* stage IV-M1c/M1d: [0] hospital_01, [1] others */
};

static void
tally_dataset(const char *dir, const char *name, int is_first, struct tally *y)
{
	char path[512];
	struct table t;
	size_t r;
	int c_stage, c_pfs, c_pfse, c_os, c_ose, c_trt, c_braf, c_start, c_ldh, c_ecog, c_cost;
	long start0 = parse_date("2016-01-01"), start1 = parse_date("2023-12-31"),
	    cutoff = parse_date("2024-06-30");

	snprintf(path, sizeof(path), "%s/%s.csv", dir, name);
	if (table_read(path, &t) != 0) {
		tap_ok(0, "%s readable", path);
		return;
	}
	c_stage = col_index(&t, "stage");
	c_pfs = col_index(&t, "pfs_days");
	c_pfse = col_index(&t, "pfs_event");
	c_os = col_index(&t, "os_days");
	c_ose = col_index(&t, "os_event");
	c_trt = col_index(&t, "treatment");
	c_braf = col_index(&t, "braf");
	c_start = col_index(&t, "start_date");
	c_ldh = col_index(&t, "ldh_elevated");
	c_ecog = col_index(&t, "ecog");
	c_cost = col_index(&t, "cost_eur");
	if (c_stage < 0 || c_pfs < 0 || c_pfse < 0 || c_os < 0 || c_ose < 0 ||
	    c_trt < 0 || c_braf < 0 || c_start < 0 || c_ldh < 0 || c_ecog < 0 ||
	    c_cost < 0 || t.ragged) {
		tap_ok(0, "%s has the expected columns", path);
		table_free(&t);
		return;
	}
	for (r = 0; r < t.nrows; r++) {
		const char *stage = cell(&t, r, (size_t)c_stage), *trt = cell(&t, r, (size_t)c_trt);
		const char *pe = cell(&t, r, (size_t)c_pfse), *oe = cell(&t, r, (size_t)c_ose);
		long long pfs = -1, os = -1;
		long start = parse_date(cell(&t, r, (size_t)c_start));
		int pev = strcmp(pe, "1") == 0, oev = strcmp(oe, "1") == 0;
		int s3 = stage[0] == 'I' && stage[1] == 'I' && stage[2] == 'I';
		int m1c = strcmp(stage, "IV-M1c") == 0, stage4 = strncmp(stage, "IV-", 3) == 0;
		int chemo = strcmp(trt, "chemotherapy") == 0;
		int ipinivo = strcmp(trt, "ipilimumab+nivolumab") == 0;
		int tgt = strstr(trt, "trametinib") || strstr(trt, "binimetinib") ||
		    strstr(trt, "cobimetinib");
		int known1y, dead;

		y->rows++;
		if (!is_int(cell(&t, r, (size_t)c_pfs), &pfs) ||
		    !is_int(cell(&t, r, (size_t)c_os), &os) || pfs < 1 || os < 1)
			y->nonpositive_time++;
		if (pfs > os)
			y->pfs_gt_os++;
		if ((!pev && strcmp(pe, "0") != 0) || (!oev && strcmp(oe, "0") != 0))
			y->bad_flag++;
		if (oev && !pev)
			y->os_without_pfs++;   /* a death is a PFS event */
		if (!pev && (pfs != os || oev))
			y->pfs_cens_mismatch++;   /* censored PFS: censored OS at the same day */
		if (tgt) {
			y->targeted++;
			if (strcmp(cell(&t, r, (size_t)c_braf), "V600") != 0)
				y->targeted_not_v600++;
		}
		if (start < start0 || start > start1)
			y->start_out_of_range++;
		if (start + os > cutoff)
			y->past_cutoff++;
		y->miss_ldh += strcmp(cell(&t, r, (size_t)c_ldh), "NA") == 0;
		y->miss_ecog += strcmp(cell(&t, r, (size_t)c_ecog), "NA") == 0;
		y->miss_braf += strcmp(cell(&t, r, (size_t)c_braf), "NA") == 0;

		/* 1-year status known: died by day 365, or followed beyond it */
		known1y = (oev && os <= 365) || os > 365;
		dead = oev && os <= 365;
		if (known1y && (s3 || m1c)) {
			y->dead1y_known[m1c]++;
			y->dead1y[m1c] += dead;
		}
		if (known1y && stage4 && (chemo || ipinivo)) {
			y->trt_known[ipinivo]++;
			y->trt_dead[ipinivo] += dead;
		}
		if (chemo || ipinivo) {
			y->cost_sum[ipinivo] += strtod(cell(&t, r, (size_t)c_cost), NULL);
			y->cost_n[ipinivo]++;
		}
		y->adv_n[!is_first]++;
		y->adv[!is_first] += m1c || strcmp(stage, "IV-M1d") == 0;
	}
	table_free(&t);
}

static void
test_model(const char *root)
{
	char d[256], e[512], name[32];
	const char *args[] = { "--out", d, "--seed", "42", "--hospitals", "5",
	    "--patients", "20000", NULL };
	struct tally y;
	double p3, p4, pc, pi, share1, share_rest;
	int h;

	snprintf(d, sizeof(d), "%s/model", root);
	tap_ok(run_gen(args, e, sizeof(e)) == 0, "20000-patient run exits 0");
	memset(&y, 0, sizeof(y));
	for (h = 1; h <= 5; h++) {
		snprintf(name, sizeof(name), "hospital_%02d", h);
		check_dataset(d, name, 0);
		tally_dataset(d, name, h == 1, &y);
	}
	tap_ok(y.rows == 20000, "20000 rows in all (%ld)", y.rows);
	tap_ok(y.nonpositive_time == 0, "every survival time is an integer >= 1");
	tap_ok(y.pfs_gt_os == 0, "PFS <= OS in every row (%ld violations)", y.pfs_gt_os);
	tap_ok(y.bad_flag == 0, "event flags are 0 or 1");
	tap_ok(y.os_without_pfs == 0, "every death is also a PFS event");
	tap_ok(y.pfs_cens_mismatch == 0, "a censored PFS ends with a censored OS on the same day");
	tap_ok(y.start_out_of_range == 0, "start dates within 2016-01-01 .. 2023-12-31");
	tap_ok(y.past_cutoff == 0, "follow-up never passes the 2024-06-30 cut-off");
	tap_ok(y.targeted > 0 && y.targeted_not_v600 == 0,
	    "BRAF-targeted therapy (%ld patients) only for BRAF V600", y.targeted);
	tap_ok(y.miss_ldh > 0 && y.miss_ecog > 0 && y.miss_braf > 0,
	    "missing values occur, marked NA (LDH %ld, ECOG %ld, BRAF %ld)",
	    y.miss_ldh, y.miss_ecog, y.miss_braf);
	tap_ok(y.miss_ldh < y.rows / 5, "LDH missing in under 20%% of rows");

	p3 = (double)y.dead1y[0] / (double)(y.dead1y_known[0] ? y.dead1y_known[0] : 1);
	p4 = (double)y.dead1y[1] / (double)(y.dead1y_known[1] ? y.dead1y_known[1] : 1);
	tap_ok(y.dead1y_known[0] > 500 && y.dead1y_known[1] > 500 && p4 > p3 + 0.10,
	    "1-year death proportion: stage IV-M1c %.3f > stage III %.3f (n %ld, %ld)",
	    p4, p3, y.dead1y_known[1], y.dead1y_known[0]);
	pc = (double)y.trt_dead[0] / (double)(y.trt_known[0] ? y.trt_known[0] : 1);
	pi = (double)y.trt_dead[1] / (double)(y.trt_known[1] ? y.trt_known[1] : 1);
	tap_ok(y.trt_known[0] > 100 && y.trt_known[1] > 500 && pc > pi + 0.10,
	    "stage IV 1-year death: chemotherapy %.3f > ipilimumab+nivolumab %.3f",
	    pc, pi);
	tap_ok(y.cost_n[0] > 0 && y.cost_n[1] > 0 &&
	    y.cost_sum[1] / (double)y.cost_n[1] > 5.0 * y.cost_sum[0] / (double)y.cost_n[0],
	    "mean cost of ipilimumab+nivolumab is over 5x that of chemotherapy");
	share1 = (double)y.adv[0] / (double)(y.adv_n[0] ? y.adv_n[0] : 1);
	share_rest = (double)y.adv[1] / (double)(y.adv_n[1] ? y.adv_n[1] : 1);
	tap_ok(share1 > share_rest + 0.03,
	    "case mix: stage IV-M1c/M1d share %.3f at hospital_01 vs %.3f elsewhere",
	    share1, share_rest);
}

static void
test_errors(const char *root)
{
	char d[256], e[512];
	const char *no_out[] = { "--seed", "1", NULL };
	const char *zero_h[] = { "--out", d, "--hospitals", "0", NULL };
	const char *many_h[] = { "--out", d, "--hospitals", "100", NULL };
	const char *bad_seed[] = { "--out", d, "--seed", "12x", NULL };
	const char *neg_seed[] = { "--out", d, "--seed", "-1", NULL };
	const char *few[] = { "--out", d, "--hospitals", "3", "--patients", "29", NULL };
	const char *unknown[] = { "--out", d, "--colour", "red", NULL };
	const char *dangling[] = { "--out", NULL };
	const char *big_rph[] = { "--out", d, "--rows-per-hospital", "10000000", NULL };
	const char *bad_dir[] = { "--out", "/proc/self/pht-no-such/x", NULL };

	snprintf(d, sizeof(d), "%s/err", root);
	tap_ok(run_gen(no_out, e, sizeof(e)) == 2 && strstr(e, "--out DIR is required"),
	    "missing --out: exit 2 and says so");
	tap_ok(run_gen(zero_h, e, sizeof(e)) == 2 &&
	    strstr(e, "--hospitals: \"0\" is not a number in 1..99"),
	    "--hospitals 0 refused with the range");
	tap_ok(run_gen(many_h, e, sizeof(e)) == 2 &&
	    strstr(e, "--hospitals: \"100\" is not a number in 1..99"),
	    "--hospitals 100 refused with the range");
	tap_ok(run_gen(bad_seed, e, sizeof(e)) == 2 && strstr(e, "--seed: \"12x\""),
	    "--seed 12x refused naming the value");
	tap_ok(run_gen(neg_seed, e, sizeof(e)) == 2 &&
	    strstr(e, "--seed: expected a number, got \"-1\""),
	    "--seed -1 refused");
	tap_ok(run_gen(few, e, sizeof(e)) == 2 &&
	    strstr(e, "--patients 29 is fewer than 10 per hospital for 3 hospitals"),
	    "too few patients refused");
	tap_ok(run_gen(unknown, e, sizeof(e)) == 2 && strstr(e, "--colour: unknown option"),
	    "unknown option refused by name");
	tap_ok(run_gen(dangling, e, sizeof(e)) == 2 && strstr(e, "--out: unknown option or missing value"),
	    "option without its value refused");
	tap_ok(run_gen(big_rph, e, sizeof(e)) == 2 &&
	    strstr(e, "--rows-per-hospital: \"10000000\" is not a number in 1..9999999"),
	    "--rows-per-hospital above the id range refused");
	tap_ok(run_gen(bad_dir, e, sizeof(e)) == 1 && strstr(e, "/proc/self/pht-no-such"),
	    "unwritable --out: exit 1 naming the directory");
	tap_ok(access(d, F_OK) != 0, "refused runs write nothing");
}

int
main(int argc, char **argv)
{
	char root[] = "/tmp/pht-registry-test-XXXXXX";

	if (argc != 2) {
		fprintf(stderr, "usage: test_registry PATH-TO-pht-registry-gen\n");
		return 2;
	}
	gen_path = argv[1];
	if (mkdtemp(root) == NULL) {
		tap_ok(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	test_determinism(root);
	test_rows_per_hospital(root);
	test_model(root);
	test_errors(root);
	rm_tree(root);
	return tap_done();
}
