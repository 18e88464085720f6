/* pht_halt.c — halt orders: building, strict parsing, what they cover. */
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

struct pht_halt {
	json_t *root;
	const char *scope, *reason;
	char *name;                 /* after the "permit:"/"dataset:" prefix */
	enum pht_halt_scope kind;
	int64_t issued, until;
};

static int
halt_fields(struct pht_halt *h, struct pht_err *err)
{
	static const char *const known[] = {"kind", "scope", "issued", "until",
	    "reason", NULL};
	const char *W = "halt", *name = NULL;
	int r;

	if ((r = pht_json_only_known(h->root, W, known, err)) != PHT_OK ||
	    (r = pht_json_field_kind(h->root, W, PHT_HALT_KIND, err)) != PHT_OK ||
	    (r = pht_json_field_str(h->root, W, "scope", 0, &h->scope, NULL, err)) != PHT_OK)
		return r;
	if (strcmp(h->scope, "all") == 0) {
		h->kind = PHT_HALT_ALL;
	} else if (strncmp(h->scope, "permit:", 7) == 0) {
		h->kind = PHT_HALT_PERMIT;
		name = h->scope + 7;
		if (!pht_id_ok(name))
			return pht_json_bad(err, W, "scope", "permit id is not 1 to 128 of "
			    "[A-Za-z0-9_.-]");
	} else if (strncmp(h->scope, "dataset:", 8) == 0) {
		h->kind = PHT_HALT_DATASET;
		name = h->scope + 8;
		if (!pht_name_ok(name))
			return pht_json_bad(err, W, "scope", "dataset name is not 1 to 64 of "
			    "[A-Za-z0-9_.-]");
	} else {
		return pht_json_bad(err, W, "scope", "not \"all\", \"permit:ID\" or "
		    "\"dataset:NAME\"");
	}
	if (name != NULL && (h->name = strdup(name)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = pht_json_field_time(h->root, W, "issued", 0, &h->issued, err)) != PHT_OK ||
	    (r = pht_json_field_time(h->root, W, "until", 1, &h->until, err)) != PHT_OK)
		return r;
	if (json_object_get(h->root, "until") != NULL && h->until < h->issued)
		return pht_json_bad(err, W, "until", "before issued");
	if ((r = pht_json_field_str(h->root, W, "reason", 1, &h->reason, NULL, err)) != PHT_OK)
		return r;
	if (h->reason != NULL && (strlen(h->reason) == 0 ||
	    strlen(h->reason) > PHT_PERMIT_MAX_REASON))
		return pht_json_bad(err, W, "reason", "not 1 to 1024 bytes");
	return PHT_OK;
}

int
pht_halt_parse(const uint8_t *payload, size_t len, struct pht_halt **out,
    struct pht_err *err)
{
	struct pht_halt *h = NULL;
	int r;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = pht_permit_parse_root(payload, len, "halt", &h->root, err)) != PHT_OK ||
	    (r = halt_fields(h, err)) != PHT_OK)
		goto out;
	*out = h;
	h = NULL; /* transferred */
out:
	pht_halt_free(h);
	return r;
}

void
pht_halt_free(struct pht_halt *h)
{
	if (h == NULL)
		return;
	free(h->name);
	json_decref(h->root);
	free(h);
}

const char *pht_halt_scope(const struct pht_halt *h) { return h->scope; }
enum pht_halt_scope pht_halt_scope_kind(const struct pht_halt *h) { return h->kind; }
const char *pht_halt_scope_name(const struct pht_halt *h) { return h->name; }
int64_t pht_halt_issued(const struct pht_halt *h) { return h->issued; }
int64_t pht_halt_until(const struct pht_halt *h) { return h->until; }
const char *pht_halt_reason(const struct pht_halt *h) { return h->reason; }

int
pht_halt_in_force(const struct pht_halt *h, int64_t now)
{
	if (now < h->issued)
		return 0;
	return json_object_get(h->root, "until") == NULL || now < h->until;
}

int
pht_halt_covers(const struct pht_halt *h, const char *permit_id,
    const char *dataset)
{
	switch (h->kind) {
	case PHT_HALT_ALL:
		return 1;
	case PHT_HALT_PERMIT:
		return permit_id != NULL && strcmp(permit_id, h->name) == 0;
	case PHT_HALT_DATASET:
		return dataset != NULL && strcmp(dataset, h->name) == 0;
	}
	return 0;
}

static int
check_halt(const char *text, size_t len, struct pht_err *err)
{
	struct pht_halt *h = NULL;
	int r = pht_halt_parse((const uint8_t *)text, len, &h, err);

	pht_halt_free(h);
	return r;
}

int
pht_halt_build(const char *scope, int64_t issued, int64_t until,
    const char *reason, char **out, size_t *outlen, struct pht_err *err)
{
	json_t *obj = NULL;
	int r;

	if ((r = pht_permit_start_build(PHT_HALT_KIND, &obj, out, outlen,
	    err)) != PHT_OK)
		goto out;
	if ((r = pht_permit_set_string(obj, "halt", "scope", scope, err)) != PHT_OK ||
	    (r = pht_permit_set_time(obj, "halt", "issued", issued, err)) != PHT_OK ||
	    (until != 0 &&
	    (r = pht_permit_set_time(obj, "halt", "until", until, err)) != PHT_OK) ||
	    (reason != NULL && (r = pht_permit_set_string(obj, "halt", "reason", reason,
	    err)) != PHT_OK))
		goto out;
	r = pht_permit_finish_build(obj, check_halt, out, outlen, err);
out:
	json_decref(obj);
	return r;
}
