/* pht_node_store.c — the node mailbox on SQLite 3 (WAL, synchronous=FULL, prepared statements). */
#include "pht_node_store.h"
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

enum {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_TRAIN_GET, S_TRAIN_INS, S_ENV_GET, S_ENV_INS, S_INBOX_INS,
	S_INBOX_LIST, S_INBOX_DELIVER, S_INBOX_PENDING, S_INBOX_HAS, S_ACK,
	S_RES_GET, S_RES_INS, S_RES_LIST, S_DELIV,
	S_ST_SEEN, S_ST_PUB, S_ST_HEAD, S_ST_LIST,
	S_GOV_GET, S_GOV_PUT, S_GOV_LIST, S_PENDING_ANALYST,
	S_JOURNAL_BUMP, S_JOURNAL_GET,
	S_COUNT
};

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

/*
 * writes is the journal count of the last committed write; acked_fd the
 * open "<path>.acked" where it is recorded after each commit; full is 1
 * while writes fail for want of space.
 */
struct pht_node_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[S_COUNT];
	size_t max_pending;     /* per analyst; 0: no limit */
	int64_t writes, pending;
	int acked_fd, acked_dirty;
	int full;
};

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

static int
db_err(struct pht_node_store *st, struct pht_err *err, const char *what)
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
static sqlite3_stmt *
stmt(struct pht_node_store *st, int which)
{
	sqlite3_stmt *s = st->stmt[which];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Runs a statement that returns no rows. */
static int
exec_stmt(struct pht_node_store *st, sqlite3_stmt *s, const char *what,
    struct pht_err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(st, err, what);
	return PHT_OK;
}

/* The journal count as the store has it. */
static int
journal_get(struct pht_node_store *st, int64_t *writes, struct pht_err *err)
{
	sqlite3_stmt *s = stmt(st, S_JOURNAL_GET);
	int rc = sqlite3_step(s);

	*writes = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, err, "journal");
	return PHT_OK;
}

/* A write transaction; it bumps the journal count. */
static int
begin(struct pht_node_store *st, struct pht_err *err)
{
	int r;

	if ((r = exec_stmt(st, stmt(st, S_BEGIN), "begin transaction", err)) != PHT_OK)
		return r;
	if ((r = exec_stmt(st, stmt(st, S_JOURNAL_BUMP), "journal", err)) != PHT_OK ||
	    (r = journal_get(st, &st->pending, err)) != PHT_OK)
		exec_stmt(st, stmt(st, S_ROLLBACK), "rollback", NULL);
	return r;
}

/*
 * Commits; then records the new count in "<path>.acked" (a write into the
 * page cache: it survives the process, and is synced to the disk by the
 * next pht_node_store_checkpoint or close, so an fsync per commit is not
 * paid twice). A record that lags behind (a power cut before the sync, a
 * full disk) makes the check at open weaker, never wrong.
 */
static int
commit(struct pht_node_store *st, struct pht_err *err)
{
	int r;

	if ((r = exec_stmt(st, stmt(st, S_COMMIT), "commit", err)) != PHT_OK)
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
	return db_err(st, err, "checkpoint");
}

static void
rollback(struct pht_node_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		exec_stmt(st, stmt(st, S_ROLLBACK), "rollback", NULL);
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Copies column i as text into out (size outsz), truncating never: the
 * store only holds values it was given within the same bounds. */
static void
col_text(sqlite3_stmt *s, int i, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(out, outsz, "%s", t != NULL ? (const char *)t : "");
}

/* Copies column i as a new NUL-terminated blob. NULL on OOM. */
static char *
col_blob(sqlite3_stmt *s, int i, size_t *len)
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
		r = db_err(st, err, "integrity check");
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
		r = st->db != NULL ? db_err(st, err, "open") :
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
			r = db_err(st, err, "prepare");
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

/* Owner of train into analyst; PHT_ERR_NOT_FOUND if none. */
static int
train_owner(struct pht_node_store *st, const char *train, char *analyst,
    size_t size, struct pht_err *err)
{
	sqlite3_stmt *s = stmt(st, S_TRAIN_GET);
	int rc;

	bind_text(s, 1, train);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		col_text(s, 0, analyst, size);
		sqlite3_reset(s);
		return PHT_OK;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_err(st, err, "read train");
	return pht_errf(err, PHT_ERR_NOT_FOUND, "train %s: no such train", train);
}

int
pht_node_store_train_owner(struct pht_node_store *st, const char *train,
    char *analyst, size_t size, struct pht_err *err)
{
	return train_owner(st, train, analyst, size, err);
}

int
pht_node_store_post_train(struct pht_node_store *st, const char *train,
    int64_t round, const char *analyst, const char *envelope, size_t len,
    const char *const *stations, size_t n, int64_t now, int *created,
    struct pht_err *err)
{
	char owner[PHT_NODE_NAME_MAX + 1];
	sqlite3_stmt *s;
	size_t i;
	int r, rc, news = 0;

	if (created != NULL)
		*created = 0;
	if ((r = begin(st, err)) != PHT_OK)
		return r;
	r = train_owner(st, train, owner, sizeof(owner), err);
	if (r == PHT_OK && strcmp(owner, analyst) != 0) {
		r = pht_errf(err, PHT_ERR_DENIED,
		    "train %s belongs to another analyst", train);
		goto out;
	}
	if (r == PHT_ERR_NOT_FOUND) {
		s = stmt(st, S_TRAIN_INS);
		bind_text(s, 1, train);
		bind_text(s, 2, analyst);
		sqlite3_bind_int64(s, 3, now);
		if ((r = exec_stmt(st, s, "insert train", err)) != PHT_OK)
			goto out;
		news = 1;
	} else if (r != PHT_OK)
		goto out;

	s = stmt(st, S_ENV_GET);
	bind_text(s, 1, train);
	sqlite3_bind_int64(s, 2, round);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int same = (size_t)sqlite3_column_bytes(s, 0) == len &&
		    (len == 0 || memcmp(sqlite3_column_blob(s, 0), envelope, len) == 0);
		sqlite3_reset(s);
		if (!same) {
			r = pht_errf(err, PHT_ERR_REPLAY, "train %s round %lld: "
			    "already posted with a different envelope", train,
			    (long long)round);
			goto out;
		}
	} else {
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			r = db_err(st, err, "read envelope");
			goto out;
		}
		/* a new round: within the analyst's share of the mailbox */
		if (st->max_pending > 0) {
			int64_t pending;
			s = stmt(st, S_PENDING_ANALYST);
			bind_text(s, 1, analyst);
			if (sqlite3_step(s) != SQLITE_ROW) {
				sqlite3_reset(s);
				r = db_err(st, err, "count waiting trains");
				goto out;
			}
			pending = sqlite3_column_int64(s, 0);
			sqlite3_reset(s);
			if ((uint64_t)pending + n > st->max_pending) {
				r = pht_errf(err, PHT_ERR_POLICY, "analyst %s has %lld "
				    "deliveries waiting at stations; %zu more would pass the "
				    "limit of %zu (limits.max_pending): wait until stations "
				    "take them", analyst, (long long)pending, n,
				    st->max_pending);
				goto out;
			}
		}
		s = stmt(st, S_ENV_INS);
		bind_text(s, 1, train);
		sqlite3_bind_int64(s, 2, round);
		sqlite3_bind_blob(s, 3, envelope, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, now);
		if ((r = exec_stmt(st, s, "insert envelope", err)) != PHT_OK)
			goto out;
		news = 1;
	}
	for (i = 0; i < n; i++) {
		s = stmt(st, S_INBOX_INS);
		bind_text(s, 1, stations[i]);
		bind_text(s, 2, train);
		sqlite3_bind_int64(s, 3, round);
		sqlite3_bind_int64(s, 4, now);
		if ((r = exec_stmt(st, s, "insert inbox entry", err)) != PHT_OK)
			goto out;
		if (sqlite3_changes(st->db) > 0)
			news = 1;
	}
	if ((r = commit(st, err)) != PHT_OK)
		goto out;
	if (created != NULL)
		*created = news;
out:
	if (r != PHT_OK)
		rollback(st);
	return r;
}

void
pht_node_msgs_free(struct pht_node_msg *msgs, size_t n)
{
	size_t i;

	if (msgs == NULL)
		return;
	for (i = 0; i < n; i++)
		free(msgs[i].envelope);
	free(msgs);
}

int
pht_node_store_inbox(struct pht_node_store *st, const char *station,
    size_t max, int64_t now, struct pht_node_msg **msgs, size_t *n,
    struct pht_err *err)
{
	struct pht_node_msg *m = NULL;
	sqlite3_stmt *s;
	size_t cnt = 0, i;
	int r, rc;

	*msgs = NULL;
	*n = 0;
	if (max == 0)
		return PHT_OK;
	if (max > 100000)
		max = 100000;
	if ((m = calloc(max, sizeof(*m))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = begin(st, err)) != PHT_OK)
		goto out;
	s = stmt(st, S_INBOX_LIST);
	bind_text(s, 1, station);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while (cnt < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct pht_node_msg *e = &m[cnt];
		e->seq = sqlite3_column_int64(s, 0);
		col_text(s, 1, e->train, sizeof(e->train));
		e->round = sqlite3_column_int64(s, 2);
		col_text(s, 3, e->analyst, sizeof(e->analyst));
		e->state = (enum pht_node_state)sqlite3_column_int(s, 4);
		e->created = sqlite3_column_int64(s, 5);
		if ((e->envelope = col_blob(s, 6, &e->len)) == NULL) {
			sqlite3_reset(s);
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		cnt++;
	}
	if (cnt < max && rc != SQLITE_DONE) {
		sqlite3_reset(s);
		r = db_err(st, err, "read inbox");
		goto out;
	}
	sqlite3_reset(s);
	for (i = 0; i < cnt; i++) {
		if (m[i].state != PHT_NODE_QUEUED)
			continue;
		s = stmt(st, S_INBOX_DELIVER);
		sqlite3_bind_int64(s, 1, m[i].seq);
		sqlite3_bind_int64(s, 2, now);
		if ((r = exec_stmt(st, s, "mark delivered", err)) != PHT_OK)
			goto out;
	}
	if ((r = commit(st, err)) != PHT_OK)
		goto out;
	if (cnt > 0) {
		*msgs = m;
		*n = cnt;
		m = NULL; /* transferred */
	}
out:
	if (r != PHT_OK)
		rollback(st);
	pht_node_msgs_free(m, cnt);
	return r;
}

int
pht_node_store_inbox_pending(struct pht_node_store *st, const char *station,
    struct pht_err *err)
{
	sqlite3_stmt *s = stmt(st, S_INBOX_PENDING);
	int rc;

	bind_text(s, 1, station);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_err(st, err, "read inbox");
}

/* Number of station's inbox entries for train (round < 0: any round). */
static int
inbox_count(struct pht_node_store *st, const char *station, const char *train,
    int64_t round, int64_t *count, struct pht_err *err)
{
	sqlite3_stmt *s = stmt(st, S_INBOX_HAS);
	int rc;

	bind_text(s, 1, station);
	bind_text(s, 2, train);
	sqlite3_bind_int64(s, 3, round);
	rc = sqlite3_step(s);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return db_err(st, err, "read inbox");
	return PHT_OK;
}

int
pht_node_store_ack(struct pht_node_store *st, const char *station,
    const char *train, int64_t round, int64_t now, size_t *nacked,
    struct pht_err *err)
{
	sqlite3_stmt *s;
	int64_t cnt;
	int r;

	*nacked = 0;
	if ((r = begin(st, err)) != PHT_OK)
		return r;
	if ((r = inbox_count(st, station, train, round, &cnt, err)) != PHT_OK)
		goto out;
	if (cnt == 0) {
		r = round < 0 ?
		    pht_errf(err, PHT_ERR_NOT_FOUND, "train %s: not in the inbox of %s",
		    train, station) :
		    pht_errf(err, PHT_ERR_NOT_FOUND, "train %s round %lld: not in the "
		    "inbox of %s", train, (long long)round, station);
		goto out;
	}
	s = stmt(st, S_ACK);
	bind_text(s, 1, station);
	bind_text(s, 2, train);
	sqlite3_bind_int64(s, 3, round);
	sqlite3_bind_int64(s, 4, now);
	if ((r = exec_stmt(st, s, "ack", err)) != PHT_OK)
		goto out;
	*nacked = (size_t)sqlite3_changes(st->db);
	r = commit(st, err);
out:
	if (r != PHT_OK) {
		rollback(st);
		*nacked = 0;
	}
	return r;
}

static int
station_seen(struct pht_node_store *st, const char *station, int64_t now,
    struct pht_err *err)
{
	sqlite3_stmt *s = stmt(st, S_ST_SEEN);

	bind_text(s, 1, station);
	sqlite3_bind_int64(s, 2, now);
	return exec_stmt(st, s, "update station", err);
}

int
pht_node_store_post_result(struct pht_node_store *st, const char *train,
    const char *station, int64_t round, const char *body, size_t len,
    int64_t log_seq, const char *log_hash, int64_t now, int *created,
    struct pht_err *err)
{
	sqlite3_stmt *s;
	int64_t cnt;
	int r, rc;

	if (created != NULL)
		*created = 0;
	if ((r = begin(st, err)) != PHT_OK)
		return r;
	if ((r = inbox_count(st, station, train, round, &cnt, err)) != PHT_OK)
		goto out;
	if (cnt == 0) {
		r = pht_errf(err, PHT_ERR_NOT_FOUND, "train %s round %lld: not sent "
		    "to station %s", train, (long long)round, station);
		goto out;
	}
	s = stmt(st, S_RES_GET);
	bind_text(s, 1, train);
	bind_text(s, 2, station);
	sqlite3_bind_int64(s, 3, round);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int same = (size_t)sqlite3_column_bytes(s, 0) == len &&
		    (len == 0 || memcmp(sqlite3_column_blob(s, 0), body, len) == 0);
		sqlite3_reset(s);
		if (!same)
			r = pht_errf(err, PHT_ERR_REPLAY, "train %s round %lld: station "
			    "%s already posted a different result", train,
			    (long long)round, station);
		else
			r = commit(st, err); /* the same result again: nothing to do */
		goto out;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		r = db_err(st, err, "read result");
		goto out;
	}
	s = stmt(st, S_RES_INS);
	bind_text(s, 1, train);
	bind_text(s, 2, station);
	sqlite3_bind_int64(s, 3, round);
	sqlite3_bind_blob(s, 4, body, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, log_seq);
	bind_text(s, 6, log_hash);
	sqlite3_bind_int64(s, 7, now);
	if ((r = exec_stmt(st, s, "insert result", err)) != PHT_OK)
		goto out;
	s = stmt(st, S_ACK);
	bind_text(s, 1, station);
	bind_text(s, 2, train);
	sqlite3_bind_int64(s, 3, round);
	sqlite3_bind_int64(s, 4, now);
	if ((r = exec_stmt(st, s, "ack", err)) != PHT_OK)
		goto out;
	if ((r = station_seen(st, station, now, err)) != PHT_OK)
		goto out;
	s = stmt(st, S_ST_HEAD);
	bind_text(s, 1, station);
	sqlite3_bind_int64(s, 2, log_seq);
	bind_text(s, 3, log_hash);
	if ((r = exec_stmt(st, s, "update log head", err)) != PHT_OK)
		goto out;
	if ((r = commit(st, err)) != PHT_OK)
		goto out;
	if (created != NULL)
		*created = 1;
out:
	if (r != PHT_OK)
		rollback(st);
	return r;
}

void
pht_node_results_free(struct pht_node_result *res, size_t n)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < n; i++)
		free(res[i].body);
	free(res);
}

int
pht_node_store_results(struct pht_node_store *st, const char *train,
    int64_t after, size_t max, struct pht_node_result **out, size_t *n,
    struct pht_err *err)
{
	struct pht_node_result *res = NULL;
	sqlite3_stmt *s;
	size_t cnt = 0;
	int r = PHT_OK, rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	if (max == 0)
		return PHT_OK;
	if (max > 100000)
		max = 100000;
	if ((res = calloc(max, sizeof(*res))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	s = stmt(st, S_RES_LIST);
	bind_text(s, 1, train);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
	while (cnt < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct pht_node_result *e = &res[cnt];
		e->seq = sqlite3_column_int64(s, 0);
		col_text(s, 1, e->station, sizeof(e->station));
		e->round = sqlite3_column_int64(s, 2);
		e->log_seq = sqlite3_column_int64(s, 3);
		col_text(s, 4, e->log_hash, sizeof(e->log_hash));
		e->received = sqlite3_column_int64(s, 5);
		if ((e->body = col_blob(s, 6, &e->len)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		cnt++;
	}
	if (cnt < max && rc != SQLITE_DONE) {
		r = db_err(st, err, "read results");
		goto out;
	}
	if (cnt > 0) {
		*out = res;
		*n = cnt;
		res = NULL; /* transferred */
	}
out:
	sqlite3_reset(s);
	pht_node_results_free(res, cnt);
	return r;
}

int
pht_node_store_deliveries(struct pht_node_store *st, const char *train,
    struct pht_node_delivery **out, size_t *n, struct pht_err *err)
{
	struct pht_node_delivery *d = NULL, *nd;
	sqlite3_stmt *s = stmt(st, S_DELIV);
	size_t cnt = 0, cap = 0;
	int r = PHT_OK, rc;

	*out = NULL;
	*n = 0;
	bind_text(s, 1, train);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nd = reallocarray(d, cap, sizeof(*d))) == NULL) {
				r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
				goto out;
			}
			d = nd;
		}
		col_text(s, 0, d[cnt].station, sizeof(d[cnt].station));
		d[cnt].round = sqlite3_column_int64(s, 1);
		d[cnt].state = (enum pht_node_state)sqlite3_column_int(s, 2);
		d[cnt].has_result = sqlite3_column_int(s, 3);
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = db_err(st, err, "read deliveries");
		goto out;
	}
	*out = d;
	*n = cnt;
	d = NULL; /* transferred */
out:
	sqlite3_reset(s);
	free(d);
	return r;
}

int
pht_node_store_station_seen(struct pht_node_store *st, const char *station,
    int64_t now, struct pht_err *err)
{
	return station_seen(st, station, now, err);
}

int
pht_node_store_station_publish(struct pht_node_store *st,
    const char *station, const char *dict, size_t len, int64_t now,
    struct pht_err *err)
{
	sqlite3_stmt *s = stmt(st, S_ST_PUB);

	bind_text(s, 1, station);
	sqlite3_bind_text(s, 2, dict, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	return exec_stmt(st, s, "publish station", err);
}

void
pht_node_stations_free(struct pht_node_station *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		free(s[i].dictionaries);
	free(s);
}

int
pht_node_store_stations(struct pht_node_store *st,
    struct pht_node_station **out, size_t *n, struct pht_err *err)
{
	struct pht_node_station *l = NULL, *nl;
	sqlite3_stmt *s = stmt(st, S_ST_LIST);
	size_t cnt = 0, cap = 0, len;
	int r = PHT_OK, rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nl = reallocarray(l, cap, sizeof(*l))) == NULL) {
				r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
				goto out;
			}
			l = nl;
		}
		memset(&l[cnt], 0, sizeof(l[cnt]));
		col_text(s, 0, l[cnt].id, sizeof(l[cnt].id));
		if (sqlite3_column_type(s, 1) != SQLITE_NULL &&
		    (l[cnt].dictionaries = col_blob(s, 1, &len)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		l[cnt].last_seen = sqlite3_column_int64(s, 2);
		l[cnt].log_seq = sqlite3_column_int64(s, 3);
		col_text(s, 4, l[cnt].log_hash, sizeof(l[cnt].log_hash));
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = db_err(st, err, "read stations");
		goto out;
	}
	*out = l;
	*n = cnt;
	l = NULL; /* transferred */
out:
	sqlite3_reset(s);
	pht_node_stations_free(l, cnt);
	return r;
}

/* ---- governance documents (revocation lists, halt orders) ---- */

int
pht_node_store_gov_put(struct pht_node_store *st, const char *kind,
    const char *key, int64_t rank, const char *body, size_t len, int64_t now,
    int *created, struct pht_err *err)
{
	sqlite3_stmt *s;
	const void *old;
	int64_t old_rank;
	size_t old_len;
	int r, rc;

	if (created != NULL)
		*created = 0;
	if ((r = begin(st, err)) != PHT_OK)
		return r;
	s = stmt(st, S_GOV_GET);
	bind_text(s, 1, kind);
	bind_text(s, 2, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		old_rank = sqlite3_column_int64(s, 0);
		old = sqlite3_column_blob(s, 1);
		old_len = (size_t)sqlite3_column_bytes(s, 1);
		if (rank == PHT_NODE_GOV_LATEST) {
			/* the sender's newest document: ranked after the stored one */
			rank = old_rank < now ? now : old_rank + 1;
			if (old_len == len && memcmp(old, body, len) == 0) {
				sqlite3_reset(s);
				r = PHT_OK; /* unchanged */
				goto out;
			}
		}
		if (old_rank == rank && old_len == len && memcmp(old, body, len) == 0) {
			sqlite3_reset(s);
			r = PHT_OK; /* the same document again */
			goto out;
		}
		if (old_rank >= rank) {
			sqlite3_reset(s);
			r = pht_errf(err, PHT_ERR_REPLAY, "a %s document at least as new "
			    "(%lld) is stored for %.200s", kind, (long long)old_rank, key);
			goto out;
		}
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(s);
		r = db_err(st, err, "read governance document");
		goto out;
	} else if (rank == PHT_NODE_GOV_LATEST) {
		rank = now;
	}
	sqlite3_reset(s);
	s = stmt(st, S_GOV_PUT);
	bind_text(s, 1, kind);
	bind_text(s, 2, key);
	sqlite3_bind_int64(s, 3, rank);
	sqlite3_bind_blob(s, 4, body, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	if ((r = exec_stmt(st, s, "store governance document", err)) != PHT_OK)
		goto out;
	if ((r = commit(st, err)) != PHT_OK)
		goto out;
	if (created != NULL)
		*created = 1;
	return PHT_OK;
out:
	rollback(st);
	return r;
}

int
pht_node_store_gov_list(struct pht_node_store *st, const char *kind,
    char ***out, size_t *n, struct pht_err *err)
{
	sqlite3_stmt *s = stmt(st, S_GOV_LIST);
	char **l = NULL, **nl;
	size_t cnt = 0, len;
	int r = PHT_OK, rc;

	*out = NULL;
	*n = 0;
	bind_text(s, 1, kind);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((nl = reallocarray(l, cnt + 1, sizeof(*l))) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		l = nl;
		len = (size_t)sqlite3_column_bytes(s, 0);
		if ((l[cnt] = malloc(len + 1)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		memcpy(l[cnt], sqlite3_column_blob(s, 0), len);
		l[cnt][len] = '\0';
		cnt++;
	}
	if (rc != SQLITE_DONE)
		r = db_err(st, err, "list governance documents");
out:
	sqlite3_reset(s);
	if (r != PHT_OK) {
		pht_node_store_gov_free(l, cnt);
		return r;
	}
	*out = l;
	*n = cnt;
	return PHT_OK;
}

void
pht_node_store_gov_free(char **docs, size_t n)
{
	size_t i;

	if (docs == NULL)
		return;
	for (i = 0; i < n; i++)
		free(docs[i]);
	free(docs);
}
