/* test_seal.c — pht_seal: the documented format opened independently, round trips, every refusal. */
#include "tap.h"
#include "proto_util.h"

#include "pht_err.h"
#include "pht_key.h"
#include "pht_seal.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <stdlib.h>
#include <string.h>

/* RFC 7748 section 6.1 Bob's private key, as the analyst's result key. */
static const char *bob_priv = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";

/*
 * Opens a sealed blob following the format in pht_seal.h with OpenSSL
 * directly (the EVP_PKEY HKDF interface, not the EVP_KDF one pht uses), to
 * check that the documented layout, key schedule and AD are what is built.
 */
static int
independent_open(const uint8_t rsk[32], const char *tid, const char *sid,
    const uint8_t *blob, size_t len, uint8_t *out)
{
	EVP_PKEY *me = NULL, *eph = NULL;
	EVP_PKEY_CTX *dctx = NULL, *kctx = NULL;
	EVP_CIPHER_CTX *c = NULL;
	uint8_t shared[32], key[32], salt[64], ad[256], rpub[32];
	size_t sl = 32, kl = 32, rl = 32, n = len - 61, tl = strlen(tid), stl = strlen(sid);
	int ok = 0, outl;

	me = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, rsk, 32);
	eph = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, blob + 1, 32);
	EVP_PKEY_get_raw_public_key(me, rpub, &rl);
	dctx = EVP_PKEY_CTX_new(me, NULL);
	if (blob[0] != 1 || EVP_PKEY_derive_init(dctx) != 1 ||
	    EVP_PKEY_derive_set_peer(dctx, eph) != 1 ||
	    EVP_PKEY_derive(dctx, shared, &sl) != 1)
		goto out;
	memcpy(salt, blob + 1, 32);
	memcpy(salt + 32, rpub, 32);
	kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	if (EVP_PKEY_derive_init(kctx) != 1 ||
	    EVP_PKEY_CTX_set_hkdf_md(kctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set1_hkdf_salt(kctx, salt, 64) != 1 ||
	    EVP_PKEY_CTX_set1_hkdf_key(kctx, shared, 32) != 1 ||
	    EVP_PKEY_CTX_add1_hkdf_info(kctx, (const unsigned char *)"pht-seal-v1", 11) != 1 ||
	    EVP_PKEY_derive(kctx, key, &kl) != 1)
		goto out;
	ad[0] = 1;
	ad[1] = 0; ad[2] = 0; ad[3] = (uint8_t)(tl >> 8); ad[4] = (uint8_t)tl;
	memcpy(ad + 5, tid, tl);
	ad[5 + tl] = 0; ad[6 + tl] = 0; ad[7 + tl] = (uint8_t)(stl >> 8);
	ad[8 + tl] = (uint8_t)stl;
	memcpy(ad + 9 + tl, sid, stl);
	c = EVP_CIPHER_CTX_new();
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, blob + 33) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &outl, ad, (int)(9 + tl + stl)) != 1 ||
	    EVP_DecryptUpdate(c, out, &outl, blob + 45, (int)n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(blob + 45 + n)) != 1 ||
	    EVP_DecryptFinal_ex(c, out + outl, &outl) != 1)
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(c);
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_free(me);
	EVP_PKEY_free(eph);
	return ok;
}

static void
test_round_trip(void)
{
	static const char msg[] = "{\"n\":42,\"mean\":63.5}";
	struct pht_key *bob = NULL, *other = NULL;
	uint8_t sk[32], pub[32], *blob = NULL, *blob2 = NULL, *plain = NULL, indep[64];
	size_t n = 0, n2 = 0, pn = 0;
	struct pht_err e;

	unhex(bob_priv, sk, 32);
	pht_key_from_raw_private(PHT_KEY_SEAL, sk, &bob, &e);
	pht_key_public_raw(bob, pub, &e);
	tap_ok(pht_seal(pub, "00112233445566778899aabbccddeeff", "station-a",
	    (const uint8_t *)msg, strlen(msg), &blob, &n, &e) == PHT_OK, "seal a result");
	tap_ok(n == strlen(msg) + PHT_SEAL_OVERHEAD && PHT_SEAL_OVERHEAD == 61,
	    "  size is plaintext + 61 (1 version + 32 key + 12 nonce + 16 tag)");
	tap_ok(blob[0] == 1, "  version byte 1");
	tap_ok(memmem(blob, n, "mean", 4) == NULL, "  plaintext not visible");
	memset(indep, 0, sizeof(indep));
	tap_ok(independent_open(sk, "00112233445566778899aabbccddeeff", "station-a", blob, n,
	    indep) && memcmp(indep, msg, strlen(msg)) == 0,
	    "  opened by an independent implementation of the documented format");
	tap_ok(pht_seal_open(bob, "00112233445566778899aabbccddeeff", "station-a", blob, n,
	    &plain, &pn, &e) == PHT_OK, "open it");
	tap_ok(pn == strlen(msg) && memcmp(plain, msg, pn) == 0 && plain[pn] == '\0',
	    "  same bytes, NUL-terminated");
	free(plain);
	plain = NULL;
	tap_ok(pht_seal(pub, "00112233445566778899aabbccddeeff", "station-a",
	    (const uint8_t *)msg, strlen(msg), &blob2, &n2, &e) == PHT_OK &&
	    n2 == n && memcmp(blob, blob2, n) != 0 &&
	    memcmp(blob + 1, blob2 + 1, 32) != 0 && memcmp(blob + 33, blob2 + 33, 12) != 0,
	    "sealing twice gives a fresh ephemeral key and nonce");
	free(blob2);

	/* empty plaintext */
	tap_ok(pht_seal(pub, "t", "s", (const uint8_t *)"", 0, &blob2, &n2, &e) == PHT_OK &&
	    n2 == PHT_SEAL_OVERHEAD, "seal an empty result");
	tap_ok(pht_seal_open(bob, "t", "s", blob2, n2, &plain, &pn, &e) == PHT_OK &&
	    pn == 0 && plain[0] == '\0', "  opens to zero bytes");
	free(plain);
	plain = NULL;
	free(blob2);

	/* wrong key, ids */
	pht_key_generate(PHT_KEY_SEAL, &other, &e);
	pht_err_clear(&e);
	tap_ok(pht_seal_open(other, "00112233445566778899aabbccddeeff", "station-a", blob, n,
	    &plain, &pn, &e) == PHT_ERR_DECRYPT && plain == NULL, "wrong key refused");
	tap_str(e.msg, "sealed data does not authenticate (altered, wrong key, or wrong "
	    "train or station id)", "  detail");
	tap_ok(pht_seal_open(bob, "00112233445566778899aabbccddeeff", "station-b", blob, n,
	    &plain, &pn, &e) == PHT_ERR_DECRYPT, "wrong station id refused");
	tap_ok(pht_seal_open(bob, "00112233445566778899aabbccddeefe", "station-a", blob, n,
	    &plain, &pn, &e) == PHT_ERR_DECRYPT, "wrong train id refused");
	tap_ok(pht_seal_open(bob, "00112233445566778899aabbccddeeffs", "tation-a", blob, n,
	    &plain, &pn, &e) == PHT_ERR_DECRYPT,
	    "ids shifted across the boundary refused (length-prefixed AD)");
	tap_ok(pht_seal_open(bob, "", "", blob, n, &plain, &pn, &e) == PHT_ERR_DECRYPT,
	    "empty ids refused");
	free(blob);
	pht_key_free(bob);
	pht_key_free(other);
}

static void
test_tamper(void)
{
	struct pht_key *k = NULL;
	uint8_t pub[32], *blob = NULL, *copy, *plain = NULL;
	size_t n = 0, pn, i, bit, accepted = 0, wrong_code = 0, tried = 0, short_ok = 0;
	struct pht_err e;
	int r;

	pht_key_generate(PHT_KEY_SEAL, &k, &e);
	pht_key_public_raw(k, pub, &e);
	pht_seal(pub, "train-1", "station-1", (const uint8_t *)"result", 6, &blob, &n, &e);
	copy = malloc(n);
	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, blob, n);
			copy[i] ^= (uint8_t)(1u << bit);
			r = pht_seal_open(k, "train-1", "station-1", copy, n, &plain, &pn, &e);
			tried++;
			if (r == PHT_OK) {
				accepted++;
				free(plain);
				plain = NULL;
			} else if (r != PHT_ERR_DECRYPT)
				wrong_code++;
		}
	tap_ok(accepted == 0, "all %zu single-bit flips refused", tried);
	tap_ok(wrong_code == 0, "  each with PHT_ERR_DECRYPT");
	for (i = 0; i < n; i++) {
		pht_err_clear(&e);
		if (pht_seal_open(k, "train-1", "station-1", blob, i, &plain, &pn, &e) ==
		    PHT_ERR_DECRYPT && plain == NULL)
			short_ok++;
	}
	tap_ok(short_ok == n, "all %zu truncations refused with PHT_ERR_DECRYPT", n);
	pht_seal_open(k, "train-1", "station-1", blob, 60, &plain, &pn, &e);
	tap_str(e.msg, "sealed data: 60 bytes, too short", "  detail for a short blob");
	memcpy(copy, blob, n);
	copy[0] = 2;
	tap_ok(pht_seal_open(k, "train-1", "station-1", copy, n, &plain, &pn, &e) ==
	    PHT_ERR_DECRYPT, "version 2 refused");
	tap_str(e.msg, "sealed data: unsupported version 2", "  detail");
	memcpy(copy, blob, n);
	memset(copy + 1, 0, 32);
	tap_ok(pht_seal_open(k, "train-1", "station-1", copy, n, &plain, &pn, &e) ==
	    PHT_ERR_DECRYPT, "all-zero ephemeral key refused");
	tap_str(e.msg, "sealed data: unusable ephemeral key", "  detail");
	free(copy);
	free(blob);
	pht_key_free(k);
}

static void
test_errors(void)
{
	struct pht_key *sign = NULL, *seal = NULL, *pub = NULL;
	uint8_t zero[32] = {0}, pk[32], *out = NULL, dummy[1] = {0};
	char longid[PHT_SEAL_MAX_ID + 2];
	struct pht_err e;
	size_t n;

	pht_key_generate(PHT_KEY_SIGN, &sign, &e);
	pht_key_generate(PHT_KEY_SEAL, &seal, &e);
	pht_key_public_raw(seal, pk, &e);
	pht_err_clear(&e);
	tap_ok(pht_seal(zero, "t", "s", dummy, 1, &out, &n, &e) == PHT_ERR_CRYPTO &&
	    out == NULL, "sealing to an all-zero key refused");
	tap_str(e.msg, "seal: recipient key: X25519: key agreement failed", "  detail");
	tap_ok(pht_seal(pk, "t", "s", dummy, (size_t)PHT_SEAL_MAX_PLAIN + 1, &out, &n, &e) ==
	    PHT_ERR_TOO_LARGE, "plaintext over the maximum refused");
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	tap_ok(pht_seal(pk, longid, "s", dummy, 1, &out, &n, &e) == PHT_ERR_INVALID,
	    "train id over 1024 bytes refused");
	tap_str(e.msg, "seal: train or station id longer than 1024 bytes", "  detail");
	tap_ok(pht_seal_open(sign, "t", "s", dummy, 1, &out, &n, &e) == PHT_ERR_INVALID,
	    "opening with a signing key refused");
	tap_str(e.msg, "seal: opening needs a private X25519 sealing key", "  detail");
	pub = pht_key_public_copy(seal);
	tap_ok(pht_seal_open(pub, "t", "s", dummy, 1, &out, &n, &e) == PHT_ERR_INVALID,
	    "opening with a public key refused");
	pht_key_free(sign);
	pht_key_free(seal);
	pht_key_free(pub);
}

int
main(void)
{
	test_round_trip();
	test_tamper();
	test_errors();
	return tap_done();
}
