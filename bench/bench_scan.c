/* bench_scan.c — pht-bench-scan: benchmark 2, a filtered scan through the data API against plain C. */
#include "bench_util.h"

#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_train.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTREAT 8

static const char *usage =
    "usage: pht-bench-scan gen DIR ROWS\n"
    "       pht-bench-scan run DIR REPS TRAIN.lua\n"
    "\n"
    "gen  writes DIR/scan.csv and DIR/scan.dict.json: ROWS rows of age\n"
    "     (integer), treatment (category, 8 levels) and cost (number), each a\n"
    "     fixed function of the row number (scan_stock.lua computes the same)\n"
    "run  loads the dataset, then REPS times: the scan in plain C over the\n"
    "     column arrays (scan.c.seconds, scan.c.cpu_seconds), the train with\n"
    "     reps = 0 and with reps = 1 through pht_train_run_station\n"
    "     (scan.train.seconds and scan.train.cpu_seconds are a full run less\n"
    "     the median reps = 0 run: the train's own work), and checks that C\n"
    "     and the train agree on the counts and sums\n";

static const char *levels[NTREAT] = {"chemotherapy", "nivolumab", "pembrolizumab",
    "ipilimumab", "ipilimumab+nivolumab", "dabrafenib+trametinib",
    "encorafenib+binimetinib", "vemurafenib+cobimetinib"};

/* splitmix64 of the 1-based row number; scan_stock.lua has the same. */
static uint64_t
mix(uint64_t i)
{
	uint64_t z = i * 0x9E3779B97F4A7C15ull;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int
gen(const char *dir, unsigned long long rows)
{
	char path[4096];
	FILE *f;
	unsigned long long i;
	uint64_t z;
	int j;

	snprintf(path, sizeof(path), "%s/scan.dict.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		return 1;
	fprintf(f, "{\"dataset\":\"scan\",\"description\":\"benchmark scan data\",\"columns\":["
	    "{\"name\":\"age\",\"type\":\"integer\",\"unit\":\"years\"},"
	    "{\"name\":\"treatment\",\"type\":\"category\",\"levels\":[");
	for (j = 0; j < NTREAT; j++)
		fprintf(f, "%s\"%s\"", j ? "," : "", levels[j]);
	fprintf(f, "]},{\"name\":\"cost\",\"type\":\"number\",\"unit\":\"EUR\"}]}\n");
	if (fclose(f) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/scan.csv", dir);
	if ((f = fopen(path, "w")) == NULL)
		return 1;
	fputs("age,treatment,cost\n", f);
	for (i = 1; i <= rows; i++) {
		z = mix(i);
		fprintf(f, "%llu,%s,%llu.%02llu\n", (unsigned long long)(18 + (z >> 33) % 78),
		    levels[(z >> 20) % NTREAT], (unsigned long long)((z >> 40) % 100000) / 100,
		    (unsigned long long)((z >> 40) % 100000) % 100);
	}
	return fclose(f) != 0;
}

struct scan_result {
	int64_t n;
	double sum, mean;
	int64_t gn[NTREAT];
	double gsum[NTREAT];
};

/* The scan as one would write it in C: one pass, filter fused with the sums. */
static void
scan_c(const struct pht_column *age, const struct pht_column *tr,
    const struct pht_column *cost, size_t nrows, struct scan_result *res)
{
	const int64_t *a = age->v.i64;
	const int32_t *t = tr->v.i32;
	const double *c = cost->v.f64;
	size_t i;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < nrows; i++)
		if (a[i] >= 65) {
			res->n++;
			res->sum += c[i];
			res->gn[t[i]]++;
			res->gsum[t[i]] += c[i];
		}
	res->mean = res->n ? res->sum / (double)res->n : 0;
}

/* One run; secs[0] wall time of the call, secs[1] the child's CPU time. */
static int
run_train(const char *code, size_t len, const struct pht_dataset *ds, int reps,
    const struct pht_limits *lim, double secs[2], json_t **output)
{
	struct pht_run_stats st;
	struct pht_err err;
	json_t *params = json_pack("{s:i}", "reps", reps);
	double t0;
	int r;

	t0 = bench_now();
	r = pht_train_run_station(code, len, "scan.lua", ds, params, 1, 1, lim,
	    output, &st, &err);
	secs[0] = bench_now() - t0;
	secs[1] = st.cpu_ms / 1000.0;
	json_decref(params);
	if (r != PHT_OK)
		fprintf(stderr, "pht-bench-scan: train: %s: %s\n", pht_strerror(r), err.msg);
	return r;
}

static double
median(double *v, int n)
{
	double t;
	int i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
close_enough(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

static int
run(const char *dir, int reps, const char *train)
{
	char csv[4096], dict[4096];
	struct pht_dataset *ds = NULL;
	struct pht_limits lim;
	struct pht_err err;
	struct scan_result res;
	const struct pht_column *age, *tr, *cost;
	json_t *out = NULL;
	char *code = NULL;
	long clen;
	double t0, c0, c, sec[2], *zero = NULL, zwall, zcpu;
	FILE *f;
	int i, j, r, rc = 1;

	snprintf(csv, sizeof(csv), "%s/scan.csv", dir);
	snprintf(dict, sizeof(dict), "%s/scan.dict.json", dir);
	if ((f = fopen(train, "r")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (clen = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (code = malloc((size_t)clen + 1)) == NULL ||
	    fread(code, 1, (size_t)clen, f) != (size_t)clen) {
		fprintf(stderr, "pht-bench-scan: cannot read %s\n", train);
		if (f != NULL)
			fclose(f);
		goto out;
	}
	fclose(f);
	t0 = bench_now();
	if ((r = pht_dataset_load(csv, dict, NULL, &ds, &err)) != PHT_OK) {
		fprintf(stderr, "pht-bench-scan: %s: %s\n", pht_strerror(r), err.msg);
		goto out;
	}
	bench_metric("scan.load.seconds", bench_now() - t0);
	bench_metric("scan.rows", (double)pht_dataset_nrows(ds));
	age = pht_dataset_find(ds, "age");
	tr = pht_dataset_find(ds, "treatment");
	cost = pht_dataset_find(ds, "cost");
	if (age == NULL || tr == NULL || cost == NULL || age->missing || tr->missing ||
	    cost->missing) {
		fprintf(stderr, "pht-bench-scan: %s is not the scan dataset\n", csv);
		goto out;
	}
	pht_limits_default(&lim);
	lim.memory_bytes = (size_t)4 << 30;
	lim.wall_seconds = 600;
	for (i = 0; i < reps; i++) {
		t0 = bench_now();
		c0 = bench_cpu();
		scan_c(age, tr, cost, pht_dataset_nrows(ds), &res);
		c = bench_cpu() - c0;
		bench_metric("scan.c.seconds", bench_now() - t0);
		bench_metric("scan.c.cpu_seconds", c);
	}
	bench_metric("scan.c.count", (double)res.n);
	bench_metric("scan.c.sum", res.sum);
	if ((zero = calloc((size_t)reps * 2, sizeof(double))) == NULL)
		goto out;
	for (i = 0; i < reps; i++) {
		if (run_train(code, (size_t)clen, ds, 0, &lim, sec, &out) != PHT_OK)
			goto out;
		json_decref(out);
		out = NULL;
		zero[i] = sec[0];
		zero[reps + i] = sec[1];
		bench_metric("scan.train_fixed.seconds", sec[0]);
		bench_metric("scan.train_fixed.cpu_seconds", sec[1]);
	}
	/* the median fixed cost of a run is subtracted from each full run */
	zwall = median(zero, reps);
	zcpu = median(zero + reps, reps);
	for (i = 0; i < reps; i++) {
		json_decref(out);
		out = NULL;
		if (run_train(code, (size_t)clen, ds, 1, &lim, sec, &out) != PHT_OK)
			goto out;
		bench_metric("scan.train.seconds", sec[0] - zwall);
		bench_metric("scan.train.cpu_seconds", sec[1] - zcpu);
	}
	if (json_integer_value(json_object_get(out, "n")) != res.n ||
	    !close_enough(json_number_value(json_object_get(out, "sum")), res.sum) ||
	    !close_enough(json_number_value(json_object_get(out, "mean")), res.mean)) {
		fprintf(stderr, "pht-bench-scan: the train and the C loop disagree "
		    "(C: n %lld, sum %.17g)\n", (long long)res.n, res.sum);
		goto out;
	}
	for (j = 0; j < NTREAT; j++) {
		json_t *g = json_object_get(json_object_get(out, "groups"), levels[j]);

		if (json_integer_value(json_object_get(g, "n")) != res.gn[j] ||
		    !close_enough(json_number_value(json_object_get(g, "sum")), res.gsum[j])) {
			fprintf(stderr, "pht-bench-scan: group %s differs\n", levels[j]);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(out);
	free(zero);
	free(code);
	pht_dataset_free(ds);
	return rc;
}

int
main(int argc, char **argv)
{
	long v;
	char *end;

	if (argc == 4 && strcmp(argv[1], "gen") == 0) {
		v = strtol(argv[3], &end, 10);
		if (*end != '\0' || v < 1 || v > 100000000)
			goto usage;
		return gen(argv[2], (unsigned long long)v);
	}
	if (argc == 5 && strcmp(argv[1], "run") == 0) {
		v = strtol(argv[3], &end, 10);
		if (*end != '\0' || v < 1 || v > 1000)
			goto usage;
		return run(argv[2], (int)v, argv[4]);
	}
usage:
	fputs(usage, stderr);
	return 2;
}
