/* test_permit.c — permits, revocation lists and halt orders: every refusal of the parsers, the builders, the coverage checks. */
#include "tap.h"

#include "pht_enc.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_permit.h"
#include "pht_resultmsg.h"
#include "pht_time.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"

#include <stdlib.h>
#include <string.h>

#define H64A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H64B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define H64C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static const char *base_permit =
    "{\"code_sha256\":[\"" H64A "\"],\"datasets\":{\"reg\":[\"age\",\"sex\"]},"
    "\"id\":\"P1\",\"issued\":\"2026-01-01T00:00:00Z\",\"kind\":\"pht-permit\","
    "\"max_rounds\":3,\"max_runs\":2,\"purpose\":\"mean age\",\"stations\":[\"a\"],"
    "\"users\":[{\"key\":\"" H64B "\",\"name\":\"alice\"}],"
    "\"valid_from\":\"2026-01-01T00:00:00Z\",\"valid_until\":\"2026-02-01T00:00:00Z\"}";

static const char *base_rev =
    "{\"issued\":\"2026-01-01T00:00:00Z\",\"kind\":\"pht-revocations\","
    "\"revoked\":[\"P2\",\"P1\"],\"seq\":7}";

static const char *base_halt =
    "{\"issued\":\"2026-01-01T00:00:00Z\",\"kind\":\"pht-halt\",\"reason\":\"r\","
    "\"scope\":\"dataset:reg\",\"until\":\"2026-01-02T00:00:00Z\"}";

/* base with member name set to the JSON value (NULL: removed); caller frees. */
static char *
mutate(const char *base, const char *name, const char *value)
{
	json_t *root = json_loads(base, 0, NULL), *v;
	char *s;

	if (value == NULL)
		json_object_del(root, name);
	else {
		v = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (v == NULL) {
			fprintf(stderr, "bad test value %s\n", value);
			abort();
		}
		json_object_set_new(root, name, v);
	}
	s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	return s;
}

enum kind { K_PERMIT, K_REV, K_HALT };

static int
parse_kind(enum kind k, const char *text, struct pht_err *err)
{
	struct pht_permit *p = NULL;
	struct pht_revocations *r = NULL;
	struct pht_halt *h = NULL;
	int rc;

	switch (k) {
	case K_PERMIT:
		rc = pht_permit_parse((const uint8_t *)text, strlen(text), &p, err);
		tap_ok(rc == PHT_OK ? p != NULL : p == NULL, "  out set only on success");
		break;
	case K_REV:
		rc = pht_revocations_parse((const uint8_t *)text, strlen(text), &r, err);
		tap_ok(rc == PHT_OK ? r != NULL : r == NULL, "  out set only on success");
		break;
	default:
		rc = pht_halt_parse((const uint8_t *)text, strlen(text), &h, err);
		tap_ok(rc == PHT_OK ? h != NULL : h == NULL, "  out set only on success");
		break;
	}
	pht_permit_free(p);
	pht_revocations_free(r);
	pht_halt_free(h);
	return rc;
}

struct bad_case {
	enum kind kind;
	const char *field;
	const char *value;          /* NULL: removed */
	const char *detail;         /* the whole detail expected */
};

static const struct bad_case cases[] = {
	/* permits */
	{K_PERMIT, "kind", NULL, "permit: malformed field kind: missing"},
	{K_PERMIT, "kind", "\"pht-result\"", "permit: malformed field kind: not \"pht-permit\""},
	{K_PERMIT, "extra", "1", "permit: malformed: unknown field extra"},
	{K_PERMIT, "id", NULL, "permit: malformed field id: missing"},
	{K_PERMIT, "id", "7", "permit: malformed field id: not a string"},
	{K_PERMIT, "id", "\"a b\"", "permit: malformed field id: not 1 to 128 of [A-Za-z0-9_.-]"},
	{K_PERMIT, "id", "\"..\"", "permit: malformed field id: not 1 to 128 of [A-Za-z0-9_.-]"},
	{K_PERMIT, "issued", NULL, "permit: malformed field issued: missing"},
	{K_PERMIT, "issued", "\"2026-01-01\"", "permit: malformed field issued: not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)"},
	{K_PERMIT, "purpose", NULL, "permit: malformed field purpose: missing"},
	{K_PERMIT, "purpose", "\"\"", "permit: malformed field purpose: not 1 to 4096 bytes"},
	{K_PERMIT, "users", NULL, "permit: malformed field users: missing"},
	{K_PERMIT, "users", "{}", "permit: malformed field users: not an array"},
	{K_PERMIT, "users", "[]", "permit: malformed field users: not 1 to 256 entries"},
	{K_PERMIT, "users", "[1]", "permit: malformed field users: entry 1 is not an object {name, key}"},
	{K_PERMIT, "users", "[{\"name\":\"a\",\"key\":\"" H64B "\",\"x\":1}]", "permit: malformed: unknown field x"},
	{K_PERMIT, "users", "[{\"name\":\"a b\",\"key\":\"" H64B "\"}]", "permit: malformed field users: entry 1: name is not 1 to 64 of [A-Za-z0-9_.-]"},
	{K_PERMIT, "users", "[{\"key\":\"" H64B "\"}]", "permit: malformed field users: entry 1: name is not 1 to 64 of [A-Za-z0-9_.-]"},
	{K_PERMIT, "users", "[{\"name\":\"a\",\"key\":\"" H64B "\"},{\"name\":\"b\",\"key\":\"ABC\"}]", "permit: malformed field users: entry 2: key is not 64 lower-case hex digits"},
	{K_PERMIT, "users", "[{\"name\":\"a\",\"key\":\"" H64B "\"},{\"name\":\"b\",\"key\":\"" H64B "\"}]", "permit: malformed field users: entry 2 repeats the key of entry 1"},
	{K_PERMIT, "stations", NULL, "permit: malformed field stations: missing"},
	{K_PERMIT, "stations", "[]", "permit: malformed field stations: has 0 entries, not 1 to 256"},
	{K_PERMIT, "stations", "[\"a\",3]", "permit: malformed field stations: entry 2 is not a string"},
	{K_PERMIT, "stations", "[\"a\",\"a/b\"]", "permit: malformed field stations: entry 2 is not 1 to 64 of [A-Za-z0-9_.-]"},
	{K_PERMIT, "stations", "[\"b\",\"a\",\"b\"]", "permit: malformed field stations: entry b appears twice"},
	{K_PERMIT, "datasets", NULL, "permit: malformed field datasets: missing"},
	{K_PERMIT, "datasets", "[\"reg\"]", "permit: malformed field datasets: not an object (dataset -> [columns])"},
	{K_PERMIT, "datasets", "{}", "permit: malformed field datasets: not 1 to 256 entries"},
	{K_PERMIT, "datasets", "{\"r g\":[\"age\"]}", "permit: malformed field datasets: dataset name r g is not 1 to 64 of [A-Za-z0-9_.-]"},
	{K_PERMIT, "datasets", "{\"reg\":[]}", "permit: malformed field datasets.reg: has 0 entries, not 1 to 1024"},
	{K_PERMIT, "datasets", "{\"reg\":\"age\"}", "permit: malformed field datasets.reg: not an array"},
	{K_PERMIT, "datasets", "{\"reg\":[\"age\",\"age\"]}", "permit: malformed field datasets.reg: entry age appears twice"},
	{K_PERMIT, "datasets", "{\"reg\":[\"\"]}", "permit: malformed field datasets.reg: entry 1 is not 1 to 128 printable ASCII characters"},
	{K_PERMIT, "code_sha256", NULL, "permit: malformed field code_sha256: missing (a permit names train code hashes, reviewers or both)"},
	{K_PERMIT, "reviewers", "[]", "permit: malformed field reviewers: not 1 to 256 entries"},
	{K_PERMIT, "reviewers", "[{\"name\":\"r\",\"key\":\"" H64A "\"}]", "permit: malformed field reviewers: entry 1: key is not the base64 of a 32-byte Ed25519 public key"},
	{K_PERMIT, "reviewers", "[{\"name\":\"r\",\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"},{\"name\":\"s\",\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]", "permit: malformed field reviewers: entry 2 repeats the key of entry 1"},
	{K_PERMIT, "reviewers", "[{\"name\":\"r s\",\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]", "permit: malformed field reviewers: entry 1: name is not 1 to 64 of [A-Za-z0-9_.-]"},
	{K_PERMIT, "code_sha256", "[\"" H64A "x\"]", "permit: malformed field code_sha256: entry 1 is not 64 lower-case hex digits"},
	{K_PERMIT, "code_sha256", "[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]", "permit: malformed field code_sha256: entry 1 is not 64 lower-case hex digits"},
	{K_PERMIT, "valid_from", NULL, "permit: malformed field valid_from: missing"},
	{K_PERMIT, "valid_until", "\"2025-12-31T00:00:00Z\"", "permit: malformed field valid_until: not later than valid_from"},
	{K_PERMIT, "valid_until", "\"2026-01-01T00:00:00Z\"", "permit: malformed field valid_until: not later than valid_from"},
	{K_PERMIT, "max_runs", "0", "permit: malformed field max_runs: not between 1 and 1000000000"},
	{K_PERMIT, "max_runs", "1.5", "permit: malformed field max_runs: not an integer"},
	{K_PERMIT, "max_rounds", "1000001", "permit: malformed field max_rounds: not between 1 and 1000000"},
	{K_PERMIT, "row_access", "true", "permit: malformed field row_access: not an array"},
	{K_PERMIT, "row_access", "[]", "permit: malformed field row_access: has 0 entries, not 1 to 1024"},
	{K_PERMIT, "row_access", "[\"" H64A "x\"]", "permit: malformed field row_access: entry 1 is not 64 lower-case hex digits"},
	{K_PERMIT, "row_access", "[\"" H64A "\",\"" H64A "\"]", "permit: malformed field row_access: entry " H64A " appears twice"},
	{K_PERMIT, "row_access", "[\"" H64A "\",\"" H64C "\"]", "permit: malformed field row_access: entry 2 is not in code_sha256"},
	/* revocation lists */
	{K_REV, "kind", "\"pht-permit\"", "revocations: malformed field kind: not \"pht-revocations\""},
	{K_REV, "x", "true", "revocations: malformed: unknown field x"},
	{K_REV, "seq", NULL, "revocations: malformed field seq: missing"},
	{K_REV, "seq", "0", "revocations: malformed field seq: not between 1 and 9007199254740992"},
	{K_REV, "seq", "\"7\"", "revocations: malformed field seq: not an integer"},
	{K_REV, "issued", "\"yesterday\"", "revocations: malformed field issued: not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)"},
	{K_REV, "revoked", NULL, "revocations: malformed field revoked: missing"},
	{K_REV, "revoked", "[\"P1\",\"P1\"]", "revocations: malformed field revoked: entry P1 appears twice"},
	{K_REV, "revoked", "[\"P 1\"]", "revocations: malformed field revoked: entry 1 is not 1 to 128 of [A-Za-z0-9_.-]"},
	/* halt orders */
	{K_HALT, "kind", NULL, "halt: malformed field kind: missing"},
	{K_HALT, "stations", "[]", "halt: malformed: unknown field stations"},
	{K_HALT, "scope", NULL, "halt: malformed field scope: missing"},
	{K_HALT, "scope", "\"everything\"", "halt: malformed field scope: not \"all\", \"permit:ID\" or \"dataset:NAME\""},
	{K_HALT, "scope", "\"permit:\"", "halt: malformed field scope: permit id is not 1 to 128 of [A-Za-z0-9_.-]"},
	{K_HALT, "scope", "\"dataset:a b\"", "halt: malformed field scope: dataset name is not 1 to 64 of [A-Za-z0-9_.-]"},
	{K_HALT, "issued", NULL, "halt: malformed field issued: missing"},
	{K_HALT, "until", "\"2025-12-31T23:59:59Z\"", "halt: malformed field until: before issued"},
	{K_HALT, "until", "5", "halt: malformed field until: not a string"},
	{K_HALT, "reason", "\"\"", "halt: malformed field reason: not 1 to 1024 bytes"},
};

static void
test_bad_cases(void)
{
	struct pht_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		const char *base = c->kind == K_PERMIT ? base_permit :
		    c->kind == K_REV ? base_rev : base_halt;
		char *text = mutate(base, c->field, c->value);
		int rc;

		pht_err_clear(&err);
		rc = parse_kind(c->kind, text, &err);
		tap_ok(rc == PHT_ERR_MALFORMED, "%s with %s = %s: PHT_ERR_MALFORMED (got %d)",
		    c->kind == K_PERMIT ? "permit" : c->kind == K_REV ? "revocations" : "halt",
		    c->field, c->value != NULL ? c->value : "(removed)", rc);
		tap_str(err.msg, c->detail, "  detail names the field");
		free(text);
	}
}

static void
test_not_objects_and_size(void)
{
	struct pht_permit *p = NULL;
	struct pht_err err;
	char *big;
	size_t n = PHT_PERMIT_MAX + 1;

	tap_ok(pht_permit_parse((const uint8_t *)"[1]", 3, &p, &err) == PHT_ERR_MALFORMED,
	    "an array is not a permit");
	tap_str(err.msg, "permit: malformed: not a JSON object", "  detail");
	big = mutate(base_permit, "id", "\"a\\u0000b\"");
	tap_ok(pht_permit_parse((const uint8_t *)big, strlen(big), &p, &err) ==
	    PHT_ERR_MALFORMED && strstr(err.msg, "permit: line 1 ") == err.msg,
	    "a NUL escape in a string is refused by the JSON layer (%s)", err.msg);
	free(big);
	tap_ok(pht_permit_parse((const uint8_t *)"{\"a\":1,\"a\":2}", 13, &p, &err) ==
	    PHT_ERR_MALFORMED && strstr(err.msg, "duplicate") != NULL,
	    "duplicate members are refused (%s)", err.msg);
	big = malloc(n);
	memset(big, ' ', n);
	tap_ok(pht_permit_parse((const uint8_t *)big, n, &p, &err) == PHT_ERR_TOO_LARGE,
	    "more than PHT_PERMIT_MAX bytes: PHT_ERR_TOO_LARGE");
	tap_str(err.msg, "permit: 1048577 bytes, more than 1048576", "  detail");
	free(big);
	tap_ok(p == NULL, "  no permit");
}

/* The kinds never parse as each other, nor as train or result payloads. */
static void
test_kinds_apart(void)
{
	const char *texts[3] = {base_permit, base_rev, base_halt};
	struct pht_permit *p = NULL;
	struct pht_revocations *r = NULL;
	struct pht_halt *h = NULL;
	struct pht_trainmsg *t = NULL;
	struct pht_resultmsg *m = NULL;
	struct pht_err err;
	size_t i;

	for (i = 0; i < 3; i++) {
		const uint8_t *b = (const uint8_t *)texts[i];
		size_t n = strlen(texts[i]);
		int rp = pht_permit_parse(b, n, &p, &err);
		int rr = pht_revocations_parse(b, n, &r, &err);
		int rh = pht_halt_parse(b, n, &h, &err);
		int rt = pht_trainmsg_parse(b, n, 0, &t, &err);
		int rm = pht_resultmsg_parse(b, n, &m, &err);
		tap_ok((rp == PHT_OK) == (i == 0) && (rr == PHT_OK) == (i == 1) &&
		    (rh == PHT_OK) == (i == 2) && rt == PHT_ERR_MALFORMED &&
		    rm == PHT_ERR_MALFORMED, "payload %zu parses only as its own kind", i);
		pht_permit_free(p);
		pht_revocations_free(r);
		pht_halt_free(h);
		p = NULL;
		r = NULL;
		h = NULL;
	}
}

static void
test_accessors_and_checks(void)
{
	struct pht_permit *p = NULL;
	struct pht_err err;
	int64_t t0, t1;
	const char *cols_ok[] = {"age", "sex"}, *cols_bad[] = {"age", "bmi"};

	pht_time_parse("2026-01-01T00:00:00Z", &t0);
	pht_time_parse("2026-02-01T00:00:00Z", &t1);
	tap_ok(pht_permit_parse((const uint8_t *)base_permit, strlen(base_permit), &p,
	    &err) == PHT_OK, "the base permit parses");
	tap_str(pht_permit_id(p), "P1", "  id");
	tap_str(pht_permit_purpose(p), "mean age", "  purpose");
	tap_ok(pht_permit_valid_from(p) == t0 && pht_permit_valid_until(p) == t1 &&
	    pht_permit_issued(p) == t0, "  times");
	tap_ok(pht_permit_max_runs(p) == 2 && pht_permit_max_rounds(p) == 3, "  caps");
	tap_ok(pht_permit_row_access(p, H64A) == 0 && pht_permit_row_access(NULL, H64A) == 0,
	    "  no row access without a row_access list, not even for its own code");
	{
		struct pht_permit *q = NULL;
		char *text = mutate(base_permit, "code_sha256", "[\"" H64A "\",\"" H64C "\"]"), *t2;

		t2 = mutate(text, "row_access", "[\"" H64C "\"]");
		tap_ok(pht_permit_parse((const uint8_t *)t2, strlen(t2), &q, &err) == PHT_OK &&
		    pht_permit_row_access(q, H64C) == 1 && pht_permit_row_access(q, H64A) == 0 &&
		    pht_permit_row_access(q, H64B) == 0 && pht_permit_row_access(q, NULL) == 0,
		    "row_access grants the listed code only, not the permit's other code");
		pht_permit_free(q);
		free(t2);
		free(text);
	}

	tap_ok(pht_permit_check_time(p, t0, &err) == PHT_OK, "valid at valid_from");
	tap_ok(pht_permit_check_time(p, t1 - 1, &err) == PHT_OK, "valid one second before valid_until");
	tap_ok(pht_permit_check_time(p, t0 - 1, &err) == PHT_ERR_NOT_YET_VALID,
	    "one second before valid_from: PHT_ERR_NOT_YET_VALID");
	tap_str(err.msg, "permit P1: not valid before 2026-01-01T00:00:00Z (now "
	    "2025-12-31T23:59:59Z)", "  detail");
	tap_ok(pht_permit_check_time(p, t1, &err) == PHT_ERR_EXPIRED,
	    "at valid_until: PHT_ERR_EXPIRED");
	tap_str(err.msg, "permit P1: expired at 2026-02-01T00:00:00Z (now "
	    "2026-02-01T00:00:00Z)", "  detail");

	tap_ok(pht_permit_check_train(p, H64B, "a", "reg", H64A, 3, NULL, &err) == PHT_OK,
	    "covers its user, station, dataset, code and round 3");
	tap_ok(pht_permit_check_train(p, H64C, "a", "reg", H64A, 1, NULL, &err) == PHT_ERR_DENIED,
	    "another signer: PHT_ERR_DENIED");
	tap_str(err.msg, "permit P1: signer " H64C " is not among its data users", "  detail");
	tap_ok(pht_permit_check_train(p, H64B, "b", "reg", H64A, 1, NULL, &err) == PHT_ERR_DENIED,
	    "another station: PHT_ERR_DENIED");
	tap_str(err.msg, "permit P1: does not name station b", "  detail");
	tap_ok(pht_permit_check_train(p, H64B, "a", "cohort", H64A, 1, NULL, &err) == PHT_ERR_DENIED,
	    "another dataset: PHT_ERR_DENIED");
	tap_str(err.msg, "permit P1: does not name dataset cohort", "  detail");
	tap_ok(pht_permit_check_train(p, H64B, "a", "reg", H64C, 1, NULL, &err) == PHT_ERR_DENIED,
	    "other code: PHT_ERR_DENIED");
	tap_str(err.msg, "permit P1: does not allow train code " H64C, "  detail");
	tap_ok(pht_permit_check_train(p, H64B, "a", "reg", H64A, 4, NULL, &err) == PHT_ERR_DENIED,
	    "round 4 past max_rounds 3: PHT_ERR_DENIED");
	tap_str(err.msg, "permit P1: allows rounds up to 3, this train is round 4", "  detail");

	tap_ok(pht_permit_check_columns(p, "reg", cols_ok, 2, &err) == PHT_OK,
	    "allowed columns pass");
	tap_ok(pht_permit_check_columns(p, "reg", cols_bad, 2, &err) == PHT_ERR_DENIED,
	    "a column outside the permit: PHT_ERR_DENIED");
	tap_str(err.msg, "permit P1: column bmi of dataset reg is not allowed", "  detail");
	tap_ok(pht_permit_check_columns(p, "cohort", cols_ok, 2, &err) == PHT_ERR_DENIED,
	    "columns of a dataset not named: PHT_ERR_DENIED");
	tap_ok(pht_permit_allows_column(p, "reg", "sex") && !pht_permit_allows_column(p,
	    "reg", "SEX"), "column names are case-sensitive");
	pht_permit_free(p);
}

static void
test_revocations_and_halts(void)
{
	struct pht_revocations *r = NULL;
	struct pht_halt *h = NULL;
	struct pht_err err;
	int64_t t0, t1;
	char *text;

	pht_time_parse("2026-01-01T00:00:00Z", &t0);
	pht_time_parse("2026-01-02T00:00:00Z", &t1);
	tap_ok(pht_revocations_parse((const uint8_t *)base_rev, strlen(base_rev), &r,
	    &err) == PHT_OK, "the base revocation list parses");
	tap_ok(pht_revocations_seq(r) == 7 && pht_revocations_count(r) == 2 &&
	    pht_revocations_issued(r) == t0, "  seq, count, issued");
	tap_ok(pht_revocations_has(r, "P1") && pht_revocations_has(r, "P2") &&
	    !pht_revocations_has(r, "P3") && !pht_revocations_has(r, NULL),
	    "  has P1 and P2, not P3");
	tap_str(pht_revocations_id(r, 0), "P1", "  ids sorted");
	tap_ok(pht_revocations_id(r, 2) == NULL, "  out of range: NULL");
	pht_revocations_free(r);

	tap_ok(pht_halt_parse((const uint8_t *)base_halt, strlen(base_halt), &h, &err) ==
	    PHT_OK, "the base halt order parses");
	tap_ok(pht_halt_scope_kind(h) == PHT_HALT_DATASET, "  dataset scope");
	tap_str(pht_halt_scope_name(h), "reg", "  scope name");
	tap_ok(!pht_halt_in_force(h, t0 - 1) && pht_halt_in_force(h, t0) &&
	    pht_halt_in_force(h, t1 - 1) && !pht_halt_in_force(h, t1),
	    "  in force from issued until until");
	tap_ok(pht_halt_covers(h, "P1", "reg") && !pht_halt_covers(h, "P1", "other") &&
	    !pht_halt_covers(h, NULL, NULL), "  covers the dataset only");
	pht_halt_free(h);
	h = NULL;

	text = mutate(base_halt, "scope", "\"permit:P9\"");
	tap_ok(pht_halt_parse((const uint8_t *)text, strlen(text), &h, &err) == PHT_OK &&
	    pht_halt_covers(h, "P9", "reg") && !pht_halt_covers(h, "P1", "reg"),
	    "a permit halt covers that permit only");
	free(text);
	pht_halt_free(h);
	h = NULL;
	text = mutate(base_halt, "until", NULL);
	json_t *tmp = json_loads(text, 0, NULL);
	json_object_set_new(tmp, "scope", json_string("all"));
	free(text);
	text = json_dumps(tmp, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(tmp);
	tap_ok(pht_halt_parse((const uint8_t *)text, strlen(text), &h, &err) == PHT_OK &&
	    pht_halt_covers(h, NULL, NULL) && pht_halt_in_force(h, t1 + 86400 * 365) &&
	    pht_halt_until(h) == 0, "scope all without until: everything, for ever");
	free(text);
	pht_halt_free(h);
	h = NULL;
	text = mutate(base_halt, "until", "\"2026-01-01T00:00:00Z\"");
	tap_ok(pht_halt_parse((const uint8_t *)text, strlen(text), &h, &err) == PHT_OK &&
	    !pht_halt_in_force(h, t0), "until == issued: a lift, never in force");
	free(text);
	pht_halt_free(h);
}

static void
test_builders(void)
{
	const char *cols[] = {"age", "sex"}, *stations[] = {"a", "b"}, *codes[] = {H64A};
	struct pht_permit_user users[] = {{"alice", H64B}};
	struct pht_permit_dataset ds[] = {{"reg", cols, 2}};
	struct pht_permit_spec spec;
	struct pht_revocations *r = NULL;
	struct pht_halt *h = NULL;
	struct pht_err err;
	const char *ids[] = {"P1", "P1"};
	char *out = NULL;
	size_t len = 0;
	int64_t t0;

	pht_time_parse("2026-01-01T00:00:00Z", &t0);
	memset(&spec, 0, sizeof(spec));
	spec.id = "P1";
	spec.issued = t0;
	spec.purpose = "mean age";
	spec.users = users;
	spec.nusers = 1;
	spec.stations = stations;
	spec.nstations = 1;
	spec.datasets = ds;
	spec.ndatasets = 1;
	spec.code_sha256 = codes;
	spec.ncodes = 1;
	spec.valid_from = t0;
	spec.valid_until = t0 + 31 * 86400;
	spec.max_runs = 2;
	spec.max_rounds = 3;
	tap_ok(pht_permit_build(&spec, &out, &len, &err) == PHT_OK, "build a permit");
	tap_str(out, base_permit, "  exactly the canonical text (sorted keys, compact)");
	tap_ok(len == strlen(base_permit), "  length");
	free(out);
	out = NULL;
	{
		const char *ra[1] = {H64A}, *ra_bad[1] = {H64C};
		struct pht_permit *q = NULL;

		spec.row_access = ra;
		spec.nrow_access = 1;
		tap_ok(pht_permit_build(&spec, &out, &len, &err) == PHT_OK &&
		    strstr(out, "\"row_access\":[\"" H64A "\"]") != NULL &&
		    pht_permit_parse((const uint8_t *)out, len, &q, &err) == PHT_OK &&
		    pht_permit_row_access(q, H64A) == 1, "build with row_access, read it back");
		pht_permit_free(q);
		free(out);
		out = NULL;
		spec.row_access = ra_bad;
		tap_ok(pht_permit_build(&spec, &out, &len, &err) == PHT_ERR_MALFORMED &&
		    out == NULL, "build refuses row access for code the permit does not list");
		tap_str(err.msg, "permit: malformed field row_access: entry 1 is not in "
		    "code_sha256", "  detail");
		spec.row_access = NULL;
		spec.nrow_access = 0;
	}
	spec.nstations = 2;
	stations[1] = "a";
	tap_ok(pht_permit_build(&spec, &out, &len, &err) == PHT_ERR_MALFORMED && out == NULL,
	    "build refuses what parse refuses (a station twice)");
	tap_str(err.msg, "permit: malformed field stations: entry a appears twice", "  detail");
	spec.nstations = 1;
	users[0].key = NULL;
	tap_ok(pht_permit_build(&spec, &out, &len, &err) == PHT_ERR_INVALID,
	    "a user without a key: PHT_ERR_INVALID");
	tap_str(err.msg, "permit: field users: entry 1 has no key", "  detail");
	users[0].key = H64B;
	spec.valid_until = spec.valid_from;
	tap_ok(pht_permit_build(&spec, &out, &len, &err) == PHT_ERR_MALFORMED,
	    "valid_until == valid_from refused by build");

	tap_ok(pht_revocations_build(7, t0, ids, 1, &out, &len, &err) == PHT_OK &&
	    pht_revocations_parse((const uint8_t *)out, len, &r, &err) == PHT_OK &&
	    pht_revocations_seq(r) == 7 && pht_revocations_has(r, "P1"),
	    "build a revocation list and read it back");
	free(out);
	out = NULL;
	pht_revocations_free(r);
	tap_ok(pht_revocations_build(8, t0, ids, 2, &out, &len, &err) == PHT_ERR_MALFORMED,
	    "a revocation list naming an id twice is refused by build");
	tap_ok(pht_revocations_build(0, t0, ids, 1, &out, &len, &err) == PHT_ERR_MALFORMED,
	    "seq 0 refused by build");

	tap_ok(pht_halt_build("permit:P1", t0, 0, NULL, &out, &len, &err) == PHT_OK &&
	    pht_halt_parse((const uint8_t *)out, len, &h, &err) == PHT_OK &&
	    pht_halt_scope_kind(h) == PHT_HALT_PERMIT && pht_halt_reason(h) == NULL,
	    "build a halt order and read it back");
	free(out);
	out = NULL;
	pht_halt_free(h);
	tap_ok(pht_halt_build("nothing", t0, 0, NULL, &out, &len, &err) == PHT_ERR_MALFORMED,
	    "a bad scope is refused by build");
	tap_ok(pht_halt_build("all", t0, t0 - 1, NULL, &out, &len, &err) == PHT_ERR_MALFORMED,
	    "until before issued refused by build");
}

/* A permit in an envelope: only the authority's signature opens it. */
static void
test_envelope(void)
{
	struct pht_key *auth = NULL, *rogue = NULL;
	struct pht_trust *trust = pht_trust_new();
	struct pht_envelope *env = NULL;
	struct pht_err err;
	char *text = NULL;
	size_t len = 0;

	pht_key_generate(PHT_KEY_SIGN, &auth, &err);
	pht_key_generate(PHT_KEY_SIGN, &rogue, &err);
	pht_trust_add(trust, "authority", auth, &err);
	tap_ok(pht_envelope_sign(auth, (const uint8_t *)base_permit, strlen(base_permit),
	    &text, &len, &err) == PHT_OK && pht_envelope_open(text, len, trust, &env,
	    &err) == PHT_OK, "a permit signed by the authority opens");
	free(text);
	pht_envelope_free(env);
	env = NULL;
	tap_ok(pht_envelope_sign(rogue, (const uint8_t *)base_permit, strlen(base_permit),
	    &text, &len, &err) == PHT_OK && pht_envelope_open(text, len, trust, &env,
	    &err) == PHT_ERR_UNKNOWN_SIGNER, "a permit signed by another key does not");
	free(text);
	pht_trust_free(trust);
	pht_key_free(auth);
	pht_key_free(rogue);
}

/* Reviewers: a code approval signed by one of them allows code the permit does not list. */
static void
test_reviewers(void)
{
	struct pht_key *rev = NULL, *other = NULL;
	struct pht_permit *p = NULL;
	struct pht_code_approval *a = NULL;
	struct pht_err err;
	uint8_t raw[32];
	char b64[64], *text, *payload = NULL, *appr = NULL, *appr_other = NULL, *appr_wrong = NULL;
	const char *codes[] = {H64C}, *other_codes[] = {H64B};
	json_t *revs;
	size_t len;
	int64_t t0;

	pht_time_parse("2026-01-01T00:00:00Z", &t0);
	pht_key_generate(PHT_KEY_SIGN, &rev, &err);
	pht_key_generate(PHT_KEY_SIGN, &other, &err);
	pht_key_public_raw(rev, raw, &err);
	pht_b64_encode(raw, 32, b64);
	revs = json_pack("[{s:s, s:s}]", "name", "rita", "key", b64);
	{
		char *rv = json_dumps(revs, JSON_COMPACT);
		text = mutate(base_permit, "reviewers", rv);
		free(rv);
	}
	json_decref(revs);
	tap_ok(pht_permit_parse((const uint8_t *)text, strlen(text), &p, &err) == PHT_OK,
	    "a permit with reviewers parses");
	/* approvals: by the reviewer listing H64C, by another key, not listing it */
	pht_code_approval_build(t0, codes, 1, "reviewed", &payload, &len, &err);
	pht_envelope_sign(rev, (uint8_t *)payload, len, &appr, &len, &err);
	pht_envelope_sign(other, (uint8_t *)payload, strlen(payload), &appr_other, &len, &err);
	free(payload);
	pht_code_approval_build(t0, other_codes, 1, NULL, &payload, &len, &err);
	pht_envelope_sign(rev, (uint8_t *)payload, len, &appr_wrong, &len, &err);
	tap_ok(pht_permit_check_train(p, H64B, "a", "reg", H64A, 1, NULL, &err) == PHT_OK,
	    "listed code needs no approval");
	tap_ok(pht_permit_check_train(p, H64B, "a", "reg", H64C, 1, NULL, &err) ==
	    PHT_ERR_DENIED, "unlisted code without an approval: PHT_ERR_DENIED");
	tap_str(err.msg, "permit P1: does not allow train code " H64C " (and the train "
	    "carries no code approval)", "  detail");
	tap_ok(pht_permit_check_train(p, H64B, "a", "reg", H64C, 1, appr, &err) == PHT_OK,
	    "unlisted code with the reviewer's approval listing it: allowed");
	tap_ok(pht_permit_check_train(p, H64B, "a", "reg", H64C, 1, appr_other, &err) ==
	    PHT_ERR_DENIED, "an approval signed by someone else: PHT_ERR_DENIED");
	tap_ok(strstr(err.msg, "permit P1: code approval: envelope: unknown signer") ==
	    err.msg && strstr(err.msg, "(not signed by one of the permit's reviewers)") !=
	    NULL, "  detail: %s", err.msg);
	tap_ok(pht_permit_check_train(p, H64B, "a", "reg", H64C, 1, appr_wrong, &err) ==
	    PHT_ERR_DENIED, "an approval that does not list the code: PHT_ERR_DENIED");
	tap_str(err.msg, "permit P1: code approval by rita does not list train code "
	    H64C, "  detail");
	tap_ok(pht_permit_check_train(p, H64B, "a", "reg", H64C, 1, "{}", &err) ==
	    PHT_ERR_DENIED, "garbage as an approval: PHT_ERR_DENIED");
	pht_permit_free(p);
	p = NULL;
	free(text);
	/* a permit without reviewers ignores approvals */
	pht_permit_parse((const uint8_t *)base_permit, strlen(base_permit), &p, &err);
	tap_ok(pht_permit_check_train(p, H64B, "a", "reg", H64C, 1, appr, &err) ==
	    PHT_ERR_DENIED, "without reviewers an approval does not count");
	tap_str(err.msg, "permit P1: does not allow train code " H64C, "  detail");
	pht_permit_free(p);
	/* approval parsing */
	tap_ok(pht_code_approval_parse((const uint8_t *)payload, strlen(payload), &a, &err) ==
	    PHT_OK && pht_code_approval_has(a, H64B) && !pht_code_approval_has(a, H64C),
	    "an approval lists exactly its hashes");
	pht_code_approval_free(a);
	a = NULL;
	text = mutate(payload, "note", "\"\"");
	tap_ok(pht_code_approval_parse((const uint8_t *)text, strlen(text), &a, &err) ==
	    PHT_ERR_MALFORMED, "an empty note is refused");
	tap_str(err.msg, "code approval: malformed field note: not 1 to 1024 bytes", "  detail");
	free(text);
	text = mutate(payload, "code_sha256", "[]");
	tap_ok(pht_code_approval_parse((const uint8_t *)text, strlen(text), &a, &err) ==
	    PHT_ERR_MALFORMED, "an approval of no code is refused");
	tap_str(err.msg, "code approval: malformed field code_sha256: has 0 entries, not "
	    "1 to 1024", "  detail");
	free(text);
	tap_ok(pht_code_approval_parse((const uint8_t *)base_permit, strlen(base_permit), &a,
	    &err) == PHT_ERR_MALFORMED, "a permit is not a code approval");
	tap_str(err.msg, "code approval: malformed: unknown field datasets", "  detail");
	tap_ok(pht_permit_parse((const uint8_t *)payload, strlen(payload), &p, &err) ==
	    PHT_ERR_MALFORMED, "a code approval is not a permit");
	free(payload);
	free(appr);
	free(appr_other);
	free(appr_wrong);
	pht_key_free(rev);
	pht_key_free(other);
}

int
main(void)
{
	test_bad_cases();
	test_not_objects_and_size();
	test_kinds_apart();
	test_accessors_and_checks();
	test_revocations_and_halts();
	test_builders();
	test_envelope();
	test_reviewers();
	return tap_done();
}
