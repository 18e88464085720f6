/* pht_permit_fields.c — field checks and builders shared by permits, code approvals, revocation lists and halt orders. */
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

/* 1..128 printable ASCII characters. */
int
pht_permit_is_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

int
pht_permit_is_hex64(const char *s)
{
	return strlen(s) == 64 && pht_hex_lower_ok(s, 64);
}

static int
item_ok(const char *s, enum pht_permit_item rule)
{
	switch (rule) {
	case PHT_PERMIT_ITEM_NAME: return pht_name_ok(s);
	case PHT_PERMIT_ITEM_ID: return pht_id_ok(s);
	case PHT_PERMIT_ITEM_LABEL: return pht_permit_is_label(s);
	case PHT_PERMIT_ITEM_HEX64: return pht_permit_is_hex64(s);
	}
	return 0;
}

static const char *
rule_text(enum pht_permit_item rule)
{
	switch (rule) {
	case PHT_PERMIT_ITEM_NAME: return "not 1 to 64 of [A-Za-z0-9_.-]";
	case PHT_PERMIT_ITEM_ID: return "not 1 to 128 of [A-Za-z0-9_.-]";
	case PHT_PERMIT_ITEM_LABEL: return "not 1 to 128 printable ASCII characters";
	case PHT_PERMIT_ITEM_HEX64: return "not 64 lower-case hex digits";
	}
	return "bad";
}

int
pht_permit_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Duplicates are found by sorting a copy of the pointers. */
int
pht_permit_check_list(const json_t *a, const char *what, const char *field,
    size_t min, size_t max, enum pht_permit_item rule, struct pht_err *err)
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
	qsort(sorted, n, sizeof(*sorted), pht_permit_str_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
			snprintf(why, sizeof(why), "entry %.128s appears twice", sorted[i]);
			r = pht_json_bad(err, what, field, why);
			break;
		}
	free(sorted);
	return r;
}

int
pht_permit_list_has(const json_t *a, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

int
pht_permit_parse_root(const uint8_t *payload, size_t len, const char *what,
    json_t **root, struct pht_err *err)
{
	int r;

	*root = NULL;
	if (len > PHT_PERMIT_MAX)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "%s: %zu bytes, more than %u",
		    what, len, PHT_PERMIT_MAX);
	if ((r = pht_json_parse((const char *)payload, len, what, root, err)) != PHT_OK) {
		/* jansson may quote the input: keep the detail printable */
		pht_err_scrub(err);
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

int
pht_permit_set_time(json_t *obj, const char *what, const char *name, int64_t t,
    struct pht_err *err)
{
	char s[21];

	if (t < 0 || t > PHT_PERMIT_MAX_TIME)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: malformed field %s: out of "
		    "range", what, name);
	pht_time_format(t, s);
	if (json_object_set_new(obj, name, json_string(s)) != 0)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	return PHT_OK;
}

int
pht_permit_set_string(json_t *obj, const char *what, const char *name,
    const char *s, struct pht_err *err)
{
	if (s == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "%s: field %s: missing", what, name);
	if (json_object_set_new(obj, name, json_string(s)) != 0)
		return pht_errf(err, PHT_ERR_INVALID, "%s: field %s: not valid UTF-8",
		    what, name);
	return PHT_OK;
}

/* Dumps obj, checks it with the kind's parser (parse), hands the text over. */
int
pht_permit_start_build(const char *kind, json_t **obj, char **out,
    size_t *outlen, struct pht_err *err)
{
	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((*obj = json_pack("{s:s}", "kind", kind)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	return PHT_OK;
}

int
pht_permit_finish_build(json_t *obj,
    int (*check)(const char *, size_t, struct pht_err *), char **out,
    size_t *outlen, struct pht_err *err)
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
