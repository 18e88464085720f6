/* pht_resultmsg.c — building and validating result payloads. */
#include "pht_resultmsg.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_time.h"

#include <stdlib.h>
#include <string.h>

/* Invariant: every string borrows from root; sealed is separately allocated. */
struct pht_resultmsg {
	json_t *root;
	const char *train, *station, *status, *log_hash, *error, *reason;
	int64_t round, issued;
	uint64_t log_seq;
	uint8_t *sealed;
	size_t sealed_len;
};

static const char *const known[] = {
	"kind", "train", "round", "station", "status", "issued", "log_head",
	"sealed", "error", "reason", NULL,
};

static const char *const statuses[] = {
	"released", "rejected", "failed", "withheld", "refused",
};

static int
bad(struct pht_err *err, const char *field, const char *why)
{
	return pht_json_bad(err, "result", field, why);
}

/* A string field without NUL bytes; *out NULL if absent and opt. */
static int
parse_fields(struct pht_resultmsg *m, struct pht_err *err)
{
	json_t *root = m->root, *v, *lh;
	const char *s, *sealed_b64;
	size_t i;
	int r, ok;

	if ((r = pht_json_only_known(root, "result", known, err)) != PHT_OK)
		return r;
	if ((r = pht_json_field_str(root, "result", "kind", 0, &s, NULL, err)) != PHT_OK)
		return r;
	if (strcmp(s, PHT_RESULTMSG_KIND) != 0)
		return bad(err, "kind", "not \"" PHT_RESULTMSG_KIND "\"");
	if ((r = pht_json_field_str(root, "result", "train", 0, &m->train, NULL, err)) != PHT_OK)
		return r;
	if (!pht_id_ok(m->train))
		return bad(err, "train", "not 1 to 128 of [A-Za-z0-9_.-]");
	if ((r = pht_json_field_str(root, "result", "station", 0, &m->station, NULL, err)) != PHT_OK)
		return r;
	if (!pht_name_ok(m->station))
		return bad(err, "station", "not 1 to 64 of [A-Za-z0-9_.-]");
	v = json_object_get(root, "round");
	if (!json_is_integer(v))
		return bad(err, "round", v == NULL ? "missing" : "not an integer");
	m->round = json_integer_value(v);
	if (m->round < 1 || m->round > PHT_RESULTMSG_MAX_ROUND)
		return bad(err, "round", "out of range (1 to 1000000)");
	if ((r = pht_json_field_str(root, "result", "status", 0, &m->status, NULL, err)) != PHT_OK)
		return r;
	for (i = 0, ok = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		ok |= strcmp(m->status, statuses[i]) == 0;
	if (!ok)
		return bad(err, "status", "not released, rejected, failed, withheld "
		    "or refused");
	if ((r = pht_json_field_str(root, "result", "issued", 0, &s, NULL, err)) != PHT_OK)
		return r;
	if (pht_time_parse(s, &m->issued) != PHT_OK)
		return bad(err, "issued", "not an RFC 3339 UTC time");
	lh = json_object_get(root, "log_head");
	if (!json_is_object(lh) || json_object_size(lh) != 2)
		return bad(err, "log_head", "not an object {seq, hash}");
	v = json_object_get(lh, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad(err, "log_head", "seq is not a non-negative integer");
	m->log_seq = (uint64_t)json_integer_value(v);
	v = json_object_get(lh, "hash");
	if (!json_is_string(v) || json_string_length(v) != 64 ||
	    !pht_hex_lower_ok(json_string_value(v), 64))
		return bad(err, "log_head", "hash is not 64 lower-case hex digits");
	m->log_hash = json_string_value(v);
	if ((r = pht_json_field_str(root, "result", "sealed", 1, &sealed_b64, NULL, err)) != PHT_OK ||
	    (r = pht_json_field_str(root, "result", "error", 1, &m->error, NULL, err)) != PHT_OK ||
	    (r = pht_json_field_str(root, "result", "reason", 1, &m->reason, NULL, err)) != PHT_OK)
		return r;
	if (sealed_b64 != NULL) {
		if (m->error != NULL || m->reason != NULL)
			return bad(err, m->error != NULL ? "error" : "reason",
			    "must not be in clear beside sealed");
		if (pht_b64_decode_alloc(sealed_b64, strlen(sealed_b64), &m->sealed,
		    &m->sealed_len) != PHT_OK || m->sealed_len == 0)
			return bad(err, "sealed", "not standard base64");
	} else {
		if (strcmp(m->status, "released") == 0)
			return bad(err, "sealed", "missing (a released result is sealed)");
		if (m->error == NULL || m->reason == NULL)
			return bad(err, m->error == NULL ? "error" : "reason",
			    "missing (an unsealed result says why in clear)");
		if (strlen(m->error) == 0 || strlen(m->error) > 128)
			return bad(err, "error", "not 1 to 128 characters");
		if (strlen(m->reason) > PHT_RESULTMSG_MAX_REASON)
			return bad(err, "reason", "longer than 1024 bytes");
	}
	return PHT_OK;
}

int
pht_resultmsg_parse(const uint8_t *payload, size_t len,
    struct pht_resultmsg **out, struct pht_err *err)
{
	struct pht_resultmsg *m = NULL;
	int r;

	*out = NULL;
	if (len > PHT_RESULTMSG_MAX)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "result: %zu bytes, more than "
		    "%u", len, PHT_RESULTMSG_MAX);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = pht_json_parse((const char *)payload, len, "result", &m->root,
	    err)) != PHT_OK)
		goto out;
	if (!json_is_object(m->root)) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "result: malformed: not a JSON "
		    "object");
		goto out;
	}
	if ((r = parse_fields(m, err)) != PHT_OK)
		goto out;
	*out = m;
	m = NULL; /* transferred */
out:
	pht_resultmsg_free(m);
	return r;
}

int
pht_resultmsg_build(const struct pht_resultmsg_spec *spec, char **out,
    size_t *outlen, struct pht_err *err)
{
	struct pht_resultmsg *check = NULL;
	json_t *root = NULL;
	char issued[21], *text = NULL, *b64 = NULL;
	int r;

	*out = NULL;
	*outlen = 0;
	if (spec->train == NULL || spec->station == NULL || spec->status == NULL ||
	    spec->log_hash == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "result: train, station, status "
		    "and log head are required");
	pht_time_format(spec->issued, issued);
	root = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:{s:I, s:s}}",
	    "kind", PHT_RESULTMSG_KIND, "train", spec->train,
	    "round", (json_int_t)spec->round, "station", spec->station,
	    "status", spec->status, "issued", issued,
	    "log_head", "seq", (json_int_t)spec->log_seq, "hash", spec->log_hash);
	if (root == NULL) {
		r = pht_errf(err, PHT_ERR_INVALID, "result: a field is not valid UTF-8");
		goto out;
	}
	if (spec->sealed != NULL) {
		if ((b64 = pht_b64_encode_alloc(spec->sealed, spec->sealed_len)) == NULL ||
		    json_object_set_new(root, "sealed", json_string(b64)) != 0) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
	} else if ((spec->error != NULL && json_object_set_new(root, "error",
	    json_string(spec->error)) != 0) || (spec->reason != NULL &&
	    json_object_set_new(root, "reason", json_string(spec->reason)) != 0)) {
		r = pht_errf(err, PHT_ERR_INVALID, "result: error or reason is not "
		    "valid UTF-8");
		goto out;
	}
	if ((text = pht_json_dump(root)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_resultmsg_parse((const uint8_t *)text, strlen(text), &check,
	    err)) != PHT_OK)
		goto out;
	*outlen = strlen(text);
	*out = text;
	text = NULL; /* transferred */
out:
	pht_resultmsg_free(check);
	free(text);
	free(b64);
	json_decref(root);
	return r;
}

void
pht_resultmsg_free(struct pht_resultmsg *msg)
{
	if (msg == NULL)
		return;
	json_decref(msg->root);
	free(msg->sealed);
	free(msg);
}

const char *pht_resultmsg_train(const struct pht_resultmsg *m) { return m->train; }
int64_t pht_resultmsg_round(const struct pht_resultmsg *m) { return m->round; }
const char *pht_resultmsg_station(const struct pht_resultmsg *m) { return m->station; }
const char *pht_resultmsg_status(const struct pht_resultmsg *m) { return m->status; }
int64_t pht_resultmsg_issued(const struct pht_resultmsg *m) { return m->issued; }
uint64_t pht_resultmsg_log_seq(const struct pht_resultmsg *m) { return m->log_seq; }
const char *pht_resultmsg_log_hash(const struct pht_resultmsg *m) { return m->log_hash; }
const char *pht_resultmsg_error(const struct pht_resultmsg *m) { return m->error; }
const char *pht_resultmsg_reason(const struct pht_resultmsg *m) { return m->reason; }

const uint8_t *
pht_resultmsg_sealed(const struct pht_resultmsg *m, size_t *len)
{
	if (len != NULL)
		*len = m->sealed_len;
	return m->sealed;
}
