/* pht_node_gov.c — verifying revocation lists and halt orders posted to the node. */
#include "pht_node_gov.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_permit.h"
#include "pht_trust.h"

#include <stdio.h>

const char *
pht_node_gov_kind_name(enum pht_node_gov_kind kind)
{
	return kind == PHT_NODE_GOV_REVOCATIONS ? "revocations" : "halts";
}

int
pht_node_gov_check(const struct pht_trust *authorities,
    enum pht_node_gov_kind kind, const char *env, size_t len,
    char key[PHT_NODE_GOV_KEY_MAX], int64_t *rank, struct pht_err *err)
{
	struct pht_envelope *e = NULL;
	struct pht_revocations *rv = NULL;
	struct pht_halt *h = NULL;
	const uint8_t *pl;
	size_t plen;
	int r;

	key[0] = '\0';
	*rank = 0;
	if (authorities == NULL || pht_trust_count(authorities) == 0)
		return pht_errf(err, PHT_ERR_DENIED, "this node relays no %s: no "
		    "permit authority is configured (NODE.json permit_authorities)",
		    pht_node_gov_kind_name(kind));
	if ((r = pht_envelope_open(env, len, authorities, &e, err)) != PHT_OK)
		goto out;
	pl = pht_envelope_payload(e, &plen);
	if (kind == PHT_NODE_GOV_REVOCATIONS) {
		if ((r = pht_revocations_parse(pl, plen, &rv, err)) != PHT_OK)
			goto out;
		snprintf(key, PHT_NODE_GOV_KEY_MAX, "%s", pht_envelope_signer_fp(e));
		*rank = pht_revocations_seq(rv);
	} else {
		if ((r = pht_halt_parse(pl, plen, &h, err)) != PHT_OK)
			goto out;
		snprintf(key, PHT_NODE_GOV_KEY_MAX, "%s %s", pht_envelope_signer_fp(e),
		    pht_halt_scope(h));
		*rank = pht_halt_issued(h);
	}
out:
	pht_revocations_free(rv);
	pht_halt_free(h);
	pht_envelope_free(e);
	return r;
}
