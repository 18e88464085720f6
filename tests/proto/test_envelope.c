/* test_envelope.c — pht_envelope: a known-answer envelope, round trips, every refusal, every flipped byte. */
#include "tap.h"
#include "proto_util.h"

#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_key.h"
#include "pht_trust.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* RFC 8032 section 7.1 TEST 2: secret key, and the signature of the one byte 0x72 ("r"). */
static const char *t2_secret = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
/*
 * The envelope of payload "r" signed with that key, written out by hand
 * from the format in pht_envelope.h: base64("r") = "cg==", the signer is
 * sha256 of the TEST 2 public key and sig is base64 of the RFC signature
 * (both computed with xxd, sha256sum and base64, not with pht).
 */
static const char *t2_envelope =
    "{\"v\":1,\"payload\":\"cg==\","
    "\"signer\":\"39f713d0a644253f04529421b9f51b9b08979d08295959c4f3990ee617f5139f\","
    "\"sig\":\"kqAJqfDUyrhyDoILX2QlQKKye1QWUD+Ps3YiI+vbadoIWsHkPhWZbkWPNhPQ8R2MOHsurrQwKu6wDSkWErsMAA==\"}\n";

struct fixture {
	struct pht_key *alice, *bob, *t2;
	struct pht_trust *trust;        /* alice and t2 */
	char fp_alice[65], fp_bob[65];
};

static void
setup(struct fixture *f)
{
	uint8_t sk[32];
	struct pht_err e;

	memset(f, 0, sizeof(*f));
	unhex(t2_secret, sk, 32);
	if (pht_key_generate(PHT_KEY_SIGN, &f->alice, &e) != PHT_OK ||
	    pht_key_generate(PHT_KEY_SIGN, &f->bob, &e) != PHT_OK ||
	    pht_key_from_raw_private(PHT_KEY_SIGN, sk, &f->t2, &e) != PHT_OK ||
	    (f->trust = pht_trust_new()) == NULL ||
	    pht_trust_add(f->trust, "alice", f->alice, &e) != PHT_OK ||
	    pht_trust_add(f->trust, "rfc8032-test2", f->t2, &e) != PHT_OK) {
		printf("Bail out! fixture: %s\n", e.msg);
		exit(1);
	}
	pht_key_fingerprint(f->alice, f->fp_alice, &e);
	pht_key_fingerprint(f->bob, f->fp_bob, &e);
}

static void
teardown(struct fixture *f)
{
	pht_key_free(f->alice);
	pht_key_free(f->bob);
	pht_key_free(f->t2);
	pht_trust_free(f->trust);
}

/* Expects parse-or-open of text to fail with code and a detail containing want. */
static void
expect(const struct fixture *f, const char *text, size_t len, int code,
    const char *want, const char *what)
{
	struct pht_envelope *env = (struct pht_envelope *)1;
	struct pht_err e;
	int r;

	pht_err_clear(&e);
	r = pht_envelope_open(text, len, f->trust, &env, &e);
	tap_ok(r == code && env == NULL, "%s: refused with %s", what, pht_strerror(code));
	if (r != code)
		tap_diag("got %d (%s): %s", r, pht_strerror(r), e.msg);
	tap_ok(strstr(e.msg, want) != NULL, "  detail has \"%s\"", want);
	if (strstr(e.msg, want) == NULL)
		tap_diag("detail: %s", e.msg);
}

static void
expect_s(const struct fixture *f, const char *text, int code, const char *want,
    const char *what)
{
	expect(f, text, strlen(text), code, want, what);
}

static void
test_known_answer(const struct fixture *f)
{
	struct pht_envelope *env = NULL;
	struct pht_err e;
	char *out = NULL;
	size_t n = 0, plen = 0;
	const uint8_t *p;

	tap_ok(pht_envelope_sign(f->t2, (const uint8_t *)"r", 1, &out, &n, &e) == PHT_OK,
	    "sign the RFC 8032 TEST 2 message as a payload");
	tap_str(out, t2_envelope, "envelope text is exactly the documented format");
	tap_ok(n == strlen(t2_envelope), "  and its length is reported");
	tap_ok(pht_envelope_open(t2_envelope, strlen(t2_envelope), f->trust, &env, &e) ==
	    PHT_OK, "the hand-written envelope opens");
	p = pht_envelope_payload(env, &plen);
	tap_ok(plen == 1 && p[0] == 'r' && p[1] == '\0', "  payload is the byte \"r\"");
	tap_str(pht_envelope_signer_name(env), "rfc8032-test2", "  signer name");
	tap_str(pht_envelope_signer_fp(env),
	    "39f713d0a644253f04529421b9f51b9b08979d08295959c4f3990ee617f5139f",
	    "  signer fingerprint");
	pht_envelope_free(env);
	free(out);
}

static void
test_round_trip(const struct fixture *f)
{
	static const uint8_t bin[] = {0x00, 0xff, 0x10, '"', '\\', 0x80, '\n', 0x00};
	struct pht_envelope *env = NULL;
	struct pht_key *pub = NULL;
	const uint8_t *p;
	struct pht_err e;
	char *out = NULL;
	uint8_t *big;
	size_t n, plen;

	tap_ok(pht_envelope_sign(f->alice, bin, sizeof(bin), &out, &n, &e) == PHT_OK,
	    "sign binary payload bytes");
	tap_ok(pht_envelope_parse(out, n, &env, &e) == PHT_OK, "parse it");
	tap_ok(pht_envelope_signer_name(env) == NULL, "  no signer name before verify");
	tap_ok(pht_envelope_verify(env, f->trust, &e) == PHT_OK, "  verify it");
	p = pht_envelope_payload(env, &plen);
	tap_ok(plen == sizeof(bin) && memcmp(p, bin, plen) == 0,
	    "  payload bytes come back exactly");
	tap_str(pht_envelope_signer_name(env), "alice", "  signer name alice");
	tap_str(pht_envelope_signer_fp(env), f->fp_alice, "  signer fingerprint");
	pht_envelope_free(env);
	env = NULL;
	tap_ok(pht_envelope_open(out, n - 1, f->trust, &env, &e) == PHT_OK,
	    "the envelope without its final newline opens too");
	pht_envelope_free(env);
	free(out);
	out = NULL;

	pht_err_clear(&e);
	pub = pht_key_public_copy(f->alice);
	tap_ok(pht_envelope_sign(pub, bin, 1, &out, &n, &e) == PHT_ERR_INVALID &&
	    out == NULL, "signing with a public key refused");
	pht_key_free(pub);
	tap_ok(pht_envelope_sign(f->alice, bin, 0, &out, &n, &e) == PHT_ERR_INVALID,
	    "empty payload refused");
	tap_str(e.msg, "envelope: empty payload", "  detail");
	big = calloc(1, PHT_ENVELOPE_MAX_PAYLOAD + 1);
	tap_ok(pht_envelope_sign(f->alice, big, PHT_ENVELOPE_MAX_PAYLOAD + 1, &out, &n,
	    &e) == PHT_ERR_TOO_LARGE, "payload over the maximum refused");
	tap_ok(pht_envelope_sign(f->alice, big, PHT_ENVELOPE_MAX_PAYLOAD, &out, &n,
	    &e) == PHT_OK && n < PHT_ENVELOPE_MAX, "payload of exactly the maximum signs");
	tap_ok(pht_envelope_open(out, n, f->trust, &env, &e) == PHT_OK,
	    "  and opens");
	pht_envelope_free(env);
	free(out);
	free(big);
}

static void
test_signer(const struct fixture *f)
{
	struct pht_err e;
	char *a = NULL, *b = NULL, *mixed;
	json_t *ja, *jb;
	size_t n;
	char want[160];

	pht_envelope_sign(f->alice, (const uint8_t *)"payload A", 9, &a, &n, &e);
	pht_envelope_sign(f->bob, (const uint8_t *)"payload B", 9, &b, &n, &e);
	snprintf(want, sizeof(want), "envelope: unknown signer %s", f->fp_bob);
	expect_s(f, b, PHT_ERR_UNKNOWN_SIGNER, want, "envelope from an untrusted signer");

	/* alice's signature over B's payload */
	ja = json_loads(a, 0, NULL);
	jb = json_loads(b, 0, NULL);
	json_object_set(ja, "payload", json_object_get(jb, "payload"));
	mixed = json_dumps(ja, JSON_COMPACT);
	snprintf(want, sizeof(want), "envelope: bad signature from alice (%s)", f->fp_alice);
	expect_s(f, mixed, PHT_ERR_BAD_SIGNATURE, want, "payload swapped under a signature");
	free(mixed);
	/* bob's signature, claimed by alice */
	json_object_set(jb, "signer", json_object_get(ja, "signer"));
	mixed = json_dumps(jb, JSON_COMPACT);
	expect_s(f, mixed, PHT_ERR_BAD_SIGNATURE, want, "signature claimed by another signer");
	free(mixed);
	json_decref(ja);
	json_decref(jb);
	free(a);
	free(b);
}

static void
test_malformed(const struct fixture *f)
{
	static const char *fp = "39f713d0a644253f04529421b9f51b9b08979d08295959c4f3990ee617f5139f";
	static const char *sig = "kqAJqfDUyrhyDoILX2QlQKKye1QWUD+Ps3YiI+vbadoIWsHkPhWZbkWPNhPQ8R2MOHsurrQwKu6wDSkWErsMAA==";
	char buf[1024], *big;
	size_t i, n, bad_prefixes = 0;
	struct pht_envelope *env = NULL;
	struct pht_err e;

#define ENV(v, p, s, g) snprintf(buf, sizeof(buf), "{\"v\":%s,\"payload\":%s,\"signer\":%s,\"sig\":%s}", v, p, s, g)
#define Q(x) "\"" x "\""
	char qfp[80], qsig[120];

	snprintf(qfp, sizeof(qfp), "\"%s\"", fp);
	snprintf(qsig, sizeof(qsig), "\"%s\"", sig);
	ENV("1", Q("cg=="), qfp, qsig);
	tap_ok(pht_envelope_open(buf, strlen(buf), f->trust, &env, &e) == PHT_OK,
	    "the template envelope is valid");
	pht_envelope_free(env);
	env = NULL;

	/* every truncation */
	n = strlen(t2_envelope);
	for (i = 0; i < n - 1; i++) {
		pht_err_clear(&e);
		if (pht_envelope_open(t2_envelope, i, f->trust, &env, &e) == PHT_ERR_MALFORMED &&
		    env == NULL && strncmp(e.msg, "envelope: malformed JSON: ", 26) == 0)
			bad_prefixes++;
	}
	tap_ok(bad_prefixes == n - 1, "all %zu truncations refused as malformed JSON", n - 1);
	expect(f, t2_envelope, 0, PHT_ERR_MALFORMED, "envelope: malformed JSON: ", "empty input");

	/* oversized */
	big = malloc(PHT_ENVELOPE_MAX + 1);
	memset(big, ' ', PHT_ENVELOPE_MAX + 1);
	expect(f, big, PHT_ENVELOPE_MAX + 1, PHT_ERR_TOO_LARGE, "envelope: too large: 4194305 "
	    "bytes, more than 4194304", "oversized envelope");
	free(big);

	/* not UTF-8, NUL bytes, duplicate keys, not an object */
	ENV("1", Q("cg=="), qfp, "\"\xff\xfe\"");
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed JSON: line 1", "invalid UTF-8");
	ENV("1", Q("cg=="), qfp, "\"\xc0\xaf\"");
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed JSON: line 1",
	    "overlong UTF-8 encoding");
	memcpy(buf, t2_envelope, strlen(t2_envelope));
	buf[20] = '\0';
	expect(f, buf, strlen(t2_envelope), PHT_ERR_MALFORMED, "contains a NUL byte",
	    "NUL byte inside");
	snprintf(buf, sizeof(buf), "{\"v\":1,\"v\":1,\"payload\":\"cg==\",\"signer\":%s,"
	    "\"sig\":%s}", qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "duplicate object key", "duplicate key v");
	snprintf(buf, sizeof(buf), "{\"v\":1,\"payload\":\"cg==\",\"signer\":%s,"
	    "\"sig\":%s,\"payload\":\"cw==\"}", qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "duplicate object key", "duplicate key payload");
	expect_s(f, "[1,2]", PHT_ERR_MALFORMED, "envelope: malformed: not a JSON object",
	    "an array");
	expect_s(f, "\"x\"", PHT_ERR_MALFORMED, "envelope: malformed: not a JSON object",
	    "a string");
	snprintf(buf, sizeof(buf), "%s{}", t2_envelope);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed JSON: ",
	    "trailing data after the object");

	/* unknown fields, with hostile names shown safely */
	snprintf(buf, sizeof(buf), "{\"v\":1,\"payload\":\"cg==\",\"signer\":%s,"
	    "\"sig\":%s,\"x\":1}", qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed: unknown field x",
	    "unknown field");
	snprintf(buf, sizeof(buf), "{\"\\u001b[31m\":1,\"v\":1,\"payload\":\"cg==\","
	    "\"signer\":%s,\"sig\":%s}", qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed: unknown field ?[31m",
	    "unknown field with an escape sequence, shown as ?");

	/* missing fields */
	snprintf(buf, sizeof(buf), "{\"payload\":\"cg==\",\"signer\":%s,\"sig\":%s}", qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field v: missing", "no v");
	snprintf(buf, sizeof(buf), "{\"v\":1,\"signer\":%s,\"sig\":%s}", qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field payload: missing",
	    "no payload");
	snprintf(buf, sizeof(buf), "{\"v\":1,\"payload\":\"cg==\",\"sig\":%s}", qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field signer: missing",
	    "no signer");
	snprintf(buf, sizeof(buf), "{\"v\":1,\"payload\":\"cg==\",\"signer\":%s}", qfp);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field sig: missing", "no sig");

	/* wrong types and values */
	ENV("\"1\"", Q("cg=="), qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field v: not an integer",
	    "v as a string");
	ENV("1.0", Q("cg=="), qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field v: not an integer",
	    "v as a real");
	ENV("2", Q("cg=="), qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED,
	    "envelope: malformed field v: unsupported version 2", "version 2");
	ENV("1", "114", qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field payload: not a string",
	    "payload as a number");
	ENV("1", "null", qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field payload: not a string",
	    "payload null");
	ENV("1", Q(""), qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field payload: empty",
	    "empty payload");
	ENV("1", Q("cg="), qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED,
	    "envelope: malformed field payload: not strict base64", "short padding");
	ENV("1", Q("ch=="), qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED,
	    "envelope: malformed field payload: not strict base64", "non-zero unused bits");
	ENV("1", Q("c g=="), qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED,
	    "envelope: malformed field payload: not strict base64", "space in base64");
	ENV("1", Q("cg==\\u0000"), qfp, qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "\\u0000 is not allowed", "escaped NUL");
	snprintf(buf, sizeof(buf), "{\"v\":1,\"payload\":\x1b[31m}");
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed JSON: line 1",
	    "control bytes outside strings");
	pht_envelope_open(buf, strlen(buf), f->trust, &env, &e);
	tap_ok(strchr(e.msg, 0x1b) == NULL && strlen(e.msg) > 30,
	    "  are not echoed into the detail (%s)", e.msg);
	ENV("1", Q("cg=="), "[]", qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field signer: not a string",
	    "signer as an array");
	ENV("1", Q("cg=="), Q("39F713D0A644253F04529421B9F51B9B08979D08295959C4F3990EE617F5139F"),
	    qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field signer: not a "
	    "fingerprint (64 lower-case hex digits)", "upper-case fingerprint");
	ENV("1", Q("cg=="), Q("39f713d0"), qsig);
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field signer: not a "
	    "fingerprint", "short fingerprint");
	ENV("1", Q("cg=="), qfp, "{}");
	expect_s(f, buf, PHT_ERR_MALFORMED, "envelope: malformed field sig: not a string",
	    "sig as an object");
	ENV("1", Q("cg=="), qfp, Q("kqAJqfDU"));
	expect_s(f, buf, PHT_ERR_MALFORMED,
	    "envelope: malformed field sig: not the base64 of a 64-byte signature", "short sig");
	ENV("1", Q("cg=="), qfp,
	    Q("kqAJqfDUyrhyDoILX2QlQKKye1QWUD+Ps3YiI+vbadoIWsHkPhWZbkWPNhPQ8R2MOHsurrQwKu6wDSkWErsMAB=="));
	expect_s(f, buf, PHT_ERR_MALFORMED,
	    "envelope: malformed field sig: not the base64 of a 64-byte signature",
	    "sig with non-zero unused bits");
#undef ENV
#undef Q
}

/*
 * Flips every byte of a signed envelope, one at a time and with several
 * masks, and requires each variant to be refused with a reason that fits
 * where the byte was: structure -> malformed; payload -> bad signature or
 * malformed; signer -> unknown signer or malformed; sig -> bad signature
 * or malformed.
 */
static void
test_flip_every_byte(const struct fixture *f)
{
	static const uint8_t masks[] = {0x01, 0x02, 0x20, 0x40, 0x80, 0xff};
	char *text = NULL, *copy, *pp, *ps, *pg;
	size_t n, i, m, tried = 0, accepted = 0, unfitting = 0, nodetail = 0;
	size_t p0, p1, s0, s1, g0, g1, by_badsig = 0, by_unknown = 0;
	struct pht_envelope *env = NULL;
	struct pht_err e;
	const char *payload = "{\"round\":1,\"code\":\"return {}\"}";
	int r, ok;

	pht_envelope_sign(f->alice, (const uint8_t *)payload, strlen(payload), &text, &n, &e);
	pp = strstr(text, "\"payload\":\"") + 11;
	ps = strstr(text, "\"signer\":\"") + 10;
	pg = strstr(text, "\"sig\":\"") + 7;
	p0 = (size_t)(pp - text); p1 = (size_t)(strchr(pp, '"') - text);
	s0 = (size_t)(ps - text); s1 = (size_t)(strchr(ps, '"') - text);
	g0 = (size_t)(pg - text); g1 = (size_t)(strchr(pg, '"') - text);
	copy = malloc(n);
	for (i = 0; i < n; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(copy, text, n);
			copy[i] = (char)(copy[i] ^ masks[m]);
			pht_err_clear(&e);
			r = pht_envelope_open(copy, n, f->trust, &env, &e);
			tried++;
			if (r == PHT_OK) {
				accepted++;
				tap_diag("accepted: byte %zu ^ 0x%02x", i, masks[m]);
				pht_envelope_free(env);
				env = NULL;
				continue;
			}
			if (i >= p0 && i < p1)
				ok = r == PHT_ERR_BAD_SIGNATURE || r == PHT_ERR_MALFORMED;
			else if (i >= s0 && i < s1)
				ok = r == PHT_ERR_UNKNOWN_SIGNER || r == PHT_ERR_MALFORMED;
			else if (i >= g0 && i < g1)
				ok = r == PHT_ERR_BAD_SIGNATURE || r == PHT_ERR_MALFORMED;
			else
				ok = r == PHT_ERR_MALFORMED;
			if (!ok) {
				unfitting++;
				tap_diag("byte %zu ^ 0x%02x: unfitting reason %s: %s", i,
				    masks[m], pht_strerror(r), e.msg);
			}
			if (strncmp(e.msg, "envelope: ", 10) != 0)
				nodetail++;
			by_badsig += r == PHT_ERR_BAD_SIGNATURE;
			by_unknown += r == PHT_ERR_UNKNOWN_SIGNER;
		}
	}
	tap_ok(accepted == 0, "all %zu single-byte flips of a %zu-byte envelope refused",
	    tried, n);
	tap_ok(unfitting == 0, "  each with a reason that fits the flipped field");
	tap_ok(nodetail == 0, "  each with an \"envelope: ...\" detail");
	tap_ok(by_badsig > 0 && by_unknown > 0,
	    "  flips reach the signature check (%zu) and the signer lookup (%zu)",
	    by_badsig, by_unknown);
	free(copy);
	free(text);
}

int
main(void)
{
	struct fixture f;

	setup(&f);
	test_known_answer(&f);
	test_round_trip(&f);
	test_signer(&f);
	test_malformed(&f);
	test_flip_every_byte(&f);
	teardown(&f);
	return tap_done();
}
