/* test_dataset.c — unit tests of the dataset loader: every cell against an independent construction, tokenizer, API, file errors. */
#include "tap.h"

#include "pht_buf.h"
#include "pht_csv.h"
#include "pht_dataset.h"
#include "pht_err.h"

#include <openssl/evp.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* xorshift64*: the test's own seeded generator. */
struct rng {
	uint64_t s;
};

static uint64_t
rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

static uint64_t
below(struct rng *r, uint64_t n)
{
	return rnd(r) % n;
}

static const char *const levels[] = {
	"plain", "with,comma", "with \"quote\"", "multi\nline", "crlf\r\nline",
	"\xc3\xbc-umlaut", " lead space", "x",
};
#define NLEVELS (sizeof(levels) / sizeof(levels[0]))

/* Columns of the generated dataset, in dictionary order. */
enum { C_INT, C_NUM, C_CAT, C_DATE, C_BOOL, C_FULL, C_CUSTOM, NCOLS };

static const char *const dict_json =
    "{\"dataset\": \"gen\", \"description\": \"generated\", \"columns\": ["
    "{\"name\": \"i\", \"type\": \"integer\", \"unit\": \"count\"},"
    "{\"name\": \"f\", \"type\": \"number\", \"description\": \"a double\"},"
    "{\"name\": \"c\", \"type\": \"category\", \"levels\": [\"plain\", "
    "\"with,comma\", \"with \\\"quote\\\"\", \"multi\\nline\", "
    "\"crlf\\r\\nline\", \"\\u00fc-umlaut\", \" lead space\", \"x\"]},"
    "{\"name\": \"d\", \"type\": \"date\"},"
    "{\"name\": \"b\", \"type\": \"boolean\"},"
    "{\"name\": \"full\", \"type\": \"integer\"},"
    "{\"name\": \"cust\", \"type\": \"number\", \"missing\": [\"missing\", \"-\"]}"
    "]}";

/* The expected content of one row. */
struct row {
	int miss[NCOLS];
	int64_t i, full;
	double f, cust;
	int32_t c;
	int64_t days;
	uint8_t b;
};

/* Days since 1970-01-01 through the C library, not pht_time. */
static int64_t
libc_days(int y, int m, int d)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	return ((int64_t)timegm(&tm) - 12 * 3600) / 86400;
}

static int
dim(int y, int m)
{
	static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

/* Appends s as a CSV field, quoted when needed or when force is set. */
static void
put_field(struct pht_buf *b, const char *s, int force)
{
	const char *p;

	if (!force && strpbrk(s, ",\"\r\n") == NULL) {
		pht_buf_puts(b, s);
		return;
	}
	pht_buf_putc(b, '"');
	for (p = s; *p; p++) {
		if (*p == '"')
			pht_buf_putc(b, '"');
		pht_buf_putc(b, *p);
	}
	pht_buf_putc(b, '"');
}

/* Random finite double that %.17g round-trips exactly. */
static double
rnd_double(struct rng *r)
{
	double mant = (double)(rnd(r) >> 11) / (double)(1ULL << 53);
	int e = (int)below(r, 40) - 20;
	double v = mant;

	while (e > 0) {
		v *= 1e15;
		e--;
	}
	while (e < 0) {
		v /= 1e15;
		e++;
	}
	return below(r, 2) ? -v : v;
}

/*
 * Writes n generated rows as CSV into b (header in a shuffled order, CRLF
 * or LF line ends, optional BOM) and their expected values into rows.
 */
static void
generate(struct rng *r, size_t n, int crlf, int bom, struct pht_buf *b,
    struct row *rows)
{
	static const char *const names[NCOLS] = { "i", "f", "c", "d", "b", "full",
	    "cust" };
	static const int order[NCOLS] = { C_DATE, C_INT, C_CUSTOM, C_CAT, C_FULL,
	    C_BOOL, C_NUM };
	const char *eol = crlf ? "\r\n" : "\n";
	char cell[64];
	size_t k, j;
	int y, m, d, col;

	if (bom)
		pht_buf_put(b, "\xef\xbb\xbf", 3);
	for (j = 0; j < NCOLS; j++) {
		if (j)
			pht_buf_putc(b, ',');
		put_field(b, names[order[j]], below(r, 4) == 0);
	}
	pht_buf_puts(b, eol);
	for (k = 0; k < n; k++) {
		struct row *w = &rows[k];

		memset(w, 0, sizeof(*w));
		for (j = 0; j < NCOLS; j++)
			w->miss[j] = j != C_FULL && below(r, 10) == 0;
		w->i = (int64_t)rnd(r);
		if (below(r, 50) == 0)
			w->i = below(r, 2) ? INT64_MAX : INT64_MIN;
		w->full = (int64_t)below(r, 1000) - 500;
		w->f = rnd_double(r);
		w->cust = rnd_double(r);
		w->c = (int32_t)below(r, NLEVELS);
		y = 1 + (int)below(r, 9999);
		m = 1 + (int)below(r, 12);
		d = 1 + (int)below(r, (uint64_t)dim(y, m));
		w->days = libc_days(y, m, d);
		w->b = (uint8_t)below(r, 2);
		for (j = 0; j < NCOLS; j++) {
			col = order[j];
			if (j)
				pht_buf_putc(b, ',');
			if (w->miss[col]) {
				if (col == C_CUSTOM)
					put_field(b, below(r, 2) ? "missing" : "-", below(r, 3) == 0);
				else
					put_field(b, below(r, 2) ? "NA" : "", below(r, 3) == 0);
				continue;
			}
			switch (col) {
			case C_INT:
				snprintf(cell, sizeof(cell), "%lld", (long long)w->i);
				break;
			case C_FULL:
				snprintf(cell, sizeof(cell), "%lld", (long long)w->full);
				break;
			case C_NUM:
				snprintf(cell, sizeof(cell), "%.17g", w->f);
				break;
			case C_CUSTOM:
				snprintf(cell, sizeof(cell), "%.17g", w->cust);
				break;
			case C_CAT:
				put_field(b, levels[w->c], below(r, 5) == 0);
				continue;
			case C_DATE:
				snprintf(cell, sizeof(cell), "%04d-%02d-%02d", y, m, d);
				break;
			case C_BOOL:
				snprintf(cell, sizeof(cell), "%s", w->b ?
				    (below(r, 2) ? "1" : "true") : (below(r, 2) ? "0" : "false"));
				break;
			}
			put_field(b, cell, below(r, 8) == 0);
		}
		if (k + 1 < n || below(r, 2))
			pht_buf_puts(b, eol);
	}
}

/* Compares every cell and missing flag; returns the number of mismatches. */
static size_t
compare(const struct pht_dataset *ds, const struct row *rows, size_t n)
{
	const struct pht_column *c[NCOLS];
	size_t k, j, bad = 0, nmiss[NCOLS] = { 0 };
	int ok;

	for (j = 0; j < NCOLS; j++)
		c[j] = pht_dataset_column(ds, j);
	for (k = 0; k < n; k++) {
		const struct row *w = &rows[k];

		for (j = 0; j < NCOLS; j++) {
			if (pht_column_is_missing(c[j], k) != w->miss[j]) {
				bad++;
				continue;
			}
			if (w->miss[j]) {
				nmiss[j]++;
				continue;
			}
			switch (j) {
			case C_INT: ok = c[j]->v.i64[k] == w->i; break;
			case C_FULL: ok = c[j]->v.i64[k] == w->full; break;
			case C_NUM: ok = c[j]->v.f64[k] == w->f; break;
			case C_CUSTOM: ok = c[j]->v.f64[k] == w->cust; break;
			case C_CAT: ok = c[j]->v.i32[k] == w->c; break;
			case C_DATE: ok = c[j]->v.i32[k] == w->days; break;
			case C_BOOL: ok = c[j]->v.u8[k] == w->b; break;
			default: ok = 0;
			}
			if (!ok) {
				if (bad < 5)
					tap_diag("row %zu column %s differs", k, c[j]->name);
				bad++;
			}
		}
	}
	for (j = 0; j < NCOLS; j++)
		if (c[j]->nmissing != nmiss[j] || (nmiss[j] == 0) != (c[j]->missing == NULL))
			bad++;
	return bad;
}

static char tmpdir[] = "/tmp/pht-test-dataset-XXXXXX";

static void
write_file(const char *name, const void *data, size_t len, char *path, size_t pathsz)
{
	FILE *f;

	snprintf(path, pathsz, "%s/%s", tmpdir, name);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	fwrite(data, 1, len, f);
	fclose(f);
}

static void
sha256_of(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	size_t i;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
test_generated(void)
{
	static const struct { uint64_t seed; size_t n; int crlf, bom; } runs[] = {
		{ 1, 3000, 0, 0 }, { 2, 2000, 1, 0 }, { 3, 1000, 0, 1 },
		{ 4, 1500, 1, 1 }, { 5, 1, 0, 0 },
	};
	char csvp[512], dictp[512], sha[65];
	struct pht_dataset *ds = NULL;
	struct pht_buf *b;
	struct pht_err err;
	struct row *rows;
	struct rng r;
	size_t i, j, bytes;
	int rc;

	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		r.s = runs[i].seed * 0x9e3779b97f4a7c15ULL;
		rows = calloc(runs[i].n, sizeof(*rows));
		b = pht_buf_new((size_t)64 << 20);
		generate(&r, runs[i].n, runs[i].crlf, runs[i].bom, b, rows);
		write_file("gen.csv", pht_buf_data(b), pht_buf_len(b), csvp, sizeof(csvp));
		write_file("gen.dict.json", dict_json, strlen(dict_json), dictp,
		    sizeof(dictp));

		rc = pht_dataset_load(csvp, dictp, NULL, &ds, &err);
		if (!tap_ok(rc == PHT_OK, "seed %zu: file loads (%zu rows, crlf %d, "
		    "bom %d)", i, runs[i].n, runs[i].crlf, runs[i].bom))
			tap_diag("%s", pht_err_msg(&err));
		if (ds != NULL) {
			tap_ok(pht_dataset_nrows(ds) == runs[i].n, "seed %zu: row count", i);
			tap_ok(compare(ds, rows, runs[i].n) == 0,
			    "seed %zu: every cell and missing flag matches", i);
			sha256_of(pht_buf_data(b), pht_buf_len(b), sha);
			tap_str(pht_dataset_csv_sha256(ds), sha, "seed %zu: csv sha256", i);
			sha256_of(dict_json, strlen(dict_json), sha);
			tap_str(pht_dataset_dict_sha256(ds), sha, "seed %zu: dict sha256", i);
			bytes = 0;
			for (j = 0; j < NCOLS; j++) {
				const struct pht_column *c = pht_dataset_column(ds, j);
				size_t w = j == C_INT || j == C_FULL || j == C_NUM ||
				    j == C_CUSTOM ? 8 : j == C_BOOL ? 1 : 4;

				bytes += runs[i].n * w;
				if (c->missing != NULL)
					bytes += (runs[i].n + 7) / 8;
			}
			tap_ok(pht_dataset_column_bytes(ds) == bytes,
			    "seed %zu: column bytes %zu", i, bytes);
		}
		pht_dataset_free(ds);
		ds = NULL;

		rc = pht_dataset_load_mem(pht_buf_str(b), pht_buf_len(b), dict_json,
		    strlen(dict_json), "gen.csv", &ds, &err);
		tap_ok(rc == PHT_OK && ds != NULL &&
		    compare(ds, rows, runs[i].n) == 0, "seed %zu: same from memory", i);
		pht_dataset_free(ds);
		ds = NULL;
		pht_buf_free(b);
		free(rows);
		unlink(csvp);
		unlink(dictp);
	}
}

/* Loads csv (NUL-terminated) with dict from memory as "t.csv". */
static int
load(const char *csv, const char *dict, struct pht_dataset **ds, struct pht_err *err)
{
	pht_err_clear(err);
	return pht_dataset_load_mem(csv, strlen(csv), dict, strlen(dict), "t.csv",
	    ds, err);
}

#define CAT_DICT(levels_json) \
	"{\"dataset\":\"t\",\"columns\":[{\"name\":\"id\",\"type\":\"integer\"}," \
	"{\"name\":\"v\",\"type\":\"category\",\"levels\":" levels_json "}]}"

static void
test_quoting(void)
{
	const char *dict = CAT_DICT("[\"a\\\"b\", \"\\\"\", \"x,y\", \"l1\\nl2\", \"q\"]");
	struct pht_dataset *ds = NULL;
	const struct pht_column *v;
	struct pht_err err;
	int rc;

	rc = load("id,v\n1,\"a\"\"b\"\n2,\"\"\"\"\n3,\"x,y\"\n4,\"l1\nl2\"\n5,\"\"\n6,q\n",
	    dict, &ds, &err);
	if (!tap_ok(rc == PHT_OK && ds != NULL, "quoted cells load"))
		tap_diag("%s", pht_err_msg(&err));
	if (ds != NULL) {
		v = pht_dataset_find(ds, "v");
		tap_ok(v != NULL && v->v.i32[0] == 0, "\"a\"\"b\" is a\"b");
		tap_ok(v != NULL && v->v.i32[1] == 1, "\"\"\"\" is one quote");
		tap_ok(v != NULL && v->v.i32[2] == 2, "embedded comma");
		tap_ok(v != NULL && v->v.i32[3] == 3, "embedded newline");
		tap_ok(v != NULL && pht_column_is_missing(v, 4), "\"\" is the empty missing code");
		tap_ok(v != NULL && v->v.i32[5] == 4 && !pht_column_is_missing(v, 5),
		    "unquoted level");
		tap_ok(v != NULL && v->nmissing == 1, "one missing");
	}
	pht_dataset_free(ds);
	ds = NULL;

	/* Line numbers count the newlines inside quotes. */
	rc = load("id,v\n1,\"l1\nl2\"\n2,\"l1\nl2\"\nx,q\n", dict, &ds, &err);
	tap_ok(rc == PHT_ERR_INVALID, "bad cell after multi-line records");
	tap_str(err.msg, "t.csv:6:id: \"x\" is not an integer (1 bad cell in all)",
	    "its line counts the embedded newlines");

	/* CRLF inside quotes is data; CRLF outside ends the record. */
	rc = load("id,v\r\n1,\"a\r\nb\"\r\n", CAT_DICT("[\"a\\r\\nb\"]"), &ds, &err);
	tap_ok(rc == PHT_OK && ds != NULL && pht_dataset_nrows(ds) == 1 &&
	    pht_dataset_column(ds, 1)->v.i32[0] == 0, "CRLF inside quotes kept");
	pht_dataset_free(ds);
	ds = NULL;

	/* A trailing comma is one more empty field. */
	rc = load("id,v\n1,\n", dict, &ds, &err);
	tap_ok(rc == PHT_OK && ds != NULL && pht_column_is_missing(
	    pht_dataset_column(ds, 1), 0), "trailing comma gives an empty field");
	pht_dataset_free(ds);
	ds = NULL;

	/* A BOM only counts at the very start. */
	rc = load("id,v\n\xef\xbb\xbf" "1,q\n", dict, &ds, &err);
	tap_ok(rc == PHT_ERR_INVALID, "BOM inside the data is data");
	tap_str(err.msg, "t.csv:2:id: \"\xef\xbb\xbf" "1\" is not an integer (1 bad cell in all)",
	    "and is shown as it is");
}

static void
test_tokenizer(void)
{
	const char *in = "\xef\xbb\xbf" "a,\"b\"\"c\",\r\n\"x\ny\",z,\n";
	struct pht_csv c;
	struct pht_err err;
	char buf[16];
	size_t n;

	pht_csv_init(&c, "tok", in, strlen(in));
	tap_ok(pht_csv_next(&c, &err) == 1 && c.nfields == 3 && c.rec_line == 1,
	    "first record: 3 fields on line 1");
	tap_ok(c.fields[0].len == 1 && memcmp(c.fields[0].p, "a", 1) == 0 &&
	    !c.fields[0].escaped, "BOM skipped, plain field");
	n = pht_csv_unescape(&c.fields[1], '"', buf);
	tap_ok(c.fields[1].escaped && n == 3 && memcmp(buf, "b\"c", 3) == 0,
	    "escaped quote");
	tap_ok(c.fields[2].len == 0, "empty last field before CRLF");
	tap_ok(pht_csv_next(&c, &err) == 1 && c.nfields == 3 && c.rec_line == 2,
	    "second record starts on line 2");
	tap_ok(c.fields[0].len == 3 && memcmp(c.fields[0].p, "x\ny", 3) == 0,
	    "newline inside quotes");
	tap_ok(pht_csv_next(&c, &err) == 0, "end of input");
	tap_ok(c.line == 4, "line count after the end");
	pht_csv_clear(&c);
	pht_csv_clear(NULL);

	pht_csv_init(&c, "tok", "a,b\n1\n", 6);
	c.expect = 2;
	tap_ok(pht_csv_next(&c, &err) == 1, "expected count met");
	tap_ok(pht_csv_next(&c, &err) == PHT_ERR_MALFORMED, "short record refused");
	tap_str(err.msg, "tok:2: record has 1 field, expected 2", "short record detail");
	pht_csv_clear(&c);

	pht_csv_init(&c, "tok", "", 0);
	tap_ok(pht_csv_next(&c, &err) == 0, "empty input has no records");
	pht_csv_clear(&c);
}

static void
test_api(void)
{
	const char *dict = "{\"dataset\":\"reg\",\"description\":\"d\",\"columns\":["
	    "{\"name\":\"age\",\"type\":\"integer\",\"unit\":\"years\"},"
	    "{\"name\":\"sex\",\"type\":\"category\",\"levels\":[\"f\",\"m\"],"
	    "\"description\":\"sex at birth\"}]}";
	struct pht_dataset *ds = NULL;
	const struct pht_column *c;
	struct pht_err err;
	const json_t *j;

	tap_str(pht_coltype_name(PHT_COL_NUMBER), "number", "type name number");
	tap_str(pht_coltype_name(PHT_COL_INTEGER), "integer", "type name integer");
	tap_str(pht_coltype_name(PHT_COL_CATEGORY), "category", "type name category");
	tap_str(pht_coltype_name(PHT_COL_DATE), "date", "type name date");
	tap_str(pht_coltype_name(PHT_COL_BOOLEAN), "boolean", "type name boolean");

	if (!tap_ok(load("sex,age\nm,40\nf,NA\n", dict, &ds, &err) == PHT_OK,
	    "small dataset loads"))
		return;
	tap_str(pht_dataset_name(ds), "reg", "dataset name");
	tap_ok(pht_dataset_ncols(ds) == 2 && pht_dataset_nrows(ds) == 2, "shape");
	tap_ok(pht_dataset_find_index(ds, "sex") == 1, "find_index in dictionary order");
	tap_ok(pht_dataset_find_index(ds, "weight") == -1, "find_index of none");
	tap_ok(pht_dataset_find(ds, "nope") == NULL, "find of none");
	tap_ok(pht_dataset_column(ds, 2) == NULL, "column out of range");
	c = pht_dataset_find(ds, "age");
	tap_ok(c != NULL && c->type == PHT_COL_INTEGER && c->v.i64[0] == 40 &&
	    pht_column_is_missing(c, 1) && c->nmissing == 1, "age values");
	tap_str(c ? c->unit : NULL, "years", "unit");
	tap_str(c ? c->description : NULL, "", "absent description is empty");
	c = pht_dataset_find(ds, "sex");
	tap_ok(c != NULL && c->nlevels == 2 && strcmp(c->levels[1], "m") == 0 &&
	    c->v.i32[0] == 1 && c->missing == NULL, "sex values, no bitmap");
	tap_str(c ? c->unit : NULL, "", "absent unit is empty");
	tap_str(c ? c->description : NULL, "sex at birth", "description");
	tap_ok(pht_column_level_code(c, "m") == 1 && pht_column_level_code(c, "f") == 0,
	    "level codes by name");
	tap_ok(pht_column_level_code(c, "x") == -1, "no such level");
	tap_ok(pht_column_level_code(pht_dataset_find(ds, "age"), "f") == -1,
	    "no levels on an integer column");
	j = pht_dataset_dict(ds);
	tap_str(json_string_value(json_object_get(j, "dataset")), "reg",
	    "dictionary as parsed");
	tap_ok(json_array_size(json_object_get(j, "columns")) == 2,
	    "dictionary columns");
	pht_dataset_free(ds);
	pht_dataset_free(NULL);
	ds = NULL;

	/* load_mem names the dictionary after the CSV. */
	tap_ok(pht_dataset_load_mem("a\n", 2, "{}", 2, "reg.csv", &ds, &err) ==
	    PHT_ERR_MALFORMED && ds == NULL, "bad dictionary from memory");
	tap_str(err.msg, "reg.dict.json: dataset: missing", "dictionary named NAME.dict.json");
	tap_ok(pht_dataset_load_mem("a\n", 2, "{}", 2, "mem", &ds, &err) ==
	    PHT_ERR_MALFORMED, "bad dictionary, plain name");
	tap_str(err.msg, "mem.dict.json: dataset: missing", "plain name gets .dict.json");
}

static void
test_many_levels(void)
{
	struct pht_buf *d = pht_buf_new(1 << 20), *csv = pht_buf_new(1 << 20);
	struct pht_dataset *ds = NULL;
	const struct pht_column *c;
	struct pht_err err;
	size_t i, bad = 0, n = 5000;

	pht_buf_puts(d, "{\"dataset\":\"m\",\"columns\":[{\"name\":\"v\","
	    "\"type\":\"category\",\"levels\":[");
	pht_buf_puts(csv, "v\n");
	for (i = 0; i < n; i++) {
		pht_buf_putf(d, "%s\"lv%zu\"", i ? "," : "", i);
		pht_buf_putf(csv, "lv%zu\n", (i * 7919) % n);
	}
	pht_buf_puts(d, "]}]}");
	tap_ok(load(pht_buf_str(csv), pht_buf_str(d), &ds, &err) == PHT_OK,
	    "5000 levels load");
	if (ds != NULL) {
		c = pht_dataset_column(ds, 0);
		for (i = 0; i < n; i++)
			if (c->v.i32[i] != (int32_t)((i * 7919) % n))
				bad++;
		tap_ok(bad == 0, "every cell has its level's code");
	}
	pht_dataset_free(ds);
	pht_buf_free(d);
	pht_buf_free(csv);
}

static void
test_bad_count(void)
{
	struct pht_buf *csv = pht_buf_new(1 << 20);
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	size_t i;

	pht_buf_puts(csv, "v\n");
	for (i = 0; i < 3000; i++)
		pht_buf_puts(csv, i % 3 == 1 ? "x\n" : "1\n");
	tap_ok(load(pht_buf_str(csv), "{\"dataset\":\"b\",\"columns\":[{\"name\":"
	    "\"v\",\"type\":\"integer\"}]}", &ds, &err) == PHT_ERR_INVALID &&
	    ds == NULL, "bad cells refused");
	tap_str(err.msg, "t.csv:3:v: \"x\" is not an integer (1000 bad cells in all)",
	    "first bad cell and the count of all");
	pht_buf_free(csv);
}

static void
test_files(void)
{
	const char *dict = "{\"dataset\":\"f\",\"columns\":[{\"name\":\"v\","
	    "\"type\":\"integer\"}]}";
	struct pht_dataset_opts opts = { 0 };
	char csvp[512], dictp[512], want[700];
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	int rc;

	write_file("f.dict.json", dict, strlen(dict), dictp, sizeof(dictp));
	write_file("f.csv", "v\n1\n2\n", 6, csvp, sizeof(csvp));
	rc = pht_dataset_load(csvp, dictp, NULL, &ds, &err);
	tap_ok(rc == PHT_OK && pht_dataset_nrows(ds) == 2, "file loads");
	pht_dataset_free(ds);
	ds = NULL;

	opts.max_bytes = 5;
	rc = pht_dataset_load(csvp, dictp, &opts, &ds, &err);
	tap_ok(rc == PHT_ERR_TOO_LARGE && ds == NULL, "larger than max_bytes refused");
	snprintf(want, sizeof(want), "%s: larger than 5 bytes", csvp);
	tap_str(err.msg, want, "too-large detail");
	opts.max_bytes = 6;
	rc = pht_dataset_load(csvp, dictp, &opts, &ds, &err);
	tap_ok(rc == PHT_OK, "exactly max_bytes accepted");
	pht_dataset_free(ds);
	ds = NULL;

	rc = pht_dataset_load(tmpdir, dictp, NULL, &ds, &err);
	tap_ok(rc == PHT_ERR_IO && ds == NULL, "a directory is refused");
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	tap_str(err.msg, want, "directory detail");

	snprintf(want, sizeof(want), "%s/none.csv", tmpdir);
	rc = pht_dataset_load(want, dictp, NULL, &ds, &err);
	tap_ok(rc == PHT_ERR_IO && ds == NULL, "missing CSV refused");
	tap_ok(strstr(err.msg, "none.csv: No such file or directory") != NULL,
	    "missing CSV detail names it");

	snprintf(want, sizeof(want), "%s/none.dict.json", tmpdir);
	rc = pht_dataset_load(csvp, want, NULL, &ds, &err);
	tap_ok(rc == PHT_ERR_IO && ds == NULL, "missing dictionary refused");
	tap_ok(strstr(err.msg, "none.dict.json: No such file or directory") != NULL,
	    "missing dictionary detail names it");

	write_file("e.csv", "", 0, want, sizeof(want));
	rc = pht_dataset_load(want, dictp, NULL, &ds, &err);
	tap_ok(rc == PHT_ERR_MALFORMED, "empty file on disk refused");
	tap_ok(strstr(err.msg, "e.csv: empty file (no header line)") != NULL,
	    "empty file detail");
	unlink(want);
	unlink(csvp);
	unlink(dictp);
}

static void
test_parse_date(void)
{
	int32_t d = 77;

	tap_ok(pht_dataset_parse_date("1970-01-02", 10, &d) == PHT_OK && d == 1,
	    "parse_date 1970-01-02 is day 1");
	tap_ok(pht_dataset_parse_date("1969-12-31", 10, &d) == PHT_OK && d == -1,
	    "parse_date 1969-12-31 is day -1");
	/* 2000-03-01: 30 years of 365 days, 7 leap days (72..96, 2000), Jan+Feb 2000. */
	tap_ok(pht_dataset_parse_date("2000-03-01", 10, &d) == PHT_OK &&
	    d == 30 * 365 + 7 + 31 + 29, "parse_date 2000-03-01");
	d = 77;
	tap_ok(pht_dataset_parse_date("2000-02-30", 10, &d) == PHT_ERR_INVALID &&
	    d == 77, "parse_date refuses 2000-02-30, leaves the output");
	tap_ok(pht_dataset_parse_date("2000-03-011", 11, &d) == PHT_ERR_INVALID,
	    "parse_date refuses trailing bytes");
	tap_ok(pht_dataset_parse_date("2000-03-01", 9, &d) == PHT_ERR_INVALID,
	    "parse_date honours the length");
}

static void
test_sha256_kat(void)
{
	struct pht_dataset *ds = NULL;
	struct pht_err err;

	/* "abc" is a header-only CSV for a dictionary with column abc. */
	tap_ok(load("abc", "{\"dataset\":\"k\",\"columns\":[{\"name\":\"abc\","
	    "\"type\":\"number\"}]}", &ds, &err) == PHT_OK, "abc loads (0 rows)");
	/* FIPS 180-2 appendix B.1. */
	tap_str(ds ? pht_dataset_csv_sha256(ds) : NULL,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "SHA-256(\"abc\") known answer");
	pht_dataset_free(ds);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		tap_ok(0, "mkdtemp");
		return tap_done();
	}
	test_tokenizer();
	test_generated();
	test_quoting();
	test_api();
	test_many_levels();
	test_bad_count();
	test_files();
	test_sha256_kat();
	test_parse_date();
	rmdir(tmpdir);
	return tap_done();
}
