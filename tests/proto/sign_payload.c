/* sign_payload.c — test helper: signs arbitrary payload bytes into an envelope, so tests can craft signed bad trains. */
#include "pht_buf.h"
#include "pht_enc.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * usage: proto_sign_payload KEYFILE PAYLOAD OUT
 *        proto_sign_payload --seed HEX PAYLOAD OUT
 * Signs the exact bytes of the file PAYLOAD with the Ed25519 private key in
 * KEYFILE (or the one built from a 32-byte hex seed) and writes the
 * envelope to OUT. Exit 0 on success, 1 on failure, 2 on bad usage.
 */
int
main(int argc, char **argv)
{
	struct pht_key *key = NULL;
	struct pht_buf *payload = NULL;
	uint8_t seed[32];
	struct pht_err err;
	char *env = NULL;
	size_t n = 0, sl = 0;
	int argi, r, ex = 1;

	pht_err_clear(&err);
	if (argc == 5 && strcmp(argv[1], "--seed") == 0) {
		if (pht_hex_decode(argv[2], strlen(argv[2]), seed, sizeof(seed), &sl) !=
		    PHT_OK || sl != 32) {
			fprintf(stderr, "proto_sign_payload: --seed needs 64 hex digits\n");
			return 2;
		}
		r = pht_key_from_raw_private(PHT_KEY_SIGN, seed, &key, &err);
		argi = 3;
	} else if (argc == 4) {
		r = pht_key_load_as(argv[1], PHT_KEY_SIGN, 1, &key, &err);
		argi = 2;
	} else {
		fprintf(stderr, "usage: proto_sign_payload KEYFILE|--seed HEX PAYLOAD OUT\n");
		return 2;
	}
	if (r != PHT_OK ||
	    (r = pht_file_read(argv[argi], PHT_ENVELOPE_MAX_PAYLOAD, &payload, &err)) != PHT_OK ||
	    (r = pht_envelope_sign(key, pht_buf_data(payload), pht_buf_len(payload), &env,
	    &n, &err)) != PHT_OK ||
	    (r = pht_file_write_atomic(argv[argi + 1], env, n, 0644, &err)) != PHT_OK) {
		fprintf(stderr, "proto_sign_payload: %s\n", pht_err_msg(&err));
		goto out;
	}
	ex = 0;
out:
	free(env);
	pht_buf_free(payload);
	pht_key_free(key);
	return ex;
}
