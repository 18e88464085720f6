/* test_sandbox_station.c — a station on the deliberately broken runtime: a signed train that opens a socket is killed by the filter, and the station logs the violation. */
#include "tap.h"
#include "train_envelope.h"
#include "sandbox_fixture_lib.h"

#include "pht_audit.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_key.h"
#include "pht_station_config.h"
#include "pht_station_exec.h"
#include "pht_time.h"
#include "pht_trainmsg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/pht-sbx-station-XXXXXX";

static const char *train_fmt_head =
    "return { name = 'try', version = '1',\n"
    "  station = function(data, params)\n"
    "    local n = data:nrows()\n"
    "    local r, e = ";
static const char *train_fmt_tail =
    "\n    return { n = n, r = r, errno = e }\n"
    "  end,\n"
    "  combine = function(r) return { done = true, result = r[1] } end }\n";

static char *
envelope(const char *call, size_t *len)
{
	char path[1100], code[1024];

	snprintf(code, sizeof(code), "%s%s%s", train_fmt_head, call, train_fmt_tail);
	snprintf(path, sizeof(path), "%s/analyst.sign.key", dir);
	return test_train_envelope(path, code, NULL, "registry", "st-a", 0, 3600, len);
}

static int
last_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	json_t **l = arg;

	(void)line;
	(void)hash;
	json_decref(*l);
	*l = json_incref((json_t *)entry);
	return 0;
}

int
main(void)
{
	struct pht_station_config *cfg = NULL;
	struct pht_station *st = NULL;
	struct pht_station_result res;
	struct pht_err e;
	const char *src = getenv("PHT_SRC");
	const char *names[] = {"st-a", "analyst"};
	char text[4096], logp[1100], *env;
	json_t *l = NULL;
	size_t len, i;
	int r;

	if (mkdtemp(dir) == NULL)
		return 1;
	for (i = 0; i < 2; i++)
		if (pht_key_generate_files(dir, names[i], NULL, NULL, NULL) != PHT_OK)
			return 1;
	snprintf(text, sizeof(text),
	    "{\"station\":\"st-a\",\"datasets\":{\"registry\":{\"csv\":"
	    "\"%s/tests/data/station/registry.csv\"}},"
	    "\"signers\":[{\"name\":\"analyst\",\"key\":\"analyst.sign.pub\",\"mode\":\"auto\"}],"
	    "\"policy\":{\"limits\":{\"time_seconds\":30}},\"audit_log\":\"audit.log\","
	    "\"key\":\"st-a.sign.key\",\"seen_ids\":\"seen-ids\"}", src != NULL ? src : ".");
	if (pht_station_config_parse(text, strlen(text), "test.json", dir, &cfg, &e) != PHT_OK ||
	    pht_station_open(cfg, &st, &e) != PHT_OK) {
		tap_ok(0, "open the station: %s", e.msg);
		return tap_done();
	}
	snprintf(logp, sizeof(logp), "%s/audit.log", dir);

	env = envelope("try.socket()", &len);
	pht_err_clear(&e);
	r = pht_station_exec(st, env, len, &res, &e);
	free(env);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_FAILED && e.code == PHT_ERR_LIMIT &&
	    strstr(e.msg, "sandbox violation: system call ") != NULL &&
	    strstr(e.msg, "(socket) refused") != NULL && res.output == NULL,
	    "a signed train opening a socket is killed by the filter: failed, nothing "
	    "released (%s)", e.msg);
	pht_station_result_clear(&res);
	pht_audit_foreach(logp, last_fn, &l, NULL);
	tap_ok(l != NULL && strcmp(json_string_value(json_object_get(l, "event")), "failed") == 0 &&
	    strstr(json_string_value(json_object_get(l, "reason")), "(socket) refused") != NULL &&
	    strcmp(json_string_value(json_object_get(l, "error")), pht_strerror(PHT_ERR_LIMIT)) == 0,
	    "the audit log records the violation: failed, the system call, limit exceeded");
	json_decref(l);
	l = NULL;

	env = envelope("try.open('/etc/passwd')", &len);
	pht_err_clear(&e);
	r = pht_station_exec(st, env, len, &res, &e);
	free(env);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_RELEASED &&
	    json_integer_value(json_object_get(res.output, "r")) == -1 &&
	    json_integer_value(json_object_get(res.output, "errno")) == EACCES,
	    "a signed train opening a file gets EACCES and nothing of the file (%s)", e.msg);
	pht_station_result_clear(&res);

	env = envelope("try.execve()", &len);
	pht_err_clear(&e);
	r = pht_station_exec(st, env, len, &res, &e);
	free(env);
	tap_ok(r == PHT_OK && res.outcome == PHT_STATION_FAILED &&
	    strstr(e.msg, "(execve) refused") != NULL,
	    "a signed train running /bin/sh is killed and the station carries on (%s)", e.msg);
	pht_station_result_clear(&res);
	pht_station_close(st);
	return tap_done();
}
