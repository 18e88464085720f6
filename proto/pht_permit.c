/* pht_permit.c — permits, revocation lists and halt orders: building, strict parsing, coverage checks. */
#include "pht_permit.h"
#include "pht_enc.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_time.h"
#include "pht_trust.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TIME INT64_C(253402300799)  /* 9999-12-31T23:59:59Z */
#define MAX_REASON 1024

/* Invariant: every string borrows from root, which the object owns. */
struct pht_permit {
	json_t *root;
	const char *id, *purpose;
	int64_t issued, valid_from, valid_until, max_runs, max_rounds;
};

struct pht_revocations {
	json_t *root;
	const char **ids;
	size_t n;
	int64_t seq, issued;
};

struct pht_code_approval {
	json_t *root;
};

struct pht_halt {
	json_t *root;
	const char *scope, *reason;
	char *name;                 /* after the "permit:"/"dataset:" prefix */
	enum pht_halt_scope kind;
	int64_t issued, until;
};

/* ---- shared field checks ---- */

/* 1..128 printable ASCII characters. */
static int
is_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

static int
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

enum item_rule { ITEM_IDENT64, ITEM_IDENT128, ITEM_LABEL, ITEM_HEX64 };

static int
item_ok(const char *s, enum item_rule rule)
{
	switch (rule) {
	case ITEM_IDENT64: return pht_name_ok(s);
	case ITEM_IDENT128: return pht_id_ok(s);
	case ITEM_LABEL: return is_label(s);
	case ITEM_HEX64: return is_hex64(s);
	}
	return 0;
}

static const char *
rule_text(enum item_rule rule)
{
	switch (rule) {
	case ITEM_IDENT64: return "not 1 to 64 of [A-Za-z0-9_.-]";
	case ITEM_IDENT128: return "not 1 to 128 of [A-Za-z0-9_.-]";
	case ITEM_LABEL: return "not 1 to 128 printable ASCII characters";
	case ITEM_HEX64: return "not 64 lower-case hex digits";
	}
	return "bad";
}

/*
 * Checks a JSON array a of min..max distinct strings by rule; field names
 * it in errors. Duplicates are found by sorting a copy of the pointers.
 */
static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
check_list(const json_t *a, const char *what, const char *field, size_t min,
    size_t max, enum item_rule rule, struct pht_err *err)
{
	const char **sorted = NULL;
	char why[160];
	json_t *v;
	size_t i, n;
	int r = PHT_OK;

	if (a == NULL)
		return pht_json_bad(err, what, field, "missing");
	if (!json_is_array(a))
		return pht_json_bad(err, what, field, "not an array");
	n = json_array_size(a);
	if (n < min || n > max) {
		snprintf(why, sizeof(why), "has %zu entries, not %zu to %zu", n, min, max);
		return pht_json_bad(err, what, field, why);
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v) ||
		    !item_ok(json_string_value(v), rule)) {
			snprintf(why, sizeof(why), "entry %zu is %s", i + 1,
			    json_is_string(v) ? rule_text(rule) : "not a string");
			return pht_json_bad(err, what, field, why);
		}
	}
	if ((sorted = calloc(n + 1, sizeof(*sorted))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	json_array_foreach(a, i, v)
		sorted[i] = json_string_value(v);
	qsort(sorted, n, sizeof(*sorted), str_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
			snprintf(why, sizeof(why), "entry %.128s appears twice", sorted[i]);
			r = pht_json_bad(err, what, field, why);
			break;
		}
	free(sorted);
	return r;
}

static int
list_has(const json_t *a, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* Common tail of the three parsers: size bound, JSON, object. */
static int
parse_root(const uint8_t *payload, size_t len, const char *what, json_t **root,
    struct pht_err *err)
{
	char *c;
	int r;

	*root = NULL;
	if (len > PHT_PERMIT_MAX)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "%s: %zu bytes, more than %u",
		    what, len, PHT_PERMIT_MAX);
	if ((r = pht_json_parse((const char *)payload, len, what, root, err)) != PHT_OK) {
		/* jansson may quote the input: keep the detail printable */
		for (c = err != NULL ? err->msg : NULL; c != NULL && *c != '\0'; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		return r;
	}
	if (!json_is_object(*root)) {
		json_decref(*root);
		*root = NULL;
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: malformed: not a JSON "
		    "object", what);
	}
	return PHT_OK;
}

/* ---- permits ---- */

static int
permit_fields(struct pht_permit *p, struct pht_err *err)
{
	static const char *const known[] = {"kind", "id", "issued", "purpose",
	    "users", "stations", "datasets", "code_sha256", "reviewers",
	    "valid_from", "valid_until", "max_runs", "max_rounds", "row_access", NULL};
	static const char *const user_known[] = {"name", "key", NULL};
	const char *W = "permit", *key, *name, *fp;
	json_t *root = p->root, *a, *v, *w;
	char why[200], field[200];
	size_t i, j, n;
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

	a = json_object_get(root, "users");
	if (a == NULL)
		return pht_json_bad(err, W, "users", "missing");
	if (!json_is_array(a))
		return pht_json_bad(err, W, "users", "not an array");
	n = json_array_size(a);
	if (n < 1 || n > PHT_PERMIT_MAX_LIST)
		return pht_json_bad(err, W, "users", "not 1 to 256 entries");
	json_array_foreach(a, i, v) {
		if (!json_is_object(v)) {
			snprintf(why, sizeof(why), "entry %zu is not an object {name, key}",
			    i + 1);
			return pht_json_bad(err, W, "users", why);
		}
		if ((r = pht_json_only_known(v, W, user_known, err)) != PHT_OK)
			return r;
		if ((name = json_string_value(json_object_get(v, "name"))) == NULL ||
		    strlen(name) != json_string_length(json_object_get(v, "name")) ||
		    !pht_name_ok(name)) {
			snprintf(why, sizeof(why), "entry %zu: name is not 1 to 64 of "
			    "[A-Za-z0-9_.-]", i + 1);
			return pht_json_bad(err, W, "users", why);
		}
		if ((fp = json_string_value(json_object_get(v, "key"))) == NULL ||
		    json_string_length(json_object_get(v, "key")) != 64 || !is_hex64(fp)) {
			snprintf(why, sizeof(why), "entry %zu: key is not 64 lower-case "
			    "hex digits", i + 1);
			return pht_json_bad(err, W, "users", why);
		}
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_object_get(json_array_get(a, j),
			    "key")), fp) == 0) {
				snprintf(why, sizeof(why), "entry %zu repeats the key of entry "
				    "%zu", i + 1, j + 1);
				return pht_json_bad(err, W, "users", why);
			}
	}
	if ((r = check_list(json_object_get(root, "stations"), W, "stations", 1,
	    PHT_PERMIT_MAX_LIST, ITEM_IDENT64, err)) != PHT_OK)
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
		if ((r = check_list(w, W, field, 1, PHT_PERMIT_MAX_COLUMNS, ITEM_LABEL,
		    err)) != PHT_OK)
			return r;
	}
	a = json_object_get(root, "reviewers");
	if (a != NULL) {
		uint8_t raw[PHT_KEY_RAW_LEN + 3];
		size_t rl;
		if (!json_is_array(a))
			return pht_json_bad(err, W, "reviewers", "not an array");
		n = json_array_size(a);
		if (n < 1 || n > PHT_PERMIT_MAX_LIST)
			return pht_json_bad(err, W, "reviewers", "not 1 to 256 entries");
		json_array_foreach(a, i, v) {
			if (!json_is_object(v)) {
				snprintf(why, sizeof(why), "entry %zu is not an object {name, "
				    "key}", i + 1);
				return pht_json_bad(err, W, "reviewers", why);
			}
			if ((r = pht_json_only_known(v, W, user_known, err)) != PHT_OK)
				return r;
			if ((name = json_string_value(json_object_get(v, "name"))) == NULL ||
			    strlen(name) != json_string_length(json_object_get(v, "name")) ||
			    !pht_name_ok(name)) {
				snprintf(why, sizeof(why), "entry %zu: name is not 1 to 64 of "
				    "[A-Za-z0-9_.-]", i + 1);
				return pht_json_bad(err, W, "reviewers", why);
			}
			if ((fp = json_string_value(json_object_get(v, "key"))) == NULL ||
			    strlen(fp) != pht_b64_encoded_len(PHT_KEY_RAW_LEN) ||
			    pht_b64_decode(fp, strlen(fp), raw, sizeof(raw), &rl) != PHT_OK ||
			    rl != PHT_KEY_RAW_LEN) {
				snprintf(why, sizeof(why), "entry %zu: key is not the base64 of "
				    "a 32-byte Ed25519 public key", i + 1);
				return pht_json_bad(err, W, "reviewers", why);
			}
			for (j = 0; j < i; j++)
				if (strcmp(json_string_value(json_object_get(json_array_get(a, j),
				    "key")), fp) == 0) {
					snprintf(why, sizeof(why), "entry %zu repeats the key of "
					    "entry %zu", i + 1, j + 1);
					return pht_json_bad(err, W, "reviewers", why);
				}
		}
	}
	if (json_object_get(root, "code_sha256") != NULL) {
		if ((r = check_list(json_object_get(root, "code_sha256"), W,
		    "code_sha256", 1, PHT_PERMIT_MAX_CODES, ITEM_HEX64, err)) != PHT_OK)
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
		if ((r = check_list(w, W, "row_access", 1, PHT_PERMIT_MAX_CODES, ITEM_HEX64,
		    err)) != PHT_OK)
			return r;
		/* only code the permit names itself, never what a reviewer approved */
		json_array_foreach(w, i, v)
			if (!list_has(json_object_get(root, "code_sha256"),
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
	if ((r = parse_root(payload, len, "permit", &p->root, err)) != PHT_OK ||
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
	    list_has(json_object_get(p->root, "row_access"), code_sha256);
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
	if (station == NULL || !list_has(json_object_get(p->root, "stations"), station))
		return pht_errf(err, PHT_ERR_DENIED, "permit %s: does not name station "
		    "%.64s", p->id, station != NULL ? station : "?");
	if (dataset == NULL ||
	    json_object_get(json_object_get(p->root, "datasets"), dataset) == NULL)
		return pht_errf(err, PHT_ERR_DENIED, "permit %s: does not name dataset "
		    "%.64s", p->id, dataset != NULL ? dataset : "?");
	if (code_sha256 == NULL ||
	    (!list_has(json_object_get(p->root, "code_sha256"), code_sha256) &&
	    (approval == NULL || json_object_get(p->root, "reviewers") == NULL))) {
		return pht_errf(err, PHT_ERR_DENIED, "permit %s: does not allow train "
		    "code %.64s%s", p->id, code_sha256 != NULL ? code_sha256 : "?",
		    json_object_get(p->root, "reviewers") != NULL && approval == NULL ?
		    " (and the train carries no code approval)" : "");
	}
	if (!list_has(json_object_get(p->root, "code_sha256"), code_sha256)) {
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

	return cols != NULL && column != NULL && list_has(cols, column);
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

/* Adds a string array member; PHT_ERR_INVALID for NULL or non-UTF-8 entries. */
static int
set_list(json_t *obj, const char *what, const char *name,
    const char *const *items, size_t n, struct pht_err *err)
{
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL || json_object_set_new(obj, name, a) != 0)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (items[i] == NULL)
			return pht_errf(err, PHT_ERR_INVALID, "%s: field %s: entry %zu is "
			    "NULL", what, name, i + 1);
		if (json_array_append_new(a, json_string(items[i])) != 0)
			return pht_errf(err, PHT_ERR_INVALID, "%s: field %s: entry %zu is "
			    "not valid UTF-8", what, name, i + 1);
	}
	return PHT_OK;
}

static int
set_time(json_t *obj, const char *what, const char *name, int64_t t,
    struct pht_err *err)
{
	char s[21];

	if (t < 0 || t > MAX_TIME)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: malformed field %s: out of "
		    "range", what, name);
	pht_time_format(t, s);
	if (json_object_set_new(obj, name, json_string(s)) != 0)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	return PHT_OK;
}

static int
set_string(json_t *obj, const char *what, const char *name, const char *s,
    struct pht_err *err)
{
	if (s == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "%s: field %s: missing", what, name);
	if (json_object_set_new(obj, name, json_string(s)) != 0)
		return pht_errf(err, PHT_ERR_INVALID, "%s: field %s: not valid UTF-8",
		    what, name);
	return PHT_OK;
}

/* Dumps obj, checks it with the kind's parser (parse), hands the text over. */
static int
finish_build(json_t *obj, int (*check)(const char *, size_t, struct pht_err *),
    char **out, size_t *outlen, struct pht_err *err)
{
	char *text;
	int r;

	if ((text = pht_json_dump(obj)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = check(text, strlen(text), err)) != PHT_OK) {
		free(text);
		return r;
	}
	if (outlen != NULL)
		*outlen = strlen(text);
	*out = text;
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

int
pht_permit_build(const struct pht_permit_spec *s, char **out, size_t *outlen,
    struct pht_err *err)
{
	const char *W = "permit";
	json_t *obj = NULL, *a, *ds, *u;
	size_t i;
	int r;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((obj = json_object()) == NULL ||
	    json_object_set_new(obj, "kind", json_string(PHT_PERMIT_KIND)) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = set_string(obj, W, "id", s->id, err)) != PHT_OK ||
	    (r = set_string(obj, W, "purpose", s->purpose, err)) != PHT_OK ||
	    (r = set_time(obj, W, "issued", s->issued, err)) != PHT_OK ||
	    (r = set_time(obj, W, "valid_from", s->valid_from, err)) != PHT_OK ||
	    (r = set_time(obj, W, "valid_until", s->valid_until, err)) != PHT_OK ||
	    (r = set_list(obj, W, "stations", s->stations, s->nstations, err)) != PHT_OK ||
	    (s->ncodes > 0 && (r = set_list(obj, W, "code_sha256", s->code_sha256,
	    s->ncodes, err)) != PHT_OK) ||
	    (s->nrow_access > 0 && (r = set_list(obj, W, "row_access", s->row_access,
	    s->nrow_access, err)) != PHT_OK))
		goto out;
	if (s->nreviewers > 0) {
		json_t *ra = json_array();
		if (ra == NULL || json_object_set_new(obj, "reviewers", ra) != 0) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < s->nreviewers; i++) {
			if ((u = json_object()) == NULL || json_array_append_new(ra, u) != 0) {
				r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
				goto out;
			}
			if (s->reviewers[i].name == NULL || s->reviewers[i].key == NULL) {
				r = pht_errf(err, PHT_ERR_INVALID, "permit: field reviewers: "
				    "entry %zu has no %s", i + 1, s->reviewers[i].name == NULL ?
				    "name" : "key");
				goto out;
			}
			if ((r = set_string(u, W, "name", s->reviewers[i].name, err)) != PHT_OK ||
			    (r = set_string(u, W, "key", s->reviewers[i].key, err)) != PHT_OK)
				goto out;
		}
	}
	if ((a = json_array()) == NULL || json_object_set_new(obj, "users", a) != 0 ||
	    (ds = json_object()) == NULL || json_object_set_new(obj, "datasets", ds) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < s->nusers; i++) {
		if ((u = json_object()) == NULL || json_array_append_new(a, u) != 0) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (s->users[i].name == NULL || s->users[i].key == NULL) {
			r = pht_errf(err, PHT_ERR_INVALID, "permit: field users: entry %zu "
			    "has no %s", i + 1, s->users[i].name == NULL ? "name" : "key");
			goto out;
		}
		if ((r = set_string(u, W, "name", s->users[i].name, err)) != PHT_OK ||
		    (r = set_string(u, W, "key", s->users[i].key, err)) != PHT_OK)
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
		if ((r = set_list(ds, W, s->datasets[i].name, s->datasets[i].columns,
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
	r = finish_build(obj, check_permit, out, outlen, err);
out:
	json_decref(obj);
	return r;
}

/* ---- code approvals ---- */

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
	if ((r = parse_root(payload, len, W, &a->root, err)) != PHT_OK ||
	    (r = pht_json_only_known(a->root, W, known, err)) != PHT_OK ||
	    (r = pht_json_field_kind(a->root, W, PHT_CODE_APPROVAL_KIND, err)) != PHT_OK ||
	    (r = pht_json_field_time(a->root, W, "issued", 0, &t, err)) != PHT_OK ||
	    (r = check_list(json_object_get(a->root, "code_sha256"), W, "code_sha256",
	    1, PHT_PERMIT_MAX_CODES, ITEM_HEX64, err)) != PHT_OK ||
	    (r = pht_json_field_str(a->root, W, "note", 1, &note, NULL, err)) != PHT_OK)
		goto out;
	if (note != NULL && (strlen(note) == 0 || strlen(note) > MAX_REASON)) {
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
	    list_has(json_object_get(a->root, "code_sha256"), code_sha256);
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

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((obj = json_pack("{s:s}", "kind", PHT_CODE_APPROVAL_KIND)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = set_time(obj, "code approval", "issued", issued, err)) != PHT_OK ||
	    (r = set_list(obj, "code approval", "code_sha256", hashes, n, err)) != PHT_OK ||
	    (note != NULL && (r = set_string(obj, "code approval", "note", note,
	    err)) != PHT_OK))
		goto out;
	r = finish_build(obj, check_code_approval, out, outlen, err);
out:
	json_decref(obj);
	return r;
}

/* ---- revocation lists ---- */

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
	if ((r = check_list(a, W, "revoked", 0, PHT_REVOCATIONS_MAX_IDS,
	    ITEM_IDENT128, err)) != PHT_OK)
		return r;
	rv->n = json_array_size(a);
	if ((rv->ids = calloc(rv->n + 1, sizeof(*rv->ids))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (i = 0; i < rv->n; i++)
		rv->ids[i] = json_string_value(json_array_get(a, i));
	qsort(rv->ids, rv->n, sizeof(*rv->ids), str_cmp);
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
	if ((r = parse_root(payload, len, "revocations", &rv->root, err)) != PHT_OK ||
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
	    sizeof(*rv->ids), str_cmp) != NULL;
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

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((obj = json_pack("{s:s, s:I}", "kind", PHT_REVOCATIONS_KIND, "seq",
	    (json_int_t)seq)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = set_time(obj, "revocations", "issued", issued, err)) != PHT_OK ||
	    (r = set_list(obj, "revocations", "revoked", ids, n, err)) != PHT_OK)
		goto out;
	r = finish_build(obj, check_revocations, out, outlen, err);
out:
	json_decref(obj);
	return r;
}

/* ---- halt orders ---- */

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
	    strlen(h->reason) > MAX_REASON))
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
	if ((r = parse_root(payload, len, "halt", &h->root, err)) != PHT_OK ||
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

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((obj = json_pack("{s:s}", "kind", PHT_HALT_KIND)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = set_string(obj, "halt", "scope", scope, err)) != PHT_OK ||
	    (r = set_time(obj, "halt", "issued", issued, err)) != PHT_OK ||
	    (until != 0 && (r = set_time(obj, "halt", "until", until, err)) != PHT_OK) ||
	    (reason != NULL && (r = set_string(obj, "halt", "reason", reason,
	    err)) != PHT_OK))
		goto out;
	r = finish_build(obj, check_halt, out, outlen, err);
out:
	json_decref(obj);
	return r;
}
