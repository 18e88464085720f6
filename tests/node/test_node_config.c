/* test_node_config.c — NODE.json: defaults, path resolution and every refusal. */
#include "tap.h"

#include "pht_err.h"
#include "pht_node_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/pht-node-cfg-XXXXXX";

static const char *
write_cfg(const char *text)
{
	static char p[300];
	FILE *f;

	snprintf(p, sizeof(p), "%s/node.json", dir);
	if ((f = fopen(p, "w")) == NULL)
		return p;
	fputs(text, f);
	fclose(f);
	return p;
}

#define BASE "\"cert\":\"n/cert.pem\",\"key\":\"n/key.pem\",\"ca\":\"/etc/ca.pem\"," \
	"\"database\":\"node.db\""

/* Loads text; expects code and, on failure, needle in the detail. */
static void
expect(const char *text, int code, const char *needle, const char *what)
{
	struct pht_node_config *cfg = NULL;
	struct pht_err e;
	int r;

	pht_err_clear(&e);
	r = pht_node_config_load(write_cfg(text), &cfg, &e);
	tap_ok(r == code && (code == PHT_OK ? cfg != NULL :
	    cfg == NULL && strstr(e.msg, needle) != NULL),
	    "%s (%s)", what, code == PHT_OK ? "ok" : e.msg);
	pht_node_config_free(cfg);
}

int
main(void)
{
	struct pht_node_config *cfg = NULL;
	struct pht_err e;
	char want[400], cmd[300];
	int r;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	pht_err_clear(&e);
	r = pht_node_config_load(write_cfg("{" BASE "}"), &cfg, &e);
	tap_ok(r == PHT_OK && cfg != NULL, "minimal config loads");
	if (cfg != NULL) {
		tap_str(cfg->listen, "127.0.0.1", "listen defaults to loopback");
		tap_ok(cfg->port == 8443, "port defaults to 8443");
		snprintf(want, sizeof(want), "%s/n/cert.pem", dir);
		tap_str(cfg->cert, want, "relative path resolved against the file");
		tap_str(cfg->ca, "/etc/ca.pem", "absolute path kept");
		tap_ok(cfg->max_wait == 60 && cfg->timeout == 90 &&
		    cfg->max_body == 4 * 1024 * 1024 && cfg->inbox_batch == 16 &&
		    cfg->max_pending == 100000, "limit defaults");
	}
	pht_node_config_free(cfg);
	pht_node_config_free(NULL);

	expect("{" BASE ",\"port\":0,\"listen\":\"::1\",\"limits\":{\"max_wait\":5,"
	    "\"timeout\":6,\"max_body\":1024,\"max_headers\":2048,\"inbox_batch\":1,"
	    "\"results_batch\":1,\"max_pending\":1}}", PHT_OK, "",
	    "all fields at their bounds");
	expect("{" BASE ",\"limits\":{\"max_pending\":0}}", PHT_ERR_MALFORMED,
	    "max_pending: 0 is out of range", "max_pending 0");
	expect("{" BASE ",\"limits\":{\"max_connections\":10}}", PHT_OK, "",
	    "max_connections 10");
	expect("{" BASE ",\"limits\":{\"max_connections\":-1}}", PHT_ERR_MALFORMED,
	    "max_connections: -1 is out of range 0..10000000", "max_connections -1");
	expect("{" BASE ",\"colour\":1}", PHT_ERR_MALFORMED, "unknown field \"colour\"",
	    "unknown top-level field");
	expect("{" BASE ",\"limits\":{\"max_waitt\":1}}", PHT_ERR_MALFORMED,
	    "limits: unknown field \"max_waitt\"", "unknown limits field");
	expect("{\"cert\":\"c\",\"key\":\"k\",\"ca\":\"a\"}", PHT_ERR_MALFORMED,
	    "field database: missing", "missing database");
	expect("{" BASE ",\"port\":\"8443\"}", PHT_ERR_MALFORMED, "field port",
	    "port as a string");
	expect("{" BASE ",\"port\":70000}", PHT_ERR_MALFORMED, "out of range 0..65535",
	    "port out of range");
	expect("{" BASE ",\"limits\":{\"max_wait\":61}}", PHT_ERR_MALFORMED,
	    "max_wait: 61 is out of range 1..60", "max_wait above 60");
	expect("{" BASE ",\"limits\":{\"max_wait\":30,\"timeout\":30}}",
	    PHT_ERR_MALFORMED, "timeout (30) must be longer than max_wait (30)",
	    "timeout not above max_wait");
	expect("{" BASE ",\"limits\":{\"max_body\":10}}", PHT_ERR_MALFORMED,
	    "max_body: 10 is out of range", "max_body too small");
	expect("{" BASE ",\"limits\":[]}", PHT_ERR_MALFORMED, "field limits",
	    "limits not an object");
	expect("{\"cert\":\"\",\"key\":\"k\",\"ca\":\"a\",\"database\":\"d\"}",
	    PHT_ERR_MALFORMED, "field cert: empty", "empty path");
	expect("[1]", PHT_ERR_MALFORMED, "not a JSON object", "not an object");
	expect("{" BASE ",\"port\":1,\"port\":2}", PHT_ERR_MALFORMED, "duplicate",
	    "duplicate key");
	expect("{" BASE, PHT_ERR_MALFORMED, "line 1", "truncated JSON");
	r = pht_node_config_load("/nonexistent/node.json", &cfg, &e);
	tap_ok(r == PHT_ERR_IO && cfg == NULL && strstr(e.msg, "/nonexistent/node.json"),
	    "missing file: IO error naming it (%s)", e.msg);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
