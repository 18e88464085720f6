/* test_node_server.c — a real node on 127.0.0.1 driven by pht_http: roles, owners, errors, long polls, restarts. */
#include "tap.h"

#include "pht_buf.h"
#include "pht_err.h"
#include "pht_http.h"
#include "pht_json.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

static char dir[] = "/tmp/pht-node-srv-XXXXXX";
static const char *pht;
static pid_t node_pid = -1;
static int node_port;

static void
msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static char *path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
path(const char *fmt, ...)
{
	static char buf[8][600];
	static int i;
	char rel[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, rel);
	return buf[i];
}

static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Stops the node with sig, then SIGKILL if it does not stop in ~10 s. */
static int
stop_node(int sig)
{
	int st = -1, i;

	if (node_pid <= 0)
		return -1;
	kill(node_pid, sig);
	for (i = 0; i < 400; i++) {
		if (waitpid(node_pid, &st, WNOHANG) == node_pid)
			break;
		msleep(25);
	}
	if (i == 400) {
		kill(node_pid, SIGKILL);
		waitpid(node_pid, &st, 0);
	}
	node_pid = -1;
	return st;
}

static void
cleanup(void)
{
	if (node_pid > 0)
		stop_node(SIGKILL);
}

static int
start_node(void)
{
	char buf[32];
	FILE *f;
	int i, fd, st;

	unlink(path("port"));
	node_pid = fork();
	if (node_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(path("node.log"), O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		execl(pht, "pht", "node", "serve", "--config", path("node.json"),
		    "--port-file", path("port"), (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 400; i++) {
		if ((f = fopen(path("port"), "r")) != NULL) {
			int ok = fgets(buf, sizeof(buf), f) != NULL;
			fclose(f);
			if (ok && (node_port = atoi(buf)) > 0)
				return 0;
		}
		if (waitpid(node_pid, &st, WNOHANG) == node_pid) {
			node_pid = -1;
			return -1;
		}
		msleep(25);
	}
	return -1;
}

/* Counts occurrences of needle in the node's log. */
static int
log_count(const char *needle)
{
	char line[2048];
	FILE *f = fopen(path("node.log"), "r");
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/* Waits (bounded, ~10 s) until needle appears at least count times. */
static int
wait_log(const char *needle, int count)
{
	int i;

	for (i = 0; i < 400; i++) {
		if (log_count(needle) >= count)
			return 1;
		msleep(25);
	}
	return 0;
}

static struct pht_http *
client(const char *who, long timeout_ms)
{
	struct pht_http_opts o;
	struct pht_http *h = NULL;
	struct pht_err e;
	char cert[600], key[600], ca[600];

	snprintf(cert, sizeof(cert), "%s", path("%s/cert.pem", who));
	snprintf(key, sizeof(key), "%s", path("%s/key.pem", who));
	snprintf(ca, sizeof(ca), "%s", path("ca/ca.pem"));
	memset(&o, 0, sizeof(o));
	o.cert = cert;
	o.key = key;
	o.ca = ca;
	o.timeout_ms = timeout_ms;
	if (pht_http_new(&o, &h, &e) != PHT_OK)
		tap_diag("client %s: %s", who, e.msg);
	return h;
}

static char *
url(const char *p)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "https://localhost:%d%s", node_port, p);
	return buf[i];
}

/* One request; returns the library code, fills status, body JSON and err. */
static int
req(struct pht_http *h, const char *method, const char *u, const char *body,
    long *status, json_t **j, struct pht_err *e)
{
	struct pht_buf *resp = NULL;
	struct pht_err je;
	int r;

	*j = NULL;
	pht_err_clear(e);
	r = pht_http_request(h, method, u, body, body ? strlen(body) : 0, 0,
	    status, &resp, e);
	if (resp != NULL && pht_buf_len(resp) > 0)
		pht_json_parse(pht_buf_str(resp), pht_buf_len(resp), "response", j, &je);
	pht_buf_free(resp);
	return r;
}

static size_t
array_len(json_t *j, const char *field)
{
	return json_array_size(json_object_get(j, field));
}

/* A long poll run in a thread (a client per thread). */
struct poll {
	pthread_t t;
	const char *who;
	char url[512];
	long timeout_ms;
	int rc;
	long status;
	json_t *j;
	struct pht_err e;
};

static void *
poll_thread(void *arg)
{
	struct poll *p = arg;
	struct pht_http *h = client(p->who, p->timeout_ms);

	p->rc = h ? req(h, "GET", p->url, NULL, &p->status, &p->j, &p->e) :
	    PHT_ERR_INTERNAL;
	pht_http_free(h);
	return NULL;
}

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

/* Long polls: parked until work arrives, then answered with it. */
static void
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

static void
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

static void
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

static void
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

static void
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

static int
setup(void)
{
	FILE *f;

	if (sh("'%s' pki init --out %s >/dev/null", pht, path("ca")) ||
	    sh("'%s' pki init --out %s >/dev/null", pht, path("other")) ||
	    sh("'%s' pki issue --ca %s --role node --name node --out %s >/dev/null",
	    pht, path("ca"), path("node")) ||
	    sh("'%s' pki issue --ca %s --role station --name a --out %s >/dev/null",
	    pht, path("ca"), path("a")) ||
	    sh("'%s' pki issue --ca %s --role station --name b --out %s >/dev/null",
	    pht, path("ca"), path("b")) ||
	    sh("'%s' pki issue --ca %s --role station --name c --out %s >/dev/null",
	    pht, path("ca"), path("c")) ||
	    sh("'%s' pki issue --ca %s --role analyst --name ana --out %s >/dev/null",
	    pht, path("ca"), path("ana")) ||
	    sh("'%s' pki issue --ca %s --role analyst --name bob --out %s >/dev/null",
	    pht, path("ca"), path("bob")) ||
	    sh("'%s' pki issue --ca %s --role analyst --name ana --out %s >/dev/null",
	    pht, path("other"), path("foreign")))
		return -1;
	if ((f = fopen(path("node.json"), "w")) == NULL)
		return -1;
	fprintf(f, "{\"listen\":\"127.0.0.1\",\"port\":0,\"cert\":\"node/cert.pem\","
	    "\"key\":\"node/key.pem\",\"ca\":\"ca/ca.pem\",\"database\":\"node.db\","
	    "\"limits\":{\"max_body\":65536,\"max_wait\":60,\"timeout\":90,"
	    "\"max_pending\":300}}\n");
	fclose(f);
	return 0;
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
