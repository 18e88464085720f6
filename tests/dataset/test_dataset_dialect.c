/* test_dataset_dialect.c — CSV dialects, date formats, the datetime type, source configs and the SQLite source. */
#include "tap.h"

#include "pht_dataset.h"
#include "pht_dataset_source.h"
#include "pht_err.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dict =
    "{\"dataset\": \"reg\", \"columns\": ["
    "{\"name\": \"id\", \"type\": \"integer\"},"
    "{\"name\": \"bmi\", \"type\": \"number\"},"
    "{\"name\": \"city\", \"type\": \"category\", \"levels\": [\"Zw\\u00e9e\", \"Gen\\u00e8ve\", \"\\u20acx\"]},"
    "{\"name\": \"dx\", \"type\": \"date\"},"
    "{\"name\": \"seen\", \"type\": \"datetime\"}]}";

/* Loads csv with dialect dl; the dataset, or NULL with err filled. */
static struct pht_dataset *
load(const char *csv, const struct pht_dataset_dialect *dl, struct pht_err *err)
{
	struct pht_dataset *ds = NULL;

	memset(err, 0, sizeof(*err));
	if (pht_dataset_load_mem_dialect(csv, strlen(csv), dict, strlen(dict),
	    "reg.csv", dl, &ds, err) != PHT_OK)
		return NULL;
	return ds;
}

static const char *
sha(const struct pht_dataset *ds, char out[65])
{
	if (ds == NULL || pht_dataset_columns_sha256(ds, out) != PHT_OK)
		return "none";
	return out;
}

static void
test_dialects(void)
{
	static const struct pht_dataset_format fm[] = {
		{ "dx", "%d-%m-%Y" }, { "seen", "%d/%m/%Y %H.%M" },
	};
	struct pht_dataset_dialect nl = { ';', '\'', ',', PHT_ENC_WINDOWS1252, 2, fm };
	struct pht_dataset_dialect l1 = { 0, 0, 0, PHT_ENC_LATIN1, 0, NULL };
	struct pht_dataset *a, *b, *c;
	struct pht_err err;
	char s1[65], s2[65], s3[65];
	const struct pht_column *col;

	a = load("id,bmi,city,dx,seen\n"
	    "1,21.5,Zw\xc3\xa9" "e,2020-02-29,2020-02-29T13:45:00\n"
	    "2,NA,Gen\xc3\xa8ve,1969-12-31,1969-12-31 23:59:00Z\n"
	    "3,-0.25,\xe2\x82\xacx,,\n", NULL, &err);
	tap_ok(a != NULL, "comma CSV in UTF-8 loads (%s)", err.msg);
	b = load("id;bmi;city;dx;seen\r\n"
	    "1;21,5;Zw\xe9" "e;29-02-2020;29/02/2020 13.45\r\n"
	    "2;NA;'Gen\xe8ve';31-12-1969;31/12/1969 23.59\r\n"
	    "3;-0,25;\x80x;;\r\n", &nl, &err);
	tap_ok(b != NULL, "';', quote ', decimal comma, Windows-1252, formats load "
	    "(%s)", err.msg);
	tap_str(sha(b, s2), sha(a, s1), "both hold the same typed columns");
	if (a != NULL) {
		col = pht_dataset_find(a, "seen");
		tap_ok(col != NULL && col->type == PHT_COL_INTEGER && col->datetime &&
		    col->v.i64[0] == 1582983900 && col->v.i64[1] == -60 &&
		    pht_column_is_missing(col, 2), "datetime: seconds since the "
		    "epoch, before 1970 too, empty is missing");
		col = pht_dataset_find(a, "dx");
		tap_ok(col->v.i32[1] == -1, "a date before 1970 is day -1");
	}
	c = load("id,bmi,city,dx,seen\n1,1,Zw\xe9" "e,2020-01-01,\n", &l1, &err);
	tap_ok(c != NULL && pht_dataset_find(c, "city")->v.i32[0] == 0,
	    "Latin-1: \\xe9 is \\u00e9 (%s)", err.msg);
	pht_dataset_free(c);
	c = load("id,bmi,city,dx,seen\n1,1,Zw\xc3\xa9" "e,2020-01-01,\n", &l1, &err);
	tap_ok(c == NULL && strstr(err.msg, "reg.csv:2:city: \"Zw\xc3\x83\xc2\xa9" "e\" is "
	    "not one of the levels") != NULL, "UTF-8 read as Latin-1 is refused "
	    "(%s)", err.msg);
	pht_dataset_free(c);
	pht_dataset_free(a);
	pht_dataset_free(b);
	(void)s3;
}

static void
expect_fail(const char *csv, const struct pht_dataset_dialect *dl, const char *want,
    const char *what)
{
	struct pht_dataset *ds;
	struct pht_err err;

	ds = load(csv, dl, &err);
	tap_ok(ds == NULL && strstr(err.msg, want) != NULL, "%s (%s)", what, err.msg);
	pht_dataset_free(ds);
}

static void
test_errors(void)
{
	static const struct pht_dataset_format f_dx[] = { { "dx", "%d-%m-%Y" } };
	static const struct pht_dataset_format f_id[] = { { "id", "%d-%m-%Y" } };
	static const struct pht_dataset_format f_no[] = { { "zz", "%d-%m-%Y" } };
	static const struct pht_dataset_format f_h[] = { { "dx", "%Y-%m-%d %H" } };
	static const struct pht_dataset_format f_md[] = { { "dx", "%Y-%m" } };
	static const struct pht_dataset_format f_q[] = { { "seen", "%Y-%m-%d %q" } };
	struct pht_dataset_dialect d = { ';', 0, ',', 0, 1, f_dx };
	struct pht_dataset_dialect bad = { 0, 0, 0, 0, 1, f_id };
	const char *hdr = "id;bmi;city;dx;seen\n";
	char buf[256];

	snprintf(buf, sizeof(buf), "%s1;2;Zw\xc3\xa9" "e;30-02-2020;\n", hdr);
	expect_fail(buf, &d, "reg.csv:2:dx: \"30-02-2020\" is not a valid date "
	    "(%d-%m-%Y)", "a day February lacks, named by line and column");
	snprintf(buf, sizeof(buf), "%s1;2;Zw\xc3\xa9" "e;1-02-2020;\n", hdr);
	expect_fail(buf, &d, "\"1-02-2020\" is not a valid date", "%d is two digits");
	snprintf(buf, sizeof(buf), "%s1;2.5;Zw\xc3\xa9" "e;01-02-2020;\n", hdr);
	expect_fail(buf, &d, "reg.csv:2:bmi: \"2.5\" is not a number",
	    "a point with a decimal comma is refused");
	snprintf(buf, sizeof(buf), "%s1;1,000,5;Zw\xc3\xa9" "e;01-02-2020;\n", hdr);
	expect_fail(buf, &d, "\"1,000,5\" is not a number", "two decimal commas");
	expect_fail("id,bmi,city,dx,seen\n1,1,Zw\xc3\xa9" "e,,2020-01-01T24:00:00\n",
	    NULL, "reg.csv:2:seen: \"2020-01-01T24:00:00\" is not a valid datetime "
	    "(YYYY-MM-DDTHH:MM:SS)", "hour 24 is refused");
	expect_fail("id,bmi,city,dx,seen\n1,1,Zw\xc3\xa9" "e,,2020-01-01\n",
	    NULL, "is not a valid datetime", "a date alone is not a datetime");
	expect_fail("id,bmi,city,dx,seen\n", &bad, "format for column id: only date "
	    "and datetime columns take a format", "a format on an integer column");
	bad.formats = f_no;
	expect_fail("id,bmi,city,dx,seen\n", &bad, "format for column zz: no such "
	    "column", "a format for a column not in the dictionary");
	bad.formats = f_h;
	expect_fail("id,bmi,city,dx,seen\n", &bad, "%H in the format of a date "
	    "column", "a time in a date column's format");
	bad.formats = f_md;
	expect_fail("id,bmi,city,dx,seen\n", &bad, "needs %Y, %m and %d",
	    "a format without the day");
	bad.formats = f_q;
	expect_fail("id,bmi,city,dx,seen\n", &bad, "%q is not a directive",
	    "an unknown directive");
	bad.nformats = 0;
	bad.decimal = ',';
	expect_fail("id,bmi,city,dx,seen\n", &bad, "a decimal comma needs a "
	    "delimiter other than ','", "a decimal comma with comma separators");
	bad.decimal = 0;
	bad.delimiter = '"';
	expect_fail("id,bmi,city,dx,seen\n", &bad, "delimiter and quote must be",
	    "the delimiter equal to the quote");
	bad.delimiter = 0;
	bad.encoding = PHT_ENC_WINDOWS1252;
	expect_fail("id,bmi,city,dx,seen\n1,1,x,,\n2,1,\x81,,\n", &bad,
	    "reg.csv:3: byte 0x81 is not a character in windows-1252",
	    "an undefined Windows-1252 byte names its line");
}

/* Parses a source object from JSON text; NULL with err on failure. */
static struct pht_dataset_source *
src_of(const char *text, struct pht_err *err)
{
	struct pht_dataset_source *s = NULL;
	json_t *j = json_loads(text, 0, NULL);

	memset(err, 0, sizeof(*err));
	if (j == NULL)
		return NULL;
	(void)pht_dataset_source_parse(j, "st.json", "datasets.reg", "/base", NULL, 1,
	    &s, err);
	json_decref(j);
	return s;
}

static void
src_fails(const char *text, const char *want)
{
	struct pht_dataset_source *s;
	struct pht_err err;

	s = src_of(text, &err);
	tap_ok(s == NULL && strstr(err.msg, want) != NULL, "source %s refused (%s)",
	    text, err.msg);
	pht_dataset_source_free(s);
}

static void
test_source_config(void)
{
	struct pht_dataset_source *s;
	struct pht_err err;

	s = src_of("{\"csv\": \"d/reg.csv\", \"dialect\": {\"delimiter\": \";\", "
	    "\"decimal\": \",\", \"encoding\": \"CP1252\"}, \"formats\": {\"dx\": "
	    "\"%d.%m.%Y\"}}", &err);
	tap_ok(s != NULL && strcmp(pht_dataset_source_dict(s),
	    "/base/d/reg.dict.json") == 0 && pht_dataset_source_dialect(s)->decimal ==
	    ',' && pht_dataset_source_dialect(s)->encoding == PHT_ENC_WINDOWS1252 &&
	    pht_dataset_source_dialect(s)->nformats == 1, "a CSV source with a dialect "
	    "(%s)", err.msg);
	pht_dataset_source_free(s);
	s = src_of("{\"sqlite\": \"reg.db\", \"query\": \"SELECT 1\", \"dict\": "
	    "\"reg.dict.json\"}", &err);
	tap_ok(s != NULL && pht_dataset_source_kind(s) == PHT_SOURCE_SQLITE &&
	    strcmp(pht_dataset_source_label(s), "sqlite:/base/reg.db") == 0 &&
	    pht_dataset_source_csv(s) == NULL, "an SQLite source (%s)", err.msg);
	pht_dataset_source_free(s);
	s = src_of("{\"postgres\": \"host=/run/pg dbname=reg user=pht\", \"passfile\": "
	    "\"pgpass\", \"query\": \"SELECT 1\", \"dict\": \"reg.dict.json\"}", &err);
	tap_ok(s != NULL && strcmp(pht_dataset_source_label(s),
	    "postgres:host=/run/pg dbname=reg user=pht") == 0, "a PostgreSQL source "
	    "with a passfile (%s)", err.msg);
	pht_dataset_source_free(s);
	src_fails("{}", "st.json: datasets.reg.csv: missing");
	src_fails("{\"csv\": \"a.csv\", \"sqlite\": \"a.db\"}", "more than one of");
	src_fails("{\"csv\": \"a.csv\", \"query\": \"SELECT 1\"}", "only for sqlite");
	src_fails("{\"sqlite\": \"a.db\", \"dict\": \"a.json\"}", "datasets.reg.query: "
	    "missing");
	src_fails("{\"sqlite\": \"a.db\", \"query\": \"SELECT 1\"}", "datasets.reg.dict: "
	    "missing (required for sqlite and postgres");
	src_fails("{\"sqlite\": \"a.db\", \"query\": \"SELECT 1\", \"dict\": \"d\", "
	    "\"dialect\": {}}", "datasets.reg.dialect: only for csv");
	src_fails("{\"postgres\": \"dbname=x password=s3cret\", \"query\": \"SELECT 1\", "
	    "\"dict\": \"d\"}", "holds a password: give a passfile");
	src_fails("{\"postgres\": \"dbname='x\", \"query\": \"SELECT 1\", \"dict\": \"d\"}",
	    "not a conninfo");
	src_fails("{\"csv\": \"a.csv\", \"dialect\": {\"delimiter\": \";;\"}}",
	    "datasets.reg.dialect.delimiter: not one ASCII character");
	src_fails("{\"csv\": \"a.csv\", \"dialect\": {\"sep\": \";\"}}",
	    "datasets.reg.dialect.sep: unknown field");
	src_fails("{\"csv\": \"a.csv\", \"dialect\": {\"encoding\": \"ebcdic\"}}",
	    "not one of utf-8, latin-1, windows-1252");
	src_fails("{\"csv\": \"a.csv\", \"dialect\": {\"decimal\": \",\"}}",
	    "a decimal comma needs a delimiter other than");
	src_fails("{\"csv\": \"a.csv\", \"formats\": {\"dx\": \"%d/%m\"}}",
	    "datasets.reg.formats.dx: needs %Y, %m and %d");
	src_fails("{\"csv\": \"a.csv\", \"rows\": 3}", "datasets.reg.rows: unknown field");
}

static void
test_sqlite(void)
{
	char dir[] = "/tmp/pht-dialect-XXXXXX", db[128], dp[128], js[512];
	struct pht_dataset_source *s = NULL;
	struct pht_dataset *ds = NULL;
	const struct pht_column *c;
	struct pht_err err;
	sqlite3 *h = NULL;
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		tap_ok(0, "mkdtemp");
		return;
	}
	snprintf(db, sizeof(db), "%s/reg.db", dir);
	snprintf(dp, sizeof(dp), "%s/reg.dict.json", dir);
	if ((f = fopen(dp, "w")) != NULL) {
		fputs(dict, f);
		fclose(f);
	}
	tap_ok(sqlite3_open(db, &h) == SQLITE_OK && sqlite3_exec(h,
	    "CREATE TABLE t (id INTEGER, bmi REAL, city TEXT, dx TEXT, seen TEXT);"
	    "INSERT INTO t VALUES (1, 0.1 + 0.2, 'Zw\xc3\xa9" "e', '2020-01-02', "
	    "'2020-01-02 03:04:05');"
	    "INSERT INTO t VALUES (2, NULL, 'Gen\xc3\xa8ve', NULL, NULL);"
	    "INSERT INTO t VALUES (3, 1e300, 'Zw\xc3\xa9" "e', '2021-12-31', NULL);",
	    NULL, NULL, NULL) == SQLITE_OK, "an SQLite file");
	sqlite3_close(h);
	snprintf(js, sizeof(js), "{\"sqlite\": \"%s\", \"dict\": \"%s\", \"query\": "
	    "\"SELECT id, bmi, city, dx, seen FROM t ORDER BY id\"}", db, dp);
	s = src_of(js, &err);
	tap_ok(s != NULL && pht_dataset_source_load(s, NULL, &ds, &err) == PHT_OK,
	    "the query's result loads (%s)", err.msg);
	if (ds != NULL) {
		c = pht_dataset_find(ds, "bmi");
		tap_ok(c->v.f64[0] == 0.1 + 0.2 && c->v.f64[2] == 1e300 &&
		    pht_column_is_missing(c, 1), "reals come back as the same "
		    "doubles; NULL is missing");
		c = pht_dataset_find(ds, "seen");
		tap_ok(c->v.i64[0] == 1577934245 && pht_column_is_missing(c, 2),
		    "a datetime with a space for the T");
		tap_ok(strlen(pht_dataset_csv_sha256(ds)) == 64, "the result is hashed");
	}
	pht_dataset_free(ds);
	pht_dataset_source_free(s);
	ds = NULL;
	snprintf(js, sizeof(js), "{\"sqlite\": \"%s\", \"dict\": \"%s\", \"query\": "
	    "\"SELECT id, bmi, city, dx, 'soon' AS seen FROM t ORDER BY id\"}", db, dp);
	s = src_of(js, &err);
	tap_ok(s != NULL && pht_dataset_source_load(s, NULL, &ds, &err) ==
	    PHT_ERR_INVALID && strstr(err.msg, ":row 1:seen: \"soon\" is not a valid "
	    "datetime") != NULL && strstr(err.msg, "(3 bad cells in all)") != NULL,
	    "a bad cell names the result row and column (%s)", err.msg);
	pht_dataset_source_free(s);
	snprintf(js, sizeof(js), "{\"sqlite\": \"%s\", \"dict\": \"%s\", \"query\": "
	    "\"SELECT id, bmi, city, dx FROM t\"}", db, dp);
	s = src_of(js, &err);
	tap_ok(s != NULL && pht_dataset_source_load(s, NULL, &ds, &err) ==
	    PHT_ERR_INVALID && strstr(err.msg, "column \"seen\" of the dictionary is "
	    "missing from the query result") != NULL, "a column missing from the "
	    "result (%s)", err.msg);
	pht_dataset_source_free(s);
	snprintf(js, sizeof(js), "{\"sqlite\": \"%s\", \"dict\": \"%s\", \"query\": "
	    "\"UPDATE t SET id = 7 RETURNING *\"}", db, dp);
	s = src_of(js, &err);
	tap_ok(s != NULL && pht_dataset_source_load(s, NULL, &ds, &err) ==
	    PHT_ERR_INVALID && strstr(err.msg, "not read-only") != NULL,
	    "a query that writes is refused (%s)", err.msg);
	pht_dataset_source_free(s);
	snprintf(js, sizeof(js), "{\"sqlite\": \"%s/none.db\", \"dict\": \"%s\", "
	    "\"query\": \"SELECT 1\"}", dir, dp);
	s = src_of(js, &err);
	snprintf(db, sizeof(db), "%s/none.db", dir);
	tap_ok(s != NULL && pht_dataset_source_load(s, NULL, &ds, &err) == PHT_ERR_IO &&
	    access(db, F_OK) != 0, "a missing file is not created (%s)", err.msg);
	pht_dataset_source_free(s);
	snprintf(db, sizeof(db), "%s/reg.db", dir);
	unlink(db);
	unlink(dp);
	rmdir(dir);
}

int
main(void)
{
	test_dialects();
	test_errors();
	test_source_config();
	test_sqlite();
	return tap_done();
}
