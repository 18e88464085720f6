/* test_resultmsg.c — the signed result payload and the station's approval queue, every refusal with its code and detail. */
#include "tap.h"

#include "pht_enc.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_resultmsg.h"
#include "pht_station_queue.h"
#include "pht_trainmsg.h"
#include "pht_envelope.h"
#include "pht_key.h"
#include "pht_time.h"
#include "train_envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *H64 =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static void
spec_init(struct pht_resultmsg_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->train = "t1";
	s->round = 2;
	s->station = "st-a";
	s->status = "failed";
	s->issued = 1767225600; /* 2026-01-01T00:00:00Z */
	s->log_seq = 7;
	s->log_hash = H64;
	s->error = "train error";
	s->reason = "the train raised an error";
}

/* Parses text; returns the code and leaves the detail in e. */
static int
parse(const char *text, struct pht_err *e)
{
	struct pht_resultmsg *m = NULL;
	int r;

	pht_err_clear(e);
	r = pht_resultmsg_parse((const uint8_t *)text, strlen(text), &m, e);
	tap_ok(r == PHT_OK || m == NULL, "no message on failure");
	pht_resultmsg_free(m);
	return r;
}

static void
test_build_parse(void)
{
	struct pht_resultmsg_spec s;
	struct pht_resultmsg *m = NULL;
	struct pht_err e;
	uint8_t blob[3] = {1, 2, 3};
	const uint8_t *got;
	char *text = NULL;
	size_t len, n;

	spec_init(&s);
	tap_ok(pht_resultmsg_build(&s, &text, &len, &e) == PHT_OK, "build a clear failure");
	tap_str(text, "{\"error\":\"train error\",\"issued\":\"2026-01-01T00:00:00Z\","
	    "\"kind\":\"pht-result\",\"log_head\":{\"hash\":\"00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff\",\"seq\":7},\"reason\":\"the train raised "
	    "an error\",\"round\":2,\"station\":\"st-a\",\"status\":\"failed\",\"train\":\"t1\"}",
	    "compact, sorted, the documented fields");
	tap_ok(pht_resultmsg_parse((const uint8_t *)text, len, &m, &e) == PHT_OK, "parses back");
	tap_str(pht_resultmsg_train(m), "t1", "train");
	tap_ok(pht_resultmsg_round(m) == 2, "round");
	tap_str(pht_resultmsg_station(m), "st-a", "station");
	tap_str(pht_resultmsg_status(m), "failed", "status");
	tap_ok(pht_resultmsg_issued(m) == 1767225600, "issued");
	tap_ok(pht_resultmsg_log_seq(m) == 7, "log seq");
	tap_str(pht_resultmsg_log_hash(m), H64, "log hash");
	tap_ok(pht_resultmsg_sealed(m, &n) == NULL && n == 0, "no sealed part");
	tap_str(pht_resultmsg_reason(m), "the train raised an error", "reason");
	pht_resultmsg_free(m);
	m = NULL;
	free(text);
	text = NULL;

	s.status = "released";
	s.sealed = blob;
	s.sealed_len = sizeof(blob);
	tap_ok(pht_resultmsg_build(&s, &text, &len, &e) == PHT_OK, "build a sealed release");
	tap_ok(strstr(text, "\"sealed\":\"AQID\"") != NULL && strstr(text, "reason") == NULL,
	    "sealed as base64 (AQID), no clear reason");
	tap_ok(pht_resultmsg_parse((const uint8_t *)text, len, &m, &e) == PHT_OK, "parses");
	got = pht_resultmsg_sealed(m, &n);
	tap_ok(got != NULL && n == 3 && memcmp(got, blob, 3) == 0, "sealed bytes back");
	tap_ok(pht_resultmsg_error(m) == NULL && pht_resultmsg_reason(m) == NULL,
	    "no clear error with a seal");
	pht_resultmsg_free(m);
	free(text);
	text = NULL;

	s.sealed = NULL;
	tap_ok(pht_resultmsg_build(&s, &text, &len, &e) == PHT_ERR_MALFORMED &&
	    text == NULL, "a released result must be sealed");
	tap_str(pht_err_msg(&e), "result: malformed field sealed: missing (a released "
	    "result is sealed)", "detail");
	spec_init(&s);
	s.train = NULL;
	tap_ok(pht_resultmsg_build(&s, &text, &len, &e) == PHT_ERR_INVALID,
	    "build without a train id: PHT_ERR_INVALID");
}

static void
test_refusals(void)
{
	static const struct { const char *text; int code; const char *detail; } c[] = {
		{"[]", PHT_ERR_MALFORMED, "result: malformed: not a JSON object"},
		{"{\"kind\":\"pht-result\",\"x\":1}", PHT_ERR_MALFORMED,
		    "result: malformed: unknown field x"},
		{"{\"kind\":\"pht-train\"}", PHT_ERR_MALFORMED,
		    "result: malformed field kind: not \"pht-result\""},
		{"{\"train\":\"t\"}", PHT_ERR_MALFORMED, "result: malformed field kind: missing"},
		{"{\"kind\":\"pht-result\",\"train\":\"a/b\"}", PHT_ERR_MALFORMED,
		    "result: malformed field train: not 1 to 128 of [A-Za-z0-9_.-]"},
		{"{\"kind\":\"pht-result\",\"train\":\"t\",\"station\":\"s\",\"round\":0}",
		    PHT_ERR_MALFORMED, "result: malformed field round: out of range (1 to 1000000)"},
		{"{\"kind\":\"pht-result\",\"train\":\"t\",\"station\":\"s\",\"round\":1,"
		    "\"status\":\"ok\"}", PHT_ERR_MALFORMED, "result: malformed field status: "
		    "not released, rejected, failed, withheld or refused"},
		{"{\"kind\":\"pht-result\",\"train\":\"t\",\"station\":\"s\",\"round\":1,"
		    "\"status\":\"failed\",\"issued\":\"yesterday\"}", PHT_ERR_MALFORMED,
		    "result: malformed field issued: not an RFC 3339 UTC time"},
		{"{\"kind\":\"pht-result\",\"train\":\"t\",\"station\":\"s\",\"round\":1,"
		    "\"status\":\"failed\",\"issued\":\"2026-01-01T00:00:00Z\",\"log_head\":"
		    "{\"seq\":1,\"hash\":\"AB\"}}", PHT_ERR_MALFORMED,
		    "result: malformed field log_head: hash is not 64 lower-case hex digits"},
		{"{\"kind\":\"pht-result\",\"train\":\"t\",\"station\":\"s\",\"round\":1,"
		    "\"status\":\"failed\",\"issued\":\"2026-01-01T00:00:00Z\",\"log_head\":"
		    "{\"seq\":-1,\"hash\":\"AB\"}}", PHT_ERR_MALFORMED,
		    "result: malformed field log_head: seq is not a non-negative integer"},
		{"{\"kind\":\"pht-result\",\"train\":\"t\",\"station\":\"s\",\"round\":1,"
		    "\"status\":\"failed\",\"issued\":\"2026-01-01T00:00:00Z\",\"log_head\":"
		    "{\"seq\":1,\"hash\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"},"
		    "\"error\":\"x\"}", PHT_ERR_MALFORMED,
		    "result: malformed field reason: missing (an unsealed result says why in clear)"},
		{"{\"kind\":\"pht-result\",\"train\":\"t\",\"station\":\"s\",\"round\":1,"
		    "\"status\":\"failed\",\"issued\":\"2026-01-01T00:00:00Z\",\"log_head\":"
		    "{\"seq\":1,\"hash\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"},"
		    "\"sealed\":\"AQID\",\"error\":\"x\"}", PHT_ERR_MALFORMED,
		    "result: malformed field error: must not be in clear beside sealed"},
		{"{\"kind\":\"pht-result\",\"train\":\"t\",\"station\":\"s\",\"round\":1,"
		    "\"status\":\"released\",\"issued\":\"2026-01-01T00:00:00Z\",\"log_head\":"
		    "{\"seq\":1,\"hash\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"},"
		    "\"sealed\":\"A!ID\"}", PHT_ERR_MALFORMED,
		    "result: malformed field sealed: not standard base64"},
	};
	struct pht_err e;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		tap_ok(parse(c[i].text, &e) == c[i].code, "refusal %zu: code %d", i, c[i].code);
		tap_str(pht_err_msg(&e), c[i].detail, "refusal %zu: detail", i);
	}
}

/* A train payload never parses as a result, and a result never as a train. */
static void
test_not_confusable(void)
{
	struct pht_trainmsg_spec ts;
	struct pht_resultmsg_spec rs;
	struct pht_trainmsg *tm = NULL;
	struct pht_err e;
	char *train = NULL, *result = NULL;
	size_t tl, rl;

	memset(&ts, 0, sizeof(ts));
	ts.code = "return 1\n";
	ts.code_len = strlen(ts.code);
	ts.round = 1;
	ts.issued = 1767225600;
	ts.expires = ts.issued + 3600;
	memset(ts.result_key, 9, sizeof(ts.result_key));
	tap_ok(pht_trainmsg_build(&ts, &train, &tl, &e) == PHT_OK, "a train payload");
	tap_ok(parse(train, &e) == PHT_ERR_MALFORMED && strstr(pht_err_msg(&e),
	    "result: malformed: unknown field") != NULL, "is refused as a result (%s)",
	    pht_err_msg(&e));
	spec_init(&rs);
	tap_ok(pht_resultmsg_build(&rs, &result, &rl, &e) == PHT_OK, "a result payload");
	tap_ok(pht_trainmsg_parse((const uint8_t *)result, rl, ts.issued, &tm, &e) ==
	    PHT_ERR_MALFORMED && tm == NULL, "is refused as a train (%s)", pht_err_msg(&e));
	free(train);
	free(result);
}

static void
test_queue(void)
{
	char tmpl[] = "/tmp/pht-queue-XXXXXX", dir[64], path[128], dict[128], key[128];
	char *env, *old;
	struct pht_err e;
	json_t *item, *list = NULL, *got = NULL, *params, *cols = NULL;
	size_t elen;
	FILE *f;

	tap_ok(mkdtemp(tmpl) != NULL, "temporary directory");
	snprintf(dir, sizeof(dir), "%s/q", tmpl);
	snprintf(key, sizeof(key), "%s/ana.sign.key", tmpl);
	tap_ok(pht_key_generate_files(tmpl, "ana", NULL, NULL, &e) == PHT_OK, "a signer's key");
	/* a train valid for an hour, and one that expired a minute ago */
	env = test_train_envelope(key, "return {}", NULL, NULL, "a", 0, 3600, &elen);
	old = test_train_envelope(key, "return {}", NULL, NULL, "a", -7200, -60, &elen);
	tap_ok(pht_station_queue_list(dir, &list, &e) == PHT_OK &&
	    json_array_size(list) == 0, "a missing queue is empty");
	json_decref(list);
	list = NULL;

	item = json_pack("{s:s, s:s, s:s}", "train", "t3", "envelope", old, "signer", "eve");
	tap_ok(pht_station_queue_add(dir, item, &e) == PHT_OK, "add t3, expired");
	json_decref(item);
	item = json_pack("{s:s, s:s, s:s}", "train", "t1", "envelope", env, "signer", "eve");
	tap_ok(pht_station_queue_add(dir, item, &e) == PHT_OK, "add t1");
	tap_ok(pht_station_queue_add(dir, item, &e) == PHT_ERR_REPLAY, "t1 twice: PHT_ERR_REPLAY");
	tap_str(pht_err_msg(&e), "train t1 is queued already", "detail");
	json_decref(item);
	item = json_pack("{s:s, s:s}", "train", "../x", "envelope", "{}");
	tap_ok(pht_station_queue_add(dir, item, &e) == PHT_ERR_INVALID, "a path as id: "
	    "PHT_ERR_INVALID");
	tap_str(pht_err_msg(&e), "queue id \"../x\": not a train id", "detail");
	json_decref(item);
	item = json_pack("{s:s}", "train", "t2");
	tap_ok(pht_station_queue_add(dir, item, &e) == PHT_ERR_INVALID, "no envelope: "
	    "PHT_ERR_INVALID");
	json_decref(item);

	tap_ok(pht_station_queue_get(dir, "t1", &got, &e) == PHT_OK &&
	    strcmp(json_string_value(json_object_get(got, "state")), "pending") == 0 &&
	    json_is_string(json_object_get(got, "queued")), "t1 is pending, with a time");
	json_decref(got);
	got = NULL;
	tap_ok(pht_station_queue_get(dir, "t9", &got, &e) == PHT_ERR_NOT_FOUND, "unknown id: "
	    "PHT_ERR_NOT_FOUND");
	tap_str(pht_err_msg(&e), "no queued train t9", "detail");
	tap_ok(pht_station_queue_decide(dir, "t1", 1, "", &e) == PHT_ERR_INVALID,
	    "an empty decider: PHT_ERR_INVALID");
	tap_ok(pht_station_queue_decide(dir, "t1", 1, "dora", &e) == PHT_OK, "dora approves");
	tap_ok(pht_station_queue_decide(dir, "t1", 0, "max", &e) == PHT_ERR_DENIED,
	    "a second decision: PHT_ERR_DENIED");
	tap_str(pht_err_msg(&e), "train t1 was already approved by dora", "detail");
	tap_ok(pht_station_queue_decide(dir, "t3", 1, "dora", &e) == PHT_ERR_EXPIRED,
	    "approving an expired train: PHT_ERR_EXPIRED");
	tap_ok(strstr(pht_err_msg(&e), "train t3 expired at ") != NULL &&
	    strstr(pht_err_msg(&e), "before this approval") != NULL, "detail: %s",
	    pht_err_msg(&e));
	tap_ok(pht_station_queue_get(dir, "t3", &got, &e) == PHT_OK &&
	    strcmp(json_string_value(json_object_get(got, "state")), "pending") == 0,
	    "  it stays pending");
	json_decref(got);
	got = NULL;
	tap_ok(pht_station_queue_decide(dir, "t3", 0, "dora", &e) == PHT_OK,
	    "refusing it is allowed");
	tap_ok(pht_station_queue_remove(dir, "t3", &e) == PHT_OK, "remove t3");
	tap_ok(pht_station_queue_list(dir, &list, &e) == PHT_OK && json_array_size(list) == 1 &&
	    strcmp(json_string_value(json_object_get(json_array_get(list, 0), "by")),
	    "dora") == 0, "the list shows the decision");
	json_decref(list);
	list = NULL;

	snprintf(path, sizeof(path), "%s/bad.json", dir);
	f = fopen(path, "w");
	fputs("{\"train\":1}", f);
	fclose(f);
	tap_ok(pht_station_queue_list(dir, &list, &e) == PHT_ERR_MALFORMED && list == NULL,
	    "a broken item is reported, not skipped");
	tap_ok(strstr(pht_err_msg(&e), "bad.json: not a queue item") != NULL, "detail names "
	    "it (%s)", pht_err_msg(&e));
	unlink(path);
	tap_ok(pht_station_queue_remove(dir, "t1", &e) == PHT_OK, "remove t1");
	tap_ok(pht_station_queue_remove(dir, "t1", &e) == PHT_ERR_NOT_FOUND, "again: "
	    "PHT_ERR_NOT_FOUND");

	snprintf(dict, sizeof(dict), "%s/d.dict.json", tmpl);
	f = fopen(dict, "w");
	fputs("{\"dataset\":\"d\",\"columns\":[{\"name\":\"age\"},{\"name\":\"sex\"},"
	    "{\"name\":\"time\"}]}", f);
	fclose(f);
	params = json_pack("{s:s, s:[s, s], s:i}", "outcome", "time", "covariates", "sex",
	    "nosuch", "k", 5);
	tap_ok(pht_station_queue_columns(dict, params, &cols, &e) == PHT_OK, "columns");
	{
		char *s = pht_json_dump(cols);
		tap_str(s, "[\"sex\",\"time\"]", "the params' columns, in dictionary order");
		free(s);
	}
	json_decref(cols);
	json_decref(params);
	unlink(dict);
	rmdir(dir);
	free(env);
	free(old);
	snprintf(path, sizeof(path), "%s/ana.sign.key", tmpl);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ana.sign.pub", tmpl);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ana.seal.key", tmpl);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ana.seal.pub", tmpl);
	unlink(path);
	rmdir(tmpl);
}

int
main(void)
{
	test_build_parse();
	test_refusals();
	test_not_confusable();
	test_queue();
	return tap_done();
}
