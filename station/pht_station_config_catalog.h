/* pht_station_config_catalog.h — the check of the station config's "catalog" section (internal to station/; pht_station_catalog.c builds the document from it). */
#ifndef PHT_STATION_CONFIG_CATALOG_H
#define PHT_STATION_CONFIG_CATALOG_H

#include <jansson.h>

struct pht_err;

/*
 * Checks the config's "catalog" section (docs/catalog.md) strictly:
 * title, description, publisher (strings), contact {name, email, url},
 * access_rights ("public", "restricted" or "non-public"), legislation (an
 * array of http(s) URIs), keywords (strings), datasets {NAME: {title,
 * description, keywords, coding {COLUMN: URI}}} where NAME must be a key
 * of datasets (the config's "datasets" object, already checked).
 * PHT_ERR_MALFORMED "FILE: catalog.FIELD: reason".
 */
int pht_station_config_check_catalog(const json_t *section, const json_t *datasets,
    const char *file, struct pht_err *err);

#endif
