/* pht_node_store.c — the node mailbox on SQLite 3 (WAL, synchronous=FULL, prepared statements): schema, statements, transactions, the write journal, open and the checks at open. */
#include "pht_node_store.h"
#include "pht_node_db.h"
#include "pht_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

/* 2: the write journal (table journal, file <path>.acked) */
#define STORE_SCHEMA_VERSION 2
#define STORE_SCHEMA_VERSION_S "2"

/*
 * Schema. An inbox entry points at its envelope (train, round); an envelope
 * at its train. results is unique on (train, station, round): a result is
 * stored once. seq columns are AUTOINCREMENT so that order of arrival is
 * never reused, even after deletions.
 */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS trains("
	" id TEXT PRIMARY KEY, analyst TEXT NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS envelopes("
	" train TEXT NOT NULL REFERENCES trains(id), round INTEGER NOT NULL,"
	" body BLOB NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(train, round));"
	"CREATE TABLE IF NOT EXISTS inbox("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, station TEXT NOT NULL,"
	" train TEXT NOT NULL, round INTEGER NOT NULL, state INTEGER NOT NULL,"
	" created INTEGER NOT NULL, delivered INTEGER, acked INTEGER,"
	" UNIQUE(station, train, round),"
	" FOREIGN KEY(train, round) REFERENCES envelopes(train, round));"
	"CREATE INDEX IF NOT EXISTS inbox_pending ON inbox(station, state, seq);"
	"CREATE INDEX IF NOT EXISTS inbox_train ON inbox(train, round);"
	"CREATE TABLE IF NOT EXISTS results("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, train TEXT NOT NULL,"
	" station TEXT NOT NULL, round INTEGER NOT NULL, body BLOB NOT NULL,"
	" log_seq INTEGER NOT NULL, log_hash TEXT NOT NULL,"
	" received INTEGER NOT NULL, UNIQUE(train, station, round));"
	"CREATE INDEX IF NOT EXISTS results_train ON results(train, seq);"
	"CREATE TABLE IF NOT EXISTS stations("
	" id TEXT PRIMARY KEY, dictionaries TEXT,"
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" log_seq INTEGER NOT NULL DEFAULT -1, log_hash TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS governance("
	" kind TEXT NOT NULL, key TEXT NOT NULL, rank INTEGER NOT NULL,"
	" body BLOB NOT NULL, received INTEGER NOT NULL, PRIMARY KEY(kind, key));"
	/* the write journal: one row, bumped by every write transaction */
	"CREATE TABLE IF NOT EXISTS journal("
	" id INTEGER PRIMARY KEY CHECK(id = 1), writes INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO journal(id, writes) VALUES(1, 0);";

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_TRAIN_GET] = "SELECT analyst FROM trains WHERE id = ?1",
	[S_TRAIN_INS] = "INSERT INTO trains(id, analyst, created) VALUES(?1, ?2, ?3)",
	[S_ENV_GET] = "SELECT body FROM envelopes WHERE train = ?1 AND round = ?2",
	[S_ENV_INS] = "INSERT INTO envelopes(train, round, body, created)"
	    " VALUES(?1, ?2, ?3, ?4)",
	[S_INBOX_INS] = "INSERT OR IGNORE INTO inbox(station, train, round, state,"
	    " created) VALUES(?1, ?2, ?3, 0, ?4)",
	[S_INBOX_LIST] = "SELECT i.seq, i.train, i.round, t.analyst, i.state,"
	    " i.created, e.body FROM inbox i"
	    " JOIN envelopes e ON e.train = i.train AND e.round = i.round"
	    " JOIN trains t ON t.id = i.train"
	    " WHERE i.station = ?1 AND i.state < 2 ORDER BY i.seq LIMIT ?2",
	[S_INBOX_DELIVER] = "UPDATE inbox SET state = 1, delivered = ?2"
	    " WHERE seq = ?1 AND state = 0",
	[S_INBOX_PENDING] = "SELECT 1 FROM inbox WHERE station = ?1 AND state < 2"
	    " LIMIT 1",
	[S_INBOX_HAS] = "SELECT count(*) FROM inbox WHERE station = ?1"
	    " AND train = ?2 AND (?3 < 0 OR round = ?3)",
	[S_ACK] = "UPDATE inbox SET state = 2, acked = ?4 WHERE station = ?1"
	    " AND train = ?2 AND (?3 < 0 OR round = ?3) AND state < 2",
	[S_RES_GET] = "SELECT body FROM results WHERE train = ?1 AND station = ?2"
	    " AND round = ?3",
	[S_RES_INS] = "INSERT INTO results(train, station, round, body, log_seq,"
	    " log_hash, received) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_RES_LIST] = "SELECT seq, station, round, log_seq, log_hash, received,"
	    " body FROM results WHERE train = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
	[S_DELIV] = "SELECT i.station, i.round, i.state, r.seq IS NOT NULL"
	    " FROM inbox i LEFT JOIN results r ON r.train = i.train"
	    " AND r.station = i.station AND r.round = i.round"
	    " WHERE i.train = ?1 ORDER BY i.round, i.station",
	[S_ST_SEEN] = "INSERT INTO stations(id, last_seen) VALUES(?1, ?2)"
	    " ON CONFLICT(id) DO UPDATE SET"
	    " last_seen = max(last_seen, excluded.last_seen)",
	[S_ST_PUB] = "INSERT INTO stations(id, dictionaries, last_seen)"
	    " VALUES(?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET"
	    " dictionaries = excluded.dictionaries,"
	    " last_seen = max(last_seen, excluded.last_seen)",
	[S_ST_HEAD] = "UPDATE stations SET log_seq = ?2, log_hash = ?3"
	    " WHERE id = ?1 AND log_seq <= ?2",
	[S_ST_LIST] = "SELECT id, dictionaries, last_seen, log_seq, log_hash"
	    " FROM stations ORDER BY id",
	[S_GOV_GET] = "SELECT rank, body FROM governance WHERE kind = ?1 AND key = ?2",
	[S_GOV_PUT] = "INSERT INTO governance(kind, key, rank, body, received)"
	    " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(kind, key) DO UPDATE SET"
	    " rank = excluded.rank, body = excluded.body, received = excluded.received",
	[S_GOV_LIST] = "SELECT body FROM governance WHERE kind = ?1 ORDER BY key",
	[S_PENDING_ANALYST] = "SELECT count(*) FROM inbox i JOIN trains t"
	    " ON t.id = i.train WHERE t.analyst = ?1 AND i.state < 2",
	[S_JOURNAL_BUMP] = "UPDATE journal SET writes = writes + 1 WHERE id = 1",
	[S_JOURNAL_GET] = "SELECT writes FROM journal WHERE id = 1",
};

#define ACKED_SLOT 64          /* bytes per record in <path>.acked; two slots */
#define JOURNAL_LIMIT_S "4194304" /* journal_size_limit: the WAL after a checkpoint */

void
pht_node_store_set_max_pending(struct pht_node_store *st, size_t max)
{
	st->max_pending = max;
}

/* SQLite's last error was for want of space. */
static int
db_full(sqlite3 *db)
{
	return (sqlite3_extended_errcode(db) & 0xff) == SQLITE_FULL ||
	    ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_IOERR &&
	    sqlite3_system_errno(db) == ENOSPC);
}

int
pht_node_db_err(struct pht_node_store *st, struct pht_err *err, const char *what)
{
	if (db_full(st->db)) {
		st->full = 1;
		return pht_errf(err, PHT_ERR_NOSPACE, "%s: %s: %s", st->path, what,
		    sqlite3_errmsg(st->db));
	}
	return pht_errf(err, PHT_ERR_IO, "%s: %s: %s", st->path, what,
	    sqlite3_errmsg(st->db));
}

/* ---- the write journal ("<path>.acked") ---- */

/*
 * A record: "pht-node-acked <writes, 20 digits> <crc, 8 hex>\n" padded with
 * spaces to ACKED_SLOT bytes; slot writes % 2, so a torn record leaves the
 * other slot whole. The recorded count is the larger valid one.
 */
static uint32_t
acked_sum(const char *s, size_t n)
{
	uint32_t h = 2166136261u;  /* FNV-1a: against torn writes, not attackers */

	while (n-- > 0)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int64_t
acked_parse(const char *slot)
{
	char num[21];
	unsigned int sum;
	long long v;

	if (memcmp(slot, "pht-node-acked ", 15) != 0)
		return -1;
	memcpy(num, slot + 15, 20);
	num[20] = '\0';
	if (sscanf(slot + 36, "%8x", &sum) != 1 || slot[35] != ' ' ||
	    sum != acked_sum(slot, 35) || sscanf(num, "%20lld", &v) != 1 || v < 0)
		return -1;
	return (int64_t)v;
}

/* The recorded count; 0 if there is no record, -1 if unreadable. */
static int64_t
acked_read(int fd)
{
	char buf[2 * ACKED_SLOT];
	int64_t a, b;
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	if (n <= 0)
		return 0;
	a = n >= ACKED_SLOT ? acked_parse(buf) : -1;
	b = n >= 2 * ACKED_SLOT ? acked_parse(buf + ACKED_SLOT) : -1;
	if (a < 0 && b < 0)
		return -1;
	return a > b ? a : b;
}

/* Writes the record; synced only when sync is set (see commit). */
static int
acked_write(int fd, int64_t writes, int sync)
{
	char slot[ACKED_SLOT + 1];
	int n;

	n = snprintf(slot, sizeof(slot), "pht-node-acked %020lld ", (long long)writes);
	snprintf(slot + n, sizeof(slot) - (size_t)n, "%08x", acked_sum(slot, 35));
	memset(slot + 44, ' ', ACKED_SLOT - 45);
	slot[ACKED_SLOT - 1] = '\n';
	if (pwrite(fd, slot, ACKED_SLOT, (off_t)(writes % 2) * ACKED_SLOT) != ACKED_SLOT ||
	    (sync && fdatasync(fd) != 0))
		return -1;
	return 0;
}

static char *
acked_path(const char *path)
{
	size_t n = strlen(path) + sizeof(".acked");
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s.acked", path);
	return p;
}

/* Returns a reset statement ready for binding. */
sqlite3_stmt *
pht_node_db_stmt(struct pht_node_store *st, int which)
{
	sqlite3_stmt *s = st->stmt[which];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Runs a statement that returns no rows. */
int
pht_node_db_exec(struct pht_node_store *st, sqlite3_stmt *s, const char *what,
    struct pht_err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return pht_node_db_err(st, err, what);
	return PHT_OK;
}

/* The journal count as the store has it. */
static int
journal_get(struct pht_node_store *st, int64_t *writes, struct pht_err *err)
{
	sqlite3_stmt *s = pht_node_db_stmt(st, S_JOURNAL_GET);
	int rc = sqlite3_step(s);

	*writes = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return pht_node_db_err(st, err, "journal");
	return PHT_OK;
}

/* A write transaction; it bumps the journal count. */
int
pht_node_db_begin(struct pht_node_store *st, struct pht_err *err)
{
	int r;

	if ((r = pht_node_db_exec(st, pht_node_db_stmt(st, S_BEGIN), "begin transaction", err)) != PHT_OK)
		return r;
	if ((r = pht_node_db_exec(st, pht_node_db_stmt(st, S_JOURNAL_BUMP), "journal", err)) != PHT_OK ||
	    (r = journal_get(st, &st->pending, err)) != PHT_OK)
		pht_node_db_exec(st, pht_node_db_stmt(st, S_ROLLBACK), "rollback", NULL);
	return r;
}

/*
 * Commits; then records the new count in "<path>.acked" (a write into the
 * page cache: it survives the process, and is synced to the disk by the
 * next pht_node_store_checkpoint or close, so an fsync per commit is not
 * paid twice). A record that lags behind (a power cut before the sync, a
 * full disk) makes the check at open weaker, never wrong.
 */
int
pht_node_db_commit(struct pht_node_store *st, struct pht_err *err)
{
	int r;

	if ((r = pht_node_db_exec(st, pht_node_db_stmt(st, S_COMMIT), "commit", err)) != PHT_OK)
		return r;
	st->full = 0;
	st->writes = st->pending;
	if (st->acked_fd >= 0 && acked_write(st->acked_fd, st->writes, 0) == 0)
		st->acked_dirty = 1;
	return PHT_OK;
}

int
pht_node_store_full(const struct pht_node_store *st)
{
	return st->full;
}

int
pht_node_store_checkpoint(struct pht_node_store *st, struct pht_err *err)
{
	int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    NULL, NULL);

	if (st->acked_dirty && fdatasync(st->acked_fd) == 0)
		st->acked_dirty = 0;
	if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return PHT_OK;
	return pht_node_db_err(st, err, "checkpoint");
}

void
pht_node_db_rollback(struct pht_node_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		pht_node_db_exec(st, pht_node_db_stmt(st, S_ROLLBACK), "rollback", NULL);
}

int
pht_node_db_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Copies column i as text into out (size outsz), truncating never: the
 * store only holds values it was given within the same bounds. */
void
pht_node_db_col_text(sqlite3_stmt *s, int i, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(out, outsz, "%s", t != NULL ? (const char *)t : "");
}

/* Copies column i as a new NUL-terminated blob. NULL on OOM. */
char *
pht_node_db_col_blob(sqlite3_stmt *s, int i, size_t *len)
{
	const void *b = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);
	char *p;

	if ((p = malloc((size_t)n + 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, b, (size_t)n);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

/* PRAGMA user_version; -1 on failure. */
static int
user_version(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/*
 * The checks at open (see pht_node_store_open): integrity, then the
 * journal count against the one recorded; opens st->acked_fd.
 */
static int
store_check(struct pht_node_store *st, struct pht_err *err)
{
	sqlite3_stmt *s = NULL;
	char *apath = NULL, what[200];
	int64_t acked;
	int r, rc;

	what[0] = '\0';
	if ((rc = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s, NULL)) ==
	    SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		snprintf(what, sizeof(what), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		r = pht_node_db_err(st, err, "integrity check");
		if (r == PHT_ERR_IO)
			r = PHT_ERR_TAMPERED;
		return r;
	}
	if (strcmp(what, "ok") != 0)
		return pht_errf(err, PHT_ERR_TAMPERED, "%s: the store fails its integrity "
		    "check: %s", st->path, what);
	if ((r = journal_get(st, &st->writes, err)) != PHT_OK)
		return r;
	if ((apath = acked_path(st->path)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	st->acked_fd = open(apath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->acked_fd < 0) {
		r = pht_errf(err, errno == ENOSPC ? PHT_ERR_NOSPACE : PHT_ERR_IO,
		    "%s: cannot open: %s", apath, strerror(errno));
		free(apath);
		return r;
	}
	acked = acked_read(st->acked_fd);
	if (acked > st->writes) {
		r = pht_errf(err, PHT_ERR_TAMPERED, "%s: the store lost writes the node "
		    "acknowledged: %lld recorded in %s, %lld in the store (a cut or "
		    "deleted WAL, or an older copy of the database): %lld missing",
		    st->path, (long long)acked, apath, (long long)st->writes,
		    (long long)(acked - st->writes));
		free(apath);
		return r;
	}
	free(apath);
	if (acked != st->writes)
		(void)acked_write(st->acked_fd, st->writes, 1);
	return PHT_OK;
}

int
pht_node_store_accept_loss(const char *path, int64_t *lost, struct pht_err *err)
{
	struct pht_node_store *st = NULL;
	char *apath = NULL;
	int64_t acked = 0;
	int r, fd = -1;

	*lost = 0;
	if ((apath = acked_path(path)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((fd = open(apath, O_RDWR | O_CLOEXEC)) >= 0) {
		acked = acked_read(fd);
		if (ftruncate(fd, 0) != 0 || fsync(fd) != 0) {
			r = pht_errf(err, PHT_ERR_IO, "%s: %s", apath, strerror(errno));
			goto out;
		}
	}
	/* with no record, the open below records the store's own count */
	r = pht_node_store_open(path, &st, err);
	if (r == PHT_OK && acked > st->writes)
		*lost = acked - st->writes;
out:
	if (fd >= 0)
		close(fd);
	pht_node_store_free(st);
	free(apath);
	return r;
}

int
pht_node_store_open(const char *path, struct pht_node_store **out,
    struct pht_err *err)
{
	struct pht_node_store *st = NULL;
	char *errmsg = NULL;
	int i, r, fd, version;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) != NULL)
		st->acked_fd = -1;
	if (st == NULL ||
	    (st->path = strdup(path)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Create the file private before SQLite opens it. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: cannot open: %s", path,
		    strerror(errno));
		goto out;
	}
	close(fd);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = st->db != NULL ? pht_node_db_err(st, err, "open") :
		    pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    " PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=" JOURNAL_LIMIT_S ";",
	    NULL, NULL, &errmsg) != SQLITE_OK ||
	    (version = user_version(st->db)) < 0 ||
	    (version != STORE_SCHEMA_VERSION &&
	    sqlite3_exec(st->db, schema_sql, NULL, NULL, &errmsg) != SQLITE_OK)) {
		r = pht_errf(err, db_full(st->db) ? PHT_ERR_NOSPACE : PHT_ERR_IO,
		    "%s: schema: %s", path, errmsg != NULL ? errmsg : sqlite3_errmsg(st->db));
		goto out;
	}
	{
		/* journal_mode=WAL can silently stay "delete" (e.g. on some
		 * file systems): durability rules need WAL, so check it. */
		sqlite3_stmt *s = NULL;
		int ok = 0;
		if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &s,
		    NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
			ok = strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
		sqlite3_finalize(s);
		if (!ok) {
			r = pht_errf(err, PHT_ERR_IO, "%s: cannot use WAL journal mode", path);
			goto out;
		}
	}
	/* written only when it changes: a full disk must not stop a start */
	if (version != STORE_SCHEMA_VERSION && sqlite3_exec(st->db, "PRAGMA user_version="
	    STORE_SCHEMA_VERSION_S, NULL, NULL, &errmsg) != SQLITE_OK) {
		r = pht_errf(err, db_full(st->db) ? PHT_ERR_NOSPACE : PHT_ERR_IO,
		    "%s: %s", path, errmsg);
		goto out;
	}
	for (i = 0; i < S_COUNT; i++)
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
			r = pht_node_db_err(st, err, "prepare");
			goto out;
		}
	if ((r = store_check(st, err)) != PHT_OK)
		goto out;
	*out = st;
	st = NULL; /* transferred */
	r = PHT_OK;
out:
	sqlite3_free(errmsg);
	pht_node_store_free(st);
	return r;
}

void
pht_node_store_free(struct pht_node_store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL)
		sqlite3_close(st->db);
	if (st->acked_fd >= 0) {
		if (st->acked_dirty)
			(void)fdatasync(st->acked_fd);
		close(st->acked_fd);
	}
	free(st->path);
	free(st);
}
