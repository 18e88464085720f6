/* test_dataset_torture.c — fails each allocation of a load in turn: every failure is a clean error, never a crash or a leak. */
#include "tap.h"

#include "pht_dataset.h"
#include "pht_err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The program is linked with --wrap for malloc, calloc and realloc, so
 * every allocation of the PHT libraries comes here; jansson's go through
 * json_set_alloc_funcs. Test-only state: which allocation fails.
 */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static long fail_at = -1;
static long n_alloc;

static int
should_fail(void)
{
	return fail_at >= 0 && n_alloc++ == fail_at;
}

void *
__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
	return should_fail() ? NULL : __real_calloc(n, m);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

static const char dict[] =
    "{\"dataset\":\"t\",\"description\":\"torture\",\"columns\":["
    "{\"name\":\"i\",\"type\":\"integer\"},"
    "{\"name\":\"f\",\"type\":\"number\",\"missing\":[\"-\"]},"
    "{\"name\":\"c\",\"type\":\"category\",\"levels\":[\"a\\\"b\",\"x,y\",\"z\"]},"
    "{\"name\":\"d\",\"type\":\"date\"},"
    "{\"name\":\"b\",\"type\":\"boolean\"}]}";

static const char csv[] =
    "\xef\xbb\xbf" "b,\"d\",c,f,i\r\n"
    "1,2020-01-01,\"a\"\"b\",1.5,3\r\n"
    "NA,,\"x,y\",-,NA\r\n"
    "false,1999-12-31,z,2e3,-7\r\n";

static const char bad_csv[] =
    "b,d,c,f,i\n"
    "1,2020-01-01,\"a\"\"b\",1.5,x\n"
    "maybe,2020-02-30,q,1.5,3\n";

/* The same rows as csv in a Dutch spreadsheet's dialect. */
static const char nl_csv[] =
    "b;\"d\";c;f;i\r\n"
    "1;01.01.2020;\"a\"\"b\";1,5;3\r\n"
    "NA;;\"x,y\";-;NA\r\n"
    "false;31.12.1999;z;2e3;-7\r\n";
static const struct pht_dataset_format nl_fmt[] = { { "d", "%d.%m.%Y" } };
static const struct pht_dataset_dialect nl = {
	';', '"', ',', PHT_ENC_WINDOWS1252, 1, nl_fmt
};
static const struct pht_dataset_dialect *dialect; /* for memory loads */

/* Runs one load per failure point until one passes untouched. */
static void
torture(const char *what, int from_file, const char *csvp, const char *dictp,
    const char *data, int want_code)
{
	struct pht_dataset *ds;
	struct pht_err err;
	long i, clean = 0, exercised = 0;
	int r;

	for (i = 0; i < 5000; i++) {
		ds = NULL;
		pht_err_clear(&err);
		n_alloc = 0;
		fail_at = i;
		if (from_file)
			r = pht_dataset_load(csvp, dictp, NULL, &ds, &err);
		else
			r = pht_dataset_load_mem_dialect(data, strlen(data), dict,
			    strlen(dict), "t.csv", dialect, &ds, &err);
		fail_at = -1;
		if ((r == PHT_OK) != (ds != NULL) || (r != PHT_OK && err.msg[0] == '\0')) {
			tap_ok(0, "%s: failing allocation %ld: inconsistent result %d", what,
			    i, r);
			pht_dataset_free(ds);
			return;
		}
		if (r != want_code)
			exercised++;
		pht_dataset_free(ds);
		if (n_alloc <= i) { /* the failure point was never reached */
			clean = 1;
			tap_ok(r == want_code, "%s: untouched run gives %s", what,
			    pht_strerror(want_code));
			break;
		}
	}
	tap_ok(clean, "%s: a run without failure was reached", what);
	tap_ok(exercised >= 10, "%s: %ld failing allocations gave a clean error",
	    what, exercised);
}

static void
write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "wb");

	if (f != NULL) {
		fputs(data, f);
		fclose(f);
	}
}

int
main(void)
{
	char dir[] = "/tmp/pht-torture-XXXXXX", csvp[64], dictp[64];

	json_set_alloc_funcs(__wrap_malloc, free);
	torture("memory load", 0, NULL, NULL, csv, PHT_OK);
	torture("memory load with bad cells", 0, NULL, NULL, bad_csv, PHT_ERR_INVALID);
	dialect = &nl;
	torture("memory load, Dutch dialect in Windows-1252", 0, NULL, NULL, nl_csv,
	    PHT_OK);
	dialect = NULL;
	if (!tap_ok(mkdtemp(dir) != NULL, "temporary directory"))
		return tap_done();
	snprintf(csvp, sizeof(csvp), "%s/t.csv", dir);
	snprintf(dictp, sizeof(dictp), "%s/t.dict.json", dir);
	write_file(csvp, csv);
	write_file(dictp, dict);
	torture("file load", 1, csvp, dictp, NULL, PHT_OK);
	unlink(csvp);
	unlink(dictp);
	rmdir(dir);
	return tap_done();
}
