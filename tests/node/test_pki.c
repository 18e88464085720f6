/* test_pki.c — federation CA: issued identities read back, verification, refusals. */
#include "tap.h"

#include "pht_err.h"
#include "pht_pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

static char dir[] = "/tmp/pht-pki-XXXXXX";

static char *
p(const char *a, const char *b)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s%s%s", dir, a, b ? "/" : "", b ? b : "");
	return buf[i];
}

static X509 *
load(const char *path)
{
	X509 *x = NULL;
	struct pht_err e;

	if (pht_pki_load_cert(path, &x, &e) != PHT_OK)
		tap_diag("load %s: %s", path, e.msg);
	return x;
}

/* A self-signed certificate with the given CN and optional URI SAN. */
static X509 *
forged(const char *cn, const char *uri)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	char san[200];

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (uri != NULL) {
		snprintf(san, sizeof(san), "URI:%s", uri);
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(x, k, EVP_sha256());
	EVP_PKEY_free(k);
	return x;
}

static void
test_issue(void)
{
	struct pht_pki_req req;
	struct pht_err e;
	enum pht_pki_role role;
	char name[PHT_PKI_NAME_MAX + 1];
	X509 *st = NULL, *an = NULL, *nd = NULL, *other = NULL;
	struct stat sb;
	int r;

	pht_err_clear(&e);
	r = pht_pki_ca_init(p("ca", NULL), 30, &e);
	tap_ok(r == PHT_OK, "CA created (%s)", pht_err_msg(&e));
	tap_ok(stat(p("ca", "ca-key.pem"), &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "CA key is mode 0600");
	r = pht_pki_ca_init(p("ca", NULL), 30, &e);
	tap_ok(r == PHT_ERR_INVALID && strstr(e.msg, "refusing to overwrite") != NULL,
	    "second CA init in the same dir refused: %s", e.msg);
	tap_ok(pht_pki_ca_init(p("ca0", NULL), 0, &e) == PHT_ERR_INVALID &&
	    strstr(e.msg, "days 0") != NULL, "days 0 refused");
	tap_ok(pht_pki_ca_init(p("other", NULL), 30, &e) == PHT_OK, "another CA");

	memset(&req, 0, sizeof(req));
	req.role = PHT_PKI_STATION;
	req.name = "hosp-a_1";
	req.days = 10;
	r = pht_pki_issue(p("ca", NULL), &req, p("sta", NULL), &e);
	tap_ok(r == PHT_OK, "station certificate issued (%s)", pht_err_msg(&e));
	tap_ok(stat(p("sta", "key.pem"), &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "station key is mode 0600");
	r = pht_pki_issue(p("ca", NULL), &req, p("sta", NULL), &e);
	tap_ok(r == PHT_ERR_INVALID && strstr(e.msg, "key already exists") != NULL,
	    "issuing over an existing key refused");
	req.role = PHT_PKI_ANALYST;
	req.name = "ana";
	tap_ok(pht_pki_issue(p("ca", NULL), &req, p("ana", NULL), &e) == PHT_OK,
	    "analyst certificate issued");
	req.role = PHT_PKI_NODE;
	req.name = NULL;
	tap_ok(pht_pki_issue(p("ca", NULL), &req, p("node", NULL), &e) == PHT_OK,
	    "node certificate issued");
	req.role = PHT_PKI_STATION;
	req.name = "a";
	tap_ok(pht_pki_issue(p("other", NULL), &req, p("foreign", NULL), &e) == PHT_OK,
	    "station certificate from the other CA");

	st = load(p("sta", "cert.pem"));
	an = load(p("ana", "cert.pem"));
	nd = load(p("node", "cert.pem"));
	other = load(p("foreign", "cert.pem"));
	tap_ok(st && an && nd && other, "certificates load");
	if (!(st && an && nd && other))
		goto out;

	r = pht_pki_identity(st, &role, name, sizeof(name), &e);
	tap_ok(r == PHT_OK && role == PHT_PKI_STATION && strcmp(name, "hosp-a_1") == 0,
	    "station identity read back: %s", name);
	r = pht_pki_identity(an, &role, name, sizeof(name), &e);
	tap_ok(r == PHT_OK && role == PHT_PKI_ANALYST && strcmp(name, "ana") == 0,
	    "analyst identity read back");
	r = pht_pki_identity(nd, &role, name, sizeof(name), &e);
	tap_ok(r == PHT_OK && role == PHT_PKI_NODE && name[0] == '\0',
	    "node identity read back");
	tap_ok(X509_check_host(nd, "localhost", 0, 0, NULL) == 1 &&
	    X509_check_ip_asc(nd, "127.0.0.1", 0) == 1 &&
	    X509_check_host(nd, "example.org", 0, 0, NULL) != 1,
	    "node certificate names localhost and 127.0.0.1 only");
	tap_ok(X509_check_host(st, "localhost", 0, 0, NULL) != 1,
	    "station certificate names no host");
	tap_ok(ASN1_INTEGER_cmp(X509_get0_serialNumber(st),
	    X509_get0_serialNumber(an)) != 0, "serial numbers differ");
	tap_ok((X509_get_extended_key_usage(st) & XKU_SSL_CLIENT) &&
	    !(X509_get_extended_key_usage(st) & XKU_SSL_SERVER),
	    "station: clientAuth only");
	tap_ok((X509_get_extended_key_usage(nd) & XKU_SSL_SERVER) &&
	    !(X509_get_extended_key_usage(nd) & XKU_SSL_CLIENT),
	    "node: serverAuth only");

	tap_ok(pht_pki_verify(p("ca", "ca.pem"), st, PHT_PKI_STATION, &e) == PHT_OK,
	    "station verifies against its CA");
	tap_ok(pht_pki_verify(p("ca", "ca.pem"), nd, PHT_PKI_NODE, &e) == PHT_OK,
	    "node verifies as a server");
	r = pht_pki_verify(p("ca", "ca.pem"), other, PHT_PKI_STATION, &e);
	tap_ok(r == PHT_ERR_BAD_SIGNATURE && strstr(e.msg, "does not verify") != NULL,
	    "certificate from another CA refused: %s", e.msg);
	r = pht_pki_verify(p("ca", "ca.pem"), nd, PHT_PKI_STATION, &e);
	tap_ok(r == PHT_ERR_BAD_SIGNATURE, "node certificate refused as a client: %s",
	    e.msg);
	r = pht_pki_verify(p("other", "ca.pem"), st, PHT_PKI_STATION, &e);
	tap_ok(r == PHT_ERR_BAD_SIGNATURE, "station refused by the other CA");
out:
	X509_free(st);
	X509_free(an);
	X509_free(nd);
	X509_free(other);
}

static void
test_refusals(void)
{
	struct pht_pki_req req;
	struct pht_err e;
	enum pht_pki_role role;
	char name[PHT_PKI_NAME_MAX + 1];
	char long_name[80];
	X509 *x;
	int r;

	memset(&req, 0, sizeof(req));
	req.role = PHT_PKI_STATION;
	req.days = 10;
	req.name = "Bad";
	r = pht_pki_issue(p("ca", NULL), &req, p("bad1", NULL), &e);
	tap_ok(r == PHT_ERR_INVALID && strstr(e.msg, "[a-z0-9_-]") != NULL,
	    "upper-case name refused: %s", e.msg);
	req.name = "a:b";
	tap_ok(pht_pki_issue(p("ca", NULL), &req, p("bad2", NULL), &e) ==
	    PHT_ERR_INVALID, "name with ':' refused");
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	req.name = long_name;
	tap_ok(pht_pki_issue(p("ca", NULL), &req, p("bad3", NULL), &e) ==
	    PHT_ERR_INVALID, "65-character name refused");
	long_name[64] = '\0';
	tap_ok(pht_pki_name_ok(long_name), "64-character name accepted");
	tap_ok(!pht_pki_name_ok(""), "empty name refused");
	req.name = "a";
	req.dns[0] = "x.org";
	req.ndns = 1;
	r = pht_pki_issue(p("ca", NULL), &req, p("bad4", NULL), &e);
	tap_ok(r == PHT_ERR_INVALID && strstr(e.msg, "node certificate only") != NULL,
	    "DNS name on a station certificate refused");
	req.role = PHT_PKI_NODE;
	req.dns[0] = "bad,DNS:evil.org";
	r = pht_pki_issue(p("ca", NULL), &req, p("bad5", NULL), &e);
	tap_ok(r == PHT_ERR_INVALID && strstr(e.msg, "not a host name") != NULL,
	    "DNS name with a comma refused: %s", e.msg);
	req.ndns = 0;
	req.ips[0] = "127.0.0.300";
	req.nips = 1;
	r = pht_pki_issue(p("ca", NULL), &req, p("bad6", NULL), &e);
	tap_ok(r == PHT_ERR_INVALID && strstr(e.msg, "not an IPv4 or IPv6") != NULL,
	    "bad IP refused");
	req.ips[0] = "::1";
	req.dns[0] = "node.example.org";
	req.ndns = 1;
	r = pht_pki_issue(p("ca", NULL), &req, p("node2", NULL), &e);
	tap_ok(r == PHT_OK, "node with given DNS and IP names");
	if (r == PHT_OK && (x = load(p("node2", "cert.pem"))) != NULL) {
		tap_ok(X509_check_host(x, "node.example.org", 0, 0, NULL) == 1 &&
		    X509_check_ip_asc(x, "::1", 0) == 1 &&
		    X509_check_host(x, "localhost", 0, 0, NULL) != 1,
		    "node names are the ones given, no defaults added");
		X509_free(x);
	}
	r = pht_pki_issue(p("nope", NULL), &req, p("bad7", NULL), &e);
	tap_ok(r == PHT_ERR_IO && strstr(e.msg, "nope/ca.pem") != NULL,
	    "missing CA: IO error naming the file: %s", e.msg);
	tap_ok(pht_pki_role_parse("auditor", &role, &e) == PHT_ERR_INVALID &&
	    strstr(e.msg, "auditor") != NULL, "unknown role refused");

	x = forged("pht:station:x", NULL);
	r = pht_pki_identity(x, &role, name, sizeof(name), &e);
	tap_ok(r == PHT_ERR_DENIED && strstr(e.msg, "no matching pht: URI") != NULL,
	    "certificate without URI name: no identity (%s)", e.msg);
	X509_free(x);
	x = forged("pht:station:x", "pht:analyst:x");
	r = pht_pki_identity(x, &role, name, sizeof(name), &e);
	tap_ok(r == PHT_ERR_DENIED && strstr(e.msg, "disagrees") != NULL,
	    "CN and URI disagreeing: no identity (%s)", e.msg);
	X509_free(x);
	x = forged("hospital", "pht:station:x");
	r = pht_pki_identity(x, &role, name, sizeof(name), &e);
	tap_ok(r == PHT_ERR_DENIED && strstr(e.msg, "not a PHT identity") != NULL,
	    "CN that is not an identity refused");
	X509_free(x);
	x = forged("pht:station:Evil", "pht:station:Evil");
	r = pht_pki_identity(x, &role, name, sizeof(name), &e);
	tap_ok(r == PHT_ERR_DENIED && strstr(e.msg, "bad name") != NULL,
	    "identity with a bad name refused");
	X509_free(x);
	x = forged("pht:analyst:zed", "pht:analyst:zed");
	r = pht_pki_identity(x, &role, name, sizeof(name), &e);
	tap_ok(r == PHT_OK && role == PHT_PKI_ANALYST && strcmp(name, "zed") == 0,
	    "identity reading alone does not verify: that is pht_pki_verify's job");
	tap_ok(pht_pki_verify(p("ca", "ca.pem"), x, PHT_PKI_ANALYST, &e) ==
	    PHT_ERR_BAD_SIGNATURE, "the self-made certificate fails verification");
	X509_free(x);
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_issue();
	test_refusals();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
