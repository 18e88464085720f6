/* cmd_permit_files.c — signed governance files the commands read: permits, code approvals, orders. */
#include "cmd_permit.h"
#include "pht_cli.h"

#include "pht_buf.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_hash.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_permit.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"

#include <stdio.h>
#include <string.h>

int
pht_cli_read_permit(const char *path, struct pht_buf **text,
    struct pht_permit **permit, struct pht_err *err)
{
	struct pht_envelope *env = NULL;
	const uint8_t *pl;
	size_t pn;
	int r;

	*text = NULL;
	*permit = NULL;
	if ((r = pht_file_read(path, PHT_TRAINMSG_MAX_PERMIT, text, err)) == PHT_OK &&
	    (r = pht_envelope_parse(pht_buf_str(*text), pht_buf_len(*text), &env,
	    err)) == PHT_OK) {
		pl = pht_envelope_payload(env, &pn);
		r = pht_permit_parse(pl, pn, permit, err);
	}
	pht_envelope_free(env);
	if (r != PHT_OK) {
		pht_err_prefix(err, "--permit-file");
		pht_buf_free(*text);
		*text = NULL;
	}
	return r;
}

int
pht_cli_load_approval(const char *cmd, const char *path, const char *code,
    size_t len, struct pht_buf **out)
{
	struct pht_envelope *env = NULL;
	struct pht_code_approval *a = NULL;
	struct pht_buf *b = NULL;
	struct pht_err err;
	const uint8_t *pl;
	char hex[PHT_SHA256_HEX_LEN + 1];
	size_t pn;
	int r, ex;

	*out = NULL;
	pht_err_clear(&err);
	if ((r = pht_file_read(path, PHT_TRAINMSG_MAX_PERMIT, &b, &err)) == PHT_OK &&
	    (r = pht_envelope_parse(pht_buf_str(b), pht_buf_len(b), &env,
	    &err)) == PHT_OK) {
		pl = pht_envelope_payload(env, &pn);
		r = pht_code_approval_parse(pl, pn, &a, &err);
	}
	if (r != PHT_OK) {
		pht_err_prefix(&err, "--approval");
		pht_cli_error(cmd, &err);
		ex = pht_cli_exit_for(r);
		goto out;
	}
	if (pht_sha256_hex(code, len, hex, &err) != PHT_OK) {
		pht_cli_error(cmd, &err);
		ex = PHT_EXIT_FAIL;
		goto out;
	}
	if (!pht_code_approval_has(a, hex)) {
		ex = pht_cli_usage_error(cmd, "--approval %s does not list this train's "
		    "code (sha256 %s)", path, hex);
		goto out;
	}
	*out = b;
	b = NULL; /* transferred */
	ex = PHT_EXIT_OK;
out:
	pht_code_approval_free(a);
	pht_envelope_free(env);
	pht_buf_free(b);
	return ex;
}

void
pht_cli_signed_clear(struct pht_cli_signed *p)
{
	pht_permit_free(p->permit);
	pht_revocations_free(p->rev);
	pht_halt_free(p->halt);
	pht_code_approval_free(p->approval);
	memset(p, 0, sizeof(*p));
}

int
pht_cli_signed_load(const char *path, const struct pht_trust *trust,
    struct pht_cli_signed *p, char fp[PHT_KEY_FP_LEN + 1],
    char name[PHT_KEY_NAME_MAX + 1], struct pht_err *err)
{
	struct pht_buf *b = NULL;
	struct pht_envelope *e = NULL;
	struct pht_err e2;
	const uint8_t *pl;
	json_t *v = NULL;
	const char *kind;
	size_t plen;
	int r;

	memset(p, 0, sizeof(*p));
	if ((r = pht_file_read(path, PHT_ENVELOPE_MAX, &b, err)) != PHT_OK)
		return r;
	r = trust != NULL ? pht_envelope_open(pht_buf_str(b), pht_buf_len(b), trust, &e,
	    err) : pht_envelope_parse(pht_buf_str(b), pht_buf_len(b), &e, err);
	if (r != PHT_OK) {
		pht_err_prefix(err, "%s", path);
		goto out;
	}
	snprintf(fp, PHT_KEY_FP_LEN + 1, "%s", pht_envelope_signer_fp(e));
	snprintf(name, PHT_KEY_NAME_MAX + 1, "%s", pht_envelope_signer_name(e) != NULL ?
	    pht_envelope_signer_name(e) : "");
	pl = pht_envelope_payload(e, &plen);
	/* the kind only picks the parser; the parser checks it again strictly */
	kind = pht_json_parse((const char *)pl, plen, "payload", &v, &e2) == PHT_OK ?
	    json_string_value(json_object_get(v, "kind")) : NULL;
	if (kind != NULL && strcmp(kind, PHT_REVOCATIONS_KIND) == 0)
		r = pht_revocations_parse(pl, plen, &p->rev, err);
	else if (kind != NULL && strcmp(kind, PHT_HALT_KIND) == 0)
		r = pht_halt_parse(pl, plen, &p->halt, err);
	else if (kind != NULL && strcmp(kind, PHT_CODE_APPROVAL_KIND) == 0)
		r = pht_code_approval_parse(pl, plen, &p->approval, err);
	else
		r = pht_permit_parse(pl, plen, &p->permit, err);
	if (r != PHT_OK)
		pht_err_prefix(err, "%s", path);
out:
	json_decref(v);
	pht_envelope_free(e);
	pht_buf_free(b);
	return r;
}
