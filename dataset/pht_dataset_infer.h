/* pht_dataset_infer.h — drafting a data dictionary from a source's cells, for a data steward to edit. */
#ifndef PHT_DATASET_INFER_H
#define PHT_DATASET_INFER_H

#include <jansson.h>

#include "pht_dataset.h"
#include "pht_dataset_source.h"

struct pht_err;

/* Most levels a drafted category column lists. */
#define PHT_INFER_MAX_LEVELS 1000

/*
 * Drafts a dictionary named name for the cells: per column the narrowest
 * type every non-missing cell reads as (boolean, integer, number, date,
 * datetime, else category with its distinct values as levels, in byte
 * order), the missing codes seen ("", NA, N/A, NULL, ".", "?", "-", and
 * -99/-999 in a column otherwise of non-negative numbers; the default
 * ["", "NA"] is left out), role identifier for a column named id, pid or
 * *_id whose values are distinct integers. dl (may be NULL) gives the
 * decimal point and the date formats the loader will use. *notes gets an
 * array of strings for the steward (a column with too many levels to be a
 * category, an empty column). The draft loads these cells when
 * nothing is edited, unless a note says otherwise. *out and *notes are
 * NULL on failure (PHT_ERR_NOMEM, PHT_ERR_INVALID for no columns).
 */
int pht_dataset_infer(const struct pht_dataset_cells *c, const char *name,
    const struct pht_dataset_dialect *dl, json_t **out, json_t **notes,
    struct pht_err *err);

#endif
