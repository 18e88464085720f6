/* pht_node_handlers.c — one handler per route of the node's API (trains, results, inbox, acks, station dictionaries, catalogue, governance documents). */
#include "pht_node_srv.h"
#include "pht_node_gov.h"
#include "pht_node_req.h"
#include "pht_node_store.h"
#include "pht_err.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_time.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* POST /v1/trains (analysts) */
void
pht_node_h_post_train(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p)
{
	static const char *const fields[] = {"train", "round", "stations",
	    "envelope", NULL};
	const char *targets[MAX_TARGETS];
	const char *train, *env;
	json_t *body = NULL, *stations, *envj = NULL, *v, *rep;
	struct pht_err e;
	int64_t round;
	size_t i, j, n;
	int created;

	pht_err_clear(&e);
	if (!pht_node_role_ok(srv, req, p, PHT_PKI_ANALYST,
	    "only analysts may post trains"))
		return;
	if (pht_node_body_json(req, &body, &e) != PHT_OK ||
	    !json_is_object(body) ||
	    pht_node_req_only_fields(body, fields, "request body", &e) != PHT_OK ||
	    pht_json_get_str(body, "train", "request body", &train, &e) != PHT_OK ||
	    pht_json_get_int(body, "round", "request body", &round, &e) != PHT_OK ||
	    pht_json_get_array(body, "stations", "request body", &stations, &e) != PHT_OK ||
	    pht_json_get_str(body, "envelope", "request body", &env, &e) != PHT_OK) {
		pht_node_reply_bad_body(srv, req, &e);
		goto out;
	}
	if (!pht_id_ok(train)) {
		pht_node_reply_error(srv, req, 400, "request body: field train: must be 1..%d "
		    "characters of [A-Za-z0-9_.-]", PHT_NODE_ID_MAX);
		goto out;
	}
	if (round < 0 || round > MAX_ROUND) {
		pht_node_reply_error(srv, req, 400, "request body: field round: must be "
		    "0..%d", MAX_ROUND);
		goto out;
	}
	n = json_array_size(stations);
	if (n < 1 || n > MAX_TARGETS) {
		pht_node_reply_error(srv, req, 400, "request body: field stations: must list "
		    "1..%d stations", MAX_TARGETS);
		goto out;
	}
	json_array_foreach(stations, i, v) {
		if (!json_is_string(v) || !pht_pki_name_ok(json_string_value(v))) {
			pht_node_reply_error(srv, req, 400, "request body: stations[%zu]: not a "
			    "station name", i);
			goto out;
		}
		targets[i] = json_string_value(v);
		for (j = 0; j < i; j++)
			if (strcmp(targets[j], targets[i]) == 0) {
				pht_node_reply_error(srv, req, 400, "request body: stations[%zu]: "
				    "\"%s\" listed twice", i, targets[i]);
				goto out;
			}
	}
	/* The node cannot check the signature's meaning; it checks form. */
	if (pht_json_parse(env, json_string_length(json_object_get(body,
	    "envelope")), "envelope", &envj, &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		goto out;
	}
	if (!json_is_object(envj)) {
		pht_node_reply_error(srv, req, 400, "envelope: not a JSON object");
		goto out;
	}
	if (pht_node_store_post_train(srv->store, train, round, p->name, env,
	    json_string_length(json_object_get(body, "envelope")), targets, n,
	    pht_time_now(), &created, &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		goto out;
	}
	pht_node_logf(srv, "train %s round %lld from analyst %s to %zu station(s)%s",
	    train, (long long)round, p->name, n, created ? "" : " (again)");
	rep = json_pack("{s:s, s:I, s:I, s:b}", "train", train, "round",
	    (json_int_t)round, "stations", (json_int_t)n, "created", created);
	pht_node_reply_json(req, created ? 201 : 200, created ? "Created" : "OK", rep);
	json_decref(rep);
	for (i = 0; i < n; i++)
		pht_node_poll_wake(srv, WAIT_INBOX, targets[i]);
out:
	json_decref(envj);
	json_decref(body);
}

/* GET /v1/trains/<id>/results (the analyst who posted the train) */
void
pht_node_h_get_results(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p, const char *train)
{
	static const char *const names[] = {"wait", "after", NULL};
	int64_t lo[] = {0, 0}, hi[] = {srv->cfg.max_wait, INT64_MAX};
	int64_t vals[] = {0, 0};
	char owner[PHT_NODE_NAME_MAX + 1];
	struct pht_err e;

	pht_err_clear(&e);
	if (!pht_node_role_ok(srv, req, p, PHT_PKI_ANALYST,
	    "only analysts may read results"))
		return;
	if (pht_node_query_ints(req, names, lo, hi, vals, &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		return;
	}
	if (pht_node_store_train_owner(srv->store, train, owner, sizeof(owner),
	    &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		return;
	}
	if (strcmp(owner, p->name) != 0) {
		pht_node_reply_error(srv, req, 403, "train %s belongs to another analyst", train);
		return;
	}
	pht_node_poll_serve(srv, req, WAIT_RESULTS, train, vals[1], vals[0]);
}

/* POST /v1/trains/<id>/results (stations) */
void
pht_node_h_post_result(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p, const char *train)
{
	static const char *const fields[] = {"round", "result", "log_head", NULL};
	static const char *const hfields[] = {"seq", "hash", NULL};
	json_t *body = NULL, *head, *result, *rep;
	const char *hash;
	char *text = NULL;
	struct pht_err e;
	int64_t round, seq;
	int created;

	pht_err_clear(&e);
	if (!pht_node_role_ok(srv, req, p, PHT_PKI_STATION,
	    "only stations may post results"))
		return;
	if (pht_node_body_json(req, &body, &e) != PHT_OK || !json_is_object(body) ||
	    pht_node_req_only_fields(body, fields, "request body", &e) != PHT_OK ||
	    pht_json_get_int(body, "round", "request body", &round, &e) != PHT_OK ||
	    pht_json_get_object(body, "log_head", "request body", &head, &e) != PHT_OK ||
	    pht_node_req_only_fields(head, hfields, "request body: log_head", &e) != PHT_OK ||
	    pht_json_get_int(head, "seq", "request body: log_head", &seq, &e) != PHT_OK ||
	    pht_json_get_str(head, "hash", "request body: log_head", &hash, &e) != PHT_OK) {
		pht_node_reply_bad_body(srv, req, &e);
		goto out;
	}
	if ((result = json_object_get(body, "result")) == NULL) {
		pht_node_reply_error(srv, req, 400, "request body: field result: missing");
		goto out;
	}
	if (!json_is_object(result) && !json_is_string(result)) {
		pht_node_reply_error(srv, req, 400, "request body: field result: not an "
		    "object or a string");
		goto out;
	}
	if (round < 0 || round > MAX_ROUND || seq < 0 ||
	    !pht_node_req_hash_ok(hash)) {
		pht_node_reply_error(srv, req, 400, "request body: round must be 0..%d, "
		    "log_head.seq >= 0, log_head.hash 1..%d characters of "
		    "[A-Za-z0-9+/=_:.-]", MAX_ROUND, PHT_NODE_HASH_MAX);
		goto out;
	}
	if ((text = json_dumps(result, JSON_ENCODE_ANY | JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL) {
		pht_node_reply_error(srv, req, 500, "out of memory");
		goto out;
	}
	if (pht_node_store_post_result(srv->store, train, p->name, round, text,
	    strlen(text), seq, hash, pht_time_now(), &created, &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		goto out;
	}
	pht_node_logf(srv, "result for train %s round %lld from station %s%s", train,
	    (long long)round, p->name, created ? "" : " (again)");
	rep = json_pack("{s:s, s:I, s:b}", "train", train, "round",
	    (json_int_t)round, "stored", created);
	pht_node_reply_json(req, created ? 201 : 200, created ? "Created" : "OK", rep);
	json_decref(rep);
	if (created)
		pht_node_poll_wake(srv, WAIT_RESULTS, train);
out:
	free(text);
	json_decref(body);
}

/* GET /v1/inbox (stations, their own inbox only) */
void
pht_node_h_get_inbox(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p)
{
	static const char *const names[] = {"wait", NULL};
	int64_t lo[] = {0}, hi[] = {srv->cfg.max_wait}, vals[] = {0};
	struct pht_err e;

	pht_err_clear(&e);
	if (!pht_node_role_ok(srv, req, p, PHT_PKI_STATION,
	    "only stations have an inbox"))
		return;
	if (pht_node_query_ints(req, names, lo, hi, vals, &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		return;
	}
	if (pht_node_store_station_seen(srv->store, p->name, pht_time_now(),
	    &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		return;
	}
	pht_node_poll_serve(srv, req, WAIT_INBOX, p->name, 0, vals[0]);
}

/* POST /v1/inbox/<id>/ack (stations) */
void
pht_node_h_ack(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p, const char *train)
{
	static const char *const fields[] = {"round", NULL};
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	json_t *body = NULL, *rep;
	struct pht_err e;
	int64_t round = -1;
	size_t nacked;

	pht_err_clear(&e);
	if (!pht_node_role_ok(srv, req, p, PHT_PKI_STATION,
	    "only stations may ack"))
		return;
	if (evbuffer_get_length(in) > 0) {
		if (pht_node_body_json(req, &body, &e) != PHT_OK || !json_is_object(body) ||
		    pht_node_req_only_fields(body, fields, "request body", &e) != PHT_OK ||
		    pht_json_get_int_opt(body, "round", "request body", &round,
		    &e) != PHT_OK) {
			pht_node_reply_bad_body(srv, req, &e);
			goto out;
		}
		if (json_object_get(body, "round") != NULL &&
		    (round < 0 || round > MAX_ROUND)) {
			pht_node_reply_error(srv, req, 400, "request body: field round: must be "
			    "0..%d", MAX_ROUND);
			goto out;
		}
	}
	if (pht_node_store_ack(srv->store, p->name, train, round, pht_time_now(),
	    &nacked, &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		goto out;
	}
	rep = json_pack("{s:s, s:I}", "train", train, "acked", (json_int_t)nacked);
	pht_node_reply_json(req, 200, "OK", rep);
	json_decref(rep);
out:
	json_decref(body);
}

/* POST /v1/stations/self (stations publish their dictionaries) */
void
pht_node_h_publish(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p)
{
	static const char *const fields[] = {"dictionaries", "catalog", NULL};
	json_t *body = NULL, *d, *rep, *cat;
	struct pht_err e;
	char *text = NULL;

	pht_err_clear(&e);
	if (!pht_node_role_ok(srv, req, p, PHT_PKI_STATION,
	    "only stations publish dictionaries"))
		return;
	if (pht_node_body_json(req, &body, &e) != PHT_OK || !json_is_object(body) ||
	    pht_node_req_only_fields(body, fields, "request body", &e) != PHT_OK) {
		pht_node_reply_bad_body(srv, req, &e);
		goto out;
	}
	d = json_object_get(body, "dictionaries");
	if (d == NULL || (!json_is_object(d) && !json_is_array(d))) {
		pht_node_reply_error(srv, req, 400, "request body: field dictionaries: "
		    "missing or not an object or array");
		goto out;
	}
	if ((cat = json_object_get(body, "catalog")) != NULL && !json_is_object(cat)) {
		pht_node_reply_error(srv, req, 400, "request body: field catalog: not an object");
		goto out;
	}
	if ((text = pht_json_dump(d)) == NULL) {
		pht_node_reply_error(srv, req, 500, "out of memory");
		goto out;
	}
	if (pht_node_store_station_publish(srv->store, p->name, text, strlen(text),
	    pht_time_now(), &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		goto out;
	}
	/* the station's catalogue entry (docs/catalog.md), kept per station */
	if (cat != NULL) {
		free(text);
		if ((text = pht_json_dump(cat)) == NULL) {
			pht_node_reply_error(srv, req, 500, "out of memory");
			goto out;
		}
		if (pht_node_store_gov_put(srv->store, "catalog", p->name,
		    PHT_NODE_GOV_LATEST, text, strlen(text), pht_time_now(), NULL,
		    &e) != PHT_OK) {
			pht_node_reply_err(srv, req, &e);
			goto out;
		}
	}
	pht_node_logf(srv, "station %s published its dictionaries%s", p->name,
	    cat != NULL ? " and its catalogue" : "");
	rep = json_pack("{s:s}", "station", p->name);
	pht_node_reply_json(req, 200, "OK", rep);
	json_decref(rep);
out:
	free(text);
	json_decref(body);
}

/*
 * GET /v1/catalog (everyone): the federation's catalogue, a dcat:Catalog
 * whose dcat:catalog lists each station's published entry (docs/catalog.md).
 */
void
pht_node_h_catalog(struct pht_node_server *srv, struct evhttp_request *req)
{
	struct pht_err e;
	json_t *arr = NULL, *body = NULL, *one, *ctx = NULL;
	char **docs = NULL;
	size_t n = 0, i;

	pht_err_clear(&e);
	if (pht_node_store_gov_list(srv->store, "catalog", &docs, &n, &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		return;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((one = json_loads(docs[i], JSON_REJECT_DUPLICATES, NULL)) == NULL)
			continue;
		if (ctx == NULL && json_object_get(one, "@context") != NULL)
			ctx = json_incref(json_object_get(one, "@context"));
		json_object_del(one, "@context");
		if (json_array_append_new(arr, one) != 0)
			goto out;
	}
	body = json_pack("{s:o, s:s, s:s, s:s, s:O}", "@context", ctx != NULL ?
	    json_incref(ctx) : json_pack("{s:s, s:s}", "dcat", "http://www.w3.org/ns/dcat#",
	    "dct", "http://purl.org/dc/terms/"), "@id", "urn:pht:federation", "@type",
	    "dcat:Catalog", "dct:title", "Catalogue of the PHT federation",
	    "dcat:catalog", arr);
out:
	if (body == NULL)
		pht_node_reply_error(srv, req, 500, "out of memory");
	else
		pht_node_reply_json(req, 200, "OK", body);
	json_decref(ctx);
	json_decref(arr);
	json_decref(body);
	pht_node_store_gov_free(docs, n);
}

/* GET /v1/stations (everyone) */
void
pht_node_h_stations(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p)
{
	struct pht_node_station *s = NULL;
	struct pht_err e;
	json_t *arr = NULL, *body = NULL;
	size_t n = 0, i;

	pht_err_clear(&e);
	if (p->role == PHT_PKI_STATION &&
	    pht_node_store_station_seen(srv->store, p->name, pht_time_now(),
	    &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		return;
	}
	if (pht_node_store_stations(srv->store, &s, &n, &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		return;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *d = s[i].dictionaries != NULL ? json_loads(s[i].dictionaries,
		    JSON_REJECT_DUPLICATES, NULL) : NULL;
		json_t *head = s[i].log_seq >= 0 ? json_pack("{s:I, s:s}", "seq",
		    (json_int_t)s[i].log_seq, "hash", s[i].log_hash) : json_null();
		json_t *t = json_pack("{s:s, s:o, s:o, s:o}", "id", s[i].id,
		    "dictionaries", d != NULL ? d : json_null(),
		    "last_seen", pht_node_time_json(s[i].last_seen),
		    "log_head", head != NULL ? head : json_null());
		if (t == NULL || json_array_append_new(arr, t) != 0)
			goto out;
	}
	body = json_pack("{s:O}", "stations", arr);
out:
	pht_node_reply_json(req, 200, "OK", body);
	json_decref(arr);
	json_decref(body);
	pht_node_stations_free(s, n);
}

/* ---- governance: revocation lists and halt orders ---- */

/*
 * POST /v1/revocations, /v1/halts {"envelope": TEXT}. Any authenticated
 * client may post (an authority holds whatever certificate its federation
 * gives it); the node keeps only documents signed by a permit authority of
 * NODE.json, and per authority (and scope) only the newest.
 */
void
pht_node_h_gov_post(struct pht_node_server *srv, struct evhttp_request *req,
    const struct pht_node_peer *p, enum pht_node_gov_kind kind)
{
	static const char *const fields[] = {"envelope", NULL};
	json_t *body = NULL, *rep;
	const char *env;
	char key[PHT_NODE_GOV_KEY_MAX];
	struct pht_err e;
	int64_t rank;
	int created = 0, r;

	pht_err_clear(&e);
	if (pht_node_body_json(req, &body, &e) != PHT_OK || !json_is_object(body) ||
	    pht_node_req_only_fields(body, fields, "request body", &e) != PHT_OK) {
		pht_node_reply_bad_body(srv, req, &e);
		goto out;
	}
	if ((env = json_string_value(json_object_get(body, "envelope"))) == NULL) {
		pht_node_reply_error(srv, req, 400, "request body: field envelope: missing or "
		    "not a string");
		goto out;
	}
	r = pht_node_gov_check(srv->authorities, kind, env, strlen(env), key, &rank, &e);
	if (r == PHT_ERR_UNKNOWN_SIGNER || r == PHT_ERR_BAD_SIGNATURE) {
		pht_node_reply_error(srv, req, 403, "%s", pht_err_msg(&e));
		goto out;
	}
	if (r != PHT_OK || pht_node_store_gov_put(srv->store,
	    pht_node_gov_kind_name(kind), key, rank, env, strlen(env), pht_time_now(),
	    &created, &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		goto out;
	}
	pht_node_logf(srv, "%s %s posted by %s %s (%s)", pht_node_gov_kind_name(kind), key,
	    pht_pki_role_name(p->role), p->name, created ? "stored" : "already stored");
	rep = json_pack("{s:s, s:b}", "kind", pht_node_gov_kind_name(kind), "stored",
	    created);
	pht_node_reply_json(req, 200, "OK", rep);
	json_decref(rep);
out:
	json_decref(body);
}

/* GET /v1/revocations, /v1/halts (everyone): {"revocations"|"halts": [TEXT...]} */
void
pht_node_h_gov_get(struct pht_node_server *srv, struct evhttp_request *req,
    enum pht_node_gov_kind kind)
{
	struct pht_err e;
	json_t *arr = NULL, *body = NULL;
	char **docs = NULL;
	size_t n = 0, i;

	pht_err_clear(&e);
	if (pht_node_store_gov_list(srv->store, pht_node_gov_kind_name(kind), &docs,
	    &n, &e) != PHT_OK) {
		pht_node_reply_err(srv, req, &e);
		return;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, json_string(docs[i])) != 0)
			goto out;
	body = json_pack("{s:O}", pht_node_gov_kind_name(kind), arr);
out:
	if (body == NULL)
		pht_node_reply_error(srv, req, 500, "out of memory");
	else
		pht_node_reply_json(req, 200, "OK", body);
	json_decref(arr);
	json_decref(body);
	pht_node_store_gov_free(docs, n);
}
