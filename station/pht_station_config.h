/* pht_station_config.h — the station's configuration file (JSON), parsed strictly. */
#ifndef PHT_STATION_CONFIG_H
#define PHT_STATION_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_output.h"
#include "pht_station_diff.h"
#include "pht_train.h"

struct pht_err;
struct pht_station_optout;

/* How a trusted signer's trains are admitted. */
enum pht_signer_mode {
	PHT_SIGNER_AUTO,    /* run at once once every check passes */
	PHT_SIGNER_REVIEW,  /* queue for a data steward's approval */
};

struct pht_dataset_source;

/*
 * A dataset the station holds; paths are resolved against the config's
 * directory. source says where the rows come from (a CSV in a dialect, an
 * SQLite file or a PostgreSQL query: dataset/pht_dataset_source.h); csv
 * and dict are borrowed from it, csv NULL for an SQL source.
 */
struct pht_station_dataset {
	const char *name;
	const struct pht_dataset_source *source;
	const char *csv;
	const char *dict;
	const struct pht_station_optout *opt_out; /* NULL: none (pht_station_optout.h) */
};

/* A trusted signer: a public key file, a human name and an admission mode. */
struct pht_station_signer {
	const char *name;
	const char *key;    /* public key file (PEM), resolved path */
	enum pht_signer_mode mode;
};

/*
 * The station policy. limits.k, limits.output_*, the resource limits and
 * limits.resolution (time_resolution_days, km_min_cell, grid, grid_digits)
 * are filled in from the policy section (defaults where it is silent), so
 * limits can be handed to the train runtime as it is while the config
 * lives.
 */
struct pht_station_policy {
	struct pht_limits limits;
	struct pht_output_caps output;
	struct pht_station_budget budget;   /* releases 0: no budget */
	int64_t round_counts;               /* 0: no rounding; else counts to this base */
	struct pht_resolution resolution;   /* limits.resolution points here */
};

/* The daemon's connection to the node; every field NULL when not configured. */
struct pht_station_node {
	const char *url;
	const char *cert;
	const char *key;
	const char *ca;
};

struct pht_station_config;

/*
 * Reads and parses the station config at path. Parsing is strict: unknown
 * fields, wrong types, out-of-range numbers, duplicate dataset or signer
 * names and missing required fields are refused with PHT_ERR_MALFORMED (or
 * PHT_ERR_IO if the file cannot be read) and a detail naming the file and
 * the field ("station.json: policy.limits.memory_mb: not a positive
 * integer"). Relative paths in the file are resolved against the
 * directory of path. Files named in it are not opened here. *out is NULL
 * on failure.
 */
int pht_station_config_load(const char *path, struct pht_station_config **out,
    struct pht_err *err);

/*
 * The same from memory. base_dir resolves relative paths (NULL: keep them
 * as written); name stands for the file in error details.
 */
int pht_station_config_parse(const char *text, size_t len, const char *name,
    const char *base_dir, struct pht_station_config **out, struct pht_err *err);

/* Frees cfg; accepts NULL. */
void pht_station_config_free(struct pht_station_config *cfg);

/* The station id (as in "pht:station:<id>" and in train targets). */
const char *pht_station_config_id(const struct pht_station_config *cfg);

/* Datasets in file order; NULL for i out of range. */
size_t pht_station_config_ndatasets(const struct pht_station_config *cfg);
const struct pht_station_dataset *pht_station_config_dataset(
    const struct pht_station_config *cfg, size_t i);

/* The dataset called name, or NULL. */
const struct pht_station_dataset *pht_station_config_find_dataset(
    const struct pht_station_config *cfg, const char *name);

/* Trusted signers in file order; NULL for i out of range. */
size_t pht_station_config_nsigners(const struct pht_station_config *cfg);
const struct pht_station_signer *pht_station_config_signer(
    const struct pht_station_config *cfg, size_t i);

/* The policy (borrowed; valid while cfg lives). */
const struct pht_station_policy *pht_station_config_policy(
    const struct pht_station_config *cfg);

/* Resolved paths of the audit log, the station's signing key and the seen-ids store. */
const char *pht_station_config_audit_log(const struct pht_station_config *cfg);
const char *pht_station_config_key(const struct pht_station_config *cfg);
const char *pht_station_config_seen_ids(const struct pht_station_config *cfg);

/*
 * Resolved path of the released-rows store (differencing protection and
 * budgets, pht_station_diff.h): released_rows, or the seen-ids path with
 * ".rows" appended when the config does not name one.
 */
const char *pht_station_config_released_rows(const struct pht_station_config *cfg);

/* The node section (used by `pht station run`); fields NULL when absent. */
const struct pht_station_node *pht_station_config_node(
    const struct pht_station_config *cfg);

/*
 * Data permits (docs/governance.md): the permit authorities' public key
 * files (resolved paths; none if the config names none) and whether every
 * train needs a permit ("require_permit"; true by default once authorities
 * are configured, and refused as true without them).
 */
size_t pht_station_config_npermit_authorities(const struct pht_station_config *cfg);
const char *pht_station_config_permit_authority(const struct pht_station_config *cfg,
    size_t i);
int pht_station_config_require_permit(const struct pht_station_config *cfg);

/*
 * The published catalogue's section ("catalog", docs/catalog.md), checked
 * at parse by pht_station_config_check_catalog; NULL when the config has none
 * (borrowed; valid while cfg lives).
 */
const json_t *pht_station_config_catalog(const struct pht_station_config *cfg);

/* How long audit log files are kept ("retention_years", default 5). */
int pht_station_config_retention_years(const struct pht_station_config *cfg);

/*
 * The size at which the station rotates its audit log before taking the
 * next train ("audit_rotate_kb" KiB; 0 when the config sets none).
 */
uint64_t pht_station_config_audit_rotate_bytes(const struct pht_station_config *cfg);

#endif
