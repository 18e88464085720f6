/* pht_permit_fields.h — internal to proto: checks and builders shared by the four governance message kinds. */
#ifndef PHT_PERMIT_FIELDS_H
#define PHT_PERMIT_FIELDS_H

/*
 * Permits (pht_permit.c), code approvals (pht_code_approval.c), revocation
 * lists (pht_revocations.c) and halt orders (pht_halt.c) share these; the
 * public interface of all four is pht_permit.h. Field readers are the
 * strict ones of pht_json.h; errors read "WHAT: malformed field NAME: WHY".
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pht_err;

#define PHT_PERMIT_MAX_TIME INT64_C(253402300799)  /* 9999-12-31T23:59:59Z */
#define PHT_PERMIT_MAX_REASON 1024

/* What every entry of a list must be. */
enum pht_permit_item {
	PHT_PERMIT_ITEM_NAME,   /* pht_name_ok */
	PHT_PERMIT_ITEM_ID,     /* pht_id_ok */
	PHT_PERMIT_ITEM_LABEL,  /* 1..128 printable ASCII characters */
	PHT_PERMIT_ITEM_HEX64,  /* 64 lower-case hex digits */
};

/* 1 if s is 1..128 printable ASCII characters, else 0. */
int pht_permit_is_label(const char *s);

/* 1 if s is exactly 64 lower-case hex digits, else 0. */
int pht_permit_is_hex64(const char *s);

/* strcmp on two const char * elements, for qsort and bsearch. */
int pht_permit_str_cmp(const void *a, const void *b);

/*
 * Checks that a (the member field of a WHAT message; NULL if absent) is an
 * array of min..max distinct strings of the kind rule. PHT_ERR_MALFORMED
 * naming the first bad entry, PHT_ERR_NOMEM.
 */
int pht_permit_check_list(const json_t *a, const char *what, const char *field,
    size_t min, size_t max, enum pht_permit_item rule, struct pht_err *err);

/* 1 if the array a (may be NULL) holds the string s, else 0. */
int pht_permit_list_has(const json_t *a, const char *s);

/*
 * The common start of the four parsers: at most PHT_PERMIT_MAX bytes, JSON
 * (pht_json_parse), an object. *root (caller decrefs) is NULL on failure:
 * PHT_ERR_TOO_LARGE, PHT_ERR_MALFORMED (detail printable ASCII only).
 */
int pht_permit_parse_root(const uint8_t *payload, size_t len, const char *what,
    json_t **root, struct pht_err *err);

/* Builders: add a member to obj. PHT_ERR_INVALID for NULL or non-UTF-8 text,
 * PHT_ERR_MALFORMED for a time out of range, PHT_ERR_NOMEM. */
int pht_permit_set_time(json_t *obj, const char *what, const char *name, int64_t t,
    struct pht_err *err);
int pht_permit_set_string(json_t *obj, const char *what, const char *name,
    const char *s, struct pht_err *err);

/*
 * The common start of the four builders: *out = NULL, *outlen = 0 (outlen
 * may be NULL) and *obj = {"kind": kind} (caller decrefs). PHT_OK or
 * PHT_ERR_NOMEM (*obj NULL).
 */
int pht_permit_start_build(const char *kind, json_t **obj, char **out,
    size_t *outlen, struct pht_err *err);

/*
 * Dumps obj, checks the text with the kind's parser (check) and hands it
 * over: *out (caller frees), *outlen (may be NULL). On failure *out is
 * untouched and check's error is returned.
 */
int pht_permit_finish_build(json_t *obj,
    int (*check)(const char *, size_t, struct pht_err *), char **out,
    size_t *outlen, struct pht_err *err);

#endif
