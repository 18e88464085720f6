/* pht_http.h — the HTTPS client of stations and analysts: mutual TLS 1.3 to the node over libcurl. */
#ifndef PHT_HTTP_H
#define PHT_HTTP_H

#include <signal.h>
#include <stddef.h>

#include <jansson.h>

struct pht_buf;
struct pht_err;

/*
 * One client holds one CURL handle, so consecutive requests reuse the
 * connection (HTTP/1.1 keep-alive). It always presents its certificate,
 * pins the federation CA (only certificates issued by it are accepted),
 * verifies the server's host name, and speaks TLS 1.3 only.
 * One client is used by one thread at a time.
 */
struct pht_http;

struct pht_http_opts {
	const char *cert;          /* client certificate (PEM) */
	const char *key;           /* its private key (PEM) */
	const char *ca;            /* federation CA certificate (PEM) to pin */
	long connect_timeout_ms;   /* 0: 10 s */
	long timeout_ms;           /* whole request, 0: 30 s; per request too */
	size_t max_response;       /* response body bound, 0: 16 MiB */
	/*
	 * If not NULL, a flag (set by a signal handler) that aborts a request
	 * in progress within about a second once it is non-zero; the request
	 * then fails with PHT_ERR_NETWORK ("... cancelled").
	 */
	volatile sig_atomic_t *cancel;
};

/*
 * New client. The files are checked to exist; they are read by curl on the
 * first request. PHT_ERR_INVALID if one of cert, key, ca is missing,
 * PHT_ERR_IO if it cannot be read.
 */
int pht_http_new(const struct pht_http_opts *opts, struct pht_http **out,
    struct pht_err *err);

/* Frees the client and closes its connection; accepts NULL. */
void pht_http_free(struct pht_http *h);

/*
 * Sends method (GET or POST) to url, with body (bodylen bytes of JSON; NULL
 * for none). timeout_ms > 0 overrides the client's request timeout (a long
 * poll asks for its wait plus a margin). *status receives the HTTP status
 * (0 if none arrived) and *resp the response body (NUL-terminated; may be
 * set on HTTP errors too, NULL otherwise); resp may be NULL.
 *
 * Returns PHT_OK for a 2xx status. Otherwise, with the server's JSON
 * "error" in the detail when it sent one ("POST https://…/v1/trains:
 * HTTP 403: stations cannot post trains"):
 *   PHT_ERR_MALFORMED (400), PHT_ERR_DENIED (401, 403), PHT_ERR_NOT_FOUND
 *   (404), PHT_ERR_REPLAY (409), PHT_ERR_TOO_LARGE (413, or a response
 *   larger than max_response), PHT_ERR_NETWORK (connection refused or
 *   reset, timeout, TLS failure — the detail says which — and other
 *   statuses).
 */
int pht_http_request(struct pht_http *h, const char *method, const char *url,
    const char *body, size_t bodylen, long timeout_ms, long *status,
    struct pht_buf **resp, struct pht_err *err);

/*
 * pht_http_request with JSON in and out: body (may be NULL) is sent as
 * compact JSON; on any reply with a body that parses, *out receives it (the
 * caller decrefs; NULL otherwise), also for HTTP errors, so that the
 * caller can read the node's "error". Same return codes; a 2xx reply whose
 * body is not JSON is PHT_ERR_MALFORMED.
 */
int pht_http_request_json(struct pht_http *h, const char *method,
    const char *url, const json_t *body, long timeout_ms, long *status,
    json_t **out, struct pht_err *err);

#endif
