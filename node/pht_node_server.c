/* pht_node_server.c — the node's HTTPS server: routing each request to its handler, signals, the store checkpoint, and the server's life (set up, run, free). */
#include "pht_node_server.h"
#include "pht_node_srv.h"
#include "pht_node_admit.h"
#include "pht_node_req.h"
#include "pht_node_store.h"
#include "pht_err.h"
#include "pht_pki.h"
#include "pht_trust.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include <openssl/ssl.h>

static void
route(struct evhttp_request *req, void *arg)
{
	struct pht_node_server *srv = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char seg[PHT_NODE_REQ_SEGS][PHT_NODE_ID_MAX + 1];
	struct conn_guard *g;
	struct pht_err e;
	struct pht_node_peer p;
	size_t n;

	pht_err_clear(&e);
	g = pht_node_conn_count(srv, req);
	if (pht_node_conn_peer(req, &p, &e) != PHT_OK) {
		pht_node_reply_error(srv, req, 403, "%s", pht_err_msg(&e));
		return;
	}
	/* past the cap only analysts are served, from the reserve */
	if (g != NULL && g->over && (p.role != PHT_PKI_ANALYST ||
	    !pht_node_admit_reserve_ok(srv->admit))) {
		n = pht_node_admit_refused(srv->admit);
		if (n == 1 || n % 100 == 0)
			pht_node_logf(srv, "refusing connections past limits.max_connections: "
			    "%zu open (%zu refused so far)",
			    pht_node_admit_count(srv->admit), n);
		pht_node_reply_busy(srv, req, 5, "the node is at its connection limit "
		    "(limits.max_connections): retry later", 1);
		return;
	}
	if (p.role == PHT_PKI_NODE) {
		pht_node_reply_error(srv, req, 403, "the node certificate is not a client");
		return;
	}
	switch (pht_node_req_route(path, cmd == EVHTTP_REQ_GET,
	    cmd == EVHTTP_REQ_POST, seg)) {
	case PHT_NODE_ROUTE_POST_TRAIN:  pht_node_h_post_train(srv, req, &p); return;
	case PHT_NODE_ROUTE_GET_RESULTS: pht_node_h_get_results(srv, req, &p, seg[1]); return;
	case PHT_NODE_ROUTE_POST_RESULT: pht_node_h_post_result(srv, req, &p, seg[1]); return;
	case PHT_NODE_ROUTE_GET_INBOX:   pht_node_h_get_inbox(srv, req, &p); return;
	case PHT_NODE_ROUTE_ACK:         pht_node_h_ack(srv, req, &p, seg[1]); return;
	case PHT_NODE_ROUTE_PUBLISH:     pht_node_h_publish(srv, req, &p); return;
	case PHT_NODE_ROUTE_STATIONS:    pht_node_h_stations(srv, req, &p); return;
	case PHT_NODE_ROUTE_CATALOG:     pht_node_h_catalog(srv, req); return;
	case PHT_NODE_ROUTE_GET_REVOCATIONS:
		pht_node_h_gov_get(srv, req, PHT_NODE_GOV_REVOCATIONS);
		return;
	case PHT_NODE_ROUTE_POST_REVOCATIONS:
		pht_node_h_gov_post(srv, req, &p, PHT_NODE_GOV_REVOCATIONS);
		return;
	case PHT_NODE_ROUTE_GET_HALTS:
		pht_node_h_gov_get(srv, req, PHT_NODE_GOV_HALTS);
		return;
	case PHT_NODE_ROUTE_POST_HALTS:
		pht_node_h_gov_post(srv, req, &p, PHT_NODE_GOV_HALTS);
		return;
	case PHT_NODE_ROUTE_BAD_METHOD:
		pht_node_reply_error(srv, req, 405, "method not allowed on %.200s", path);
		return;
	case PHT_NODE_ROUTE_NOT_FOUND:
		break;
	}
	pht_node_reply_error(srv, req, 404, "no such route: %.200s",
	    path != NULL ? path : "(none)");
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct pht_node_server *srv = arg;

	pht_node_logf(srv, "signal %d: shutting down", (int)sig);
	event_base_loopexit(srv->base, NULL);
}

/*
 * Every CHECKPOINT_S seconds: the WAL is checkpointed and truncated (a WAL
 * is otherwise only checkpointed on commits, and never shrinks without
 * journal_size_limit), and the end of a disk-full episode is said.
 */
static void
checkpoint_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pht_node_server *srv = arg;

	(void)fd;
	(void)what;
	(void)pht_node_store_checkpoint(srv->store, NULL);
	if (srv->full_said && !pht_node_store_full(srv->store)) {
		srv->full_said = 0;
		pht_node_logf(srv, "store: writing again");
	}
}

/* SIGHUP (a closed terminal, a reload by habit): logged and ignored. */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct pht_node_server *srv = arg;

	(void)what;
	pht_node_logf(srv, "signal %d (SIGHUP): ignored (the node logs to stderr; nothing to "
	    "reopen)", (int)sig);
}

int
pht_node_server_new(const struct pht_node_config *cfg, pht_node_log_fn log,
    void *log_arg, struct pht_node_server **out, struct pht_err *err)
{
	struct pht_node_server *srv = NULL;
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t cap;
	int r, i;

	*out = NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (i = 0; i < WAIT_BUCKETS; i++)
		TAILQ_INIT(&srv->waiters[i]);
	TAILQ_INIT(&srv->guards);
	srv->log = log;
	srv->log_arg = log_arg;
	if (pht_node_config_copy(&srv->cfg, cfg) != 0) {
		r = pht_errf(err, cfg->cert && cfg->key && cfg->ca && cfg->database ?
		    PHT_ERR_NOMEM : PHT_ERR_INVALID, "node configuration: cert, key, "
		    "ca and database are required");
		goto out;
	}
	if (srv->cfg.max_wait < 1 || srv->cfg.max_wait > 60 ||
	    srv->cfg.timeout <= srv->cfg.max_wait || srv->cfg.max_body < 1 ||
	    srv->cfg.max_headers < 1 || srv->cfg.inbox_batch < 1 ||
	    srv->cfg.results_batch < 1) {
		r = pht_errf(err, PHT_ERR_INVALID, "node configuration: limits out "
		    "of range");
		goto out;
	}
	if ((r = pht_node_tls_setup(srv, err)) != PHT_OK)
		goto out;
	if ((r = pht_node_store_open(srv->cfg.database, &srv->store, err)) != PHT_OK)
		goto out;
	pht_node_store_set_max_pending(srv->store, srv->cfg.max_pending);
	if ((srv->authorities = pht_trust_new()) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (srv->cfg.permit_authorities != NULL &&
	    (r = pht_trust_load(srv->authorities, srv->cfg.permit_authorities,
	    err)) != PHT_OK) {
		pht_err_prefix(err, "permit_authorities");
		goto out;
	}
	if ((srv->base = event_base_new()) == NULL ||
	    (srv->http = evhttp_new(srv->base)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "cannot create the event loop");
		goto out;
	}
	{
		struct timeval tv = {srv->cfg.timeout, 0};

		srv->guard_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, pht_node_conn_guard_free);
		if (srv->guard_idx < 0 || (srv->guard_tv =
		    event_base_init_common_timeout(srv->base, &tv)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "cannot set up connection "
			    "deadlines");
			goto out;
		}
	}
	evhttp_set_bevcb(srv->http, pht_node_conn_new_bev, srv);
	evhttp_set_gencb(srv->http, route, srv);
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)srv->cfg.max_body);
	/*
	 * A body over max_body is refused as soon as its length is known: a
	 * declared Content-Length at once, before any of it is read, a chunked
	 * body when it passes the limit. libevent sends the 413 and closes. A
	 * client still sending may see the close (a broken pipe or reset)
	 * before it reads the 413; libevent's lingering close would avoid that
	 * only by reading the whole declared body first, which lets any client
	 * hold the node to a 100 MB upload. Refusing early is the bound we keep.
	 */
	evhttp_set_max_headers_size(srv->http, (ev_ssize_t)srv->cfg.max_headers);
	evhttp_set_timeout(srv->http, srv->cfg.timeout);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	if ((bound = evhttp_bind_socket_with_handle(srv->http, srv->cfg.listen,
	    (ev_uint16_t)srv->cfg.port)) == NULL) {
		r = pht_errf(err, PHT_ERR_IO, "cannot listen on %s port %d: %s",
		    srv->cfg.listen, srv->cfg.port, strerror(errno));
		goto out;
	}
	/*
	 * No Nagle: a response leaves as several small TLS records (head,
	 * body), and with Nagle on each one after the first waits for the
	 * ACK of the one before, which the peer delays by up to 40 ms.
	 * Accepted sockets inherit the option from the listener (Linux);
	 * pht_node_conn_count sets it again on each connection where they do not.
	 */
	if (pht_node_nodelay(evhttp_bound_socket_get_fd(bound)) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "cannot set TCP_NODELAY on %s port "
		    "%d: %s", srv->cfg.listen, srv->cfg.port, strerror(errno));
		goto out;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss,
	    &sl) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "getsockname: %s", strerror(errno));
		goto out;
	}
	srv->port = ss.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if ((r = pht_node_admit_new(srv->base, evhttp_bound_socket_get_listener(bound),
	    srv->cfg.max_connections, srv->log, srv->log_arg, &srv->admit, &cap,
	    err)) != PHT_OK)
		goto out;
	if (srv->cfg.max_connections != 0 && cap < srv->cfg.max_connections)
		pht_node_logf(srv, "limits.max_connections %zu is more than the descriptor "
		    "limit allows: %zu (RLIMIT_NOFILE less a reserve of %d)",
		    srv->cfg.max_connections, cap, PHT_NODE_ADMIT_RESERVE);
	else
		pht_node_logf(srv, "serving at most %zu connections at once (stations past "
		    "it get 503; a reserve of %d descriptors for analysts and the "
		    "store)", cap, PHT_NODE_ADMIT_RESERVE);
	if ((srv->sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv)) == NULL ||
	    (srv->sigint = evsignal_new(srv->base, SIGINT, on_signal, srv)) == NULL ||
	    (srv->sighup = evsignal_new(srv->base, SIGHUP, on_hup, srv)) == NULL ||
	    evsignal_add(srv->sigterm, NULL) != 0 || evsignal_add(srv->sigint, NULL) != 0 ||
	    evsignal_add(srv->sighup, NULL) != 0) {
		r = pht_errf(err, PHT_ERR_INTERNAL, "cannot catch SIGTERM/SIGINT/SIGHUP");
		goto out;
	}
	{
		struct timeval tv = {CHECKPOINT_S, 0};

		if ((srv->checkpoint = event_new(srv->base, -1, EV_PERSIST,
		    checkpoint_tick, srv)) == NULL ||
		    event_add(srv->checkpoint, &tv) != 0) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	*out = srv;
	srv = NULL; /* transferred */
	r = PHT_OK;
out:
	pht_node_server_free(srv);
	return r;
}

int
pht_node_server_port(const struct pht_node_server *srv)
{
	return srv->port;
}

int
pht_node_server_run(struct pht_node_server *srv, struct pht_err *err)
{
	pht_node_logf(srv, "listening on %s port %d (TLS 1.3, client certificates "
	    "required)", srv->cfg.listen, srv->port);
	if (event_base_dispatch(srv->base) < 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "event loop failed");
	pht_node_logf(srv, "stopped");
	return PHT_OK;
}

void
pht_node_server_free(struct pht_node_server *srv)
{
	struct conn_guard *g;
	struct waiter *w;
	int i;

	if (srv == NULL)
		return;
	/* Parked polls: their requests are freed with their connections. */
	for (i = 0; i < WAIT_BUCKETS; i++)
		while ((w = TAILQ_FIRST(&srv->waiters[i])) != NULL) {
			w->req = NULL;
			pht_node_poll_free(w);
		}
	if (srv->http != NULL)
		evhttp_free(srv->http);
	/* its events go with the base; connections freed later count for nothing */
	pht_node_admit_free(srv->admit);
	srv->admit = NULL;
	if (srv->sigterm != NULL)
		event_free(srv->sigterm);
	if (srv->sigint != NULL)
		event_free(srv->sigint);
	if (srv->sighup != NULL)
		event_free(srv->sighup);
	if (srv->checkpoint != NULL)
		event_free(srv->checkpoint);
	/* The guards' timers go while their event base is still there. */
	TAILQ_FOREACH(g, &srv->guards, link) {
		if (g->timer != NULL)
			event_free(g->timer);
		g->timer = NULL;
	}
	if (srv->base != NULL)
		event_base_free(srv->base);
	/*
	 * Only now: libevent frees a connection's bufferevent (and with it the
	 * SSL object, which calls pht_node_conn_guard_free) in a deferred finalizer, and
	 * event_base_free runs the last of those. A guard still listed belongs
	 * to a connection libevent did not finalize: it is freed here, and once
	 * the index is gone no SSL_free can reach it.
	 */
	if (srv->guard_idx > 0)
		CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL, srv->guard_idx);
	while ((g = TAILQ_FIRST(&srv->guards)) != NULL) {
		TAILQ_REMOVE(&srv->guards, g, link);
		free(g);
	}
	SSL_CTX_free(srv->ssl);
	pht_node_store_free(srv->store);
	pht_trust_free(srv->authorities);
	free(srv->cfg.permit_authorities);
	free(srv->cfg.listen);
	free(srv->cfg.cert);
	free(srv->cfg.key);
	free(srv->cfg.ca);
	free(srv->cfg.database);
	free(srv);
}
