/* pht_station_catalog.h — the station's HealthDCAT-AP description of its datasets (DCAT-AP JSON-LD). */
#ifndef PHT_STATION_CATALOG_H
#define PHT_STATION_CATALOG_H

#include <jansson.h>

struct pht_err;
struct pht_station_config;

/*
 * Builds the station's catalogue entry: a dcat:Catalog (JSON-LD, with its
 * @context) holding one dcat:Dataset per configured dataset (title,
 * description, numberOfRecords rounded to the nearest 10 after opt-outs,
 * the columns with their types, units, coding systems and, for
 * categories, their levels as a skos:ConceptScheme; contact point,
 * publisher, access rights, applicable legislation) and the dcat:DataService
 * the station offers (the node endpoint of its config). Every dataset is
 * loaded to count its records: errors as pht_station_dataset_load, with
 * the dataset named. Nothing in it is a data value but the rounded count.
 * *out is the caller's (json_decref); NULL on failure.
 */
int pht_station_catalog_build(const struct pht_station_config *cfg, json_t **out,
    struct pht_err *err);

/* n rounded to the nearest multiple of 10 (halves up: 5 -> 10, 14 -> 10). */
unsigned long long pht_station_catalog_round(unsigned long long n);

#endif
