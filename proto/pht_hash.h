/* pht_hash.h — SHA-256 as the lower-case hex PHT shows everywhere. */
#ifndef PHT_HASH_H
#define PHT_HASH_H

#include <stddef.h>

struct pht_err;

#define PHT_SHA256_HEX_LEN 64

/*
 * Writes the SHA-256 of data[0..len) to out as 64 lower-case hex digits
 * and a NUL. PHT_OK, or PHT_ERR_CRYPTO ("SHA-256 failed"; err may be NULL)
 * with out set to 64 zeros.
 */
int pht_sha256_hex(const void *data, size_t len, char out[PHT_SHA256_HEX_LEN + 1],
    struct pht_err *err);

#endif
