/* test_node_server_polls.c — the node's long polls: answered when a train or result arrives or the wait runs out, and 300 idle polls on one thread. */
#include "tap.h"
#include "node_server_fixture.h"

#include "pht_buf.h"
#include "pht_err.h"
#include "pht_http.h"
#include "pht_json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

/* Long polls: parked until work arrives, then answered with it. */
void
test_long_polls(struct pht_http *ana, struct pht_http *b)
{
	struct poll p1, p2;
	struct pht_err e;
	long st;
	json_t *j = NULL;
	int r, base_inbox, base_res;

	memset(&p1, 0, sizeof(p1));
	p1.who = "b";
	p1.timeout_ms = 90000;
	snprintf(p1.url, sizeof(p1.url), "%s", url("/v1/inbox?wait=60"));
	base_inbox = log_count("inbox b: waiting");
	if (pthread_create(&p1.t, NULL, poll_thread, &p1) != 0) {
		tap_ok(0, "poll thread");
		return;
	}
	tap_ok(wait_log("inbox b: waiting", base_inbox + 1),
	    "station b's long poll is parked at the node");
	r = req(ana, "POST", url("/v1/trains"),
	    "{\"train\":\"t2\",\"round\":1,\"stations\":[\"b\"],\"envelope\":\"{}\"}",
	    &st, &j, &e);
	tap_ok(r == PHT_OK && st == 201, "analyst posts t2 to b while b waits");
	json_decref(j);
	pthread_join(p1.t, NULL);
	tap_ok(p1.rc == PHT_OK && array_len(p1.j, "trains") == 1 &&
	    strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(p1.j, "trains"), 0), "train")), "t2") == 0,
	    "the parked poll is answered with t2 (%s)", pht_err_msg(&p1.e));
	tap_ok(log_count("inbox b: waiting") == base_inbox + 1,
	    "answered by the wake-up, not by a second poll");
	json_decref(p1.j);

	/* The analyst's wait for results, woken by the station's post. */
	memset(&p2, 0, sizeof(p2));
	p2.who = "ana";
	p2.timeout_ms = 90000;
	snprintf(p2.url, sizeof(p2.url), "%s", url("/v1/trains/t2/results?wait=60"));
	base_res = log_count("results of t2: waiting");
	if (pthread_create(&p2.t, NULL, poll_thread, &p2) != 0) {
		tap_ok(0, "poll thread");
		return;
	}
	tap_ok(wait_log("results of t2: waiting", base_res + 1),
	    "analyst's results poll is parked");
	r = req(b, "POST", url("/v1/trains/t2/results"),
	    "{\"round\":1,\"result\":\"sealed-b\",\"log_head\":{\"seq\":1,\"hash\":\"h1\"}}",
	    &st, &j, &e);
	tap_ok(r == PHT_OK && st == 201, "station b posts t2's result");
	json_decref(j);
	pthread_join(p2.t, NULL);
	tap_ok(p2.rc == PHT_OK && array_len(p2.j, "results") == 1 &&
	    strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(p2.j, "results"), 0), "result")), "sealed-b") == 0,
	    "the analyst's poll is answered with the result (%s)", pht_err_msg(&p2.e));
	{
		json_t *d = json_array_get(json_object_get(p2.j, "deliveries"), 0);
		tap_ok(d != NULL && json_is_true(json_object_get(d, "result")) &&
		    strcmp(json_string_value(json_object_get(d, "state")), "acked") == 0,
		    "deliveries show b answered");
		/* With the cursor, nothing new: an immediate empty answer. */
		json_int_t next = json_integer_value(json_object_get(p2.j, "next"));
		char u[128];
		snprintf(u, sizeof(u), "/v1/trains/t2/results?after=%lld", (long long)next);
		json_decref(p2.j);
		r = req(ana, "GET", url(u), NULL, &st, &j, &e);
		tap_ok(r == PHT_OK && array_len(j, "results") == 0,
		    "after the cursor: no result repeated");
		json_decref(j);
	}

	/* A poller that gives up: nothing is lost, the node keeps serving. */
	{
		struct pht_http *quick = client("b", 1500);
		int base = log_count("inbox b: waiting");
		r = quick ? req(quick, "GET", url("/v1/inbox?wait=30"), NULL, &st, &j, &e) : -1;
		tap_ok(r == PHT_ERR_NETWORK && strstr(e.msg, "timed out"),
		    "client gives up on its long poll: %s", e.msg);
		json_decref(j);
		pht_http_free(quick);
		tap_ok(log_count("inbox b: waiting") == base + 1, "it had been parked");
		r = req(ana, "POST", url("/v1/trains"),
		    "{\"train\":\"t3\",\"round\":1,\"stations\":[\"b\"],\"envelope\":\"{}\"}",
		    &st, &j, &e);
		tap_ok(r == PHT_OK && st == 201, "a train for the departed poller is "
		    "accepted");
		json_decref(j);
		r = req(b, "GET", url("/v1/inbox"), NULL, &st, &j, &e);
		tap_ok(r == PHT_OK && array_len(j, "trains") == 1,
		    "and is still in b's inbox (nothing was lost on the dead poll)");
		json_decref(j);
		r = req(b, "POST", url("/v1/inbox/t3/ack"), "{\"round\":1}", &st, &j, &e);
		tap_ok(r == PHT_OK && json_integer_value(json_object_get(j, "acked")) == 1,
		    "b acks t3");
		json_decref(j);
	}
}

/*
 * Many idle long polls: N connections parked on station c's inbox at once,
 * served by the node's single thread, all answered when one train arrives.
 */
#define MANY 300

struct many_sink {
	char buf[4096];
	size_t len;
};

static size_t
many_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct many_sink *s = arg;
	size_t n = size * nmemb;

	if (n > sizeof(s->buf) - 1 - s->len)
		return 0;
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static int
node_threads(void)
{
	char p[64], line[256];
	FILE *f;
	int threads = -1;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)node_pid);
	if ((f = fopen(p, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Threads:", 8) == 0)
			threads = atoi(line + 8);
		if (strncmp(line, "VmRSS:", 6) == 0)
			tap_diag("node %s", line[strlen(line) - 1] == '\n' ?
			    (line[strlen(line) - 1] = '\0', line) : line);
	}
	fclose(f);
	return threads;
}

void
test_many_polls(struct pht_http *ana)
{
	static struct many_sink sinks[MANY];
	CURL *easy[MANY];
	CURLM *multi = curl_multi_init();
	char cert[600], key[600], ca[600];
	struct pht_err e;
	int i, running = 0, base, parked = 0, got = 0, rounds, r;
	long st;
	json_t *j = NULL;

	snprintf(cert, sizeof(cert), "%s", path("c/cert.pem"));
	snprintf(key, sizeof(key), "%s", path("c/key.pem"));
	snprintf(ca, sizeof(ca), "%s", path("ca/ca.pem"));
	base = log_count("inbox c: waiting");
	memset(easy, 0, sizeof(easy));
	for (i = 0; multi != NULL && i < MANY; i++) {
		CURL *c = easy[i] = curl_easy_init();
		if (c == NULL)
			break;
		sinks[i].len = 0;
		curl_easy_setopt(c, CURLOPT_URL, url("/v1/inbox?wait=60"));
		curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, key);
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
		curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 90L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, many_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &sinks[i]);
		curl_multi_add_handle(multi, c);
	}
	tap_ok(multi != NULL && i == MANY, "%d long-poll clients set up", MANY);
	/* Drive the handshakes until all are parked (bounded: ~30 s). */
	for (rounds = 0; multi != NULL && rounds < 3000; rounds++) {
		curl_multi_perform(multi, &running);
		if ((parked = log_count("inbox c: waiting") - base) >= MANY)
			break;
		curl_multi_poll(multi, NULL, 0, 10, NULL);
	}
	tap_ok(parked == MANY, "%d of %d polls parked at the node at once", parked,
	    MANY);
	r = node_threads();
	tap_ok(r == 1, "the node serves them all from one thread (threads: %d)", r);
	r = req(ana, "POST", url("/v1/trains"),
	    "{\"train\":\"many\",\"round\":1,\"stations\":[\"c\"],\"envelope\":\"{}\"}",
	    &st, &j, &e);
	tap_ok(r == PHT_OK && st == 201, "one train for c");
	json_decref(j);
	for (rounds = 0; multi != NULL && rounds < 3000; rounds++) {
		curl_multi_perform(multi, &running);
		if (running == 0)
			break;
		curl_multi_poll(multi, NULL, 0, 10, NULL);
	}
	for (i = 0; i < MANY; i++) {
		long code = 0;
		if (easy[i] != NULL)
			curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &code);
		if (code == 200 && strstr(sinks[i].buf, "\"train\":\"many\"") != NULL)
			got++;
	}
	tap_ok(got == MANY, "every parked poll was answered with the train (%d/%d)",
	    got, MANY);
	for (i = 0; i < MANY; i++) {
		if (easy[i] == NULL)
			continue;
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
	}
	curl_multi_cleanup(multi);
	r = req(ana, "GET", url("/v1/stations"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK, "node still serving after the crowd left");
	json_decref(j);
}
