/* pht_pki.c — federation CA and certificate identities (OpenSSL 3, P-256). */
#include "pht_pki.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define PKI_MAX_FILE (64 * 1024)
#define PKI_MAX_DAYS (100 * 366)

static int
ossl_err(struct pht_err *err, int code, const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (e == 0)
		return pht_errf(err, code, "%s failed", what);
	ERR_error_string_n(e, buf, sizeof(buf));
	return pht_errf(err, code, "%s: %s", what, buf);
}

int
pht_pki_name_ok(const char *name)
{
	size_t i, n;

	if (name == NULL)
		return 0;
	n = strlen(name);
	if (n < 1 || n > PHT_PKI_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

const char *
pht_pki_role_name(enum pht_pki_role role)
{
	switch (role) {
	case PHT_PKI_STATION: return "station";
	case PHT_PKI_ANALYST: return "analyst";
	case PHT_PKI_NODE: return "node";
	}
	return "?";
}

int
pht_pki_role_parse(const char *s, enum pht_pki_role *out, struct pht_err *err)
{
	if (strcmp(s, "station") == 0)
		*out = PHT_PKI_STATION;
	else if (strcmp(s, "analyst") == 0)
		*out = PHT_PKI_ANALYST;
	else if (strcmp(s, "node") == 0)
		*out = PHT_PKI_NODE;
	else
		return pht_errf(err, PHT_ERR_INVALID,
		    "role \"%.64s\": must be station, analyst or node", s);
	return PHT_OK;
}

/* DNS name: labels of [A-Za-z0-9-], dots between, at most 253 chars. */
static int
dns_ok(const char *s)
{
	size_t i, n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

static int
ip_ok(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static int
new_key(EVP_PKEY **out, struct pht_err *err)
{
	*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (*out == NULL)
		return ossl_err(err, PHT_ERR_CRYPTO, "P-256 key generation");
	return PHT_OK;
}

static int
random_serial(X509 *x, struct pht_err *err)
{
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *ai = NULL;
	int r = PHT_OK;

	if (bn == NULL || !BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, ai))
		r = ossl_err(err, PHT_ERR_CRYPTO, "serial number");
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value, struct pht_err *err)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return ossl_err(err, PHT_ERR_CRYPTO, "certificate extension");
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok)
		return ossl_err(err, PHT_ERR_CRYPTO, "certificate extension");
	return PHT_OK;
}

/* A certificate for key with subject CN cn, valid days days, not yet signed. */
static int
new_cert(EVP_PKEY *key, const char *cn, int days, X509 **out, struct pht_err *err)
{
	X509 *x = NULL;
	X509_NAME *nm;
	int r;

	*out = NULL;
	if ((x = X509_new()) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (!X509_set_version(x, 2) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL ||
	    !X509_set_pubkey(x, key)) {
		r = ossl_err(err, PHT_ERR_CRYPTO, "certificate fields");
		goto out;
	}
	if ((r = random_serial(x, err)) != PHT_OK)
		goto out;
	nm = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC,
	    (const unsigned char *)"PHT federation", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0)) {
		r = ossl_err(err, PHT_ERR_CRYPTO, "certificate subject");
		goto out;
	}
	*out = x;
	x = NULL; /* transferred */
	r = PHT_OK;
out:
	X509_free(x);
	return r;
}

/*
 * The PEM of key when it is given (the memory BIO that held it is wiped),
 * else of the certificate x, into a new *out (caller frees).
 */
static int
pem_encode(X509 *x, EVP_PKEY *key, struct pht_buf **out, struct pht_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	struct pht_buf *b = NULL;
	char *p;
	long n;
	int r;

	*out = NULL;
	if (bio == NULL || (key != NULL ?
	    !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) :
	    !PEM_write_bio_X509(bio, x))) {
		r = ossl_err(err, PHT_ERR_CRYPTO, key != NULL ?
		    "PEM encoding of the key" : "PEM encoding");
		goto out;
	}
	n = BIO_get_mem_data(bio, &p);
	if ((b = pht_buf_new((size_t)n)) == NULL ||
	    pht_buf_put(b, p, (size_t)n) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = b;
	b = NULL; /* transferred */
	r = PHT_OK;
out:
	if (bio != NULL && key != NULL) {
		/* The memory BIO held the private key: wipe it. */
		n = BIO_get_mem_data(bio, &p);
		if (n > 0)
			OPENSSL_cleanse(p, (size_t)n);
	}
	pht_buf_free(b);
	BIO_free(bio);
	return r;
}

/* Writes the PEM of x (and of key, 0600, if not NULL) into dir/name. */
static int
write_pem(const char *dir, const char *name, X509 *x, EVP_PKEY *key,
    struct pht_err *err)
{
	struct pht_buf *b = NULL;
	char *path = NULL;
	int r;

	if ((path = pht_path_join(dir, name)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	r = pem_encode(x, key, &b, err);
	if (r == PHT_OK)
		r = pht_file_write_atomic(path, pht_buf_data(b), pht_buf_len(b),
		    key != NULL ? 0600 : 0644, err);
	pht_buf_free(b);
	free(path);
	return r;
}

static int
exists(const char *dir, const char *name)
{
	char *path = pht_path_join(dir, name);
	int e;

	if (path == NULL)
		return 0;
	e = access(path, F_OK) == 0;
	free(path);
	return e;
}

int
pht_pki_ca_init(const char *dir, int days, struct pht_err *err)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int r;

	if (days < 1 || days > PKI_MAX_DAYS)
		return pht_errf(err, PHT_ERR_INVALID, "days %d: must be 1..%d",
		    days, PKI_MAX_DAYS);
	if ((r = pht_mkdir_p(dir, 0700, err)) != PHT_OK)
		return r;
	if (exists(dir, PHT_PKI_CA_KEY))
		return pht_errf(err, PHT_ERR_INVALID,
		    "%s/%s: a CA key already exists; refusing to overwrite it",
		    dir, PHT_PKI_CA_KEY);
	if ((r = new_key(&key, err)) != PHT_OK)
		goto out;
	if ((r = new_cert(key, "PHT federation CA", days, &x, err)) != PHT_OK)
		goto out;
	if (!X509_set_issuer_name(x, X509_get_subject_name(x))) {
		r = ossl_err(err, PHT_ERR_CRYPTO, "issuer name");
		goto out;
	}
	if ((r = add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", err)) ||
	    (r = add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign", err)) ||
	    (r = add_ext(x, x, NID_subject_key_identifier, "hash", err)))
		goto out;
	if (X509_sign(x, key, EVP_sha256()) <= 0) {
		r = ossl_err(err, PHT_ERR_CRYPTO, "signing the CA certificate");
		goto out;
	}
	if ((r = write_pem(dir, PHT_PKI_CA_KEY, NULL, key, err)) != PHT_OK ||
	    (r = write_pem(dir, PHT_PKI_CA_CERT, x, NULL, err)) != PHT_OK)
		goto out;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

/*
 * Reads the PEM file at path: its private key into *key when key is given,
 * else its certificate into *cert. The out-param is NULL on failure.
 */
static int
read_pem(const char *path, EVP_PKEY **key, X509 **cert, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	BIO *bio = NULL;
	int r, ok;

	if (key != NULL)
		*key = NULL;
	else
		*cert = NULL;
	if ((r = pht_file_read(path, PKI_MAX_FILE, &b, err)) != PHT_OK)
		return r;
	if ((bio = BIO_new_mem_buf(pht_buf_data(b), (int)pht_buf_len(b))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (key != NULL)
		ok = (*key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) != NULL;
	else
		ok = (*cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL;
	if (!ok) {
		ossl_err(err, PHT_ERR_MALFORMED, key != NULL ?
		    "reading the private key" : "reading the certificate");
		pht_err_prefix(err, "%s", path);
		r = PHT_ERR_MALFORMED;
		goto out;
	}
	r = PHT_OK;
out:
	BIO_free(bio);
	pht_buf_free(b);
	return r;
}

static int
load_key(const char *path, EVP_PKEY **out, struct pht_err *err)
{
	return read_pem(path, out, NULL, err);
}

int
pht_pki_load_cert(const char *path, X509 **out, struct pht_err *err)
{
	return read_pem(path, NULL, out, err);
}

int
pht_pki_issue(const char *ca_dir, const struct pht_pki_req *req,
    const char *out_dir, struct pht_err *err)
{
	EVP_PKEY *cakey = NULL, *key = NULL;
	X509 *ca = NULL, *x = NULL;
	char *ca_cert_path = NULL, *ca_key_path = NULL;
	struct pht_buf *san = NULL;
	char ident[sizeof("pht:analyst:") + PHT_PKI_NAME_MAX];
	size_t i;
	int r;

	if (req->days < 1 || req->days > PKI_MAX_DAYS)
		return pht_errf(err, PHT_ERR_INVALID, "days %d: must be 1..%d",
		    req->days, PKI_MAX_DAYS);
	if (req->role == PHT_PKI_NODE) {
		snprintf(ident, sizeof(ident), "pht:node");
	} else if (req->role == PHT_PKI_STATION || req->role == PHT_PKI_ANALYST) {
		if (!pht_pki_name_ok(req->name))
			return pht_errf(err, PHT_ERR_INVALID,
			    "name \"%.80s\": must be 1..%d characters of [a-z0-9_-]",
			    req->name ? req->name : "", PHT_PKI_NAME_MAX);
		snprintf(ident, sizeof(ident), "pht:%s:%s",
		    pht_pki_role_name(req->role), req->name);
	} else {
		return pht_errf(err, PHT_ERR_INVALID, "unknown role");
	}
	if (req->role != PHT_PKI_NODE && (req->ndns > 0 || req->nips > 0))
		return pht_errf(err, PHT_ERR_INVALID,
		    "DNS and IP names are for the node certificate only");
	if (req->ndns > PHT_PKI_MAX_SANS || req->nips > PHT_PKI_MAX_SANS)
		return pht_errf(err, PHT_ERR_INVALID, "at most %d DNS and %d IP names",
		    PHT_PKI_MAX_SANS, PHT_PKI_MAX_SANS);
	for (i = 0; i < req->ndns; i++)
		if (!dns_ok(req->dns[i]))
			return pht_errf(err, PHT_ERR_INVALID,
			    "DNS name \"%.80s\": not a host name", req->dns[i]);
	for (i = 0; i < req->nips; i++)
		if (!ip_ok(req->ips[i]))
			return pht_errf(err, PHT_ERR_INVALID,
			    "IP address \"%.80s\": not an IPv4 or IPv6 address", req->ips[i]);
	if ((r = pht_mkdir_p(out_dir, 0700, err)) != PHT_OK)
		return r;
	if (exists(out_dir, PHT_PKI_KEY))
		return pht_errf(err, PHT_ERR_INVALID,
		    "%s/%s: a key already exists; refusing to overwrite it",
		    out_dir, PHT_PKI_KEY);

	if ((ca_cert_path = pht_path_join(ca_dir, PHT_PKI_CA_CERT)) == NULL ||
	    (ca_key_path = pht_path_join(ca_dir, PHT_PKI_CA_KEY)) == NULL ||
	    (san = pht_buf_new(8192)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_pki_load_cert(ca_cert_path, &ca, err)) != PHT_OK ||
	    (r = load_key(ca_key_path, &cakey, err)) != PHT_OK)
		goto out;
	if (X509_check_private_key(ca, cakey) != 1) {
		ERR_clear_error();
		r = pht_errf(err, PHT_ERR_INVALID, "%s does not match %s",
		    ca_key_path, ca_cert_path);
		goto out;
	}
	if ((r = new_key(&key, err)) != PHT_OK ||
	    (r = new_cert(key, ident, req->days, &x, err)) != PHT_OK)
		goto out;
	if (!X509_set_issuer_name(x, X509_get_subject_name(ca))) {
		r = ossl_err(err, PHT_ERR_CRYPTO, "issuer name");
		goto out;
	}
	if ((r = pht_buf_putf(san, "URI:%s", ident)) != PHT_OK)
		goto san_err;
	if (req->role == PHT_PKI_NODE) {
		if (req->ndns == 0 && req->nips == 0 &&
		    (r = pht_buf_puts(san, ",DNS:localhost,IP:127.0.0.1")) != PHT_OK)
			goto san_err;
		for (i = 0; i < req->ndns; i++)
			if ((r = pht_buf_putf(san, ",DNS:%s", req->dns[i])) != PHT_OK)
				goto san_err;
		for (i = 0; i < req->nips; i++)
			if ((r = pht_buf_putf(san, ",IP:%s", req->ips[i])) != PHT_OK)
				goto san_err;
	}
	if ((r = add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE", err)) ||
	    (r = add_ext(x, ca, NID_key_usage, "critical,digitalSignature", err)) ||
	    (r = add_ext(x, ca, NID_ext_key_usage,
	    req->role == PHT_PKI_NODE ? "serverAuth" : "clientAuth", err)) ||
	    (r = add_ext(x, ca, NID_subject_key_identifier, "hash", err)) ||
	    (r = add_ext(x, ca, NID_authority_key_identifier, "keyid:always", err)) ||
	    (r = add_ext(x, ca, NID_subject_alt_name, pht_buf_str(san), err)))
		goto out;
	if (X509_sign(x, cakey, EVP_sha256()) <= 0) {
		r = ossl_err(err, PHT_ERR_CRYPTO, "signing the certificate");
		goto out;
	}
	if ((r = write_pem(out_dir, PHT_PKI_KEY, NULL, key, err)) != PHT_OK ||
	    (r = write_pem(out_dir, PHT_PKI_CERT, x, NULL, err)) != PHT_OK ||
	    (r = write_pem(out_dir, PHT_PKI_CA_CERT, ca, NULL, err)) != PHT_OK)
		goto out;
	goto out;
san_err:
	r = pht_errf(err, r, "subjectAltName too long");
out:
	pht_buf_free(san);
	free(ca_cert_path);
	free(ca_key_path);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	return r;
}

/* Copies an ASN1 string that must be plain printable text into out. */
static int
asn1_text(const ASN1_STRING *s, char *out, size_t outsz)
{
	const unsigned char *d = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s), i;

	if (n <= 0 || (size_t)n >= outsz)
		return 0;
	for (i = 0; i < n; i++)
		if (d[i] < 0x20 || d[i] > 0x7e)
			return 0;
	memcpy(out, d, (size_t)n);
	out[n] = '\0';
	return 1;
}

int
pht_pki_identity(X509 *cert, enum pht_pki_role *role, char *name,
    size_t namesz, struct pht_err *err)
{
	char cn[128], uri[128];
	const char *rest;
	X509_NAME *subj;
	X509_NAME_ENTRY *ent;
	GENERAL_NAMES *gens = NULL;
	int idx, i, found = 0, r;

	if (cert == NULL)
		return pht_errf(err, PHT_ERR_DENIED, "no certificate");
	if (namesz < PHT_PKI_NAME_MAX + 1)
		return pht_errf(err, PHT_ERR_INVALID, "name buffer too small");
	name[0] = '\0';
	subj = X509_get_subject_name(cert);
	if ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) < 0)
		return pht_errf(err, PHT_ERR_DENIED, "certificate has no subject CN");
	if (X509_NAME_get_index_by_NID(subj, NID_commonName, idx) >= 0)
		return pht_errf(err, PHT_ERR_DENIED, "certificate has more than one CN");
	ent = X509_NAME_get_entry(subj, idx);
	if (!asn1_text(X509_NAME_ENTRY_get_data(ent), cn, sizeof(cn)))
		return pht_errf(err, PHT_ERR_DENIED, "certificate CN is not a PHT identity");
	if (strcmp(cn, "pht:node") == 0) {
		*role = PHT_PKI_NODE;
		rest = "";
	} else if (strncmp(cn, "pht:station:", 12) == 0) {
		*role = PHT_PKI_STATION;
		rest = cn + 12;
	} else if (strncmp(cn, "pht:analyst:", 12) == 0) {
		*role = PHT_PKI_ANALYST;
		rest = cn + 12;
	} else {
		return pht_errf(err, PHT_ERR_DENIED,
		    "certificate CN \"%s\" is not a PHT identity", cn);
	}
	if (*role != PHT_PKI_NODE && !pht_pki_name_ok(rest))
		return pht_errf(err, PHT_ERR_DENIED,
		    "certificate CN \"%s\": bad name", cn);

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_URI)
			continue;
		if (!asn1_text(g->d.uniformResourceIdentifier, uri, sizeof(uri)) ||
		    strncmp(uri, "pht:", 4) != 0)
			continue;
		if (strcmp(uri, cn) != 0) {
			r = pht_errf(err, PHT_ERR_DENIED,
			    "certificate URI \"%s\" disagrees with its CN \"%s\"", uri, cn);
			goto out;
		}
		found = 1;
	}
	if (!found) {
		r = pht_errf(err, PHT_ERR_DENIED,
		    "certificate for \"%s\" has no matching pht: URI name", cn);
		goto out;
	}
	snprintf(name, namesz, "%s", rest);
	r = PHT_OK;
out:
	GENERAL_NAMES_free(gens);
	return r;
}

int
pht_pki_verify(const char *ca_path, X509 *cert, enum pht_pki_role role,
    struct pht_err *err)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *ca = NULL;
	int r, vr;

	if ((r = pht_pki_load_cert(ca_path, &ca, err)) != PHT_OK)
		return r;
	if ((store = X509_STORE_new()) == NULL || !X509_STORE_add_cert(store, ca) ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, store, cert, NULL) ||
	    !X509_STORE_CTX_set_purpose(ctx, role == PHT_PKI_NODE ?
	    X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT)) {
		r = ossl_err(err, PHT_ERR_CRYPTO, "certificate store");
		goto out;
	}
	vr = X509_verify_cert(ctx);
	ERR_clear_error();
	if (vr != 1) {
		r = pht_errf(err, PHT_ERR_BAD_SIGNATURE,
		    "certificate does not verify against %s: %s", ca_path,
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	r = PHT_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(ca);
	return r;
}
