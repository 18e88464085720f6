/* pht_node_server.h — the node: mutual-TLS HTTPS relay (libevent evhttp) over the mailbox store. */
#ifndef PHT_NODE_SERVER_H
#define PHT_NODE_SERVER_H

#include <stddef.h>

struct pht_err;

/*
 * The node's configuration, as read from NODE.json (see docs/node.md).
 * Relative paths in the file are resolved against the file's directory.
 */
struct pht_node_config {
	char *listen;           /* address to bind, default "127.0.0.1" */
	int port;               /* 0: an ephemeral port (see _server_port) */
	char *cert;             /* node certificate (pht:node), PEM */
	char *key;              /* its key, PEM */
	char *ca;               /* federation CA, PEM: clients must chain to it */
	char *database;         /* SQLite mailbox file */
	size_t max_body;        /* largest request body, bytes (413 above) */
	size_t max_headers;     /* largest request head, bytes */
	int max_wait;           /* longest long poll, seconds (1..60) */
	int timeout;            /* idle connection timeout, seconds (> max_wait) */
	size_t inbox_batch;     /* most trains handed out per inbox reply */
	size_t results_batch;   /* most results per results reply */
	size_t max_pending;     /* inbox entries one analyst may have waiting */
	size_t max_connections; /* connections served at once; 0: as many as
	                         * RLIMIT_NOFILE allows less a reserve (past it
	                         * stations get 503, analysts the reserve) */
	char *permit_authorities; /* permit authorities' keys: a .pub file or a
	                           * directory of them; NULL: none, and the node
	                           * relays no revocation lists or halt orders */
};

/*
 * Reads and checks NODE.json at path: unknown fields, wrong types and
 * out-of-range limits are refused with PHT_ERR_MALFORMED naming the field.
 * *out is NULL on failure. Free with pht_node_config_free.
 */
int pht_node_config_load(const char *path, struct pht_node_config **out,
    struct pht_err *err);

/* Frees a configuration; accepts NULL. */
void pht_node_config_free(struct pht_node_config *cfg);

/* Receives one line of the node's log (no newline). */
typedef void (*pht_node_log_fn)(void *arg, const char *line);

/*
 * A node: one event loop, one thread, no thread per connection. Every
 * request runs to its reply without blocking on the network; long polls
 * are parked on a list and answered when a train or result for them is
 * stored, or when their wait runs out.
 */
struct pht_node_server;

/*
 * Opens the store, sets up TLS (1.3 only; client certificate required and
 * verified against cfg->ca; the node's own certificate must be pht:node)
 * and binds the listening socket. cfg is copied. log may be NULL.
 * PHT_ERR_IO (files, store, bind), PHT_ERR_CRYPTO (TLS setup),
 * PHT_ERR_INVALID (certificate is not a node certificate).
 */
int pht_node_server_new(const struct pht_node_config *cfg, pht_node_log_fn log,
    void *log_arg, struct pht_node_server **out, struct pht_err *err);

/* The port the server is bound to (useful when cfg->port was 0). */
int pht_node_server_port(const struct pht_node_server *srv);

/*
 * Serves until SIGTERM or SIGINT arrives (caught with libevent's signal
 * events) and returns PHT_OK; parked long polls are dropped and
 * connections closed. PHT_ERR_INTERNAL if the event loop fails.
 */
int pht_node_server_run(struct pht_node_server *srv, struct pht_err *err);

/* Closes every connection, the socket and the store; accepts NULL. */
void pht_node_server_free(struct pht_node_server *srv);

#endif
