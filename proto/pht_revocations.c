/* pht_revocations.c — revocation lists: building, strict parsing, lookup. */
#include "pht_permit.h"
#include "pht_enc.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_permit_fields.h"
#include "pht_time.h"
#include "pht_trust.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pht_revocations {
	json_t *root;
	const char **ids;
	size_t n;
	int64_t seq, issued;
};

static int
revocations_fields(struct pht_revocations *rv, struct pht_err *err)
{
	static const char *const known[] = {"kind", "seq", "issued", "revoked", NULL};
	const char *W = "revocations";
	json_t *a;
	size_t i;
	int r;

	if ((r = pht_json_only_known(rv->root, W, known, err)) != PHT_OK ||
	    (r = pht_json_field_kind(rv->root, W, PHT_REVOCATIONS_KIND, err)) != PHT_OK ||
	    (r = pht_json_field_int(rv->root, W, "seq", 0, 1, PHT_REVOCATIONS_MAX_SEQ, &rv->seq,
	    err)) != PHT_OK ||
	    (r = pht_json_field_time(rv->root, W, "issued", 0, &rv->issued, err)) != PHT_OK)
		return r;
	a = json_object_get(rv->root, "revoked");
	if ((r = pht_permit_check_list(a, W, "revoked", 0, PHT_REVOCATIONS_MAX_IDS,
	    PHT_PERMIT_ITEM_ID, err)) != PHT_OK)
		return r;
	rv->n = json_array_size(a);
	if ((rv->ids = calloc(rv->n + 1, sizeof(*rv->ids))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (i = 0; i < rv->n; i++)
		rv->ids[i] = json_string_value(json_array_get(a, i));
	qsort(rv->ids, rv->n, sizeof(*rv->ids), pht_permit_str_cmp);
	return PHT_OK;
}

int
pht_revocations_parse(const uint8_t *payload, size_t len,
    struct pht_revocations **out, struct pht_err *err)
{
	struct pht_revocations *rv = NULL;
	int r;

	*out = NULL;
	if ((rv = calloc(1, sizeof(*rv))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = pht_permit_parse_root(payload, len, "revocations", &rv->root, err)) != PHT_OK ||
	    (r = revocations_fields(rv, err)) != PHT_OK)
		goto out;
	*out = rv;
	rv = NULL; /* transferred */
out:
	pht_revocations_free(rv);
	return r;
}

void
pht_revocations_free(struct pht_revocations *rv)
{
	if (rv == NULL)
		return;
	free(rv->ids);
	json_decref(rv->root);
	free(rv);
}

int64_t pht_revocations_seq(const struct pht_revocations *rv) { return rv->seq; }
int64_t pht_revocations_issued(const struct pht_revocations *rv) { return rv->issued; }
size_t pht_revocations_count(const struct pht_revocations *rv) { return rv->n; }

const char *
pht_revocations_id(const struct pht_revocations *rv, size_t i)
{
	return i < rv->n ? rv->ids[i] : NULL;
}

int
pht_revocations_has(const struct pht_revocations *rv, const char *permit_id)
{
	return permit_id != NULL && bsearch(&permit_id, rv->ids, rv->n,
	    sizeof(*rv->ids), pht_permit_str_cmp) != NULL;
}

static int
check_revocations(const char *text, size_t len, struct pht_err *err)
{
	struct pht_revocations *rv = NULL;
	int r = pht_revocations_parse((const uint8_t *)text, len, &rv, err);

	pht_revocations_free(rv);
	return r;
}

int
pht_revocations_build(int64_t seq, int64_t issued, const char *const *ids,
    size_t n, char **out, size_t *outlen, struct pht_err *err)
{
	json_t *obj = NULL;
	int r;

	if ((r = pht_permit_start_build(PHT_REVOCATIONS_KIND, &obj, out, outlen,
	    err)) != PHT_OK)
		goto out;
	if (json_object_set_new(obj, "seq", json_integer((json_int_t)seq)) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_permit_set_time(obj, "revocations", "issued", issued, err)) != PHT_OK ||
	    (r = pht_json_set_strings(obj, "revocations", "revoked", ids, n, err)) != PHT_OK)
		goto out;
	r = pht_permit_finish_build(obj, check_revocations, out, outlen, err);
out:
	json_decref(obj);
	return r;
}
