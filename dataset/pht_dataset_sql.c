/* pht_dataset_sql.c — SQL sources: a read-only query on SQLite or PostgreSQL, its result as a table of text cells for the loader. */
#include "pht_dataset_int.h"
#include "pht_err.h"
#include "pht_enc.h"

#include <openssl/evp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if PHT_HAVE_SQLITE
#include <sqlite3.h>
#endif
#if PHT_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#define SQLITE_BUSY_MS 10000        /* a locked database: bounded wait */
#define PG_CONNECT_TIMEOUT "10"     /* seconds, unless the conninfo says */
#define PG_STATEMENT_TIMEOUT "300s"

/*
 * A table under construction: text grows, cells are offsets into it until
 * the end (text may move), and every name and cell is hashed as it comes.
 */
struct tbuild {
	char *text;
	size_t len, cap, max;
	size_t *off;            /* names then cells: offset, length pairs */
	size_t noff, offcap;
	EVP_MD_CTX *md;
	const char *label;
	struct pht_err *err;
};

void
pht_dataset_table_clear(struct pht_dataset_table *t)
{
	if (t == NULL)
		return;
	free(t->names); /* the cells share the names' array */
	free(t->text);
	memset(t, 0, sizeof(*t));
}

#if PHT_HAVE_SQLITE || PHT_HAVE_LIBPQ
static int
tb_init(struct tbuild *b, const char *label, size_t max, struct pht_err *err)
{
	memset(b, 0, sizeof(*b));
	b->label = label;
	b->max = max;
	b->err = err;
	if ((b->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1)
		return pht_errf(err, PHT_ERR_CRYPTO, "%s: SHA-256 failed", label);
	return PHT_OK;
}

static void
tb_clear(struct tbuild *b)
{
	free(b->text);
	free(b->off);
	EVP_MD_CTX_free(b->md);
	memset(b, 0, sizeof(*b));
}

/*
 * Appends one cell (or name): p NULL is an SQL NULL, read as "". The hash
 * takes a tag (0 NULL, 1 a value), the length as 8 bytes little-endian
 * and the bytes, so no two results hash alike by moving bytes around.
 */
static int
tb_add(struct tbuild *b, const char *p, size_t len)
{
	unsigned char hdr[9];
	size_t ncap, *no, i;
	char *nt;

	if (p == NULL)
		len = 0;
	if (len > b->max || b->len > b->max - len)
		return pht_errf(b->err, PHT_ERR_TOO_LARGE, "%s: the result holds more "
		    "than %zu bytes of text", b->label, b->max);
	if (b->len + len + 1 > b->cap) {
		ncap = b->cap ? b->cap : 4096;
		while (ncap < b->len + len + 1)
			ncap *= 2;
		if ((nt = realloc(b->text, ncap)) == NULL)
			return pht_errf(b->err, PHT_ERR_NOMEM, "%s: out of memory",
			    b->label);
		b->text = nt;
		b->cap = ncap;
	}
	if (b->noff + 2 > b->offcap) {
		ncap = b->offcap ? b->offcap * 2 : 1024;
		if ((no = realloc(b->off, ncap * sizeof(*no))) == NULL)
			return pht_errf(b->err, PHT_ERR_NOMEM, "%s: out of memory",
			    b->label);
		b->off = no;
		b->offcap = ncap;
	}
	b->off[b->noff++] = b->len;
	b->off[b->noff++] = len;
	if (len > 0)
		memcpy(b->text + b->len, p, len);
	b->len += len;
	b->text[b->len++] = '\0';
	hdr[0] = p != NULL;
	for (i = 0; i < 8; i++)
		hdr[1 + i] = (unsigned char)((uint64_t)len >> (8 * i));
	if (EVP_DigestUpdate(b->md, hdr, sizeof(hdr)) != 1 ||
	    (len > 0 && EVP_DigestUpdate(b->md, p, len) != 1))
		return pht_errf(b->err, PHT_ERR_CRYPTO, "%s: SHA-256 failed", b->label);
	return PHT_OK;
}

/* Hands the table over: ncols names first, then the rows. */
static int
tb_finish(struct tbuild *b, size_t ncols, struct pht_dataset_table *t)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct pht_csv_field *f;
	size_t n = b->noff / 2, i;

	if (EVP_DigestFinal_ex(b->md, md, &mdlen) != 1 || mdlen != 32)
		return pht_errf(b->err, PHT_ERR_CRYPTO, "%s: SHA-256 failed", b->label);
	pht_hex_encode(md, 32, t->sha256);
	if (b->text == NULL && (b->text = malloc(1)) == NULL)
		return pht_errf(b->err, PHT_ERR_NOMEM, "%s: out of memory", b->label);
	if ((f = calloc(n ? n : 1, sizeof(*f))) == NULL)
		return pht_errf(b->err, PHT_ERR_NOMEM, "%s: out of memory", b->label);
	for (i = 0; i < n; i++) {
		f[i].p = b->text + b->off[2 * i];
		f[i].len = b->off[2 * i + 1];
	}
	t->ncols = ncols;
	t->nrows = ncols ? (n - ncols) / ncols : 0;
	t->names = f;
	t->cells = f + ncols;
	t->text = b->text;
	b->text = NULL; /* transferred */
	/* names and cells share one array: cells is not freed on its own */
	return PHT_OK;
}
#endif

#if PHT_HAVE_SQLITE
int
pht_dataset_sqlite_fetch(const char *path, const char *query, const char *label,
    size_t max, struct pht_dataset_table *t, struct pht_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *tail = NULL, *name;
	char num[40], *q;
	struct tbuild b;
	size_t i, ncols;
	int r, rc;

	memset(t, 0, sizeof(*t));
	if ((r = tb_init(&b, label, max, err)) != PHT_OK)
		goto out;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		r = pht_errf(err, PHT_ERR_IO, "%s: cannot open read-only: %s", label,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, SQLITE_BUSY_MS);
	if (sqlite3_exec(db, "PRAGMA query_only = ON", NULL, NULL, NULL) != SQLITE_OK) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", label, sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_prepare_v2(db, query, -1, &st, &tail) != SQLITE_OK || st == NULL) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: query: %s", label,
		    st == NULL && sqlite3_errcode(db) == SQLITE_OK ? "empty" :
		    sqlite3_errmsg(db));
		goto out;
	}
	for (; tail != NULL && *tail != '\0'; tail++)
		if (*tail != ' ' && *tail != '\t' && *tail != '\n' && *tail != '\r' &&
		    *tail != ';') {
			r = pht_errf(err, PHT_ERR_INVALID, "%s: query: more than one "
			    "statement", label);
			goto out;
		}
	if (!sqlite3_stmt_readonly(st)) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: query: not read-only (only a "
		    "SELECT may read a dataset)", label);
		goto out;
	}
	ncols = (size_t)sqlite3_column_count(st);
	if (ncols == 0) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: query: returns no columns",
		    label);
		goto out;
	}
	for (i = 0; i < ncols; i++) {
		name = sqlite3_column_name(st, (int)i);
		if ((r = tb_add(&b, name ? name : "", name ? strlen(name) : 0)) != PHT_OK)
			goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < ncols; i++) {
			switch (sqlite3_column_type(st, (int)i)) {
			case SQLITE_NULL:
				r = tb_add(&b, NULL, 0);
				break;
			case SQLITE_INTEGER:
				snprintf(num, sizeof(num), "%lld",
				    (long long)sqlite3_column_int64(st, (int)i));
				r = tb_add(&b, num, strlen(num));
				break;
			case SQLITE_FLOAT:
				/* 17 digits read back to the same double */
				snprintf(num, sizeof(num), "%.17g",
				    sqlite3_column_double(st, (int)i));
				for (q = num; *q != '\0'; q++)
					if (*q == ',')
						*q = '.'; /* a locale's decimal comma */
				r = tb_add(&b, num, strlen(num));
				break;
			default:
				q = (char *)sqlite3_column_text(st, (int)i);
				r = q == NULL ? pht_errf(err, PHT_ERR_NOMEM, "%s: out of "
				    "memory", label) : tb_add(&b, q,
				    (size_t)sqlite3_column_bytes(st, (int)i));
				break;
			}
			if (r != PHT_OK)
				goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = pht_errf(err, PHT_ERR_IO, "%s: query: %s", label, sqlite3_errmsg(db));
		goto out;
	}
	r = tb_finish(&b, ncols, t);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	tb_clear(&b);
	return r;
}
#else
int
pht_dataset_sqlite_fetch(const char *path, const char *query, const char *label,
    size_t max, struct pht_dataset_table *t, struct pht_err *err)
{
	(void)path;
	(void)query;
	(void)max;
	memset(t, 0, sizeof(*t));
	return pht_errf(err, PHT_ERR_INVALID, "%s: this pht was built without SQLite",
	    label);
}
#endif

#if PHT_HAVE_LIBPQ
int
pht_dataset_pg_conninfo_check(const char *conninfo, char *why, size_t whysz)
{
	PQconninfoOption *o, *opts;
	char *msg = NULL;
	int r = PHT_OK;

	if ((opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		snprintf(why, whysz, "not a conninfo: %.80s", msg != NULL ? msg :
		    "out of memory");
		PQfreemem(msg);
		return PHT_ERR_INVALID;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL) {
			snprintf(why, whysz, "holds a password: give a passfile "
			    "instead (\"passfile\": PATH, or PGPASSFILE)");
			r = PHT_ERR_INVALID;
		}
	PQconninfoFree(opts);
	return r;
}

/* Runs one command that returns nothing; PHT_OK or PHT_ERR_IO. */
static int
pg_cmd(PGconn *c, const char *sql, const char *label, struct pht_err *err)
{
	PGresult *res = PQexec(c, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	if (!ok)
		return pht_errf(err, PHT_ERR_IO, "%s: %s: %s", label, sql,
		    PQerrorMessage(c));
	return PHT_OK;
}

/* PostgreSQL's message without its trailing newline, for a detail. */
static const char *
pg_msg(PGconn *c, char *buf, size_t n)
{
	size_t len;

	snprintf(buf, n, "%s", PQerrorMessage(c));
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return buf;
}

int
pht_dataset_pg_fetch(const char *conninfo, const char *passfile,
    const char *query, const char *label, size_t max,
    struct pht_dataset_table *t, struct pht_err *err)
{
	const char *keys[5], *vals[5];
	PGconn *c = NULL;
	PGresult *res = NULL;
	struct tbuild b;
	char msg[300], why[160];
	const char *v;
	size_t i, row, ncols, nrows, nk = 0;
	int r, *isbool = NULL;

	memset(t, 0, sizeof(*t));
	if ((r = tb_init(&b, label, max, err)) != PHT_OK)
		goto out;
	if (pht_dataset_pg_conninfo_check(conninfo, why, sizeof(why)) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: %s", label, why);
		goto out;
	}
	/* later keywords win over the conninfo's, so the defaults go first */
	keys[nk] = "connect_timeout";
	vals[nk++] = PG_CONNECT_TIMEOUT;
	keys[nk] = "dbname";
	vals[nk++] = conninfo;
	if (passfile != NULL) {
		keys[nk] = "passfile";
		vals[nk++] = passfile;
	}
	keys[nk] = NULL;
	vals[nk] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		r = pht_errf(err, PHT_ERR_IO, "%s: cannot connect: %s", label,
		    c != NULL ? pg_msg(c, msg, sizeof(msg)) : "out of memory");
		goto out;
	}
	if ((r = pg_cmd(c, "BEGIN", label, err)) != PHT_OK ||
	    (r = pg_cmd(c, "SET TRANSACTION READ ONLY", label, err)) != PHT_OK ||
	    (r = pg_cmd(c, "SET LOCAL DateStyle = 'ISO, YMD'", label, err)) != PHT_OK ||
	    (r = pg_cmd(c, "SET LOCAL TimeZone = 'UTC'", label, err)) != PHT_OK ||
	    (r = pg_cmd(c, "SET LOCAL extra_float_digits = 1", label, err)) != PHT_OK ||
	    (r = pg_cmd(c, "SET LOCAL statement_timeout = '" PG_STATEMENT_TIMEOUT "'",
	    label, err)) != PHT_OK)
		goto out;
	/* the extended protocol: one statement only */
	res = PQexecParams(c, query, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = pht_errf(err, PQresultStatus(res) == PGRES_COMMAND_OK ?
		    PHT_ERR_INVALID : PHT_ERR_IO, "%s: query: %s", label,
		    PQresultStatus(res) == PGRES_COMMAND_OK ? "returns no rows (not "
		    "a SELECT)" : pg_msg(c, msg, sizeof(msg)));
		goto out;
	}
	ncols = (size_t)PQnfields(res);
	nrows = (size_t)PQntuples(res);
	if (ncols == 0) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: query: returns no columns",
		    label);
		goto out;
	}
	if ((isbool = calloc(ncols, sizeof(*isbool))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", label);
		goto out;
	}
	for (i = 0; i < ncols; i++) {
		v = PQfname(res, (int)i);
		isbool[i] = PQftype(res, (int)i) == 16; /* BOOLOID */
		if ((r = tb_add(&b, v, strlen(v))) != PHT_OK)
			goto out;
	}
	for (row = 0; row < nrows; row++)
		for (i = 0; i < ncols; i++) {
			if (PQgetisnull(res, (int)row, (int)i))
				r = tb_add(&b, NULL, 0);
			else if (isbool[i]) {
				v = PQgetvalue(res, (int)row, (int)i);
				v = v[0] == 't' ? "true" : "false";
				r = tb_add(&b, v, strlen(v));
			} else
				r = tb_add(&b, PQgetvalue(res, (int)row, (int)i),
				    (size_t)PQgetlength(res, (int)row, (int)i));
			if (r != PHT_OK)
				goto out;
		}
	r = tb_finish(&b, ncols, t);
out:
	PQclear(res);
	if (c != NULL && PQstatus(c) == CONNECTION_OK)
		PQclear(PQexec(c, "ROLLBACK"));
	PQfinish(c);
	free(isbool);
	tb_clear(&b);
	return r;
}
#else
int
pht_dataset_pg_conninfo_check(const char *conninfo, char *why, size_t whysz)
{
	(void)conninfo;
	snprintf(why, whysz, "this pht was built without libpq (PostgreSQL)");
	return PHT_ERR_INVALID;
}

int
pht_dataset_pg_fetch(const char *conninfo, const char *passfile,
    const char *query, const char *label, size_t max,
    struct pht_dataset_table *t, struct pht_err *err)
{
	(void)conninfo;
	(void)passfile;
	(void)query;
	(void)max;
	memset(t, 0, sizeof(*t));
	return pht_errf(err, PHT_ERR_INVALID, "%s: this pht was built without libpq "
	    "(PostgreSQL)", label);
}
#endif
