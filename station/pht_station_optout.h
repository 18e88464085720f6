/* pht_station_optout.h — patients' opt-outs: rows removed from a dataset at load, before any train sees them. */
#ifndef PHT_STATION_OPTOUT_H
#define PHT_STATION_OPTOUT_H

#include <jansson.h>
#include <stddef.h>

struct pht_err;
struct pht_dataset;
struct pht_station_dataset;

/*
 * A dataset's opt-out source, from the station config's
 * "datasets.NAME.opt_out" (docs/station-config.md):
 *   {"file": PATH, "column": COL}   a file of pseudonyms, one per line,
 *                                   matched against column COL
 *   {"column": COL, "value": TEXT}  every row whose COL equals TEXT
 * Values are matched as the loader reads the column's type (an integer
 * "007" equals 7, a category its level name, a date YYYY-MM-DD, a boolean
 * 0/1/true/false), so a spelling the column could not hold matches nothing.
 */
struct pht_station_optout {
	char *file;         /* resolved path, or NULL for the column form */
	char *column;
	char *value;        /* column form only */
};

/*
 * Parses spec (the "opt_out" object) into *out; field names the config
 * position ("datasets.registry.opt_out") and file the config, for errors;
 * base_dir resolves a relative file (NULL: as written). PHT_ERR_MALFORMED
 * with a detail naming the field. *out is NULL on failure.
 */
int pht_station_optout_parse(const json_t *spec, const char *file,
    const char *field, const char *base_dir, struct pht_station_optout **out,
    struct pht_err *err);

/* Frees o; accepts NULL. */
void pht_station_optout_free(struct pht_station_optout *o);

/* What applying an opt-out did: counts and the file's hash, never who. */
struct pht_station_optout_info {
	size_t excluded;            /* rows removed */
	size_t listed;              /* lines of the pseudonym file (0: column form) */
	char sha256[65];            /* SHA-256 of the pseudonym file, "" if none */
};

/*
 * Removes the opted-out rows of ds in place (pht_dataset_drop_rows). The
 * pseudonym file is read whole (at most 256 MiB; blank lines and a
 * trailing CR ignored). PHT_ERR_INVALID if the column is not in ds;
 * PHT_ERR_IO if the file cannot be read. info (may be NULL) is filled.
 */
int pht_station_optout_apply(const struct pht_station_optout *o,
    struct pht_dataset *ds, struct pht_station_optout_info *info,
    struct pht_err *err);

/*
 * Loads the station dataset d (its CSV and dictionary) and applies its
 * opt-out if it has one. The dataset's file hashes stay those of the files
 * as loaded; info (may be NULL) says how many rows went. Errors as
 * pht_dataset_load and pht_station_optout_apply, prefixed with nothing:
 * the caller names the dataset.
 */
int pht_station_dataset_load(const struct pht_station_dataset *d,
    struct pht_dataset **out, struct pht_station_optout_info *info,
    struct pht_err *err);

/*
 * 1 if the opt-out source of d changed since info was taken (the pseudonym
 * file's hash differs or it became unreadable), so a cached dataset must be
 * reloaded; 0 otherwise (and always 0 for the column form).
 */
int pht_station_optout_stale(const struct pht_station_dataset *d,
    const struct pht_station_optout_info *info);

/*
 * Adds "opt_out_excluded" (and "opt_out_sha256" for a file) to fields,
 * the audit entry of a run on d; nothing when d has no opt-out. 0 or -1.
 */
int pht_station_optout_log_fields(const struct pht_station_dataset *d,
    const struct pht_station_optout_info *info, json_t *fields);

#endif
