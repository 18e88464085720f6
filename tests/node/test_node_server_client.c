/* test_node_server_client.c — a node restarted on the same store keeps what it acknowledged; the HTTP client's errors and response bound. */
#include "tap.h"
#include "node_server_fixture.h"

#include "pht_buf.h"
#include "pht_err.h"
#include "pht_http.h"
#include "pht_json.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

void
test_restart(void)
{
	struct pht_http *ana, *a, *b;
	struct pht_err e;
	struct poll p;
	long st;
	json_t *j = NULL;
	int r, status;

	ana = client("ana", 20000);
	b = client("b", 20000);
	r = req(ana, "POST", url("/v1/trains"),
	    "{\"train\":\"t4\",\"round\":1,\"stations\":[\"a\",\"b\"],\"envelope\":\"{\\\"r\\\":4}\"}",
	    &st, &j, &e);
	tap_ok(r == PHT_OK && st == 201, "t4 posted to a and b");
	json_decref(j);
	pht_http_free(ana);
	pht_http_free(b);

	/* A crash: SIGKILL, no chance to flush anything. */
	status = stop_node(SIGKILL);
	tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "node killed");
	r = start_node();
	tap_ok(r == 0, "node restarted on port %d", node_port);
	ana = client("ana", 20000);
	a = client("a", 20000);
	b = client("b", 20000);
	r = req(b, "GET", url("/v1/inbox"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK && array_len(j, "trains") == 1 &&
	    strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "trains"), 0), "envelope")), "{\"r\":4}") == 0,
	    "the train accepted before the crash is delivered after it");
	json_decref(j);
	r = req(ana, "GET", url("/v1/trains/t1/results"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK && array_len(j, "results") == 1,
	    "results from before the crash: all there, once");
	json_decref(j);
	r = req(a, "POST", url("/v1/trains/t1/results"),
	    "{\"round\":1,\"result\":{\"sealed\":\"AAA\",\"sig\":\"s1\"},"
	    "\"log_head\":{\"seq\":4,\"hash\":\"abcd\"}}", &st, &j, &e);
	tap_ok(r == PHT_OK && st == 200, "re-posting a result after restart: not "
	    "duplicated");
	json_decref(j);
	r = req(ana, "GET", url("/v1/trains/t1/results"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK && array_len(j, "results") == 1, "still exactly one result");
	json_decref(j);
	pht_http_free(ana);
	pht_http_free(a);
	pht_http_free(b);

	/* A clean stop with a poll parked: SIGTERM ends the node with 0. */
	memset(&p, 0, sizeof(p));
	p.who = "a";
	p.timeout_ms = 90000;
	snprintf(p.url, sizeof(p.url), "%s", url("/v1/inbox?wait=60"));
	{
		int base = log_count("inbox a: waiting");
		/* a's inbox still holds t4: ack it so the poll parks. */
		struct pht_http *a2 = client("a", 20000);
		r = req(a2, "POST", url("/v1/inbox/t4/ack"), NULL, &st, &j, &e);
		json_decref(j);
		pht_http_free(a2);
		tap_ok(r == PHT_OK, "a acks t4 (no body: all rounds)");
		if (pthread_create(&p.t, NULL, poll_thread, &p) != 0) {
			tap_ok(0, "poll thread");
			return;
		}
		tap_ok(wait_log("inbox a: waiting", base + 1), "a's poll is parked");
	}
	status = stop_node(SIGTERM);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "SIGTERM: clean shutdown, exit 0");
	tap_ok(log_count("signal 15: shutting down") >= 1 && log_count("stopped") >= 1,
	    "shutdown logged");
	pthread_join(p.t, NULL);
	tap_ok(p.rc == PHT_ERR_NETWORK && p.status == 0,
	    "the parked poll ends with a network error (%s)", pht_err_msg(&p.e));
	json_decref(p.j);
}

void
test_http_client_errors(void)
{
	struct pht_http_opts o;
	struct pht_http *h = NULL;
	struct pht_err e;
	long st;
	json_t *j = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	o.cert = path("a/cert.pem");
	o.key = path("a/nokey.pem");
	o.ca = path("ca/ca.pem");
	r = pht_http_new(&o, &h, &e);
	tap_ok(r == PHT_ERR_IO && h == NULL && strstr(e.msg, "nokey.pem"),
	    "client with a missing key file: %s", e.msg);
	o.key = NULL;
	r = pht_http_new(&o, &h, &e);
	tap_ok(r == PHT_ERR_INVALID && strstr(e.msg, "no key"), "client without key");
	/* Node is down now: connection refused. */
	h = client("a", 5000);
	r = h ? req(h, "GET", url("/v1/inbox"), NULL, &st, &j, &e) : -1;
	tap_ok(r == PHT_ERR_NETWORK && st == 0 && strstr(e.msg, "connection refused"),
	    "node down: connection refused (%s)", e.msg);
	json_decref(j);
	r = h ? pht_http_request(h, "PUT", url("/"), NULL, 0, 0, &st, NULL, &e) : -1;
	tap_ok(r == PHT_ERR_INVALID, "only GET and POST");
	pht_http_free(h);
	pht_http_free(NULL);
}

void
test_small_response_bound(void)
{
	struct pht_http_opts o;
	struct pht_http *h = NULL;
	struct pht_err e;
	long st;
	int r;

	memset(&o, 0, sizeof(o));
	o.cert = path("ana/cert.pem");
	o.key = path("ana/key.pem");
	o.ca = path("ca/ca.pem");
	o.max_response = 16;
	if (pht_http_new(&o, &h, &e) != PHT_OK) {
		tap_ok(0, "client: %s", e.msg);
		return;
	}
	r = pht_http_request(h, "GET", url("/v1/stations"), NULL, 0, 0, &st, NULL, &e);
	tap_ok(r == PHT_ERR_TOO_LARGE && strstr(e.msg, "larger than 16 bytes"),
	    "response over the client's bound refused: %s", e.msg);
	pht_http_free(h);
}
