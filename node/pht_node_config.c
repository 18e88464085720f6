/* pht_node_config.c — NODE.json: reading and checking the node's configuration, and copying it. */
#include "pht_node_config.h"
#include "pht_node_req.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define CONFIG_MAX_FILE (64 * 1024)

void
pht_node_config_free(struct pht_node_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->listen);
	free(cfg->cert);
	free(cfg->key);
	free(cfg->ca);
	free(cfg->database);
	free(cfg->permit_authorities);
	free(cfg);
}

/* A path from the config file, made relative to the file's directory. */
static char *
config_path(const char *cfgdir, const char *p)
{
	if (p[0] == '/' || cfgdir == NULL)
		return strdup(p);
	return pht_path_join(cfgdir, p);
}

static int
config_size(const json_t *obj, const char *name, const char *what,
    int64_t lo, int64_t hi, int64_t *v, struct pht_err *err)
{
	int r;

	if ((r = pht_json_get_int_opt(obj, name, what, v, err)) != PHT_OK)
		return r;
	if (*v < lo || *v > hi)
		return pht_errf(err, PHT_ERR_MALFORMED, "%s: field %s: %lld is out "
		    "of range %lld..%lld", what, name, (long long)*v, (long long)lo,
		    (long long)hi);
	return PHT_OK;
}

int
pht_node_config_load(const char *path, struct pht_node_config **out,
    struct pht_err *err)
{
	static const char *const top[] = {"listen", "port", "cert", "key", "ca",
	    "database", "limits", "permit_authorities", NULL};
	static const char *const lim[] = {"max_body", "max_headers", "max_wait",
	    "timeout", "inbox_batch", "results_batch", "max_pending",
	    "max_connections", NULL};
	struct pht_node_config *cfg = NULL;
	struct pht_buf *b = NULL;
	json_t *root = NULL, *limits = NULL;
	const char *s, *slash;
	char *dir = NULL, what[300];
	int64_t v;
	int r;

	*out = NULL;
	if ((r = pht_file_read(path, CONFIG_MAX_FILE, &b, err)) != PHT_OK)
		return r;
	if ((r = pht_json_parse(pht_buf_str(b), pht_buf_len(b), path, &root,
	    err)) != PHT_OK)
		goto out;
	if (!json_is_object(root)) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: not a JSON object", path);
		goto out;
	}
	if ((r = pht_node_req_only_fields(root, top, path, err)) != PHT_OK)
		goto out;
	if ((slash = strrchr(path, '/')) != NULL &&
	    (dir = slash == path ? strdup("/") :
	    strndup(path, (size_t)(slash - path))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	cfg->max_body = 4 * 1024 * 1024;
	cfg->max_headers = 16 * 1024;
	cfg->max_wait = 60;
	cfg->timeout = 90;
	cfg->inbox_batch = 16;
	cfg->results_batch = 256;
	cfg->max_pending = 100000;

	s = "127.0.0.1";
	if ((r = pht_json_get_str_opt(root, "listen", path, &s, err)) != PHT_OK)
		goto out;
	if ((cfg->listen = strdup(s)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	v = 8443;
	if ((r = config_size(root, "port", path, 0, 65535, &v, err)) != PHT_OK)
		goto out;
	cfg->port = (int)v;
#define PATH_FIELD(field) do { \
		if ((r = pht_json_get_str(root, #field, path, &s, err)) != PHT_OK) \
			goto out; \
		if (*s == '\0') { \
			r = pht_errf(err, PHT_ERR_MALFORMED, "%s: field " #field \
			    ": empty", path); \
			goto out; \
		} \
		if ((cfg->field = config_path(dir, s)) == NULL) { \
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory"); \
			goto out; \
		} \
	} while (0)
	PATH_FIELD(cert);
	PATH_FIELD(key);
	PATH_FIELD(ca);
	PATH_FIELD(database);
	if (json_object_get(root, "permit_authorities") != NULL)
		PATH_FIELD(permit_authorities);
#undef PATH_FIELD
	if (json_object_get(root, "limits") != NULL) {
		if ((r = pht_json_get_object(root, "limits", path, &limits, err)) != PHT_OK)
			goto out;
		snprintf(what, sizeof(what), "%s: limits", path);
		if ((r = pht_node_req_only_fields(limits, lim, what, err)) != PHT_OK)
			goto out;
		v = (int64_t)cfg->max_body;
		if ((r = config_size(limits, "max_body", what, 1024, 256 << 20, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->max_body = (size_t)v;
		v = (int64_t)cfg->max_headers;
		if ((r = config_size(limits, "max_headers", what, 1024, 1 << 20, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->max_headers = (size_t)v;
		v = cfg->max_wait;
		if ((r = config_size(limits, "max_wait", what, 1, 60, &v, err)) != PHT_OK)
			goto out;
		cfg->max_wait = (int)v;
		v = cfg->timeout;
		if ((r = config_size(limits, "timeout", what, 2, 3600, &v, err)) != PHT_OK)
			goto out;
		cfg->timeout = (int)v;
		v = (int64_t)cfg->inbox_batch;
		if ((r = config_size(limits, "inbox_batch", what, 1, 1000, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->inbox_batch = (size_t)v;
		v = (int64_t)cfg->results_batch;
		if ((r = config_size(limits, "results_batch", what, 1, 10000, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->results_batch = (size_t)v;
		v = (int64_t)cfg->max_pending;
		if ((r = config_size(limits, "max_pending", what, 1, 100000000, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->max_pending = (size_t)v;
		v = (int64_t)cfg->max_connections;
		if ((r = config_size(limits, "max_connections", what, 0, 10000000, &v,
		    err)) != PHT_OK)
			goto out;
		cfg->max_connections = (size_t)v;
	}
	if (cfg->timeout <= cfg->max_wait) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: limits: timeout (%d) must "
		    "be longer than max_wait (%d)", path, cfg->timeout, cfg->max_wait);
		goto out;
	}
	*out = cfg;
	cfg = NULL; /* transferred */
	r = PHT_OK;
out:
	pht_node_config_free(cfg);
	json_decref(root);
	pht_buf_free(b);
	free(dir);
	return r;
}

int
pht_node_config_copy(struct pht_node_config *dst, const struct pht_node_config *src)
{
	*dst = *src;
	dst->listen = strdup(src->listen != NULL ? src->listen : "127.0.0.1");
	dst->cert = src->cert ? strdup(src->cert) : NULL;
	dst->key = src->key ? strdup(src->key) : NULL;
	dst->ca = src->ca ? strdup(src->ca) : NULL;
	dst->database = src->database ? strdup(src->database) : NULL;
	dst->permit_authorities = src->permit_authorities ?
	    strdup(src->permit_authorities) : NULL;
	if (dst->listen == NULL || dst->cert == NULL || dst->key == NULL ||
	    dst->ca == NULL || dst->database == NULL ||
	    (src->permit_authorities != NULL && dst->permit_authorities == NULL))
		return -1;
	return 0;
}
