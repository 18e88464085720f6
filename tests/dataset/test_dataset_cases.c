/* test_dataset_cases.c — runs every case of tests/data/csv: CASE.csv + CASE.dict.json against CASE.expect. */
#include "tap.h"

#include "pht_dataset.h"
#include "pht_err.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * CASE.expect, one directive a line:
 *   ok ROWS              the load succeeds with ROWS rows
 *   error CODE           it fails with PHT_ERR_CODE (INVALID, MALFORMED, ...)
 *   detail TEXT          the error detail contains TEXT
 *   value COL ROW TEXT   cell (ROW 0-based) is not missing and equals TEXT:
 *                        integer/number as written, category as its code,
 *                        date as YYYY-MM-DD, boolean as 0 or 1
 *   missing COL ROW      cell is missing
 *   role COL ROLE        the column's role is ROLE (identifier, quasi_identifier,
 *                        variable)
 *   identifier COL       pht_dataset_identifier() is COL ("none": NULL)
 * Any other line fails the case, so a typo cannot pass silently.
 */

#define MAX_CASES 1024

static int
code_of(const char *name)
{
	static const struct { const char *n; int c; } codes[] = {
		{ "NOMEM", PHT_ERR_NOMEM }, { "IO", PHT_ERR_IO },
		{ "INVALID", PHT_ERR_INVALID }, { "MALFORMED", PHT_ERR_MALFORMED },
		{ "TOO_LARGE", PHT_ERR_TOO_LARGE }, { "INTERNAL", PHT_ERR_INTERNAL },
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].n, name) == 0)
			return codes[i].c;
	return 1; /* never a real code */
}

/* Days since 1970-01-01 by the C library, independent of pht_time. */
static int
date_days(const char *s, int64_t *days)
{
	struct tm tm;
	int y, m, d;
	char tail;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	t = timegm(&tm);
	*days = ((int64_t)t - 12 * 3600) / 86400;
	return 1;
}

static int
check_value(const struct pht_dataset *ds, const char *col, size_t row,
    const char *text, char *why, size_t whysz)
{
	const struct pht_column *c = pht_dataset_find(ds, col);
	int64_t days;
	char *end;

	if (c == NULL)
		return snprintf(why, whysz, "no column %s", col), 0;
	if (row >= pht_dataset_nrows(ds))
		return snprintf(why, whysz, "row %zu out of range", row), 0;
	if (text == NULL)
		return pht_column_is_missing(c, row) ? 1 :
		    (snprintf(why, whysz, "%s[%zu] not missing", col, row), 0);
	if (pht_column_is_missing(c, row))
		return snprintf(why, whysz, "%s[%zu] is missing", col, row), 0;
	errno = 0;
	switch (c->type) {
	case PHT_COL_INTEGER:
		if (c->v.i64[row] == strtoll(text, &end, 10) && *end == '\0' && errno == 0)
			return 1;
		snprintf(why, whysz, "got %lld", (long long)c->v.i64[row]);
		return 0;
	case PHT_COL_NUMBER:
		if (c->v.f64[row] == strtod(text, &end) && *end == '\0')
			return 1;
		snprintf(why, whysz, "got %.17g", c->v.f64[row]);
		return 0;
	case PHT_COL_CATEGORY:
		if (c->v.i32[row] == strtol(text, &end, 10) && *end == '\0')
			return 1;
		snprintf(why, whysz, "got code %d", (int)c->v.i32[row]);
		return 0;
	case PHT_COL_DATE:
		if (date_days(text, &days) && c->v.i32[row] == days)
			return 1;
		snprintf(why, whysz, "got day %d", (int)c->v.i32[row]);
		return 0;
	case PHT_COL_BOOLEAN:
		if (c->v.u8[row] == strtol(text, &end, 10) && *end == '\0')
			return 1;
		snprintf(why, whysz, "got %d", (int)c->v.u8[row]);
		return 0;
	}
	return 0;
}

static void
run_case(const char *name)
{
	char path[512], csv[512], dict[512], line[1024], why[256];
	char col[128], text[512];
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	size_t rows, row;
	int r, want = 0, have_want = 0, lines = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s.expect", name);
	snprintf(csv, sizeof(csv), "%s.csv", name);
	snprintf(dict, sizeof(dict), "%s.dict.json", name);
	if ((f = fopen(path, "r")) == NULL) {
		tap_ok(0, "%s: open %s", name, path);
		return;
	}
	pht_err_clear(&err);
	r = pht_dataset_load(csv, dict, NULL, &ds, &err);
	while (fgets(line, sizeof(line), f) != NULL && lines++ < 1000) {
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "ok %zu", &rows) == 1) {
			have_want = 1;
			if (tap_ok(r == PHT_OK, "%s: loads", name))
				tap_ok(pht_dataset_nrows(ds) == rows, "%s: %zu rows",
				    name, rows);
			else
				tap_diag("%s", pht_err_msg(&err));
		} else if (strncmp(line, "error ", 6) == 0) {
			have_want = 1;
			want = code_of(line + 6);
			tap_ok(r == want, "%s: fails with %s", name, line + 6);
			if (r != want)
				tap_diag("got %s: %s", pht_strerror(r), pht_err_msg(&err));
			tap_ok(ds == NULL, "%s: no dataset on failure", name);
		} else if (strncmp(line, "detail ", 7) == 0) {
			if (!tap_ok(r != PHT_OK && strstr(err.msg, line + 7) != NULL,
			    "%s: detail", name))
				tap_diag("got:  %s\n# want: %s", err.msg, line + 7);
		} else if (sscanf(line, "value %127s %zu %511[^\n]", col, &row, text) == 3) {
			why[0] = '\0';
			tap_ok(ds != NULL && check_value(ds, col, row, text, why,
			    sizeof(why)), "%s: %s[%zu] == %s %s", name, col, row,
			    text, why);
		} else if (sscanf(line, "missing %127s %zu", col, &row) == 2) {
			why[0] = '\0';
			tap_ok(ds != NULL && check_value(ds, col, row, NULL, why,
			    sizeof(why)), "%s: %s[%zu] missing %s", name, col, row, why);
		} else if (sscanf(line, "role %127s %511s", col, text) == 2) {
			const struct pht_column *c = ds != NULL ? pht_dataset_find(ds, col) : NULL;

			tap_str(c != NULL ? pht_colrole_name(c->role) : "(no column)", text,
			    "%s: role of %s", name, col);
		} else if (sscanf(line, "identifier %127s", col) == 1) {
			const struct pht_column *c = ds != NULL ? pht_dataset_identifier(ds) : NULL;

			tap_str(c != NULL ? c->name : "none", col, "%s: identifier column", name);
		} else
			tap_ok(0, "%s: unknown directive \"%s\"", name, line);
	}
	fclose(f);
	tap_ok(have_want, "%s: says ok or error", name);
	pht_dataset_free(ds);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	char *names[MAX_CASES];
	struct dirent *de;
	size_t n = 0, i, len;
	DIR *d;

	if (argc != 2 || chdir(argv[1]) != 0 || (d = opendir(".")) == NULL) {
		tap_ok(0, "usage: test_dataset_cases DIR (a readable directory)");
		return tap_done();
	}
	while ((de = readdir(d)) != NULL && n < MAX_CASES) {
		len = strlen(de->d_name);
		if (len > 7 && strcmp(de->d_name + len - 7, ".expect") == 0)
			names[n++] = strndup(de->d_name, len - 7);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	tap_ok(n >= 50, "found %zu cases", n);
	for (i = 0; i < n; i++) {
		run_case(names[i]);
		free(names[i]);
	}
	return tap_done();
}
