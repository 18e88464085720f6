/* pht_node_db.h — the mailbox store's insides, shared by pht_node_store*.c (not for use outside them). */
#ifndef PHT_NODE_DB_H
#define PHT_NODE_DB_H

/*
 * The store is split by what it keeps: pht_node_store.c (schema,
 * statements, transactions, write journal, open), pht_node_store_mail.c
 * (trains, inboxes, results), pht_node_store_pub.c (stations, governance
 * documents). Each statement is prepared once at open (stmt_sql in
 * pht_node_store.c) and named here.
 */

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct pht_err;

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

/* Returns statement which (S_*), reset and with its bindings cleared. */
sqlite3_stmt *pht_node_db_stmt(struct pht_node_store *st, int which);

/* Runs a statement that returns no rows; PHT_ERR_IO or PHT_ERR_NOSPACE on failure. */
int pht_node_db_exec(struct pht_node_store *st, sqlite3_stmt *s,
    const char *what, struct pht_err *err);

/*
 * Maps SQLite's last error to PHT_ERR_NOSPACE (the disk is full: st->full
 * is set) or PHT_ERR_IO, with "PATH: WHAT: message".
 */
int pht_node_db_err(struct pht_node_store *st, struct pht_err *err,
    const char *what);

/* Starts a write transaction; it bumps the journal count. */
int pht_node_db_begin(struct pht_node_store *st, struct pht_err *err);

/* Commits and records the new journal count in "<path>.acked". */
int pht_node_db_commit(struct pht_node_store *st, struct pht_err *err);

/* Rolls back the open transaction, if there is one. */
void pht_node_db_rollback(struct pht_node_store *st);

/* Binds v (NUL-terminated, borrowed until the statement is reset) to parameter i. */
int pht_node_db_bind_text(sqlite3_stmt *s, int i, const char *v);

/* Copies column i as text into out (size outsz); "" for NULL. */
void pht_node_db_col_text(sqlite3_stmt *s, int i, char *out, size_t outsz);

/* Column i as a new NUL-terminated copy, its length in *len; NULL out of memory. */
char *pht_node_db_col_blob(sqlite3_stmt *s, int i, size_t *len);

#endif
