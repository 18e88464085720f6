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

/*
 * Strict fields of signed messages (train, result, envelope, permit and
 * its kin). what names the message ("train"). Every error is
 * PHT_ERR_MALFORMED with the detail "WHAT: malformed field NAME: WHY", so
 * all parsers speak alike; an unknown member is "WHAT: malformed: unknown
 * field NAME" (at most 32 printable characters of it, then "...").
 */

/* Sets err to "WHAT: malformed field NAME: WHY"; returns PHT_ERR_MALFORMED. */
int pht_json_bad(struct pht_err *err, const char *what, const char *name,
    const char *why);

/*
 * The first member of obj (an object) whose name is not in known
 * (NULL-terminated), borrowed from obj; NULL if every member is known.
 * Parsers with their own error format (config files) report it themselves.
 */
const char *pht_json_unknown(const json_t *obj, const char *const *known);

/* Refuses a member of obj that is not in known (NULL-terminated). */
int pht_json_only_known(const json_t *obj, const char *what,
    const char *const *known, struct pht_err *err);

/*
 * A string member without NUL bytes, borrowed from obj; *len (may be NULL)
 * gets its length. Absent: "missing", unless opt (then *out is NULL and
 * PHT_OK).
 */
int pht_json_field_str(const json_t *obj, const char *what, const char *name,
    int opt, const char **out, size_t *len, struct pht_err *err);

/* An integer member in [min, max]; absent and opt: *out untouched, PHT_OK. */
int pht_json_field_int(const json_t *obj, const char *what, const char *name,
    int opt, int64_t min, int64_t max, int64_t *out, struct pht_err *err);

/* An RFC 3339 UTC time member ("YYYY-MM-DDTHH:MM:SSZ"); absent and opt: *t untouched. */
int pht_json_field_time(const json_t *obj, const char *what, const char *name,
    int opt, int64_t *t, struct pht_err *err);

/* The member "kind" equal to kind ("not \"KIND\"" otherwise). */
int pht_json_field_kind(const json_t *obj, const char *what, const char *kind,
    struct pht_err *err);

/*
 * Builders: sets obj's member name to an array of the n strings items.
 * PHT_ERR_INVALID ("WHAT: field NAME: entry I is NULL" or "... is not valid
 * UTF-8"), PHT_ERR_NOMEM.
 */
int pht_json_set_strings(json_t *obj, const char *what, const char *name,
    const char *const *items, size_t n, struct pht_err *err);

/* Serializes compactly with sorted keys; caller frees. NULL on OOM. */
char *pht_json_dump(const json_t *v);

#endif
