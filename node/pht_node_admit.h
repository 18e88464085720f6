/* pht_node_admit.h — how many connections the node holds: its descriptor budget, limits.max_connections, and accept() failing for want of descriptors. */
#ifndef PHT_NODE_ADMIT_H
#define PHT_NODE_ADMIT_H

#include <stddef.h>

struct event_base;
struct evconnlistener;
struct pht_err;

/*
 * Descriptors the node never lets client connections take: the store's
 * files (database, WAL, shared memory, temporary files), its own log and
 * listener, and analysts' connections once stations fill the cap (half of
 * the reserve).
 */
#define PHT_NODE_ADMIT_RESERVE 64

/* Receives one line of the node's log (no newline). */
typedef void (*pht_node_admit_log_fn)(void *arg, const char *line);

struct pht_node_admit;

/*
 * Watches the listener lev (borrowed; must outlive a) on base. The cap is
 * max_conns (0: as many as the descriptor limit allows), never more than
 * the soft RLIMIT_NOFILE less PHT_NODE_ADMIT_RESERVE (at least 1); *cap
 * (may be NULL) gets the cap in force. When accept() fails for want of
 * descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) the listener is
 * disabled, the fact logged once, and accepting resumes on a timer (100 ms,
 * doubling to 1.6 s while it keeps failing); the first connection after
 * that is logged with the number of failures. PHT_ERR_NOMEM.
 */
int pht_node_admit_new(struct event_base *base, struct evconnlistener *lev,
    size_t max_conns, pht_node_admit_log_fn log, void *log_arg,
    struct pht_node_admit **out, size_t *cap, struct pht_err *err);

/* Frees a; accepts NULL. */
void pht_node_admit_free(struct pht_node_admit *a);

/*
 * A connection was accepted (counts it). Returns 1 within the cap, 0 past
 * it: the caller refuses such a connection after its handshake, unless
 * pht_node_admit_reserve_ok says a reserved descriptor may serve it.
 */
int pht_node_admit_open(struct pht_node_admit *a);

/* A connection counted by pht_node_admit_open was closed. */
void pht_node_admit_close(struct pht_node_admit *a);

/* 1 if a connection past the cap may still be served from the reserve (analysts). */
int pht_node_admit_reserve_ok(const struct pht_node_admit *a);

/* Connections open now, and refusals past the cap so far. */
size_t pht_node_admit_count(const struct pht_node_admit *a);
size_t pht_node_admit_refused(struct pht_node_admit *a);

#endif
