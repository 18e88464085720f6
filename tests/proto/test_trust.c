/* test_trust.c — pht_trust: adding, loading files and directories, lookups, every refusal. */
#include "tap.h"
#include "proto_util.h"

#include "pht_err.h"
#include "pht_file.h"
#include "pht_key.h"
#include "pht_trust.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
test_add(void)
{
	struct pht_key *a = NULL, *b = NULL, *s = NULL;
	struct pht_trust *t = pht_trust_new();
	const char *name = NULL, *fp = NULL;
	char fpa[65], fpb[65], c0;
	struct pht_err e;

	pht_key_generate(PHT_KEY_SIGN, &a, &e);
	pht_key_generate(PHT_KEY_SIGN, &b, &e);
	pht_key_generate(PHT_KEY_SEAL, &s, &e);
	pht_key_fingerprint(a, fpa, &e);
	pht_key_fingerprint(b, fpb, &e);
	tap_ok(t != NULL && pht_trust_count(t) == 0, "new set is empty");
	tap_ok(pht_trust_find(t, fpa, &name) == NULL, "nothing found in an empty set");
	tap_ok(pht_trust_add(t, "alice", a, &e) == PHT_OK, "add alice");
	tap_ok(pht_trust_add(t, "bob", b, &e) == PHT_OK, "add bob");
	tap_ok(pht_trust_count(t) == 2, "count 2");
	tap_ok(pht_trust_find(t, fpa, &name) != NULL && strcmp(name, "alice") == 0,
	    "find alice by fingerprint");
	tap_ok(pht_trust_find(t, fpb, &name) != NULL && strcmp(name, "bob") == 0,
	    "find bob by fingerprint");
	tap_ok(!pht_key_has_private(pht_trust_find(t, fpa, NULL)),
	    "the set keeps public keys only");
	tap_ok(pht_trust_get(t, 1, &name, &fp) != NULL && strcmp(name, "bob") == 0 &&
	    strcmp(fp, fpb) == 0, "get(1) is bob, in insertion order");
	tap_ok(pht_trust_get(t, 2, &name, &fp) == NULL, "get past the end is NULL");
	c0 = fpa[0];
	fpa[0] = c0 == '0' ? '1' : '0';
	tap_ok(pht_trust_find(t, fpa, NULL) == NULL, "a different fingerprint is not found");
	fpa[0] = c0;

	pht_err_clear(&e);
	tap_ok(pht_trust_add(t, "alice", s, &e) == PHT_ERR_INVALID, "sealing key refused");
	tap_str(e.msg, "alice: not an Ed25519 signing key", "  detail");
	tap_ok(pht_trust_add(t, "alice", b, &e) == PHT_ERR_INVALID, "used name refused");
	tap_str(e.msg, "alice: name already trusted", "  detail");
	tap_ok(pht_trust_add(t, "carol", a, &e) == PHT_ERR_INVALID,
	    "same key under a second name refused");
	tap_ok(strstr(e.msg, "is already trusted as alice") != NULL &&
	    strstr(e.msg, fpa) != NULL, "  detail names the fingerprint and the holder");
	tap_ok(pht_trust_add(t, "bad/name", a, &e) == PHT_ERR_INVALID, "bad name refused");
	tap_str(e.msg, "bad signer name \"bad/name\"", "  detail");
	tap_ok(pht_trust_count(t) == 2, "refusals leave the set unchanged");
	pht_trust_free(t);
	pht_trust_free(NULL);
	pht_key_free(a);
	pht_key_free(b);
	pht_key_free(s);
}

static void
test_load(const char *dir)
{
	char fpa[65], fpb[65], fpc[65], *sub, *p, *pem;
	struct pht_key *c = NULL;
	struct pht_trust *t;
	const char *name;
	struct pht_err e;

	sub = pht_path_join(dir, "trusted");
	tap_ok(pht_key_generate_files(sub, "alice", fpa, NULL, &e) == PHT_OK &&
	    pht_key_generate_files(sub, "bob", fpb, NULL, &e) == PHT_OK,
	    "keygen two parties into one directory");
	/* a plain NAME.pub, a hidden file and a non-.pub file */
	pht_key_generate(PHT_KEY_SIGN, &c, &e);
	pht_key_fingerprint(c, fpc, &e);
	p = pht_path_join(sub, "carol.pub");
	pht_key_write_public(c, p, &e);
	free(p);
	free(write_file(sub, ".hidden.pub", "junk", 4));
	free(write_file(sub, "README", "not a key", 9));

	t = pht_trust_new();
	tap_ok(pht_trust_load(t, sub, &e) == PHT_OK, "load a directory");
	tap_ok(pht_trust_count(t) == 3,
	    "  3 signing keys: .seal.pub, hidden and non-.pub files skipped");
	tap_ok(pht_trust_find(t, fpa, &name) != NULL && strcmp(name, "alice") == 0,
	    "  alice.sign.pub is named alice");
	tap_ok(pht_trust_find(t, fpc, &name) != NULL && strcmp(name, "carol") == 0,
	    "  carol.pub is named carol");
	tap_ok(pht_trust_get(t, 0, &name, NULL) != NULL && strcmp(name, "alice") == 0 &&
	    pht_trust_get(t, 2, &name, NULL) != NULL && strcmp(name, "carol") == 0,
	    "  loaded in file-name order");
	pht_trust_free(t);

	t = pht_trust_new();
	p = pht_path_join(sub, "bob.sign.pub");
	tap_ok(pht_trust_load(t, p, &e) == PHT_OK && pht_trust_count(t) == 1 &&
	    pht_trust_find(t, fpb, &name) != NULL && strcmp(name, "bob") == 0,
	    "load one file: bob");
	free(p);
	/* loading the same key again under the same name */
	p = pht_path_join(sub, "bob.sign.pub");
	pht_err_clear(&e);
	tap_ok(pht_trust_load(t, p, &e) == PHT_ERR_INVALID, "loading bob twice refused");
	tap_ok(strstr(e.msg, "bob.sign.pub: bob: name already trusted") != NULL,
	    "  detail names the file");
	free(p);
	pht_trust_free(t);

	/* a private key file in the trust directory */
	t = pht_trust_new();
	p = pht_path_join(sub, "alice.sign.key");
	pht_err_clear(&e);
	tap_ok(pht_trust_load(t, p, &e) == PHT_ERR_INVALID, "a private key file refused");
	tap_ok(strstr(e.msg, "alice.sign.key: is a private key; trust the public (.pub) "
	    "file") != NULL, "  detail");
	free(p);
	/* an X25519 public key under a plain .pub name */
	p = pht_path_join(sub, "alice.seal.pub");
	tap_ok(pht_trust_load(t, p, &e) == PHT_ERR_INVALID, "an X25519 key file refused");
	tap_ok(strstr(e.msg, "alice.seal.pub: not an Ed25519 signing key") != NULL,
	    "  detail");
	free(p);
	p = pht_path_join(dir, "nonexistent");
	tap_ok(pht_trust_load(t, p, &e) == PHT_ERR_IO, "missing path refused");
	tap_ok(strstr(e.msg, "nonexistent: No such file or directory") != NULL, "  detail");
	free(p);
	pht_trust_free(t);

	/* garbage .pub in the directory: the load fails naming the file */
	free(write_file(sub, "dave.pub", "garbage", 7));
	t = pht_trust_new();
	pht_err_clear(&e);
	tap_ok(pht_trust_load(t, sub, &e) == PHT_ERR_MALFORMED,
	    "a directory with a broken .pub refused");
	tap_ok(strstr(e.msg, "dave.pub: not a PEM private or public key") != NULL,
	    "  detail names the broken file");
	pht_trust_free(t);
	p = pht_path_join(sub, "dave.pub");
	unlink(p);
	free(p);

	/* two files that map to the same name */
	pht_key_public_pem(c, &pem, NULL, &e);
	free(write_file(sub, "alice.pub", pem, strlen(pem)));
	free(pem);
	t = pht_trust_new();
	tap_ok(pht_trust_load(t, sub, &e) == PHT_ERR_INVALID,
	    "alice.pub beside alice.sign.pub refused");
	tap_ok(strstr(e.msg, "name already trusted") != NULL, "  detail: %s", e.msg);
	pht_trust_free(t);
	p = pht_path_join(sub, "alice.pub");
	unlink(p);
	free(p);

	/* a file whose stem is not a valid name */
	pht_key_public_pem(c, &pem, NULL, &e);
	free(write_file(dir, "bad name.pub", pem, strlen(pem)));
	free(write_file(dir, ".pub", pem, strlen(pem)));
	free(pem);
	t = pht_trust_new();
	p = pht_path_join(dir, "bad name.pub");
	tap_ok(pht_trust_load(t, p, &e) == PHT_ERR_INVALID, "bad file stem refused");
	tap_ok(strstr(e.msg, "\"bad name\" is not a valid signer name") != NULL, "  detail");
	free(p);
	p = pht_path_join(dir, ".pub");
	tap_ok(pht_trust_load(t, p, &e) == PHT_ERR_INVALID, "empty file stem refused");
	tap_ok(strstr(e.msg, "cannot name a signer after this file name") != NULL,
	    "  detail");
	free(p);
	pht_trust_free(t);

	/* an empty directory loads nothing and is not an error here */
	p = pht_path_join(dir, "empty");
	mkdir(p, 0700);
	t = pht_trust_new();
	tap_ok(pht_trust_load(t, p, &e) == PHT_OK && pht_trust_count(t) == 0,
	    "an empty directory gives an empty set");
	pht_trust_free(t);
	free(p);
	pht_key_free(c);
	free(sub);
}

int
main(void)
{
	char *dir = make_tmpdir();

	test_add();
	test_load(dir);
	rm_tree(dir);
	return tap_done();
}
