/* fuzz_envelope.c — fuzz target: envelope parse/open and train payload parse on hostile bytes. */
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_key.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * The trusted signer is the RFC 8032 TEST 1 key, so corpus envelopes made
 * with `proto_sign_payload --seed 9d61b1...7f60` pass the signature check
 * and reach the train payload parser; time is fixed at 2026-01-01T00:00:00Z
 * so expiry decisions do not drift.
 */
#define FUZZ_NOW INT64_C(1767225600)

static const uint8_t trusted_pub[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3,
	0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
	0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every accessor so the parsed message is read in full. */
static void
walk(const struct pht_trainmsg *m)
{
	const char *const *l;
	size_t n, i, sum = 0;

	sum += strlen(pht_trainmsg_id(m));
	sum += pht_trainmsg_name(m) != NULL ? strlen(pht_trainmsg_name(m)) : 0;
	pht_trainmsg_code(m, &n);
	sum += n + strlen(pht_trainmsg_code_sha256(m));
	sum += json_object_size(pht_trainmsg_params(m));
	for (l = pht_trainmsg_datasets(m, &n), i = 0; i < n; i++)
		sum += strlen(l[i]);
	for (l = pht_trainmsg_stations(m, &n), i = 0; i < n; i++)
		sum += strlen(l[i]);
	sum += (size_t)pht_trainmsg_round(m) + pht_trainmsg_result_key(m)[31];
	sum += pht_trainmsg_permit(m) != NULL ? strlen(pht_trainmsg_permit(m)) : 0;
	if (pht_trainmsg_expires(m) <= pht_trainmsg_issued(m) || sum == 0)
		abort(); /* parse promised expires > issued and a non-empty id */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pht_trust *trust = NULL;
	struct pht_key *key = NULL;
	struct pht_envelope *env = NULL;
	struct pht_trainmsg *msg = NULL;
	const uint8_t *payload;
	struct pht_err err;
	size_t plen;

	pht_err_clear(&err);
	if ((trust = pht_trust_new()) == NULL ||
	    pht_key_from_raw_public(PHT_KEY_SIGN, trusted_pub, &key, &err) != PHT_OK ||
	    pht_trust_add(trust, "fuzz", key, &err) != PHT_OK)
		abort();

	/* the input as an envelope: parse, verify, then its payload as a train */
	if (pht_envelope_parse((const char *)data, size, &env, &err) == PHT_OK) {
		(void)pht_envelope_verify(env, trust, &err);
		payload = pht_envelope_payload(env, &plen);
		if (pht_trainmsg_parse(payload, plen, FUZZ_NOW, &msg, &err) == PHT_OK)
			walk(msg);
		pht_trainmsg_free(msg);
		msg = NULL;
		pht_envelope_free(env);
		env = NULL;
	}
	/* the one-call path the station uses */
	if (pht_envelope_open((const char *)data, size, trust, &env, &err) == PHT_OK &&
	    pht_envelope_signer_name(env) == NULL)
		abort(); /* an opened envelope always names its signer */
	pht_envelope_free(env);

	/* the input as a bare train payload */
	if (pht_trainmsg_parse(data, size, FUZZ_NOW, &msg, &err) == PHT_OK)
		walk(msg);
	pht_trainmsg_free(msg);

	pht_key_free(key);
	pht_trust_free(trust);
	return 0;
}
