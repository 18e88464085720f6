/* pht_key.c — Ed25519/X25519 keys on OpenSSL 3 EVP: generation, PEM, fingerprints, signatures. */
#include "pht_key.h"
#include "pht_buf.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_file.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Invariant: pk is an ED25519 key iff type is PHT_KEY_SIGN, X25519 iff SEAL. */
struct pht_key {
	enum pht_key_type type;
	int has_private;
	EVP_PKEY *pk;
};

static const char *
alg_name(enum pht_key_type type)
{
	return type == PHT_KEY_SIGN ? "ED25519" : "X25519";
}

static const char *
type_desc(enum pht_key_type type)
{
	return type == PHT_KEY_SIGN ? "an Ed25519 signing key" :
	    "an X25519 sealing key";
}

/* Wraps pk (taking ownership) into a new key. */
static int
wrap(EVP_PKEY *pk, int has_private, struct pht_key **out, struct pht_err *err)
{
	struct pht_key *k;
	enum pht_key_type type;

	*out = NULL;
	if (EVP_PKEY_is_a(pk, "ED25519"))
		type = PHT_KEY_SIGN;
	else if (EVP_PKEY_is_a(pk, "X25519"))
		type = PHT_KEY_SEAL;
	else {
		EVP_PKEY_free(pk);
		return pht_errf(err, PHT_ERR_MALFORMED, "not an Ed25519 or X25519 key");
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pk);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	k->type = type;
	k->has_private = has_private;
	k->pk = pk;
	*out = k;
	return PHT_OK;
}

int
pht_key_generate(enum pht_key_type type, struct pht_key **out,
    struct pht_err *err)
{
	EVP_PKEY *pk;

	*out = NULL;
	if (type != PHT_KEY_SIGN && type != PHT_KEY_SEAL)
		return pht_errf(err, PHT_ERR_INVALID, "unknown key type %d", (int)type);
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, alg_name(type))) == NULL)
		return pht_errf(err, PHT_ERR_CRYPTO, "%s key generation failed",
		    alg_name(type));
	return wrap(pk, 1, out, err);
}

/* A key of type from its raw private (priv) or public bytes. */
static int
from_raw(enum pht_key_type type, const uint8_t raw[PHT_KEY_RAW_LEN], int priv,
    struct pht_key **out, struct pht_err *err)
{
	EVP_PKEY *pk;

	*out = NULL;
	if (type != PHT_KEY_SIGN && type != PHT_KEY_SEAL)
		return pht_errf(err, PHT_ERR_INVALID, "unknown key type %d", (int)type);
	pk = priv ? EVP_PKEY_new_raw_private_key_ex(NULL, alg_name(type), NULL, raw,
	    PHT_KEY_RAW_LEN) : EVP_PKEY_new_raw_public_key_ex(NULL, alg_name(type),
	    NULL, raw, PHT_KEY_RAW_LEN);
	if (pk == NULL)
		return pht_errf(err, PHT_ERR_CRYPTO, "%s: raw %s key refused",
		    alg_name(type), priv ? "private" : "public");
	return wrap(pk, priv, out, err);
}

int
pht_key_from_raw_private(enum pht_key_type type,
    const uint8_t raw[PHT_KEY_RAW_LEN], struct pht_key **out, struct pht_err *err)
{
	return from_raw(type, raw, 1, out, err);
}

int
pht_key_from_raw_public(enum pht_key_type type,
    const uint8_t raw[PHT_KEY_RAW_LEN], struct pht_key **out, struct pht_err *err)
{
	return from_raw(type, raw, 0, out, err);
}

void
pht_key_free(struct pht_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pk);
	free(key);
}

struct pht_key *
pht_key_public_copy(const struct pht_key *key)
{
	uint8_t raw[PHT_KEY_RAW_LEN];
	struct pht_key *k = NULL;

	if (pht_key_public_raw(key, raw, NULL) != PHT_OK)
		return NULL;
	if (pht_key_from_raw_public(key->type, raw, &k, NULL) != PHT_OK)
		return NULL;
	return k;
}

enum pht_key_type
pht_key_type(const struct pht_key *key)
{
	return key->type;
}

int
pht_key_has_private(const struct pht_key *key)
{
	return key->has_private;
}

int
pht_key_public_raw(const struct pht_key *key, uint8_t out[PHT_KEY_RAW_LEN],
    struct pht_err *err)
{
	size_t n = PHT_KEY_RAW_LEN;

	if (EVP_PKEY_get_raw_public_key(key->pk, out, &n) != 1 ||
	    n != PHT_KEY_RAW_LEN)
		return pht_errf(err, PHT_ERR_CRYPTO, "cannot read the raw public key");
	return PHT_OK;
}

void
pht_key_fingerprint_raw(const uint8_t raw[PHT_KEY_RAW_LEN],
    char out[PHT_KEY_FP_LEN + 1])
{
	uint8_t md[32];
	size_t n = 0;

	if (EVP_Q_digest(NULL, "SHA256", NULL, raw, PHT_KEY_RAW_LEN, md, &n) != 1 ||
	    n != sizeof(md)) {
		/* SHA-256 cannot fail short of a broken OpenSSL; never hand out
		 * a fingerprint that could match anything. */
		memset(out, '?', PHT_KEY_FP_LEN);
		out[PHT_KEY_FP_LEN] = '\0';
		return;
	}
	pht_hex_encode(md, sizeof(md), out);
}

int
pht_key_fingerprint(const struct pht_key *key, char out[PHT_KEY_FP_LEN + 1],
    struct pht_err *err)
{
	uint8_t raw[PHT_KEY_RAW_LEN];
	int r;

	out[0] = '\0';
	if ((r = pht_key_public_raw(key, raw, err)) != PHT_OK)
		return r;
	pht_key_fingerprint_raw(raw, out);
	return PHT_OK;
}

/* Passphrase callback that refuses: encrypted keys never prompt. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

static int
has_label(const char *data, size_t len, const char *label)
{
	size_t n = strlen(label);

	return memmem(data, len, label, n) != NULL;
}

int
pht_key_from_pem(const char *data, size_t len, const char *what,
    struct pht_key **out, struct pht_err *err)
{
	EVP_PKEY *pk = NULL;
	BIO *bio = NULL;
	int priv, r;

	*out = NULL;
	if (len > PHT_KEY_FILE_MAX)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "%s: larger than %d bytes",
		    what, PHT_KEY_FILE_MAX);
	if (has_label(data, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----"))
		return pht_errf(err, PHT_ERR_MALFORMED,
		    "%s: encrypted private keys are not supported", what);
	if (has_label(data, len, "-----BEGIN PRIVATE KEY-----"))
		priv = 1;
	else if (has_label(data, len, "-----BEGIN PUBLIC KEY-----"))
		priv = 0;
	else
		return pht_errf(err, PHT_ERR_MALFORMED,
		    "%s: not a PEM private or public key", what);
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", what);
	if (priv)
		pk = PEM_read_bio_PrivateKey_ex(bio, NULL, no_passphrase, NULL, NULL, NULL);
	else
		pk = PEM_read_bio_PUBKEY_ex(bio, NULL, no_passphrase, NULL, NULL, NULL);
	BIO_free(bio);
	if (pk == NULL)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: unreadable PEM %s key",
		    what, priv ? "private" : "public");
	if ((r = wrap(pk, priv, out, err)) != PHT_OK)
		pht_err_prefix(err, "%s", what);
	return r;
}

int
pht_key_load(const char *path, struct pht_key **out, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	int r;

	*out = NULL;
	if ((r = pht_file_read(path, PHT_KEY_FILE_MAX, &b, err)) != PHT_OK)
		return r;
	r = pht_key_from_pem(pht_buf_str(b), pht_buf_len(b), path, out, err);
	pht_buf_free(b);
	return r;
}

int
pht_key_load_as(const char *path, enum pht_key_type type, int need_private,
    struct pht_key **out, struct pht_err *err)
{
	struct pht_key *k = NULL;
	int r;

	*out = NULL;
	if ((r = pht_key_load(path, &k, err)) != PHT_OK)
		return r;
	if (k->type != type) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: is %s, %s is needed", path,
		    type_desc(k->type), type_desc(type));
		goto out;
	}
	if (need_private && !k->has_private) {
		r = pht_errf(err, PHT_ERR_INVALID,
		    "%s: is a public key, a private key is needed", path);
		goto out;
	}
	*out = k;
	k = NULL; /* transferred */
out:
	pht_key_free(k);
	return r;
}

/* Copies the contents of a memory BIO into a new NUL-terminated string. */
static int
bio_to_str(BIO *bio, char **out, size_t *len, struct pht_err *err)
{
	char *p, *s;
	long n;

	n = BIO_get_mem_data(bio, &p);
	if (n <= 0)
		return pht_errf(err, PHT_ERR_CRYPTO, "PEM encoding failed");
	if ((s = malloc((size_t)n + 1)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	*out = s;
	if (len != NULL)
		*len = (size_t)n;
	return PHT_OK;
}

int
pht_key_public_pem(const struct pht_key *key, char **out, size_t *len,
    struct pht_err *err)
{
	BIO *bio;
	int r;

	*out = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (PEM_write_bio_PUBKEY(bio, key->pk) != 1)
		r = pht_errf(err, PHT_ERR_CRYPTO, "PEM encoding of the public key failed");
	else
		r = bio_to_str(bio, out, len, err);
	BIO_free(bio);
	return r;
}

int
pht_key_private_pem(const struct pht_key *key, char **out, size_t *len,
    struct pht_err *err)
{
	BIO *bio;
	int r;

	*out = NULL;
	if (!key->has_private)
		return pht_errf(err, PHT_ERR_INVALID, "key has no private part");
	/* Secure-heap memory BIO: its buffer is wiped when freed. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (PEM_write_bio_PKCS8PrivateKey(bio, key->pk, NULL, NULL, 0, NULL, NULL) != 1)
		r = pht_errf(err, PHT_ERR_CRYPTO, "PEM encoding of the private key failed");
	else
		r = bio_to_str(bio, out, len, err);
	BIO_free(bio);
	return r;
}

int
pht_key_write_public(const struct pht_key *key, const char *path,
    struct pht_err *err)
{
	char *pem = NULL;
	size_t n = 0;
	int r;

	if ((r = pht_key_public_pem(key, &pem, &n, err)) != PHT_OK)
		return r;
	r = pht_file_write_atomic(path, pem, n, 0644, err);
	free(pem);
	return r;
}

int
pht_key_write_private(const struct pht_key *key, const char *path,
    struct pht_err *err)
{
	char *pem = NULL;
	size_t n = 0;
	int r;

	if ((r = pht_key_private_pem(key, &pem, &n, err)) != PHT_OK)
		return r;
	r = pht_file_write_atomic(path, pem, n, 0600, err);
	OPENSSL_clear_free(pem, n + 1);
	return r;
}

int
pht_key_sign(const struct pht_key *key, const uint8_t *msg, size_t len,
    uint8_t sig[PHT_KEY_SIG_LEN], struct pht_err *err)
{
	EVP_MD_CTX *ctx;
	size_t siglen = PHT_KEY_SIG_LEN;
	int r = PHT_OK;

	if (key->type != PHT_KEY_SIGN)
		return pht_errf(err, PHT_ERR_INVALID, "not an Ed25519 signing key");
	if (!key->has_private)
		return pht_errf(err, PHT_ERR_INVALID,
		    "signing needs a private key, this is a public key");
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, key->pk, NULL) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, len) != 1 ||
	    siglen != PHT_KEY_SIG_LEN)
		r = pht_errf(err, PHT_ERR_CRYPTO, "Ed25519 signing failed");
	EVP_MD_CTX_free(ctx);
	return r;
}

int
pht_key_verify(const struct pht_key *key, const uint8_t *msg, size_t len,
    const uint8_t sig[PHT_KEY_SIG_LEN], struct pht_err *err)
{
	EVP_MD_CTX *ctx;
	int r = PHT_OK;

	if (key->type != PHT_KEY_SIGN)
		return pht_errf(err, PHT_ERR_INVALID, "not an Ed25519 signing key");
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, key->pk, NULL) != 1)
		r = pht_errf(err, PHT_ERR_CRYPTO, "Ed25519 verification setup failed");
	else if (EVP_DigestVerify(ctx, sig, PHT_KEY_SIG_LEN, msg, len) != 1)
		r = pht_errf(err, PHT_ERR_BAD_SIGNATURE, "signature does not verify");
	EVP_MD_CTX_free(ctx);
	return r;
}

int
pht_key_x25519(const struct pht_key *key, const uint8_t peer[PHT_KEY_RAW_LEN],
    uint8_t shared[PHT_KEY_RAW_LEN], struct pht_err *err)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pp = NULL;
	size_t n = PHT_KEY_RAW_LEN;
	int r = PHT_OK;

	if (key->type != PHT_KEY_SEAL || !key->has_private)
		return pht_errf(err, PHT_ERR_INVALID, "X25519 needs a private sealing key");
	pp = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, PHT_KEY_RAW_LEN);
	if (pp == NULL) {
		r = pht_errf(err, PHT_ERR_CRYPTO, "X25519: peer key refused");
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pk, NULL)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* OpenSSL fails the derivation when the result is all zero. */
	if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, pp) != 1 ||
	    EVP_PKEY_derive(ctx, shared, &n) != 1 || n != PHT_KEY_RAW_LEN) {
		OPENSSL_cleanse(shared, PHT_KEY_RAW_LEN);
		r = pht_errf(err, PHT_ERR_CRYPTO, "X25519: key agreement failed");
	}
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pp);
	return r;
}

int
pht_key_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > PHT_KEY_NAME_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
pht_key_generate_files(const char *dir, const char *name,
    char sign_fp[PHT_KEY_FP_LEN + 1], char seal_fp[PHT_KEY_FP_LEN + 1],
    struct pht_err *err)
{
	static const char *const suffix[4] = {
		PHT_KEY_SIGN_PRIV_SUFFIX, PHT_KEY_SIGN_PUB_SUFFIX,
		PHT_KEY_SEAL_PRIV_SUFFIX, PHT_KEY_SEAL_PUB_SUFFIX,
	};
	struct pht_key *sign = NULL, *seal = NULL;
	char *path[4] = {NULL, NULL, NULL, NULL}, fname[PHT_KEY_NAME_MAX + 16];
	struct stat st;
	int i, written = 0, r;

	if (!pht_key_name_ok(name))
		return pht_errf(err, PHT_ERR_INVALID, "bad key name \"%.*s\": use 1 to %d "
		    "letters, digits, '.', '_' or '-', not starting with '.' or '-'",
		    PHT_KEY_NAME_MAX, name, PHT_KEY_NAME_MAX);
	for (i = 0; i < 4; i++) {
		snprintf(fname, sizeof(fname), "%s%s", name, suffix[i]);
		if ((path[i] = pht_path_join(dir, fname)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (lstat(path[i], &st) == 0) {
			r = pht_errf(err, PHT_ERR_INVALID,
			    "%s: exists; refusing to overwrite a key", path[i]);
			goto out;
		}
	}
	if ((r = pht_mkdir_p(dir, 0700, err)) != PHT_OK)
		goto out;
	if ((r = pht_key_generate(PHT_KEY_SIGN, &sign, err)) != PHT_OK ||
	    (r = pht_key_generate(PHT_KEY_SEAL, &seal, err)) != PHT_OK)
		goto out;
	for (written = 0; written < 4; written++) {
		struct pht_key *k = written < 2 ? sign : seal;

		r = written % 2 == 0 ? pht_key_write_private(k, path[written], err) :
		    pht_key_write_public(k, path[written], err);
		if (r != PHT_OK)
			goto out;
	}
	if (sign_fp != NULL && (r = pht_key_fingerprint(sign, sign_fp, err)) != PHT_OK)
		goto out;
	if (seal_fp != NULL && (r = pht_key_fingerprint(seal, seal_fp, err)) != PHT_OK)
		goto out;
out:
	for (i = 0; i < 4; i++) {
		if (r != PHT_OK && i < written)
			unlink(path[i]); /* no half-written key set */
		free(path[i]);
	}
	pht_key_free(sign);
	pht_key_free(seal);
	return r;
}
