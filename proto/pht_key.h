/* pht_key.h — Ed25519 signing keys and X25519 result keys: generate, PEM files, fingerprints, sign/verify. */
#ifndef PHT_KEY_H
#define PHT_KEY_H

#include <stddef.h>
#include <stdint.h>

struct pht_err;

/*
 * A key is either an Ed25519 signing key (PHT_KEY_SIGN) or an X25519
 * key-agreement key used to seal results to an analyst (PHT_KEY_SEAL). It
 * holds the private part (and so also the public part) or the public part
 * only.
 *
 * Files, PEM text:
 *   private keys: PKCS#8 "-----BEGIN PRIVATE KEY-----", written mode 0600
 *   public keys:  SubjectPublicKeyInfo "-----BEGIN PUBLIC KEY-----", 0644
 * Encrypted private keys are refused (PHT never prompts for a passphrase).
 *
 * `pht keygen --name NAME --out DIR` writes four files, named with the
 * suffixes below:
 *   NAME.sign.key  Ed25519 private   NAME.sign.pub  Ed25519 public
 *   NAME.seal.key  X25519 private    NAME.seal.pub  X25519 public
 *
 * The fingerprint of a key is the lower-case hex SHA-256 of its raw 32-byte
 * public key (64 characters); it is how pht names a key everywhere.
 */
struct pht_key;

enum pht_key_type {
	PHT_KEY_SIGN = 1,   /* Ed25519 */
	PHT_KEY_SEAL = 2,   /* X25519 */
};

#define PHT_KEY_RAW_LEN 32          /* raw public or private key bytes */
#define PHT_KEY_SIG_LEN 64          /* Ed25519 signature bytes */
#define PHT_KEY_FP_LEN 64           /* fingerprint hex digits, without NUL */
#define PHT_KEY_FILE_MAX 16384      /* largest key file pht reads */
#define PHT_KEY_NAME_MAX 64         /* longest key name (keygen, trust) */

#define PHT_KEY_SIGN_PRIV_SUFFIX ".sign.key"
#define PHT_KEY_SIGN_PUB_SUFFIX  ".sign.pub"
#define PHT_KEY_SEAL_PRIV_SUFFIX ".seal.key"
#define PHT_KEY_SEAL_PUB_SUFFIX  ".seal.pub"

/* Generates a new random key pair of type. *out is NULL on failure. */
int pht_key_generate(enum pht_key_type type, struct pht_key **out,
    struct pht_err *err);

/*
 * Builds a key from raw bytes: a 32-byte private key (the RFC 8032 secret
 * seed or the RFC 7748 scalar) or a 32-byte public key. PHT_ERR_CRYPTO if
 * OpenSSL refuses the bytes.
 */
int pht_key_from_raw_private(enum pht_key_type type,
    const uint8_t raw[PHT_KEY_RAW_LEN], struct pht_key **out, struct pht_err *err);
int pht_key_from_raw_public(enum pht_key_type type,
    const uint8_t raw[PHT_KEY_RAW_LEN], struct pht_key **out, struct pht_err *err);

/* Frees key (wiping private material inside OpenSSL); accepts NULL. */
void pht_key_free(struct pht_key *key);

/* A new key holding only the public part of key. NULL on OOM. */
struct pht_key *pht_key_public_copy(const struct pht_key *key);

enum pht_key_type pht_key_type(const struct pht_key *key);

/* 1 if key holds the private part, else 0. */
int pht_key_has_private(const struct pht_key *key);

/* Copies the raw 32-byte public key to out. */
int pht_key_public_raw(const struct pht_key *key, uint8_t out[PHT_KEY_RAW_LEN],
    struct pht_err *err);

/* Writes the 64 hex digits and a NUL of the key's fingerprint to out. */
int pht_key_fingerprint(const struct pht_key *key, char out[PHT_KEY_FP_LEN + 1],
    struct pht_err *err);

/* The fingerprint of raw public key bytes (any type). */
void pht_key_fingerprint_raw(const uint8_t raw[PHT_KEY_RAW_LEN],
    char out[PHT_KEY_FP_LEN + 1]);

/*
 * Reads a PEM key (private or public, Ed25519 or X25519) from len bytes
 * of data; what names the input in errors. PHT_ERR_MALFORMED if the text is
 * not one such key ("WHAT: not a PEM private or public key", "WHAT: not an
 * Ed25519 or X25519 key", "WHAT: encrypted private keys are not supported").
 */
int pht_key_from_pem(const char *data, size_t len, const char *what,
    struct pht_key **out, struct pht_err *err);

/* Reads a key file (at most PHT_KEY_FILE_MAX bytes) with pht_key_from_pem. */
int pht_key_load(const char *path, struct pht_key **out, struct pht_err *err);

/*
 * As pht_key_load, and also requires the type, and the private part if
 * need_private. PHT_ERR_INVALID with the path and the reason otherwise
 * ("a.pub: is a public key, a private key is needed").
 */
int pht_key_load_as(const char *path, enum pht_key_type type, int need_private,
    struct pht_key **out, struct pht_err *err);

/*
 * PEM text of the public part, or of the private part (PKCS#8, unencrypted;
 * PHT_ERR_INVALID if key has no private part). *out is a NUL-terminated
 * heap string the caller frees (private text: wipe with OPENSSL_clear_free
 * or use the file writers below).
 */
int pht_key_public_pem(const struct pht_key *key, char **out, size_t *len,
    struct pht_err *err);
int pht_key_private_pem(const struct pht_key *key, char **out, size_t *len,
    struct pht_err *err);

/* Writes the public PEM to path atomically, mode 0644. */
int pht_key_write_public(const struct pht_key *key, const char *path,
    struct pht_err *err);

/* Writes the private PEM to path atomically, mode 0600. */
int pht_key_write_private(const struct pht_key *key, const char *path,
    struct pht_err *err);

/*
 * Signs len bytes with a private PHT_KEY_SIGN key (pure Ed25519, RFC 8032).
 * PHT_ERR_INVALID for a wrong key type or a public-only key.
 */
int pht_key_sign(const struct pht_key *key, const uint8_t *msg, size_t len,
    uint8_t sig[PHT_KEY_SIG_LEN], struct pht_err *err);

/*
 * Verifies an Ed25519 signature over len bytes. PHT_OK if it verifies,
 * PHT_ERR_BAD_SIGNATURE if not, PHT_ERR_INVALID for a non-signing key.
 */
int pht_key_verify(const struct pht_key *key, const uint8_t *msg, size_t len,
    const uint8_t sig[PHT_KEY_SIG_LEN], struct pht_err *err);

/*
 * X25519 (RFC 7748): shared = X25519(private key, peer's raw public key).
 * key must be a private PHT_KEY_SEAL key. PHT_ERR_CRYPTO if the result
 * is all zero (a small-order peer key) or OpenSSL fails.
 */
int pht_key_x25519(const struct pht_key *key, const uint8_t peer[PHT_KEY_RAW_LEN],
    uint8_t shared[PHT_KEY_RAW_LEN], struct pht_err *err);

/*
 * 1 if name is a valid key name: 1..PHT_KEY_NAME_MAX characters from
 * [A-Za-z0-9._-], not starting with '.' or '-'. Names become file stems.
 */
int pht_key_name_ok(const char *name);

/*
 * What `pht keygen` does: in dir (created 0700 if missing) generates and
 * writes NAME.sign.key/.sign.pub and NAME.seal.key/.seal.pub (private
 * files 0600). Refuses (PHT_ERR_INVALID, nothing written) a bad name or if
 * any of the four files exists. sign_fp and seal_fp (either may be NULL)
 * receive the fingerprints.
 */
int pht_key_generate_files(const char *dir, const char *name,
    char sign_fp[PHT_KEY_FP_LEN + 1], char seal_fp[PHT_KEY_FP_LEN + 1],
    struct pht_err *err);

#endif
