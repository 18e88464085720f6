/* pht_node_req.c — the node's request parsing without sockets: identifiers, paths, routes, query strings, bodies. */
#include "pht_node_req.h"
#include "pht_err.h"
#include "pht_id.h"
#include "pht_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

int
pht_node_req_hash_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > PHT_NODE_HASH_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("+/=_:.-", c) != NULL))
			return 0;
	}
	return 1;
}

int
pht_node_req_split_path(const char *path,
    char seg[PHT_NODE_REQ_SEGS][PHT_NODE_ID_MAX + 1])
{
	const char *s, *slash;
	size_t len;
	int n = 0;

	if (strncmp(path, "/v1/", 4) != 0)
		return -1;
	s = path + 4;
	while (*s != '\0') {
		if (n == PHT_NODE_REQ_SEGS)
			return -1;
		slash = strchr(s, '/');
		len = slash != NULL ? (size_t)(slash - s) : strlen(s);
		if (!pht_ident_ok(s, len, PHT_NODE_ID_MAX))
			return -1;
		memcpy(seg[n], s, len);
		seg[n][len] = '\0';
		n++;
		if (slash == NULL)
			break;
		s = slash + 1;
		if (*s == '\0')
			return -1;
	}
	return n;
}

enum pht_node_route
pht_node_req_route(const char *path, int is_get, int is_post,
    char seg[PHT_NODE_REQ_SEGS][PHT_NODE_ID_MAX + 1])
{
	int n = path != NULL ? pht_node_req_split_path(path, seg) : -1;

	if (n == 1 && strcmp(seg[0], "trains") == 0) {
		if (is_post)
			return PHT_NODE_ROUTE_POST_TRAIN;
	} else if (n == 3 && strcmp(seg[0], "trains") == 0 &&
	    strcmp(seg[2], "results") == 0) {
		if (is_get)
			return PHT_NODE_ROUTE_GET_RESULTS;
		if (is_post)
			return PHT_NODE_ROUTE_POST_RESULT;
	} else if (n == 1 && strcmp(seg[0], "inbox") == 0) {
		if (is_get)
			return PHT_NODE_ROUTE_GET_INBOX;
	} else if (n == 3 && strcmp(seg[0], "inbox") == 0 &&
	    strcmp(seg[2], "ack") == 0) {
		if (is_post)
			return PHT_NODE_ROUTE_ACK;
	} else if (n == 2 && strcmp(seg[0], "stations") == 0 &&
	    strcmp(seg[1], "self") == 0) {
		if (is_post)
			return PHT_NODE_ROUTE_PUBLISH;
	} else if (n == 1 && strcmp(seg[0], "stations") == 0) {
		if (is_get)
			return PHT_NODE_ROUTE_STATIONS;
	} else if (n == 1 && strcmp(seg[0], "revocations") == 0) {
		if (is_get)
			return PHT_NODE_ROUTE_GET_REVOCATIONS;
		if (is_post)
			return PHT_NODE_ROUTE_POST_REVOCATIONS;
	} else if (n == 1 && strcmp(seg[0], "catalog") == 0) {
		if (is_get)
			return PHT_NODE_ROUTE_CATALOG;
	} else if (n == 1 && strcmp(seg[0], "halts") == 0) {
		if (is_get)
			return PHT_NODE_ROUTE_GET_HALTS;
		if (is_post)
			return PHT_NODE_ROUTE_POST_HALTS;
	} else {
		return PHT_NODE_ROUTE_NOT_FOUND;
	}
	return PHT_NODE_ROUTE_BAD_METHOD;
}

int
pht_node_req_query_ints(const char *q, const char *const *names,
    const int64_t *lo, const int64_t *hi, int64_t *vals, struct pht_err *err)
{
	struct evkeyvalq kv;
	struct evkeyval *e;
	char *end;
	long long v;
	size_t i;
	int r = PHT_OK;

	if (q == NULL || *q == '\0')
		return PHT_OK;
	TAILQ_INIT(&kv);
	if (evhttp_parse_query_str(q, &kv) != 0)
		return pht_errf(err, PHT_ERR_MALFORMED, "query: does not parse");
	TAILQ_FOREACH(e, &kv, next) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(e->key, names[i]) == 0)
				break;
		if (names[i] == NULL) {
			r = pht_errf(err, PHT_ERR_MALFORMED, "query: unknown parameter "
			    "\"%.32s\"", e->key);
			break;
		}
		errno = 0;
		v = strtoll(e->value, &end, 10);
		if (e->value[0] == '\0' || *end != '\0' || errno != 0 ||
		    v < lo[i] || v > hi[i]) {
			r = pht_errf(err, PHT_ERR_MALFORMED, "query: %s=%.32s: must be "
			    "an integer %lld..%lld", e->key, e->value,
			    (long long)lo[i], (long long)hi[i]);
			break;
		}
		vals[i] = v;
	}
	evhttp_clear_headers(&kv);
	return r;
}

int
pht_node_req_body(const char *p, size_t n, json_t **out, struct pht_err *err)
{
	*out = NULL;
	if (n == 0)
		return pht_errf(err, PHT_ERR_MALFORMED, "request body: empty");
	return pht_json_parse(p, n, "request body", out, err);
}

int
pht_node_req_only_fields(const json_t *obj, const char *const *names, const char *what,
    struct pht_err *err)
{
	const char *k = pht_json_unknown(obj, names);

	if (k == NULL)
		return PHT_OK;
	return pht_errf(err, PHT_ERR_MALFORMED, "%s: unknown field \"%.64s\"", what, k);
}
