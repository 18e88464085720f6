/* pht_output.h — the station's checks on what a train wants to release. */
#ifndef PHT_OUTPUT_H
#define PHT_OUTPUT_H

#include <jansson.h>
#include <stddef.h>

struct pht_err;

/*
 * The output part of a station policy. Zero in a field means "no cap" for
 * that field; pht_output_caps_default gives the station defaults.
 */
struct pht_output_caps {
	size_t max_bytes;    /* compact JSON serialization, bytes */
	size_t max_numbers;  /* numeric values (integers and reals) in all */
	size_t max_string;   /* bytes of any one string value or object key */
};

/* Default caps: 1 MiB, 100000 numbers, 1024-byte strings. */
void pht_output_caps_default(struct pht_output_caps *caps);

/*
 * Checks that out is plain data that may leave the station: objects,
 * arrays, strings, numbers, booleans and null only, every number finite,
 * every string and key valid UTF-8 without NUL bytes and within
 * caps->max_string, at most caps->max_numbers numbers, and a compact
 * serialization of at most caps->max_bytes bytes. A value seen twice on
 * one path (a cycle) is refused too.
 *
 * Returns PHT_OK, or PHT_ERR_DISCLOSURE with a detail giving the reason and
 * the JSONPath of the offending value ("$.result.table[3]: number is not
 * finite"), or PHT_ERR_NOMEM.
 */
int pht_output_check(const json_t *out, const struct pht_output_caps *caps,
    struct pht_err *err);

/*
 * Parses len bytes of untrusted output text (strict JSON: see
 * pht_json_parse; NaN and Infinity are not JSON and are refused) and
 * applies pht_output_check. *out receives the value on success, NULL on
 * failure. PHT_ERR_DISCLOSURE for text that is not one plain JSON value
 * (parse errors included) or fails a check.
 */
int pht_output_check_text(const char *text, size_t len,
    const struct pht_output_caps *caps, json_t **out, struct pht_err *err);

#endif
