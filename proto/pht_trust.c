/* pht_trust.c — trusted signing keys by fingerprint, loaded from files or a directory. */
#include "pht_trust.h"
#include "pht_err.h"
#include "pht_file.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct trust_entry {
	char name[PHT_KEY_NAME_MAX + 1];
	char fp[PHT_KEY_FP_LEN + 1];
	struct pht_key *key;    /* public only */
};

/* Invariant: names and fingerprints are unique among entries[0..n). */
struct pht_trust {
	struct trust_entry *entries;
	size_t n, cap;
};

struct pht_trust *
pht_trust_new(void)
{
	return calloc(1, sizeof(struct pht_trust));
}

void
pht_trust_free(struct pht_trust *trust)
{
	size_t i;

	if (trust == NULL)
		return;
	for (i = 0; i < trust->n; i++)
		pht_key_free(trust->entries[i].key);
	free(trust->entries);
	free(trust);
}

static const struct trust_entry *
find_name(const struct pht_trust *trust, const char *name)
{
	size_t i;

	for (i = 0; i < trust->n; i++)
		if (strcmp(trust->entries[i].name, name) == 0)
			return &trust->entries[i];
	return NULL;
}

static const struct trust_entry *
find_fp(const struct pht_trust *trust, const char *fp)
{
	size_t i;

	for (i = 0; i < trust->n; i++)
		if (strcmp(trust->entries[i].fp, fp) == 0)
			return &trust->entries[i];
	return NULL;
}

int
pht_trust_add(struct pht_trust *trust, const char *name,
    const struct pht_key *key, struct pht_err *err)
{
	const struct trust_entry *dup;
	struct trust_entry *e, *ne;
	char fp[PHT_KEY_FP_LEN + 1];
	size_t ncap;
	int r;

	if (!pht_key_name_ok(name))
		return pht_errf(err, PHT_ERR_INVALID, "bad signer name \"%.*s\"",
		    PHT_KEY_NAME_MAX, name);
	if (pht_key_type(key) != PHT_KEY_SIGN)
		return pht_errf(err, PHT_ERR_INVALID,
		    "%s: not an Ed25519 signing key", name);
	if ((r = pht_key_fingerprint(key, fp, err)) != PHT_OK)
		return r;
	if (find_name(trust, name) != NULL)
		return pht_errf(err, PHT_ERR_INVALID, "%s: name already trusted", name);
	if ((dup = find_fp(trust, fp)) != NULL)
		return pht_errf(err, PHT_ERR_INVALID,
		    "%s: key %s is already trusted as %s", name, fp, dup->name);
	if (trust->n >= PHT_TRUST_MAX_KEYS)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "more than %d trusted keys",
		    PHT_TRUST_MAX_KEYS);
	if (trust->n == trust->cap) {
		ncap = trust->cap == 0 ? 8 : trust->cap * 2;
		if ((ne = realloc(trust->entries, ncap * sizeof(*ne))) == NULL)
			return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		trust->entries = ne;
		trust->cap = ncap;
	}
	e = &trust->entries[trust->n];
	memset(e, 0, sizeof(*e));
	if ((e->key = pht_key_public_copy(key)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	memcpy(e->name, name, strlen(name) + 1);
	memcpy(e->fp, fp, sizeof(fp));
	trust->n++;
	return PHT_OK;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The trust name of a key file: base name minus ".sign.pub" or ".pub". */
static int
stem_of(const char *path, char name[PHT_KEY_NAME_MAX + 1], struct pht_err *err)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (ends_with(base, PHT_KEY_SIGN_PUB_SUFFIX))
		n -= strlen(PHT_KEY_SIGN_PUB_SUFFIX);
	else if (ends_with(base, ".pub"))
		n -= strlen(".pub");
	if (n == 0 || n > PHT_KEY_NAME_MAX)
		return pht_errf(err, PHT_ERR_INVALID,
		    "%s: cannot name a signer after this file name", path);
	memcpy(name, base, n);
	name[n] = '\0';
	if (!pht_key_name_ok(name))
		return pht_errf(err, PHT_ERR_INVALID,
		    "%s: \"%s\" is not a valid signer name", path, name);
	return PHT_OK;
}

static int
load_file(struct pht_trust *trust, const char *path, struct pht_err *err)
{
	char name[PHT_KEY_NAME_MAX + 1];
	struct pht_key *k = NULL;
	int r;

	if ((r = stem_of(path, name, err)) != PHT_OK)
		return r;
	if ((r = pht_key_load(path, &k, err)) != PHT_OK)
		return r;
	if (pht_key_type(k) != PHT_KEY_SIGN)
		r = pht_errf(err, PHT_ERR_INVALID, "%s: not an Ed25519 signing key", path);
	else if (pht_key_has_private(k))
		r = pht_errf(err, PHT_ERR_INVALID,
		    "%s: is a private key; trust the public (.pub) file", path);
	else if ((r = pht_trust_add(trust, name, k, err)) != PHT_OK)
		pht_err_prefix(err, "%s", path);
	pht_key_free(k);
	return r;
}

static int
select_pub(const struct dirent *d)
{
	return d->d_name[0] != '.' && ends_with(d->d_name, ".pub") &&
	    !ends_with(d->d_name, PHT_KEY_SEAL_PUB_SUFFIX);
}

static int
load_dir(struct pht_trust *trust, const char *dir, struct pht_err *err)
{
	struct dirent **ents = NULL;
	struct stat st;
	char *path;
	int i, n, r = PHT_OK;

	if ((n = scandir(dir, &ents, select_pub, alphasort)) < 0)
		return pht_errf(err, PHT_ERR_IO, "%s: %s", dir, strerror(errno));
	for (i = 0; i < n && r == PHT_OK; i++) {
		if ((path = pht_path_join(dir, ents[i]->d_name)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			break;
		}
		if (stat(path, &st) != 0)
			r = pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
		else if (S_ISREG(st.st_mode))
			r = load_file(trust, path, err);
		free(path);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return r;
}

int
pht_trust_load(struct pht_trust *trust, const char *path, struct pht_err *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return load_dir(trust, path, err);
	return load_file(trust, path, err);
}

size_t
pht_trust_count(const struct pht_trust *trust)
{
	return trust->n;
}

const struct pht_key *
pht_trust_get(const struct pht_trust *trust, size_t i, const char **name,
    const char **fp)
{
	if (i >= trust->n)
		return NULL;
	if (name != NULL)
		*name = trust->entries[i].name;
	if (fp != NULL)
		*fp = trust->entries[i].fp;
	return trust->entries[i].key;
}

const struct pht_key *
pht_trust_find(const struct pht_trust *trust, const char *fp, const char **name)
{
	const struct trust_entry *e = find_fp(trust, fp);

	if (e == NULL)
		return NULL;
	if (name != NULL)
		*name = e->name;
	return e->key;
}
