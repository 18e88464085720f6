/* pht_node_server.h — the node: mutual-TLS HTTPS relay (libevent evhttp) over the mailbox store. */
#ifndef PHT_NODE_SERVER_H
#define PHT_NODE_SERVER_H

#include <stddef.h>

#include "pht_node_config.h"

struct pht_err;

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
