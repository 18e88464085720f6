/* pht_node_poll.c — long polls: parking a request, waking it when a train or result is stored, and the inbox and results answers they give. */
#include "pht_node_srv.h"
#include "pht_node_store.h"
#include "pht_err.h"
#include "pht_time.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>

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
	pht_node_logf(w->srv, "%s %s: the poller went away", w->kind == WAIT_INBOX ?
	    "inbox" : "results of", w->key);
	if (w->req != NULL && evhttp_request_get_connection(w->req) == NULL)
		evhttp_request_free(w->req);
	w->req = NULL;
	w->conn = NULL;
	pht_node_poll_free(w);
}

void
pht_node_poll_free(struct waiter *w)
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
		answered = pht_node_answer_inbox(w->srv, req, w->key, final);
	else
		answered = pht_node_answer_results(w->srv, req, w->key, w->after, final);
	if (answered) {
		w->req = NULL;
		w->conn = NULL; /* may be gone already; the reply owns it now */
		pht_node_poll_free(w);
	} else if (w->conn != NULL) {
		evhttp_connection_set_closecb(w->conn, waiter_closed, w);
	}
}

static void
waiter_timeout(evutil_socket_t fd, short what, void *arg)
{
	waiter_answer(arg, 1);
}

int
pht_node_poll_park(struct pht_node_server *srv, struct evhttp_request *req,
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
	pht_node_logf(srv, "%s %s: waiting up to %lld s", kind == WAIT_INBOX ? "inbox" :
	    "results of", key, (long long)wait_s);
	return 0;
}

/* Wakes the polls parked on key (a station's inbox or a train's results). */
void
pht_node_poll_wake(struct pht_node_server *srv, enum wait_kind kind, const char *key)
{
	struct waiter *w, *next;

	for (w = TAILQ_FIRST(bucket_of(srv, kind, key)); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		if (w->kind == kind && strcmp(w->key, key) == 0)
			waiter_answer(w, 0);
	}
}

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
int
pht_node_answer_inbox(struct pht_node_server *srv, struct evhttp_request *req,
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
		pht_node_reply_err(srv, req, &e);
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
		    "state", state_name(m[i].state), "posted", pht_node_time_json(m[i].created));
		if (t == NULL || json_array_append_new(arr, t) != 0)
			goto out;
	}
	if (n > 0)
		pht_node_logf(srv, "inbox %s: %zu train(s) handed out", station, n);
	ok = 1;
out:
	if (!ok) {
		json_decref(body);
		body = NULL; /* pht_node_reply_json answers 500 */
	}
	pht_node_reply_json(req, 200, "OK", body);
	json_decref(body);
	pht_node_msgs_free(m, n);
	return 1;
}

int
pht_node_answer_results(struct pht_node_server *srv, struct evhttp_request *req,
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
		pht_node_reply_err(srv, req, &e);
		return 1;
	}
	if (n == 0 && !final)
		return 0;
	if (pht_node_store_deliveries(srv->store, train, &d, &nd, &e) != PHT_OK) {
		pht_node_results_free(res, n);
		pht_node_reply_err(srv, req, &e);
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
		    res[i].log_hash, "received", pht_node_time_json(res[i].received));
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
	pht_node_reply_json(req, 200, "OK", body);
	json_decref(body);
	json_decref(arr);
	json_decref(darr);
	pht_node_results_free(res, n);
	free(d);
	return 1;
}

void
pht_node_poll_serve(struct pht_node_server *srv, struct evhttp_request *req,
    enum wait_kind kind, const char *key, int64_t after, int64_t wait_s)
{
	int answered = kind == WAIT_INBOX ?
	    pht_node_answer_inbox(srv, req, key, wait_s == 0) :
	    pht_node_answer_results(srv, req, key, after, wait_s == 0);

	if (!answered && pht_node_poll_park(srv, req, kind, key, after, wait_s) != 0)
		pht_node_reply_error(srv, req, 500, "out of memory");
}
