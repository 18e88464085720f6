/* pht_envelope.h — signed envelopes: exact payload bytes, signer fingerprint, Ed25519 signature. */
#ifndef PHT_ENVELOPE_H
#define PHT_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "pht_key.h"
#include "pht_limits.h"

struct pht_err;
struct pht_trust;

/*
 * Wire form (one JSON object, UTF-8, exactly these four fields):
 *
 *   {"v":1,"payload":"<base64>","signer":"<fingerprint>","sig":"<base64>"}
 *
 *   v        integer, 1
 *   payload  standard base64 (padded, strict) of the exact payload bytes,
 *            1 to PHT_ENVELOPE_MAX_PAYLOAD bytes once decoded
 *   signer   the signer's key fingerprint: 64 lower-case hex digits
 *   sig      standard base64 of the 64-byte Ed25519 signature over the
 *            payload bytes (nothing else: no JSON is re-serialized)
 *
 * The envelope is generic: trains, results, permits and revocation lists
 * all travel in it, each with its own strict payload parser. The payload
 * kinds must not be confusable: every kind's parser refuses unknown
 * fields and requires fields the other kinds lack, so that bytes signed as
 * one kind never parse as another.
 *
 * The envelope text is at most PHT_ENVELOPE_MAX bytes.
 */
struct pht_envelope;

#define PHT_ENVELOPE_VERSION 1

/*
 * Signs len payload bytes with a private signing key and writes the
 * envelope text (compact JSON, fields in the order above, followed by one
 * "\n") to *out (NUL-terminated, caller frees); *outlen gets its length.
 * PHT_ERR_INVALID for a wrong key, PHT_ERR_TOO_LARGE for a payload over
 * PHT_ENVELOPE_MAX_PAYLOAD, PHT_ERR_INVALID for an empty one.
 */
int pht_envelope_sign(const struct pht_key *key, const uint8_t *payload,
    size_t len, char **out, size_t *outlen, struct pht_err *err);

/*
 * Parses untrusted envelope text strictly without checking the signature.
 * PHT_ERR_TOO_LARGE over PHT_ENVELOPE_MAX; PHT_ERR_MALFORMED for text that
 * is not JSON (invalid UTF-8, NUL bytes, duplicate keys: the detail gives
 * the position), not an object, has an unknown field ("envelope: malformed:
 * unknown field X"), or a missing or bad field ("envelope: malformed field sig:
 * not 64 bytes"). *out is NULL on failure.
 */
int pht_envelope_parse(const char *data, size_t len, struct pht_envelope **out,
    struct pht_err *err);

/*
 * Checks a parsed envelope against a trust set: PHT_ERR_UNKNOWN_SIGNER
 * ("envelope: unknown signer FP") if the fingerprint is not trusted,
 * PHT_ERR_BAD_SIGNATURE ("envelope: bad signature from NAME (FP)") if the
 * signature does not verify. On success the envelope remembers the signer
 * name (pht_envelope_signer_name).
 */
int pht_envelope_verify(struct pht_envelope *env, const struct pht_trust *trust,
    struct pht_err *err);

/* pht_envelope_parse and then pht_envelope_verify; *out NULL on failure. */
int pht_envelope_open(const char *data, size_t len, const struct pht_trust *trust,
    struct pht_envelope **out, struct pht_err *err);

/* Frees env; accepts NULL. */
void pht_envelope_free(struct pht_envelope *env);

/*
 * The payload bytes (followed by a NUL not counted in *len, so text
 * payloads can be read as C strings). Borrowed from env. Authentic only
 * after pht_envelope_verify/open succeeded.
 */
const uint8_t *pht_envelope_payload(const struct pht_envelope *env, size_t *len);

/* The signer fingerprint as written in the envelope (64 hex digits). */
const char *pht_envelope_signer_fp(const struct pht_envelope *env);

/* The trusted signer's name after a successful verify/open, else NULL. */
const char *pht_envelope_signer_name(const struct pht_envelope *env);

#endif
