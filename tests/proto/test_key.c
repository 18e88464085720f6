/* test_key.c — pht_key: RFC 8032 and RFC 7748 vectors, PEM files, fingerprints, every error. */
#include "tap.h"
#include "proto_util.h"

#include "pht_err.h"
#include "pht_file.h"
#include "pht_key.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* RFC 8032 section 7.1, TEST 1-3 (Ed25519), copied from the RFC text. */
static const struct {
	const char *secret, *public, *message, *signature;
} rfc8032[] = {
	{ /* TEST 1 */
	  "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	  "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ /* TEST 2 */
	  "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	  "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ /* TEST 3 */
	  "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
	  "af82",
	  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
	  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
};

/* RFC 7748 section 5.2 (X25519 scalar multiplication). */
static const struct {
	const char *scalar, *u, *out;
} rfc7748_52[] = {
	{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
	{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
};

/* RFC 7748 section 6.1 (Diffie-Hellman on Curve25519). */
static const char *alice_priv = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char *alice_pub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char *bob_priv = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char *bob_pub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char *shared_k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

/*
 * Fingerprints of the RFC 8032 TEST 1 and TEST 2 public keys, computed
 * outside pht with: echo HEX | xxd -r -p | sha256sum
 */
static const char *fp_test1 = "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9";
static const char *fp_test2 = "39f713d0a644253f04529421b9f51b9b08979d08295959c4f3990ee617f5139f";

static void
test_rfc8032(void)
{
	uint8_t sk[32], pk[32], msg[8], sig[64], want[64], got_pk[32];
	struct pht_key *k = NULL, *pub = NULL;
	struct pht_err e;
	size_t i, mlen;

	for (i = 0; i < sizeof(rfc8032) / sizeof(rfc8032[0]); i++) {
		unhex(rfc8032[i].secret, sk, sizeof(sk));
		unhex(rfc8032[i].public, pk, sizeof(pk));
		mlen = unhex(rfc8032[i].message, msg, sizeof(msg));
		unhex(rfc8032[i].signature, want, sizeof(want));
		tap_ok(pht_key_from_raw_private(PHT_KEY_SIGN, sk, &k, &e) == PHT_OK,
		    "RFC 8032 test %zu: secret key accepted", i + 1);
		tap_ok(pht_key_public_raw(k, got_pk, &e) == PHT_OK &&
		    memcmp(got_pk, pk, 32) == 0, "RFC 8032 test %zu: public key", i + 1);
		tap_ok(pht_key_sign(k, msg, mlen, sig, &e) == PHT_OK &&
		    memcmp(sig, want, 64) == 0, "RFC 8032 test %zu: signature", i + 1);
		tap_ok(pht_key_from_raw_public(PHT_KEY_SIGN, pk, &pub, &e) == PHT_OK &&
		    pht_key_verify(pub, msg, mlen, want, &e) == PHT_OK,
		    "RFC 8032 test %zu: verifies with the public key", i + 1);
		want[i * 7 % 64] ^= 0x01;
		pht_err_clear(&e);
		tap_ok(pht_key_verify(pub, msg, mlen, want, &e) == PHT_ERR_BAD_SIGNATURE,
		    "RFC 8032 test %zu: flipped signature bit refused", i + 1);
		tap_str(e.msg, "signature does not verify", "  with its detail");
		want[i * 7 % 64] ^= 0x01;
		msg[mlen] = 0x00;
		tap_ok(pht_key_verify(pub, msg, mlen + 1, want, &e) == PHT_ERR_BAD_SIGNATURE,
		    "RFC 8032 test %zu: longer message refused", i + 1);
		pht_key_free(k);
		pht_key_free(pub);
		k = pub = NULL;
	}
}

static void
test_rfc7748(void)
{
	uint8_t s[32], u[32], want[32], got[32], pa[32], pb[32];
	struct pht_key *k = NULL, *a = NULL, *b = NULL;
	struct pht_err e;
	size_t i;

	for (i = 0; i < sizeof(rfc7748_52) / sizeof(rfc7748_52[0]); i++) {
		unhex(rfc7748_52[i].scalar, s, 32);
		unhex(rfc7748_52[i].u, u, 32);
		unhex(rfc7748_52[i].out, want, 32);
		tap_ok(pht_key_from_raw_private(PHT_KEY_SEAL, s, &k, &e) == PHT_OK &&
		    pht_key_x25519(k, u, got, &e) == PHT_OK && memcmp(got, want, 32) == 0,
		    "RFC 7748 5.2 vector %zu", i + 1);
		pht_key_free(k);
		k = NULL;
	}
	unhex(alice_priv, s, 32);
	tap_ok(pht_key_from_raw_private(PHT_KEY_SEAL, s, &a, &e) == PHT_OK, "6.1 alice");
	unhex(bob_priv, s, 32);
	tap_ok(pht_key_from_raw_private(PHT_KEY_SEAL, s, &b, &e) == PHT_OK, "6.1 bob");
	unhex(alice_pub, u, 32);
	tap_ok(pht_key_public_raw(a, pa, &e) == PHT_OK && memcmp(pa, u, 32) == 0,
	    "RFC 7748 6.1: Alice's public key X25519(a, 9)");
	unhex(bob_pub, u, 32);
	tap_ok(pht_key_public_raw(b, pb, &e) == PHT_OK && memcmp(pb, u, 32) == 0,
	    "RFC 7748 6.1: Bob's public key X25519(b, 9)");
	unhex(shared_k, want, 32);
	tap_ok(pht_key_x25519(a, pb, got, &e) == PHT_OK && memcmp(got, want, 32) == 0,
	    "RFC 7748 6.1: K = X25519(a, X25519(b, 9))");
	tap_ok(pht_key_x25519(b, pa, got, &e) == PHT_OK && memcmp(got, want, 32) == 0,
	    "RFC 7748 6.1: K = X25519(b, X25519(a, 9))");
	memset(u, 0, 32);
	pht_err_clear(&e);
	tap_ok(pht_key_x25519(a, u, got, &e) == PHT_ERR_CRYPTO,
	    "X25519 with an all-zero (small-order) peer key refused");
	tap_str(e.msg, "X25519: key agreement failed", "  with its detail");
	pht_key_free(a);
	pht_key_free(b);
}

static void
test_fingerprint(void)
{
	uint8_t pk[32];
	char fp[65];
	struct pht_key *k = NULL;
	struct pht_err e;

	unhex(rfc8032[0].public, pk, 32);
	pht_key_fingerprint_raw(pk, fp);
	tap_str(fp, fp_test1, "fingerprint = hex SHA-256 of the raw public key (test 1)");
	unhex(rfc8032[1].secret, pk, 32);
	tap_ok(pht_key_from_raw_private(PHT_KEY_SIGN, pk, &k, &e) == PHT_OK &&
	    pht_key_fingerprint(k, fp, &e) == PHT_OK, "fingerprint of a private key");
	tap_str(fp, fp_test2, "  is the fingerprint of its public key (test 2)");
	pht_key_free(k);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (st.st_mode & 07777) : (mode_t)-1;
}

static void
test_pem(const char *dir)
{
	struct pht_key *k = NULL, *k2 = NULL, *pub = NULL, *s = NULL;
	uint8_t a[32], b[32], sig[64];
	char *priv_path, *pub_path, *pem = NULL;
	struct pht_err e;
	size_t n;

	priv_path = pht_path_join(dir, "t.sign.key");
	pub_path = pht_path_join(dir, "t.sign.pub");
	tap_ok(pht_key_generate(PHT_KEY_SIGN, &k, &e) == PHT_OK, "generate Ed25519");
	tap_ok(pht_key_type(k) == PHT_KEY_SIGN && pht_key_has_private(k), "  type, private");
	tap_ok(pht_key_write_private(k, priv_path, &e) == PHT_OK, "write private PEM");
	tap_ok(mode_of(priv_path) == 0600, "  private file mode 0600");
	tap_ok(pht_key_write_public(k, pub_path, &e) == PHT_OK, "write public PEM");
	tap_ok(mode_of(pub_path) == 0644, "  public file mode 0644");
	tap_ok(pht_key_private_pem(k, &pem, &n, &e) == PHT_OK &&
	    strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0,
	    "private PEM is PKCS#8 (BEGIN PRIVATE KEY)");
	free(pem);
	tap_ok(pht_key_public_pem(k, &pem, &n, &e) == PHT_OK &&
	    strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0 && n == strlen(pem),
	    "public PEM is SubjectPublicKeyInfo (BEGIN PUBLIC KEY)");
	free(pem);
	tap_ok(pht_key_load(priv_path, &k2, &e) == PHT_OK && pht_key_has_private(k2) &&
	    pht_key_type(k2) == PHT_KEY_SIGN, "load private PEM back");
	tap_ok(pht_key_load(pub_path, &pub, &e) == PHT_OK && !pht_key_has_private(pub),
	    "load public PEM back");
	tap_ok(pht_key_public_raw(k, a, &e) == PHT_OK && pht_key_public_raw(pub, b, &e) ==
	    PHT_OK && memcmp(a, b, 32) == 0, "  same public key after the round trip");
	tap_ok(pht_key_sign(k2, (const uint8_t *)"m", 1, sig, &e) == PHT_OK &&
	    pht_key_verify(pub, (const uint8_t *)"m", 1, sig, &e) == PHT_OK,
	    "loaded private key signs, loaded public key verifies");
	pht_err_clear(&e);
	tap_ok(pht_key_sign(pub, (const uint8_t *)"m", 1, sig, &e) == PHT_ERR_INVALID,
	    "signing with a public key refused");
	tap_str(e.msg, "signing needs a private key, this is a public key", "  detail");
	tap_ok(pht_key_private_pem(pub, &pem, &n, &e) == PHT_ERR_INVALID && pem == NULL,
	    "no private PEM from a public key");
	pht_key_free(k2);
	k2 = NULL;
	tap_ok((k2 = pht_key_public_copy(k)) != NULL && !pht_key_has_private(k2),
	    "public_copy drops the private part");

	/* X25519 PEM round trip */
	tap_ok(pht_key_generate(PHT_KEY_SEAL, &s, &e) == PHT_OK &&
	    pht_key_type(s) == PHT_KEY_SEAL, "generate X25519");
	free(priv_path);
	priv_path = pht_path_join(dir, "t.seal.key");
	pht_key_free(pub);
	pub = NULL;
	tap_ok(pht_key_write_private(s, priv_path, &e) == PHT_OK &&
	    pht_key_load_as(priv_path, PHT_KEY_SEAL, 1, &pub, &e) == PHT_OK,
	    "X25519 private PEM round trip");
	tap_ok(pht_key_public_raw(s, a, &e) == PHT_OK && pht_key_public_raw(pub, b, &e) ==
	    PHT_OK && memcmp(a, b, 32) == 0, "  same public key");

	/* type errors */
	pht_err_clear(&e);
	tap_ok(pht_key_sign(s, (const uint8_t *)"m", 1, sig, &e) == PHT_ERR_INVALID,
	    "sign with an X25519 key refused");
	tap_str(e.msg, "not an Ed25519 signing key", "  detail");
	tap_ok(pht_key_verify(s, (const uint8_t *)"m", 1, sig, &e) == PHT_ERR_INVALID,
	    "verify with an X25519 key refused");
	tap_ok(pht_key_x25519(k, a, b, &e) == PHT_ERR_INVALID,
	    "X25519 with a signing key refused");
	tap_str(e.msg, "X25519 needs a private sealing key", "  detail");
	pht_key_free(k2);
	k2 = pht_key_public_copy(s);
	tap_ok(pht_key_x25519(k2, a, b, &e) == PHT_ERR_INVALID,
	    "X25519 with a public-only key refused");
	pht_err_clear(&e);
	pht_key_free(k2);
	k2 = NULL;
	tap_ok(pht_key_load_as(priv_path, PHT_KEY_SIGN, 0, &k2, &e) == PHT_ERR_INVALID &&
	    k2 == NULL, "load_as refuses a sealing key where a signing key is needed");
	tap_ok(strstr(e.msg, "t.seal.key: is an X25519 sealing key, an Ed25519 signing "
	    "key is needed") != NULL, "  detail names file and both types");
	tap_ok(pht_key_load_as(pub_path, PHT_KEY_SIGN, 1, &k2, &e) == PHT_ERR_INVALID,
	    "load_as refuses a public key where a private key is needed");
	tap_ok(strstr(e.msg, "t.sign.pub: is a public key, a private key is needed") !=
	    NULL, "  detail");
	pht_key_free(k);
	pht_key_free(pub);
	pht_key_free(s);
	free(priv_path);
	free(pub_path);
}

static void
expect_load_error(const char *dir, const char *name, const char *text, size_t len,
    int code, const char *detail, const char *what)
{
	struct pht_key *k = (struct pht_key *)1;
	struct pht_err e;
	char *path = write_file(dir, name, text, len);

	pht_err_clear(&e);
	tap_ok(pht_key_load(path, &k, &e) == code && k == NULL, "%s refused", what);
	tap_ok(strstr(e.msg, name) != NULL && strstr(e.msg, detail) != NULL,
	    "  detail names the file and says \"%s\" (got: %s)", detail, e.msg);
	free(path);
}

static void
test_load_errors(const char *dir)
{
	struct pht_key *k = NULL;
	EVP_PKEY *ec = NULL, *ed = NULL;
	struct pht_err e;
	BIO *bio;
	char *pem = NULL, *big, *p;
	long n;

	expect_load_error(dir, "garbage.pub", "hello\n", 6, PHT_ERR_MALFORMED,
	    "not a PEM private or public key", "non-PEM text");
	expect_load_error(dir, "empty.pub", "", 0, PHT_ERR_MALFORMED,
	    "not a PEM private or public key", "empty file");

	/* a truncated PEM */
	tap_ok(pht_key_generate(PHT_KEY_SIGN, &k, &e) == PHT_OK &&
	    pht_key_public_pem(k, &pem, NULL, &e) == PHT_OK, "make a PEM to truncate");
	expect_load_error(dir, "trunc.pub", pem, strlen(pem) / 2, PHT_ERR_MALFORMED,
	    "unreadable PEM public key", "truncated PEM");
	/* a PEM with a corrupted base64 body */
	p = strchr(pem, '\n') + 5;
	*p = *p == 'A' ? 'B' : 'A';
	expect_load_error(dir, "corrupt.pub", pem, strlen(pem), PHT_ERR_MALFORMED,
	    "unreadable PEM public key", "corrupted PEM body");
	free(pem);
	pht_key_free(k);

	/* an EC P-256 key: valid PEM, wrong algorithm */
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(bio, ec);
	n = BIO_get_mem_data(bio, &p);
	expect_load_error(dir, "ec.pub", p, (size_t)n, PHT_ERR_MALFORMED,
	    "not an Ed25519 or X25519 key", "EC P-256 key");
	BIO_free(bio);

	/* an encrypted PKCS#8 Ed25519 key: refused, never prompts */
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PKCS8PrivateKey(bio, ed, EVP_aes_256_cbc(), "pw", 2, NULL, NULL);
	n = BIO_get_mem_data(bio, &p);
	expect_load_error(dir, "enc.key", p, (size_t)n, PHT_ERR_MALFORMED,
	    "encrypted private keys are not supported", "encrypted private key");
	BIO_free(bio);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);

	/* larger than PHT_KEY_FILE_MAX */
	big = malloc(PHT_KEY_FILE_MAX + 1);
	memset(big, 'A', PHT_KEY_FILE_MAX + 1);
	expect_load_error(dir, "big.pub", big, PHT_KEY_FILE_MAX + 1, PHT_ERR_TOO_LARGE,
	    "larger than 16384 bytes", "oversized key file");
	tap_ok(pht_key_from_pem(big, PHT_KEY_FILE_MAX + 1, "mem", &k, &e) ==
	    PHT_ERR_TOO_LARGE, "from_pem refuses oversized text");
	free(big);

	/* missing file */
	p = pht_path_join(dir, "missing.pub");
	pht_err_clear(&e);
	tap_ok(pht_key_load(p, &k, &e) == PHT_ERR_IO && k == NULL, "missing file refused");
	tap_ok(strstr(e.msg, "missing.pub: No such file or directory") != NULL,
	    "  detail names the file and errno");
	free(p);

	pht_err_clear(&e);
	tap_ok(pht_key_generate((enum pht_key_type)7, &k, &e) == PHT_ERR_INVALID &&
	    k == NULL, "unknown key type refused");
}

static void
test_names_and_files(const char *dir)
{
	char sfp[65], cfp[65], got[65], *path, *sub;
	struct pht_key *k = NULL;
	struct pht_err e;
	char longname[PHT_KEY_NAME_MAX + 2];
	static const char *const suffix[4] = {".sign.key", ".sign.pub", ".seal.key",
	    ".seal.pub"};
	static const mode_t modes[4] = {0600, 0644, 0600, 0644};
	char fname[64];
	int i, ok;

	tap_ok(pht_key_name_ok("alice") && pht_key_name_ok("hosp-A_1.x"), "good names");
	tap_ok(!pht_key_name_ok("") && !pht_key_name_ok(".hidden") &&
	    !pht_key_name_ok("-opt") && !pht_key_name_ok("a/b") &&
	    !pht_key_name_ok("a b") && !pht_key_name_ok("caf\xc3\xa9"), "bad names");
	memset(longname, 'a', sizeof(longname));
	longname[PHT_KEY_NAME_MAX] = '\0';
	tap_ok(pht_key_name_ok(longname), "64-character name accepted");
	longname[PHT_KEY_NAME_MAX] = 'a';
	longname[PHT_KEY_NAME_MAX + 1] = '\0';
	tap_ok(!pht_key_name_ok(longname), "65-character name refused");

	sub = pht_path_join(dir, "keys/deeper");
	tap_ok(pht_key_generate_files(sub, "alice", sfp, cfp, &e) == PHT_OK,
	    "generate_files into a new directory");
	ok = 1;
	for (i = 0; i < 4; i++) {
		snprintf(fname, sizeof(fname), "alice%s", suffix[i]);
		path = pht_path_join(sub, fname);
		ok &= mode_of(path) == modes[i];
		free(path);
	}
	tap_ok(ok, "  four files with modes 0600 (private) and 0644 (public)");
	tap_ok(mode_of(sub) == 0700, "  new directory mode 0700");
	path = pht_path_join(sub, "alice.sign.pub");
	tap_ok(pht_key_load_as(path, PHT_KEY_SIGN, 0, &k, &e) == PHT_OK &&
	    pht_key_fingerprint(k, got, &e) == PHT_OK && strcmp(got, sfp) == 0,
	    "  the printed signing fingerprint is that of alice.sign.pub");
	pht_key_free(k);
	k = NULL;
	free(path);
	path = pht_path_join(sub, "alice.seal.pub");
	tap_ok(pht_key_load_as(path, PHT_KEY_SEAL, 0, &k, &e) == PHT_OK &&
	    pht_key_fingerprint(k, got, &e) == PHT_OK && strcmp(got, cfp) == 0,
	    "  the sealing fingerprint is that of alice.seal.pub");
	pht_key_free(k);
	free(path);
	pht_err_clear(&e);
	tap_ok(pht_key_generate_files(sub, "alice", sfp, NULL, &e) == PHT_ERR_INVALID,
	    "generate_files refuses to overwrite");
	tap_ok(strstr(e.msg, "alice.sign.key: exists; refusing to overwrite a key") != NULL,
	    "  detail names the existing file");
	tap_ok(pht_key_generate_files(sub, "../evil", sfp, NULL, &e) == PHT_ERR_INVALID,
	    "generate_files refuses a bad name");
	tap_ok(strstr(e.msg, "bad key name \"../evil\"") != NULL, "  detail");
	free(sub);
}

int
main(void)
{
	char *dir = make_tmpdir();

	test_rfc8032();
	test_rfc7748();
	test_fingerprint();
	test_pem(dir);
	test_load_errors(dir);
	test_names_and_files(dir);
	rm_tree(dir);
	return tap_done();
}
