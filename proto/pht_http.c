/* pht_http.c — mutual-TLS HTTPS client over libcurl (one handle, keep-alive, bounded responses). */
#include "pht_http.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_json.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#define HTTP_DEFAULT_CONNECT_MS 10000L
#define HTTP_DEFAULT_TIMEOUT_MS 30000L
#define HTTP_DEFAULT_MAX (16u * 1024 * 1024)

struct pht_http {
	CURL *curl;
	struct curl_slist *headers;
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_response;
	volatile sig_atomic_t *cancel;
	char errbuf[CURL_ERROR_SIZE];
};

/* Progress callback: a non-zero return aborts the transfer (cancel flag set). */
static int
progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	volatile sig_atomic_t *cancel = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return *cancel != 0;
}

/* The write callback's state: where the body goes and whether it overflowed. */
struct sink {
	struct pht_buf *buf;
	int overflow;
};

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (pht_buf_put(s->buf, p, n) != PHT_OK) {
		s->overflow = 1;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	return n;
}

static int
readable(const char *what, const char *path, struct pht_err *err)
{
	if (path == NULL || *path == '\0')
		return pht_errf(err, PHT_ERR_INVALID, "no %s file given", what);
	if (access(path, R_OK) != 0)
		return pht_errf(err, PHT_ERR_IO, "%s file %s: cannot be read", what, path);
	return PHT_OK;
}

int
pht_http_new(const struct pht_http_opts *opts, struct pht_http **out,
    struct pht_err *err)
{
	struct pht_http *h = NULL;
	CURL *c;
	int r;

	*out = NULL;
	if ((r = readable("certificate", opts->cert, err)) != PHT_OK ||
	    (r = readable("key", opts->key, err)) != PHT_OK ||
	    (r = readable("CA", opts->ca, err)) != PHT_OK)
		return r;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	h->connect_timeout_ms = opts->connect_timeout_ms > 0 ?
	    opts->connect_timeout_ms : HTTP_DEFAULT_CONNECT_MS;
	h->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms :
	    HTTP_DEFAULT_TIMEOUT_MS;
	h->max_response = opts->max_response > 0 ? opts->max_response :
	    HTTP_DEFAULT_MAX;
	if ((h->curl = c = curl_easy_init()) == NULL ||
	    (h->headers = curl_slist_append(NULL,
	    "Content-Type: application/json")) == NULL ||
	    curl_slist_append(h->headers, "Accept: application/json") == NULL ||
	    curl_slist_append(h->headers, "Expect:") == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "cannot create an HTTP client");
		goto out;
	}
	if (curl_easy_setopt(c, CURLOPT_SSLCERT, opts->cert) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLKEY, opts->key) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAPATH, NULL) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_3) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    h->connect_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK) {
		r = pht_errf(err, PHT_ERR_INTERNAL,
		    "libcurl lacks a required option (TLS 1.3, client certificates)");
		goto out;
	}
	if ((h->cancel = opts->cancel) != NULL &&
	    (curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)opts->cancel) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK)) {
		r = pht_errf(err, PHT_ERR_INTERNAL, "libcurl lacks progress callbacks");
		goto out;
	}
	*out = h;
	h = NULL; /* transferred */
	r = PHT_OK;
out:
	pht_http_free(h);
	return r;
}

void
pht_http_free(struct pht_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	free(h);
}

/* The library error for an HTTP status that is not 2xx. */
static int
status_code(long status)
{
	switch (status) {
	case 400: return PHT_ERR_MALFORMED;
	case 401:
	case 403: return PHT_ERR_DENIED;
	case 404: return PHT_ERR_NOT_FOUND;
	case 409: return PHT_ERR_REPLAY;
	case 413: return PHT_ERR_TOO_LARGE;
	case 429: return PHT_ERR_POLICY;
	default: return PHT_ERR_NETWORK;
	}
}

/* The transport error, with a clear reason in the detail. */
static int
curl_fail(struct pht_http *h, CURLcode cc, const char *method, const char *url,
    struct pht_err *err)
{
	const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_ABORTED_BY_CALLBACK:
		return pht_errf(err, PHT_ERR_NETWORK, "%s %s: cancelled", method, url);
	case CURLE_COULDNT_CONNECT:
		return pht_errf(err, PHT_ERR_NETWORK, "%s %s: connection refused "
		    "or unreachable (%s)", method, url, why);
	case CURLE_COULDNT_RESOLVE_HOST:
		return pht_errf(err, PHT_ERR_NETWORK, "%s %s: host not found (%s)",
		    method, url, why);
	case CURLE_OPERATION_TIMEDOUT:
		return pht_errf(err, PHT_ERR_NETWORK, "%s %s: timed out (%s)",
		    method, url, why);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_ISSUER_ERROR:
		return pht_errf(err, PHT_ERR_NETWORK, "%s %s: TLS failure: %s",
		    method, url, why);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		/* With TLS 1.3 a refused client certificate shows up here,
		 * as an alert on the first read. */
		if (strstr(why, "alert") != NULL || strstr(why, "SSL") != NULL)
			return pht_errf(err, PHT_ERR_NETWORK, "%s %s: TLS failure: "
			    "refused by the server: %s", method, url, why);
		return pht_errf(err, PHT_ERR_NETWORK, "%s %s: connection closed by "
		    "the server before a reply (a refused client certificate "
		    "can end a TLS 1.3 connection this way): %s", method, url, why);
	case CURLE_GOT_NOTHING:
		return pht_errf(err, PHT_ERR_NETWORK, "%s %s: connection closed "
		    "without a reply (%s)", method, url, why);
	default:
		return pht_errf(err, PHT_ERR_NETWORK, "%s %s: %s", method, url, why);
	}
}

int
pht_http_request(struct pht_http *h, const char *method, const char *url,
    const char *body, size_t bodylen, long timeout_ms, long *status,
    struct pht_buf **resp, struct pht_err *err)
{
	struct sink sink = {NULL, 0};
	CURL *c = h->curl;
	CURLcode cc;
	long code = 0;
	int r, is_post;

	*status = 0;
	if (resp != NULL)
		*resp = NULL;
	if (strcmp(method, "GET") == 0)
		is_post = 0;
	else if (strcmp(method, "POST") == 0)
		is_post = 1;
	else
		return pht_errf(err, PHT_ERR_INVALID, "HTTP method %s: only GET and "
		    "POST", method);
	if ((sink.buf = pht_buf_new(h->max_response)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms :
	    h->timeout_ms);
	if (is_post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body != NULL ? bodylen : 0));
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	*status = code;
	if (cc == CURLE_WRITE_ERROR && sink.overflow) {
		r = pht_errf(err, PHT_ERR_TOO_LARGE, "%s %s: response larger than "
		    "%zu bytes", method, url, h->max_response);
		goto out;
	}
	if (cc != CURLE_OK) {
		r = curl_fail(h, cc, method, url, err);
		goto out;
	}
	if (code < 200 || code > 299) {
		json_t *j = NULL;
		const char *msg = NULL;
		struct pht_err je;

		if (pht_json_parse(pht_buf_str(sink.buf), pht_buf_len(sink.buf),
		    "response", &j, &je) == PHT_OK && json_is_object(j) &&
		    json_is_string(json_object_get(j, "error")))
			msg = json_string_value(json_object_get(j, "error"));
		r = pht_errf(err, status_code(code), "%s %s: HTTP %ld: %.300s",
		    method, url, code, msg != NULL ? msg : "(no JSON error)");
		json_decref(j);
	} else {
		r = PHT_OK;
	}
	if (resp != NULL) {
		*resp = sink.buf;
		sink.buf = NULL; /* transferred */
	}
out:
	pht_buf_free(sink.buf);
	return r;
}

int
pht_http_request_json(struct pht_http *h, const char *method, const char *url,
    const json_t *body, long timeout_ms, long *status, json_t **out,
    struct pht_err *err)
{
	struct pht_buf *resp = NULL;
	struct pht_err je;
	char *text = NULL;
	int r, pr;

	*out = NULL;
	*status = 0;
	if (body != NULL && (text = pht_json_dump(body)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	r = pht_http_request(h, method, url, text, text != NULL ? strlen(text) : 0,
	    timeout_ms, status, &resp, err);
	free(text);
	if (resp != NULL && pht_buf_len(resp) > 0) {
		pr = pht_json_parse(pht_buf_str(resp), pht_buf_len(resp), "response",
		    out, &je);
		if (pr != PHT_OK && r == PHT_OK)
			r = pht_errf(err, PHT_ERR_MALFORMED, "%s %s: %s", method, url,
			    pht_err_msg(&je));
	} else if (r == PHT_OK) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s %s: empty reply", method, url);
	}
	pht_buf_free(resp);
	return r;
}
