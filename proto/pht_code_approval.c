/* pht_code_approval.c — code approvals: reviewers' signed lists of train code hashes. */
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

struct pht_code_approval {
	json_t *root;
};

int
pht_code_approval_parse(const uint8_t *payload, size_t len,
    struct pht_code_approval **out, struct pht_err *err)
{
	static const char *const known[] = {"kind", "issued", "code_sha256", "note",
	    NULL};
	const char *W = "code approval", *note;
	struct pht_code_approval *a = NULL;
	int64_t t;
	int r;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = pht_permit_parse_root(payload, len, W, &a->root, err)) != PHT_OK ||
	    (r = pht_json_only_known(a->root, W, known, err)) != PHT_OK ||
	    (r = pht_json_field_kind(a->root, W, PHT_CODE_APPROVAL_KIND, err)) != PHT_OK ||
	    (r = pht_json_field_time(a->root, W, "issued", 0, &t, err)) != PHT_OK ||
	    (r = pht_permit_check_list(json_object_get(a->root, "code_sha256"), W,
	    "code_sha256", 1, PHT_PERMIT_MAX_CODES, PHT_PERMIT_ITEM_HEX64,
	    err)) != PHT_OK ||
	    (r = pht_json_field_str(a->root, W, "note", 1, &note, NULL, err)) != PHT_OK)
		goto out;
	if (note != NULL && (strlen(note) == 0 || strlen(note) > PHT_PERMIT_MAX_REASON)) {
		r = pht_json_bad(err, W, "note", "not 1 to 1024 bytes");
		goto out;
	}
	*out = a;
	a = NULL; /* transferred */
out:
	pht_code_approval_free(a);
	return r;
}

void
pht_code_approval_free(struct pht_code_approval *a)
{
	if (a == NULL)
		return;
	json_decref(a->root);
	free(a);
}

int
pht_code_approval_has(const struct pht_code_approval *a, const char *code_sha256)
{
	return code_sha256 != NULL &&
	    pht_permit_list_has(json_object_get(a->root, "code_sha256"), code_sha256);
}

const json_t *
pht_code_approval_json(const struct pht_code_approval *a)
{
	return a->root;
}

static int
check_code_approval(const char *text, size_t len, struct pht_err *err)
{
	struct pht_code_approval *a = NULL;
	int r = pht_code_approval_parse((const uint8_t *)text, len, &a, err);

	pht_code_approval_free(a);
	return r;
}

int
pht_code_approval_build(int64_t issued, const char *const *hashes, size_t n,
    const char *note, char **out, size_t *outlen, struct pht_err *err)
{
	json_t *obj = NULL;
	int r;

	if ((r = pht_permit_start_build(PHT_CODE_APPROVAL_KIND, &obj, out, outlen,
	    err)) != PHT_OK)
		goto out;
	if ((r = pht_permit_set_time(obj, "code approval", "issued", issued, err)) != PHT_OK ||
	    (r = pht_json_set_strings(obj, "code approval", "code_sha256", hashes, n,
	    err)) != PHT_OK ||
	    (note != NULL && (r = pht_permit_set_string(obj, "code approval", "note", note,
	    err)) != PHT_OK))
		goto out;
	r = pht_permit_finish_build(obj, check_code_approval, out, outlen, err);
out:
	json_decref(obj);
	return r;
}
