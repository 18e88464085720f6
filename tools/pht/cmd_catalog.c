/* cmd_catalog.c — pht catalog (the federation's catalogue from the node) and pht station catalog (a station's own entry, offline). */
#include "pht_cli.h"
#include "cmd_catalog.h"

#include "pht_err.h"
#include "pht_http.h"
#include "pht_json.h"
#include "pht_station_catalog.h"
#include "pht_station_config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *catalog_help =
    "usage: pht catalog --node URL --cert CERT --key KEY --ca CA [--json]\n"
    "       pht station catalog --config STATION.json\n"
    "\n"
    "catalog          prints the federation's catalogue (GET /v1/catalog): each\n"
    "                 station's datasets with their number of records (rounded\n"
    "                 to 10), variables, types and code lists, contact, access\n"
    "                 rights and legislation; --json prints the DCAT-AP JSON-LD.\n"
    "station catalog  prints this station's own entry (JSON-LD) offline, as the\n"
    "                 daemon publishes it. See docs/catalog.md.\n";

/* A one-screen summary of a catalogue (the node's or one station's). */
static void
summary(const json_t *cat)
{
	const json_t *stations = json_object_get(cat, "dcat:catalog"), *st, *ds, *cols, *c;
	const json_t *one[1];
	size_t i, j, k, n;

	one[0] = cat;
	n = json_is_array(stations) ? json_array_size(stations) : 1;
	for (i = 0; i < n; i++) {
		st = json_is_array(stations) ? json_array_get(stations, i) : one[0];
		printf("station %s: %s\n",
		    json_string_value(json_object_get(st, "dct:identifier")) ?
		    json_string_value(json_object_get(st, "dct:identifier")) : "?",
		    json_string_value(json_object_get(st, "dct:title")) ?
		    json_string_value(json_object_get(st, "dct:title")) : "");
		json_array_foreach(json_object_get(st, "dcat:dataset"), j, ds) {
			printf("  dataset %s: %s, about %lld records\n",
			    json_string_value(json_object_get(ds, "dct:identifier")) ?
			    json_string_value(json_object_get(ds, "dct:identifier")) : "?",
			    json_string_value(json_object_get(ds, "dct:title")) ?
			    json_string_value(json_object_get(ds, "dct:title")) : "",
			    (long long)json_integer_value(json_object_get(ds,
			    "healthdcatap:numberOfRecords")));
			cols = json_object_get(json_object_get(ds, "csvw:tableSchema"),
			    "csvw:column");
			json_array_foreach(cols, k, c)
				printf("    %-24s %s\n", json_string_value(json_object_get(c,
				    "csvw:name")) ? json_string_value(json_object_get(c,
				    "csvw:name")) : "?", json_string_value(json_object_get(c,
				    "csvw:datatype")) ? json_string_value(json_object_get(c,
				    "csvw:datatype")) : "?");
		}
	}
}

static int
print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s == NULL)
		return PHT_EXIT_FAIL;
	printf("%s\n", s);
	free(s);
	return PHT_EXIT_OK;
}

int
pht_cmd_catalog(int argc, char **argv)
{
	struct pht_http_opts o;
	struct pht_http *h = NULL;
	struct pht_err e;
	const char *node = NULL;
	json_t *resp = NULL;
	char url[1100];
	long status;
	size_t len;
	int i, json = 0, r, rc;

	if (pht_cli_wants_help(argc, argv)) {
		fputs(catalog_help, stdout);
		return PHT_EXIT_OK;
	}
	memset(&o, 0, sizeof(o));
	for (i = 1; i < argc; i++) {
		const char **slot = NULL;
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
			continue;
		}
		if (strcmp(argv[i], "--node") == 0)
			slot = &node;
		else if (strcmp(argv[i], "--cert") == 0)
			slot = &o.cert;
		else if (strcmp(argv[i], "--key") == 0)
			slot = &o.key;
		else if (strcmp(argv[i], "--ca") == 0)
			slot = &o.ca;
		if (slot == NULL || i + 1 >= argc)
			return pht_cli_usage_error("catalog", "unexpected '%s' (see pht catalog "
			    "--help)", argv[i]);
		*slot = argv[++i];
	}
	if (node == NULL || o.cert == NULL || o.key == NULL || o.ca == NULL)
		return pht_cli_usage_error("catalog", "give --node, --cert, --key and --ca");
	len = strlen(node);
	while (len > 0 && node[len - 1] == '/')
		len--;
	if (len > 1000)
		return pht_cli_usage_error("catalog", "node URL too long");
	snprintf(url, sizeof(url), "%.*s/v1/catalog", (int)len, node);
	pht_err_clear(&e);
	if ((r = pht_http_new(&o, &h, &e)) != PHT_OK ||
	    (r = pht_http_request_json(h, "GET", url, NULL, 0, &status, &resp, &e)) != PHT_OK) {
		pht_cli_error("catalog", &e);
		rc = PHT_EXIT_FAIL;
		goto out;
	}
	if (!json_is_array(json_object_get(resp, "dcat:catalog"))) {
		pht_errf(&e, PHT_ERR_MALFORMED, "GET %s: not a catalogue", url);
		pht_cli_error("catalog", &e);
		rc = PHT_EXIT_FAIL;
		goto out;
	}
	if (json)
		rc = print_json(resp);
	else {
		summary(resp);
		rc = PHT_EXIT_OK;
	}
out:
	json_decref(resp);
	pht_http_free(h);
	return rc;
}

int
pht_cmd_station_catalog(int argc, char **argv)
{
	struct pht_station_config *cfg = NULL;
	struct pht_err e;
	const char *config = NULL;
	json_t *cat = NULL;
	int i, r, rc;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else
			return pht_cli_usage_error("station catalog", "unexpected '%s'", argv[i]);
	}
	if (config == NULL)
		return pht_cli_usage_error("station catalog", "give --config STATION.json");
	pht_err_clear(&e);
	if ((r = pht_station_config_load(config, &cfg, &e)) != PHT_OK ||
	    (r = pht_station_catalog_build(cfg, &cat, &e)) != PHT_OK) {
		pht_cli_error("station catalog", &e);
		rc = pht_cli_exit_for(r);
	} else {
		rc = print_json(cat);
	}
	json_decref(cat);
	pht_station_config_free(cfg);
	return rc;
}
