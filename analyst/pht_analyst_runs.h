/* pht_analyst_runs.h — the run folder: what pht run leaves when it stops waiting, and what pht results reads back to go on. */
#ifndef PHT_ANALYST_RUNS_H
#define PHT_ANALYST_RUNS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_analyst_client.h"

struct pht_buf;
struct pht_err;

/*
 * A run folder (mode 0700) holds
 *
 *   run.json     kind "pht-run", version 1, run (its id: the first round's
 *                train id), the files the run used (node URL, cert, key,
 *                ca, sign_key, seal_key, station_keys: absolute paths, the
 *                keys themselves stay where they are), train (the path
 *                given), name, code_sha256, datasets, permit,
 *                permit_envelope, code_approval (when given), min_stations,
 *                max_rounds, expires (seconds a round's train stays
 *                valid), timeout (seconds pht run waited per round),
 *                waiting (the round in flight: round, train, params,
 *                stations, expires; pht_analyst_client.h), report (the
 *                client's report so far), saved (RFC 3339)
 *   train.lua    the train exactly as signed (its SHA-256 is code_sha256)
 *   result.json  once the run is done: the combined result
 *
 * every file mode 0600, written atomically and fsynced.
 */

/* The files and settings of a run that are not in the client's spec. */
struct pht_analyst_runs_files {
	const char *node, *cert, *key, *ca, *sign_key, *seal_key, *station_keys;
	const char *train;                   /* as given, for the record */
};

/*
 * The folder of run RUN: RUN itself when it holds a '/', else
 * BASE/RUN with BASE the environment's PHT_RUNS or $HOME/.pht/runs (RUN
 * must then be an id, pht_id_ok). *out (caller frees). PHT_ERR_INVALID
 * (a bad id, no HOME), PHT_ERR_NOMEM.
 */
int pht_analyst_runs_path(const char *run, char **out, struct pht_err *err);

/*
 * Saves a run that stopped waiting (report holds "waiting") in dir,
 * created (with its parents) if needed; an existing run.json there must
 * be the same run's (PHT_ERR_DENIED otherwise). The files' paths are
 * made absolute. PHT_ERR_INVALID (no "waiting" in report), PHT_ERR_IO,
 * PHT_ERR_NOMEM.
 */
int pht_analyst_runs_save(const char *dir, const struct pht_analyst_run_spec *spec,
    const struct pht_analyst_runs_files *files, const json_t *report,
    struct pht_err *err);

/* Writes result.json (the combined result) into the run folder dir. */
int pht_analyst_runs_done(const char *dir, const json_t *result, struct pht_err *err);

/*
 * A run read back: files, code and the spec's fields point into it (valid
 * until pht_analyst_runs_clear). result is set when the run is done
 * (then resume is still filled from the last save).
 */
struct pht_analyst_saved_run {
	struct pht_analyst_runs_files files;
	const char *run, *name, *permit, *permit_envelope, *code_approval;
	const char *code_sha256;
	struct pht_buf *code;                /* train.lua */
	const char **datasets, **stations;
	size_t ndatasets, nstations;
	size_t min_stations;
	int max_rounds;
	int64_t expires, timeout;
	const json_t *params;                /* the round in flight's */
	struct pht_analyst_resume resume;
	json_t *root;                        /* run.json */
	json_t *result;                      /* result.json, or NULL */
};

/*
 * Reads the run folder dir strictly: run.json's fields and types, train.lua
 * whose SHA-256 must be code_sha256 (PHT_ERR_HASH_MISMATCH), result.json
 * when present. PHT_ERR_NOT_FOUND ("no run folder at DIR"), PHT_ERR_IO,
 * PHT_ERR_MALFORMED naming the file and field, PHT_ERR_NOMEM. The caller
 * clears run even on failure.
 */
int pht_analyst_runs_load(const char *dir, struct pht_analyst_saved_run *run,
    struct pht_err *err);

/* Frees what run holds and zeroes it; accepts a zeroed struct. */
void pht_analyst_runs_clear(struct pht_analyst_saved_run *run);

#endif
