/* pht_station_config.c — strict parsing of the station config file. */
#include "pht_station_config.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_id.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_dataset_source.h"
#include "pht_station_config_catalog.h"
#include "pht_station_optout.h"
#include "pht_limits.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_ITEMS 1024

/*
 * The parsed config. Names are borrowed from root (kept alive); resolved
 * paths are allocated and freed with the config.
 */
struct pht_station_config {
	json_t *root;
	const char *id;
	struct pht_station_dataset *datasets;
	size_t ndatasets;
	struct pht_station_signer *signers;
	size_t nsigners;
	struct pht_station_policy policy;
	char *audit_log;
	char *key;
	char *seen_ids;
	char *released_rows;         /* differencing/budget store (pht_station_diff.h) */
	struct pht_station_node node;
	char **authorities;          /* permit authorities' public key files */
	size_t nauthorities;
	int require_permit;
	int retention_years;
	int64_t audit_rotate_kb;     /* 0: no automatic rotation */
};

/* What the parser needs to say where it is. */
struct ctx {
	const char *file;
	const char *base;
	struct pht_err *err;
};

static int
bad(struct ctx *c, const char *field, const char *reason)
{
	return pht_errf(c->err, PHT_ERR_MALFORMED, "%s: %s: %s", c->file, field, reason);
}

/* Refuses keys of obj not in allowed (NULL-terminated). */
static int
only_known(struct ctx *c, const json_t *obj, const char *where,
    const char *const *allowed)
{
	const char *k = pht_json_unknown(obj, allowed);
	char field[256];

	if (k == NULL)
		return PHT_OK;
	snprintf(field, sizeof(field), "%s%s%.64s", where, where[0] ? "." : "", k);
	return bad(c, field, "unknown field");
}

/* A required (or optional, when out may stay NULL) non-empty string field. */
static int
get_string(struct ctx *c, const json_t *obj, const char *key, const char *field,
    int required, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return required ? bad(c, field, "missing") : PHT_OK;
	if (!json_is_string(v))
		return bad(c, field, "not a string");
	if (json_string_length(v) == 0)
		return bad(c, field, "empty");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return bad(c, field, "contains a NUL byte");
	*out = json_string_value(v);
	return PHT_OK;
}

/* A path field, resolved against the config's directory; *out allocated. */
static int
get_path(struct ctx *c, const json_t *obj, const char *key, const char *field,
    int required, char **out)
{
	const char *s;
	int r;

	*out = NULL;
	if ((r = get_string(c, obj, key, field, required, &s)) != PHT_OK || s == NULL)
		return r;
	if (s[0] == '/' || c->base == NULL)
		*out = strdup(s);
	else
		*out = pht_path_join(c->base, s);
	if (*out == NULL)
		return pht_errf(c->err, PHT_ERR_NOMEM, "%s: out of memory", c->file);
	return PHT_OK;
}

/* An optional positive integer within [1, max]; *out untouched when absent. */
static int
get_posint(struct ctx *c, const json_t *obj, const char *key, const char *field,
    int64_t max, int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char reason[96];

	if (v == NULL)
		return PHT_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > max) {
		snprintf(reason, sizeof(reason),
		    "not a positive integer (1 to %lld)", (long long)max);
		return bad(c, field, reason);
	}
	*out = (int64_t)json_integer_value(v);
	return PHT_OK;
}

static int
parse_datasets(struct ctx *c, struct pht_station_config *cfg, const json_t *ds)
{
	static const char *const station_keys[] = {"opt_out", NULL};
	const char *name;
	char field[128], where[128];
	json_t *v;
	size_t i = 0, n;
	int r;

	if (ds == NULL)
		return bad(c, "datasets", "missing");
	if (!json_is_object(ds))
		return bad(c, "datasets", "not an object (name -> {csv, dict})");
	if ((n = json_object_size(ds)) == 0)
		return bad(c, "datasets", "empty: a station holds at least one dataset");
	if (n > CONFIG_MAX_ITEMS)
		return bad(c, "datasets", "too many entries");
	if ((cfg->datasets = calloc(n, sizeof(*cfg->datasets))) == NULL)
		return pht_errf(c->err, PHT_ERR_NOMEM, "%s: out of memory", c->file);
	json_object_foreach((json_t *)ds, name, v) {
		struct pht_station_dataset *d = &cfg->datasets[i];
		struct pht_dataset_source *src;

		snprintf(where, sizeof(where), "datasets.%.64s", name);
		if (!pht_name_ok(name))
			return bad(c, where, "dataset name must be 1-64 of A-Z a-z 0-9 _ - .");
		if (!json_is_object(v))
			return bad(c, where, "not an object ({\"csv\": PATH, \"dict\": PATH})");
		d->name = name;
		cfg->ndatasets = ++i;
		/* the source (csv, sqlite or postgres, dict, dialect, formats) */
		if ((r = pht_dataset_source_parse(v, c->file, where, c->base,
		    station_keys, 1, &src, c->err)) != PHT_OK)
			return r;
		d->source = src;
		d->csv = pht_dataset_source_csv(src);
		d->dict = pht_dataset_source_dict(src);
		if (json_object_get(v, "opt_out") != NULL) {
			struct pht_station_optout *o;
			snprintf(field, sizeof(field), "%s.opt_out", where);
			if ((r = pht_station_optout_parse(json_object_get(v, "opt_out"),
			    c->file, field, c->base, &o, c->err)) != PHT_OK)
				return r;
			d->opt_out = o;
		}
	}
	return PHT_OK;
}

static int
parse_signers(struct ctx *c, struct pht_station_config *cfg, const json_t *arr)
{
	static const char *const known[] = {"name", "key", "mode", NULL};
	char where[64], field[96];
	const char *mode;
	json_t *v;
	size_t i, j;
	int r;

	if (arr == NULL)
		return bad(c, "signers", "missing");
	if (!json_is_array(arr))
		return bad(c, "signers", "not an array of {name, key, mode}");
	if (json_array_size(arr) > CONFIG_MAX_ITEMS)
		return bad(c, "signers", "too many entries");
	if (json_array_size(arr) > 0 &&
	    (cfg->signers = calloc(json_array_size(arr), sizeof(*cfg->signers))) == NULL)
		return pht_errf(c->err, PHT_ERR_NOMEM, "%s: out of memory", c->file);
	json_array_foreach(arr, i, v) {
		struct pht_station_signer *s = &cfg->signers[i];
		char *key;

		snprintf(where, sizeof(where), "signers[%zu]", i);
		if (!json_is_object(v))
			return bad(c, where, "not an object ({name, key, mode})");
		if ((r = only_known(c, v, where, known)) != PHT_OK)
			return r;
		cfg->nsigners = i + 1;
		snprintf(field, sizeof(field), "%s.name", where);
		if ((r = get_string(c, v, "name", field, 1, &s->name)) != PHT_OK)
			return r;
		if (!pht_name_ok(s->name))
			return bad(c, field, "must be 1-64 of A-Z a-z 0-9 _ - .");
		for (j = 0; j < i; j++)
			if (strcmp(cfg->signers[j].name, s->name) == 0)
				return bad(c, field, "duplicate signer name");
		snprintf(field, sizeof(field), "%s.key", where);
		if ((r = get_path(c, v, "key", field, 1, &key)) != PHT_OK)
			return r;
		s->key = key;
		snprintf(field, sizeof(field), "%s.mode", where);
		if ((r = get_string(c, v, "mode", field, 1, &mode)) != PHT_OK)
			return r;
		if (strcmp(mode, "auto") == 0)
			s->mode = PHT_SIGNER_AUTO;
		else if (strcmp(mode, "review") == 0)
			s->mode = PHT_SIGNER_REVIEW;
		else
			return bad(c, field, "must be \"auto\" or \"review\"");
	}
	return PHT_OK;
}

/* policy.budget {releases, window_hours} and policy.rounding {counts} (pht_station_diff.h, pht_station_round.h). */
static int
parse_budget_rounding(struct ctx *c, struct pht_station_policy *p, const json_t *pol)
{
	static const char *const known_budget[] = {"releases", "window_hours", NULL};
	static const char *const known_round[] = {"counts", NULL};
	json_t *o;
	int64_t v;
	int r;

	if ((o = json_object_get(pol, "budget")) != NULL) {
		if (!json_is_object(o))
			return bad(c, "policy.budget", "not an object");
		if ((r = only_known(c, o, "policy.budget", known_budget)) != PHT_OK)
			return r;
		if (json_object_get(o, "releases") == NULL ||
		    json_object_get(o, "window_hours") == NULL)
			return bad(c, "policy.budget", "needs both releases and window_hours");
		if ((r = get_posint(c, o, "releases", "policy.budget.releases", 1000000000,
		    &p->budget.releases)) != PHT_OK ||
		    (r = get_posint(c, o, "window_hours", "policy.budget.window_hours",
		    24 * 366 * 10, &v)) != PHT_OK)
			return r;
		p->budget.window_seconds = v * 3600;
	}
	if ((o = json_object_get(pol, "rounding")) != NULL) {
		if (!json_is_object(o))
			return bad(c, "policy.rounding", "not an object");
		if ((r = only_known(c, o, "policy.rounding", known_round)) != PHT_OK)
			return r;
		if (json_object_get(o, "counts") == NULL)
			return bad(c, "policy.rounding.counts", "missing");
		if ((r = get_posint(c, o, "counts", "policy.rounding.counts", 1000000,
		    &p->round_counts)) != PHT_OK)
			return r;
	}
	return PHT_OK;
}

/* released_rows: a path, by default the seen-ids store's with ".rows" appended. */
static int
get_released_rows(struct ctx *c, struct pht_station_config *cfg)
{
	size_t n;
	int r;

	if ((r = get_path(c, cfg->root, "released_rows", "released_rows", 0,
	    &cfg->released_rows)) != PHT_OK || cfg->released_rows != NULL)
		return r;
	n = strlen(cfg->seen_ids);
	if ((cfg->released_rows = malloc(n + sizeof(".rows"))) == NULL)
		return pht_errf(c->err, PHT_ERR_NOMEM, "%s: out of memory", c->file);
	memcpy(cfg->released_rows, cfg->seen_ids, n);
	memcpy(cfg->released_rows + n, ".rows", sizeof(".rows"));
	return PHT_OK;
}

/*
 * policy.time_resolution_days (a positive number of days, at most 3660),
 * policy.km_min_cell (1 to 1000000), policy.grid_digits (1 to 6) and
 * policy.grid ({column: positive step}) into p->resolution.
 */
static int
parse_resolution(struct ctx *c, struct pht_station_policy *p, const json_t *pol)
{
	struct pht_resolution *res = &p->resolution;
	struct pht_resolution_grid *g;
	const char *name;
	char field[128];
	json_t *o, *v;
	int64_t iv;
	size_t i = 0;
	int r;

	if ((o = json_object_get(pol, "time_resolution_days")) != NULL) {
		if (!json_is_number(o) || !isfinite(json_number_value(o)) ||
		    json_number_value(o) <= 0 || json_number_value(o) > 3660)
			return bad(c, "policy.time_resolution_days",
			    "not a positive number of days (at most 3660)");
		res->time_days = json_number_value(o);
	}
	if ((r = get_posint(c, pol, "km_min_cell", "policy.km_min_cell", 1000000,
	    &res->km_min_cell)) != PHT_OK)
		return r;
	iv = res->grid_digits;
	if ((r = get_posint(c, pol, "grid_digits", "policy.grid_digits", 6, &iv)) != PHT_OK)
		return r;
	res->grid_digits = (int)iv;
	if ((o = json_object_get(pol, "grid")) == NULL)
		return PHT_OK;
	if (!json_is_object(o))
		return bad(c, "policy.grid", "not an object (column name -> positive step)");
	if (json_object_size(o) > CONFIG_MAX_ITEMS)
		return bad(c, "policy.grid", "too many entries");
	if (json_object_size(o) == 0)
		return PHT_OK;
	if ((g = calloc(json_object_size(o), sizeof(*g))) == NULL)
		return pht_errf(c->err, PHT_ERR_NOMEM, "%s: out of memory", c->file);
	res->grids = g;
	json_object_foreach(o, name, v) {
		snprintf(field, sizeof(field), "policy.grid.%.64s", name);
		if (name[0] == '\0' || strlen(name) > 256)
			return bad(c, field, "not a column name");
		if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
		    json_number_value(v) <= 0)
			return bad(c, field, "not a positive step");
		g[i].column = name;
		g[i].step = json_number_value(v);
		res->ngrids = ++i;
	}
	return PHT_OK;
}

static int
parse_policy(struct ctx *c, struct pht_station_config *cfg, const json_t *pol)
{
	static const char *const known[] = {"k", "output", "limits", "budget", "rounding",
	    "time_resolution_days", "km_min_cell", "grid", "grid_digits", NULL};
	static const char *const known_out[] = {"max_bytes", "max_numbers",
	    "max_string", NULL};
	static const char *const known_lim[] = {"instructions", "memory_mb",
	    "time_seconds", NULL};
	struct pht_station_policy *p = &cfg->policy;
	json_t *o, *t;
	int64_t v;
	int r;

	pht_limits_default(&p->limits);
	pht_output_caps_default(&p->output);
	pht_resolution_default(&p->resolution);
	p->limits.resolution = &p->resolution;
	if (pol != NULL) {
		if (!json_is_object(pol))
			return bad(c, "policy", "not an object");
		if ((r = only_known(c, pol, "policy", known)) != PHT_OK)
			return r;
		v = p->limits.k;
		if ((r = get_posint(c, pol, "k", "policy.k", 1000000, &v)) != PHT_OK)
			return r;
		p->limits.k = v;
		if ((o = json_object_get(pol, "output")) != NULL) {
			if (!json_is_object(o))
				return bad(c, "policy.output", "not an object");
			if ((r = only_known(c, o, "policy.output", known_out)) != PHT_OK)
				return r;
			v = (int64_t)p->output.max_bytes;
			if ((r = get_posint(c, o, "max_bytes", "policy.output.max_bytes",
			    (int64_t)1 << 30, &v)) != PHT_OK)
				return r;
			p->output.max_bytes = (size_t)v;
			v = (int64_t)p->output.max_numbers;
			if ((r = get_posint(c, o, "max_numbers", "policy.output.max_numbers",
			    (int64_t)1 << 30, &v)) != PHT_OK)
				return r;
			p->output.max_numbers = (size_t)v;
			v = (int64_t)p->output.max_string;
			if ((r = get_posint(c, o, "max_string", "policy.output.max_string",
			    (int64_t)1 << 30, &v)) != PHT_OK)
				return r;
			p->output.max_string = (size_t)v;
		}
		if ((o = json_object_get(pol, "limits")) != NULL) {
			if (!json_is_object(o))
				return bad(c, "policy.limits", "not an object");
			if ((r = only_known(c, o, "policy.limits", known_lim)) != PHT_OK)
				return r;
			v = (int64_t)p->limits.instructions;
			if ((r = get_posint(c, o, "instructions", "policy.limits.instructions",
			    INT64_MAX, &v)) != PHT_OK)
				return r;
			p->limits.instructions = (uint64_t)v;
			v = (int64_t)(p->limits.memory_bytes >> 20);
			if ((r = get_posint(c, o, "memory_mb", "policy.limits.memory_mb",
			    1024 * 1024, &v)) != PHT_OK)
				return r;
			p->limits.memory_bytes = (size_t)v << 20;
			if ((t = json_object_get(o, "time_seconds")) != NULL) {
				if (!json_is_number(t) || !isfinite(json_number_value(t)) ||
				    json_number_value(t) <= 0 || json_number_value(t) > 86400)
					return bad(c, "policy.limits.time_seconds",
					    "not a positive number of seconds (at most 86400)");
				p->limits.wall_seconds = json_number_value(t);
			}
		}
		if ((r = parse_budget_rounding(c, p, pol)) != PHT_OK)
			return r;
		if ((r = parse_resolution(c, p, pol)) != PHT_OK)
			return r;
	}
	p->limits.output_bytes = p->output.max_bytes;
	p->limits.output_numbers = p->output.max_numbers;
	return PHT_OK;
}

static int
parse_node(struct ctx *c, struct pht_station_config *cfg, const json_t *node)
{
	static const char *const known[] = {"url", "cert", "key", "ca", NULL};
	char *p;
	int r;

	if (node == NULL)
		return PHT_OK;
	if (!json_is_object(node))
		return bad(c, "node", "not an object");
	if ((r = only_known(c, node, "node", known)) != PHT_OK)
		return r;
	if ((r = get_string(c, node, "url", "node.url", 1, &cfg->node.url)) != PHT_OK)
		return r;
	if (strncmp(cfg->node.url, "https://", 8) != 0)
		return bad(c, "node.url", "must start with https://");
	if ((r = get_path(c, node, "cert", "node.cert", 1, &p)) != PHT_OK)
		return r;
	cfg->node.cert = p;
	if ((r = get_path(c, node, "key", "node.key", 1, &p)) != PHT_OK)
		return r;
	cfg->node.key = p;
	if ((r = get_path(c, node, "ca", "node.ca", 1, &p)) != PHT_OK)
		return r;
	cfg->node.ca = p;
	return PHT_OK;
}

/* permit_authorities (public key files) and require_permit (docs/governance.md). */
static int
parse_permits(struct ctx *c, struct pht_station_config *cfg)
{
	const json_t *a = json_object_get(cfg->root, "permit_authorities");
	const json_t *rq = json_object_get(cfg->root, "require_permit");
	char field[64];
	json_t *v;
	size_t i;
	int r;

	if (a != NULL) {
		if (!json_is_array(a) || json_array_size(a) == 0)
			return bad(c, "permit_authorities", "not a non-empty array of "
			    "public key files");
		if (json_array_size(a) > CONFIG_MAX_ITEMS)
			return bad(c, "permit_authorities", "too many entries");
		if ((cfg->authorities = calloc(json_array_size(a),
		    sizeof(*cfg->authorities))) == NULL)
			return pht_errf(c->err, PHT_ERR_NOMEM, "%s: out of memory", c->file);
		json_array_foreach(a, i, v) {
			json_t *wrap = json_pack("{s:O}", "p", v);
			snprintf(field, sizeof(field), "permit_authorities[%zu]", i);
			if (wrap == NULL)
				return pht_errf(c->err, PHT_ERR_NOMEM, "%s: out of memory", c->file);
			r = get_path(c, wrap, "p", field, 1, &cfg->authorities[i]);
			json_decref(wrap);
			if (r != PHT_OK)
				return r;
			cfg->nauthorities = i + 1;
		}
	}
	cfg->require_permit = cfg->nauthorities > 0;
	if (rq != NULL) {
		if (!json_is_boolean(rq))
			return bad(c, "require_permit", "not true or false");
		cfg->require_permit = json_is_true(rq);
	}
	if (cfg->require_permit && cfg->nauthorities == 0)
		return bad(c, "require_permit", "true, but no permit_authorities are "
		    "configured");
	return PHT_OK;
}

int
pht_station_config_parse(const char *text, size_t len, const char *name,
    const char *base_dir, struct pht_station_config **out, struct pht_err *err)
{
	static const char *const known[] = {"station", "datasets", "signers",
	    "policy", "audit_log", "key", "seen_ids", "node", "permit_authorities",
	    "require_permit", "released_rows", "catalog", "retention_years",
	    "audit_rotate_kb", NULL};
	struct pht_station_config *cfg = NULL;
	struct ctx c = {name, base_dir, err};
	int r;

	*out = NULL;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
	if ((r = pht_json_parse(text, len, name, &cfg->root, err)) != PHT_OK)
		goto out;
	if (!json_is_object(cfg->root)) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: not a JSON object", name);
		goto out;
	}
	if ((r = only_known(&c, cfg->root, "", known)) != PHT_OK ||
	    (r = get_string(&c, cfg->root, "station", "station", 1, &cfg->id)) != PHT_OK)
		goto out;
	if (!pht_name_ok(cfg->id)) {
		r = bad(&c, "station", "station id must be 1-64 of A-Z a-z 0-9 _ - .");
		goto out;
	}
	if ((r = parse_datasets(&c, cfg, json_object_get(cfg->root, "datasets"))) != PHT_OK ||
	    (r = parse_signers(&c, cfg, json_object_get(cfg->root, "signers"))) != PHT_OK ||
	    (r = parse_policy(&c, cfg, json_object_get(cfg->root, "policy"))) != PHT_OK ||
	    (r = get_path(&c, cfg->root, "audit_log", "audit_log", 1, &cfg->audit_log)) != PHT_OK ||
	    (r = get_path(&c, cfg->root, "key", "key", 1, &cfg->key)) != PHT_OK ||
	    (r = get_path(&c, cfg->root, "seen_ids", "seen_ids", 1, &cfg->seen_ids)) != PHT_OK ||
	    (r = get_released_rows(&c, cfg)) != PHT_OK ||
	    (r = parse_node(&c, cfg, json_object_get(cfg->root, "node"))) != PHT_OK ||
	    (r = parse_permits(&c, cfg)) != PHT_OK)
		goto out;
	cfg->retention_years = 5;
	{
		int64_t ry = cfg->retention_years;
		if ((r = get_posint(&c, cfg->root, "retention_years", "retention_years",
		    100, &ry)) != PHT_OK)
			goto out;
		cfg->retention_years = (int)ry;
	}
	if ((r = get_posint(&c, cfg->root, "audit_rotate_kb", "audit_rotate_kb",
	    (int64_t)1 << 30, &cfg->audit_rotate_kb)) != PHT_OK)
		goto out;
	if (json_object_get(cfg->root, "catalog") != NULL &&
	    (r = pht_station_config_check_catalog(json_object_get(cfg->root, "catalog"),
	    json_object_get(cfg->root, "datasets"), name, err)) != PHT_OK)
		goto out;
	*out = cfg;
	cfg = NULL; /* transferred */
out:
	pht_station_config_free(cfg);
	return r;
}

int
pht_station_config_load(const char *path, struct pht_station_config **out,
    struct pht_err *err)
{
	struct pht_buf *b = NULL;
	char *dir = NULL, *slash;
	int r;

	*out = NULL;
	if ((r = pht_file_read(path, PHT_STATION_CONFIG_MAX, &b, err)) != PHT_OK)
		return r;
	if ((dir = strdup(path)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = NULL;
	} else if (slash == dir) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	r = pht_station_config_parse(pht_buf_str(b), pht_buf_len(b), path,
	    dir, out, err);
out:
	free(dir);
	pht_buf_free(b);
	return r;
}

void
pht_station_config_free(struct pht_station_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->ndatasets; i++) {
		pht_dataset_source_free((struct pht_dataset_source *)cfg->datasets[i].source);
		pht_station_optout_free((struct pht_station_optout *)cfg->datasets[i].opt_out);
	}
	free(cfg->datasets);
	free((struct pht_resolution_grid *)cfg->policy.resolution.grids);
	for (i = 0; i < cfg->nsigners; i++)
		free((char *)cfg->signers[i].key);
	free(cfg->signers);
	free(cfg->audit_log);
	free(cfg->key);
	free(cfg->seen_ids);
	free(cfg->released_rows);
	for (i = 0; i < cfg->nauthorities; i++)
		free(cfg->authorities[i]);
	free(cfg->authorities);
	free((char *)cfg->node.cert);
	free((char *)cfg->node.key);
	free((char *)cfg->node.ca);
	json_decref(cfg->root);
	free(cfg);
}

const char *
pht_station_config_id(const struct pht_station_config *cfg)
{
	return cfg->id;
}

size_t
pht_station_config_ndatasets(const struct pht_station_config *cfg)
{
	return cfg->ndatasets;
}

const struct pht_station_dataset *
pht_station_config_dataset(const struct pht_station_config *cfg, size_t i)
{
	return i < cfg->ndatasets ? &cfg->datasets[i] : NULL;
}

const struct pht_station_dataset *
pht_station_config_find_dataset(const struct pht_station_config *cfg,
    const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ndatasets; i++)
		if (strcmp(cfg->datasets[i].name, name) == 0)
			return &cfg->datasets[i];
	return NULL;
}

size_t
pht_station_config_nsigners(const struct pht_station_config *cfg)
{
	return cfg->nsigners;
}

const struct pht_station_signer *
pht_station_config_signer(const struct pht_station_config *cfg, size_t i)
{
	return i < cfg->nsigners ? &cfg->signers[i] : NULL;
}

const struct pht_station_policy *
pht_station_config_policy(const struct pht_station_config *cfg)
{
	return &cfg->policy;
}

const char *
pht_station_config_audit_log(const struct pht_station_config *cfg)
{
	return cfg->audit_log;
}

const char *
pht_station_config_key(const struct pht_station_config *cfg)
{
	return cfg->key;
}

const char *
pht_station_config_seen_ids(const struct pht_station_config *cfg)
{
	return cfg->seen_ids;
}

const char *
pht_station_config_released_rows(const struct pht_station_config *cfg)
{
	return cfg->released_rows;
}

const struct pht_station_node *
pht_station_config_node(const struct pht_station_config *cfg)
{
	return &cfg->node;
}

size_t
pht_station_config_npermit_authorities(const struct pht_station_config *cfg)
{
	return cfg->nauthorities;
}

const char *
pht_station_config_permit_authority(const struct pht_station_config *cfg, size_t i)
{
	return i < cfg->nauthorities ? cfg->authorities[i] : NULL;
}

int
pht_station_config_require_permit(const struct pht_station_config *cfg)
{
	return cfg->require_permit;
}

const json_t *
pht_station_config_catalog(const struct pht_station_config *cfg)
{
	return json_object_get(cfg->root, "catalog");
}

int
pht_station_config_retention_years(const struct pht_station_config *cfg)
{
	return cfg->retention_years;
}

uint64_t
pht_station_config_audit_rotate_bytes(const struct pht_station_config *cfg)
{
	return (uint64_t)cfg->audit_rotate_kb * 1024;
}
