/* pht_node_reply.c — the node's log line and HTTP replies (JSON bodies, errors mapped to statuses, 503 with Retry-After), and reading a request's body and query. */
#include "pht_node_srv.h"
#include "pht_node_req.h"
#include "pht_err.h"
#include "pht_pki.h"
#include "pht_json.h"
#include "pht_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define LOG_LINE 600

/* One line of the node's log through srv->log, cut at LOG_LINE bytes. */
void
pht_node_logf(struct pht_node_server *srv, const char *fmt, ...)
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

void
pht_node_reply_json(struct evhttp_request *req, int code, const char *reason, json_t *body)
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

void
pht_node_reply_error(struct pht_node_server *srv, struct evhttp_request *req, int code,
    const char *fmt, ...)
{
	char msg[PHT_ERR_DETAIL_MAX];
	json_t *j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pht_node_logf(srv, "%s %s -> %d %s",
	    evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET",
	    evhttp_request_get_uri(req), code, msg);
	j = json_pack("{s:s}", "error", msg);
	pht_node_reply_json(req, code, reason_for(code), j);
	json_decref(j);
}

/*
 * 503 with Retry-After (seconds) and the connection closed after the
 * reply: for a node that cannot take the request now but will.
 */
void
pht_node_reply_busy(struct pht_node_server *srv, struct evhttp_request *req, int retry,
    const char *msg, int quiet)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char secs[16];
	json_t *j;

	snprintf(secs, sizeof(secs), "%d", retry);
	evhttp_add_header(h, "Retry-After", secs);
	evhttp_add_header(h, "Connection", "close");
	if (!quiet)
		pht_node_logf(srv, "%s %s -> 503 %s",
		    evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET",
		    evhttp_request_get_uri(req), msg);
	j = json_pack("{s:s, s:i}", "error", msg, "retry_after", retry);
	pht_node_reply_json(req, 503, reason_for(503), j);
	json_decref(j);
}

/* Maps a store/library error to its HTTP status and replies. */
void
pht_node_reply_err(struct pht_node_server *srv, struct evhttp_request *req,
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
			pht_node_logf(srv, "store: %s: answering 503 to writes until space "
			    "returns", pht_err_msg(e));
		srv->full_said = 1;
		(void)pht_node_store_checkpoint(srv->store, NULL);
		pht_node_reply_busy(srv, req, FULL_RETRY_S, "the node cannot write to its store "
		    "(disk full): retry later", 1);
		return;
	default:
		pht_node_logf(srv, "internal error: %s", pht_err_msg(e));
		pht_node_reply_error(srv, req, 500, "internal error");
		return;
	}
	pht_node_reply_error(srv, req, code, "%s", pht_err_msg(e));
}

json_t *
pht_node_time_json(int64_t t)
{
	char buf[21];

	if (t <= 0)
		return json_null();
	pht_time_format(t, buf);
	return json_string(buf);
}

/* Parses the request body as one JSON value (pht_node_req_body). */
int
pht_node_body_json(struct evhttp_request *req, json_t **out, struct pht_err *err)
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
int
pht_node_query_ints(struct evhttp_request *req, const char *const *names,
    const int64_t *lo, const int64_t *hi, int64_t *vals, struct pht_err *err)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);

	return pht_node_req_query_ints(u != NULL ? evhttp_uri_get_query(u) : NULL,
	    names, lo, hi, vals, err);
}

int
pht_node_role_ok(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p, enum pht_pki_role role, const char *what)
{
	if (p->role == role)
		return 1;
	pht_node_reply_error(srv, req, 403, "%s (you are a %s)", what,
	    pht_pki_role_name(p->role));
	return 0;
}

void
pht_node_reply_bad_body(struct pht_node_server *srv, struct evhttp_request *req,
    struct pht_err *e)
{
	if (e->code == PHT_OK)
		pht_errf(e, PHT_ERR_MALFORMED, "request body: not a JSON object");
	pht_node_reply_err(srv, req, e);
}
