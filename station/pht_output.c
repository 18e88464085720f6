/* pht_output.c — plain-data and size checks on a train's output before release. */
#include "pht_output.h"
#include "pht_err.h"
#include "pht_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define OUTPUT_MAX_DEPTH 64
#define OUTPUT_PATH_MAX 256

/* State of one walk: the path so far, the ancestors (for cycles), counts. */
struct walk {
	const struct pht_output_caps *caps;
	char path[OUTPUT_PATH_MAX];
	size_t pathlen;
	const json_t *stack[OUTPUT_MAX_DEPTH + 1];
	size_t depth;
	size_t numbers;
	struct pht_err *err;
};

void
pht_output_caps_default(struct pht_output_caps *caps)
{
	caps->max_bytes = 1024 * 1024;
	caps->max_numbers = 100000;
	caps->max_string = 1024;
}

/* Appends a segment to the path; keeps the old length for restoring. */
static size_t
path_push(struct walk *w, const char *seg)
{
	size_t old = w->pathlen, n = strlen(seg);

	if (old >= 3 && strcmp(w->path + old - 3, "...") == 0)
		return old;
	if (old + n + 4 >= sizeof(w->path)) {
		if (old + 4 < sizeof(w->path)) {
			memcpy(w->path + old, "...", 4);
			w->pathlen = old + 3;
		}
		return old;
	}
	memcpy(w->path + old, seg, n + 1);
	w->pathlen = old + n;
	return old;
}

static void
path_pop(struct walk *w, size_t old)
{
	w->pathlen = old;
	w->path[old] = '\0';
}

/* Path segment for an object key: .name when it is an identifier, else ["..."]. */
static void
key_segment(const char *key, char *seg, size_t segsz)
{
	size_t i, n = strlen(key), o = 0;
	int ident = n > 0 && n <= 40 && !(key[0] >= '0' && key[0] <= '9');

	for (i = 0; ident && i < n; i++) {
		char c = key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_'))
			ident = 0;
	}
	if (ident) {
		snprintf(seg, segsz, ".%s", key);
		return;
	}
	seg[o++] = '[';
	seg[o++] = '"';
	for (i = 0; i < n && i < 40 && o + 6 < segsz; i++) {
		unsigned char c = (unsigned char)key[i];
		seg[o++] = (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) ? '?' : (char)c;
	}
	if (i < n && o + 6 < segsz) {
		memcpy(seg + o, "...", 3);
		o += 3;
	}
	seg[o++] = '"';
	seg[o++] = ']';
	seg[o] = '\0';
}

static int
refuse(struct walk *w, const char *reason)
{
	return pht_errf(w->err, PHT_ERR_DISCLOSURE, "output %s: %s", w->path, reason);
}

static int
check_string(struct walk *w, const char *s, size_t len, const char *what)
{
	char reason[96];

	if (memchr(s, '\0', len) != NULL) {
		snprintf(reason, sizeof(reason), "%s contains a NUL byte", what);
		return refuse(w, reason);
	}
	if (w->caps->max_string != 0 && len > w->caps->max_string) {
		snprintf(reason, sizeof(reason), "%s of %zu bytes exceeds the cap of %zu",
		    what, len, w->caps->max_string);
		return refuse(w, reason);
	}
	return PHT_OK;
}

static int
walk_value(struct walk *w, const json_t *v)
{
	const char *key;
	char seg[128];
	json_t *c;
	size_t i, old;
	int r = PHT_OK;

	for (i = 0; i < w->depth; i++)
		if (w->stack[i] == v)
			return refuse(w, "value contains itself (a cycle)");
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_TRUE:
	case JSON_FALSE:
		return PHT_OK;
	case JSON_INTEGER:
		w->numbers++;
		break;
	case JSON_REAL:
		if (!isfinite(json_real_value(v)))
			return refuse(w, "number is not finite (NaN or infinity)");
		w->numbers++;
		break;
	case JSON_STRING:
		return check_string(w, json_string_value(v), json_string_length(v),
		    "string");
	case JSON_ARRAY:
	case JSON_OBJECT:
		if (w->depth >= OUTPUT_MAX_DEPTH)
			return refuse(w, "nested deeper than 64");
		w->stack[w->depth++] = v;
		if (json_is_array(v)) {
			json_array_foreach(v, i, c) {
				snprintf(seg, sizeof(seg), "[%zu]", i);
				old = path_push(w, seg);
				r = walk_value(w, c);
				path_pop(w, old);
				if (r != PHT_OK)
					break;
			}
		} else {
			json_object_foreach((json_t *)v, key, c) {
				key_segment(key, seg, sizeof(seg));
				old = path_push(w, seg);
				r = check_string(w, key, strlen(key), "object key");
				if (r == PHT_OK)
					r = walk_value(w, c);
				path_pop(w, old);
				if (r != PHT_OK)
					break;
			}
		}
		w->depth--;
		return r;
	default:
		return refuse(w, "not plain data");
	}
	if (w->caps->max_numbers != 0 && w->numbers > w->caps->max_numbers) {
		char reason[96];
		snprintf(reason, sizeof(reason), "more than %zu numeric values",
		    w->caps->max_numbers);
		return refuse(w, reason);
	}
	return PHT_OK;
}

int
pht_output_check(const json_t *out, const struct pht_output_caps *caps,
    struct pht_err *err)
{
	struct walk w;
	size_t bytes;
	int r;

	if (out == NULL)
		return pht_errf(err, PHT_ERR_DISCLOSURE, "output $: no value");
	memset(&w, 0, sizeof(w));
	w.caps = caps;
	w.err = err;
	w.path[0] = '$';
	w.pathlen = 1;
	if ((r = walk_value(&w, out)) != PHT_OK)
		return r;
	bytes = json_dumpb(out, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	if (bytes == 0)
		return pht_errf(err, PHT_ERR_DISCLOSURE, "output $: cannot be serialized");
	if (caps->max_bytes != 0 && bytes > caps->max_bytes)
		return pht_errf(err, PHT_ERR_DISCLOSURE,
		    "output $: %zu bytes exceeds the cap of %zu", bytes, caps->max_bytes);
	return PHT_OK;
}

int
pht_output_check_text(const char *text, size_t len,
    const struct pht_output_caps *caps, json_t **out, struct pht_err *err)
{
	json_t *v = NULL;
	int r;

	*out = NULL;
	if (caps->max_bytes != 0 && len > caps->max_bytes * 2 + 1024)
		return pht_errf(err, PHT_ERR_DISCLOSURE,
		    "output $: %zu bytes of text exceeds the cap of %zu", len,
		    caps->max_bytes);
	if ((r = pht_json_parse(text, len, "output", &v, err)) != PHT_OK) {
		if (err != NULL)
			err->code = PHT_ERR_DISCLOSURE;
		return PHT_ERR_DISCLOSURE;
	}
	if ((r = pht_output_check(v, caps, err)) != PHT_OK) {
		json_decref(v);
		return r;
	}
	*out = v;
	return PHT_OK;
}
