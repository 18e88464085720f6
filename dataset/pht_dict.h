/* pht_dict.h — the data dictionary of a dataset: parsing and validation (internal to dataset/). */
#ifndef PHT_DICT_H
#define PHT_DICT_H

#include "pht_dataset.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pht_err;

/*
 * One column as the dictionary declares it. Every string is borrowed from
 * the dictionary's JSON and lives as long as the pht_dict. The struct is
 * visible because only the dataset loader (same folder) uses it.
 * Invariants: name is non-empty and unique in the dictionary; levels are
 * unique, and none of them is also a missing code; level_len[i] and
 * missing_len[i] are the byte lengths (strings hold no NUL).
 */
struct pht_dict_col {
	const char *name;
	enum pht_coltype type;      /* a datetime column is PHT_COL_INTEGER */
	int datetime;               /* type "datetime": seconds since the epoch */
	const char *unit;           /* "" when absent */
	const char *description;    /* "" when absent */
	enum pht_colrole role;      /* PHT_ROLE_VARIABLE when absent */
	size_t nlevels;             /* category only, >= 1 */
	const char **levels;
	size_t *level_len;
	size_t nmissing;
	const char **missing;       /* default {"", "NA"} */
	size_t *missing_len;
};

struct pht_dict {
	json_t *json;               /* the parsed document (owned) */
	const char *dataset;
	const char *description;    /* "" when absent */
	size_t ncols;
	struct pht_dict_col *cols;
};

/*
 * Parses and validates a dictionary of len bytes. name names it in error
 * details. Refuses (PHT_ERR_MALFORMED, detail "NAME: PATH: reason", PATH
 * like columns[3].type): invalid JSON, a missing or mistyped field,
 * unknown fields, an unknown type or role, a second identifier column,
 * duplicate column names, levels missing or empty or duplicated on a
 * category column, levels on another type, a level that is also a
 * missing code, no columns. *out is NULL on failure.
 */
int pht_dict_parse(const char *data, size_t len, const char *name,
    struct pht_dict **out, struct pht_err *err);

/* Frees the dictionary; accepts NULL. */
void pht_dict_free(struct pht_dict *d);

/* Parses a type name ("number", ...); -1 if it is none. */
int pht_coltype_parse(const char *s);

#endif
