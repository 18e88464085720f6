/* test_train_hostile.c — every train in tests/sandbox/trains must fail with its declared error, and the process stays healthy. */
#include "tap.h"
#include "sandbox_gen.h"

#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_train.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each case is a file NAME.lua whose header comments declare:
 *   -- expect: CODE DETAIL   (CODE: limit, train, disclosure, internal;
 *                             DETAIL must occur in the error detail)
 *   -- limits: key=value ... (instructions, memory_mb, wall, k,
 *                             output_bytes, output_numbers)
 *   -- mode: station | combine | describe   (default station)
 * The defaults for these cases: 1e6 instructions, 32 MiB, 60 s, k = 5.
 */
struct expect {
	int code;
	char detail[256];
	char mode[16];
	struct pht_limits lim;
};

static const char good_train[] =
    "return { name = 'mean', version = '1',\n"
    "  station = function(data) local a = data:column('age')\n"
    "    return {n = a:count(), mean = a:mean()} end,\n"
    "  combine = function(r) return {done = true, result = r[1]} end }\n";

static int
code_of(const char *s, size_t n)
{
	if (n == 5 && strncmp(s, "limit", 5) == 0)
		return PHT_ERR_LIMIT;
	if (n == 5 && strncmp(s, "train", 5) == 0)
		return PHT_ERR_TRAIN;
	if (n == 10 && strncmp(s, "disclosure", 10) == 0)
		return PHT_ERR_DISCLOSURE;
	if (n == 8 && strncmp(s, "internal", 8) == 0)
		return PHT_ERR_INTERNAL;
	return 1;
}

static int
parse_header(const char *text, struct expect *ex)
{
	const char *line = text, *nl, *p;
	char key[32];
	double val;
	int have = 0, used;

	memset(ex, 0, sizeof(*ex));
	pht_limits_default(&ex->lim);
	ex->lim.instructions = 1000000;
	ex->lim.memory_bytes = (size_t)32 << 20;
	ex->lim.wall_seconds = 60;
	snprintf(ex->mode, sizeof(ex->mode), "station");
	while (strncmp(line, "--", 2) == 0) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		if (strncmp(line, "-- expect: ", 11) == 0) {
			p = line + 11;
			ex->code = code_of(p, strcspn(p, " \n"));
			p += strcspn(p, " \n");
			if (*p == ' ')
				p++;
			snprintf(ex->detail, sizeof(ex->detail), "%.*s", (int)(nl - p), p);
			have = 1;
		} else if (strncmp(line, "-- mode: ", 9) == 0) {
			snprintf(ex->mode, sizeof(ex->mode), "%.*s", (int)(nl - line - 9), line + 9);
		} else if (strncmp(line, "-- limits: ", 11) == 0) {
			p = line + 11;
			while (p < nl && sscanf(p, " %31[a-z_]=%lf%n", key, &val, &used) == 2) {
				if (strcmp(key, "instructions") == 0)
					ex->lim.instructions = (uint64_t)val;
				else if (strcmp(key, "memory_mb") == 0)
					ex->lim.memory_bytes = (size_t)val << 20;
				else if (strcmp(key, "wall") == 0)
					ex->lim.wall_seconds = val;
				else if (strcmp(key, "k") == 0)
					ex->lim.k = (int64_t)val;
				else if (strcmp(key, "output_bytes") == 0)
					ex->lim.output_bytes = (size_t)val;
				else if (strcmp(key, "output_numbers") == 0)
					ex->lim.output_numbers = (size_t)val;
				else
					return -1;
				p += used;
			}
		}
		line = nl + 1;
	}
	return have && ex->code != 1 ? 0 : -1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the good train and checks its mean against the generator's. */
static void
check_healthy(const struct pht_dataset *ds, const struct gen *g, const char *after)
{
	struct pht_limits lim;
	struct pht_run_stats st;
	struct pht_err err;
	json_t *out = NULL;
	double mean;
	int r;

	pht_limits_default(&lim);
	r = pht_train_run_station(good_train, strlen(good_train), "mean.lua", ds, NULL,
	    1, 1, &lim, &out, &st, &err);
	mean = json_number_value(json_object_get(out, "mean"));
	tap_ok(r == PHT_OK && fabs(mean - gen_mean_age(g)) < 1e-9 * gen_mean_age(g),
	    "healthy after %s: good train gives the mean (%s)", after,
	    r == PHT_OK ? "ok" : err.msg);
	json_decref(out);
}

int
main(void)
{
	const char *src = getenv("PHT_SRC");
	char dir[1024], path[1200];
	struct pht_dataset *ds = NULL;
	struct pht_run_stats st;
	struct pht_err err;
	struct expect ex;
	struct gen g;
	struct pht_buf *code;
	json_t *out, *results;
	char *names[256];
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;
	int r;

	snprintf(dir, sizeof(dir), "%s/tests/sandbox/trains", src != NULL ? src : ".");
	if (gen_make(&g, 300, 99) != 0 || gen_load(&g, &ds, &err) != PHT_OK) {
		tap_ok(0, "dataset loads: %s", err.msg);
		return tap_done();
	}
	results = json_pack("[{s:s, s:{s:i}}, {s:s, s:{s:i}}]", "station", "a", "output",
	    "n", 10, "station", "b", "output", "n", 20);
	d = opendir(dir);
	tap_ok(d != NULL, "opens %s", dir);
	while (d != NULL && (de = readdir(d)) != NULL && n < 256) {
		size_t len = strlen(de->d_name);

		if (len > 4 && strcmp(de->d_name + len - 4, ".lua") == 0)
			names[n++] = strdup(de->d_name);
	}
	if (d != NULL)
		closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	tap_ok(n >= 60, "found %zu hostile trains", n);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (pht_file_read(path, 1 << 20, &code, &err) != PHT_OK ||
		    parse_header(pht_buf_str(code), &ex) != 0) {
			tap_ok(0, "%s: readable with an expect header", names[i]);
			pht_buf_free(code);
			continue;
		}
		out = NULL;
		pht_err_clear(&err);
		if (strcmp(ex.mode, "combine") == 0)
			r = pht_train_run_combine(pht_buf_str(code), pht_buf_len(code), names[i],
			    results, NULL, 1, 7, &ex.lim, &out, &st, &err);
		else if (strcmp(ex.mode, "describe") == 0)
			r = pht_train_describe(pht_buf_str(code), pht_buf_len(code), names[i],
			    &ex.lim, &out, &err);
		else
			r = pht_train_run_station(pht_buf_str(code), pht_buf_len(code), names[i],
			    ds, NULL, 1, 7, &ex.lim, &out, &st, &err);
		tap_ok(r == ex.code && out == NULL, "%s: fails with %s (got %s)", names[i],
		    pht_strerror(ex.code), pht_strerror(r));
		if (!tap_ok(strstr(err.msg, ex.detail) != NULL, "%s: detail names the reason",
		    names[i]))
			tap_diag("detail: %s\n#   want: %s", err.msg, ex.detail);
		json_decref(out);
		pht_buf_free(code);
		check_healthy(ds, &g, names[i]);
		free(names[i]);
	}
	json_decref(results);
	pht_dataset_free(ds);
	gen_free(&g);
	return tap_done();
}
