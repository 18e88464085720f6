/* pht_node_server.c — the node's HTTPS API: evhttp over bufferevent_openssl, mTLS identities, long polls. */
#include "pht_node_server.h"
#include "pht_node_admit.h"
#include "pht_node_gov.h"
#include "pht_node_req.h"
#include "pht_node_store.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_pki.h"
#include "pht_time.h"
#include "pht_trust.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define CONFIG_MAX_FILE (64 * 1024)
#define MAX_TARGETS 1000
#define MAX_ROUND 1000000
#define LOG_LINE 600

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

#define CHECKPOINT_S 10
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
struct peer {
	enum pht_pki_role role;
	char name[PHT_PKI_NAME_MAX + 1];
};

static void
logf_(struct pht_node_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
logf_(struct pht_node_server *srv, const char *fmt, ...)
{
	char line[LOG_LINE];
	va_list ap;

	if (srv->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	srv->log(srv->log_arg, line);
}

/* ---- configuration ---- */

void
pht_node_config_free(struct pht_node_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->listen);
	free(cfg->cert);
	free(cfg->key);
	free(cfg->ca);
	free(cfg->database);
	free(cfg->permit_authorities);
	free(cfg);
}

/* A path from the config file, made relative to the file's directory. */
static char *
config_path(const char *cfgdir, const char *p)
{
	if (p[0] == '/' || cfgdir == NULL)
		return strdup(p);
	return pht_path_join(cfgdir, p);
}

static int
config_size(const json_t *obj, const char *name, const char *what,
    int64_t lo, int64_t hi, int64_t *v, struct pht_err *err)
{
	int r;

	if ((r = pht_json_get_int_opt(obj, name, what, v, err)) != PHT_OK)
		return r;
	if (*v < lo || *v > hi)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: field %s: %lld is out "
		    "of range %lld..%lld", what, name, (long long)*v, (long long)lo,
		    (long long)hi);
	return PHT_OK;
}

static int
only_fields(const json_t *obj, const char *const *names, const char *what,
    struct pht_err *err)
{
	const char *k = pht_json_unknown(obj, names);

	if (k == NULL)
		return PHT_OK;
	return pht_errf(err, PHT_ERR_MALFORMED, "%s: unknown field \"%.64s\"", what, k);
}

int
pht_node_config_load(const char *path, struct pht_node_config **out,
    struct pht_err *err)
{
	static const char *const top[] = {"listen", "port", "cert", "key", "ca",
	    "database", "limits", "permit_authorities", NULL};
	static const char *const lim[] = {"max_body", "max_headers", "max_wait",
	    "timeout", "inbox_batch", "results_batch", "max_pending",
	    "max_connections", NULL};
	struct pht_node_config *cfg = NULL;
	struct pht_buf *b = NULL;
	json_t *root = NULL, *limits = NULL;
	const char *s, *slash;
	char *dir = NULL, what[300];
	int64_t v;
	int r;

	*out = NULL;
	if ((r = pht_file_read(path, CONFIG_MAX_FILE, &b, err)) != PHT_OK)
		return r;
	if ((r = pht_json_parse(pht_buf_str(b), pht_buf_len(b), path, &root,
	    err)) != PHT_OK)
		goto out;
	if (!json_is_object(root)) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: not a JSON object", path);
		goto out;
	}
	if ((r = only_fields(root, top, path, err)) != PHT_OK)
		goto out;
	if ((slash = strrchr(path, '/')) != NULL &&
	    (dir = slash == path ? strdup("/") :
	    strndup(path, (size_t)(slash - path))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	cfg->max_body = 4 * 1024 * 1024;
	cfg->max_headers = 16 * 1024;
	cfg->max_wait = 60;
	cfg->timeout = 90;
	cfg->inbox_batch = 16;
	cfg->results_batch = 256;
	cfg->max_pending = 100000;

	s = "127.0.0.1";
	if ((r = pht_json_get_str_opt(root, "listen", path, &s, err)) != PHT_OK)
		goto out;
	if ((cfg->listen = strdup(s)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	v = 8443;
	if ((r = config_size(root, "port", path, 0, 65535, &v, err)) != PHT_OK)
		goto out;
	cfg->port = (int)v;
#define PATH_FIELD(field) do { \
		if ((r = pht_json_get_str(root, #field, path, &s, err)) != PHT_OK) \
			goto out; \
		if (*s == '\0') { \
			r = pht_errf(err, PHT_ERR_MALFORMED, "%s: field " #field \
			    ": empty", path); \
			goto out; \
		} \
		if ((cfg->field = config_path(dir, s)) == NULL) { \
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory"); \
			goto out; \
		} \
	} while (0)
	PATH_FIELD(cert);
	PATH_FIELD(key);
	PATH_FIELD(ca);
	PATH_FIELD(database);
	if (json_object_get(root, "permit_authorities") != NULL)
		PATH_FIELD(permit_authorities);
#undef PATH_FIELD
	if (json_object_get(root, "limits") != NULL) {
		if ((r = pht_json_get_object(root, "limits", path, &limits, err)) != PHT_OK)
			goto out;
		snprintf(what, sizeof(what), "%s: limits", path);
		if ((r = only_fields(limits, lim, what, err)) != PHT_OK)
			goto out;
		v = (int64_t)cfg->max_body;
		if ((r = config_size(limits, "max_body", what, 1024, 256 << 20, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->max_body = (size_t)v;
		v = (int64_t)cfg->max_headers;
		if ((r = config_size(limits, "max_headers", what, 1024, 1 << 20, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->max_headers = (size_t)v;
		v = cfg->max_wait;
		if ((r = config_size(limits, "max_wait", what, 1, 60, &v, err)) != PHT_OK)
			goto out;
		cfg->max_wait = (int)v;
		v = cfg->timeout;
		if ((r = config_size(limits, "timeout", what, 2, 3600, &v, err)) != PHT_OK)
			goto out;
		cfg->timeout = (int)v;
		v = (int64_t)cfg->inbox_batch;
		if ((r = config_size(limits, "inbox_batch", what, 1, 1000, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->inbox_batch = (size_t)v;
		v = (int64_t)cfg->results_batch;
		if ((r = config_size(limits, "results_batch", what, 1, 10000, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->results_batch = (size_t)v;
		v = (int64_t)cfg->max_pending;
		if ((r = config_size(limits, "max_pending", what, 1, 100000000, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->max_pending = (size_t)v;
		v = (int64_t)cfg->max_connections;
		if ((r = config_size(limits, "max_connections", what, 0, 10000000, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->max_connections = (size_t)v;
	}
	if (cfg->timeout <= cfg->max_wait) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: limits: timeout (%d) must "
		    "be longer than max_wait (%d)", path, cfg->timeout, cfg->max_wait);
		goto out;
	}
	*out = cfg;
	cfg = NULL; /* transferred */
	r = PHT_OK;
out:
	pht_node_config_free(cfg);
	json_decref(root);
	pht_buf_free(b);
	free(dir);
	return r;
}

static int
config_copy(struct pht_node_config *dst, const struct pht_node_config *src)
{
	*dst = *src;
	dst->listen = strdup(src->listen != NULL ? src->listen : "127.0.0.1");
	dst->cert = src->cert ? strdup(src->cert) : NULL;
	dst->key = src->key ? strdup(src->key) : NULL;
	dst->ca = src->ca ? strdup(src->ca) : NULL;
	dst->database = src->database ? strdup(src->database) : NULL;
	dst->permit_authorities = src->permit_authorities ?
	    strdup(src->permit_authorities) : NULL;
	if (dst->listen == NULL || dst->cert == NULL || dst->key == NULL ||
	    dst->ca == NULL || dst->database == NULL ||
	    (src->permit_authorities != NULL && dst->permit_authorities == NULL))
		return -1;
	return 0;
}

/* ---- replies ---- */

static void
reply_json(struct evhttp_request *req, int code, const char *reason, json_t *body)
{
	struct evbuffer *eb = evbuffer_new();
	char *text = body != NULL ? pht_json_dump(body) : NULL;

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	if (eb != NULL && text != NULL) {
		evbuffer_add(eb, text, strlen(text));
		evbuffer_add(eb, "\n", 1);
	} else if (eb != NULL) {
		/* Out of memory while building the reply. */
		code = 500;
		reason = "Internal Server Error";
		evbuffer_add_printf(eb, "{\"error\":\"out of memory\"}\n");
	}
	evhttp_send_reply(req, code, reason, eb);
	evbuffer_free(eb);
	free(text);
}

static const char *
reason_for(int code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void
reply_error(struct pht_node_server *srv, struct evhttp_request *req, int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
reply_error(struct pht_node_server *srv, struct evhttp_request *req, int code,
    const char *fmt, ...)
{
	char msg[PHT_ERR_DETAIL_MAX];
	json_t *j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	logf_(srv, "%s %s -> %d %s",
	    evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET",
	    evhttp_request_get_uri(req), code, msg);
	j = json_pack("{s:s}", "error", msg);
	reply_json(req, code, reason_for(code), j);
	json_decref(j);
}

/*
 * 503 with Retry-After (seconds) and the connection closed after the
 * reply: for a node that cannot take the request now but will.
 */
static void
reply_busy(struct pht_node_server *srv, struct evhttp_request *req, int retry,
    const char *msg, int quiet)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char secs[16];
	json_t *j;

	snprintf(secs, sizeof(secs), "%d", retry);
	evhttp_add_header(h, "Retry-After", secs);
	evhttp_add_header(h, "Connection", "close");
	if (!quiet)
		logf_(srv, "%s %s -> 503 %s",
		    evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET",
		    evhttp_request_get_uri(req), msg);
	j = json_pack("{s:s, s:i}", "error", msg, "retry_after", retry);
	reply_json(req, 503, reason_for(503), j);
	json_decref(j);
}

/* Maps a store/library error to its HTTP status and replies. */
static void
reply_err(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_err *e)
{
	int code;

	switch (e->code) {
	case PHT_ERR_MALFORMED:
	case PHT_ERR_INVALID: code = 400; break;
	case PHT_ERR_DENIED: code = 403; break;
	case PHT_ERR_NOT_FOUND: code = 404; break;
	case PHT_ERR_REPLAY: code = 409; break;
	case PHT_ERR_TOO_LARGE: code = 413; break;
	case PHT_ERR_POLICY: code = 429; break;
	case PHT_ERR_NOSPACE:
		/* said once per episode; the store clears by itself (checkpoint_tick) */
		if (!srv->full_said)
			logf_(srv, "store: %s: answering 503 to writes until space "
			    "returns", pht_err_msg(e));
		srv->full_said = 1;
		(void)pht_node_store_checkpoint(srv->store, NULL);
		reply_busy(srv, req, FULL_RETRY_S, "the node cannot write to its store "
		    "(disk full): retry later", 1);
		return;
	default:
		logf_(srv, "internal error: %s", pht_err_msg(e));
		reply_error(srv, req, 500, "internal error");
		return;
	}
	reply_error(srv, req, code, "%s", pht_err_msg(e));
}

/* ---- helpers ---- */

static json_t *
time_json(int64_t t)
{
	char buf[21];

	if (t <= 0)
		return json_null();
	pht_time_format(t, buf);
	return json_string(buf);
}

/* Parses the request body as one JSON value (pht_node_req_body). */
static int
body_json(struct evhttp_request *req, json_t **out, struct pht_err *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	const char *p = "";

	*out = NULL;
	if (n > 0 && (p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	return pht_node_req_body(p, n, out, err);
}

/* The request's query through pht_node_req_query_ints. */
static int
query_ints(struct evhttp_request *req, const char *const *names,
    const int64_t *lo, const int64_t *hi, int64_t *vals, struct pht_err *err)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);

	return pht_node_req_query_ints(u != NULL ? evhttp_uri_get_query(u) : NULL,
	    names, lo, hi, vals, err);
}

/* ---- long polls ---- */

static void waiter_free(struct waiter *w);

/* The list for (kind, key): FNV-1a over both. */
static struct waiter_list *
bucket_of(struct pht_node_server *srv, enum wait_kind kind, const char *key)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;

	h = (h ^ (uint32_t)kind) * 16777619u;
	for (p = (const unsigned char *)key; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return &srv->waiters[h % WAIT_BUCKETS];
}

static void
waiter_closed(struct evhttp_connection *conn, void *arg)
{
	struct waiter *w = arg;

	/*
	 * The client went away while parked. If evhttp detached the request
	 * from the connection it is ours to free; if not, the connection frees
	 * it right after this callback.
	 */
	logf_(w->srv, "%s %s: the poller went away", w->kind == WAIT_INBOX ?
	    "inbox" : "results of", w->key);
	if (w->req != NULL && evhttp_request_get_connection(w->req) == NULL)
		evhttp_request_free(w->req);
	w->req = NULL;
	w->conn = NULL;
	waiter_free(w);
}

static void
waiter_free(struct waiter *w)
{
	if (w == NULL)
		return;
	TAILQ_REMOVE(w->bucket, w, link);
	if (w->conn != NULL)
		evhttp_connection_set_closecb(w->conn, NULL, NULL);
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
}

static int answer_inbox(struct pht_node_server *srv, struct evhttp_request *req,
    const char *station, int final);
static int answer_results(struct pht_node_server *srv, struct evhttp_request *req,
    const char *train, int64_t after, int final);

/* Answers a parked poll (final: even if there is nothing) and frees it. */
static void
waiter_answer(struct waiter *w, int final)
{
	struct evhttp_request *req = w->req;
	int answered;

	/*
	 * Sending a reply can fail at once and make libevent free the
	 * connection inside the call: the close callback must not point at
	 * this waiter then.
	 */
	if (w->conn != NULL)
		evhttp_connection_set_closecb(w->conn, NULL, NULL);
	if (w->kind == WAIT_INBOX)
		answered = answer_inbox(w->srv, req, w->key, final);
	else
		answered = answer_results(w->srv, req, w->key, w->after, final);
	if (answered) {
		w->req = NULL;
		w->conn = NULL; /* may be gone already; the reply owns it now */
		waiter_free(w);
	} else if (w->conn != NULL) {
		evhttp_connection_set_closecb(w->conn, waiter_closed, w);
	}
}

static void
waiter_timeout(evutil_socket_t fd, short what, void *arg)
{
	waiter_answer(arg, 1);
}

static int
park(struct pht_node_server *srv, struct evhttp_request *req,
    enum wait_kind kind, const char *key, int64_t after, int64_t wait_s)
{
	struct waiter *w;
	struct timeval tv = {(time_t)wait_s, 0};

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->srv = srv;
	w->req = req;
	w->conn = evhttp_request_get_connection(req);
	w->kind = kind;
	w->after = after;
	snprintf(w->key, sizeof(w->key), "%s", key);
	if ((w->timer = evtimer_new(srv->base, waiter_timeout, w)) == NULL ||
	    evtimer_add(w->timer, &tv) != 0) {
		if (w->timer != NULL)
			event_free(w->timer);
		free(w);
		return -1;
	}
	w->bucket = bucket_of(srv, kind, key);
	TAILQ_INSERT_TAIL(w->bucket, w, link);
	if (w->conn != NULL)
		evhttp_connection_set_closecb(w->conn, waiter_closed, w);
	logf_(srv, "%s %s: waiting up to %lld s", kind == WAIT_INBOX ? "inbox" :
	    "results of", key, (long long)wait_s);
	return 0;
}

/* Wakes the polls parked on key (a station's inbox or a train's results). */
static void
wake(struct pht_node_server *srv, enum wait_kind kind, const char *key)
{
	struct waiter *w, *next;

	for (w = TAILQ_FIRST(bucket_of(srv, kind, key)); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		if (w->kind == kind && strcmp(w->key, key) == 0)
			waiter_answer(w, 0);
	}
}

/* ---- handlers ---- */

static const char *
state_name(enum pht_node_state s)
{
	switch (s) {
	case PHT_NODE_QUEUED: return "queued";
	case PHT_NODE_DELIVERED: return "delivered";
	case PHT_NODE_ACKED: return "acked";
	}
	return "?";
}

/*
 * Replies with station's pending trains if there are some or final is
 * set. Returns 1 if it replied, 0 if there was nothing (not final).
 */
static int
answer_inbox(struct pht_node_server *srv, struct evhttp_request *req,
    const char *station, int final)
{
	struct pht_node_msg *m = NULL;
	struct pht_err e;
	json_t *body = NULL, *arr;
	size_t n = 0, i;
	int ok = 0;

	pht_err_clear(&e);
	if (pht_node_store_inbox(srv->store, station, srv->cfg.inbox_batch,
	    pht_time_now(), &m, &n, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		return 1;
	}
	if (n == 0 && !final)
		return 0;
	if ((arr = json_array()) == NULL ||
	    (body = json_pack("{s:o}", "trains", arr)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *t = json_pack("{s:s, s:I, s:s, s:s%, s:s, s:o}",
		    "train", m[i].train, "round", (json_int_t)m[i].round,
		    "analyst", m[i].analyst, "envelope", m[i].envelope, m[i].len,
		    "state", state_name(m[i].state), "posted", time_json(m[i].created));
		if (t == NULL || json_array_append_new(arr, t) != 0)
			goto out;
	}
	if (n > 0)
		logf_(srv, "inbox %s: %zu train(s) handed out", station, n);
	ok = 1;
out:
	if (!ok) {
		json_decref(body);
		body = NULL; /* reply_json answers 500 */
	}
	reply_json(req, 200, "OK", body);
	json_decref(body);
	pht_node_msgs_free(m, n);
	return 1;
}

static int
answer_results(struct pht_node_server *srv, struct evhttp_request *req,
    const char *train, int64_t after, int final)
{
	struct pht_node_result *res = NULL;
	struct pht_node_delivery *d = NULL;
	struct pht_err e;
	json_t *body = NULL, *arr = NULL, *darr = NULL;
	size_t n = 0, nd = 0, i;
	int64_t next = after;

	pht_err_clear(&e);
	if (pht_node_store_results(srv->store, train, after, srv->cfg.results_batch,
	    &res, &n, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		return 1;
	}
	if (n == 0 && !final)
		return 0;
	if (pht_node_store_deliveries(srv->store, train, &d, &nd, &e) != PHT_OK) {
		pht_node_results_free(res, n);
		reply_err(srv, req, &e);
		return 1;
	}
	if ((arr = json_array()) == NULL || (darr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *val = json_loadb(res[i].body, res[i].len,
		    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
		json_t *t = json_pack("{s:I, s:s, s:I, s:o, s:{s:I, s:s}, s:o}",
		    "seq", (json_int_t)res[i].seq, "station", res[i].station,
		    "round", (json_int_t)res[i].round,
		    "result", val != NULL ? val : json_null(),
		    "log_head", "seq", (json_int_t)res[i].log_seq, "hash",
		    res[i].log_hash, "received", time_json(res[i].received));
		if (t == NULL || json_array_append_new(arr, t) != 0)
			goto out;
		next = res[i].seq;
	}
	for (i = 0; i < nd; i++) {
		json_t *t = json_pack("{s:s, s:I, s:s, s:b}", "station", d[i].station,
		    "round", (json_int_t)d[i].round, "state", state_name(d[i].state),
		    "result", d[i].has_result);
		if (t == NULL || json_array_append_new(darr, t) != 0)
			goto out;
	}
	body = json_pack("{s:s, s:O, s:I, s:O}", "train", train, "results", arr,
	    "next", (json_int_t)next, "deliveries", darr);
out:
	reply_json(req, 200, "OK", body);
	json_decref(body);
	json_decref(arr);
	json_decref(darr);
	pht_node_results_free(res, n);
	free(d);
	return 1;
}

/* POST /v1/trains (analysts) */
static void
h_post_train(struct pht_node_server *srv, struct evhttp_request *req,
    const struct peer *p)
{
	static const char *const fields[] = {"train", "round", "stations",
	    "envelope", NULL};
	const char *targets[MAX_TARGETS];
	const char *train, *env;
	json_t *body = NULL, *stations, *envj = NULL, *v, *rep;
	struct pht_err e;
	int64_t round;
	size_t i, j, n;
	int created;

	pht_err_clear(&e);
	if (p->role != PHT_PKI_ANALYST) {
		reply_error(srv, req, 403, "only analysts may post trains "
		    "(you are a %s)", pht_pki_role_name(p->role));
		return;
	}
	if (body_json(req, &body, &e) != PHT_OK ||
	    !json_is_object(body) ||
	    only_fields(body, fields, "request body", &e) != PHT_OK ||
	    pht_json_get_str(body, "train", "request body", &train, &e) != PHT_OK ||
	    pht_json_get_int(body, "round", "request body", &round, &e) != PHT_OK ||
	    pht_json_get_array(body, "stations", "request body", &stations, &e) != PHT_OK ||
	    pht_json_get_str(body, "envelope", "request body", &env, &e) != PHT_OK) {
		if (e.code == PHT_OK)
			pht_errf(&e, PHT_ERR_MALFORMED, "request body: not a JSON object");
		reply_err(srv, req, &e);
		goto out;
	}
	if (!pht_id_ok(train)) {
		reply_error(srv, req, 400, "request body: field train: must be 1..%d "
		    "characters of [A-Za-z0-9_.-]", PHT_NODE_ID_MAX);
		goto out;
	}
	if (round < 0 || round > MAX_ROUND) {
		reply_error(srv, req, 400, "request body: field round: must be "
		    "0..%d", MAX_ROUND);
		goto out;
	}
	n = json_array_size(stations);
	if (n < 1 || n > MAX_TARGETS) {
		reply_error(srv, req, 400, "request body: field stations: must list "
		    "1..%d stations", MAX_TARGETS);
		goto out;
	}
	json_array_foreach(stations, i, v) {
		if (!json_is_string(v) || !pht_pki_name_ok(json_string_value(v))) {
			reply_error(srv, req, 400, "request body: stations[%zu]: not a "
			    "station name", i);
			goto out;
		}
		targets[i] = json_string_value(v);
		for (j = 0; j < i; j++)
			if (strcmp(targets[j], targets[i]) == 0) {
				reply_error(srv, req, 400, "request body: stations[%zu]: "
				    "\"%s\" listed twice", i, targets[i]);
				goto out;
			}
	}
	/* The node cannot check the signature's meaning; it checks form. */
	if (pht_json_parse(env, json_string_length(json_object_get(body,
	    "envelope")), "envelope", &envj, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		goto out;
	}
	if (!json_is_object(envj)) {
		reply_error(srv, req, 400, "envelope: not a JSON object");
		goto out;
	}
	if (pht_node_store_post_train(srv->store, train, round, p->name, env,
	    json_string_length(json_object_get(body, "envelope")), targets, n,
	    pht_time_now(), &created, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		goto out;
	}
	logf_(srv, "train %s round %lld from analyst %s to %zu station(s)%s",
	    train, (long long)round, p->name, n, created ? "" : " (again)");
	rep = json_pack("{s:s, s:I, s:I, s:b}", "train", train, "round",
	    (json_int_t)round, "stations", (json_int_t)n, "created", created);
	reply_json(req, created ? 201 : 200, created ? "Created" : "OK", rep);
	json_decref(rep);
	for (i = 0; i < n; i++)
		wake(srv, WAIT_INBOX, targets[i]);
out:
	json_decref(envj);
	json_decref(body);
}

/* GET /v1/trains/<id>/results (the analyst who posted the train) */
static void
h_get_results(struct pht_node_server *srv, struct evhttp_request *req,
    const struct peer *p, const char *train)
{
	static const char *const names[] = {"wait", "after", NULL};
	int64_t lo[] = {0, 0}, hi[] = {srv->cfg.max_wait, INT64_MAX};
	int64_t vals[] = {0, 0};
	char owner[PHT_NODE_NAME_MAX + 1];
	struct pht_err e;

	pht_err_clear(&e);
	if (p->role != PHT_PKI_ANALYST) {
		reply_error(srv, req, 403, "only analysts may read results (you are "
		    "a %s)", pht_pki_role_name(p->role));
		return;
	}
	if (query_ints(req, names, lo, hi, vals, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		return;
	}
	if (pht_node_store_train_owner(srv->store, train, owner, sizeof(owner),
	    &e) != PHT_OK) {
		reply_err(srv, req, &e);
		return;
	}
	if (strcmp(owner, p->name) != 0) {
		reply_error(srv, req, 403, "train %s belongs to another analyst", train);
		return;
	}
	if (answer_results(srv, req, train, vals[1], vals[0] == 0))
		return;
	if (park(srv, req, WAIT_RESULTS, train, vals[1], vals[0]) != 0)
		reply_error(srv, req, 500, "out of memory");
}

/* POST /v1/trains/<id>/results (stations) */
static void
h_post_result(struct pht_node_server *srv, struct evhttp_request *req,
    const struct peer *p, const char *train)
{
	static const char *const fields[] = {"round", "result", "log_head", NULL};
	static const char *const hfields[] = {"seq", "hash", NULL};
	json_t *body = NULL, *head, *result, *rep;
	const char *hash;
	char *text = NULL;
	struct pht_err e;
	int64_t round, seq;
	int created;

	pht_err_clear(&e);
	if (p->role != PHT_PKI_STATION) {
		reply_error(srv, req, 403, "only stations may post results (you are "
		    "a %s)", pht_pki_role_name(p->role));
		return;
	}
	if (body_json(req, &body, &e) != PHT_OK || !json_is_object(body) ||
	    only_fields(body, fields, "request body", &e) != PHT_OK ||
	    pht_json_get_int(body, "round", "request body", &round, &e) != PHT_OK ||
	    pht_json_get_object(body, "log_head", "request body", &head, &e) != PHT_OK ||
	    only_fields(head, hfields, "request body: log_head", &e) != PHT_OK ||
	    pht_json_get_int(head, "seq", "request body: log_head", &seq, &e) != PHT_OK ||
	    pht_json_get_str(head, "hash", "request body: log_head", &hash, &e) != PHT_OK) {
		if (e.code == PHT_OK)
			pht_errf(&e, PHT_ERR_MALFORMED, "request body: not a JSON object");
		reply_err(srv, req, &e);
		goto out;
	}
	if ((result = json_object_get(body, "result")) == NULL) {
		reply_error(srv, req, 400, "request body: field result: missing");
		goto out;
	}
	if (!json_is_object(result) && !json_is_string(result)) {
		reply_error(srv, req, 400, "request body: field result: not an "
		    "object or a string");
		goto out;
	}
	if (round < 0 || round > MAX_ROUND || seq < 0 ||
	    !pht_node_req_hash_ok(hash)) {
		reply_error(srv, req, 400, "request body: round must be 0..%d, "
		    "log_head.seq >= 0, log_head.hash 1..%d characters of "
		    "[A-Za-z0-9+/=_:.-]", MAX_ROUND, PHT_NODE_HASH_MAX);
		goto out;
	}
	if ((text = json_dumps(result, JSON_ENCODE_ANY | JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL) {
		reply_error(srv, req, 500, "out of memory");
		goto out;
	}
	if (pht_node_store_post_result(srv->store, train, p->name, round, text,
	    strlen(text), seq, hash, pht_time_now(), &created, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		goto out;
	}
	logf_(srv, "result for train %s round %lld from station %s%s", train,
	    (long long)round, p->name, created ? "" : " (again)");
	rep = json_pack("{s:s, s:I, s:b}", "train", train, "round",
	    (json_int_t)round, "stored", created);
	reply_json(req, created ? 201 : 200, created ? "Created" : "OK", rep);
	json_decref(rep);
	if (created)
		wake(srv, WAIT_RESULTS, train);
out:
	free(text);
	json_decref(body);
}

/* GET /v1/inbox (stations, their own inbox only) */
static void
h_get_inbox(struct pht_node_server *srv, struct evhttp_request *req,
    const struct peer *p)
{
	static const char *const names[] = {"wait", NULL};
	int64_t lo[] = {0}, hi[] = {srv->cfg.max_wait}, vals[] = {0};
	struct pht_err e;

	pht_err_clear(&e);
	if (p->role != PHT_PKI_STATION) {
		reply_error(srv, req, 403, "only stations have an inbox (you are "
		    "a %s)", pht_pki_role_name(p->role));
		return;
	}
	if (query_ints(req, names, lo, hi, vals, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		return;
	}
	if (pht_node_store_station_seen(srv->store, p->name, pht_time_now(),
	    &e) != PHT_OK) {
		reply_err(srv, req, &e);
		return;
	}
	if (answer_inbox(srv, req, p->name, vals[0] == 0))
		return;
	if (park(srv, req, WAIT_INBOX, p->name, 0, vals[0]) != 0)
		reply_error(srv, req, 500, "out of memory");
}

/* POST /v1/inbox/<id>/ack (stations) */
static void
h_ack(struct pht_node_server *srv, struct evhttp_request *req,
    const struct peer *p, const char *train)
{
	static const char *const fields[] = {"round", NULL};
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	json_t *body = NULL, *rep;
	struct pht_err e;
	int64_t round = -1;
	size_t nacked;

	pht_err_clear(&e);
	if (p->role != PHT_PKI_STATION) {
		reply_error(srv, req, 403, "only stations may ack (you are a %s)",
		    pht_pki_role_name(p->role));
		return;
	}
	if (evbuffer_get_length(in) > 0) {
		if (body_json(req, &body, &e) != PHT_OK || !json_is_object(body) ||
		    only_fields(body, fields, "request body", &e) != PHT_OK ||
		    pht_json_get_int_opt(body, "round", "request body", &round,
		    &e) != PHT_OK) {
			if (e.code == PHT_OK)
				pht_errf(&e, PHT_ERR_MALFORMED, "request body: not a JSON "
				    "object");
			reply_err(srv, req, &e);
			goto out;
		}
		if (json_object_get(body, "round") != NULL &&
		    (round < 0 || round > MAX_ROUND)) {
			reply_error(srv, req, 400, "request body: field round: must be "
			    "0..%d", MAX_ROUND);
			goto out;
		}
	}
	if (pht_node_store_ack(srv->store, p->name, train, round, pht_time_now(),
	    &nacked, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		goto out;
	}
	rep = json_pack("{s:s, s:I}", "train", train, "acked", (json_int_t)nacked);
	reply_json(req, 200, "OK", rep);
	json_decref(rep);
out:
	json_decref(body);
}

/* POST /v1/stations/self (stations publish their dictionaries) */
static void
h_publish(struct pht_node_server *srv, struct evhttp_request *req,
    const struct peer *p)
{
	static const char *const fields[] = {"dictionaries", "catalog", NULL};
	json_t *body = NULL, *d, *rep, *cat;
	struct pht_err e;
	char *text = NULL;

	pht_err_clear(&e);
	if (p->role != PHT_PKI_STATION) {
		reply_error(srv, req, 403, "only stations publish dictionaries (you "
		    "are a %s)", pht_pki_role_name(p->role));
		return;
	}
	if (body_json(req, &body, &e) != PHT_OK || !json_is_object(body) ||
	    only_fields(body, fields, "request body", &e) != PHT_OK) {
		if (e.code == PHT_OK)
			pht_errf(&e, PHT_ERR_MALFORMED, "request body: not a JSON object");
		reply_err(srv, req, &e);
		goto out;
	}
	d = json_object_get(body, "dictionaries");
	if (d == NULL || (!json_is_object(d) && !json_is_array(d))) {
		reply_error(srv, req, 400, "request body: field dictionaries: "
		    "missing or not an object or array");
		goto out;
	}
	if ((cat = json_object_get(body, "catalog")) != NULL && !json_is_object(cat)) {
		reply_error(srv, req, 400, "request body: field catalog: not an object");
		goto out;
	}
	if ((text = pht_json_dump(d)) == NULL) {
		reply_error(srv, req, 500, "out of memory");
		goto out;
	}
	if (pht_node_store_station_publish(srv->store, p->name, text, strlen(text),
	    pht_time_now(), &e) != PHT_OK) {
		reply_err(srv, req, &e);
		goto out;
	}
	/* the station's catalogue entry (docs/catalog.md), kept per station */
	if (cat != NULL) {
		free(text);
		if ((text = pht_json_dump(cat)) == NULL) {
			reply_error(srv, req, 500, "out of memory");
			goto out;
		}
		if (pht_node_store_gov_put(srv->store, "catalog", p->name,
		    PHT_NODE_GOV_LATEST, text, strlen(text), pht_time_now(), NULL,
		    &e) != PHT_OK) {
			reply_err(srv, req, &e);
			goto out;
		}
	}
	logf_(srv, "station %s published its dictionaries%s", p->name,
	    cat != NULL ? " and its catalogue" : "");
	rep = json_pack("{s:s}", "station", p->name);
	reply_json(req, 200, "OK", rep);
	json_decref(rep);
out:
	free(text);
	json_decref(body);
}

/*
 * GET /v1/catalog (everyone): the federation's catalogue, a dcat:Catalog
 * whose dcat:catalog lists each station's published entry (docs/catalog.md).
 */
static void
h_catalog(struct pht_node_server *srv, struct evhttp_request *req)
{
	struct pht_err e;
	json_t *arr = NULL, *body = NULL, *one, *ctx = NULL;
	char **docs = NULL;
	size_t n = 0, i;

	pht_err_clear(&e);
	if (pht_node_store_gov_list(srv->store, "catalog", &docs, &n, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		return;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((one = json_loads(docs[i], JSON_REJECT_DUPLICATES, NULL)) == NULL)
			continue;
		if (ctx == NULL && json_object_get(one, "@context") != NULL)
			ctx = json_incref(json_object_get(one, "@context"));
		json_object_del(one, "@context");
		if (json_array_append_new(arr, one) != 0)
			goto out;
	}
	body = json_pack("{s:o, s:s, s:s, s:s, s:O}", "@context", ctx != NULL ?
	    json_incref(ctx) : json_pack("{s:s, s:s}", "dcat", "http://www.w3.org/ns/dcat#",
	    "dct", "http://purl.org/dc/terms/"), "@id", "urn:pht:federation", "@type",
	    "dcat:Catalog", "dct:title", "Catalogue of the PHT federation",
	    "dcat:catalog", arr);
out:
	if (body == NULL)
		reply_error(srv, req, 500, "out of memory");
	else
		reply_json(req, 200, "OK", body);
	json_decref(ctx);
	json_decref(arr);
	json_decref(body);
	pht_node_store_gov_free(docs, n);
}

/* GET /v1/stations (everyone) */
static void
h_stations(struct pht_node_server *srv, struct evhttp_request *req,
    const struct peer *p)
{
	struct pht_node_station *s = NULL;
	struct pht_err e;
	json_t *arr = NULL, *body = NULL;
	size_t n = 0, i;

	pht_err_clear(&e);
	if (p->role == PHT_PKI_STATION &&
	    pht_node_store_station_seen(srv->store, p->name, pht_time_now(),
	    &e) != PHT_OK) {
		reply_err(srv, req, &e);
		return;
	}
	if (pht_node_store_stations(srv->store, &s, &n, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		return;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *d = s[i].dictionaries != NULL ? json_loads(s[i].dictionaries,
		    JSON_REJECT_DUPLICATES, NULL) : NULL;
		json_t *head = s[i].log_seq >= 0 ? json_pack("{s:I, s:s}", "seq",
		    (json_int_t)s[i].log_seq, "hash", s[i].log_hash) : json_null();
		json_t *t = json_pack("{s:s, s:o, s:o, s:o}", "id", s[i].id,
		    "dictionaries", d != NULL ? d : json_null(),
		    "last_seen", time_json(s[i].last_seen),
		    "log_head", head != NULL ? head : json_null());
		if (t == NULL || json_array_append_new(arr, t) != 0)
			goto out;
	}
	body = json_pack("{s:O}", "stations", arr);
out:
	reply_json(req, 200, "OK", body);
	json_decref(arr);
	json_decref(body);
	pht_node_stations_free(s, n);
}

/* ---- governance: revocation lists and halt orders ---- */

/*
 * POST /v1/revocations, /v1/halts {"envelope": TEXT}. Any authenticated
 * client may post (an authority holds whatever certificate its federation
 * gives it); the node keeps only documents signed by a permit authority of
 * NODE.json, and per authority (and scope) only the newest.
 */
static void
h_gov_post(struct pht_node_server *srv, struct evhttp_request *req,
    const struct peer *p, enum pht_node_gov_kind kind)
{
	static const char *const fields[] = {"envelope", NULL};
	json_t *body = NULL, *rep;
	const char *env;
	char key[PHT_NODE_GOV_KEY_MAX];
	struct pht_err e;
	int64_t rank;
	int created = 0, r;

	pht_err_clear(&e);
	if (body_json(req, &body, &e) != PHT_OK || !json_is_object(body) ||
	    only_fields(body, fields, "request body", &e) != PHT_OK) {
		if (e.code == PHT_OK)
			pht_errf(&e, PHT_ERR_MALFORMED, "request body: not a JSON object");
		reply_err(srv, req, &e);
		goto out;
	}
	if ((env = json_string_value(json_object_get(body, "envelope"))) == NULL) {
		reply_error(srv, req, 400, "request body: field envelope: missing or "
		    "not a string");
		goto out;
	}
	r = pht_node_gov_check(srv->authorities, kind, env, strlen(env), key, &rank, &e);
	if (r == PHT_ERR_UNKNOWN_SIGNER || r == PHT_ERR_BAD_SIGNATURE) {
		reply_error(srv, req, 403, "%s", pht_err_msg(&e));
		goto out;
	}
	if (r != PHT_OK || pht_node_store_gov_put(srv->store,
	    pht_node_gov_kind_name(kind), key, rank, env, strlen(env), pht_time_now(),
	    &created, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		goto out;
	}
	logf_(srv, "%s %s posted by %s %s (%s)", pht_node_gov_kind_name(kind), key,
	    pht_pki_role_name(p->role), p->name, created ? "stored" : "already stored");
	rep = json_pack("{s:s, s:b}", "kind", pht_node_gov_kind_name(kind), "stored",
	    created);
	reply_json(req, 200, "OK", rep);
	json_decref(rep);
out:
	json_decref(body);
}

/* GET /v1/revocations, /v1/halts (everyone): {"revocations"|"halts": [TEXT...]} */
static void
h_gov_get(struct pht_node_server *srv, struct evhttp_request *req,
    enum pht_node_gov_kind kind)
{
	struct pht_err e;
	json_t *arr = NULL, *body = NULL;
	char **docs = NULL;
	size_t n = 0, i;

	pht_err_clear(&e);
	if (pht_node_store_gov_list(srv->store, pht_node_gov_kind_name(kind), &docs,
	    &n, &e) != PHT_OK) {
		reply_err(srv, req, &e);
		return;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, json_string(docs[i])) != 0)
			goto out;
	body = json_pack("{s:O}", pht_node_gov_kind_name(kind), arr);
out:
	if (body == NULL)
		reply_error(srv, req, 500, "out of memory");
	else
		reply_json(req, 200, "OK", body);
	json_decref(arr);
	json_decref(body);
	pht_node_store_gov_free(docs, n);
}

/* ---- routing ---- */

static int
peer_of(struct evhttp_request *req, struct peer *p, struct pht_err *err)
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
static int
nodelay(evutil_socket_t fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * Counts a completed request on its connection's guard. On a connection's
 * first request also makes sure it has TCP_NODELAY (set on the listener in
 * pht_node_server_new; not every system hands it on to accepted sockets).
 */
static struct conn_guard *
guard_count(struct pht_node_server *srv, struct evhttp_request *req)
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
		(void)nodelay(bufferevent_getfd(bev));
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
		logf_(g->srv, "closing a connection that completed no request in "
		    "%d s (%zu closed so far)", g->srv->cfg.timeout, g->srv->shed);
	bufferevent_trigger_event(g->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

/* SSL ex_data destructor: the connection's SSL object is being freed. */
static void
guard_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
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
	struct peer p;
	size_t n;

	pht_err_clear(&e);
	g = guard_count(srv, req);
	if (peer_of(req, &p, &e) != PHT_OK) {
		reply_error(srv, req, 403, "%s", pht_err_msg(&e));
		return;
	}
	/* past the cap only analysts are served, from the reserve */
	if (g != NULL && g->over && (p.role != PHT_PKI_ANALYST ||
	    !pht_node_admit_reserve_ok(srv->admit))) {
		n = pht_node_admit_refused(srv->admit);
		if (n == 1 || n % 100 == 0)
			logf_(srv, "refusing connections past limits.max_connections: "
			    "%zu open (%zu refused so far)",
			    pht_node_admit_count(srv->admit), n);
		reply_busy(srv, req, 5, "the node is at its connection limit "
		    "(limits.max_connections): retry later", 1);
		return;
	}
	if (p.role == PHT_PKI_NODE) {
		reply_error(srv, req, 403, "the node certificate is not a client");
		return;
	}
	switch (pht_node_req_route(path, cmd == EVHTTP_REQ_GET,
	    cmd == EVHTTP_REQ_POST, seg)) {
	case PHT_NODE_ROUTE_POST_TRAIN:  h_post_train(srv, req, &p); return;
	case PHT_NODE_ROUTE_GET_RESULTS: h_get_results(srv, req, &p, seg[1]); return;
	case PHT_NODE_ROUTE_POST_RESULT: h_post_result(srv, req, &p, seg[1]); return;
	case PHT_NODE_ROUTE_GET_INBOX:   h_get_inbox(srv, req, &p); return;
	case PHT_NODE_ROUTE_ACK:         h_ack(srv, req, &p, seg[1]); return;
	case PHT_NODE_ROUTE_PUBLISH:     h_publish(srv, req, &p); return;
	case PHT_NODE_ROUTE_STATIONS:    h_stations(srv, req, &p); return;
	case PHT_NODE_ROUTE_CATALOG:     h_catalog(srv, req); return;
	case PHT_NODE_ROUTE_GET_REVOCATIONS:
		h_gov_get(srv, req, PHT_NODE_GOV_REVOCATIONS);
		return;
	case PHT_NODE_ROUTE_POST_REVOCATIONS:
		h_gov_post(srv, req, &p, PHT_NODE_GOV_REVOCATIONS);
		return;
	case PHT_NODE_ROUTE_GET_HALTS:
		h_gov_get(srv, req, PHT_NODE_GOV_HALTS);
		return;
	case PHT_NODE_ROUTE_POST_HALTS:
		h_gov_post(srv, req, &p, PHT_NODE_GOV_HALTS);
		return;
	case PHT_NODE_ROUTE_BAD_METHOD:
		reply_error(srv, req, 405, "method not allowed on %.200s", path);
		return;
	case PHT_NODE_ROUTE_NOT_FOUND:
		break;
	}
	reply_error(srv, req, 404, "no such route: %.200s",
	    path != NULL ? path : "(none)");
}

/* ---- setup ---- */

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
	/* from here on guard_free owns g (or pht_node_server_free) */
	TAILQ_INSERT_TAIL(&srv->guards, g, link);
	if ((g->timer = event_new(base, -1, EV_PERSIST, guard_tick, g)) == NULL ||
	    event_add(g->timer, srv->guard_tv) != 0)
		return -1;
	return 0;
}

static struct bufferevent *
new_bev(struct event_base *base, void *arg)
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

static int
tls_setup(struct pht_node_server *srv, struct pht_err *err)
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

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct pht_node_server *srv = arg;

	logf_(srv, "signal %d: shutting down", (int)sig);
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
		logf_(srv, "store: writing again");
	}
}

/* SIGHUP (a closed terminal, a reload by habit): logged and ignored. */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct pht_node_server *srv = arg;

	(void)what;
	logf_(srv, "signal %d (SIGHUP): ignored (the node logs to stderr; nothing to "
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
	if (config_copy(&srv->cfg, cfg) != 0) {
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
	if ((r = tls_setup(srv, err)) != PHT_OK)
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

		srv->guard_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, guard_free);
		if (srv->guard_idx < 0 || (srv->guard_tv =
		    event_base_init_common_timeout(srv->base, &tv)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "cannot set up connection "
			    "deadlines");
			goto out;
		}
	}
	evhttp_set_bevcb(srv->http, new_bev, srv);
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
	 * guard_count sets it again on each connection where they do not.
	 */
	if (nodelay(evhttp_bound_socket_get_fd(bound)) != 0) {
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
		logf_(srv, "limits.max_connections %zu is more than the descriptor "
		    "limit allows: %zu (RLIMIT_NOFILE less a reserve of %d)",
		    srv->cfg.max_connections, cap, PHT_NODE_ADMIT_RESERVE);
	else
		logf_(srv, "serving at most %zu connections at once (stations past "
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
	logf_(srv, "listening on %s port %d (TLS 1.3, client certificates "
	    "required)", srv->cfg.listen, srv->port);
	if (event_base_dispatch(srv->base) < 0)
		return pht_errf(err, PHT_ERR_INTERNAL, "event loop failed");
	logf_(srv, "stopped");
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
			waiter_free(w);
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
	 * SSL object, which calls guard_free) in a deferred finalizer, and
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
