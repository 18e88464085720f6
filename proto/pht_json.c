/* pht_json.c — untrusted JSON parsing and field getters. */
#include "pht_json.h"
#include "pht_err.h"
#include "pht_time.h"

#include <inttypes.h>
#include <stdio.h>

#include <string.h>

#define PHT_JSON_MAX_DEPTH 64

static int
depth_ok(const json_t *v, int depth)
{
	const char *k;
	json_t *c;
	size_t i;

	if (depth > PHT_JSON_MAX_DEPTH)
		return 0;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c)
			if (!depth_ok(c, depth + 1))
				return 0;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c)
			if (!depth_ok(c, depth + 1))
				return 0;
	}
	return 1;
}

int
pht_json_parse(const char *data, size_t len, const char *what, json_t **out,
    struct pht_err *err)
{
	json_error_t je;
	json_t *v;

	*out = NULL;
	if (memchr(data, '\0', len) != NULL)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: contains a NUL byte", what);
	v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (v == NULL)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: line %d column %d: %s",
		    what, je.line, je.column, je.text);
	if (!depth_ok(v, 0)) {
		json_decref(v);
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: nested deeper than %d",
		    what, PHT_JSON_MAX_DEPTH);
	}
	*out = v;
	return PHT_OK;
}

static int
field(const json_t *obj, const char *name, const char *what, int required,
    json_t **v, struct pht_err *err)
{
	*v = NULL;
	if (!json_is_object(obj))
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: not a JSON object", what);
	*v = json_object_get(obj, name);
	if (*v == NULL && required)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: field %s: missing", what, name);
	return PHT_OK;
}

static int
wrong(const char *what, const char *name, const char *type, struct pht_err *err)
{
	return pht_errf(err, PHT_ERR_MALFORMED, "%s: field %s: not %s", what, name, type);
}

static int
get_str(const json_t *obj, const char *name, const char *what, int req,
    const char **out, struct pht_err *err)
{
	json_t *v;
	int r;

	if ((r = field(obj, name, what, req, &v, err)) != PHT_OK || v == NULL)
		return r;
	if (!json_is_string(v))
		return wrong(what, name, "a string", err);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: field %s: contains a NUL byte",
		    what, name);
	*out = json_string_value(v);
	return PHT_OK;
}

int
pht_json_get_str(const json_t *obj, const char *name, const char *what,
    const char **out, struct pht_err *err)
{
	*out = NULL;
	return get_str(obj, name, what, 1, out, err);
}

int
pht_json_get_str_opt(const json_t *obj, const char *name, const char *what,
    const char **out, struct pht_err *err)
{
	return get_str(obj, name, what, 0, out, err);
}

static int
get_int(const json_t *obj, const char *name, const char *what, int req,
    int64_t *out, struct pht_err *err)
{
	json_t *v;
	int r;

	if ((r = field(obj, name, what, req, &v, err)) != PHT_OK || v == NULL)
		return r;
	if (!json_is_integer(v))
		return wrong(what, name, "an integer", err);
	*out = (int64_t)json_integer_value(v);
	return PHT_OK;
}

int
pht_json_get_int(const json_t *obj, const char *name, const char *what,
    int64_t *out, struct pht_err *err)
{
	return get_int(obj, name, what, 1, out, err);
}

int
pht_json_get_int_opt(const json_t *obj, const char *name, const char *what,
    int64_t *out, struct pht_err *err)
{
	return get_int(obj, name, what, 0, out, err);
}

int
pht_json_get_num_opt(const json_t *obj, const char *name, const char *what,
    double *out, struct pht_err *err)
{
	json_t *v;
	int r;

	if ((r = field(obj, name, what, 0, &v, err)) != PHT_OK || v == NULL)
		return r;
	if (!json_is_number(v))
		return wrong(what, name, "a number", err);
	*out = json_number_value(v);
	return PHT_OK;
}

int
pht_json_get_bool_opt(const json_t *obj, const char *name, const char *what,
    int *out, struct pht_err *err)
{
	json_t *v;
	int r;

	if ((r = field(obj, name, what, 0, &v, err)) != PHT_OK || v == NULL)
		return r;
	if (!json_is_boolean(v))
		return wrong(what, name, "true or false", err);
	*out = json_is_true(v);
	return PHT_OK;
}

int
pht_json_get_array(const json_t *obj, const char *name, const char *what,
    json_t **out, struct pht_err *err)
{
	json_t *v;
	int r;

	*out = NULL;
	if ((r = field(obj, name, what, 1, &v, err)) != PHT_OK)
		return r;
	if (!json_is_array(v))
		return wrong(what, name, "an array", err);
	*out = v;
	return PHT_OK;
}

int
pht_json_get_object(const json_t *obj, const char *name, const char *what,
    json_t **out, struct pht_err *err)
{
	json_t *v;
	int r;

	*out = NULL;
	if ((r = field(obj, name, what, 1, &v, err)) != PHT_OK)
		return r;
	if (!json_is_object(v))
		return wrong(what, name, "an object", err);
	*out = v;
	return PHT_OK;
}

int
pht_json_bad(struct pht_err *err, const char *what, const char *name,
    const char *why)
{
	return pht_errf(err, PHT_ERR_MALFORMED, "%s: malformed field %s: %s", what,
	    name, why);
}

const char *
pht_json_unknown(const json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] == NULL)
			return key;
	}
	return NULL;
}

int
pht_json_only_known(const json_t *obj, const char *what,
    const char *const *known, struct pht_err *err)
{
	const char *key = pht_json_unknown(obj, known);
	char clean[40];
	size_t i;

	if (key != NULL) {
		for (i = 0; key[i] != '\0' && i < 32; i++)
			clean[i] = (key[i] >= 0x20 && key[i] < 0x7f) ? key[i] : '?';
		if (key[i] != '\0') {
			memcpy(clean + i, "...", 3);
			i += 3;
		}
		clean[i] = '\0';
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: malformed: unknown field %s",
		    what, clean);
	}
	return PHT_OK;
}

int
pht_json_field_str(const json_t *obj, const char *what, const char *name,
    int opt, const char **out, size_t *len, struct pht_err *err)
{
	json_t *v = json_object_get(obj, name);

	*out = NULL;
	if (v == NULL)
		return opt ? PHT_OK : pht_json_bad(err, what, name, "missing");
	if (!json_is_string(v))
		return pht_json_bad(err, what, name, "not a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return pht_json_bad(err, what, name, "contains a NUL byte");
	*out = json_string_value(v);
	if (len != NULL)
		*len = json_string_length(v);
	return PHT_OK;
}

int
pht_json_field_int(const json_t *obj, const char *what, const char *name,
    int opt, int64_t min, int64_t max, int64_t *out, struct pht_err *err)
{
	json_t *v = json_object_get(obj, name);
	char why[96];

	if (v == NULL)
		return opt ? PHT_OK : pht_json_bad(err, what, name, "missing");
	if (!json_is_integer(v))
		return pht_json_bad(err, what, name, "not an integer");
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(why, sizeof(why), "not between %" PRId64 " and %" PRId64, min,
		    max);
		return pht_json_bad(err, what, name, why);
	}
	*out = (int64_t)json_integer_value(v);
	return PHT_OK;
}

int
pht_json_field_time(const json_t *obj, const char *what, const char *name,
    int opt, int64_t *t, struct pht_err *err)
{
	const char *s;
	int r;

	if ((r = pht_json_field_str(obj, what, name, opt, &s, NULL, err)) != PHT_OK ||
	    s == NULL)
		return r;
	if (pht_time_parse(s, t) != PHT_OK)
		return pht_json_bad(err, what, name, "not an RFC 3339 UTC time "
		    "(YYYY-MM-DDTHH:MM:SSZ)");
	return PHT_OK;
}

int
pht_json_field_kind(const json_t *obj, const char *what, const char *kind,
    struct pht_err *err)
{
	const char *s;
	char why[64];
	int r;

	if ((r = pht_json_field_str(obj, what, "kind", 0, &s, NULL, err)) != PHT_OK)
		return r;
	if (strcmp(s, kind) != 0) {
		snprintf(why, sizeof(why), "not \"%s\"", kind);
		return pht_json_bad(err, what, "kind", why);
	}
	return PHT_OK;
}

int
pht_json_set_strings(json_t *obj, const char *what, const char *name,
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

char *
pht_json_dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(17));
}
