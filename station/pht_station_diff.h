/* pht_station_diff.h — the release auditor: the durable store of every row set released from a dataset, set-system auditing over all of them, and query budgets. */
#ifndef PHT_STATION_DIFF_H
#define PHT_STATION_DIFF_H

#include <stddef.h>
#include <stdint.h>

struct pht_dataset;
struct pht_err;
struct pht_key;
struct pht_train_rowsets;
struct pht_station_setsys_limits;

/*
 * Every number a release carries is treated as a sum over its row set
 * (pht_station_setsys.h). The station keeps, per dataset, every row set
 * it ever released, to any analyst, and withholds a release when, with
 * its sets, the sum over a group of 1 to k - 1 rows would follow from the
 * releases (all analysts together: they may collude).
 *
 * Rows keep their identity across data updates: each row of a dataset has
 * a 64-bit key, the first 8 bytes of HMAC-SHA-256 under a station secret
 * (derived from the station's signing key: the store holds no hash anyone
 * else can recompute) of the row's value in the dataset's identifier
 * column (dictionary role "identifier"; the j-th repeat of a value is
 * keyed with j), or, without an identifier column or for a missing value,
 * of its row number in the data file (identity then holds across updates
 * that only append rows).
 *
 * The store of dataset D is the file PREFIX.D (PREFIX is the config's
 * released_rows), created 0600, only ever appended to, one JSON object a
 * line, fsynced before a release is allowed:
 *
 *   {"rows":ID,"n":N,"keys":BASE64}        the keys of a version of the data
 *                                          (N keys of 8 bytes, little-endian;
 *                                          ID = hex SHA-256 of those bytes)
 *   {"t":UNIX_SECONDS,"signer":FP,"train":TRAIN,"k":K,"rows":ID,
 *    "sets":[BASE64, ...]}                 a release: its sets, in the rows of
 *                                          that version (pht_train_rowsets
 *                                          encoding), only those that added
 *                                          to the span
 *
 * A last line left without its newline by a crash was never confirmed: it
 * is cut off before the next append. Any other damage (a line that does not
 * parse, keys that do not hash to their ID, a release naming keys not
 * stored before it, a set that does not decode) makes every admission on
 * that dataset fail (fail closed).
 *
 * The state (atoms, basis, keys, releases) is cached in memory and brought
 * up to date from the file's new lines at each call, under the file's lock,
 * so several processes may share a store.
 *
 * A process that starts without the state takes the set system from the
 * snapshot PREFIX.D+snapshot when one verifies, and replays only the lines
 * after it (the lines before it are read for the keys and the budget, not
 * added again). The snapshot is binary, in this order:
 *
 *   "PHTSNAP\n", u32 version (1), u32 0, u64 OFF, u64 LINES,
 *   SHA-256 of the journal's first OFF bytes (32), u64 k,
 *   u64 NKEYS, u64 key[NKEYS] (the universe: row key of each id),
 *   the set system (pht_station_setsys_save),
 *   HMAC-SHA-256 of all the above (32) under a key derived from the
 *   station secret
 *
 * It is used only if the MAC verifies, k is the admission's, the journal
 * is at least OFF bytes and its first OFF bytes hash as recorded (the same
 * journal, not one rewritten or cut), and the system meets its invariants
 * and the bounds; otherwise the whole journal is replayed, as without a
 * snapshot: nothing that left is forgotten. An admission writes a new
 * snapshot (pht_file_write_atomic) when the set-system work since the last
 * one, what a start would replay, reaches 2 s and 4 times what the last
 * snapshot took to write.
 */
struct pht_station_diff;

/* The policy's optional budget: at most releases per window_seconds (0: none). */
struct pht_station_budget {
	int64_t releases;
	int64_t window_seconds;
};

/*
 * An auditor for the stores PREFIX.DATASET, its row keys under a secret
 * derived from station_key (a private Ed25519 key; its deterministic
 * signature of a fixed label, hashed). Default bounds
 * (pht_station_setsys_default_limits). *out is NULL on failure.
 * PHT_ERR_POLICY, naming it, when a file exists at prefix itself: a
 * store of the earlier per-analyst guard, never read and never ignored.
 */
int pht_station_diff_open(const char *prefix, const struct pht_key *station_key,
    struct pht_station_diff **out, struct pht_err *err);

/* Frees d; accepts NULL. */
void pht_station_diff_free(struct pht_station_diff *d);

/* Replaces the bounds (benchmarks and tests). */
void pht_station_diff_set_limits(struct pht_station_diff *d,
    const struct pht_station_setsys_limits *lim);

/*
 * The auditor's figures for dataset's store as last brought up to date
 * (zeros if it was never read): atoms, rank, entries, bytes.
 */
struct pht_station_setsys_stats;
void pht_station_diff_stats(const struct pht_station_diff *d, const char *dataset,
    struct pht_station_setsys_stats *st);

/*
 * The key of each row of ds, in ds's rows (after opt-outs): borrowed,
 * valid until the next call or pht_station_diff_free. Computed once per
 * version of the data (file hash, rows kept) and cached. PHT_ERR_INTERNAL
 * if two rows get the same key (fail closed), PHT_ERR_NOMEM.
 */
int pht_station_diff_rowkeys(struct pht_station_diff *d, const struct pht_dataset *ds,
    const uint64_t **keys, struct pht_err *err);

/*
 * The key a row of dataset with identifier value (len bytes, as the CSV
 * spells an integer or category; occurrence 0 for the first row with it)
 * gets: for tests and tools that build keys without a dataset.
 */
uint64_t pht_station_diff_key(const struct pht_station_diff *d, const char *dataset,
    const char *value, size_t len, uint32_t occurrence);

/*
 * Decides, under an exclusive lock on the dataset's store, whether a
 * release by signer_fp of an output computed from the row sets rs (over
 * the rows whose keys are keys[0 .. pht_train_rowsets_nrows(rs))) may
 * leave:
 *
 * - budget (when budget->releases > 0): the signer already had
 *   budget->releases releases on dataset in the budget->window_seconds
 *   before now: PHT_ERR_POLICY naming the budget;
 * - a set of 1 to k - 1 rows, or, with the sets of rs added to every set
 *   released from the dataset, the sum over a group of 1 to k - 1 rows in
 *   their span: PHT_ERR_DISCLOSURE, detail giving the number of rows of
 *   the group (never which);
 * - a bound of the auditor passed (atoms, rank, entries, candidates,
 *   time): PHT_ERR_DISCLOSURE naming the bound (fail closed).
 *
 * Otherwise appends the release (and the keys if this version of the
 * data is new) and fsyncs it before returning PHT_OK. Refusals store
 * nothing. PHT_ERR_INVALID for bad arguments, PHT_ERR_IO,
 * PHT_ERR_MALFORMED ("PATH:LINE: reason") for a damaged store,
 * PHT_ERR_TOO_LARGE for a store over 1 GiB.
 */
int pht_station_diff_admit(struct pht_station_diff *d, const char *dataset,
    const char *signer_fp, const char *train, const struct pht_train_rowsets *rs,
    const uint64_t *keys, int64_t k, const struct pht_station_budget *budget,
    int64_t now, struct pht_err *err);

/*
 * The budget check alone, without storing anything (to refuse before a
 * run): PHT_ERR_POLICY if exhausted, PHT_OK otherwise; errors as above.
 * A store that does not exist yet is empty.
 */
int pht_station_diff_budget(struct pht_station_diff *d, const char *dataset,
    const char *signer_fp, int64_t k, const struct pht_station_budget *budget,
    int64_t now, struct pht_err *err);

/*
 * Writes dataset's snapshot now (under the store's exclusive lock, after
 * bringing the state up to date for k). PHT_ERR_IO, PHT_ERR_NOMEM, and the
 * errors of pht_station_diff_admit's reading of the store.
 */
int pht_station_diff_snapshot(struct pht_station_diff *d, const char *dataset, int64_t k,
    struct pht_err *err);

/* How dataset's state was last brought up (zeros if never): for tests and benchmarks. */
struct pht_station_diff_info {
	uint64_t snapshot_offset;       /* journal bytes the snapshot used covered; 0: none */
	uint64_t replayed;              /* releases replayed into the set system */
	uint64_t snapshots;             /* snapshots this process wrote */
	double snapshot_seconds;        /* what the last one took to write */
};
void pht_station_diff_info(const struct pht_station_diff *d, const char *dataset,
    struct pht_station_diff_info *info);

#endif
