/* pht_analyst_client.c — the analyst's side of a federated run over the node's HTTP API. */
#include "pht_analyst_client.h"
#include "pht_analyst_rounds.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_http.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_resultmsg.h"
#include "pht_seal.h"
#include "pht_time.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUN_MAX_POLL 30

/* Where one station stands in the current round. */
enum st_state { ST_PENDING = 0, ST_OK, ST_ERROR };

struct run {
	const struct pht_analyst_run_spec *s;
	struct pht_http *http;
	char base[512];
	json_t *report;           /* {"rounds","train_ids","failed","refused"} */
	uint8_t result_key[PHT_KEY_RAW_LEN];
	int64_t max_poll;         /* long poll wait; halved if the node refuses it */
	int posted;               /* rounds this call posted */
	json_t *waiting;          /* set when the run stopped waiting (the report's) */
};

static void
note(struct run *rn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(struct run *rn, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (rn->s->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rn->s->note(rn->s->arg, line);
}

static int
cancelled(const struct run *rn)
{
	return rn->s->http.cancel != NULL && *rn->s->http.cancel != 0;
}

static void
nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int
call(struct run *rn, const char *method, const char *path, const json_t *body,
    long timeout_ms, json_t **out, struct pht_err *err)
{
	char url[1024];
	long status;

	if ((size_t)snprintf(url, sizeof(url), "%s%s", rn->base, path) >= sizeof(url))
		return pht_errf(err, PHT_ERR_INVALID, "node URL too long");
	return pht_http_request_json(rn->http, method, url, body, timeout_ms, &status,
	    out, err);
}

static void
add_failure(struct run *rn, const char *list, const char *station, int round,
    const char *status, const char *reason)
{
	json_t *o = json_pack("{s:s, s:i, s:s}", "station", station, "round", round,
	    "reason", reason != NULL ? reason : "");

	if (o != NULL && status != NULL)
		json_object_set_new(o, "status", json_string(status));
	if (o != NULL)
		json_array_append_new(json_object_get(rn->report, list), o);
}

/* Posts one round, retrying while the node is unreachable until deadline. */
static int
post_round(struct run *rn, const char *id, int round, const char *const *stations,
    size_t n, const char *envtext, int64_t deadline, struct pht_err *err)
{
	json_t *body = NULL, *st = json_array(), *resp = NULL;
	size_t i;
	int r, delay = 250;

	for (i = 0; st != NULL && i < n; i++)
		json_array_append_new(st, json_string(stations[i]));
	if (st == NULL || (body = json_pack("{s:s, s:i, s:o, s:s}", "train", id,
	    "round", round, "stations", st, "envelope", envtext)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (;;) {
		r = call(rn, "POST", "/v1/trains", body, 0, &resp, err);
		json_decref(resp);
		resp = NULL;
		if (r != PHT_ERR_NETWORK || cancelled(rn) || pht_time_now() >= deadline)
			break;
		note(rn, "node unreachable (%s): retrying", pht_err_msg(err));
		nap_ms(delay);
		delay = delay >= 8000 ? 16000 : delay * 2;
	}
	json_decref(body);
	return r;
}

/*
 * Checks one result entry of the node. On acceptance sets *idx and fills
 * *output (released) or *why (error). PHT_OK accepted; anything else: the
 * result is refused, with the reason in err.
 */
static int
check_result(struct run *rn, const char *id, int round, const char *const *stations,
    size_t n, const json_t *entry, size_t *idx, json_t **output, char *why,
    size_t whylen, struct pht_err *err)
{
	const char *station = json_string_value(json_object_get(entry, "station"));
	const char *text = json_string_value(json_object_get(entry, "result"));
	struct pht_envelope *env = NULL;
	struct pht_resultmsg *msg = NULL;
	const uint8_t *payload, *sealed;
	uint8_t *plain = NULL;
	size_t plen, slen, i;
	const char *status, *signer;
	json_t *pj = NULL;
	int r;

	*output = NULL;
	why[0] = '\0';
	if (station == NULL)
		return pht_errf(err, PHT_ERR_MALFORMED, "a result without a station");
	for (i = 0; i < n; i++)
		if (strcmp(stations[i], station) == 0)
			break;
	if (i == n)
		return pht_errf(err, PHT_ERR_DENIED, "a result from %.64s, which the "
		    "train was not sent to", station);
	*idx = i;
	if (text == NULL)
		return pht_errf(err, PHT_ERR_MALFORMED, "result is not a signed envelope "
		    "string");
	if ((r = pht_envelope_open(text, strlen(text), rn->s->station_keys, &env, err)) !=
	    PHT_OK)
		goto out;
	signer = pht_envelope_signer_name(env);
	if (strcmp(signer, station) != 0) {
		r = pht_errf(err, PHT_ERR_BAD_SIGNATURE, "signed with the key of station "
		    "%s, not %s's", signer, station);
		goto out;
	}
	payload = pht_envelope_payload(env, &plen);
	if ((r = pht_resultmsg_parse(payload, plen, &msg, err)) != PHT_OK)
		goto out;
	if (strcmp(pht_resultmsg_train(msg), id) != 0 ||
	    pht_resultmsg_round(msg) != round ||
	    strcmp(pht_resultmsg_station(msg), station) != 0) {
		r = pht_errf(err, PHT_ERR_DENIED, "the signed result is for train %s "
		    "round %lld at %s, not train %s round %d", pht_resultmsg_train(msg),
		    (long long)pht_resultmsg_round(msg), pht_resultmsg_station(msg), id,
		    round);
		goto out;
	}
	status = pht_resultmsg_status(msg);
	if ((sealed = pht_resultmsg_sealed(msg, &slen)) == NULL) {
		snprintf(why, whylen, "%s: %s", status, pht_resultmsg_reason(msg));
		r = PHT_OK;
		goto out;
	}
	if ((r = pht_seal_open(rn->s->seal_key, id, station, sealed, slen, &plain, &plen,
	    err)) != PHT_OK)
		goto out;
	if ((r = pht_json_parse((const char *)plain, plen, "sealed result", &pj, err)) !=
	    PHT_OK)
		goto out;
	if (!json_is_object(pj) || json_string_value(json_object_get(pj, "status")) == NULL ||
	    strcmp(json_string_value(json_object_get(pj, "status")), status) != 0) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "the sealed status differs from the "
		    "signed one");
		goto out;
	}
	if (strcmp(status, "released") == 0) {
		if ((*output = json_incref(json_object_get(pj, "output"))) == NULL) {
			r = pht_errf(err, PHT_ERR_MALFORMED, "a released result without "
			    "output");
			goto out;
		}
	} else {
		snprintf(why, whylen, "%s: %s", status,
		    json_string_value(json_object_get(pj, "reason")) != NULL ?
		    json_string_value(json_object_get(pj, "reason")) : "(no reason)");
	}
	r = PHT_OK;
out:
	json_decref(pj);
	free(plain);
	pht_resultmsg_free(msg);
	pht_envelope_free(env);
	return r;
}

/*
 * At the end of a round's wait: whether the run stops waiting (the
 * contract in pht_analyst_client.h). PHT_OK to go on as before; otherwise
 * rn->waiting is set and the error ends the rounds (pht_analyst_run turns
 * it into PHT_OK without a result).
 */
static int
stop_waiting(struct run *rn, int round, const char *id, const json_t *params,
    const char *const *stations, size_t n, const enum st_state *state,
    int64_t expires, struct pht_err *err)
{
	const struct pht_analyst_run_spec *s = rn->s;
	size_t i, released = 0, pending = 0, need;
	json_t *st;

	for (i = 0; i < n; i++) {
		released += state[i] == ST_OK;
		pending += state[i] == ST_PENDING;
	}
	need = s->min_stations > 0 && s->min_stations < n ? s->min_stations : n;
	if (pending == 0 || released >= need || pht_time_now() >= expires)
		return PHT_OK;
	if ((st = json_array()) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++)
		json_array_append_new(st, json_string(stations[i]));
	rn->waiting = json_pack("{s:i, s:s, s:O, s:o, s:I}", "round", round, "train", id,
	    "params", params, "stations", st, "expires", (json_int_t)expires);
	if (rn->waiting == NULL ||
	    json_object_set(rn->report, "waiting", rn->waiting) != 0)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++)
		if (state[i] == ST_PENDING)
			note(rn, "round %d: station %s has not answered yet", round,
			    stations[i]);
	return pht_errf(err, PHT_ERR_NETWORK, "stopped waiting");
}

/* The round's train: built, signed and posted (retried until deadline). */
static int
send_round(struct run *rn, const char *id, int round, const json_t *params,
    const char *const *stations, size_t n, int64_t now, int64_t expires,
    int64_t deadline, struct pht_err *err)
{
	const struct pht_analyst_run_spec *s = rn->s;
	struct pht_trainmsg_spec ts;
	char *payload = NULL, *envtext = NULL;
	size_t plen, elen;
	int r;

	memset(&ts, 0, sizeof(ts));
	ts.id = id;
	ts.name = s->name;
	ts.code = s->code;
	ts.code_len = s->code_len;
	ts.params = params;
	ts.datasets = s->datasets;
	ts.n_datasets = s->ndatasets;
	ts.permit = s->permit;
	ts.permit_envelope = s->permit_envelope;
	ts.code_approval = s->code_approval;
	ts.stations = stations;
	ts.n_stations = n;
	ts.round = round;
	ts.issued = now;
	ts.expires = expires;
	memcpy(ts.result_key, rn->result_key, sizeof(ts.result_key));
	if ((r = pht_trainmsg_build(&ts, &payload, &plen, err)) == PHT_OK &&
	    (r = pht_envelope_sign(s->sign_key, (const uint8_t *)payload, plen, &envtext,
	    &elen, err)) == PHT_OK &&
	    (r = post_round(rn, id, round, stations, n, envtext, deadline, err)) != PHT_OK)
		pht_err_prefix(err, "round %d: posting the train", round);
	free(payload);
	free(envtext);
	return r;
}

/* One round: sign, post, collect. outputs[i] gets station i's output or NULL. */
static int
do_round(struct run *rn, int round, const json_t *params, const char *const *stations,
    size_t n, json_t **outputs, struct pht_err *err)
{
	const struct pht_analyst_run_spec *s = rn->s;
	struct pht_analyst_progress pg;
	enum st_state *state = NULL;
	char id[PHT_TRAINMSG_ID_LEN + 1], route[256], why[PHT_RESULTMSG_MAX_REASON + 64];
	size_t i, idx;
	int64_t now, deadline, expires, after = 0, wait;
	json_t *resp = NULL, *results, *entry, *out = NULL;
	struct pht_err e;
	int r, first;

	memset(&pg, 0, sizeof(pg));
	pg.round = round;
	pg.expected = n;
	if ((state = calloc(n, sizeof(*state))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	now = pht_time_now();
	deadline = now + s->round_timeout;
	if (s->resume != NULL && round == s->resume->round) {
		/* the round in flight when the run stopped waiting: at the node already */
		snprintf(id, sizeof(id), "%s", s->resume->train_id);
		expires = s->resume->expires;
		note(rn, "round %d: collecting the results of train %s", round, id);
		goto collect;
	}
	if ((r = pht_trainmsg_new_id(id, err)) != PHT_OK)
		goto out;
	json_array_append_new(json_object_get(rn->report, "train_ids"), json_string(id));
	expires = now + (s->expires > 0 ? s->expires : s->round_timeout);
	if ((r = send_round(rn, id, round, params, stations, n, now, expires, deadline,
	    err)) != PHT_OK)
		goto out;
	note(rn, "round %d: train %s sent to %zu station%s", round, id, n,
	    n == 1 ? "" : "s");
	if (s->detach && rn->posted++ == 0)
		goto stop;
collect:
	if (s->progress != NULL)
		s->progress(s->arg, &pg);
	/* at least one look, even with no time to wait (pht results) */
	for (first = 1; pg.answered < n && !cancelled(rn) &&
	    ((now = pht_time_now()) < deadline || first); first = 0) {
		wait = deadline - now < rn->max_poll ? deadline - now : rn->max_poll;
		if (wait < 0)
			wait = 0;
		snprintf(route, sizeof(route), "/v1/trains/%s/results?wait=%lld&after=%lld",
		    id, (long long)wait, (long long)after);
		r = call(rn, "GET", route, NULL, (long)(wait + 15) * 1000, &resp, &e);
		if (r != PHT_OK) {
			json_decref(resp); /* an error reply's body */
			resp = NULL;
		}
		if (r == PHT_ERR_NETWORK) {
			if (!cancelled(rn))
				note(rn, "node unreachable (%s): retrying", pht_err_msg(&e));
			nap_ms(1000);
			first = 0;
			continue;
		}
		if (r == PHT_ERR_MALFORMED && wait > 1) {
			/* the node's max_wait is lower: ask for less */
			rn->max_poll = wait / 2;
			first = 1;
			continue;
		}
		if (r != PHT_OK) {
			*err = e;
			pht_err_prefix(err, "round %d: collecting results", round);
			goto out;
		}
		results = json_object_get(resp, "results");
		json_array_foreach(results, i, entry) {
			const char *who = json_string_value(json_object_get(entry, "station"));
			idx = n;
			if (check_result(rn, id, round, stations, n, entry, &idx, &out, why,
			    sizeof(why), &e) != PHT_OK) {
				note(rn, "round %d: result from %s refused: %s", round,
				    who != NULL ? who : "?", pht_err_msg(&e));
				add_failure(rn, "refused", who != NULL ? who : "?", round, NULL,
				    pht_err_msg(&e));
				pg.refused++;
				continue;
			}
			if (state[idx] != ST_PENDING) {
				json_decref(out);
				out = NULL;
				continue;
			}
			if (out != NULL) {
				state[idx] = ST_OK;
				outputs[idx] = out;
				out = NULL;
			} else {
				state[idx] = ST_ERROR;
				pg.errors++;
				note(rn, "round %d: station %s: %s", round, stations[idx], why);
				add_failure(rn, "failed", stations[idx], round, "error", why);
			}
			pg.answered++;
		}
		if (json_is_integer(json_object_get(resp, "next")))
			after = json_integer_value(json_object_get(resp, "next"));
		json_decref(resp);
		resp = NULL;
		if (s->progress != NULL)
			s->progress(s->arg, &pg);
	}
stop:
	if ((r = stop_waiting(rn, round, id, params, stations, n, state, expires, err)) !=
	    PHT_OK)
		goto out;
	for (i = 0; i < n; i++)
		if (state[i] == ST_PENDING) {
			note(rn, "round %d: station %s did not answer by the deadline", round,
			    stations[i]);
			add_failure(rn, "failed", stations[i], round, "no answer",
			    cancelled(rn) ? "the run was interrupted" :
			    "no answer by the deadline");
		}
	r = cancelled(rn) ? pht_errf(err, PHT_ERR_NETWORK, "interrupted") : PHT_OK;
out:
	json_decref(resp);
	free(state);
	return r;
}

/* The transport of pht_analyst_run: one round through the node. */
static int
node_round(void *arg, int round, const json_t *params, const char *const *stations,
    size_t n, json_t **outputs, struct pht_err *err)
{
	struct run *rn = arg;

	json_object_set_new(rn->report, "rounds", json_integer(round));
	return do_round(rn, round, params, stations, n, outputs, err);
}

/* The transport's reason: the report's entry for station in round. */
static const char *
node_reason(void *arg, int round, const char *station)
{
	struct run *rn = arg;
	const char *lists[] = {"failed", "refused"}, *who;
	json_t *e;
	size_t i, k;

	for (k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
		json_array_foreach(json_object_get(rn->report, lists[k]), i, e) {
			who = json_string_value(json_object_get(e, "station"));
			if (who != NULL && strcmp(who, station) == 0 &&
			    json_integer_value(json_object_get(e, "round")) == round)
				return json_string_value(json_object_get(e, "reason"));
		}
	return NULL;
}

int
pht_analyst_run(const struct pht_analyst_run_spec *s, json_t **result,
    json_t **report, struct pht_err *err)
{
	struct run rn;
	struct pht_analyst_transport node = {node_round, node_reason, &rn};
	struct pht_analyst_rounds rounds;
	struct pht_analyst_rounds_end end;
	size_t len;
	int r;

	*result = NULL;
	*report = NULL;
	memset(&rn, 0, sizeof(rn));
	rn.s = s;
	rn.max_poll = RUN_MAX_POLL;
	if (s->nstations == 0 || s->round_timeout < 0 || (s->round_timeout == 0 &&
	    s->expires <= 0) || (s->resume != NULL && (s->resume->round < 1 ||
	    !pht_id_ok(s->resume->train_id))))
		return pht_errf(err, PHT_ERR_INVALID, "no stations, no round timeout or "
		    "expiry, or a bad round to resume");
	len = strlen(s->node_url);
	while (len > 0 && s->node_url[len - 1] == '/')
		len--;
	if (len >= sizeof(rn.base))
		return pht_errf(err, PHT_ERR_INVALID, "node URL too long");
	memcpy(rn.base, s->node_url, len);
	rn.base[len] = '\0';
	if (s->resume != NULL && json_is_object(s->resume->report))
		rn.report = json_deep_copy(s->resume->report);
	else
		rn.report = json_pack("{s:i, s:[], s:[], s:[]}", "rounds", 0, "train_ids",
		    "failed", "refused");
	if (rn.report == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	json_object_del(rn.report, "waiting");
	if ((r = pht_key_public_raw(s->seal_key, rn.result_key, err)) != PHT_OK ||
	    (r = pht_http_new(&s->http, &rn.http, err)) != PHT_OK)
		goto out;
	memset(&rounds, 0, sizeof(rounds));
	rounds.code = s->code;
	rounds.code_len = s->code_len;
	rounds.chunkname = s->chunkname;
	rounds.params = s->params;
	rounds.stations = s->stations;
	rounds.nstations = s->nstations;
	rounds.min_stations = s->min_stations;
	rounds.max_rounds = s->max_rounds;
	rounds.first_round = s->resume != NULL ? s->resume->round : 1;
	rounds.participation = json_object_get(rn.report, "participation");
	rounds.limits = s->limits;
	rounds.transport = &node;
	r = pht_analyst_rounds_run(&rounds, result, &end, err);
	if (end.participation != NULL)
		json_object_set_new(rn.report, "participation", end.participation);
	if (r == PHT_OK)
		note(&rn, "done after %d round%s", end.rounds, end.rounds == 1 ? "" : "s");
	else if (rn.waiting != NULL)
		r = PHT_OK; /* stopped waiting: the report says where */
out:
	json_decref(rn.waiting);
	pht_http_free(rn.http);
	*report = rn.report;
	return r;
}

int
pht_analyst_list_stations(const char *node_url, const struct pht_http_opts *http,
    json_t **out, struct pht_err *err)
{
	struct pht_http *h = NULL;
	json_t *resp = NULL;
	char url[1024];
	long status;
	size_t len = strlen(node_url);
	int r;

	*out = NULL;
	while (len > 0 && node_url[len - 1] == '/')
		len--;
	if (len + sizeof("/v1/stations") > sizeof(url))
		return pht_errf(err, PHT_ERR_INVALID, "node URL too long");
	snprintf(url, sizeof(url), "%.*s/v1/stations", (int)len, node_url);
	if ((r = pht_http_new(http, &h, err)) != PHT_OK)
		return r;
	if ((r = pht_http_request_json(h, "GET", url, NULL, 0, &status, &resp, err)) ==
	    PHT_OK) {
		if (!json_is_array(json_object_get(resp, "stations")))
			r = pht_errf(err, PHT_ERR_MALFORMED, "GET %s: no stations list", url);
		else
			*out = json_incref(json_object_get(resp, "stations"));
	}
	json_decref(resp);
	pht_http_free(h);
	return r;
}
