/* pht_seal.c — ephemeral X25519, HKDF-SHA256 and AES-256-GCM for results. */
#include "pht_seal.h"
#include "pht_err.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <stdlib.h>
#include <string.h>

#define NONCE_LEN 12
#define TAG_LEN 16
#define HDR_LEN (1 + PHT_KEY_RAW_LEN + NONCE_LEN)
#define INFO "pht-seal-v1"

/* key = HKDF-SHA256(shared, salt = eph || recipient, INFO). */
static int
derive(const uint8_t shared[32], const uint8_t eph[32], const uint8_t rcpt[32],
    uint8_t key[32], struct pht_err *err)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5];
	uint8_t salt[64];
	int r = PHT_OK;

	memcpy(salt, eph, 32);
	memcpy(salt + 32, rcpt, 32);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)shared, 32);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt,
	    sizeof(salt));
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)INFO, strlen(INFO));
	params[4] = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(ctx, key, 32, params) != 1)
		r = pht_errf(err, PHT_ERR_CRYPTO, "seal: HKDF failed");
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return r;
}

static void
put_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Builds AD = 0x01 || u32be(|t|) || t || u32be(|s|) || s into a new buffer. */
static int
make_ad(const char *train_id, const char *station_id, uint8_t **ad,
    size_t *adlen, struct pht_err *err)
{
	size_t tl = strlen(train_id), sl = strlen(station_id);
	uint8_t *p;

	*ad = NULL;
	if (tl > PHT_SEAL_MAX_ID || sl > PHT_SEAL_MAX_ID)
		return pht_errf(err, PHT_ERR_INVALID, "seal: train or station id longer "
		    "than %d bytes", PHT_SEAL_MAX_ID);
	*adlen = 1 + 4 + tl + 4 + sl;
	if ((p = malloc(*adlen)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	p[0] = PHT_SEAL_VERSION;
	put_u32be(p + 1, (uint32_t)tl);
	memcpy(p + 5, train_id, tl);
	put_u32be(p + 5 + tl, (uint32_t)sl);
	memcpy(p + 9 + tl, station_id, sl);
	*ad = p;
	return PHT_OK;
}

/* AES-256-GCM in either direction; tag is written (enc) or checked (dec). */
static int
gcm(int enc, const uint8_t key[32], const uint8_t nonce[NONCE_LEN],
    const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
    uint8_t tag[TAG_LEN])
{
	EVP_CIPHER *c = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int ok = 0, n;

	if ((c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) == NULL ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_CipherInit_ex2(ctx, c, key, nonce, enc, NULL) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, NULL, &n, ad, (int)adlen) != 1)
		goto out;
	if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
	return ok;
}

int
pht_seal(const uint8_t recipient[PHT_KEY_RAW_LEN], const char *train_id,
    const char *station_id, const uint8_t *plain, size_t len, uint8_t **out,
    size_t *outlen, struct pht_err *err)
{
	struct pht_key *eph = NULL;
	uint8_t shared[32], key[32], *ad = NULL, *blob = NULL;
	size_t adlen = 0;
	int r;

	*out = NULL;
	*outlen = 0;
	if (len > PHT_SEAL_MAX_PLAIN)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "seal: %zu bytes, more than %u",
		    len, PHT_SEAL_MAX_PLAIN);
	if ((r = make_ad(train_id, station_id, &ad, &adlen, err)) != PHT_OK)
		return r;
	if ((blob = malloc(len + PHT_SEAL_OVERHEAD)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	blob[0] = PHT_SEAL_VERSION;
	if ((r = pht_key_generate(PHT_KEY_SEAL, &eph, err)) != PHT_OK ||
	    (r = pht_key_public_raw(eph, blob + 1, err)) != PHT_OK)
		goto out;
	if ((r = pht_key_x25519(eph, recipient, shared, err)) != PHT_OK) {
		pht_err_prefix(err, "seal: recipient key");
		goto out;
	}
	if ((r = derive(shared, blob + 1, recipient, key, err)) != PHT_OK)
		goto out;
	if (RAND_bytes(blob + 1 + PHT_KEY_RAW_LEN, NONCE_LEN) != 1) {
		r = pht_errf(err, PHT_ERR_CRYPTO, "seal: no random bytes for a nonce");
		goto out;
	}
	if (!gcm(1, key, blob + 1 + PHT_KEY_RAW_LEN, ad, adlen, plain, len,
	    blob + HDR_LEN, blob + HDR_LEN + len)) {
		r = pht_errf(err, PHT_ERR_CRYPTO, "seal: AES-256-GCM failed");
		goto out;
	}
	*out = blob;
	*outlen = len + PHT_SEAL_OVERHEAD;
	blob = NULL; /* transferred */
	r = PHT_OK;
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	pht_key_free(eph);
	free(blob);
	free(ad);
	return r;
}

int
pht_seal_open(const struct pht_key *key, const char *train_id,
    const char *station_id, const uint8_t *sealed, size_t len, uint8_t **out,
    size_t *outlen, struct pht_err *err)
{
	uint8_t rcpt[32], shared[32], k[32], tag[TAG_LEN], *ad = NULL, *plain = NULL;
	size_t adlen = 0, n;
	int r;

	*out = NULL;
	*outlen = 0;
	if (pht_key_type(key) != PHT_KEY_SEAL || !pht_key_has_private(key))
		return pht_errf(err, PHT_ERR_INVALID,
		    "seal: opening needs a private X25519 sealing key");
	if (len < PHT_SEAL_OVERHEAD)
		return pht_errf(err, PHT_ERR_DECRYPT, "sealed data: %zu bytes, too short",
		    len);
	if (len - PHT_SEAL_OVERHEAD > PHT_SEAL_MAX_PLAIN)
		return pht_errf(err, PHT_ERR_DECRYPT, "sealed data: too large");
	if (sealed[0] != PHT_SEAL_VERSION)
		return pht_errf(err, PHT_ERR_DECRYPT,
		    "sealed data: unsupported version %u", sealed[0]);
	if ((r = make_ad(train_id, station_id, &ad, &adlen, err)) != PHT_OK)
		return r;
	n = len - PHT_SEAL_OVERHEAD;
	if ((r = pht_key_public_raw(key, rcpt, err)) != PHT_OK)
		goto out;
	if (pht_key_x25519(key, sealed + 1, shared, NULL) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_DECRYPT,
		    "sealed data: unusable ephemeral key");
		goto out;
	}
	if ((r = derive(shared, sealed + 1, rcpt, k, err)) != PHT_OK)
		goto out;
	if ((plain = malloc(n + 1)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(tag, sealed + HDR_LEN + n, TAG_LEN);
	if (!gcm(0, k, sealed + 1 + PHT_KEY_RAW_LEN, ad, adlen, sealed + HDR_LEN, n,
	    plain, tag)) {
		r = pht_errf(err, PHT_ERR_DECRYPT, "sealed data does not authenticate "
		    "(altered, wrong key, or wrong train or station id)");
		goto out;
	}
	plain[n] = '\0';
	*out = plain;
	*outlen = n;
	plain = NULL; /* transferred */
	r = PHT_OK;
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(k, sizeof(k));
	if (plain != NULL) {
		OPENSSL_cleanse(plain, n + 1);
		free(plain);
	}
	free(ad);
	return r;
}
