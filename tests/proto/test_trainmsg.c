/* test_trainmsg.c — pht_trainmsg: the wire form, round trips, and every refusal with its field named. */
#include "tap.h"
#include "proto_util.h"

#include "pht_err.h"
#include "pht_trainmsg.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1767225600)  /* 2026-01-01T00:00:00Z (date -u -d ... +%s) */

/* RFC 7748 section 6.1, Alice's public key, as the analyst's result key. */
static const char *alice_pub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

/*
 * The payload for the spec in base_spec(), written out by hand from the
 * format in pht_trainmsg.h (compact, sorted keys). code_sha256 is
 * `printf 'return 1\n' | sha256sum`; result_key is base64 of alice_pub.
 */
static const char *known_payload =
    "{\"code\":\"return 1\\n\","
    "\"code_sha256\":\"0805bfdc02e872ed322a4a4e440ae985f3a4335f4dd59f3d373dfaf2a68a4a3c\","
    "\"datasets\":[\"reg\"],"
    "\"expires\":\"2026-01-01T01:00:00Z\","
    "\"id\":\"00112233445566778899aabbccddeeff\","
    "\"issued\":\"2026-01-01T00:00:00Z\","
    "\"name\":\"mean\","
    "\"params\":{\"column\":\"age\"},"
    "\"result_key\":\"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\","
    "\"round\":2,"
    "\"stations\":[\"a\",\"b\"]}";

static const char *const ds[] = {"reg"};
static const char *const st[] = {"a", "b"};

static void
base_spec(struct pht_trainmsg_spec *s, json_t *params)
{
	memset(s, 0, sizeof(*s));
	s->id = "00112233445566778899aabbccddeeff";
	s->name = "mean";
	s->code = "return 1\n";
	s->code_len = 9;
	s->params = params;
	s->datasets = ds;
	s->n_datasets = 1;
	s->stations = st;
	s->n_stations = 2;
	s->round = 2;
	s->issued = T0;
	s->expires = T0 + 3600;
	unhex(alice_pub, s->result_key, 32);
}

static void
test_build_and_parse(void)
{
	struct pht_trainmsg_spec s;
	struct pht_trainmsg *m = NULL;
	json_t *params = json_pack("{s:s}", "column", "age");
	const char *const *list;
	char *out = NULL, *out2 = NULL;
	struct pht_err e;
	uint8_t rk[32];
	size_t n, k;

	base_spec(&s, params);
	tap_ok(pht_trainmsg_build(&s, &out, &n, &e) == PHT_OK, "build a train payload");
	tap_str(out, known_payload, "payload is exactly the documented wire form");
	tap_ok(n == strlen(known_payload), "  length reported");
	tap_ok(pht_trainmsg_parse((const uint8_t *)known_payload, strlen(known_payload),
	    T0 + 10, &m, &e) == PHT_OK, "the hand-written payload parses");
	tap_str(pht_trainmsg_id(m), "00112233445566778899aabbccddeeff", "  id");
	tap_str(pht_trainmsg_name(m), "mean", "  name");
	tap_ok(strcmp(pht_trainmsg_code(m, &n), "return 1\n") == 0 && n == 9, "  code");
	tap_str(pht_trainmsg_code_sha256(m),
	    "0805bfdc02e872ed322a4a4e440ae985f3a4335f4dd59f3d373dfaf2a68a4a3c", "  code_sha256");
	tap_ok(json_equal((json_t *)pht_trainmsg_params(m), params), "  params");
	list = pht_trainmsg_datasets(m, &k);
	tap_ok(k == 1 && strcmp(list[0], "reg") == 0, "  datasets");
	list = pht_trainmsg_stations(m, &k);
	tap_ok(k == 2 && strcmp(list[0], "a") == 0 && strcmp(list[1], "b") == 0, "  stations");
	tap_ok(pht_trainmsg_round(m) == 2, "  round");
	tap_ok(pht_trainmsg_issued(m) == T0 && pht_trainmsg_expires(m) == T0 + 3600,
	    "  issued and expires");
	unhex(alice_pub, rk, 32);
	tap_ok(memcmp(pht_trainmsg_result_key(m), rk, 32) == 0, "  result_key");
	tap_ok(pht_trainmsg_permit(m) == NULL, "  no permit");
	pht_trainmsg_free(m);
	m = NULL;
	free(out);

	/* random ids, permit, no name, NULL params, empty lists */
	s.id = NULL;
	s.name = NULL;
	s.params = NULL;
	s.n_datasets = s.n_stations = 0;
	s.permit = "permit-2026-17";
	tap_ok(pht_trainmsg_build(&s, &out, &n, &e) == PHT_OK &&
	    pht_trainmsg_build(&s, &out2, &n, &e) == PHT_OK, "build twice with random ids");
	tap_ok(pht_trainmsg_parse((const uint8_t *)out, strlen(out), T0, &m, &e) == PHT_OK,
	    "  parses");
	tap_ok(strlen(pht_trainmsg_id(m)) == 32 &&
	    strspn(pht_trainmsg_id(m), "0123456789abcdef") == 32, "  id is 32 hex digits");
	tap_ok(strstr(out2, pht_trainmsg_id(m)) == NULL, "  two builds get different ids");
	tap_ok(pht_trainmsg_name(m) == NULL, "  no name");
	tap_str(pht_trainmsg_permit(m), "permit-2026-17", "  permit");
	tap_ok(json_object_size(pht_trainmsg_params(m)) == 0, "  params default {}");
	pht_trainmsg_datasets(m, &k);
	tap_ok(k == 0, "  empty datasets");
	pht_trainmsg_free(m);
	pht_trainmsg_free(NULL);
	free(out);
	free(out2);
	json_decref(params);
}

/* Builds the known payload with field set to v (NULL: removed) and expects parse to fail. */
static void
expect_field(const char *field, json_t *v, int code, const char *want, const char *what)
{
	json_t *root = json_loads(known_payload, 0, NULL);
	struct pht_trainmsg *m = (struct pht_trainmsg *)1;
	struct pht_err e;
	char *text;
	int r;

	if (v == NULL)
		json_object_del(root, field);
	else
		json_object_set_new(root, field, v);
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	pht_err_clear(&e);
	r = pht_trainmsg_parse((const uint8_t *)text, strlen(text), T0, &m, &e);
	tap_ok(r == code && (r == PHT_OK ? m != NULL : m == NULL), "%s: %s", what,
	    pht_strerror(code));
	tap_str(e.msg, want, "  detail");
	if (r == PHT_OK)
		pht_trainmsg_free(m);
	free(text);
	json_decref(root);
}

static void
test_fields(void)
{
	static const char *required[] = {"id", "code", "code_sha256", "params",
	    "datasets", "stations", "round", "issued", "expires", "result_key"};
	char want[128], long_name[140];
	size_t i;
	json_t *a;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		snprintf(want, sizeof(want), "train: malformed field %s: missing", required[i]);
		expect_field(required[i], NULL, PHT_ERR_MALFORMED, want, required[i]);
	}
	expect_field("name", NULL, PHT_OK, "", "name is optional");
	expect_field("surprise", json_true(), PHT_ERR_MALFORMED,
	    "train: malformed: unknown field surprise", "unknown field");

	/* wrong types */
	expect_field("id", json_integer(1), PHT_ERR_MALFORMED,
	    "train: malformed field id: not a string", "id as a number");
	expect_field("name", json_integer(1), PHT_ERR_MALFORMED,
	    "train: malformed field name: not a string", "name as a number");
	expect_field("code", json_array(), PHT_ERR_MALFORMED,
	    "train: malformed field code: not a string", "code as an array");
	expect_field("params", json_array(), PHT_ERR_MALFORMED,
	    "train: malformed field params: not an object", "params as an array");
	expect_field("params", json_string("{}"), PHT_ERR_MALFORMED,
	    "train: malformed field params: not an object", "params as a string");
	expect_field("datasets", json_string("reg"), PHT_ERR_MALFORMED,
	    "train: malformed field datasets: not an array", "datasets as a string");
	expect_field("stations", json_object(), PHT_ERR_MALFORMED,
	    "train: malformed field stations: not an array", "stations as an object");
	expect_field("round", json_string("2"), PHT_ERR_MALFORMED,
	    "train: malformed field round: not an integer", "round as a string");
	expect_field("round", json_real(2.0), PHT_ERR_MALFORMED,
	    "train: malformed field round: not an integer", "round as a real");
	expect_field("issued", json_integer(T0), PHT_ERR_MALFORMED,
	    "train: malformed field issued: not a string", "issued as a number");
	expect_field("result_key", json_null(), PHT_ERR_MALFORMED,
	    "train: malformed field result_key: not a string", "result_key null");
	expect_field("permit", json_false(), PHT_ERR_MALFORMED,
	    "train: malformed field permit: not a string", "permit as a boolean");

	/* bad values */
	expect_field("id", json_string("00112233445566778899AABBCCDDEEFF"), PHT_ERR_MALFORMED,
	    "train: malformed field id: not 32 lower-case hex digits", "upper-case id");
	expect_field("id", json_string("0011"), PHT_ERR_MALFORMED,
	    "train: malformed field id: not 32 lower-case hex digits", "short id");
	expect_field("name", json_string(""), PHT_ERR_MALFORMED,
	    "train: malformed field name: not 1 to 128 printable ASCII characters", "empty name");
	expect_field("name", json_string("a\tb"), PHT_ERR_MALFORMED,
	    "train: malformed field name: not 1 to 128 printable ASCII characters",
	    "name with a tab");
	memset(long_name, 'n', 129);
	long_name[129] = '\0';
	expect_field("name", json_string(long_name), PHT_ERR_MALFORMED,
	    "train: malformed field name: not 1 to 128 printable ASCII characters",
	    "129-character name");
	expect_field("code", json_string(""), PHT_ERR_MALFORMED,
	    "train: malformed field code: empty", "empty code");
	expect_field("code", json_stringn("a\0b", 3), PHT_ERR_MALFORMED,
	    "train: malformed JSON: line 1 column 18: \\u0000 is not allowed without "
	    "JSON_ALLOW_NUL near '\"a\\u0000b\"'", "code with an escaped NUL");
	expect_field("code_sha256", json_string(
	    "0805BFDC02E872ED322A4A4E440AE985F3A4335F4DD59F3D373DFAF2A68A4A3C"),
	    PHT_ERR_MALFORMED, "train: malformed field code_sha256: not 64 lower-case hex "
	    "digits", "upper-case hash");
	expect_field("datasets", json_pack("[s,i]", "reg", 1), PHT_ERR_MALFORMED,
	    "train: malformed field datasets: entry 2 is not a string of 1 to 128 "
	    "printable ASCII characters", "a number among datasets");
	expect_field("datasets", json_pack("[s,s]", "reg", ""), PHT_ERR_MALFORMED,
	    "train: malformed field datasets: entry 2 is not a string of 1 to 128 "
	    "printable ASCII characters", "an empty dataset name");
	expect_field("stations", json_pack("[s,s,s]", "a", "b", "a"), PHT_ERR_MALFORMED,
	    "train: malformed field stations: entry 3 repeats entry 1", "repeated station");
	a = json_array();
	for (i = 0; i < 257; i++) {
		snprintf(want, sizeof(want), "s%zu", i);
		json_array_append_new(a, json_string(want));
	}
	expect_field("stations", a, PHT_ERR_MALFORMED,
	    "train: malformed field stations: more than 256 entries", "257 stations");
	expect_field("round", json_integer(0), PHT_ERR_MALFORMED,
	    "train: malformed field round: not between 1 and 1000000", "round 0");
	expect_field("round", json_integer(1000001), PHT_ERR_MALFORMED,
	    "train: malformed field round: not between 1 and 1000000", "round 1000001");
	expect_field("round", json_integer(1000000), PHT_OK, "", "round 1000000 accepted");
	expect_field("issued", json_string("2026-01-01 00:00:00"), PHT_ERR_MALFORMED,
	    "train: malformed field issued: not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)",
	    "issued without T and Z");
	expect_field("expires", json_string("2026-02-30T00:00:00Z"), PHT_ERR_MALFORMED,
	    "train: malformed field expires: not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)",
	    "expires on February 30");
	expect_field("expires", json_string("2026-01-01T00:00:00Z"), PHT_ERR_MALFORMED,
	    "train: malformed field expires: not later than issued", "expires == issued");
	expect_field("result_key", json_string("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm=="),
	    PHT_ERR_MALFORMED, "train: malformed field result_key: not the base64 of a "
	    "32-byte X25519 key", "31-byte result key");
	expect_field("result_key", json_string("not base64!"), PHT_ERR_MALFORMED,
	    "train: malformed field result_key: not the base64 of a 32-byte X25519 key",
	    "result key not base64");
	expect_field("permit", json_string(""), PHT_ERR_MALFORMED,
	    "train: malformed field permit: not 1 to 128 printable ASCII characters",
	    "empty permit");
}

static void
expect_text(const char *text, size_t len, int64_t now, int code, const char *want,
    const char *what)
{
	struct pht_trainmsg *m = (struct pht_trainmsg *)1;
	struct pht_err e;
	int r;

	pht_err_clear(&e);
	r = pht_trainmsg_parse((const uint8_t *)text, len, now, &m, &e);
	tap_ok(r == code && (r == PHT_OK ? m != NULL : m == NULL), "%s: %s", what,
	    pht_strerror(code));
	if (r != code)
		tap_diag("got %s: %s", pht_strerror(r), e.msg);
	tap_ok(strstr(e.msg, want) != NULL, "  detail has \"%s\"", want);
	if (strstr(e.msg, want) == NULL)
		tap_diag("detail: %s", e.msg);
	if (r == PHT_OK)
		pht_trainmsg_free(m);
}

static void
test_checks(void)
{
	json_t *root;
	char *text, *big;
	size_t n = strlen(known_payload);

	/* code hash */
	root = json_loads(known_payload, 0, NULL);
	json_object_set_new(root, "code", json_string("return 2\n"));
	text = json_dumps(root, JSON_COMPACT);
	expect_text(text, strlen(text), T0, PHT_ERR_HASH_MISMATCH, "train: code hash "
	    "mismatch: code_sha256 is 0805bfdc02e872ed322a4a4e440ae985f3a4335f4dd59f3d373dfaf2a"
	    "68a4a3c but the code hashes to b0de5faefd596e87ad9e4f729f28b548c48c62fe8853f096ce"
	    "8ef528618ab102", "code changed under its hash");
	free(text);
	json_decref(root);

	/* time window: issued T0, expires T0+3600, skew 300 s */
	expect_text(known_payload, n, T0 + 3599, PHT_OK, "", "one second before expiry");
	expect_text(known_payload, n, T0 + 3600, PHT_ERR_EXPIRED,
	    "train: expired at 2026-01-01T01:00:00Z (now 2026-01-01T01:00:00Z)", "at expiry");
	expect_text(known_payload, n, T0 + 86400, PHT_ERR_EXPIRED,
	    "train: expired at 2026-01-01T01:00:00Z (now 2026-01-02T00:00:00Z)",
	    "a day after expiry");
	expect_text(known_payload, n, T0 - 300, PHT_OK, "", "issued 300 s ahead of now");
	expect_text(known_payload, n, T0 - 301, PHT_ERR_NOT_YET_VALID,
	    "train: not yet valid: issued at 2026-01-01T00:00:00Z, more than 300 s after "
	    "now (2025-12-31T23:54:59Z)", "issued 301 s ahead of now");
	expect_text(known_payload, n, PHT_TRAINMSG_AT_ISSUE, PHT_OK, "",
	    "PHT_TRAINMSG_AT_ISSUE: no clock check (a logged run finished after expiry)");
	root = json_loads(known_payload, 0, NULL);
	json_object_set_new(root, "code", json_string("return 2\n"));
	text = json_dumps(root, JSON_COMPACT);
	expect_text(text, strlen(text), PHT_TRAINMSG_AT_ISSUE, PHT_ERR_HASH_MISMATCH,
	    "train: code hash mismatch", "PHT_TRAINMSG_AT_ISSUE: every other check stays");
	free(text);
	json_decref(root);

	/* structure */
	expect_text("[]", 2, T0, PHT_ERR_MALFORMED, "train: malformed: not a JSON object",
	    "an array");
	expect_text(known_payload, n - 1, T0, PHT_ERR_MALFORMED, "train: malformed JSON: ",
	    "truncated");
	expect_text("{\"id\":\"a\",\"id\":\"b\"}", 19, T0, PHT_ERR_MALFORMED,
	    "duplicate object key", "duplicate key");
	expect_text("{\"name\":\"\xff\"}", 12, T0, PHT_ERR_MALFORMED,
	    "train: malformed JSON: line 1", "invalid UTF-8");
	big = malloc(PHT_TRAINMSG_MAX + 1);
	memset(big, ' ', PHT_TRAINMSG_MAX + 1);
	expect_text(big, PHT_TRAINMSG_MAX + 1, T0, PHT_ERR_TOO_LARGE,
	    "train: too large: 2097153 bytes, more than 2097152", "oversized payload");
	free(big);
}

static void
test_build_errors(void)
{
	struct pht_trainmsg_spec s;
	const char *const bad_ds[] = {"ok", "tab\there"};
	struct pht_err e;
	char *out = NULL;
	size_t n;

	base_spec(&s, NULL);
	s.code = "\xff\xfe";
	s.code_len = 2;
	pht_err_clear(&e);
	tap_ok(pht_trainmsg_build(&s, &out, &n, &e) == PHT_ERR_INVALID && out == NULL,
	    "build refuses code that is not UTF-8");
	tap_str(e.msg, "train: field code: not valid UTF-8", "  detail");
	base_spec(&s, NULL);
	s.datasets = bad_ds;
	s.n_datasets = 2;
	tap_ok(pht_trainmsg_build(&s, &out, &n, &e) == PHT_ERR_MALFORMED && out == NULL,
	    "build refuses a dataset name with a tab");
	tap_str(e.msg, "train: malformed field datasets: entry 2 is not a string of 1 to "
	    "128 printable ASCII characters", "  detail");
	base_spec(&s, NULL);
	s.expires = s.issued;
	tap_ok(pht_trainmsg_build(&s, &out, &n, &e) == PHT_ERR_MALFORMED,
	    "build refuses expires == issued");
	tap_str(e.msg, "train: malformed field expires: not later than issued", "  detail");
	base_spec(&s, NULL);
	s.round = 0;
	tap_ok(pht_trainmsg_build(&s, &out, &n, &e) == PHT_ERR_MALFORMED,
	    "build refuses round 0");
	base_spec(&s, NULL);
	s.id = "00112233445566778899aabbccddeeff00";
	tap_ok(pht_trainmsg_build(&s, &out, &n, &e) == PHT_ERR_MALFORMED,
	    "build refuses a 34-digit id (no silent truncation)");
	tap_str(e.msg, "train: malformed field id: not 32 lower-case hex digits", "  detail");
	base_spec(&s, NULL);
	s.expires = INT64_C(253402300800);
	tap_ok(pht_trainmsg_build(&s, &out, &n, &e) == PHT_ERR_MALFORMED,
	    "build refuses an expiry after year 9999");
	tap_str(e.msg, "train: malformed field expires: out of range", "  detail");
}

int
main(void)
{
	test_build_and_parse();
	test_fields();
	test_checks();
	test_build_errors();
	return tap_done();
}
