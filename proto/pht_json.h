/* pht_json.h — parsing untrusted JSON and reading typed fields with clear errors. */
#ifndef PHT_JSON_H
#define PHT_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pht_err;

/*
 * Parses len bytes of untrusted JSON (must be valid UTF-8, one value, no
 * duplicate keys, no NUL bytes, nesting at most 64 deep). what names the
 * input in the error ("envelope"). *out is NULL on failure and the detail
 * gives line:column and jansson's reason. PHT_ERR_MALFORMED on failure.
 */
int pht_json_parse(const char *data, size_t len, const char *what,
    json_t **out, struct pht_err *err);

/*
 * Typed field getters on an object. Each returns PHT_ERR_MALFORMED with a
 * detail "WHAT: field NAME: reason" when the field is missing (unless the
 * _opt variant is used, which leaves *out untouched and returns PHT_OK) or
 * has the wrong type. Returned strings are borrowed from obj.
 */
int pht_json_get_str(const json_t *obj, const char *name, const char *what,
    const char **out, struct pht_err *err);
int pht_json_get_str_opt(const json_t *obj, const char *name, const char *what,
    const char **out, struct pht_err *err);
int pht_json_get_int(const json_t *obj, const char *name, const char *what,
    int64_t *out, struct pht_err *err);
int pht_json_get_int_opt(const json_t *obj, const char *name, const char *what,
    int64_t *out, struct pht_err *err);
int pht_json_get_num_opt(const json_t *obj, const char *name, const char *what,
    double *out, struct pht_err *err);
int pht_json_get_bool_opt(const json_t *obj, const char *name, const char *what,
    int *out, struct pht_err *err);
int pht_json_get_array(const json_t *obj, const char *name, const char *what,
    json_t **out, struct pht_err *err);
int pht_json_get_object(const json_t *obj, const char *name, const char *what,
    json_t **out, struct pht_err *err);

/* Serializes compactly with sorted keys; caller frees. NULL on OOM. */
char *pht_json_dump(const json_t *v);

#endif
