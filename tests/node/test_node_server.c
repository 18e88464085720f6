/* test_node_server.c — a real node on 127.0.0.1 driven by pht_http: roles, owners, errors, results, the analyst's share; the polls and the client are in test_node_server_polls.c and test_node_server_client.c. */
#include "tap.h"
#include "node_server_fixture.h"

#include "pht_buf.h"
#include "pht_err.h"
#include "pht_http.h"
#include "pht_json.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

static const char *train_body =
    "{\"train\":\"t1\",\"round\":1,\"stations\":[\"a\"],"
    "\"envelope\":\"{\\\"id\\\":\\\"t1\\\",\\\"sig\\\":\\\"x\\\"}\"}";

static void
test_roles(struct pht_http *ana, struct pht_http *bob, struct pht_http *a,
    struct pht_http *b)
{
	struct pht_http *foreign;
	struct pht_err e;
	long st;
	json_t *j = NULL;
	int r;

	r = req(ana, "GET", url("/v1/stations"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK && st == 200 && json_is_array(json_object_get(j, "stations")),
	    "analyst lists stations");
	json_decref(j);

	foreign = client("foreign", 10000);
	r = foreign ? req(foreign, "GET", url("/v1/stations"), NULL, &st, &j, &e) : -1;
	tap_ok(r == PHT_ERR_NETWORK && st == 0 && strstr(e.msg, "/v1/stations") != NULL,
	    "certificate from another CA refused at the TLS layer, no HTTP reply: "
	    "%s", e.msg);
	json_decref(j);
	pht_http_free(foreign);

	{
		/* The client pins a CA that did not issue the node's certificate. */
		struct pht_http_opts o;
		struct pht_http *h = NULL;
		char cert[600], key[600], ca[600];
		snprintf(cert, sizeof(cert), "%s", path("ana/cert.pem"));
		snprintf(key, sizeof(key), "%s", path("ana/key.pem"));
		snprintf(ca, sizeof(ca), "%s", path("other/ca.pem"));
		memset(&o, 0, sizeof(o));
		o.cert = cert;
		o.key = key;
		o.ca = ca;
		r = pht_http_new(&o, &h, &e) == PHT_OK ?
		    req(h, "GET", url("/v1/stations"), NULL, &st, &j, &e) : -1;
		tap_ok(r == PHT_ERR_NETWORK && st == 0 && strstr(e.msg, "TLS failure"),
		    "client refuses a node its pinned CA did not issue: %s", e.msg);
		json_decref(j);
		pht_http_free(h);
	}
	{
		char u[128];
		snprintf(u, sizeof(u), "https://127.0.0.1:%d/v1/stations", node_port);
		r = req(ana, "GET", u, NULL, &st, &j, &e);
		tap_ok(r == PHT_OK && st == 200, "node reached by its IP name 127.0.0.1");
		json_decref(j);
	}

	r = req(a, "POST", url("/v1/trains"), train_body, &st, &j, &e);
	tap_ok(r == PHT_ERR_DENIED && st == 403 &&
	    strstr(e.msg, "only analysts may post trains") != NULL,
	    "station posting a train: 403 (%s)", e.msg);
	json_decref(j);

	r = req(ana, "POST", url("/v1/trains"), train_body, &st, &j, &e);
	tap_ok(r == PHT_OK && st == 201 && json_is_true(json_object_get(j, "created")),
	    "analyst posts t1 to station a: 201");
	json_decref(j);
	r = req(ana, "POST", url("/v1/trains"), train_body, &st, &j, &e);
	tap_ok(r == PHT_OK && st == 200 && json_is_false(json_object_get(j, "created")),
	    "same post again: 200, nothing new");
	json_decref(j);
	r = req(bob, "POST", url("/v1/trains"), train_body, &st, &j, &e);
	tap_ok(r == PHT_ERR_DENIED && st == 403 && strstr(e.msg, "another analyst"),
	    "another analyst cannot post into t1: %s", e.msg);
	json_decref(j);

	r = req(b, "GET", url("/v1/inbox"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK && st == 200 && array_len(j, "trains") == 0,
	    "station b does not see a's train");
	json_decref(j);
	{
		json_t *ack = json_pack("{s:I}", "round", (json_int_t)1);
		r = pht_http_request_json(b, "POST", url("/v1/inbox/t1/ack"), ack, 0,
		    &st, &j, &e);
		json_decref(ack);
	}
	tap_ok(r == PHT_ERR_NOT_FOUND && st == 404 && strstr(e.msg, "inbox of b") &&
	    json_is_string(json_object_get(j, "error")),
	    "station b cannot ack a's train; the JSON error is handed back: %s", e.msg);
	json_decref(j);
	r = req(b, "POST", url("/v1/trains/t1/results"),
	    "{\"round\":1,\"result\":{\"x\":1},\"log_head\":{\"seq\":1,\"hash\":\"h\"}}",
	    &st, &j, &e);
	tap_ok(r == PHT_ERR_NOT_FOUND && st == 404 && strstr(e.msg, "not sent to station b"),
	    "station b cannot post a result for a's train: %s", e.msg);
	json_decref(j);
	r = req(ana, "GET", url("/v1/inbox"), NULL, &st, &j, &e);
	tap_ok(r == PHT_ERR_DENIED && st == 403 && strstr(e.msg, "only stations"),
	    "an analyst has no inbox: 403");
	json_decref(j);

	r = pht_http_request_json(a, "GET", url("/v1/inbox?wait=0"), NULL, 0, &st,
	    &j, &e);
	tap_ok(r == PHT_OK && array_len(j, "trains") == 1,
	    "station a gets t1 (pht_http_request_json)");
	if (array_len(j, "trains") == 1) {
		json_t *t = json_array_get(json_object_get(j, "trains"), 0);
		tap_str(json_string_value(json_object_get(t, "envelope")),
		    "{\"id\":\"t1\",\"sig\":\"x\"}", "envelope relayed byte for byte");
		tap_str(json_string_value(json_object_get(t, "analyst")), "ana",
		    "entry names the posting analyst (from the certificate)");
	}
	json_decref(j);

	r = req(bob, "GET", url("/v1/trains/t1/results"), NULL, &st, &j, &e);
	tap_ok(r == PHT_ERR_DENIED && st == 403 && strstr(e.msg, "another analyst"),
	    "another analyst cannot read t1's results: %s", e.msg);
	json_decref(j);
	r = req(a, "GET", url("/v1/trains/t1/results"), NULL, &st, &j, &e);
	tap_ok(r == PHT_ERR_DENIED && st == 403, "a station cannot read results");
	json_decref(j);
	r = req(ana, "GET", url("/v1/trains/zz/results"), NULL, &st, &j, &e);
	tap_ok(r == PHT_ERR_NOT_FOUND && st == 404 && strstr(e.msg, "no such train"),
	    "unknown train: 404");
	json_decref(j);
}

static void
test_errors(struct pht_http *ana, struct pht_http *a)
{
	struct pht_err e;
	char *big;
	long st;
	json_t *j = NULL;
	int r;

	r = req(ana, "POST", url("/v1/trains"), "{\"train\":", &st, &j, &e);
	tap_ok(r == PHT_ERR_MALFORMED && st == 400 && strstr(e.msg, "request body"),
	    "malformed JSON: 400 with a JSON error (%s)", e.msg);
	tap_ok(json_is_string(json_object_get(j, "error")), "error body is JSON");
	json_decref(j);
	r = req(ana, "POST", url("/v1/trains"),
	    "{\"train\":\"t9\",\"round\":1,\"stations\":[\"a\"],\"envelope\":\"not json\"}",
	    &st, &j, &e);
	tap_ok(r == PHT_ERR_MALFORMED && st == 400 && strstr(e.msg, "envelope"),
	    "envelope that is not JSON: 400 (%s)", e.msg);
	json_decref(j);
	r = req(ana, "POST", url("/v1/trains"),
	    "{\"train\":\"t9\",\"round\":1,\"stations\":[\"a\"],\"envelope\":\"{}\","
	    "\"extra\":1}", &st, &j, &e);
	tap_ok(r == PHT_ERR_MALFORMED && strstr(e.msg, "unknown field \"extra\""),
	    "unknown field: 400 (%s)", e.msg);
	json_decref(j);
	r = req(ana, "POST", url("/v1/trains"),
	    "{\"train\":\"t/9\",\"round\":1,\"stations\":[\"a\"],\"envelope\":\"{}\"}",
	    &st, &j, &e);
	tap_ok(r == PHT_ERR_MALFORMED && strstr(e.msg, "field train"),
	    "bad train id: 400");
	json_decref(j);
	r = req(ana, "POST", url("/v1/trains"),
	    "{\"train\":\"t9\",\"round\":1,\"stations\":[\"A\"],\"envelope\":\"{}\"}",
	    &st, &j, &e);
	tap_ok(r == PHT_ERR_MALFORMED && strstr(e.msg, "stations[0]"),
	    "bad station name: 400");
	json_decref(j);
	r = req(a, "GET", url("/v1/inbox?wait=61"), NULL, &st, &j, &e);
	tap_ok(r == PHT_ERR_MALFORMED && st == 400 && strstr(e.msg, "wait=61"),
	    "wait above the bound: 400 (%s)", e.msg);
	json_decref(j);
	r = req(a, "GET", url("/v1/inbox?sleep=1"), NULL, &st, &j, &e);
	tap_ok(r == PHT_ERR_MALFORMED && strstr(e.msg, "unknown parameter"),
	    "unknown query parameter: 400");
	json_decref(j);
	r = req(a, "GET", url("/v1/nothing/here"), NULL, &st, &j, &e);
	tap_ok(r == PHT_ERR_NOT_FOUND && st == 404 && strstr(e.msg, "no such route"),
	    "unknown route: 404 (%s)", e.msg);
	json_decref(j);
	r = req(a, "GET", url("/v2/inbox"), NULL, &st, &j, &e);
	tap_ok(r == PHT_ERR_NOT_FOUND && st == 404, "unversioned route: 404");
	json_decref(j);
	r = req(a, "GET", url("/v1/trains"), NULL, &st, &j, &e);
	tap_ok(r == PHT_ERR_NETWORK && st == 405 && strstr(e.msg, "not allowed"),
	    "wrong method: 405");
	json_decref(j);

	/*
	 * Bodies over max_body (65536 here): just over, and 64 times over,
	 * which cannot sit in the socket buffers. The node refuses as soon as
	 * it knows the length, before reading the body: the client gets the
	 * 413, or, when it is still sending as the node closes, a send error
	 * (broken pipe or reset). Either way nothing is accepted.
	 */
	big = malloc(4u << 20);
	if (big != NULL) {
		static const size_t sizes[] = {70000, 70000, 70000, 4u << 20};
		size_t k;

		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			memset(big, ' ', sizes[k] - 1);
			big[0] = '{';
			big[sizes[k] - 2] = '}';
			big[sizes[k] - 1] = '\0';
			r = req(ana, "POST", url("/v1/trains"), big, &st, &j, &e);
			tap_ok((r == PHT_ERR_TOO_LARGE && st == 413 &&
			    strstr(e.msg, "HTTP 413") != NULL) ||
			    (r == PHT_ERR_NETWORK && (st == 0 || st == 413)), "body of %zu bytes over "
			    "max_body: refused with 413 or closed while sending (%s)",
			    sizes[k] - 1, e.msg);
			json_decref(j);
		}
		free(big);
	}
	r = req(ana, "GET", url("/v1/stations"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK && st == 200, "the same client goes on after the 413s (%s)",
	    e.msg);
	json_decref(j);
	{
		/* Every truncation of a valid body is refused with 400. */
		const char *full = "{\"train\":\"tz\",\"round\":1,\"stations\":[\"a\"],"
		    "\"envelope\":\"{\\\"k\\\":[1,2]}\"}";
		char cut[128];
		size_t len = strlen(full), k, bad = 0;
		for (k = 1; k < len && k < sizeof(cut); k++) {
			memcpy(cut, full, k);
			cut[k] = '\0';
			r = req(ana, "POST", url("/v1/trains"), cut, &st, &j, &e);
			if (r != PHT_ERR_MALFORMED || st != 400 ||
			    !json_is_string(json_object_get(j, "error")))
				bad++;
			json_decref(j);
		}
		tap_ok(bad == 0, "all %zu truncations of a train body: 400 with a "
		    "JSON error (%zu not)", len - 1, bad);
	}
	r = req(ana, "GET", url("/v1/stations"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK && st == 200, "node keeps serving after the errors");
	json_decref(j);
}

static void
test_results(struct pht_http *ana, struct pht_http *a)
{
	const char *res1 = "{\"round\":1,\"result\":{\"sealed\":\"AAA\",\"sig\":\"s1\"},"
	    "\"log_head\":{\"seq\":4,\"hash\":\"abcd\"}}";
	const char *res2 = "{\"round\":1,\"result\":{\"sealed\":\"BBB\",\"sig\":\"s2\"},"
	    "\"log_head\":{\"seq\":5,\"hash\":\"abce\"}}";
	struct pht_err e;
	long st;
	json_t *j = NULL;
	int r;

	r = req(a, "POST", url("/v1/trains/t1/results"), res1, &st, &j, &e);
	tap_ok(r == PHT_OK && st == 201, "station a posts its result: 201");
	json_decref(j);
	r = req(a, "POST", url("/v1/trains/t1/results"), res1, &st, &j, &e);
	tap_ok(r == PHT_OK && st == 200 && json_is_false(json_object_get(j, "stored")),
	    "the same result again: 200, not stored twice");
	json_decref(j);
	r = req(a, "POST", url("/v1/trains/t1/results"), res2, &st, &j, &e);
	tap_ok(r == PHT_ERR_REPLAY && st == 409 && strstr(e.msg, "different result"),
	    "a different result for the same round: 409 (%s)", e.msg);
	json_decref(j);
	r = req(ana, "POST", url("/v1/trains/t1/results"), res1, &st, &j, &e);
	tap_ok(r == PHT_ERR_DENIED && st == 403, "an analyst cannot post results");
	json_decref(j);
	r = req(ana, "GET", url("/v1/trains/t1/results"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK && array_len(j, "results") == 1,
	    "analyst reads exactly one result");
	if (array_len(j, "results") == 1) {
		json_t *x = json_array_get(json_object_get(j, "results"), 0);
		tap_str(json_string_value(json_object_get(json_object_get(x, "result"),
		    "sealed")), "AAA", "the first result is the one kept");
		tap_ok(json_integer_value(json_object_get(json_object_get(x, "log_head"),
		    "seq")) == 4, "result carries the station's log head");
	}
	json_decref(j);
	r = req(a, "GET", url("/v1/inbox"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK && array_len(j, "trains") == 0,
	    "a result acks the station's inbox entry");
	json_decref(j);
	r = req(a, "POST", url("/v1/stations/self"),
	    "{\"dictionaries\":{\"registry\":{\"age\":\"integer\"}}}", &st, &j, &e);
	tap_ok(r == PHT_OK && st == 200, "station a publishes its dictionaries");
	json_decref(j);
	r = req(ana, "GET", url("/v1/stations"), NULL, &st, &j, &e);
	tap_ok(r == PHT_OK && array_len(j, "stations") >= 1, "stations listed");
	if (array_len(j, "stations") >= 1) {
		json_t *s0 = json_array_get(json_object_get(j, "stations"), 0);
		tap_str(json_string_value(json_object_get(s0, "id")), "a", "station a");
		tap_str(json_string_value(json_object_get(json_object_get(
		    json_object_get(s0, "dictionaries"), "registry"), "age")),
		    "integer", "its dictionary as published");
		tap_ok(json_is_string(json_object_get(s0, "last_seen")) &&
		    json_integer_value(json_object_get(json_object_get(s0, "log_head"),
		    "seq")) == 4, "last seen and log head listed");
	}
	json_decref(j);
	r = req(ana, "POST", url("/v1/stations/self"), "{\"dictionaries\":{}}",
	    &st, &j, &e);
	tap_ok(r == PHT_ERR_DENIED, "an analyst cannot publish as a station");
	json_decref(j);
}

/*
 * A train flood: new rounds to three stations that never take them, until
 * the analyst's share of the mailbox (max_pending 300 here) is used. The
 * next round gets 429 with the reason and is not stored; another analyst
 * still posts. Bounded: at most 120 rounds are tried.
 */
static void
test_flood(struct pht_http *ana, struct pht_http *bob)
{
	struct pht_err e;
	json_t *j = NULL;
	char body[512];
	long st = 0;
	int i, r = PHT_OK, posted = 0;

	for (i = 0; i < 120; i++) {
		snprintf(body, sizeof(body), "{\"train\":\"flood%d\",\"round\":1,"
		    "\"stations\":[\"x\",\"y\",\"z\"],\"envelope\":\"{\\\"id\\\":"
		    "\\\"flood%d\\\"}\"}", i, i);
		r = req(ana, "POST", url("/v1/trains"), body, &st, &j, &e);
		json_decref(j);
		if (r != PHT_OK)
			break;
		posted++;
	}
	tap_ok(r == PHT_ERR_POLICY && st == 429 && strstr(e.msg, "analyst ana has ") !=
	    NULL && strstr(e.msg, "limit of 300 (limits.max_pending)") != NULL,
	    "a flood of rounds ends in 429 at the analyst's share (%s)", e.msg);
	tap_ok(posted >= 1 && posted <= 100, "  after %d rounds of 3 entries", posted);
	snprintf(body, sizeof(body), "/v1/trains/flood%d/results?wait=0", posted);
	r = req(ana, "GET", url(body), NULL, &st, &j, &e);
	tap_ok(r == PHT_ERR_NOT_FOUND && st == 404, "  the refused round was not stored "
	    "(%s)", e.msg);
	json_decref(j);
	r = req(bob, "POST", url("/v1/trains"), "{\"train\":\"bobs\",\"round\":1,"
	    "\"stations\":[\"x\"],\"envelope\":\"{}\"}", &st, &j, &e);
	tap_ok(r == PHT_OK && st == 201, "  another analyst still posts (%s)", e.msg);
	json_decref(j);
}

int
main(void)
{
	struct pht_http *ana, *bob, *a, *b;
	char cmd[300];
	int r;

	if ((pht = getenv("PHT")) == NULL) {
		printf("1..0 # SKIP PHT not set\n");
		return 0;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	tap_ok(setup() == 0, "PKI made with pht pki");
	r = start_node();
	tap_ok(r == 0, "node started on 127.0.0.1 port %d", node_port);
	if (node_pid > 0) {
		ana = client("ana", 20000);
		bob = client("bob", 20000);
		a = client("a", 20000);
		b = client("b", 20000);
		if (ana && bob && a && b) {
			test_roles(ana, bob, a, b);
			test_errors(ana, a);
			test_results(ana, a);
			test_long_polls(ana, b);
			test_many_polls(ana);
			test_small_response_bound();
			test_flood(ana, bob);
		}
		pht_http_free(ana);
		pht_http_free(bob);
		pht_http_free(a);
		pht_http_free(b);
		test_restart();
		test_http_client_errors();
	}
	cleanup();
	if (tap_done() == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", dir);
		return 0;
	}
	tap_diag("left %s for inspection (node.log)", dir);
	return 1;
}
