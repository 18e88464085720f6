/* pht_analyst_config.h — ANALYST.json: the analyst's defaults for pht run and pht stations. */
#ifndef PHT_ANALYST_CONFIG_H
#define PHT_ANALYST_CONFIG_H

#include <jansson.h>
#include <stddef.h>

struct pht_err;

/*
 * The fields of ANALYST.json, each NULL when the file does not give it.
 * cert, key, ca, sign_key, seal_key and station_keys are resolved against
 * the file's directory (absolute paths stay as they are); stations is a
 * comma list (the file may give a string or an array of strings);
 * min_stations is the decimal form of the file's integer (a string there
 * is accepted and ignored). The strings live as long as the struct.
 */
struct pht_analyst_config {
	const char *node, *cert, *key, *ca, *sign_key, *seal_key, *station_keys;
	const char *stations, *datasets, *timeout, *min_stations, *expires;
	/* private */
	json_t *root;
	char *owned[8];
	size_t nowned;
};

/*
 * Reads ANALYST.json at path (at most 1 MiB) into cfg, which the caller
 * clears with pht_analyst_config_clear even on failure. The file must be
 * a JSON object with only the fields node, cert, key, ca, sign_key,
 * seal_key, station_keys, stations, datasets, timeout, expires and
 * min_stations,
 * each a string (stations may be an array, min_stations an integer).
 * Errors as pht_file_read and pht_json_parse; PHT_ERR_MALFORMED
 * "PATH: not a JSON object", "PATH: unknown field \"F\"",
 * "PATH: field F: not a string"; PHT_ERR_NOMEM.
 */
int pht_analyst_config_load(const char *path, struct pht_analyst_config *cfg,
    struct pht_err *err);

/* Frees what cfg holds and zeroes it; accepts a zeroed struct. */
void pht_analyst_config_clear(struct pht_analyst_config *cfg);

#endif
