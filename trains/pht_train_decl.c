/* pht_train_decl.c — a train's declared params: the parser, the checks against params and a dictionary, the text describe prints. */
#include "pht_train_decl.h"
#include "pht_buf.h"
#include "pht_err.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECL_MAX_PARAMS 128
#define DECL_NAME_MAX 64
#define DECL_SHOW_MAX 64        /* characters of a value quoted back */

/* The JSON shapes a param may take (a declaration's type is a union of them). */
enum {
	T_STRING = 1 << 0, T_NUMBER = 1 << 1, T_INTEGER = 1 << 2, T_BOOLEAN = 1 << 3,
	T_OBJECT = 1 << 4, T_ARRAY = 1 << 5, T_STRINGS = 1 << 6, T_NUMBERS = 1 << 7,
	T_COLUMN = 1 << 8, T_COLUMNS = 1 << 9, T_COLUMN_MAP = 1 << 10, T_ANY = 1 << 11,
};
#define T_COLUMNISH (T_COLUMN | T_COLUMNS | T_COLUMN_MAP)

static const struct {
	const char *name;       /* as declared */
	unsigned bit;
	const char *says;       /* in messages and describe */
} decl_types[] = {
	{"string", T_STRING, "a string"}, {"number", T_NUMBER, "a number"},
	{"integer", T_INTEGER, "an integer"}, {"boolean", T_BOOLEAN, "true or false"},
	{"object", T_OBJECT, "an object"}, {"array", T_ARRAY, "an array"},
	{"strings", T_STRINGS, "an array of strings"},
	{"numbers", T_NUMBERS, "an array of numbers"},
	{"column", T_COLUMN, "a column name"},
	{"columns", T_COLUMNS, "an array of column names"},
	{"column map", T_COLUMN_MAP, "an object keyed by column names"},
	{"any", T_ANY, "any value"},
};
#define NTYPES (sizeof(decl_types) / sizeof(decl_types[0]))

/* The dictionary's column types (docs/dataset.md), as a bit set. */
static const char *const col_types[] = {"number", "integer", "category", "date", "boolean"};
#define NCOLTYPES (sizeof(col_types) / sizeof(col_types[0]))

/* One declared param; strings and values are borrowed from the meta object. */
struct decl_param {
	const char *name, *doc;
	const char *only_with;   /* a column param used only when this param names a column */
	unsigned types;
	unsigned coltypes;       /* allowed dictionary types (bit i: col_types[i]); 0: any */
	int required, internal, empty_ok, has_min, has_max;
	double min, max;
	const json_t *def;       /* default, or NULL */
	const json_t *values;    /* allowed strings, or NULL */
};

struct pht_train_decl {
	const char *name, *version, *releases;
	struct decl_param *p;
	size_t n;
};

void
pht_train_decl_free(struct pht_train_decl *d)
{
	if (d == NULL)
		return;
	free(d->p);
	free(d);
}

static const struct decl_param *find(const struct pht_train_decl *d, const char *name);

/* ---- parsing ---- */

static int
valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > DECL_NAME_MAX || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* "number|string" into a bit set; 0 if a part is not a type. */
static unsigned
parse_types(const char *s)
{
	unsigned bits = 0;
	const char *p = s, *bar;
	size_t i, len;

	for (;;) {
		bar = strchr(p, '|');
		len = bar != NULL ? (size_t)(bar - p) : strlen(p);
		for (i = 0; i < NTYPES; i++)
			if (strlen(decl_types[i].name) == len &&
			    memcmp(decl_types[i].name, p, len) == 0)
				break;
		if (i == NTYPES)
			return 0;
		bits |= decl_types[i].bit;
		if (bar == NULL)
			return bits;
		p = bar + 1;
	}
}

static int
is_integral(const json_t *v)
{
	double x;

	if (json_is_integer(v))
		return 1;
	if (!json_is_real(v))
		return 0;
	x = json_real_value(v);
	return isfinite(x) && x == floor(x) && fabs(x) < 9007199254740992.0;
}

static int
all_of(const json_t *a, int (*is)(const json_t *))
{
	const json_t *e;
	size_t i;

	if (!json_is_array(a))
		return 0;
	json_array_foreach(a, i, e)
		if (!is(e))
			return 0;
	return 1;
}

static int is_string(const json_t *v) { return json_is_string(v); }
static int is_number(const json_t *v) { return json_is_number(v); }

/* The bits of types that v matches. */
static unsigned
matches(const json_t *v)
{
	unsigned m = T_ANY;

	if (json_is_string(v))
		m |= T_STRING | T_COLUMN;
	if (json_is_number(v))
		m |= T_NUMBER;
	if (is_integral(v))
		m |= T_INTEGER;
	if (json_is_boolean(v))
		m |= T_BOOLEAN;
	if (json_is_object(v))
		m |= T_OBJECT | T_COLUMN_MAP;
	if (json_is_array(v))
		m |= T_ARRAY;
	if (all_of(v, is_string))
		m |= T_STRINGS | T_COLUMNS;
	if (all_of(v, is_number))
		m |= T_NUMBERS;
	return m;
}

static int
entry_error(struct pht_err *err, size_t i, const char *name, const char *what)
{
	return pht_errf(err, PHT_ERR_TRAIN, "params[%zu]%s%s%s: %s", i + 1,
	    name != NULL ? " (" : "", name != NULL ? name : "", name != NULL ? ")" : "",
	    what);
}

/* The fields of entry i that are not its name or type. */
static int
parse_fields(const json_t *e, size_t i, struct decl_param *p, struct pht_err *err)
{
	const char *key;
	const json_t *v, *t;
	size_t j, k;

	json_object_foreach((json_t *)e, key, v) {
		if (strcmp(key, "name") == 0 || strcmp(key, "type") == 0)
			continue;
		if (strcmp(key, "doc") == 0 && json_is_string(v)) {
			p->doc = json_string_value(v);
		} else if (strcmp(key, "required") == 0 && json_is_boolean(v)) {
			p->required = json_is_true(v);
		} else if (strcmp(key, "default") == 0) {
			p->def = v;
		} else if (strcmp(key, "set_by") == 0 && json_is_string(v) &&
		    strcmp(json_string_value(v), "combine") == 0) {
			p->internal = 1;
		} else if (strcmp(key, "empty") == 0 && json_is_boolean(v) &&
		    (p->types & T_COLUMN)) {
			p->empty_ok = json_is_true(v);
		} else if (strcmp(key, "only_with") == 0 && json_is_string(v) &&
		    (p->types & T_COLUMN)) {
			p->only_with = json_string_value(v);
		} else if (strcmp(key, "min") == 0 && json_is_number(v)) {
			p->has_min = 1;
			p->min = json_number_value(v);
		} else if (strcmp(key, "max") == 0 && json_is_number(v)) {
			p->has_max = 1;
			p->max = json_number_value(v);
		} else if (strcmp(key, "values") == 0 && all_of(v, is_string) &&
		    json_array_size(v) > 0 && (p->types & (T_STRING | T_STRINGS))) {
			p->values = v;
		} else if (strcmp(key, "column_types") == 0 && all_of(v, is_string) &&
		    json_array_size(v) > 0 && (p->types & T_COLUMNISH)) {
			json_array_foreach(v, j, t) {
				for (k = 0; k < NCOLTYPES; k++)
					if (strcmp(json_string_value(t), col_types[k]) == 0)
						break;
				if (k == NCOLTYPES)
					return entry_error(err, i, p->name, "column_types: "
					    "each one of number, integer, category, date, boolean");
				p->coltypes |= 1u << k;
			}
		} else {
			char what[160];
			snprintf(what, sizeof(what), "field '%.64s' is not a declaration field "
			    "or does not fit the param's type", key);
			return entry_error(err, i, p->name, what);
		}
	}
	if (p->required && p->def != NULL)
		return entry_error(err, i, p->name, "a required param has no default");
	if (p->def != NULL && (matches(p->def) & p->types) == 0)
		return entry_error(err, i, p->name, "the default does not have the "
		    "declared type");
	return PHT_OK;
}

static int
parse_entry(const json_t *e, size_t i, struct decl_param *p, struct pht_err *err)
{
	const json_t *name = json_object_get(e, "name"), *type = json_object_get(e, "type");

	memset(p, 0, sizeof(*p));
	if (!json_is_object(e))
		return entry_error(err, i, NULL, "each declared param is a table");
	if (!json_is_string(name) || !valid_name(json_string_value(name)))
		return entry_error(err, i, NULL, "name: 1 to 64 letters, digits or _, "
		    "not starting with a digit");
	p->name = json_string_value(name);
	if (!json_is_string(type) || (p->types = parse_types(json_string_value(type))) == 0)
		return entry_error(err, i, p->name, "type: string, number, integer, "
		    "boolean, object, array, strings, numbers, column, columns, column map "
		    "or any, or several joined by |");
	return parse_fields(e, i, p, err);
}

int
pht_train_decl_parse(const json_t *meta, struct pht_train_decl **out,
    struct pht_err *err)
{
	struct pht_train_decl *d = NULL;
	const json_t *params = json_object_get(meta, "params"), *e;
	size_t i, j;
	int r;

	*out = NULL;
	if (!json_is_array(params) || json_array_size(params) == 0)
		return PHT_OK;          /* nothing declared (or the older string form) */
	if (json_array_size(params) > DECL_MAX_PARAMS)
		return pht_errf(err, PHT_ERR_TRAIN, "params: at most %d declared params",
		    DECL_MAX_PARAMS);
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->p = calloc(json_array_size(params), sizeof(*d->p))) == NULL) {
		pht_train_decl_free(d);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	d->name = json_string_value(json_object_get(meta, "name"));
	d->version = json_string_value(json_object_get(meta, "version"));
	d->releases = json_string_value(json_object_get(meta, "releases"));
	json_array_foreach(params, i, e) {
		if ((r = parse_entry(e, i, &d->p[i], err)) != PHT_OK) {
			pht_train_decl_free(d);
			return r;
		}
		for (j = 0; j < i; j++)
			if (strcmp(d->p[j].name, d->p[i].name) == 0) {
				r = entry_error(err, i, d->p[i].name, "declared twice");
				pht_train_decl_free(d);
				return r;
			}
		d->n++;
	}
	for (i = 0; i < d->n; i++)
		if (d->p[i].only_with != NULL && find(d, d->p[i].only_with) == NULL) {
			r = entry_error(err, i, d->p[i].name, "only_with names no declared param");
			pht_train_decl_free(d);
			return r;
		}
	*out = d;
	return PHT_OK;
}

/* ---- suggestions ---- */

size_t
pht_train_decl_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best;
	size_t row[3][DECL_NAME_MAX + 1];     /* rows i - 2, i - 1, i */
	size_t *p2 = row[0], *p1 = row[1], *cur = row[2], *t;

	if (la > DECL_NAME_MAX || lb > DECL_NAME_MAX)
		return DECL_NAME_MAX;
	for (j = 0; j <= lb; j++)
		p1[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			int same = tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 1]);
			best = p1[j - 1] + (same ? 0 : 1);
			if (p1[j] + 1 < best)
				best = p1[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 2]) && tolower((unsigned char)a[i - 2]) ==
			    tolower((unsigned char)b[j - 1]) && p2[j - 2] + 1 < best)
				best = p2[j - 2] + 1;
			cur[j] = best;
		}
		t = p2;
		p2 = p1;
		p1 = cur;
		cur = t;
	}
	return p1[lb];
}

const char *
pht_train_decl_suggest(const char *word, const char *const *names, size_t n)
{
	size_t i, d, best = (size_t)-1, limit = strlen(word) <= 4 ? 1 : 2;
	const char *pick = NULL;

	for (i = 0; i < n; i++) {
		if (names[i] == NULL || strcmp(names[i], word) == 0)
			continue;
		d = pht_train_decl_distance(word, names[i]);
		if (d <= limit && d < best) {
			best = d;
			pick = names[i];
		}
	}
	return pick;
}

/* ---- checks ---- */

/* A value shown back in a message: printable ASCII, at most DECL_SHOW_MAX characters. */
static const char *
show(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < n && i < DECL_SHOW_MAX; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\'' ?
		    s[i] : '?';
	buf[i] = '\0';
	if (s[i] != '\0' && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	return buf;
}

static char
quote(int flags)
{
	return (flags & PHT_TRAIN_DECL_ANALYST) ? '"' : '\'';
}

static const struct decl_param *
find(const struct pht_train_decl *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->p[i].name, name) == 0)
			return &d->p[i];
	return NULL;
}

/* "a, b or c" of the type names in bits. */
static void
types_say(unsigned bits, char *out, size_t n)
{
	size_t i, o = 0, left = 0, seen = 0;

	for (i = 0; i < NTYPES; i++)
		left += (bits & decl_types[i].bit) != 0;
	out[0] = '\0';
	for (i = 0; i < NTYPES && o < n; i++) {
		if (!(bits & decl_types[i].bit))
			continue;
		seen++;
		o += (size_t)snprintf(out + o, n - o, "%s%s",
		    seen == 1 ? "" : seen == left ? " or " : ", ", decl_types[i].says);
	}
}

/* What v is, for "must be X, not Y". */
static const char *
json_says(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return is_integral(v) ? "an integer" : "a fractional number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	default: return "null";
	}
}

static int
unknown_param(const struct pht_train_decl *d, const char *key, int flags,
    struct pht_err *err)
{
	const char *names[DECL_MAX_PARAMS] = {NULL}, *close;
	char known[400], shown[DECL_SHOW_MAX + 1], hint[120];
	size_t i, n = 0, o = 0;
	char q = quote(flags);

	known[0] = '\0';
	for (i = 0; i < d->n; i++) {
		if (d->p[i].internal)
			continue;
		names[n++] = d->p[i].name;
		if (o < sizeof(known))
			o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s",
			    n == 1 ? "" : ", ", d->p[i].name);
	}
	snprintf(hint, sizeof(hint), ";");
	if ((close = pht_train_decl_suggest(key, names, n)) != NULL)
		snprintf(hint, sizeof(hint), "; did you mean %c%s%c?", q, close, q);
	return pht_errf(err, PHT_ERR_INVALID, "unknown param %c%s%c%s %s takes %s", q,
	    show(key, shown, sizeof(shown)), q, hint, d->name != NULL ? d->name : "the train",
	    n > 0 ? known : "no params");
}

/* The declared values and range of a present param p = v. */
static int
check_value(const struct decl_param *p, const json_t *v, int flags, struct pht_err *err)
{
	const json_t *e, *a;
	const char *names[64] = {NULL}, *close;
	char shown[DECL_SHOW_MAX + 1], list[400], hint[120];
	size_t i, j, n = 0, o = 0;
	char q = quote(flags);

	if (p->has_min || p->has_max) {
		json_array_foreach(json_is_array(v) ? v : NULL, i, e)
			if (json_is_number(e) && ((p->has_min && json_number_value(e) < p->min) ||
			    (p->has_max && json_number_value(e) > p->max)))
				break;
		if (json_is_array(v) && i < json_array_size(v))
			v = json_array_get(v, i);
		if (json_is_number(v) && ((p->has_min && json_number_value(v) < p->min) ||
		    (p->has_max && json_number_value(v) > p->max))) {
			if (p->has_min && p->has_max)
				return pht_errf(err, PHT_ERR_INVALID, "%s: %.17g is outside "
				    "[%.17g, %.17g]", p->name, json_number_value(v), p->min, p->max);
			return pht_errf(err, PHT_ERR_INVALID, "%s: %.17g is %s %.17g",
			    p->name, json_number_value(v), p->has_min ? "below the least value" :
			    "above the largest value", p->has_min ? p->min : p->max);
		}
	}
	if (p->values == NULL)
		return PHT_OK;
	json_array_foreach(p->values, j, a) {
		if (n < 64)
			names[n++] = json_string_value(a);
		if (o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%c%s%c",
			    j == 0 ? "" : ", ", q, json_string_value(a), q);
	}
	for (i = 0; i < (json_is_array(v) ? json_array_size(v) : 1); i++) {
		e = json_is_array(v) ? json_array_get(v, i) : v;
		if (!json_is_string(e))
			continue;
		for (j = 0; j < n && strcmp(names[j], json_string_value(e)) != 0; j++)
			;
		if (j < n)
			continue;
		hint[0] = '\0';
		if ((close = pht_train_decl_suggest(json_string_value(e), names, n)) != NULL)
			snprintf(hint, sizeof(hint), "; did you mean %c%s%c?", q, close, q);
		return pht_errf(err, PHT_ERR_INVALID, "%s: %c%s%c is not one of %s%s",
		    p->name, q, show(json_string_value(e), shown, sizeof(shown)), q, list,
		    hint);
	}
	return PHT_OK;
}

int
pht_train_decl_check_params(const struct pht_train_decl *d, const json_t *params,
    int flags, struct pht_err *err)
{
	const struct decl_param *p;
	const json_t *v;
	const char *key;
	char want[200];
	size_t i;
	int r;

	if (d == NULL)
		return PHT_OK;
	if (params != NULL && !json_is_object(params))
		return pht_errf(err, PHT_ERR_INVALID, "params must be a JSON object");
	json_object_foreach((json_t *)params, key, v) {
		if ((p = find(d, key)) == NULL)
			return unknown_param(d, key, flags, err);
		if (p->internal && (flags & PHT_TRAIN_DECL_ANALYST) && !json_is_null(v))
			return pht_errf(err, PHT_ERR_INVALID, "%s: set by the train's combine "
			    "between rounds, not by the analyst", key);
	}
	for (i = 0; i < d->n; i++) {
		p = &d->p[i];
		v = params != NULL ? json_object_get(params, p->name) : NULL;
		if (v == NULL || json_is_null(v)) {
			if (p->required)
				return pht_errf(err, PHT_ERR_INVALID, "missing param %c%s%c "
				    "(required)%s%s", quote(flags), p->name, quote(flags),
				    p->doc != NULL ? ": " : "", p->doc != NULL ? p->doc : "");
			continue;
		}
		if ((matches(v) & p->types) == 0) {
			types_say(p->types, want, sizeof(want));
			if (json_is_array(v) && (p->types & (T_STRINGS | T_COLUMNS | T_NUMBERS)))
				for (size_t k = 0; k < json_array_size(v); k++) {
					const json_t *e = json_array_get(v, k);
					if ((p->types & T_NUMBERS) ? !json_is_number(e) :
					    !json_is_string(e))
						return pht_errf(err, PHT_ERR_INVALID, "%s must be "
						    "%s; element %zu is %s", p->name, want, k + 1,
						    json_says(e));
				}
			return pht_errf(err, PHT_ERR_INVALID, "%s must be %s, not %s",
			    p->name, want, json_says(v));
		}
		if ((r = check_value(p, v, flags, err)) != PHT_OK)
			return r;
	}
	return PHT_OK;
}

/* The dictionary's entry for name, or NULL. */
static const json_t *
dict_column(const json_t *cols, const char *name)
{
	const json_t *c;
	size_t i;

	json_array_foreach(cols, i, c)
		if (json_is_string(json_object_get(c, "name")) &&
		    strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
			return c;
	return NULL;
}

static int
is_identifier(const json_t *c)
{
	const char *role = json_string_value(json_object_get(c, "role"));

	return role != NULL && strcmp(role, "identifier") == 0;
}

/* "a category, boolean or integer" of the column types in bits. */
static void
coltypes_say(unsigned bits, char *out, size_t n)
{
	size_t i, o = 0, left = 0, seen = 0;

	for (i = 0; i < NCOLTYPES; i++)
		left += (bits >> i) & 1;
	out[0] = '\0';
	for (i = 0; i < NCOLTYPES && o < n; i++) {
		if (!((bits >> i) & 1))
			continue;
		seen++;
		o += (size_t)snprintf(out + o, n - o, "%s%s%s",
		    seen == 1 ? (i == 1 ? "an " : "a ") : seen == left ? " or " : ", ",
		    col_types[i], "");
	}
}

/* One column name of param p against the dictionary. */
static int
check_one_column(const struct decl_param *p, const char *name, int is_default,
    const json_t *dict, const char *station, int flags, struct pht_err *err)
{
	const json_t *cols = json_object_get(dict, "columns"), *c;
	const char *dname = json_string_value(json_object_get(dict, "dataset"));
	const char *names[1024] = {NULL}, *close, *type;
	char at[200], hint[120], shown[DECL_SHOW_MAX + 1], want[120], dflt[40];
	size_t i, n = 0, k;
	char q = quote(flags);

	snprintf(at, sizeof(at), "dataset %s%s%s", dname != NULL ? dname : "?",
	    station != NULL ? " at " : "", station != NULL ? station : "");
	snprintf(dflt, sizeof(dflt), "%s", is_default ? " (the param's default)" : "");
	c = dict_column(cols, name);
	if (c != NULL && is_identifier(c))
		return pht_errf(err, PHT_ERR_INVALID, "%s: column %c%s%c%s is the "
		    "identifier of %s, which trains never see", p->name, q, name, q, dflt, at);
	if (c == NULL) {
		json_array_foreach(cols, i, c)
			if (n < 1024 && !is_identifier(c))
				names[n++] = json_string_value(json_object_get(c, "name"));
		hint[0] = '\0';
		if ((close = pht_train_decl_suggest(name, names, n)) != NULL)
			snprintf(hint, sizeof(hint), "; did you mean %c%s%c?", q, close, q);
		return pht_errf(err, PHT_ERR_INVALID, "%s: column %c%s%c%s is not in %s%s",
		    p->name, q, show(name, shown, sizeof(shown)), q, dflt, at, hint);
	}
	if (p->coltypes == 0)
		return PHT_OK;
	type = json_string_value(json_object_get(c, "type"));
	for (k = 0; k < NCOLTYPES && (type == NULL || strcmp(type, col_types[k]) != 0); k++)
		;
	if (k < NCOLTYPES && ((p->coltypes >> k) & 1))
		return PHT_OK;
	coltypes_say(p->coltypes, want, sizeof(want));
	return pht_errf(err, PHT_ERR_INVALID, "%s: column %c%s%c%s of %s is a%s %s "
	    "column; %s takes %s column", p->name, q, name, q, dflt, at,
	    type != NULL && type[0] == 'i' ? "n" : "", type != NULL ? type : "?", p->name,
	    want);
}

/* The value of param p: given in params, else its default (NULL: neither). */
static const json_t *
effective(const struct decl_param *p, const json_t *params)
{
	const json_t *v = params != NULL ? json_object_get(params, p->name) : NULL;

	return v != NULL && !json_is_null(v) ? v : p->def;
}

/* 0 when p is used only with another column param that names no column. */
static int
in_use(const struct pht_train_decl *d, const struct decl_param *p, const json_t *params)
{
	const struct decl_param *o;
	const json_t *v;

	if (p->only_with == NULL || (o = find(d, p->only_with)) == NULL)
		return 1;
	v = effective(o, params);
	return json_is_string(v) && json_string_length(v) > 0;
}

int
pht_train_decl_check_columns(const struct pht_train_decl *d, const json_t *params,
    const json_t *dict, const char *station, int flags, struct pht_err *err)
{
	const struct decl_param *p;
	const json_t *v, *e;
	const char *key;
	size_t i, j;
	int r, dflt;

	if (d == NULL)
		return PHT_OK;
	if (!json_is_array(json_object_get(dict, "columns")))
		return pht_errf(err, PHT_ERR_INVALID, "the dictionary has no columns");
	for (i = 0; i < d->n; i++) {
		p = &d->p[i];
		if (!(p->types & T_COLUMNISH))
			continue;
		v = params != NULL ? json_object_get(params, p->name) : NULL;
		dflt = v == NULL || json_is_null(v);
		if (dflt)
			v = p->def;
		if (v == NULL || !in_use(d, p, params))
			continue;
		if ((p->types & T_COLUMN) && json_is_string(v)) {
			if (p->empty_ok && json_string_length(v) == 0)
				continue;
			if ((r = check_one_column(p, json_string_value(v), dflt, dict, station,
			    flags, err)) != PHT_OK)
				return r;
		} else if ((p->types & T_COLUMNS) && all_of(v, is_string)) {
			json_array_foreach(v, j, e)
				if ((r = check_one_column(p, json_string_value(e), dflt, dict,
				    station, flags, err)) != PHT_OK)
					return r;
		} else if ((p->types & T_COLUMN_MAP) && json_is_object(v)) {
			json_object_foreach((json_t *)v, key, e)
				if ((r = check_one_column(p, key, dflt, dict, station, flags,
				    err)) != PHT_OK)
					return r;
		}
	}
	return PHT_OK;
}

/* ---- describe ---- */

/* Writes text with each line indented by pad spaces. */
static void
put_indented(struct pht_buf *b, const char *text, int pad)
{
	const char *p = text, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		pht_buf_putf(b, "%*s%.*s\n", pad, "", (int)(nl != NULL ? nl - p : (long)strlen(p)),
		    p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

static void
format_param(struct pht_buf *b, const struct decl_param *p, size_t width)
{
	char want[200], cols[120], *dump;

	types_say(p->types, want, sizeof(want));
	pht_buf_putf(b, "  %-*s %s", (int)width, p->name, want);
	if (p->coltypes != 0) {
		coltypes_say(p->coltypes, cols, sizeof(cols));
		pht_buf_putf(b, " (%s column)", cols);
	}
	if (p->empty_ok)
		pht_buf_puts(b, " (\"\" leaves it out)");
	if (p->has_min && p->has_max)
		pht_buf_putf(b, " in [%.17g, %.17g]", p->min, p->max);
	else if (p->has_min)
		pht_buf_putf(b, " >= %.17g", p->min);
	else if (p->has_max)
		pht_buf_putf(b, " <= %.17g", p->max);
	if (p->internal)
		pht_buf_puts(b, "; set by combine between rounds");
	else if (p->required)
		pht_buf_puts(b, "; required");
	else if (p->def != NULL &&
	    (dump = json_dumps(p->def, JSON_ENCODE_ANY | JSON_COMPACT |
	    JSON_REAL_PRECISION(15))) != NULL) {
		pht_buf_putf(b, "; default %s", dump);
		free(dump);
	} else
		pht_buf_puts(b, "; optional");
	pht_buf_puts(b, "\n");
	if (p->values != NULL) {
		dump = json_dumps(p->values, JSON_COMPACT);
		pht_buf_putf(b, "  %-*s one of %s\n", (int)width, "", dump != NULL ? dump : "?");
		free(dump);
	}
	if (p->doc != NULL)
		put_indented(b, p->doc, (int)width + 3);
}

int
pht_train_decl_format(const struct pht_train_decl *d, const json_t *meta,
    struct pht_buf *b)
{
	const json_t *params = json_object_get(meta, "params"), *v;
	const char *key, *releases = json_string_value(json_object_get(meta, "releases"));
	size_t i, width = 4;

	pht_buf_putf(b, "%s %s\n", json_string_value(json_object_get(meta, "name")) ?
	    json_string_value(json_object_get(meta, "name")) : "?",
	    json_string_value(json_object_get(meta, "version")) ?
	    json_string_value(json_object_get(meta, "version")) : "?");
	if (d != NULL) {
		for (i = 0; i < d->n; i++)
			if (strlen(d->p[i].name) > width)
				width = strlen(d->p[i].name);
		pht_buf_puts(b, "\nparams:\n");
		for (i = 0; i < d->n; i++)
			format_param(b, &d->p[i], width);
	} else if (json_is_object(params) && json_object_size(params) > 0) {
		pht_buf_puts(b, "\nparams (described, not declared: nothing is checked):\n");
		json_object_foreach((json_t *)params, key, v)
			pht_buf_putf(b, "  %s: %s\n", key, json_is_string(v) ?
			    json_string_value(v) : "?");
	} else {
		pht_buf_puts(b, "\nparams: none declared\n");
	}
	if (releases != NULL) {
		pht_buf_puts(b, "\nreleases:\n");
		put_indented(b, releases, 2);
	}
	if (pht_buf_len(b) + 1 >= pht_buf_max(b))
		return PHT_ERR_TOO_LARGE;
	return PHT_OK;
}
