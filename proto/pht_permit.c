/* pht_permit.c — permits: building, strict parsing, coverage checks. */
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

/* Invariant: every string borrows from root, which the object owns. */
struct pht_permit {
	json_t *root;
	const char *id, *purpose;
	int64_t issued, valid_from, valid_until, max_runs, max_rounds;
};

/*
 * The users or reviewers (field) of a permit: 1..PHT_PERMIT_MAX_LIST
 * objects {name, key} with distinct keys; a user's key is a fingerprint
 * (64 lower-case hex digits), a reviewer's (b64key) the base64 of the raw
 * Ed25519 public key.
 */
static int
check_people(const json_t *a, const char *field, int b64key, struct pht_err *err)
{
	static const char *const user_known[] = {"name", "key", NULL};
	uint8_t raw[PHT_KEY_RAW_LEN + 3];
	const char *name, *key;
	char why[200];
	size_t i, j, n, rl;
	json_t *v;
	int r;

	if (a == NULL)
		return pht_json_bad(err, "permit", field, "missing");
	if (!json_is_array(a))
		return pht_json_bad(err, "permit", field, "not an array");
	n = json_array_size(a);
	if (n < 1 || n > PHT_PERMIT_MAX_LIST)
		return pht_json_bad(err, "permit", field, "not 1 to 256 entries");
	json_array_foreach(a, i, v) {
		if (!json_is_object(v)) {
			snprintf(why, sizeof(why), "entry %zu is not an object {name, key}",
			    i + 1);
			return pht_json_bad(err, "permit", field, why);
		}
		if ((r = pht_json_only_known(v, "permit", user_known, err)) != PHT_OK)
			return r;
		if ((name = json_string_value(json_object_get(v, "name"))) == NULL ||
		    strlen(name) != json_string_length(json_object_get(v, "name")) ||
		    !pht_name_ok(name)) {
			snprintf(why, sizeof(why), "entry %zu: name is not 1 to 64 of "
			    "[A-Za-z0-9_.-]", i + 1);
			return pht_json_bad(err, "permit", field, why);
		}
		key = json_string_value(json_object_get(v, "key"));
		if (!b64key && (key == NULL ||
		    json_string_length(json_object_get(v, "key")) != 64 ||
		    !pht_permit_is_hex64(key))) {
			snprintf(why, sizeof(why), "entry %zu: key is not 64 lower-case "
			    "hex digits", i + 1);
			return pht_json_bad(err, "permit", field, why);
		}
		if (b64key && (key == NULL ||
		    strlen(key) != pht_b64_encoded_len(PHT_KEY_RAW_LEN) ||
		    pht_b64_decode(key, strlen(key), raw, sizeof(raw), &rl) != PHT_OK ||
		    rl != PHT_KEY_RAW_LEN)) {
			snprintf(why, sizeof(why), "entry %zu: key is not the base64 of "
			    "a 32-byte Ed25519 public key", i + 1);
			return pht_json_bad(err, "permit", field, why);
		}
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_object_get(json_array_get(a, j),
			    "key")), key) == 0) {
				snprintf(why, sizeof(why), "entry %zu repeats the key of "
				    "entry %zu", i + 1, j + 1);
				return pht_json_bad(err, "permit", field, why);
			}
	}
	return PHT_OK;
}

static int
permit_fields(struct pht_permit *p, struct pht_err *err)
{
	static const char *const known[] = {"kind", "id", "issued", "purpose",
	    "users", "stations", "datasets", "code_sha256", "reviewers",
	    "valid_from", "valid_until", "max_runs", "max_rounds", "row_access", NULL};
	const char *W = "permit", *key;
	json_t *root = p->root, *a, *v, *w;
	char why[200], field[200];
	size_t i, n;
	int r;

	if ((r = pht_json_only_known(root, W, known, err)) != PHT_OK ||
	    (r = pht_json_field_kind(root, W, PHT_PERMIT_KIND, err)) != PHT_OK ||
	    (r = pht_json_field_str(root, W, "id", 0, &p->id, NULL, err)) != PHT_OK)
		return r;
	if (!pht_id_ok(p->id))
		return pht_json_bad(err, W, "id", "not 1 to 128 of [A-Za-z0-9_.-]");
	if ((r = pht_json_field_time(root, W, "issued", 0, &p->issued, err)) != PHT_OK ||
	    (r = pht_json_field_str(root, W, "purpose", 0, &p->purpose, NULL, err)) != PHT_OK)
		return r;
	if (strlen(p->purpose) == 0 || strlen(p->purpose) > PHT_PERMIT_MAX_PURPOSE)
		return pht_json_bad(err, W, "purpose", "not 1 to 4096 bytes");

	if ((r = check_people(json_object_get(root, "users"), "users", 0, err)) != PHT_OK)
		return r;
	if ((r = pht_permit_check_list(json_object_get(root, "stations"), W, "stations", 1,
	    PHT_PERMIT_MAX_LIST, PHT_PERMIT_ITEM_NAME, err)) != PHT_OK)
		return r;

	a = json_object_get(root, "datasets");
	if (a == NULL)
		return pht_json_bad(err, W, "datasets", "missing");
	if (!json_is_object(a))
		return pht_json_bad(err, W, "datasets", "not an object (dataset -> [columns])");
	n = json_object_size(a);
	if (n < 1 || n > PHT_PERMIT_MAX_LIST)
		return pht_json_bad(err, W, "datasets", "not 1 to 256 entries");
	json_object_foreach(a, key, w) {
		if (!pht_name_ok(key)) {
			snprintf(why, sizeof(why), "dataset name %.64s%s is not 1 to 64 of "
			    "[A-Za-z0-9_.-]", key, strlen(key) > 64 ? "..." : "");
			for (i = 0; why[i] != '\0'; i++)
				if (why[i] < 0x20 || why[i] > 0x7e)
					why[i] = '?';
			return pht_json_bad(err, W, "datasets", why);
		}
		snprintf(field, sizeof(field), "datasets.%s", key);
		if ((r = pht_permit_check_list(w, W, field, 1, PHT_PERMIT_MAX_COLUMNS,
		    PHT_PERMIT_ITEM_LABEL, err)) != PHT_OK)
			return r;
	}
	a = json_object_get(root, "reviewers");
	if (a != NULL && (r = check_people(a, "reviewers", 1, err)) != PHT_OK)
		return r;
	if (json_object_get(root, "code_sha256") != NULL) {
		if ((r = pht_permit_check_list(json_object_get(root, "code_sha256"), W,
		    "code_sha256", 1, PHT_PERMIT_MAX_CODES, PHT_PERMIT_ITEM_HEX64,
		    err)) != PHT_OK)
			return r;
	} else if (a == NULL) {
		/* without reviewers the hashes are the only way to name code */
		return pht_json_bad(err, W, "code_sha256", "missing (a permit names train code "
		    "hashes, reviewers or both)");
	}
	if ((r = pht_json_field_time(root, W, "valid_from", 0, &p->valid_from, err)) != PHT_OK ||
	    (r = pht_json_field_time(root, W, "valid_until", 0, &p->valid_until, err)) != PHT_OK)
		return r;
	if (p->valid_until <= p->valid_from)
		return pht_json_bad(err, W, "valid_until", "not later than valid_from");
	if ((r = pht_json_field_int(root, W, "max_runs", 1, 1, PHT_PERMIT_MAX_RUNS, &p->max_runs,
	    err)) != PHT_OK ||
	    (r = pht_json_field_int(root, W, "max_rounds", 1, 1, PHT_PERMIT_MAX_ROUNDS,
	    &p->max_rounds, err)) != PHT_OK)
		return r;
	if ((w = json_object_get(root, "row_access")) != NULL) {
		if ((r = pht_permit_check_list(w, W, "row_access", 1, PHT_PERMIT_MAX_CODES,
		    PHT_PERMIT_ITEM_HEX64, err)) != PHT_OK)
			return r;
		/* only code the permit names itself, never what a reviewer approved */
		json_array_foreach(w, i, v)
			if (!pht_permit_list_has(json_object_get(root, "code_sha256"),
			    json_string_value(v))) {
				snprintf(why, sizeof(why), "entry %zu is not in code_sha256",
				    i + 1);
				return pht_json_bad(err, W, "row_access", why);
			}
	}
	return PHT_OK;
}

int
pht_permit_parse(const uint8_t *payload, size_t len, struct pht_permit **out,
    struct pht_err *err)
{
	struct pht_permit *p = NULL;
	int r;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = pht_permit_parse_root(payload, len, "permit", &p->root, err)) != PHT_OK ||
	    (r = permit_fields(p, err)) != PHT_OK)
		goto out;
	*out = p;
	p = NULL; /* transferred */
out:
	pht_permit_free(p);
	return r;
}

void
pht_permit_free(struct pht_permit *p)
{
	if (p == NULL)
		return;
	json_decref(p->root);
	free(p);
}

const char *pht_permit_id(const struct pht_permit *p) { return p->id; }
const char *pht_permit_purpose(const struct pht_permit *p) { return p->purpose; }
int64_t pht_permit_issued(const struct pht_permit *p) { return p->issued; }
int64_t pht_permit_valid_from(const struct pht_permit *p) { return p->valid_from; }
int64_t pht_permit_valid_until(const struct pht_permit *p) { return p->valid_until; }
int64_t pht_permit_max_runs(const struct pht_permit *p) { return p->max_runs; }
int64_t pht_permit_max_rounds(const struct pht_permit *p) { return p->max_rounds; }

int
pht_permit_row_access(const struct pht_permit *p, const char *code_sha256)
{
	return p != NULL && code_sha256 != NULL &&
	    pht_permit_list_has(json_object_get(p->root, "row_access"), code_sha256);
}
const json_t *pht_permit_json(const struct pht_permit *p) { return p->root; }

int
pht_permit_check_time(const struct pht_permit *p, int64_t now, struct pht_err *err)
{
	char t[21], n[21];

	pht_time_format(now, n);
	if (now < p->valid_from) {
		pht_time_format(p->valid_from, t);
		return pht_errf(err, PHT_ERR_NOT_YET_VALID, "permit %s: not valid before "
		    "%s (now %s)", p->id, t, n);
	}
	if (now >= p->valid_until) {
		pht_time_format(p->valid_until, t);
		return pht_errf(err, PHT_ERR_EXPIRED, "permit %s: expired at %s (now %s)",
		    p->id, t, n);
	}
	return PHT_OK;
}

/*
 * Whether approval (envelope text) is a code approval signed by one of the
 * permit's reviewers that lists code_sha256. PHT_OK or PHT_ERR_DENIED with
 * the reason.
 */
static int
check_approval(const struct pht_permit *p, const char *code_sha256,
    const char *approval, struct pht_err *err)
{
	json_t *revs = json_object_get(p->root, "reviewers"), *v;
	struct pht_trust *trust = NULL;
	struct pht_envelope *env = NULL;
	struct pht_code_approval *a = NULL;
	struct pht_key *k = NULL;
	struct pht_err e;
	uint8_t raw[PHT_KEY_RAW_LEN + 3];
	const uint8_t *pl;
	size_t i, rl, plen;
	int r;

	pht_err_clear(&e);
	if ((trust = pht_trust_new()) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	json_array_foreach(revs, i, v) {
		const char *b64 = json_string_value(json_object_get(v, "key"));
		if (pht_b64_decode(b64, strlen(b64), raw, sizeof(raw), &rl) != PHT_OK ||
		    rl != PHT_KEY_RAW_LEN ||
		    pht_key_from_raw_public(PHT_KEY_SIGN, raw, &k, &e) != PHT_OK ||
		    pht_trust_add(trust, json_string_value(json_object_get(v, "name")), k,
		    &e) != PHT_OK) {
			r = pht_errf(err, PHT_ERR_DENIED, "permit %s: reviewer %zu: %s",
			    p->id, i + 1, pht_err_msg(&e));
			goto out;
		}
		pht_key_free(k);
		k = NULL;
	}
	if (pht_envelope_open(approval, strlen(approval), trust, &env, &e) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_DENIED, "permit %s: code approval: %s "
		    "(not signed by one of the permit's reviewers)", p->id, pht_err_msg(&e));
		goto out;
	}
	pl = pht_envelope_payload(env, &plen);
	if (pht_code_approval_parse(pl, plen, &a, &e) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_DENIED, "permit %s: code approval: %s", p->id,
		    pht_err_msg(&e));
		goto out;
	}
	if (!pht_code_approval_has(a, code_sha256)) {
		r = pht_errf(err, PHT_ERR_DENIED, "permit %s: code approval by %s does "
		    "not list train code %.64s", p->id, pht_envelope_signer_name(env),
		    code_sha256);
		goto out;
	}
	r = PHT_OK;
out:
	pht_code_approval_free(a);
	pht_envelope_free(env);
	pht_key_free(k);
	pht_trust_free(trust);
	return r;
}

int
pht_permit_check_train(const struct pht_permit *p, const char *signer_fp,
    const char *station, const char *dataset, const char *code_sha256,
    int64_t round, const char *approval, struct pht_err *err)
{
	json_t *users = json_object_get(p->root, "users"), *v;
	size_t i;
	int found = 0;

	json_array_foreach(users, i, v)
		found |= signer_fp != NULL &&
		    strcmp(json_string_value(json_object_get(v, "key")), signer_fp) == 0;
	if (!found)
		return pht_errf(err, PHT_ERR_DENIED, "permit %s: signer %.64s is not "
		    "among its data users", p->id, signer_fp != NULL ? signer_fp : "?");
	if (station == NULL || !pht_permit_list_has(json_object_get(p->root, "stations"), station))
		return pht_errf(err, PHT_ERR_DENIED, "permit %s: does not name station "
		    "%.64s", p->id, station != NULL ? station : "?");
	if (dataset == NULL ||
	    json_object_get(json_object_get(p->root, "datasets"), dataset) == NULL)
		return pht_errf(err, PHT_ERR_DENIED, "permit %s: does not name dataset "
		    "%.64s", p->id, dataset != NULL ? dataset : "?");
	if (code_sha256 == NULL ||
	    (!pht_permit_list_has(json_object_get(p->root, "code_sha256"), code_sha256) &&
	    (approval == NULL || json_object_get(p->root, "reviewers") == NULL))) {
		return pht_errf(err, PHT_ERR_DENIED, "permit %s: does not allow train "
		    "code %.64s%s", p->id, code_sha256 != NULL ? code_sha256 : "?",
		    json_object_get(p->root, "reviewers") != NULL && approval == NULL ?
		    " (and the train carries no code approval)" : "");
	}
	if (!pht_permit_list_has(json_object_get(p->root, "code_sha256"), code_sha256)) {
		int r = check_approval(p, code_sha256, approval, err);
		if (r != PHT_OK)
			return r;
	}
	if (p->max_rounds > 0 && round > p->max_rounds)
		return pht_errf(err, PHT_ERR_DENIED, "permit %s: allows rounds up to "
		    "%" PRId64 ", this train is round %" PRId64, p->id, p->max_rounds,
		    round);
	return PHT_OK;
}

int
pht_permit_allows_column(const struct pht_permit *p, const char *dataset,
    const char *column)
{
	json_t *cols = json_object_get(json_object_get(p->root, "datasets"), dataset);

	return cols != NULL && column != NULL && pht_permit_list_has(cols, column);
}

int
pht_permit_check_columns(const struct pht_permit *p, const char *dataset,
    const char *const *columns, size_t n, struct pht_err *err)
{
	size_t i;

	if (json_object_get(json_object_get(p->root, "datasets"), dataset) == NULL)
		return pht_errf(err, PHT_ERR_DENIED, "permit %s: does not name dataset "
		    "%.64s", p->id, dataset);
	for (i = 0; i < n; i++)
		if (!pht_permit_allows_column(p, dataset, columns[i]))
			return pht_errf(err, PHT_ERR_DENIED, "permit %s: column %.128s of "
			    "dataset %.64s is not allowed", p->id, columns[i], dataset);
	return PHT_OK;
}

static int
check_permit(const char *text, size_t len, struct pht_err *err)
{
	struct pht_permit *p = NULL;
	int r = pht_permit_parse((const uint8_t *)text, len, &p, err);

	pht_permit_free(p);
	return r;
}

/* Sets obj[field] to the n people v as [{"name", "key"}...]; both must be given. */
static int
set_people(json_t *obj, const char *field, const struct pht_permit_user *v,
    size_t n, struct pht_err *err)
{
	json_t *a = json_array(), *u;
	size_t i;
	int r;

	if (a == NULL || json_object_set_new(obj, field, a) != 0)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if ((u = json_object()) == NULL || json_array_append_new(a, u) != 0)
			return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		if (v[i].name == NULL || v[i].key == NULL)
			return pht_errf(err, PHT_ERR_INVALID, "permit: field %s: entry %zu "
			    "has no %s", field, i + 1, v[i].name == NULL ? "name" : "key");
		if ((r = pht_permit_set_string(u, "permit", "name", v[i].name, err)) != PHT_OK ||
		    (r = pht_permit_set_string(u, "permit", "key", v[i].key, err)) != PHT_OK)
			return r;
	}
	return PHT_OK;
}

int
pht_permit_build(const struct pht_permit_spec *s, char **out, size_t *outlen,
    struct pht_err *err)
{
	const char *W = "permit";
	json_t *obj = NULL, *ds;
	size_t i;
	int r;

	if ((r = pht_permit_start_build(PHT_PERMIT_KIND, &obj, out, outlen,
	    err)) != PHT_OK)
		goto out;
	if ((r = pht_permit_set_string(obj, W, "id", s->id, err)) != PHT_OK ||
	    (r = pht_permit_set_string(obj, W, "purpose", s->purpose, err)) != PHT_OK ||
	    (r = pht_permit_set_time(obj, W, "issued", s->issued, err)) != PHT_OK ||
	    (r = pht_permit_set_time(obj, W, "valid_from", s->valid_from, err)) != PHT_OK ||
	    (r = pht_permit_set_time(obj, W, "valid_until", s->valid_until, err)) != PHT_OK ||
	    (r = pht_json_set_strings(obj, W, "stations", s->stations, s->nstations, err)) != PHT_OK ||
	    (s->ncodes > 0 && (r = pht_json_set_strings(obj, W, "code_sha256", s->code_sha256,
	    s->ncodes, err)) != PHT_OK) ||
	    (s->nrow_access > 0 && (r = pht_json_set_strings(obj, W, "row_access", s->row_access,
	    s->nrow_access, err)) != PHT_OK))
		goto out;
	if ((s->nreviewers > 0 && (r = set_people(obj, "reviewers", s->reviewers,
	    s->nreviewers, err)) != PHT_OK) ||
	    (r = set_people(obj, "users", s->users, s->nusers, err)) != PHT_OK)
		goto out;
	if ((ds = json_object()) == NULL || json_object_set_new(obj, "datasets", ds) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < s->ndatasets; i++) {
		if (s->datasets[i].name == NULL) {
			r = pht_errf(err, PHT_ERR_INVALID, "permit: field datasets: entry "
			    "%zu has no name", i + 1);
			goto out;
		}
		if (json_object_get(ds, s->datasets[i].name) != NULL) {
			r = pht_json_bad(err, W, "datasets", "a dataset is named twice");
			goto out;
		}
		if ((r = pht_json_set_strings(ds, W, s->datasets[i].name, s->datasets[i].columns,
		    s->datasets[i].ncolumns, err)) != PHT_OK)
			goto out;
	}
	if ((s->max_runs != 0 && json_object_set_new(obj, "max_runs",
	    json_integer((json_int_t)s->max_runs)) != 0) ||
	    (s->max_rounds != 0 && json_object_set_new(obj, "max_rounds",
	    json_integer((json_int_t)s->max_rounds)) != 0)) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = pht_permit_finish_build(obj, check_permit, out, outlen, err);
out:
	json_decref(obj);
	return r;
}
