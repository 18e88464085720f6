/* pht_resultmsg.h — the result payload a station signs: build and strictly parse. */
#ifndef PHT_RESULTMSG_H
#define PHT_RESULTMSG_H

#include <stddef.h>
#include <stdint.h>

#include "pht_limits.h"

struct pht_err;

/*
 * Wire form (proto/PROTOCOL-result.md): one JSON object, compact, keys
 * sorted, with exactly these fields ("sealed", "error" and "reason" as
 * said below), carried in a signed envelope (pht_envelope.h) made with the
 * station's Ed25519 key:
 *
 *   kind      the string "pht-result" (a train payload has no such field
 *             and refuses it; this parser requires it, so the two kinds
 *             never parse as each other)
 *   train     the train id the result answers (1..128 of [A-Za-z0-9_.-])
 *   round     integer, 1..PHT_RESULTMSG_MAX_ROUND
 *   station   the answering station's id (1..64 of [A-Za-z0-9_.-])
 *   status    "released", "rejected", "failed", "withheld" or "refused"
 *   issued    RFC 3339 UTC time the station made the result
 *   log_head  {"seq": N, "hash": "<64 hex>"}: the station's audit log head
 *             after the entry for this run (seq 0 and 64 zeros if empty)
 *   sealed    standard base64 of pht_seal() output, to the train's
 *             result_key, train id and station id bound; the plaintext is
 *             JSON: {"status":S,"output":V} or {"status":S,"error":E,
 *             "reason":R}. Required for "released"; present for the
 *             other statuses whenever the station could read an
 *             authentic result key
 *   error     in clear, only when sealed is absent: a short error name
 *   reason    in clear, only when sealed is absent: why (no data values)
 */
struct pht_resultmsg;

#define PHT_RESULTMSG_KIND "pht-result"
#define PHT_RESULTMSG_MAX_ROUND 1000000
#define PHT_RESULTMSG_MAX_REASON 1024

/* What a station gives to build a result payload. */
struct pht_resultmsg_spec {
	const char *train;
	int64_t round;
	const char *station;
	const char *status;
	int64_t issued;
	uint64_t log_seq;
	const char *log_hash;           /* 64 hex digits */
	const uint8_t *sealed;          /* NULL: clear error/reason instead */
	size_t sealed_len;
	const char *error;              /* with sealed == NULL */
	const char *reason;             /* with sealed == NULL */
};

/*
 * Serializes spec (compact JSON, sorted keys): *out is NUL-terminated, the
 * caller frees it, *outlen gets its length. The result is checked with
 * pht_resultmsg_parse before it is returned; the same errors apply.
 */
int pht_resultmsg_build(const struct pht_resultmsg_spec *spec, char **out,
    size_t *outlen, struct pht_err *err);

/*
 * Parses len untrusted payload bytes strictly. PHT_ERR_TOO_LARGE over
 * PHT_RESULTMSG_MAX; PHT_ERR_MALFORMED ("result: malformed field X: why",
 * "result: malformed: unknown field X") for anything else that is wrong,
 * including a train payload given here. *out is NULL on failure.
 */
int pht_resultmsg_parse(const uint8_t *payload, size_t len,
    struct pht_resultmsg **out, struct pht_err *err);

/* Frees msg; accepts NULL. */
void pht_resultmsg_free(struct pht_resultmsg *msg);

/* Accessors; strings are borrowed from msg. */
const char *pht_resultmsg_train(const struct pht_resultmsg *msg);
int64_t pht_resultmsg_round(const struct pht_resultmsg *msg);
const char *pht_resultmsg_station(const struct pht_resultmsg *msg);
const char *pht_resultmsg_status(const struct pht_resultmsg *msg);
int64_t pht_resultmsg_issued(const struct pht_resultmsg *msg);
uint64_t pht_resultmsg_log_seq(const struct pht_resultmsg *msg);
const char *pht_resultmsg_log_hash(const struct pht_resultmsg *msg);
/* The sealed bytes (decoded), or NULL if the result carries none. */
const uint8_t *pht_resultmsg_sealed(const struct pht_resultmsg *msg, size_t *len);
const char *pht_resultmsg_error(const struct pht_resultmsg *msg);   /* NULL if sealed */
const char *pht_resultmsg_reason(const struct pht_resultmsg *msg);  /* NULL if sealed */

#endif
