/* pht_seal.h — sealing results to the analyst: X25519 + HKDF-SHA256 + AES-256-GCM. */
#ifndef PHT_SEAL_H
#define PHT_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "pht_key.h"
#include "pht_limits.h"

struct pht_err;

/*
 * Sealed form (binary; base64 it where text is needed), version 1:
 *
 *   offset  size  field
 *   0       1     version, 0x01
 *   1       32    ephemeral X25519 public key E
 *   33      12    AES-GCM nonce (random)
 *   45      n     ciphertext (n = plaintext length)
 *   45+n    16    GCM tag
 *
 * Key schedule: shared = X25519(e, R) for the ephemeral private key e and
 * the recipient's public key R; key = HKDF-SHA256(ikm = shared,
 * salt = E || R, info = "pht-seal-v1", 32 bytes). AES-256-GCM with that key
 * and nonce; the associated data binds the context the result belongs to:
 *
 *   AD = 0x01 || u32be(len(train_id)) || train_id
 *            || u32be(len(station_id)) || station_id
 *
 * so a sealed result cannot be replayed under another train or station.
 * The ephemeral key is used once and discarded.
 */

#define PHT_SEAL_VERSION 1
#define PHT_SEAL_OVERHEAD (1 + 32 + 12 + 16)
#define PHT_SEAL_MAX_ID 1024        /* longest train or station id bound in */

/*
 * Seals len bytes to the recipient's raw X25519 public key. *out (caller
 * frees) gets len + PHT_SEAL_OVERHEAD bytes. PHT_ERR_TOO_LARGE over
 * PHT_SEAL_MAX_PLAIN, PHT_ERR_INVALID for ids longer than PHT_SEAL_MAX_ID,
 * PHT_ERR_CRYPTO if the recipient key is unusable (e.g. of small order).
 */
int pht_seal(const uint8_t recipient[PHT_KEY_RAW_LEN], const char *train_id,
    const char *station_id, const uint8_t *plain, size_t len, uint8_t **out,
    size_t *outlen, struct pht_err *err);

/*
 * Opens a sealed blob with the recipient's private X25519 key, for the same
 * train and station ids. *out (caller frees; followed by a NUL not counted
 * in *outlen) gets the plaintext. PHT_ERR_DECRYPT for anything that does
 * not authenticate: a short or unknown-version blob, a flipped bit, the
 * wrong key, the wrong train or station id. PHT_ERR_INVALID if key is not a
 * private sealing key.
 */
int pht_seal_open(const struct pht_key *key, const char *train_id,
    const char *station_id, const uint8_t *sealed, size_t len, uint8_t **out,
    size_t *outlen, struct pht_err *err);

#endif
