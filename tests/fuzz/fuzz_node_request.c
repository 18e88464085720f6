/* fuzz_node_request.c — fuzz target: the node's request parsing (route, query, body) on arbitrary bytes. */
#include "pht_err.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_node_req.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Input layout: a first line "METHOD TARGET" (TARGET is a path with an
 * optional ?query), a newline, then the request body. Without a newline
 * the whole input is the target. The target goes through the router and
 * the query parser of its route with the node's limits, the body through
 * the body parser and then the typed field reads the handler of that
 * route makes (pht_json_get_*), and the id and hash checks.
 */

#define TARGET_MAX 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The field reads the handlers make on a parsed body. */
static void
read_body(enum pht_node_route r, const json_t *body)
{
	const char *s;
	json_t *a, *head;
	int64_t i;
	struct pht_err e;

	pht_err_clear(&e);
	if (!json_is_object(body))
		return;
	switch (r) {
	case PHT_NODE_ROUTE_POST_TRAIN:
		if (pht_json_get_str(body, "train", "request body", &s, &e) == PHT_OK)
			(void)pht_id_ok(s);
		(void)pht_json_get_int(body, "round", "request body", &i, &e);
		if (pht_json_get_array(body, "stations", "request body", &a,
		    &e) == PHT_OK && !json_is_array(a))
			abort();
		(void)pht_json_get_str(body, "envelope", "request body", &s, &e);
		break;
	case PHT_NODE_ROUTE_POST_RESULT:
		(void)pht_json_get_int(body, "round", "request body", &i, &e);
		if (pht_json_get_object(body, "log_head", "request body", &head,
		    &e) == PHT_OK &&
		    pht_json_get_str(head, "hash", "request body: log_head", &s,
		    &e) == PHT_OK)
			(void)pht_node_req_hash_ok(s);
		break;
	case PHT_NODE_ROUTE_ACK:
		(void)pht_json_get_int_opt(body, "round", "request body", &i, &e);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const results_q[] = {"wait", "after", NULL};
	static const char *const inbox_q[] = {"wait", NULL};
	const int64_t lo[] = {0, 0}, hi[] = {60, INT64_MAX};
	char seg[PHT_NODE_REQ_SEGS][PHT_NODE_ID_MAX + 1];
	char target[TARGET_MAX + 1], *q, *sp;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl != NULL ? (size_t)(nl - data) : size;
	const char *body = nl != NULL ? (const char *)nl + 1 : "";
	size_t blen = nl != NULL ? size - tlen - 1 : 0;
	enum pht_node_route r;
	int64_t vals[2] = {0, 0};
	json_t *j = NULL;
	struct pht_err e;
	int n, get, post;

	pht_err_clear(&e);
	if (tlen > TARGET_MAX)
		tlen = TARGET_MAX;
	memcpy(target, data, tlen);
	target[tlen] = '\0';
	get = strncmp(target, "GET ", 4) == 0;
	post = strncmp(target, "POST ", 5) == 0;
	sp = strchr(target, ' ');
	sp = sp != NULL ? sp + 1 : target;
	if ((q = strchr(sp, '?')) != NULL)
		*q++ = '\0';

	r = pht_node_req_route(sp, get, post, seg);
	n = pht_node_req_split_path(sp, seg);
	if ((n < 0) != (r == PHT_NODE_ROUTE_NOT_FOUND && n < 0))
		abort(); /* a path that does not split has no route */
	if (n > 0 && !pht_id_ok(seg[n - 1]))
		abort(); /* every segment handed on is a valid id */
	if (r == PHT_NODE_ROUTE_GET_RESULTS &&
	    pht_node_req_query_ints(q, results_q, lo, hi, vals, &e) == PHT_OK &&
	    (vals[0] < lo[0] || vals[0] > hi[0] || vals[1] < 0))
		abort(); /* accepted values are in range */
	if (r != PHT_NODE_ROUTE_GET_RESULTS &&
	    pht_node_req_query_ints(q, inbox_q, lo, hi, vals, &e) == PHT_OK &&
	    (vals[0] < lo[0] || vals[0] > hi[0]))
		abort();

	if (pht_node_req_body(body, blen, &j, &e) == PHT_OK) {
		if (j == NULL)
			abort();
		read_body(r, j);
	} else if (j != NULL || e.code == PHT_OK) {
		abort();
	}
	json_decref(j);
	(void)pht_node_req_hash_ok(sp);
	return 0;
}
