/* pht_analyst_config.c — reads ANALYST.json, the analyst's defaults for pht run and pht stations. */
#include "pht_analyst_config.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANALYST_CONFIG_MAX ((size_t)1 << 20)

/* Keeps s (taken over) until the config is cleared; NULL on failure (s freed). */
static const char *
own(struct pht_analyst_config *cfg, char *s)
{
	if (s == NULL || cfg->nowned == sizeof(cfg->owned) / sizeof(cfg->owned[0])) {
		free(s);
		return NULL;
	}
	cfg->owned[cfg->nowned++] = s;
	return s;
}

/* A config path resolved against the config's directory. */
static int
resolve(struct pht_analyst_config *cfg, const char *dir, const char *v,
    const char **slot, struct pht_err *err)
{
	if (v[0] == '/') {
		*slot = v;
		return PHT_OK;
	}
	if ((*slot = own(cfg, pht_path_join(dir, v))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	return PHT_OK;
}

int
pht_analyst_config_load(const char *path, struct pht_analyst_config *cfg,
    struct pht_err *err)
{
	static const char *const pathkeys[] = {"cert", "key", "ca", "sign_key",
	    "seal_key", "station_keys"};
	static const char *const known[] = {"node", "cert", "key", "ca", "sign_key",
	    "seal_key", "station_keys", "stations", "datasets", "timeout",
	    "min_stations", "expires"};
	const char **slots[] = {&cfg->cert, &cfg->key, &cfg->ca, &cfg->sign_key,
	    &cfg->seal_key, &cfg->station_keys};
	struct pht_buf *b = NULL, *sb = NULL;
	char *copy = NULL, *dir, num[32];
	const char *k, *v;
	json_t *val;
	size_t i;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if ((r = pht_file_read(path, ANALYST_CONFIG_MAX, &b, err)) != PHT_OK ||
	    (r = pht_json_parse(pht_buf_str(b), pht_buf_len(b), path, &cfg->root,
	    err)) != PHT_OK)
		goto out;
	if (!json_is_object(cfg->root)) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: not a JSON object", path);
		goto out;
	}
	json_object_foreach(cfg->root, k, val) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			r = pht_errf(err, PHT_ERR_MALFORMED, "%s: unknown field \"%.40s\"",
			    path, k);
			goto out;
		}
		if (strcmp(k, "min_stations") == 0 && json_is_integer(val))
			continue;
		if (strcmp(k, "stations") == 0 && json_is_array(val))
			continue;
		if (!json_is_string(val)) {
			r = pht_errf(err, PHT_ERR_MALFORMED, "%s: field %s: not a string",
			    path, k);
			goto out;
		}
	}
	if ((copy = strdup(path)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	dir = dirname(copy);
	for (i = 0; i < sizeof(pathkeys) / sizeof(pathkeys[0]); i++)
		if ((v = json_string_value(json_object_get(cfg->root, pathkeys[i]))) !=
		    NULL && (r = resolve(cfg, dir, v, slots[i], err)) != PHT_OK)
			goto out;
	cfg->node = json_string_value(json_object_get(cfg->root, "node"));
	cfg->timeout = json_string_value(json_object_get(cfg->root, "timeout"));
	cfg->expires = json_string_value(json_object_get(cfg->root, "expires"));
	cfg->datasets = json_string_value(json_object_get(cfg->root, "datasets"));
	val = json_object_get(cfg->root, "stations");
	if (json_is_string(val)) {
		cfg->stations = json_string_value(val);
	} else if (json_is_array(val)) {
		json_t *x;

		if ((sb = pht_buf_new(1 << 16)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < json_array_size(val); i++)
			if ((x = json_array_get(val, i)) != NULL && json_is_string(x))
				pht_buf_putf(sb, "%s%s", i ? "," : "", json_string_value(x));
		if ((cfg->stations = own(cfg, pht_buf_steal(sb, NULL))) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (json_is_integer(val = json_object_get(cfg->root, "min_stations"))) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(val));
		if ((cfg->min_stations = own(cfg, strdup(num))) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	r = PHT_OK;
out:
	free(copy);
	pht_buf_free(sb);
	pht_buf_free(b);
	return r;
}

void
pht_analyst_config_clear(struct pht_analyst_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nowned; i++)
		free(cfg->owned[i]);
	json_decref(cfg->root);
	memset(cfg, 0, sizeof(*cfg));
}
