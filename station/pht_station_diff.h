/* pht_station_diff.h — differencing protection and query budgets: the durable store of what every release was computed from, per analyst and dataset. */
#ifndef PHT_STATION_DIFF_H
#define PHT_STATION_DIFF_H

#include <stdint.h>

struct pht_err;
struct pht_train_rowsets;

/*
 * The released-rows store is a text file, one JSON object per release,
 * only ever appended to (created mode 0600, fsynced before a release is
 * allowed):
 *
 *   {"t":UNIX_SECONDS,"signer":FP,"dataset":NAME,"csv_sha256":HEX,
 *    "train":ID,"sets":[BASE64, ...]}
 *
 * where each BASE64 is one row set in the pht_train_rowsets encoding,
 * and only sets not already stored for the same signer, dataset and data
 * (csv_sha256) are written. A last line left without its newline by a
 * crash was never confirmed: it is cut off before the next append. Any
 * other damage makes every admission fail (fail closed).
 */

/* The policy's optional budget: at most releases per window_seconds (0: none). */
struct pht_station_budget {
	int64_t releases;
	int64_t window_seconds;
};

/*
 * Decides, under an exclusive lock on the store at path, whether a release
 * by signer_fp of an output computed from the row sets rs on dataset
 * (whose CSV hashes to csv_sha256) may leave:
 *
 * - differencing: any set of rs and any set stored for the same signer,
 *   dataset and data (CSV hash and number of rows the train saw), or any
 *   two sets of rs, whose symmetric difference is
 *   more than 0 and fewer than k rows: PHT_ERR_DISCLOSURE, detail naming
 *   the earlier train and the number of rows that differ (never which);
 * - budget (when budget->releases > 0): the signer already had
 *   budget->releases releases on dataset (any data) in the
 *   budget->window_seconds before now: PHT_ERR_POLICY naming the budget.
 *
 * If neither applies, appends the release (train, time now, the sets not
 * yet stored) and fsyncs it before returning PHT_OK. Refusals store
 * nothing. PHT_ERR_INVALID for bad arguments, PHT_ERR_IO, PHT_ERR_MALFORMED
 * ("PATH:LINE: reason") for a damaged store, PHT_ERR_TOO_LARGE for a store
 * over 1 GiB.
 */
int pht_station_diff_admit(const char *path, const char *signer_fp,
    const char *dataset, const char *csv_sha256, const char *train,
    const struct pht_train_rowsets *rs, int64_t k,
    const struct pht_station_budget *budget, int64_t now, struct pht_err *err);

/*
 * The budget check alone, without storing anything (to refuse before a
 * run): PHT_ERR_POLICY if exhausted, PHT_OK otherwise; errors as above.
 * A store that does not exist yet is empty.
 */
int pht_station_diff_budget(const char *path, const char *signer_fp,
    const char *dataset, const struct pht_station_budget *budget, int64_t now,
    struct pht_err *err);

#endif
