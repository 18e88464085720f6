/* fuzz_station_config.c — fuzz target: the station configuration parser on arbitrary bytes. */
#include "pht_err.h"
#include "pht_station_config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every part of a parsed config; aborts where a promise is broken. */
static void
walk(const struct pht_station_config *cfg)
{
	const struct pht_station_dataset *d;
	const struct pht_station_signer *s;
	const struct pht_station_node *node;
	size_t i, sum = 0;

	sum += strlen(pht_station_config_id(cfg));
	for (i = 0; i < pht_station_config_ndatasets(cfg); i++) {
		if ((d = pht_station_config_dataset(cfg, i)) == NULL ||
		    pht_station_config_find_dataset(cfg, d->name) != d)
			abort(); /* names are unique and found again */
		sum += strlen(d->csv) + strlen(d->dict);
	}
	if (pht_station_config_dataset(cfg, i) != NULL)
		abort();
	for (i = 0; i < pht_station_config_nsigners(cfg); i++) {
		if ((s = pht_station_config_signer(cfg, i)) == NULL)
			abort();
		sum += strlen(s->name) + strlen(s->key);
		if (s->mode != PHT_SIGNER_AUTO && s->mode != PHT_SIGNER_REVIEW)
			abort();
	}
	if (pht_station_config_signer(cfg, i) != NULL ||
	    pht_station_config_policy(cfg) == NULL)
		abort();
	sum += strlen(pht_station_config_audit_log(cfg));
	sum += strlen(pht_station_config_key(cfg));
	sum += strlen(pht_station_config_seen_ids(cfg));
	node = pht_station_config_node(cfg);
	if (node != NULL && node->url != NULL)
		sum += strlen(node->url);
	if (sum == 0)
		abort(); /* a config always has an id */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pht_station_config *cfg = NULL;
	struct pht_err err;
	int r;

	pht_err_clear(&err);
	/* relative paths resolved against a fixed base, and kept as written */
	r = pht_station_config_parse((const char *)data, size, "fuzz.json",
	    "/srv/station", &cfg, &err);
	if (r == PHT_OK)
		walk(cfg);
	else if (cfg != NULL || err.msg[0] == '\0' ||
	    strncmp(err.msg, "fuzz.json", 9) != 0)
		abort(); /* a refusal names the file and leaves *out NULL */
	pht_station_config_free(cfg);
	cfg = NULL;
	if (pht_station_config_parse((const char *)data, size, "fuzz.json", NULL,
	    &cfg, &err) == PHT_OK)
		walk(cfg);
	pht_station_config_free(cfg);
	return 0;
}
