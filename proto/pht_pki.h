/* pht_pki.h — the federation CA: issuing and reading the certificates that say who is who. */
#ifndef PHT_PKI_H
#define PHT_PKI_H

#include <stddef.h>

#include <openssl/x509.h>

struct pht_err;

/*
 * Every key is ECDSA P-256 (accepted by OpenSSL's TLS 1.3 and by libcurl on
 * every backend). Every certificate carries its identity twice, as subject
 * CN and as a URI subjectAltName: "pht:station:NAME", "pht:analyst:NAME" or
 * "pht:node". Names are 1..64 characters of [a-z0-9_-].
 *
 * File layout. A CA directory holds ca.pem (the CA certificate) and
 * ca-key.pem (its key, mode 0600). An issued directory holds cert.pem,
 * key.pem (mode 0600) and ca.pem (a copy of the CA certificate, to pin).
 */
#define PHT_PKI_NAME_MAX 64
#define PHT_PKI_CA_CERT "ca.pem"
#define PHT_PKI_CA_KEY "ca-key.pem"
#define PHT_PKI_CERT "cert.pem"
#define PHT_PKI_KEY "key.pem"
#define PHT_PKI_MAX_SANS 16

enum pht_pki_role {
	PHT_PKI_STATION = 1,
	PHT_PKI_ANALYST = 2,
	PHT_PKI_NODE = 3,
};

/* What to issue: role, name (ignored for the node, whose identity is
 * "pht:node"), extra DNS and IP SANs (node only; when both counts are 0 the
 * node gets DNS:localhost and IP:127.0.0.1), validity in days. */
struct pht_pki_req {
	enum pht_pki_role role;
	const char *name;
	const char *dns[PHT_PKI_MAX_SANS];
	size_t ndns;
	const char *ips[PHT_PKI_MAX_SANS];
	size_t nips;
	int days;
};

/* True if name is 1..64 characters of [a-z0-9_-]. */
int pht_pki_name_ok(const char *name);

/* "station", "analyst", "node"; "?" for anything else. Never NULL. */
const char *pht_pki_role_name(enum pht_pki_role role);

/* Parses "station"/"analyst"/"node"; PHT_ERR_INVALID (with detail) otherwise. */
int pht_pki_role_parse(const char *s, enum pht_pki_role *out,
    struct pht_err *err);

/*
 * Creates a new federation CA in dir (created if missing, mode 0700):
 * a P-256 key and a self-signed certificate valid for days days
 * (CA:TRUE, keyCertSign|cRLSign). Refuses (PHT_ERR_INVALID) to overwrite an
 * existing ca-key.pem. PHT_ERR_IO / PHT_ERR_CRYPTO on failure.
 */
int pht_pki_ca_init(const char *dir, int days, struct pht_err *err);

/*
 * Issues a key and certificate for req with the CA in ca_dir and writes
 * cert.pem, key.pem and ca.pem into out_dir (created if missing). The serial
 * is 127 random bits. Stations and analysts get extendedKeyUsage clientAuth,
 * the node serverAuth. Refuses (PHT_ERR_INVALID) a bad name, a bad DNS name
 * or IP address, days < 1, or an out_dir that already holds a key.
 */
int pht_pki_issue(const char *ca_dir, const struct pht_pki_req *req,
    const char *out_dir, struct pht_err *err);

/*
 * Reads the identity of a certificate (the caller has verified it, e.g. the
 * TLS peer certificate): exactly one subject CN of the form above and a
 * URI SAN equal to it. On success *role is set and name (size >=
 * PHT_PKI_NAME_MAX + 1) receives the name ("" for the node).
 * PHT_ERR_DENIED with a detail on anything else.
 */
int pht_pki_identity(X509 *cert, enum pht_pki_role *role, char *name,
    size_t namesz, struct pht_err *err);

/* Loads the first PEM certificate of path. PHT_ERR_IO / PHT_ERR_MALFORMED. */
int pht_pki_load_cert(const char *path, X509 **out, struct pht_err *err);

/*
 * Verifies cert against the CA certificate file ca_path (chain, validity
 * dates, and that it is the right kind for role: clientAuth for stations
 * and analysts, serverAuth for the node). PHT_ERR_BAD_SIGNATURE with
 * OpenSSL's reason in the detail when it does not verify.
 */
int pht_pki_verify(const char *ca_path, X509 *cert, enum pht_pki_role role,
    struct pht_err *err);

#endif
