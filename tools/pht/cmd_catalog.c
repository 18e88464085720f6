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
	struct pht_cli_opt opts[] = {PHT_CLI_OPT("node"), PHT_CLI_OPT("cert"),
	    PHT_CLI_OPT("key"), PHT_CLI_OPT("ca"), PHT_CLI_OPT_FLAG("json")};
	const char *node, *pos[1];
	json_t *resp = NULL;
	char url[1100];
	size_t npos;
	long status;
	size_t len;
	int json, r, rc;

	if (pht_cli_wants_help(argc, argv)) {
		fputs(catalog_help, stdout);
		return PHT_EXIT_OK;
	}
	memset(&o, 0, sizeof(o));
	if ((r = pht_cli_opt_parse("catalog", argc, argv, 1, opts, 5, pos, 0, &npos)) != 0)
		return r;
	node = pht_cli_opt_val(&opts[0]);
	o.cert = pht_cli_opt_val(&opts[1]);
	o.key = pht_cli_opt_val(&opts[2]);
	o.ca = pht_cli_opt_val(&opts[3]);
	json = opts[4].n > 0;
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
	struct pht_cli_opt o[] = {PHT_CLI_OPT("config")};
	const char *config, *pos[1];
	json_t *cat = NULL;
	size_t npos;
	int r, rc;

	if ((r = pht_cli_opt_parse("station catalog", argc, argv, 2, o, 1, pos, 0,
	    &npos)) != 0)
		return r;
	config = pht_cli_opt_val(&o[0]);
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
