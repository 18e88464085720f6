/* pht_trainmsg.h — the train payload carried in a signed envelope: build and strictly parse. */
#ifndef PHT_TRAINMSG_H
#define PHT_TRAINMSG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_key.h"
#include "pht_limits.h"

struct pht_err;

/*
 * Wire form: one JSON object, compact, keys sorted, with these fields
 * (no others):
 *
 *   id           32 lower-case hex digits (128 random bits)
 *   name         optional; the train's name, 1..128 printable ASCII characters
 *   code         the Lua source, a non-empty string (UTF-8, no NUL)
 *   code_sha256  64 lower-case hex digits: SHA-256 of the code's bytes
 *   params       a JSON object (the train's parameters)
 *   datasets     array of at most 256 distinct names (1..128 printable ASCII
 *                characters each); empty if the analyst names none
 *   stations     array of target station ids, same rules
 *   round        integer, 1 <= round <= PHT_TRAINMSG_MAX_ROUND
 *   issued       RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" (pht_time.h)
 *   expires      same form, later than issued
 *   result_key   standard base64 of the analyst's raw 32-byte X25519
 *                public key (results are sealed to it, pht_seal.h)
 *   permit       optional; id of the data permit the train runs under,
 *                1..128 printable ASCII characters
 *   permit_envelope  optional, only with permit; the permit authority's
 *                signed permit envelope (pht_permit.h) as its exact text,
 *                1..PHT_TRAINMSG_MAX_PERMIT bytes, so that the permit
 *                travels with the train under the analyst's signature and
 *                the authority's signature still covers its exact bytes.
 *                Checked by the station, not here.
 *   code_approval  optional, only with permit: a reviewer's signed code
 *                approval envelope (pht_permit.h) as its exact text,
 *                1..PHT_TRAINMSG_MAX_PERMIT bytes, for permits that allow
 *                code by reviewers. Checked by the station, not here.
 *
 * What an empty datasets or stations list means is for the station's
 * policy to decide; this layer only carries it.
 */
struct pht_trainmsg;

#define PHT_TRAINMSG_ID_LEN 32
#define PHT_TRAINMSG_MAX_ROUND 1000000
#define PHT_TRAINMSG_MAX_LIST 256
#define PHT_TRAINMSG_MAX_NAME 128
#define PHT_TRAINMSG_SKEW 300       /* seconds an issue time may lie ahead */

/* What the caller gives to build a train payload. */
struct pht_trainmsg_spec {
	const char *id;                 /* NULL: a fresh random id */
	const char *name;               /* NULL: none */
	const char *code;               /* Lua source, code_len bytes */
	size_t code_len;
	const json_t *params;           /* an object; NULL: {} */
	const char *const *datasets;    /* n_datasets strings */
	size_t n_datasets;
	const char *const *stations;    /* n_stations strings */
	size_t n_stations;
	int64_t round;
	int64_t issued, expires;        /* seconds since the epoch, UTC */
	uint8_t result_key[PHT_KEY_RAW_LEN];
	const char *permit;             /* NULL: none */
	const char *permit_envelope;    /* NULL: none; needs permit */
	const char *code_approval;      /* NULL: none; needs permit */
};

/*
 * Serializes spec into a payload (compact JSON, sorted keys, no trailing
 * newline): *out is NUL-terminated, the caller frees it, *outlen gets its
 * length. The code hash is computed here. The result is checked with
 * pht_trainmsg_parse (at now = issued) before it is returned, so build
 * never produces a payload parse refuses: the same errors apply.
 */
int pht_trainmsg_build(const struct pht_trainmsg_spec *spec, char **out,
    size_t *outlen, struct pht_err *err);

/*
 * Parses and validates len payload bytes at time now (seconds since the
 * epoch; pass pht_time_now() outside tests). Checks in this order:
 *  - PHT_ERR_TOO_LARGE: more than PHT_TRAINMSG_MAX bytes;
 *  - PHT_ERR_MALFORMED: not a JSON object, an unknown field ("train: malformed:
 *    unknown field X"), or a missing or bad field, named in the detail
 *    ("train: malformed field expires: not an RFC 3339 UTC time");
 *  - PHT_ERR_HASH_MISMATCH: code_sha256 is not the SHA-256 of code
 *    ("train: code hash mismatch: ...");
 *  - PHT_ERR_EXPIRED: now >= expires ("train: expired at T");
 *  - PHT_ERR_NOT_YET_VALID: issued > now + PHT_TRAINMSG_SKEW.
 * now = PHT_TRAINMSG_AT_ISSUE checks everything but the clock (as at the
 * train's own issue time): for a train already admitted and logged, e.g.
 * to seal the result of a run finished after a crash.
 * *out is NULL on failure.
 */
#define PHT_TRAINMSG_AT_ISSUE INT64_MIN
int pht_trainmsg_parse(const uint8_t *payload, size_t len, int64_t now,
    struct pht_trainmsg **out, struct pht_err *err);

/* Frees msg; accepts NULL. */
void pht_trainmsg_free(struct pht_trainmsg *msg);

/* Accessors; returned pointers are borrowed from msg. */
const char *pht_trainmsg_id(const struct pht_trainmsg *msg);
const char *pht_trainmsg_name(const struct pht_trainmsg *msg);   /* NULL if none */
const char *pht_trainmsg_code(const struct pht_trainmsg *msg, size_t *len);
const char *pht_trainmsg_code_sha256(const struct pht_trainmsg *msg);
const json_t *pht_trainmsg_params(const struct pht_trainmsg *msg);
const char *const *pht_trainmsg_datasets(const struct pht_trainmsg *msg, size_t *n);
const char *const *pht_trainmsg_stations(const struct pht_trainmsg *msg, size_t *n);
int64_t pht_trainmsg_round(const struct pht_trainmsg *msg);
int64_t pht_trainmsg_issued(const struct pht_trainmsg *msg);
int64_t pht_trainmsg_expires(const struct pht_trainmsg *msg);
const uint8_t *pht_trainmsg_result_key(const struct pht_trainmsg *msg); /* 32 bytes */
const char *pht_trainmsg_permit(const struct pht_trainmsg *msg); /* NULL if none */
/* The embedded permit envelope text, NULL if none. */
const char *pht_trainmsg_permit_envelope(const struct pht_trainmsg *msg);
/* The embedded code approval envelope text, NULL if none. */
const char *pht_trainmsg_code_approval(const struct pht_trainmsg *msg);

/* Writes a fresh random train id (32 hex digits and a NUL) to out. */
int pht_trainmsg_new_id(char out[PHT_TRAINMSG_ID_LEN + 1], struct pht_err *err);

#endif
