/* pht_station_config_catalog.c — the station config's "catalog" section (docs/catalog.md), checked strictly at parse. */
#include "pht_station_config_catalog.h"
#include "pht_err.h"
#include "pht_json.h"

#include <stdio.h>
#include <string.h>

static int
bad(struct pht_err *err, const char *file, const char *field, const char *reason)
{
	return pht_errf(err, PHT_ERR_MALFORMED, "%s: %s: %s", file, field, reason);
}

static int
is_text(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0 &&
	    json_string_length(v) <= 4096 &&
	    strlen(json_string_value(v)) == json_string_length(v);
}

static int
is_uri(const json_t *v)
{
	const char *s = json_string_value(v);

	return is_text(v) && (strncmp(s, "http://", 7) == 0 ||
	    strncmp(s, "https://", 8) == 0 || strncmp(s, "urn:", 4) == 0) &&
	    strpbrk(s, " \t\r\n\"<>") == NULL;
}

/* Refuses keys of obj not in allowed; obj must be an object. */
static int
only(const json_t *obj, const char *const *allowed, const char *file,
    const char *where, struct pht_err *err)
{
	const char *k;
	char field[256];

	if (!json_is_object(obj))
		return bad(err, file, where, "not an object");
	if ((k = pht_json_unknown(obj, allowed)) == NULL)
		return PHT_OK;
	snprintf(field, sizeof(field), "%s.%.64s", where, k);
	return bad(err, file, field, "unknown field");
}

/* Optional text fields of obj named in names. */
static int
texts(const json_t *obj, const char *const *names, const char *file,
    const char *where, struct pht_err *err)
{
	char field[256];
	json_t *v;
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		if ((v = json_object_get(obj, names[i])) != NULL && !is_text(v)) {
			snprintf(field, sizeof(field), "%s.%s", where, names[i]);
			return bad(err, file, field, "not a non-empty string (at most "
			    "4096 bytes)");
		}
	}
	return PHT_OK;
}

static int
string_array(const json_t *v, int uris, const char *file, const char *field,
    struct pht_err *err)
{
	json_t *x;
	size_t i;

	if (v == NULL)
		return PHT_OK;
	if (!json_is_array(v) || json_array_size(v) > 256)
		return bad(err, file, field, "not an array (at most 256 entries)");
	json_array_foreach(v, i, x)
		if (uris ? !is_uri(x) : !is_text(x))
			return bad(err, file, field, uris ? "entries must be http(s) or "
			    "urn: URIs" : "entries must be non-empty strings");
	return PHT_OK;
}

int
pht_station_config_check_catalog(const json_t *s, const json_t *datasets,
    const char *file, struct pht_err *err)
{
	static const char *const known[] = {"title", "description", "publisher",
	    "contact", "access_rights", "legislation", "keywords", "datasets", NULL};
	static const char *const known_contact[] = {"name", "email", "url", NULL};
	static const char *const known_ds[] = {"title", "description", "keywords",
	    "coding", NULL};
	static const char *const t_top[] = {"title", "description", "publisher", NULL};
	static const char *const t_ds[] = {"title", "description", NULL};
	const json_t *c, *a, *d, *x;
	const char *name, *col;
	json_t *v, *u;
	char where[160], field[256];
	int r;

	if ((r = only(s, known, file, "catalog", err)) != PHT_OK ||
	    (r = texts(s, t_top, file, "catalog", err)) != PHT_OK)
		return r;
	if ((c = json_object_get(s, "contact")) != NULL) {
		if ((r = only(c, known_contact, file, "catalog.contact", err)) != PHT_OK ||
		    (r = texts(c, known_contact, file, "catalog.contact", err)) != PHT_OK)
			return r;
		if ((x = json_object_get(c, "email")) != NULL &&
		    strchr(json_string_value(x), '@') == NULL)
			return bad(err, file, "catalog.contact.email", "not an e-mail address");
		if ((x = json_object_get(c, "url")) != NULL && !is_uri(x))
			return bad(err, file, "catalog.contact.url", "not an http(s) URI");
	}
	if ((a = json_object_get(s, "access_rights")) != NULL &&
	    (!json_is_string(a) || (strcmp(json_string_value(a), "public") != 0 &&
	    strcmp(json_string_value(a), "restricted") != 0 &&
	    strcmp(json_string_value(a), "non-public") != 0)))
		return bad(err, file, "catalog.access_rights", "must be \"public\", "
		    "\"restricted\" or \"non-public\"");
	if ((r = string_array(json_object_get(s, "legislation"), 1, file,
	    "catalog.legislation", err)) != PHT_OK ||
	    (r = string_array(json_object_get(s, "keywords"), 0, file,
	    "catalog.keywords", err)) != PHT_OK)
		return r;
	if ((d = json_object_get(s, "datasets")) == NULL)
		return PHT_OK;
	if (!json_is_object(d))
		return bad(err, file, "catalog.datasets", "not an object (dataset name -> "
		    "{title, description, keywords, coding})");
	json_object_foreach((json_t *)d, name, v) {
		snprintf(where, sizeof(where), "catalog.datasets.%.64s", name);
		if (json_object_get(datasets, name) == NULL)
			return bad(err, file, where, "not a dataset of this station");
		if ((r = only(v, known_ds, file, where, err)) != PHT_OK ||
		    (r = texts(v, t_ds, file, where, err)) != PHT_OK)
			return r;
		snprintf(field, sizeof(field), "%s.keywords", where);
		if ((r = string_array(json_object_get(v, "keywords"), 0, file, field,
		    err)) != PHT_OK)
			return r;
		if ((x = json_object_get(v, "coding")) != NULL) {
			snprintf(field, sizeof(field), "%s.coding", where);
			if (!json_is_object(x))
				return bad(err, file, field, "not an object (column -> "
				    "coding system URI)");
			json_object_foreach((json_t *)x, col, u) {
				if (!is_uri(u)) {
					snprintf(field, sizeof(field), "%s.coding.%.64s", where,
					    col);
					return bad(err, file, field, "not an http(s) or urn: URI");
				}
			}
		}
	}
	return PHT_OK;
}
