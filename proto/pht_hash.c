/* pht_hash.c — SHA-256 as lower-case hex. */
#include "pht_hash.h"
#include "pht_enc.h"
#include "pht_err.h"

#include <openssl/evp.h>

#include <stdint.h>
#include <string.h>

int
pht_sha256_hex(const void *data, size_t len, char out[PHT_SHA256_HEX_LEN + 1],
    struct pht_err *err)
{
	uint8_t md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		memset(out, '0', PHT_SHA256_HEX_LEN);
		out[PHT_SHA256_HEX_LEN] = '\0';
		return pht_errf(err, PHT_ERR_CRYPTO, "SHA-256 failed");
	}
	pht_hex_encode(md, sizeof(md), out);
	return PHT_OK;
}
