/* pht_node_req.h — the node's request parsing without sockets: identifiers, paths, routes, query strings, bodies. */
#ifndef PHT_NODE_REQ_H
#define PHT_NODE_REQ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_node_store.h"

struct pht_err;

/*
 * Everything the node reads from a request before it touches the store,
 * kept apart from libevent so that it can be tested and fuzzed on plain
 * bytes (tests/fuzz/fuzz_node_request.c). The server (node/pht_node_*.c) calls these
 * with what evhttp has parsed: the path, the raw query string and the
 * body bytes.
 */

#define PHT_NODE_REQ_SEGS 4   /* most path segments after /v1/ */

/* What a request asks for (method and path together). */
enum pht_node_route {
	PHT_NODE_ROUTE_NOT_FOUND = 0,   /* 404: no such path */
	PHT_NODE_ROUTE_BAD_METHOD,      /* 405: path exists, not for this method */
	PHT_NODE_ROUTE_POST_TRAIN,      /* POST /v1/trains */
	PHT_NODE_ROUTE_GET_RESULTS,     /* GET  /v1/trains/<id>/results */
	PHT_NODE_ROUTE_POST_RESULT,     /* POST /v1/trains/<id>/results */
	PHT_NODE_ROUTE_GET_INBOX,       /* GET  /v1/inbox */
	PHT_NODE_ROUTE_ACK,             /* POST /v1/inbox/<id>/ack */
	PHT_NODE_ROUTE_PUBLISH,         /* POST /v1/stations/self */
	PHT_NODE_ROUTE_STATIONS,        /* GET  /v1/stations */
	PHT_NODE_ROUTE_GET_REVOCATIONS, /* GET  /v1/revocations */
	PHT_NODE_ROUTE_POST_REVOCATIONS,/* POST /v1/revocations */
	PHT_NODE_ROUTE_GET_HALTS,       /* GET  /v1/halts */
	PHT_NODE_ROUTE_POST_HALTS,      /* POST /v1/halts */
	PHT_NODE_ROUTE_CATALOG,         /* GET  /v1/catalog */
};

/*
 * 1 if the NUL-terminated s is a log head hash as the node stores it:
 * 1..PHT_NODE_HASH_MAX characters of [A-Za-z0-9+/=_:.-]. Else 0.
 */
int pht_node_req_hash_ok(const char *s);

/*
 * Splits path (NUL-terminated, without the query) into at most
 * PHT_NODE_REQ_SEGS segments after "/v1/", each copied NUL-terminated into
 * seg and each an id (pht_id.h). Returns the number of segments
 * (0 for "/v1/" itself), or -1 if the path does not start with "/v1/",
 * has more segments, an empty segment, a trailing slash or a bad segment.
 */
int pht_node_req_split_path(const char *path,
    char seg[PHT_NODE_REQ_SEGS][PHT_NODE_ID_MAX + 1]);

/*
 * The route of a request: path may be NULL (no path: not found); is_get
 * and is_post say the method (neither: any other method). seg receives
 * the path segments; for the routes naming a train, seg[1] is its id.
 */
enum pht_node_route pht_node_req_route(const char *path, int is_get,
    int is_post, char seg[PHT_NODE_REQ_SEGS][PHT_NODE_ID_MAX + 1]);

/*
 * Reads a query string (NULL or "" for none): only the parameters in the
 * NULL-terminated names are allowed, each a decimal integer in
 * lo[i]..hi[i]; vals[i] is set for those present and keeps its value for
 * the others. PHT_ERR_MALFORMED with "query: does not parse", "query:
 * unknown parameter \"X\"" or "query: X=V: must be an integer LO..HI".
 */
int pht_node_req_query_ints(const char *query, const char *const *names,
    const int64_t *lo, const int64_t *hi, int64_t *vals, struct pht_err *err);

/*
 * Parses a request body of n bytes (need not be NUL-terminated) as one
 * JSON value (pht_json_parse rules: no duplicate keys, no NUL, depth
 * bound). PHT_ERR_MALFORMED "request body: empty" for n == 0, else as
 * pht_json_parse with "request body" as the name. *out is NULL on failure.
 */
int pht_node_req_body(const char *p, size_t n, json_t **out,
    struct pht_err *err);

/*
 * Refuses a member of obj (an object) not named in names (NULL-terminated)
 * with PHT_ERR_MALFORMED: "WHAT: unknown field "NAME"". PHT_OK if every
 * member is known. Request bodies and NODE.json share this wording.
 */
int pht_node_req_only_fields(const json_t *obj, const char *const *names,
    const char *what, struct pht_err *err);

#endif
