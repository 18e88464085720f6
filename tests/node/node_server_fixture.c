/* node_server_fixture.c — the node test_node_server drives: its PKI and config, starting and stopping it, its log, and clients that talk to it. */
#include "tap.h"
#include "node_server_fixture.h"

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

TAP_SHARED_DEFINE;     /* the TAP tally of every file of test_node_server */

char dir[] = "/tmp/pht-node-srv-XXXXXX";
const char *pht;
pid_t node_pid = -1;
int node_port;

void
msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

char *
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

int
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
int
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

void
cleanup(void)
{
	if (node_pid > 0)
		stop_node(SIGKILL);
}

int
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
int
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
int
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

struct pht_http *
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

char *
url(const char *p)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "https://localhost:%d%s", node_port, p);
	return buf[i];
}

/* One request; returns the library code, fills status, body JSON and err. */
int
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

size_t
array_len(json_t *j, const char *field)
{
	return json_array_size(json_object_get(j, field));
}

void *
poll_thread(void *arg)
{
	struct poll *p = arg;
	struct pht_http *h = client(p->who, p->timeout_ms);

	p->rc = h ? req(h, "GET", p->url, NULL, &p->status, &p->j, &p->e) :
	    PHT_ERR_INTERNAL;
	pht_http_free(h);
	return NULL;
}

int
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
