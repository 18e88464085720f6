/* pht_envelope.c — signing, strict parsing and verification of envelopes. */
#include "pht_envelope.h"
#include "pht_buf.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_trust.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Invariant: payload holds len bytes plus a NUL; name is set only once verified. */
struct pht_envelope {
	uint8_t *payload;
	size_t len;
	char signer[PHT_KEY_FP_LEN + 1];
	uint8_t sig[PHT_KEY_SIG_LEN];
	char name[PHT_KEY_NAME_MAX + 1];
	int verified;
};

static const char *const fields[] = {"v", "payload", "signer", "sig", NULL};

int
pht_envelope_sign(const struct pht_key *key, const uint8_t *payload, size_t len,
    char **out, size_t *outlen, struct pht_err *err)
{
	uint8_t sig[PHT_KEY_SIG_LEN];
	char fp[PHT_KEY_FP_LEN + 1], *p64 = NULL, *s64 = NULL;
	struct pht_buf *b = NULL;
	int r;

	*out = NULL;
	if (len == 0)
		return pht_errf(err, PHT_ERR_INVALID, "envelope: empty payload");
	if (len > PHT_ENVELOPE_MAX_PAYLOAD)
		return pht_errf(err, PHT_ERR_TOO_LARGE,
		    "envelope: payload of %zu bytes exceeds %u", len,
		    PHT_ENVELOPE_MAX_PAYLOAD);
	if ((r = pht_key_sign(key, payload, len, sig, err)) != PHT_OK ||
	    (r = pht_key_fingerprint(key, fp, err)) != PHT_OK)
		return r;
	p64 = pht_b64_encode_alloc(payload, len);
	s64 = pht_b64_encode_alloc(sig, sizeof(sig));
	b = pht_buf_new(PHT_ENVELOPE_MAX);
	if (p64 == NULL || s64 == NULL || b == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Every value is base64 or hex: nothing needs JSON escaping. */
	if ((r = pht_buf_putf(b, "{\"v\":%d,\"payload\":\"%s\",\"signer\":\"%s\","
	    "\"sig\":\"%s\"}\n", PHT_ENVELOPE_VERSION, p64, fp, s64)) != PHT_OK) {
		pht_errf(err, r, "envelope: %s", pht_strerror(r));
		goto out;
	}
	*out = pht_buf_steal(b, outlen);
	if (*out == NULL)
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
out:
	free(p64);
	free(s64);
	pht_buf_free(b);
	return r;
}

static int
bad(struct pht_err *err, const char *field, const char *why)
{
	return pht_json_bad(err, "envelope", field, why);
}

int
pht_envelope_parse(const char *data, size_t len, struct pht_envelope **out,
    struct pht_err *err)
{
	struct pht_envelope *env = NULL;
	json_t *root = NULL, *v;
	const char *s;
	size_t n, got;
	int r;

	*out = NULL;
	if (len > PHT_ENVELOPE_MAX)
		return pht_errf(err, PHT_ERR_TOO_LARGE,
		    "envelope: too large: %zu bytes, more than %u", len, PHT_ENVELOPE_MAX);
	if ((r = pht_json_parse(data, len, "envelope: malformed JSON", &root, err)) != PHT_OK) {
		pht_err_scrub(err);
		return r;
	}
	if (!json_is_object(root)) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "envelope: malformed: not a JSON object");
		goto out;
	}
	if ((r = pht_json_only_known(root, "envelope", fields, err)) != PHT_OK)
		goto out;
	if ((env = calloc(1, sizeof(*env))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* v */
	if ((v = json_object_get(root, "v")) == NULL) {
		r = bad(err, "v", "missing");
		goto out;
	}
	if (!json_is_integer(v)) {
		r = bad(err, "v", "not an integer");
		goto out;
	}
	if (json_integer_value(v) != PHT_ENVELOPE_VERSION) {
		r = pht_errf(err, PHT_ERR_MALFORMED,
		    "envelope: malformed field v: unsupported version %lld",
		    (long long)json_integer_value(v));
		goto out;
	}
	/* payload */
	if ((r = pht_json_field_str(root, "envelope", "payload", 0, &s, &n, err)) !=
	    PHT_OK)
		goto out;
	if (n == 0) {
		r = bad(err, "payload", "empty");
		goto out;
	}
	if (n / 4 * 3 > PHT_ENVELOPE_MAX_PAYLOAD + 2) {
		r = pht_errf(err, PHT_ERR_TOO_LARGE,
		    "envelope: malformed field payload: more than %u bytes",
		    PHT_ENVELOPE_MAX_PAYLOAD);
		goto out;
	}
	if ((env->payload = malloc(n / 4 * 3 + 1)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (pht_b64_decode(s, n, env->payload, n / 4 * 3, &env->len) != PHT_OK) {
		r = bad(err, "payload", "not strict base64");
		goto out;
	}
	env->payload[env->len] = '\0';
	if (env->len > PHT_ENVELOPE_MAX_PAYLOAD) {
		r = pht_errf(err, PHT_ERR_TOO_LARGE,
		    "envelope: malformed field payload: more than %u bytes",
		    PHT_ENVELOPE_MAX_PAYLOAD);
		goto out;
	}
	/* signer */
	if ((r = pht_json_field_str(root, "envelope", "signer", 0, &s, &n, err)) !=
	    PHT_OK)
		goto out;
	if (n != PHT_KEY_FP_LEN || !pht_hex_lower_ok(s, n)) {
		r = bad(err, "signer", "not a fingerprint (64 lower-case hex digits)");
		goto out;
	}
	memcpy(env->signer, s, n + 1);
	/* sig */
	if ((r = pht_json_field_str(root, "envelope", "sig", 0, &s, &n, err)) !=
	    PHT_OK)
		goto out;
	if (n != pht_b64_encoded_len(PHT_KEY_SIG_LEN) ||
	    pht_b64_decode(s, n, env->sig, sizeof(env->sig), &got) != PHT_OK ||
	    got != PHT_KEY_SIG_LEN) {
		r = bad(err, "sig", "not the base64 of a 64-byte signature");
		goto out;
	}
	*out = env;
	env = NULL; /* transferred */
	r = PHT_OK;
out:
	pht_envelope_free(env);
	json_decref(root);
	return r;
}

int
pht_envelope_verify(struct pht_envelope *env, const struct pht_trust *trust,
    struct pht_err *err)
{
	const struct pht_key *k;
	const char *name = NULL;
	int r;

	env->verified = 0;
	env->name[0] = '\0';
	if ((k = pht_trust_find(trust, env->signer, &name)) == NULL)
		return pht_errf(err, PHT_ERR_UNKNOWN_SIGNER, "envelope: unknown signer %s",
		    env->signer);
	r = pht_key_verify(k, env->payload, env->len, env->sig, err);
	if (r == PHT_ERR_BAD_SIGNATURE)
		return pht_errf(err, r, "envelope: bad signature from %s (%s)", name,
		    env->signer);
	if (r != PHT_OK)
		return r;
	snprintf(env->name, sizeof(env->name), "%s", name);
	env->verified = 1;
	return PHT_OK;
}

int
pht_envelope_open(const char *data, size_t len, const struct pht_trust *trust,
    struct pht_envelope **out, struct pht_err *err)
{
	struct pht_envelope *env = NULL;
	int r;

	*out = NULL;
	if ((r = pht_envelope_parse(data, len, &env, err)) != PHT_OK)
		return r;
	if ((r = pht_envelope_verify(env, trust, err)) != PHT_OK) {
		pht_envelope_free(env);
		return r;
	}
	*out = env;
	return PHT_OK;
}

void
pht_envelope_free(struct pht_envelope *env)
{
	if (env == NULL)
		return;
	free(env->payload);
	free(env);
}

const uint8_t *
pht_envelope_payload(const struct pht_envelope *env, size_t *len)
{
	if (len != NULL)
		*len = env->len;
	return env->payload;
}

const char *
pht_envelope_signer_fp(const struct pht_envelope *env)
{
	return env->signer;
}

const char *
pht_envelope_signer_name(const struct pht_envelope *env)
{
	return env->verified ? env->name : NULL;
}
