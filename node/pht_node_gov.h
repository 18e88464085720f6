/* pht_node_gov.h — what the node checks before it relays a revocation list or halt order. */
#ifndef PHT_NODE_GOV_H
#define PHT_NODE_GOV_H

#include <stddef.h>
#include <stdint.h>

struct pht_err;
struct pht_trust;

/* The two kinds of governance documents the node relays. */
enum pht_node_gov_kind {
	PHT_NODE_GOV_REVOCATIONS = 1,   /* /v1/revocations */
	PHT_NODE_GOV_HALTS = 2,         /* /v1/halts */
};

/* The store's name of a kind ("revocations", "halts"). */
const char *pht_node_gov_kind_name(enum pht_node_gov_kind kind);

#define PHT_NODE_GOV_KEY_MAX 256

/*
 * Checks len bytes of envelope text posted for kind: a signed envelope
 * (pht_envelope.h) whose signer is one of the configured permit
 * authorities (PHT_ERR_UNKNOWN_SIGNER, PHT_ERR_BAD_SIGNATURE otherwise)
 * and whose payload is a revocation list (kind REVOCATIONS) or halt order
 * (kind HALTS) that parses strictly (PHT_ERR_MALFORMED naming the field).
 * The node relays only what it can check, so that nobody but an authority
 * can displace an authority's latest document (stations check again).
 * On success key (PHT_NODE_GOV_KEY_MAX bytes) receives what the document
 * replaces (the authority's fingerprint; for halt orders followed by a
 * space and the scope) and *rank its order (the list's seq; the order's
 * issue time).
 */
int pht_node_gov_check(const struct pht_trust *authorities,
    enum pht_node_gov_kind kind, const char *env, size_t len,
    char key[PHT_NODE_GOV_KEY_MAX], int64_t *rank, struct pht_err *err);

#endif
