/* bench_load.c — pht-bench-load: benchmark 1, loading a registry CSV, and the helpers bench/run uses around it. */
#include "bench_util.h"

#include "pht_dataset.h"
#include "pht_err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: pht-bench-load widen SRC.csv SRC.dict.json DST.csv DST.dict.json\n"
    "       pht-bench-load load CSV DICT\n"
    "       pht-bench-load exec PREFIX [-o OUT] [-e ERR] COMMAND [ARG...]\n"
    "\n"
    "widen   adds three columns (weight_kg number, ldh_ul number with NA,\n"
    "        visits integer) to a pht-registry-gen hospital, for the 20-column\n"
    "        load benchmark; the values are a fixed function of the row number\n"
    "load    loads CSV with its dictionary once in this process and prints\n"
    "        load.seconds, load.cpu_seconds, load.hwm_kib (peak resident set\n"
    "        added by the load), load.column_bytes, load.rows, load.cols\n"
    "exec    runs COMMAND (stdout to OUT and stderr to ERR, else discarded)\n"
    "        and prints PREFIX.seconds, PREFIX.cpu_seconds (its children's\n"
    "        included) and PREFIX.maxrss_kib; exits 1 if it fails\n";

/* Appends the three benchmark columns to the dictionary's column list. */
static int
widen_dict(const char *src, const char *dst)
{
	static const char *extra =
	    "[{\"name\":\"weight_kg\",\"type\":\"number\",\"unit\":\"kg\","
	    "\"description\":\"body weight (benchmark column)\",\"missing\":[\"\",\"NA\"]},"
	    "{\"name\":\"ldh_ul\",\"type\":\"number\",\"unit\":\"U/L\","
	    "\"description\":\"serum LDH (benchmark column)\",\"missing\":[\"\",\"NA\"]},"
	    "{\"name\":\"visits\",\"type\":\"integer\",\"unit\":\"\","
	    "\"description\":\"outpatient visits (benchmark column)\",\"missing\":[\"\",\"NA\"]}]";
	json_error_t je;
	json_t *d = json_load_file(src, 0, &je), *cols, *add;
	int rc = -1;

	add = json_loads(extra, 0, &je);
	if (d == NULL || add == NULL) {
		fprintf(stderr, "pht-bench-load: %s: %s\n", src, je.text);
		goto out;
	}
	cols = json_object_get(d, "columns");
	if (!json_is_array(cols) || json_array_extend(cols, add) != 0) {
		fprintf(stderr, "pht-bench-load: %s: no columns array\n", src);
		goto out;
	}
	if (json_dump_file(d, dst, JSON_INDENT(2)) != 0) {
		fprintf(stderr, "pht-bench-load: cannot write %s\n", dst);
		goto out;
	}
	rc = 0;
out:
	json_decref(add);
	json_decref(d);
	return rc;
}

/* Copies the CSV adding three fields per record (the generator never quotes). */
static int
widen_csv(const char *src, const char *dst)
{
	FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long long row = 0, h;
	int rc = -1;

	if (in == NULL || out == NULL) {
		fprintf(stderr, "pht-bench-load: cannot open %s or %s\n", src, dst);
		goto out;
	}
	while ((len = getline(&line, &cap, in)) > 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (row == 0)
			fprintf(out, "%s,weight_kg,ldh_ul,visits\n", line);
		else {
			h = row * 0x9E3779B97F4A7C15ull;
			h ^= h >> 29;
			if ((h >> 7) % 20 == 0)
				fprintf(out, "%s,%.1f,NA,%llu\n", line,
				    45.0 + (double)((h >> 12) % 800) / 10.0, (h >> 40) % 40);
			else
				fprintf(out, "%s,%.1f,%.0f,%llu\n", line,
				    45.0 + (double)((h >> 12) % 800) / 10.0,
				    (double)(120 + (h >> 24) % 900), (h >> 40) % 40);
		}
		row++;
	}
	rc = ferror(in) ? -1 : 0;
out:
	free(line);
	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		rc = -1;
	return rc;
}

static int
load(const char *csv, const char *dict)
{
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	long hwm0, hwm1;
	double t0, t1, c0, c1;
	int r;

	hwm0 = bench_hwm_kib();
	t0 = bench_now();
	c0 = bench_cpu();
	r = pht_dataset_load(csv, dict, NULL, &ds, &err);
	c1 = bench_cpu();
	t1 = bench_now();
	hwm1 = bench_hwm_kib();
	if (r != PHT_OK) {
		fprintf(stderr, "pht-bench-load: %s: %s\n", pht_strerror(r), err.msg);
		return 1;
	}
	bench_metric("load.seconds", t1 - t0);
	bench_metric("load.cpu_seconds", c1 - c0);
	bench_metric("load.hwm_kib", (double)(hwm1 - hwm0));
	bench_metric("load.column_bytes", (double)pht_dataset_column_bytes(ds));
	bench_metric("load.rows", (double)pht_dataset_nrows(ds));
	bench_metric("load.cols", (double)pht_dataset_ncols(ds));
	pht_dataset_free(ds);
	return 0;
}

static int
exec_cmd(const char *prefix, char **argv)
{
	const char *out = NULL, *err = NULL;
	char name[256];
	struct bench_child m;

	for (;;) {
		if (argv[0] != NULL && argv[1] != NULL && strcmp(argv[0], "-o") == 0)
			out = argv[1];
		else if (argv[0] != NULL && argv[1] != NULL && strcmp(argv[0], "-e") == 0)
			err = argv[1];
		else
			break;
		argv += 2;
	}
	if (argv[0] == NULL) {
		fputs(usage, stderr);
		return 2;
	}
	if (bench_spawn(argv, out, err, &m) != 0) {
		fprintf(stderr, "pht-bench-load: %s failed\n", argv[0]);
		return 1;
	}
	snprintf(name, sizeof(name), "%s.seconds", prefix);
	bench_metric(name, m.wall_s);
	snprintf(name, sizeof(name), "%s.cpu_seconds", prefix);
	bench_metric(name, m.cpu_s);
	snprintf(name, sizeof(name), "%s.maxrss_kib", prefix);
	bench_metric(name, (double)m.maxrss_kib);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "widen") == 0)
		return widen_dict(argv[3], argv[5]) == 0 &&
		    widen_csv(argv[2], argv[4]) == 0 ? 0 : 1;
	if (argc == 4 && strcmp(argv[1], "load") == 0)
		return load(argv[2], argv[3]);
	if (argc >= 4 && strcmp(argv[1], "exec") == 0)
		return exec_cmd(argv[2], argv + 3);
	fputs(usage, stderr);
	return 2;
}
