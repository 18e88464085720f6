/* pht_train_decl.h — a train's declared params: parsed from its description, checked against params and a data dictionary. */
#ifndef PHT_TRAIN_DECL_H
#define PHT_TRAIN_DECL_H

#include <jansson.h>
#include <stddef.h>

struct pht_buf;
struct pht_err;

/*
 * A train declares its params as a sequence in the table it returns
 * (docs/train-api.md, "Declaring params"):
 *
 *   params = {
 *     { name = "by", type = "column", column_types = { "category", "integer" },
 *       doc = "counts per value of this column" },
 *     { name = "max_iter", type = "integer", default = 20, min = 1, doc = "..." },
 *   },
 *   releases = "what a station releases, and why it is not disclosive",
 *
 * and pht_train_describe hands it over as JSON, without running the train
 * with data. The older form, a table of description strings keyed by
 * name, declares nothing that can be checked: it parses as "undeclared".
 *
 * Every message these functions write depends only on the declaration,
 * the params and the dictionary given, never on data values: the station
 * tells it to the analyst as it is (docs/security.md, T15g).
 */
struct pht_train_decl;

/*
 * Parses the declaration in meta (the object pht_train_describe returns:
 * name, version, params, releases). *out is set to a new declaration, or
 * to NULL when the train declares no typed params (params absent, empty,
 * or the older table of strings). meta must outlive *out. Returns PHT_OK,
 * PHT_ERR_TRAIN naming the bad entry ("params[2] (by): type \"colum\" is
 * not a param type"), or PHT_ERR_NOMEM.
 */
int pht_train_decl_parse(const json_t *meta, struct pht_train_decl **out,
    struct pht_err *err);

/* Frees d (NULL is fine). */
void pht_train_decl_free(struct pht_train_decl *d);

/*
 * How a check words and scopes its messages:
 *   ANALYST   the params of a run's first round as the analyst gives them:
 *             a param the train's combine sets between rounds is refused;
 *             names are quoted with double quotes. Without it: any
 *             round's params (the runtime at the station), names in
 *             single quotes (the station keeps no quoted text in the
 *             reasons it tells).
 */
#define PHT_TRAIN_DECL_ANALYST 1

/*
 * Checks params (a JSON object; NULL is {}) against d alone: an unknown
 * param (the message names the known ones, and the closest one), a
 * missing required param, a wrong JSON type, a value outside the
 * declared values or range. Returns PHT_OK or PHT_ERR_INVALID with the
 * first problem in err, e.g. "unknown param \"secure\"; count takes
 * columns, by". d NULL checks nothing.
 */
int pht_train_decl_check_params(const struct pht_train_decl *d,
    const json_t *params, int flags, struct pht_err *err);

/*
 * Checks the columns params name (their value, or their default when
 * absent) against dict (a data dictionary, docs/dataset.md): each must
 * be a column of it other than the identifier, of one of the declared
 * column types. station (may be NULL) is named in the message:
 * "by: column \"stagee\" is not in dataset melanoma at hospital_02; did
 * you mean \"stage\"?". Params of the wrong JSON type are left to
 * pht_train_decl_check_params. Returns PHT_OK or PHT_ERR_INVALID with
 * the first problem in err.
 */
int pht_train_decl_check_columns(const struct pht_train_decl *d,
    const json_t *params, const json_t *dict, const char *station, int flags,
    struct pht_err *err);

/*
 * Writes the declaration for a person: name, version, one paragraph per
 * param (type, required or default, column types, doc) and what the train
 * releases. d NULL writes what meta says (the older string form). Returns
 * PHT_OK or PHT_ERR_TOO_LARGE when b is full.
 */
int pht_train_decl_format(const struct pht_train_decl *d, const json_t *meta,
    struct pht_buf *b);

/*
 * The name in names[0..n) closest to word by edit distance (insertions,
 * deletions, substitutions and swaps of neighbours; letter case ignored),
 * if it is close enough to be a likely slip: at most 1 edit for words of
 * up to 4 characters, 2 for longer ones, and never word itself. NULL
 * otherwise. Ties go to the earlier name.
 */
const char *pht_train_decl_suggest(const char *word, const char *const *names,
    size_t n);

/* The edit distance of a and b as pht_train_decl_suggest counts it (capped at 64). */
size_t pht_train_decl_distance(const char *a, const char *b);

#endif
