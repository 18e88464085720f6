/* pht_node_srv.h — the node server's insides, shared by its files in node/ (not for use outside node/). */
#ifndef PHT_NODE_SRV_H
#define PHT_NODE_SRV_H

/*
 * The server is one room per file: pht_node_server.c (routing, signals,
 * the server's life), pht_node_conn.c (TLS, peers, connection guards),
 * pht_node_handlers.c (one handler a route), pht_node_poll.c (long
 * polls), pht_node_reply.c (log and replies), pht_node_config.c
 * (NODE.json). They share the server struct and the functions below;
 * none of it is part of the node's interface (pht_node_server.h).
 */

#include <stdint.h>
#include <sys/queue.h>

#include <event2/util.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "pht_node_gov.h"
#include "pht_node_server.h"
#include "pht_node_store.h"
#include "pht_pki.h"

struct evhttp_request;
struct pht_err;

#define MAX_TARGETS 1000                 /* stations one train may be posted to */
#define MAX_ROUND 1000000                /* largest round number */

/*
 * A parked long poll. It sits on one list of srv->waiters, the bucket
 * chosen by hashing its kind and key (so a wake-up looks only at the polls
 * that may match), until (a) something it waits
 * for is stored: it is answered and freed; (b) its timer fires: it is
 * answered empty and freed; (c) its connection closes: it is freed without
 * an answer; (d) the server stops: it is freed with the server. While
 * parked, the connection's close callback points at it.
 */
enum wait_kind { WAIT_INBOX, WAIT_RESULTS };

#define WAIT_BUCKETS 1024
TAILQ_HEAD(waiter_list, waiter);

struct waiter {
	struct pht_node_server *srv;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	struct event *timer;
	enum wait_kind kind;
	char key[PHT_NODE_ID_MAX + 1];   /* station (inbox) or train (results) */
	struct waiter_list *bucket;      /* the list it is on */
	int64_t after;                   /* results: answer seq > after */
	TAILQ_ENTRY(waiter) link;
};

struct pht_node_server {
	struct pht_node_config cfg;      /* strings owned */
	struct pht_node_store *store;
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *ssl;
	struct event *sigterm, *sigint, *sighup;
	int port;
	struct waiter_list waiters[WAIT_BUCKETS];
	TAILQ_HEAD(, conn_guard) guards; /* every connection's guard */
	pht_node_log_fn log;
	void *log_arg;
	struct pht_trust *authorities;   /* permit authorities (cfg.permit_authorities) */
	int guard_idx;                   /* SSL ex_data index of a conn_guard */
	const struct timeval *guard_tv;  /* common timeout: cfg.timeout */
	size_t shed;                     /* connections closed by their guard */
	struct pht_node_admit *admit;    /* connection budget (pht_node_admit.h) */
	struct event *checkpoint;        /* CHECKPOINT_S: WAL checkpoint, disk watch */
	int full_said;                   /* "disk full" logged, "writing again" not */
};

#define CHECKPOINT_S 10                  /* WAL checkpoint and disk watch, seconds */
#define FULL_RETRY_S 30                  /* Retry-After while the disk is full */

/*
 * The deadline of a connection. libevent's own timeout (cfg.timeout) is an
 * idle timeout: every byte that arrives restarts it, so a client that
 * dribbles its TLS handshake or its request head a byte at a time would
 * hold the connection for ever. Each connection therefore gets a guard
 * (hung on its SSL object, freed with it) whose timer ticks every
 * cfg.timeout seconds: a connection that completed no request since the
 * last tick is closed, the way libevent closes an idle one. A request thus
 * has at most two periods from its first byte (handshake included) to its
 * last; a parked long poll (at most max_wait < timeout) never spans a
 * whole period.
 */
struct conn_guard {
	struct pht_node_server *srv;
	struct bufferevent *bev;
	struct event *timer;
	unsigned long requests;          /* requests completed */
	unsigned long seen;              /* requests at the last tick */
	int over;                        /* accepted past limits.max_connections */
	TAILQ_ENTRY(conn_guard) link;    /* on srv->guards */
};

/* The authenticated peer of a request. */
struct pht_node_peer {
	enum pht_pki_role role;
	char name[PHT_PKI_NAME_MAX + 1];
};

/* ---- log and replies (pht_node_reply.c) ---- */

/* One line of the node's log (formatted, cut at 600 bytes); none if srv->log is NULL. */
void pht_node_logf(struct pht_node_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Replies code with body as JSON (NULL or unprintable: 500 "out of memory"). body stays the caller's. */
void pht_node_reply_json(struct evhttp_request *req, int code,
    const char *reason, json_t *body);

/* Replies code with {"error": message} and logs the request and the message. */
void pht_node_reply_error(struct pht_node_server *srv,
    struct evhttp_request *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * 503 with Retry-After (seconds) and the connection closed after the
 * reply: for a node that cannot take the request now but will. quiet:
 * not logged.
 */
void pht_node_reply_busy(struct pht_node_server *srv,
    struct evhttp_request *req, int retry, const char *msg, int quiet);

/*
 * Maps a store or library error to its HTTP status and replies; a full
 * disk (PHT_ERR_NOSPACE) is 503 with Retry-After, said once in the log.
 */
void pht_node_reply_err(struct pht_node_server *srv,
    struct evhttp_request *req, const struct pht_err *e);

/*
 * 1 if the peer has role; else replies 403 "WHAT (you are a ROLE)" and
 * returns 0.
 */
int pht_node_role_ok(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p, enum pht_pki_role role, const char *what);

/*
 * Replies to a request body that did not parse or check: e's error, or
 * "request body: not a JSON object" when e holds none.
 */
void pht_node_reply_bad_body(struct pht_node_server *srv,
    struct evhttp_request *req, struct pht_err *e);

/* A time as an RFC 3339 JSON string, or JSON null for t <= 0 (new reference). */
json_t *pht_node_time_json(int64_t t);

/* Parses the request body as one JSON value (pht_node_req_body); *out is the caller's. */
int pht_node_body_json(struct evhttp_request *req, json_t **out,
    struct pht_err *err);

/* The request's query through pht_node_req_query_ints. */
int pht_node_query_ints(struct evhttp_request *req, const char *const *names,
    const int64_t *lo, const int64_t *hi, int64_t *vals, struct pht_err *err);

/* ---- long polls (pht_node_poll.c) ---- */

/*
 * Parks req for at most wait_s seconds on key (a station's inbox, or a
 * train's results after seq after). Returns 0, or -1 out of memory (req
 * is then still the caller's to answer).
 */
int pht_node_poll_park(struct pht_node_server *srv, struct evhttp_request *req,
    enum wait_kind kind, const char *key, int64_t after, int64_t wait_s);

/*
 * Serves a poll of key: answers at once when there is something or wait_s
 * is 0, else parks it for wait_s seconds (500 if that fails).
 */
void pht_node_poll_serve(struct pht_node_server *srv, struct evhttp_request *req,
    enum wait_kind kind, const char *key, int64_t after, int64_t wait_s);

/* Wakes the polls parked on key (a station's inbox or a train's results). */
void pht_node_poll_wake(struct pht_node_server *srv, enum wait_kind kind,
    const char *key);

/* Takes a parked poll off its list and frees it without answering; accepts NULL. */
void pht_node_poll_free(struct waiter *w);

/*
 * Replies with station's pending trains if there are some or final is
 * set. Returns 1 if it replied, 0 if there was nothing (not final).
 */
int pht_node_answer_inbox(struct pht_node_server *srv,
    struct evhttp_request *req, const char *station, int final);

/* The same for a train's results after seq after (with its deliveries). */
int pht_node_answer_results(struct pht_node_server *srv,
    struct evhttp_request *req, const char *train, int64_t after, int final);

/* ---- handlers (pht_node_handlers.c), one a route; each replies ---- */

void pht_node_h_post_train(struct pht_node_server *srv,
    struct evhttp_request *req, const struct pht_node_peer *p);
void pht_node_h_get_results(struct pht_node_server *srv,
    struct evhttp_request *req, const struct pht_node_peer *p, const char *train);
void pht_node_h_post_result(struct pht_node_server *srv,
    struct evhttp_request *req, const struct pht_node_peer *p, const char *train);
void pht_node_h_get_inbox(struct pht_node_server *srv,
    struct evhttp_request *req, const struct pht_node_peer *p);
void pht_node_h_ack(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p, const char *train);
void pht_node_h_publish(struct pht_node_server *srv,
    struct evhttp_request *req, const struct pht_node_peer *p);
void pht_node_h_catalog(struct pht_node_server *srv, struct evhttp_request *req);
void pht_node_h_stations(struct pht_node_server *srv,
    struct evhttp_request *req, const struct pht_node_peer *p);
void pht_node_h_gov_post(struct pht_node_server *srv,
    struct evhttp_request *req, const struct pht_node_peer *p,
    enum pht_node_gov_kind kind);
void pht_node_h_gov_get(struct pht_node_server *srv,
    struct evhttp_request *req, enum pht_node_gov_kind kind);

/* ---- connections (pht_node_conn.c) ---- */

/* Sets up srv->ssl from srv->cfg; the node's own certificate must be pht:node. */
int pht_node_tls_setup(struct pht_node_server *srv, struct pht_err *err);

/* evhttp's bufferevent callback: a TLS bufferevent with its guard, or NULL. */
struct bufferevent *pht_node_conn_new_bev(struct event_base *base, void *arg);

/* SSL ex_data destructor of a connection's guard. */
void pht_node_conn_guard_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
    int idx, long argl, void *argp);

/*
 * Counts a completed request on its connection's guard (NULL if it has
 * none) and makes sure the connection has TCP_NODELAY.
 */
struct conn_guard *pht_node_conn_count(struct pht_node_server *srv,
    struct evhttp_request *req);

/* The authenticated peer of a request from its verified client certificate. */
int pht_node_conn_peer(struct evhttp_request *req, struct pht_node_peer *p,
    struct pht_err *err);

/* Turns Nagle's algorithm off on a TCP socket; 0 or -1 with errno. */
int pht_node_nodelay(evutil_socket_t fd);

#endif
