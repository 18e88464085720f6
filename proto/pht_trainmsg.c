/* pht_trainmsg.c — building and validating train payloads. */
#include "pht_trainmsg.h"
#include "pht_hash.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_time.h"

#include <openssl/rand.h>

#include <stdlib.h>
#include <string.h>

#define MAX_TIME INT64_C(253402300799)  /* 9999-12-31T23:59:59Z */

/*
 * Invariant: every pointer below borrows from root, which the message
 * owns; only the two list arrays and nothing else are separately allocated.
 */
struct pht_trainmsg {
	json_t *root;
	const char *id, *name, *code, *code_sha256, *permit, *permit_envelope;
	const char *code_approval;
	size_t code_len;
	const json_t *params;
	const char **datasets, **stations;
	size_t n_datasets, n_stations;
	int64_t round, issued, expires;
	uint8_t result_key[PHT_KEY_RAW_LEN];
};

static const char *const known[] = {
	"id", "name", "code", "code_sha256", "params", "datasets", "stations",
	"round", "issued", "expires", "result_key", "permit", "permit_envelope",
	"code_approval", NULL,
};

static int
bad(struct pht_err *err, const char *field, const char *why)
{
	return pht_json_bad(err, "train", field, why);
}

static int
is_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > PHT_TRAINMSG_MAX_NAME)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

static int
get_label(json_t *root, const char *name, int opt, const char **out,
    struct pht_err *err)
{
	int r;

	if ((r = pht_json_field_str(root, "train", name, opt, out, NULL, err)) != PHT_OK || *out == NULL)
		return r;
	if (!is_label(*out))
		return bad(err, name, "not 1 to 128 printable ASCII characters");
	return PHT_OK;
}

static int
get_list(json_t *root, const char *name, const char ***out, size_t *n,
    struct pht_err *err)
{
	json_t *a = json_object_get(root, name), *v;
	char why[96];
	size_t i, j;

	*out = NULL;
	*n = 0;
	if (a == NULL)
		return bad(err, name, "missing");
	if (!json_is_array(a))
		return bad(err, name, "not an array");
	if (json_array_size(a) > PHT_TRAINMSG_MAX_LIST)
		return bad(err, name, "more than 256 entries");
	/* +1: never calloc(0) */
	if ((*out = calloc(json_array_size(a) + 1, sizeof(**out))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v) ||
		    !is_label(json_string_value(v))) {
			snprintf(why, sizeof(why), "entry %zu is not a string of 1 to 128 "
			    "printable ASCII characters", i + 1);
			return bad(err, name, why);
		}
		for (j = 0; j < i; j++)
			if (strcmp((*out)[j], json_string_value(v)) == 0) {
				snprintf(why, sizeof(why), "entry %zu repeats entry %zu",
				    i + 1, j + 1);
				return bad(err, name, why);
			}
		(*out)[i] = json_string_value(v);
	}
	*n = json_array_size(a);
	return PHT_OK;
}

/* Checks the structure and fields of root into m (no hash or time checks). */
/*
 * An optional signed document that goes with the permit (permit_envelope,
 * code_approval): 1 to PHT_TRAINMSG_MAX_PERMIT bytes, and only with a
 * permit. *out is borrowed from root; NULL when absent.
 */
static int
get_permit_doc(json_t *root, const char *name, const char *permit,
    const char **out, struct pht_err *err)
{
	size_t n;
	int r;

	if ((r = pht_json_field_str(root, "train", name, 1, out, &n, err)) != PHT_OK)
		return r;
	if (*out != NULL && (n == 0 || n > PHT_TRAINMSG_MAX_PERMIT))
		return bad(err, name, "not 1 to 65536 bytes");
	if (*out != NULL && permit == NULL)
		return bad(err, name, "given without permit");
	return PHT_OK;
}

static int
parse_fields(json_t *root, struct pht_trainmsg *m, struct pht_err *err)
{
	const char *s;
	json_t *v;
	size_t i, n;
	int r;

	if (!json_is_object(root))
		return pht_errf(err, PHT_ERR_MALFORMED, "train: malformed: not a JSON object");
	if ((r = pht_json_only_known(root, "train", known, err)) != PHT_OK)
		return r;
	if ((r = pht_json_field_str(root, "train", "id", 0, &m->id, &n, err)) != PHT_OK)
		return r;
	if (n != PHT_TRAINMSG_ID_LEN || !pht_hex_lower_ok(m->id, n))
		return bad(err, "id", "not 32 lower-case hex digits");
	if ((r = get_label(root, "name", 1, &m->name, err)) != PHT_OK)
		return r;
	if ((r = pht_json_field_str(root, "train", "code", 0, &m->code, &m->code_len, err)) != PHT_OK)
		return r;
	if (m->code_len == 0)
		return bad(err, "code", "empty");
	if ((r = pht_json_field_str(root, "train", "code_sha256", 0, &m->code_sha256, &n, err)) != PHT_OK)
		return r;
	if (n != 64 || !pht_hex_lower_ok(m->code_sha256, n))
		return bad(err, "code_sha256", "not 64 lower-case hex digits");
	if ((v = json_object_get(root, "params")) == NULL)
		return bad(err, "params", "missing");
	if (!json_is_object(v))
		return bad(err, "params", "not an object");
	m->params = v;
	if ((r = get_list(root, "datasets", &m->datasets, &m->n_datasets, err)) != PHT_OK)
		return r;
	if ((r = get_list(root, "stations", &m->stations, &m->n_stations, err)) != PHT_OK)
		return r;
	if ((v = json_object_get(root, "round")) == NULL)
		return bad(err, "round", "missing");
	if (!json_is_integer(v))
		return bad(err, "round", "not an integer");
	m->round = (int64_t)json_integer_value(v);
	if (m->round < 1 || m->round > PHT_TRAINMSG_MAX_ROUND)
		return bad(err, "round", "not between 1 and 1000000");
	if ((r = pht_json_field_time(root, "train", "issued", 0, &m->issued, err)) != PHT_OK ||
	    (r = pht_json_field_time(root, "train", "expires", 0, &m->expires, err)) != PHT_OK)
		return r;
	if (m->expires <= m->issued)
		return bad(err, "expires", "not later than issued");
	if ((r = pht_json_field_str(root, "train", "result_key", 0, &s, &n, err)) != PHT_OK)
		return r;
	if (n != pht_b64_encoded_len(PHT_KEY_RAW_LEN) ||
	    pht_b64_decode(s, n, m->result_key, sizeof(m->result_key), &i) != PHT_OK ||
	    i != PHT_KEY_RAW_LEN)
		return bad(err, "result_key", "not the base64 of a 32-byte X25519 key");
	if ((r = get_label(root, "permit", 1, &m->permit, err)) != PHT_OK)
		return r;
	if ((r = get_permit_doc(root, "permit_envelope", m->permit,
	    &m->permit_envelope, err)) != PHT_OK)
		return r;
	return get_permit_doc(root, "code_approval", m->permit, &m->code_approval,
	    err);
}

int
pht_trainmsg_parse(const uint8_t *payload, size_t len, int64_t now,
    struct pht_trainmsg **out, struct pht_err *err)
{
	struct pht_trainmsg *m = NULL;
	char hash[65], t[21], t2[21];
	int r;

	*out = NULL;
	if (len > PHT_TRAINMSG_MAX)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "train: too large: %zu bytes, "
		    "more than %u", len, PHT_TRAINMSG_MAX);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = pht_json_parse((const char *)payload, len, "train: malformed JSON", &m->root,
	    err)) != PHT_OK) {
		pht_err_scrub(err);
		goto out;
	}
	if ((r = parse_fields(m->root, m, err)) != PHT_OK)
		goto out;
	if ((r = pht_sha256_hex(m->code, m->code_len, hash, err)) != PHT_OK)
		goto out;
	if (strcmp(hash, m->code_sha256) != 0) {
		r = pht_errf(err, PHT_ERR_HASH_MISMATCH, "train: code hash mismatch: "
		    "code_sha256 is %s but the code hashes to %s", m->code_sha256, hash);
		goto out;
	}
	if (now == PHT_TRAINMSG_AT_ISSUE)
		now = m->issued;
	if (now >= m->expires) {
		pht_time_format(m->expires, t);
		pht_time_format(now, t2);
		r = pht_errf(err, PHT_ERR_EXPIRED, "train: expired at %s (now %s)", t, t2);
		goto out;
	}
	if (m->issued > now + PHT_TRAINMSG_SKEW) {
		pht_time_format(m->issued, t);
		pht_time_format(now, t2);
		r = pht_errf(err, PHT_ERR_NOT_YET_VALID, "train: not yet valid: issued "
		    "at %s, more than %d s after now (%s)", t, PHT_TRAINMSG_SKEW, t2);
		goto out;
	}
	*out = m;
	m = NULL; /* transferred */
out:
	pht_trainmsg_free(m);
	return r;
}

void
pht_trainmsg_free(struct pht_trainmsg *msg)
{
	if (msg == NULL)
		return;
	free(msg->datasets);
	free(msg->stations);
	json_decref(msg->root);
	free(msg);
}

int
pht_trainmsg_new_id(char out[PHT_TRAINMSG_ID_LEN + 1], struct pht_err *err)
{
	uint8_t rnd[PHT_TRAINMSG_ID_LEN / 2];

	out[0] = '\0';
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return pht_errf(err, PHT_ERR_CRYPTO, "no random bytes for a train id");
	pht_hex_encode(rnd, sizeof(rnd), out);
	return PHT_OK;
}

/* Sets obj[name] to a new string of n bytes; PHT_ERR_INVALID if not UTF-8. */
static int
set_str(json_t *obj, const char *name, const char *s, size_t n,
    struct pht_err *err)
{
	json_t *v;

	if ((v = json_stringn(s, n)) == NULL)
		return pht_errf(err, PHT_ERR_INVALID,
		    "train: field %s: not valid UTF-8", name);
	if (json_object_set_new(obj, name, v) != 0)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	return PHT_OK;
}

int
pht_trainmsg_build(const struct pht_trainmsg_spec *spec, char **out,
    size_t *outlen, struct pht_err *err)
{
	struct pht_trainmsg *check = NULL;
	char id[PHT_TRAINMSG_ID_LEN + 1], hash[65], t[21], *rk = NULL, *text = NULL;
	json_t *obj = NULL, *params = NULL;
	int r;

	*out = NULL;
	if (spec->code == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "train: no code");
	if (spec->issued < 0 || spec->issued > MAX_TIME)
		return bad(err, "issued", "out of range");
	if (spec->expires < 0 || spec->expires > MAX_TIME)
		return bad(err, "expires", "out of range");
	if (spec->id != NULL) {
		if (strlen(spec->id) != PHT_TRAINMSG_ID_LEN)
			return bad(err, "id", "not 32 lower-case hex digits");
		memcpy(id, spec->id, sizeof(id));
	} else if ((r = pht_trainmsg_new_id(id, err)) != PHT_OK)
		return r;
	if ((r = pht_sha256_hex(spec->code, spec->code_len, hash, err)) != PHT_OK)
		return r;
	if ((obj = json_object()) == NULL ||
	    (rk = pht_b64_encode_alloc(spec->result_key, PHT_KEY_RAW_LEN)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (spec->params != NULL)
		params = json_deep_copy(spec->params);
	else
		params = json_object();
	if (params == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (json_object_set_new(obj, "params", params) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = set_str(obj, "id", id, strlen(id), err)) != PHT_OK ||
	    (spec->name != NULL &&
	    (r = set_str(obj, "name", spec->name, strlen(spec->name), err)) != PHT_OK) ||
	    (r = set_str(obj, "code", spec->code, spec->code_len, err)) != PHT_OK ||
	    (r = set_str(obj, "code_sha256", hash, 64, err)) != PHT_OK ||
	    (r = pht_json_set_strings(obj, "train", "datasets", spec->datasets, spec->n_datasets, err)) != PHT_OK ||
	    (r = pht_json_set_strings(obj, "train", "stations", spec->stations, spec->n_stations, err)) != PHT_OK ||
	    (r = set_str(obj, "result_key", rk, strlen(rk), err)) != PHT_OK ||
	    (spec->permit != NULL &&
	    (r = set_str(obj, "permit", spec->permit, strlen(spec->permit), err)) != PHT_OK) ||
	    (spec->permit_envelope != NULL &&
	    (r = set_str(obj, "permit_envelope", spec->permit_envelope,
	    strlen(spec->permit_envelope), err)) != PHT_OK) ||
	    (spec->code_approval != NULL &&
	    (r = set_str(obj, "code_approval", spec->code_approval,
	    strlen(spec->code_approval), err)) != PHT_OK))
		goto out;
	if (json_object_set_new(obj, "round", json_integer((json_int_t)spec->round)) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	pht_time_format(spec->issued, t);
	if ((r = set_str(obj, "issued", t, strlen(t), err)) != PHT_OK)
		goto out;
	pht_time_format(spec->expires, t);
	if ((r = set_str(obj, "expires", t, strlen(t), err)) != PHT_OK)
		goto out;
	if ((text = pht_json_dump(obj)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Never hand out a payload the parser would refuse. */
	if ((r = pht_trainmsg_parse((const uint8_t *)text, strlen(text), spec->issued,
	    &check, err)) != PHT_OK)
		goto out;
	if (outlen != NULL)
		*outlen = strlen(text);
	*out = text;
	text = NULL; /* transferred */
out:
	pht_trainmsg_free(check);
	free(text);
	free(rk);
	json_decref(obj);
	return r;
}

const char *pht_trainmsg_id(const struct pht_trainmsg *m) { return m->id; }
const char *pht_trainmsg_name(const struct pht_trainmsg *m) { return m->name; }
const char *pht_trainmsg_code_sha256(const struct pht_trainmsg *m) { return m->code_sha256; }
const json_t *pht_trainmsg_params(const struct pht_trainmsg *m) { return m->params; }
int64_t pht_trainmsg_round(const struct pht_trainmsg *m) { return m->round; }
int64_t pht_trainmsg_issued(const struct pht_trainmsg *m) { return m->issued; }
int64_t pht_trainmsg_expires(const struct pht_trainmsg *m) { return m->expires; }
const uint8_t *pht_trainmsg_result_key(const struct pht_trainmsg *m) { return m->result_key; }
const char *pht_trainmsg_permit(const struct pht_trainmsg *m) { return m->permit; }
const char *pht_trainmsg_permit_envelope(const struct pht_trainmsg *m) { return m->permit_envelope; }
const char *pht_trainmsg_code_approval(const struct pht_trainmsg *m) { return m->code_approval; }

const char *
pht_trainmsg_code(const struct pht_trainmsg *m, size_t *len)
{
	if (len != NULL)
		*len = m->code_len;
	return m->code;
}

const char *const *
pht_trainmsg_datasets(const struct pht_trainmsg *m, size_t *n)
{
	*n = m->n_datasets;
	return m->datasets;
}

const char *const *
pht_trainmsg_stations(const struct pht_trainmsg *m, size_t *n)
{
	*n = m->n_stations;
	return m->stations;
}
