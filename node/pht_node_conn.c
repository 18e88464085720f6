/* pht_node_conn.c — the node's connections: the TLS 1.3 context with client certificates, the authenticated peer, TCP_NODELAY and each connection's deadline guard. */
#include "pht_node_srv.h"
#include "pht_node_admit.h"
#include "pht_err.h"
#include "pht_pki.h"

#include <stdlib.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

int
pht_node_conn_peer(struct evhttp_request *req, struct pht_node_peer *p, struct pht_err *err)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;

	if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return pht_errf(err, PHT_ERR_DENIED, "no verified client certificate");
	return pht_pki_identity(cert, &p->role, p->name, sizeof(p->name), err);
}

/* Turns Nagle's algorithm off on a TCP socket; 0 or -1 with errno. */
int
pht_node_nodelay(evutil_socket_t fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * Counts a completed request on its connection's guard. On a connection's
 * first request also makes sure it has TCP_NODELAY (set on the listener in
 * pht_node_server_new; not every system hands it on to accepted sockets).
 */
struct conn_guard *
pht_node_conn_count(struct pht_node_server *srv, struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	struct conn_guard *g = ssl ? SSL_get_ex_data(ssl, srv->guard_idx) : NULL;
	int on = 0;
	socklen_t len = sizeof(on);

	if (g == NULL)
		return NULL;
	if (g->requests++ == 0 && getsockopt(bufferevent_getfd(bev), IPPROTO_TCP,
	    TCP_NODELAY, &on, &len) == 0 && on == 0)
		(void)pht_node_nodelay(bufferevent_getfd(bev));
	return g;
}

/*
 * The guard's tick: closes a connection that completed no request in the
 * last period by reporting a read timeout on it, which libevent handles
 * as its own (the connection and its pending request are freed, and with
 * them the SSL object and this guard: g is not touched afterwards).
 */
static void
guard_tick(evutil_socket_t fd, short what, void *arg)
{
	struct conn_guard *g = arg;

	if (g->requests != g->seen) {
		g->seen = g->requests;
		return;
	}
	/* logged the first time and every 100th, so a flood does not flood the log */
	if (++g->srv->shed == 1 || g->srv->shed % 100 == 0)
		pht_node_logf(g->srv, "closing a connection that completed no request in "
		    "%d s (%zu closed so far)", g->srv->cfg.timeout, g->srv->shed);
	bufferevent_trigger_event(g->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

/* SSL ex_data destructor: the connection's SSL object is being freed. */
void
pht_node_conn_guard_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct conn_guard *g = ptr;

	if (g == NULL)
		return;
	TAILQ_REMOVE(&g->srv->guards, g, link);
	if (g->srv->admit != NULL)
		pht_node_admit_close(g->srv->admit);
	if (g->timer != NULL)
		event_free(g->timer);
	free(g);
}

/* Gives a new connection its guard (see struct conn_guard). */
static int
guard_attach(struct pht_node_server *srv, struct event_base *base,
    struct bufferevent *bev, SSL *ssl)
{
	struct conn_guard *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -1;
	g->srv = srv;
	g->bev = bev;
	if (SSL_set_ex_data(ssl, srv->guard_idx, g) != 1) {
		free(g);
		return -1;
	}
	g->over = srv->admit != NULL && !pht_node_admit_open(srv->admit);
	/* from here on pht_node_conn_guard_free owns g (or pht_node_server_free) */
	TAILQ_INSERT_TAIL(&srv->guards, g, link);
	if ((g->timer = event_new(base, -1, EV_PERSIST, guard_tick, g)) == NULL ||
	    event_add(g->timer, srv->guard_tv) != 0)
		return -1;
	return 0;
}

struct bufferevent *
pht_node_conn_new_bev(struct event_base *base, void *arg)
{
	struct pht_node_server *srv = arg;
	struct bufferevent *bev;
	SSL *ssl = SSL_new(srv->ssl);

	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if (guard_attach(srv, base, bev, ssl) != 0) {
		bufferevent_free(bev); /* frees ssl, and the guard if attached */
		return NULL;
	}
	return bev;
}

static int
ssl_fail(struct pht_err *err, const char *what, const char *file)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	ERR_error_string_n(e, buf, sizeof(buf));
	return pht_errf(err, e ? PHT_ERR_CRYPTO : PHT_ERR_IO, "%s %s: %s", what,
	    file, e ? buf : "failed");
}

int
pht_node_tls_setup(struct pht_node_server *srv, struct pht_err *err)
{
	STACK_OF(X509_NAME) *names;
	enum pht_pki_role role;
	char name[PHT_PKI_NAME_MAX + 1];
	X509 *own;
	SSL_CTX *c;
	int r;

	if ((c = srv->ssl = SSL_CTX_new(TLS_server_method())) == NULL)
		return ssl_fail(err, "TLS context", "");
	if (!SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(c, 0))
		return ssl_fail(err, "TLS version", "1.3");
	if (SSL_CTX_use_certificate_chain_file(c, srv->cfg.cert) != 1)
		return ssl_fail(err, "node certificate", srv->cfg.cert);
	if (SSL_CTX_use_PrivateKey_file(c, srv->cfg.key, SSL_FILETYPE_PEM) != 1)
		return ssl_fail(err, "node key", srv->cfg.key);
	if (SSL_CTX_check_private_key(c) != 1)
		return ssl_fail(err, "node key does not match", srv->cfg.cert);
	if (SSL_CTX_load_verify_locations(c, srv->cfg.ca, NULL) != 1)
		return ssl_fail(err, "federation CA", srv->cfg.ca);
	if ((names = SSL_load_client_CA_file(srv->cfg.ca)) == NULL)
		return ssl_fail(err, "federation CA", srv->cfg.ca);
	SSL_CTX_set_client_CA_list(c, names);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(c, 2);
	/* Clients must hold clientAuth certificates. */
	if (SSL_CTX_set_purpose(c, X509_PURPOSE_SSL_CLIENT) != 1)
		return ssl_fail(err, "TLS purpose", "");
	/* No resumption: every connection shows its certificate afresh. */
	SSL_CTX_set_num_tickets(c, 0);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET);

	own = SSL_CTX_get0_certificate(c);
	if ((r = pht_pki_identity(own, &role, name, sizeof(name), err)) != PHT_OK) {
		pht_err_prefix(err, "%s", srv->cfg.cert);
		return PHT_ERR_INVALID;
	}
	if (role != PHT_PKI_NODE)
		return pht_errf(err, PHT_ERR_INVALID, "%s: a %s certificate, not the "
		    "node's", srv->cfg.cert, pht_pki_role_name(role));
	return PHT_OK;
}
