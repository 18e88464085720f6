/* fuzz_result.c — fuzz target: a station's result as the analyst opens it (envelope, result payload, sealed body). */
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_key.h"
#include "pht_resultmsg.h"
#include "pht_seal.h"
#include "pht_trust.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Fixed test keys so corpus inputs reach the deep paths:
 *  - the trusted station signer is the RFC 8032 TEST 1 Ed25519 key (seed
 *    9d61b19d...7f60, public d75a9801...511a);
 *  - the analyst's sealing key is Alice's X25519 private key of RFC 7748
 *    section 6.1 (77076d0a...2c2a), so blobs sealed to its public key
 *    8520f009...4e6a open.
 * The input is tried three ways: as a signed envelope whose payload is a
 * result, as a bare result payload (its sealed body opened with the ids it
 * names), and as a bare sealed blob under fixed ids.
 */

static const uint8_t station_pub[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3,
	0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
	0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};

static const uint8_t analyst_seal_priv[32] = {
	0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72,
	0x51, 0xb2, 0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a,
	0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every field of a parsed result and opens its sealed body. */
static void
open_result(const struct pht_resultmsg *m, const struct pht_key *seal)
{
	const uint8_t *sealed;
	uint8_t *plain = NULL;
	struct pht_err err;
	size_t n = 0, plen = 0;

	pht_err_clear(&err);
	if (strlen(pht_resultmsg_train(m)) == 0 ||
	    strlen(pht_resultmsg_station(m)) == 0 ||
	    strlen(pht_resultmsg_status(m)) == 0 ||
	    strlen(pht_resultmsg_log_hash(m)) != 64 ||
	    pht_resultmsg_round(m) < 1 ||
	    pht_resultmsg_round(m) > PHT_RESULTMSG_MAX_ROUND)
		abort(); /* parse promised these */
	(void)pht_resultmsg_issued(m);
	(void)pht_resultmsg_log_seq(m);
	sealed = pht_resultmsg_sealed(m, &n);
	if (sealed == NULL) {
		/* a result without a sealed body carries its reason in clear */
		if (pht_resultmsg_error(m) == NULL || pht_resultmsg_reason(m) == NULL)
			abort();
		return;
	}
	if (pht_seal_open(seal, pht_resultmsg_train(m), pht_resultmsg_station(m),
	    sealed, n, &plain, &plen, &err) == PHT_OK && plain[plen] != '\0')
		abort(); /* the plaintext is NUL-terminated */
	free(plain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pht_trust *trust = NULL;
	struct pht_key *sign = NULL, *seal = NULL;
	struct pht_envelope *env = NULL;
	struct pht_resultmsg *msg = NULL;
	const uint8_t *payload;
	uint8_t *plain = NULL;
	struct pht_err err;
	size_t plen;

	pht_err_clear(&err);
	if ((trust = pht_trust_new()) == NULL ||
	    pht_key_from_raw_public(PHT_KEY_SIGN, station_pub, &sign, &err) != PHT_OK ||
	    pht_trust_add(trust, "station-fuzz", sign, &err) != PHT_OK ||
	    pht_key_from_raw_private(PHT_KEY_SEAL, analyst_seal_priv, &seal,
	    &err) != PHT_OK)
		abort();

	/* 1. a signed envelope carrying a result, as `pht results` opens it */
	if (pht_envelope_open((const char *)data, size, trust, &env, &err) == PHT_OK) {
		payload = pht_envelope_payload(env, &plen);
		if (pht_resultmsg_parse(payload, plen, &msg, &err) == PHT_OK)
			open_result(msg, seal);
		pht_resultmsg_free(msg);
		msg = NULL;
	}
	pht_envelope_free(env);

	/* 2. a bare result payload */
	if (pht_resultmsg_parse(data, size, &msg, &err) == PHT_OK)
		open_result(msg, seal);
	else if (msg != NULL || err.code == PHT_OK)
		abort(); /* a refusal leaves *out NULL and says why */
	pht_resultmsg_free(msg);

	/* 3. a bare sealed blob */
	if (pht_seal_open(seal, "train-fuzz", "station-fuzz", data, size, &plain,
	    &plen, &err) == PHT_OK && plen + PHT_SEAL_OVERHEAD != size)
		abort(); /* plaintext length is the blob minus the overhead */
	free(plain);

	pht_key_free(seal);
	pht_key_free(sign);
	pht_trust_free(trust);
	return 0;
}
