/* pht_trust.h — a set of trusted Ed25519 public signing keys, each with a name. */
#ifndef PHT_TRUST_H
#define PHT_TRUST_H

#include <stddef.h>

#include "pht_key.h"

struct pht_err;

/*
 * A trust set maps fingerprints (pht_key.h) to named public signing keys.
 * Names and fingerprints are unique within a set. Keys are copied in as
 * public keys only. Later layers (station policy: auto/review per signer)
 * keep their own per-name data and use the name as the link.
 */
struct pht_trust;

#define PHT_TRUST_MAX_KEYS 4096

/* New empty set. NULL on OOM. */
struct pht_trust *pht_trust_new(void);

/* Frees the set and its keys; accepts NULL. */
void pht_trust_free(struct pht_trust *trust);

/*
 * Adds the public part of key under name (pht_key_name_ok). PHT_ERR_INVALID
 * if the key is not a signing key, the name is bad or already used, or the
 * key is already trusted under another name (detail says which);
 * PHT_ERR_TOO_LARGE past PHT_TRUST_MAX_KEYS.
 */
int pht_trust_add(struct pht_trust *trust, const char *name,
    const struct pht_key *key, struct pht_err *err);

/*
 * Loads public signing keys from path:
 *  - a file: one PEM public Ed25519 key; its name is the file name without
 *    a trailing ".sign.pub" or ".pub" (and without directories);
 *  - a directory: every regular "*.pub" file in it (not recursing, hidden
 *    files skipped), in name order, named the same way. Files ending in
 *    ".seal.pub" are X25519 result keys written by `pht keygen` beside the
 *    signing key and are skipped.
 * Every loaded file must be a public Ed25519 key (a private key is refused:
 * trust the .pub file). Errors name the file. On failure the set keeps the
 * keys added before the failing file.
 */
int pht_trust_load(struct pht_trust *trust, const char *path,
    struct pht_err *err);

/* Number of keys in the set. */
size_t pht_trust_count(const struct pht_trust *trust);

/*
 * The i-th key (0 <= i < count, in insertion order); *name (if not NULL)
 * gets its name, *fp (if not NULL) its fingerprint. Borrowed from the set,
 * valid until the set is changed or freed. NULL if i is out of range.
 */
const struct pht_key *pht_trust_get(const struct pht_trust *trust, size_t i,
    const char **name, const char **fp);

/*
 * Looks up a fingerprint (64 lower-case hex digits). Returns the key and
 * sets *name (if not NULL), both borrowed from the set and valid until it
 * is changed or freed; NULL if not trusted.
 */
const struct pht_key *pht_trust_find(const struct pht_trust *trust,
    const char *fp, const char **name);

#endif
