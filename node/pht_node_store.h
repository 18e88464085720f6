/* pht_node_store.h — the node's durable mailbox: trains, station inboxes, results, station heads. */
#ifndef PHT_NODE_STORE_H
#define PHT_NODE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "pht_limits.h"

struct pht_err;

/*
 * A narrow store over SQLite 3 (WAL journal, synchronous=FULL: a call that
 * returned PHT_OK survives a crash or power loss). Every write is one
 * transaction: it happens whole or not at all. One store is used by one
 * thread at a time.
 *
 * The model. A train id belongs to the analyst who first posted it. Each
 * round of a train has one envelope (opaque bytes) and one inbox entry per
 * target station, in state queued -> delivered -> acked. A station posts at
 * most one result per (train, round); the first one is kept for ever.
 * Stations are known by their id; they publish their data dictionaries
 * and, with every result, the head of their audit log.
 *
 * Ids (train ids, station and analyst names) are checked by the caller;
 * the store takes them as they are.
 */
struct pht_node_store;

#define PHT_NODE_ID_MAX PHT_ID_MAX      /* pht_limits.h */
#define PHT_NODE_NAME_MAX PHT_NAME_MAX
#define PHT_NODE_HASH_MAX 128

enum pht_node_state {
	PHT_NODE_QUEUED = 0,
	PHT_NODE_DELIVERED = 1,
	PHT_NODE_ACKED = 2,
};

/* One inbox entry handed to a station. */
struct pht_node_msg {
	int64_t seq;                        /* order of arrival in the inbox */
	char train[PHT_NODE_ID_MAX + 1];
	int64_t round;
	char analyst[PHT_NODE_NAME_MAX + 1];
	enum pht_node_state state;          /* before this delivery */
	int64_t created;                    /* seconds since the epoch */
	char *envelope;                     /* NUL-terminated, len bytes */
	size_t len;
};

/* One stored result. */
struct pht_node_result {
	int64_t seq;                        /* order of arrival at the node */
	char station[PHT_NODE_NAME_MAX + 1];
	int64_t round;
	int64_t log_seq;                    /* station's audit log head then */
	char log_hash[PHT_NODE_HASH_MAX + 1];
	int64_t received;
	char *body;                         /* NUL-terminated, len bytes */
	size_t len;
};

/* Where a train stands at one station for one round. */
struct pht_node_delivery {
	char station[PHT_NODE_NAME_MAX + 1];
	int64_t round;
	enum pht_node_state state;
	int has_result;
};

/* A station as listed to everyone. */
struct pht_node_station {
	char id[PHT_NODE_NAME_MAX + 1];
	char *dictionaries;                 /* JSON text as published, or NULL */
	int64_t last_seen;                  /* 0 if never */
	int64_t log_seq;                    /* -1 if no head known */
	char log_hash[PHT_NODE_HASH_MAX + 1];
};

/*
 * Opens (creating if missing, mode 0600) the store at path and its schema,
 * and checks it before anything is served:
 *  - PRAGMA quick_check: PHT_ERR_TAMPERED with SQLite's first complaint;
 *  - the write journal: every write transaction bumps a counter in the
 *    store, and once it is committed the count is recorded in
 *    "<path>.acked", beside it (synced by pht_node_store_checkpoint and at
 *    close). A store whose count is below the recorded
 *    one lost writes the node acknowledged (its WAL cut or deleted, an old
 *    copy put back): PHT_ERR_TAMPERED saying how many
 *    (pht_node_store_accept_loss lets the operator go on knowingly).
 * PHT_ERR_NOSPACE when the disk is full (nothing can be opened that needs
 * writing); PHT_ERR_IO with SQLite's message on other failures; *out is
 * NULL then. The WAL is bounded: checkpointed by SQLite every 1000 pages
 * and by pht_node_store_checkpoint, and cut back to 4 MiB after each
 * checkpoint (journal_size_limit).
 */
int pht_node_store_open(const char *path, struct pht_node_store **out,
    struct pht_err *err);

/*
 * The operator's decision to serve from a store that lost acknowledged
 * writes: records the store's own count in "<path>.acked". *lost gets the
 * number of writes given up (0 if none were missing).
 */
int pht_node_store_accept_loss(const char *path, int64_t *lost,
    struct pht_err *err);

/*
 * Checkpoints the WAL into the database and truncates it (SQLite's
 * TRUNCATE checkpoint), and syncs the write journal's record; a busy
 * database is left for the next call. PHT_ERR_NOSPACE, PHT_ERR_IO.
 */
int pht_node_store_checkpoint(struct pht_node_store *st, struct pht_err *err);

/*
 * 1 while the last write failed for want of space (SQLite's
 * SQLITE_FULL, or ENOSPC underneath); a write that succeeds clears it.
 * Every write then returns PHT_ERR_NOSPACE.
 */
int pht_node_store_full(const struct pht_node_store *st);

/* Closes the store and frees it; accepts NULL. */
void pht_node_store_free(struct pht_node_store *st);

/*
 * Caps the inbox entries (station, train, round) one analyst may have
 * waiting, not yet acknowledged by their stations: a new round that would
 * pass it is refused by pht_node_store_post_train with PHT_ERR_POLICY and
 * stores nothing (a re-post of a stored round is not counted). 0: no cap.
 */
void pht_node_store_set_max_pending(struct pht_node_store *st, size_t max);

/*
 * Records round `round` of train `train` posted by `analyst`, with its
 * envelope, and queues it in the inbox of each of the n stations, in one
 * transaction. Posting the same round again with the same envelope adds
 * the stations not yet targeted and is otherwise a no-op (*created = 0 if
 * nothing was new, else 1). PHT_ERR_DENIED if the train belongs to another
 * analyst; PHT_ERR_REPLAY if this round was posted with a different
 * envelope; PHT_ERR_POLICY past the analyst's cap (set_max_pending).
 * created may be NULL.
 */
int pht_node_store_post_train(struct pht_node_store *st, const char *train,
    int64_t round, const char *analyst, const char *envelope, size_t len,
    const char *const *stations, size_t n, int64_t now, int *created,
    struct pht_err *err);

/*
 * Copies the analyst who owns train into analyst (size >= PHT_NODE_NAME_MAX
 * + 1). PHT_ERR_NOT_FOUND if there is no such train.
 */
int pht_node_store_train_owner(struct pht_node_store *st, const char *train,
    char *analyst, size_t size, struct pht_err *err);

/*
 * Returns up to max entries of station's inbox that are not acked, oldest
 * first, and marks them delivered (an entry stays in the inbox, and is
 * handed out again, until acked). *msgs is NULL when *n is 0. Free with
 * pht_node_msgs_free.
 */
int pht_node_store_inbox(struct pht_node_store *st, const char *station,
    size_t max, int64_t now, struct pht_node_msg **msgs, size_t *n,
    struct pht_err *err);

/* True (1) if station has an entry that is not acked, 0 if not, <0 on error. */
int pht_node_store_inbox_pending(struct pht_node_store *st, const char *station,
    struct pht_err *err);

/* Frees an array returned by pht_node_store_inbox; accepts NULL. */
void pht_node_msgs_free(struct pht_node_msg *msgs, size_t n);

/*
 * Acks station's inbox entries of train: the one of round `round`, or all
 * rounds if round < 0. *nacked gets how many changed state (acking twice
 * is harmless). PHT_ERR_NOT_FOUND if station has no such entry.
 */
int pht_node_store_ack(struct pht_node_store *st, const char *station,
    const char *train, int64_t round, int64_t now, size_t *nacked,
    struct pht_err *err);

/*
 * Stores station's result for (train, round) with its audit log head, acks
 * the inbox entry, and moves the station's known log head forward, in one
 * transaction. A second post with the same bytes is a no-op (*created = 0).
 * PHT_ERR_NOT_FOUND if the train was not sent to station for that round;
 * PHT_ERR_REPLAY if a different result is already stored (the first one
 * stays). created may be NULL.
 */
int pht_node_store_post_result(struct pht_node_store *st, const char *train,
    const char *station, int64_t round, const char *body, size_t len,
    int64_t log_seq, const char *log_hash, int64_t now, int *created,
    struct pht_err *err);

/*
 * Returns up to max results of train with seq > after, in arrival order.
 * *out is NULL when *n is 0. Free with pht_node_results_free.
 */
int pht_node_store_results(struct pht_node_store *st, const char *train,
    int64_t after, size_t max, struct pht_node_result **out, size_t *n,
    struct pht_err *err);

/* Frees an array returned by pht_node_store_results; accepts NULL. */
void pht_node_results_free(struct pht_node_result *res, size_t n);

/*
 * Lists where train stands at each target station and round, ordered by
 * round then station. Free with free().
 */
int pht_node_store_deliveries(struct pht_node_store *st, const char *train,
    struct pht_node_delivery **out, size_t *n, struct pht_err *err);

/* Records that station was seen at now (creates the station if new). */
int pht_node_store_station_seen(struct pht_node_store *st, const char *station,
    int64_t now, struct pht_err *err);

/*
 * Replaces station's published dictionaries with the JSON text dict (kept
 * as given) and marks it seen at now.
 */
int pht_node_store_station_publish(struct pht_node_store *st,
    const char *station, const char *dict, size_t len, int64_t now,
    struct pht_err *err);

/* Lists all known stations ordered by id. Free with pht_node_stations_free. */
int pht_node_store_stations(struct pht_node_store *st,
    struct pht_node_station **out, size_t *n, struct pht_err *err);

/* Frees an array returned by pht_node_store_stations; accepts NULL. */
void pht_node_stations_free(struct pht_node_station *s, size_t n);

/*
 * Governance documents the node relays to stations (revocation lists and
 * halt orders; docs/governance.md): per (kind, key) one document, the one
 * with the highest rank (a list's seq, an order's issue time). Storing
 * the same bytes again is a no-op (*created 0); a document whose rank is
 * not higher than the stored one's is PHT_ERR_REPLAY and changes nothing.
 * created may be NULL. The caller has verified the document.
 * rank PHT_NODE_GOV_LATEST: the document replaces any stored one (for
 * documents whose sender is authenticated and always current, such as a
 * station's catalogue entry); it is ranked max(now, stored rank + 1), so a
 * republish within the same second is not lost.
 */
#define PHT_NODE_GOV_LATEST INT64_MIN
int pht_node_store_gov_put(struct pht_node_store *st, const char *kind,
    const char *key, int64_t rank, const char *body, size_t len, int64_t now,
    int *created, struct pht_err *err);

/*
 * Every stored document of kind, ordered by key: *out an array of *n
 * NUL-terminated strings (NULL when none). Free with pht_node_store_gov_free.
 */
int pht_node_store_gov_list(struct pht_node_store *st, const char *kind,
    char ***out, size_t *n, struct pht_err *err);

/* Frees an array returned by pht_node_store_gov_list; accepts NULL. */
void pht_node_store_gov_free(char **docs, size_t n);

#endif
