/* pht_node_config.h — the node's configuration (NODE.json): its fields, reading and checking it, copying and freeing it. */
#ifndef PHT_NODE_CONFIG_H
#define PHT_NODE_CONFIG_H

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

/*
 * Copies src into caller-owned dst (listen defaults to "127.0.0.1"), each
 * string duplicated. Returns 0, or -1 when cert, key, ca or database is
 * missing or memory ran out; dst's strings are then partly set and freed
 * by the caller as after success.
 */
int pht_node_config_copy(struct pht_node_config *dst,
    const struct pht_node_config *src);

#endif
