/* pht_station_exec.h — one signed train through the station: verify, policy, run, check, log. */
#ifndef PHT_STATION_EXEC_H
#define PHT_STATION_EXEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_audit.h"
#include "pht_station_config.h"

struct pht_err;

/*
 * A station ready to take trains: its config, its signing key, the trust
 * set built from the config's signers, its audit log (open for appending)
 * and the datasets, loaded on first use and kept. The daemon keeps one
 * for its lifetime; `pht station exec` makes one per train.
 */
struct pht_station;

/*
 * Opens the station described by cfg (ownership of cfg passes to the
 * station, also on failure). Loads the station's private signing key and
 * every signer's public key (a private key file there is refused with
 * PHT_ERR_INVALID; errors name the file and the signer), and
 * opens the audit log (PHT_ERR_TAMPERED if it is broken or torn).
 */
int pht_station_open(struct pht_station_config *cfg, struct pht_station **out,
    struct pht_err *err);

/* Closes the station and frees everything it holds; accepts NULL. */
void pht_station_close(struct pht_station *st);

/* The station's config (borrowed). */
const struct pht_station_config *pht_station_config(const struct pht_station *st);

/* The station's governance state (pht_station_gov.h; borrowed). */
struct pht_station_gov *pht_station_governance(struct pht_station *st);

/* What became of a train. */
enum pht_station_outcome {
	PHT_STATION_RELEASED,  /* ran, output passed the checks and was released */
	PHT_STATION_QUEUED,    /* signer is marked review: waits for a steward */
	PHT_STATION_REJECTED,  /* refused before running (signature, expiry, replay, policy) */
	PHT_STATION_FAILED,    /* ran and failed (train error, limit, disclosure guard) */
	PHT_STATION_WITHHELD,  /* ran, but the output failed the station's output checks */
};

/* Name of an outcome as the audit log and `pht audit list` spell it. */
const char *pht_station_outcome_name(enum pht_station_outcome o);

/* The result of pht_station_exec; release with pht_station_result_clear. */
struct pht_station_result {
	enum pht_station_outcome outcome;
	char train[129];              /* train id, "" if it could not be read */
	json_t *output;               /* the released output (RELEASED only) */
	char output_sha256[65];       /* SHA-256 of the compact, sorted output */
	struct pht_audit_head head;   /* audit log head after the last entry */
	char permit[129];             /* the permit the train names, "" if none */
	/*
	 * 1 when the outcome may depend on data values: the run failed or was
	 * refused after the train had been handed anything computed from
	 * data (or the runtime could not rule that out: pht_run_stats). Its
	 * detail then stays in the audit log; the analyst is told only the
	 * generic answer (pht_station_answer). 0 for releases, for refusals
	 * before the run and for failures of a train that touched no data.
	 */
	int data_dependent;
	int row_access;               /* 1: the run had row access (a permit granted it) */
};

/* Frees what res holds and zeroes it; accepts NULL. */
void pht_station_result_clear(struct pht_station_result *res);

/*
 * Takes one signed train envelope (len bytes of untrusted text) through the
 * station, in this order: envelope signature against the trust set; train
 * payload (fields, code hash, expiry); replay (the id is recorded durably
 * in the seen-ids store before anything runs); this station among the
 * targets; policy (a dataset named by the train is held here: the first
 * one listed that is, or the only dataset when the train names none);
 * governance (pht_station_gov_check: the operator's halt, authority halt
 * orders, the data permit; refused as "rejected"); signer mode (review =>
 * queued); a dataset of fewer than k rows declined ("rejected",
 * pht_train_check_rows); the run counted against the permit's cap; the run in the
 * sandbox with the policy's limits and k (row access only when the permit
 * grants it to this code hash: pht_permit_row_access), killed at once if
 * the operator halts the station; every column it read covered by the
 * permit (else "withheld"); the output checks. Every entry about a train
 * that names a permit carries "permit". Every step is logged: "received"
 * once the envelope is authentic, then "rejected", "queued" or "failed"
 * before a run, or "executed" (resource use, data hashes, seed; logged for
 * every run, also one that then fails) followed by "failed", "withheld"
 * or "released" (the exact output). An outcome that may depend on data
 * values (res->data_dependent) is logged with "data_dependent": true and
 * the full detail; a run with row access carries "row_access": true in its
 * executed and released entries. A refusal before the signature is known
 * good is logged as "rejected" with the envelope's SHA-256.
 *
 * Returns PHT_OK when the train reached an outcome and it was logged (res
 * says which; err carries the reason for any outcome but RELEASED), or an
 * error if the station itself could not do its job (audit log not
 * writable: nothing is released then). res->outcome RELEASED is the only
 * case with an output.
 */
int pht_station_exec(struct pht_station *st, const char *envelope, size_t len,
    struct pht_station_result *res, struct pht_err *err);

/*
 * Runs a train that was queued (its signer is marked review) and that a
 * data steward approved: the same checks as pht_station_exec again
 * (signature, payload and expiry against the current time, target,
 * policy), except that the id must already be in the seen-ids store
 * (PHT_STATION_REJECTED otherwise: it was never queued here), no second
 * "received" entry is logged and the review step is skipped. The caller
 * logs the "approved" decision and makes sure each queued train is run
 * at most once.
 */
int pht_station_exec_approved(struct pht_station *st, const char *envelope,
    size_t len, struct pht_station_result *res, struct pht_err *err);

/* What a replay found. */
struct pht_station_replay {
	int matches;                  /* 1 if the new output hash equals the released one */
	int data_changed;             /* 1 if the dataset's hashes differ from the run's */
	char recorded_sha256[65];     /* output hash of the released run */
	char replay_sha256[65];       /* output hash of the replay */
	json_t *output;               /* the replay's output */
};

/* Frees what rep holds; accepts NULL. */
void pht_station_replay_clear(struct pht_station_replay *rep);

/*
 * Re-runs train_id from the audit log at log_path on the station's data:
 * the code given (its SHA-256 must equal the recorded code hash), with the
 * recorded params, round, dataset and seed and the config's limits (with
 * row access only if the logged run had it), and
 * compares the SHA-256 of the output with the released output's.
 * PHT_ERR_NOT_FOUND if the log has no executed and released entries for
 * the train; PHT_ERR_HASH_MISMATCH if the code is not the code that ran;
 * PHT_ERR_TAMPERED if the log's chain is broken; run errors as
 * pht_train_run_station. PHT_OK with rep filled otherwise (whether or not
 * the output matches).
 */
int pht_station_replay(const struct pht_station_config *cfg, const char *log_path,
    const char *train_id, const char *code, size_t code_len,
    struct pht_station_replay *rep, struct pht_err *err);

#endif
