/* bench_nodescale.c — pht-bench-nodescale: benchmark 6, many simulated stations long-polling one node. */
#include "bench_util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX ((size_t)1 << 20)

static const char *usage =
    "usage: pht-bench-nodescale URL CA.pem ANALYST_DIR STATIONS_DIR N REPS NODE_PID\n"
    "\n"
    "N simulated stations (STATIONS_DIR/sNNNN/{cert,key}.pem, names s0001..)\n"
    "connect to the node at URL with their own certificates and park a long\n"
    "poll on their inbox; the analyst (ANALYST_DIR/{cert,key}.pem) posts a\n"
    "train to all of them; each station posts a result as soon as the train\n"
    "reaches it, and the analyst long-polls until it holds all N results.\n"
    "REPS times. Prints scale.node_rss_idle_kib and scale.node_rss_parked_kib\n"
    "(the node's VmRSS before and with N parked polls, from /proc/NODE_PID),\n"
    "per repetition scale.fanout.seconds (post to the last station holding\n"
    "the train) and scale.collect.seconds (post to the analyst holding all N\n"
    "results), and scale.node_hwm_kib at the end. The node relays opaque\n"
    "results: no station signs or seals anything here.\n";

enum st_state { ST_IDLE, ST_POLL, ST_POST, ST_DONE };

struct conn {
	CURL *h;
	char name[16];
	char *body;
	size_t len;
	int state;
	struct curl_slist *hdr;
	char *post;
};

static size_t
on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct conn *c = arg;
	size_t len = sz * n;
	char *nb;

	if (c->len + len > BODY_MAX || (nb = realloc(c->body, c->len + len + 1)) == NULL)
		return 0;
	c->body = nb;
	memcpy(c->body + c->len, p, len);
	c->len += len;
	c->body[c->len] = '\0';
	return len;
}

static int
setup(struct conn *c, const char *ca, const char *dir)
{
	char cert[4096], key[4096];

	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	if ((c->h = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(c->h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c->h, CURLOPT_SSLCERT, cert);
	curl_easy_setopt(c->h, CURLOPT_SSLKEY, key);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYHOST, 0L);
	return 0;
}

/* A GET (post == NULL) or a JSON POST on c's handle. */
static void
request(CURLM *m, struct conn *c, const char *url, const char *post)
{
	curl_multi_remove_handle(m, c->h);
	c->len = 0;
	free(c->post);
	c->post = post != NULL ? strdup(post) : NULL;
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	if (c->post != NULL) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->post);
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdr);
	} else
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	curl_multi_add_handle(m, c->h);
}

static long
node_kib(const char *pid, const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return v;
}

/* Runs the multi handle for up to ms; finished transfers go to done(). */
static void
pump(CURLM *m, int ms, void (*done)(CURLM *, struct conn *, void *), void *arg)
{
	CURLMsg *msg;
	int running, left;
	double until = bench_now() + ms / 1000.0;

	do {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct conn *c;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			curl_multi_remove_handle(m, c->h);
			done(m, c, arg);
		}
		curl_multi_poll(m, NULL, 0, 10, NULL);
	} while (bench_now() < until);
}

struct run {
	const char *url;
	char train[40];
	struct conn *st, *an;
	size_t n, got_train, posted, results;
	int next, analyst_polling;
	double t0, t_fanout, t_collect;
	int warm;                 /* warm-up: count finished empty polls */
	size_t warmed;
};

static void
on_done(CURLM *m, struct conn *c, void *arg)
{
	struct run *r = arg;
	char url[512], body[256];
	long code = 0;

	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (c == r->an) {
		json_t *j = c->body ? json_loads(c->body, 0, NULL) : NULL;

		if (r->analyst_polling && code == 200 && j != NULL) {
			r->results += json_array_size(json_object_get(j, "results"));
			r->next = (int)json_integer_value(json_object_get(j, "next"));
		}
		json_decref(j);
		r->analyst_polling = 1;
		if (r->results >= r->n) {
			r->t_collect = bench_now() - r->t0;
			return;
		}
		snprintf(url, sizeof(url), "%s/v1/trains/%s/results?wait=30&after=%d",
		    r->url, r->train, r->next);
		request(m, c, url, NULL);
		return;
	}
	if (r->warm) {
		r->warmed++;
		c->state = ST_IDLE;
		return;
	}
	if (c->state == ST_POLL) {
		if (code == 200 && c->body != NULL && strstr(c->body, r->train) != NULL) {
			if (++r->got_train == r->n)
				r->t_fanout = bench_now() - r->t0;
			snprintf(url, sizeof(url), "%s/v1/trains/%s/results", r->url, r->train);
			snprintf(body, sizeof(body), "{\"round\": 1, \"result\": \"%s\", "
			    "\"log_head\": {\"seq\": 0, \"hash\": \"h\"}}", c->name);
			c->state = ST_POST;
			request(m, c, url, body);
		} else {
			snprintf(url, sizeof(url), "%s/v1/inbox?wait=30", r->url);
			request(m, c, url, NULL);
		}
	} else if (c->state == ST_POST) {
		r->posted++;
		c->state = ST_DONE;
	}
}

int
main(int argc, char **argv)
{
	struct run r;
	struct conn *st = NULL, an;
	CURLM *m = NULL;
	char dir[4096], url[512], *post = NULL;
	size_t i, n, off, cap;
	long reps, rep;
	int rc = 1;

	if (argc != 8 || (n = strtoul(argv[5], NULL, 10)) < 1 || n > 1000 ||
	    (reps = strtol(argv[6], NULL, 10)) < 1 || reps > 100) {
		fputs(usage, stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	memset(&r, 0, sizeof(r));
	memset(&an, 0, sizeof(an));
	r.url = argv[1];
	r.n = n;
	r.an = &an;
	if ((m = curl_multi_init()) == NULL || (st = calloc(n, sizeof(*st))) == NULL)
		goto out;
	r.st = st;
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n + 10);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n + 10);
	if (setup(&an, argv[2], argv[3]) != 0)
		goto out;
	an.hdr = curl_slist_append(NULL, "Content-Type: application/json");
	for (i = 0; i < n; i++) {
		snprintf(st[i].name, sizeof(st[i].name), "s%04zu", i + 1);
		snprintf(dir, sizeof(dir), "%s/%s", argv[4], st[i].name);
		if (setup(&st[i], argv[2], dir) != 0)
			goto out;
		st[i].hdr = an.hdr;
	}
	bench_metric("scale.node_rss_idle_kib", (double)node_kib(argv[7], "VmRSS:"));
	/* warm-up: every station connects (TLS handshake) with an empty poll */
	r.warm = 1;
	snprintf(url, sizeof(url), "%s/v1/inbox?wait=0", r.url);
	for (i = 0; i < n; i++)
		request(m, &st[i], url, NULL);
	for (i = 0; i < 600 && r.warmed < n; i++)
		pump(m, 100, on_done, &r);
	if (r.warmed < n) {
		fprintf(stderr, "pht-bench-nodescale: only %zu of %zu stations connected\n",
		    r.warmed, n);
		goto out;
	}
	r.warm = 0;
	cap = 64 + n * 10;
	if ((post = malloc(cap + 256)) == NULL)
		goto out;
	for (rep = 0; rep < reps; rep++) {
		snprintf(r.train, sizeof(r.train), "%016llx%016llx",
		    (unsigned long long)bench_now() * 1000003ull, (unsigned long long)rep + 1);
		r.got_train = r.posted = r.results = 0;
		r.next = 0;
		r.analyst_polling = 0;
		r.t_fanout = r.t_collect = 0;
		snprintf(url, sizeof(url), "%s/v1/inbox?wait=30", r.url);
		for (i = 0; i < n; i++) {
			st[i].state = ST_POLL;
			request(m, &st[i], url, NULL);
		}
		pump(m, 2000, on_done, &r);             /* all polls parked */
		if (rep == 0)
			bench_metric("scale.node_rss_parked_kib",
			    (double)node_kib(argv[7], "VmRSS:"));
		off = (size_t)snprintf(post, cap, "{\"train\": \"%s\", \"round\": 1, "
		    "\"envelope\": \"{}\", \"stations\": [", r.train);
		for (i = 0; i < n; i++)
			off += (size_t)snprintf(post + off, cap + 256 - off, "%s\"%s\"",
			    i ? "," : "", st[i].name);
		snprintf(post + off, cap + 256 - off, "]}");
		snprintf(url, sizeof(url), "%s/v1/trains", r.url);
		r.t0 = bench_now();
		request(m, &an, url, post);
		for (i = 0; i < 1200 && r.t_collect == 0; i++)
			pump(m, 50, on_done, &r);
		if (r.t_collect == 0) {
			fprintf(stderr, "pht-bench-nodescale: %zu trains delivered, %zu results "
			    "posted, %zu collected within 60 s\n", r.got_train, r.posted, r.results);
			goto out;
		}
		bench_metric("scale.fanout.seconds", r.t_fanout);
		bench_metric("scale.collect.seconds", r.t_collect);
	}
	bench_metric("scale.node_hwm_kib", (double)node_kib(argv[7], "VmHWM:"));
	rc = 0;
out:
	for (i = 0; st != NULL && i < n; i++) {
		if (st[i].h != NULL) {
			curl_multi_remove_handle(m, st[i].h);
			curl_easy_cleanup(st[i].h);
		}
		free(st[i].body);
		free(st[i].post);
	}
	if (an.h != NULL) {
		curl_multi_remove_handle(m, an.h);
		curl_easy_cleanup(an.h);
	}
	free(an.body);
	free(an.post);
	curl_slist_free_all(an.hdr);
	free(st);
	free(post);
	curl_multi_cleanup(m);
	curl_global_cleanup();
	return rc;
}
