/* pht_station_daemon_recover.c — trains the station daemon finishes later: approved and refused queue items, and a train a crash interrupted. */
#include "pht_station_daemon_int.h"
#include "pht_audit.h"
#include "pht_buf.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_station_config.h"
#include "pht_station_exec.h"
#include "pht_station_queue.h"
#include "pht_station_redact.h"
#include "pht_station_seen.h"
#include "pht_time.h"
#include "pht_trainmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the approval queue ---- */

/* The queue item for a train exec queued: what a steward needs to decide. */
int
sd_queue_train(struct daemon *d, const char *node_train, int64_t round,
    const char *envelope, struct pht_err *err)
{
	struct pht_envelope *env = NULL;
	struct pht_trainmsg *msg = NULL;
	const struct pht_station_dataset *ds = NULL;
	const char *const *names;
	const uint8_t *payload;
	json_t *item = NULL, *cols = NULL, *dsl = NULL;
	char expires[21];
	size_t plen, n, i;
	int r;

	if ((r = pht_envelope_open(envelope, strlen(envelope), d->trust, &env, err)) !=
	    PHT_OK)
		goto out;
	payload = pht_envelope_payload(env, &plen);
	if ((r = pht_trainmsg_parse(payload, plen, pht_time_now(), &msg, err)) != PHT_OK)
		goto out;
	names = pht_trainmsg_datasets(msg, &n);
	if ((dsl = json_array()) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		json_array_append_new(dsl, json_string(names[i]));
		if (ds == NULL)
			ds = pht_station_config_find_dataset(d->cfg, names[i]);
	}
	if (n == 0 && pht_station_config_ndatasets(d->cfg) == 1)
		ds = pht_station_config_dataset(d->cfg, 0);
	if ((r = pht_station_queue_columns(ds != NULL ? ds->dict : NULL,
	    pht_trainmsg_params(msg), &cols, err)) != PHT_OK)
		goto out;
	item = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:O, s:O, s:O}",
	    "train", pht_trainmsg_id(msg), "node_train", node_train,
	    "round", (json_int_t)round, "envelope", envelope,
	    "signer", pht_envelope_signer_name(env),
	    "code_sha256", pht_trainmsg_code_sha256(msg),
	    "datasets", dsl, "params", pht_trainmsg_params(msg), "columns", cols);
	pht_time_format(pht_trainmsg_expires(msg), expires);
	if (item == NULL || (pht_trainmsg_name(msg) != NULL &&
	    json_object_set_new(item, "name", json_string(pht_trainmsg_name(msg))) != 0) ||
	    json_object_set_new(item, "expires", json_string(expires)) != 0 ||
	    (pht_trainmsg_permit(msg) != NULL && json_object_set_new(item, "permit",
	    json_string(pht_trainmsg_permit(msg))) != 0)) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = pht_station_queue_add(d->queue_dir, item, err);
out:
	json_decref(item);
	json_decref(cols);
	json_decref(dsl);
	pht_trainmsg_free(msg);
	pht_envelope_free(env);
	return r;
}

/* Runs approved items and answers refused ones; PHT_OK unless the station broke. */
int
sd_process_queue(struct daemon *d, struct pht_err *err)
{
	struct pht_station_result res;
	struct pht_err why, e;
	json_t *items = NULL, *it, *body = NULL;
	const char *state, *id, *node_train, *envelope;
	int64_t round;
	size_t i;
	int r = PHT_OK, rc;

	if (pht_station_queue_list(d->queue_dir, &items, &e) != PHT_OK) {
		sd_say(d, "approval queue: %s", pht_err_msg(&e));
		return PHT_OK;
	}
	json_array_foreach(items, i, it) {
		if (sd_stopping(d))
			break;
		state = json_string_value(json_object_get(it, "state"));
		id = json_string_value(json_object_get(it, "train"));
		node_train = json_string_value(json_object_get(it, "node_train"));
		envelope = json_string_value(json_object_get(it, "envelope"));
		round = json_integer_value(json_object_get(it, "round"));
		if (strcmp(state, "pending") == 0)
			continue;
		if (!pht_id_ok(node_train) || round < 1) {
			sd_say(d, "approval queue: item %s has no node train id or round: "
			    "removed", id);
			pht_station_queue_remove(d->queue_dir, id, NULL);
			continue;
		}
		memset(&res, 0, sizeof(res));
		pht_err_clear(&why);
		if (strcmp(state, "approved") == 0) {
			sd_say(d, "train %s: approved by %s: running", id,
			    json_string_value(json_object_get(it, "by")));
			if ((r = sd_mark(d, node_train, round, envelope, &e)) != PHT_OK) {
				*err = e;
				break;
			}
			rc = pht_station_exec_approved(d->st, envelope, strlen(envelope),
			    &res, &why);
			sd_say(d, "train %s round %lld: %s%s%s", id, (long long)round,
			    rc == PHT_OK ? pht_station_outcome_name(res.outcome) : "station error",
			    res.outcome == PHT_STATION_RELEASED && rc == PHT_OK ? "" : ": ",
			    res.outcome == PHT_STATION_RELEASED && rc == PHT_OK ? "" :
			    pht_err_msg(&why));
			r = sd_answer(d, node_train, round, envelope, &res, &why, rc, &e);
		} else {
			res.outcome = PHT_STATION_REJECTED;
			sd_fix_head(d, &res.head);
			r = sd_make_result(d, node_train, round, "refused", "refused",
			    "refused by the station's data steward", NULL, envelope,
			    &res.head, pht_time_now(), &body, &e);
			if (r == PHT_OK)
				r = sd_send_result(d, node_train, round, body, &e);
			json_decref(body);
			body = NULL;
			sd_say(d, "train %s round %lld: refused by %s: signed refusal sent", id,
			    (long long)round, json_string_value(json_object_get(it, "by")));
		}
		pht_station_result_clear(&res);
		if (r != PHT_OK) {
			*err = e;
			break;
		}
		pht_station_queue_remove(d->queue_dir, id, NULL);
		sd_unmark(d);
	}
	json_decref(items);
	return r;
}

/* ---- a train interrupted by a crash ---- */

/* The last outcome the audit log holds for one train. */
struct last_event {
	const char *train;
	char event[16];
	json_t *output;        /* of a "released" entry */
	char error[129];       /* of a refusal or failure */
	int data_dependent;    /* the outcome entry says "data_dependent": true */
};

static int
scan_entry(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct last_event *le = arg;
	const char *ev = json_string_value(json_object_get(entry, "event"));
	const char *id = json_string_value(json_object_get(entry, "train"));
	const char *er = json_string_value(json_object_get(entry, "error"));

	(void)line;
	(void)hash;
	if (ev == NULL || id == NULL || strcmp(id, le->train) != 0 ||
	    strlen(ev) >= sizeof(le->event))
		return 0;
	snprintf(le->event, sizeof(le->event), "%s", ev);
	if (strcmp(ev, "released") == 0) {
		json_decref(le->output);
		le->output = json_incref(json_object_get(entry, "output"));
	}
	snprintf(le->error, sizeof(le->error), "%s", er != NULL ? er : "");
	le->data_dependent = json_is_true(json_object_get(entry, "data_dependent"));
	return 0;
}

/* The signer's admission mode for an authentic envelope; -1 if not authentic. */
static int
signer_mode(struct daemon *d, const char *envelope)
{
	struct pht_envelope *env = NULL;
	const char *name;
	size_t i;
	int mode = -1;

	if (pht_envelope_open(envelope, strlen(envelope), d->trust, &env, NULL) == PHT_OK) {
		name = pht_envelope_signer_name(env);
		for (i = 0; i < pht_station_config_nsigners(d->cfg); i++)
			if (strcmp(pht_station_config_signer(d->cfg, i)->name, name) == 0)
				mode = (int)pht_station_config_signer(d->cfg, i)->mode;
	}
	pht_envelope_free(env);
	return mode;
}

/* A fault of the station's own disk or memory: worth waiting for, never final. */
int
sd_local_fault(int code)
{
	return code == PHT_ERR_IO || code == PHT_ERR_NOMEM || code == PHT_ERR_NOSPACE;
}

/*
 * Closes a run that cannot be finished as logged (its release can no
 * longer be sealed, its envelope no longer verifies or parses): a signed
 * "failed" entry with error "interrupted" and the reason, then a failed
 * result (never an output) to the analyst. PHT_OK once both are kept.
 */
static int
close_interrupted(struct daemon *d, const char *node_train, int64_t round,
    const char *envelope, const struct pht_err *why, struct pht_err *err)
{
	struct pht_audit *log = NULL;
	struct pht_audit_head head;
	json_t *f = NULL, *body = NULL;
	int r;

	memset(&head, 0, sizeof(head));
	if ((f = json_pack("{s:s, s:I, s:s, s:s}", "train", node_train, "round",
	    (json_int_t)round, "error", "interrupted", "reason", pht_err_msg(why))) ==
	    NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_audit_open(pht_station_config_audit_log(d->cfg), d->key, &log,
	    err)) != PHT_OK ||
	    (r = pht_audit_append(log, "failed", f, &head, err)) != PHT_OK)
		goto out;
	sd_say(d, "train %s round %lld: closed as failed: interrupted (%s)", node_train,
	    (long long)round, pht_err_msg(why));
	if ((r = sd_make_result(d, node_train, round, "failed", "interrupted",
	    "interrupted by a stop of the station and closed (see its audit log)", NULL,
	    envelope, &head, PHT_TRAINMSG_AT_ISSUE, &body, err)) != PHT_OK)
		goto out;
	r = sd_send_result(d, node_train, round, body, err);
out:
	pht_audit_close(log);
	json_decref(body);
	json_decref(f);
	return r;
}

/*
 * Finishes the train a crash interrupted, from what the audit log says,
 * whatever the time now: released → the same output is sealed (the train
 * checked as at its issue time: it was admitted then) and sent, nothing
 * runs again; queued → back into the queue; rejected/failed/withheld →
 * that outcome is sent; no outcome yet → the train goes through the
 * station now (as approved if its id was recorded; a review signer's
 * train goes to the queue; an expired one is rejected and logged). A run
 * that cannot be finished so is closed as failed: interrupted
 * (close_interrupted). Returns PHT_OK once the marker is gone; an error
 * only for a local fault (disk, memory): the marker stays and the caller
 * waits and tries again.
 */
int
sd_recover(struct daemon *d, struct pht_err *err)
{
	struct pht_station_result res;
	struct last_event le;
	struct pht_buf *b = NULL;
	struct pht_err why, e;
	json_t *m = NULL, *body = NULL;
	const char *node_train = NULL, *envelope = NULL;
	char reason[256];
	int64_t round = 0;
	int r = PHT_OK, rc, seen, queued = 0;

	if (access(d->inflight, F_OK) != 0)
		return PHT_OK;
	memset(&le, 0, sizeof(le));
	memset(&res, 0, sizeof(res));
	pht_err_clear(&why);
	pht_err_clear(&e);
	if ((r = pht_file_read(d->inflight, PHT_OUTBOX_ITEM_MAX, &b, &e)) != PHT_OK &&
	    sd_local_fault(r) && access(d->inflight, R_OK) == 0) {
		*err = e;
		goto out;
	}
	if (r != PHT_OK ||
	    pht_json_parse(pht_buf_str(b), pht_buf_len(b), d->inflight, &m, &e) != PHT_OK ||
	    !pht_id_ok(node_train = json_string_value(json_object_get(m, "train"))) ||
	    (envelope = json_string_value(json_object_get(m, "envelope"))) == NULL ||
	    (round = json_integer_value(json_object_get(m, "round"))) < 1) {
		sd_say(d, "in-flight marker %s unreadable: removed", d->inflight);
		goto done;
	}
	le.train = node_train;
	if ((r = pht_audit_foreach(pht_station_config_audit_log(d->cfg), scan_entry, &le,
	    err)) != PHT_OK)
		goto out; /* a torn or broken log: said by the caller, which waits */
	if (!d->paused)
		sd_say(d, "train %s round %lld was interrupted by a stop (last logged: %s): "
		    "finishing it", node_train, (long long)round,
		    le.event[0] ? le.event : "nothing");
	sd_fix_head(d, &res.head);
	if (strcmp(le.event, "released") == 0 && le.output != NULL) {
		if ((r = sd_make_result(d, node_train, round, "released", "", "", le.output,
		    envelope, &res.head, PHT_TRAINMSG_AT_ISSUE, &body, &e)) == PHT_OK)
			r = sd_send_result(d, node_train, round, body, &e);
	} else if (strcmp(le.event, "queued") == 0) {
		queued = 1;
		r = sd_queue_train(d, node_train, round, envelope, &e);
		if (r == PHT_ERR_REPLAY)
			r = PHT_OK;
	} else if (strcmp(le.event, "rejected") == 0 || strcmp(le.event, "failed") == 0 ||
	    strcmp(le.event, "withheld") == 0) {
		snprintf(reason, sizeof(reason), "%s before a restart of the station (the "
		    "reason is in its audit log)", le.event);
		r = le.data_dependent ?
		    sd_make_result(d, node_train, round, PHT_STATION_NO_RESULT_STATUS,
		    PHT_STATION_NO_RESULT_ERROR, PHT_STATION_NO_RESULT_REASON, NULL,
		    envelope, &res.head, PHT_TRAINMSG_AT_ISSUE, &body, &e) :
		    sd_make_result(d, node_train, round, le.event, le.error[0] ? le.error :
		    le.event, reason, NULL, envelope, &res.head, PHT_TRAINMSG_AT_ISSUE, &body,
		    &e);
		if (r == PHT_OK)
			r = sd_send_result(d, node_train, round, body, &e);
	} else {
		seen = pht_station_seen_has(pht_station_config_seen_ids(d->cfg), node_train,
		    NULL) == 1;
		if (seen && signer_mode(d, envelope) == (int)PHT_SIGNER_REVIEW) {
			queued = 1;
			r = sd_queue_train(d, node_train, round, envelope, &e);
			if (r == PHT_ERR_REPLAY)
				r = PHT_OK;
		} else {
			rc = seen ? pht_station_exec_approved(d->st, envelope, strlen(envelope),
			    &res, &why) : pht_station_exec(d->st, envelope, strlen(envelope),
			    &res, &why);
			if (rc != PHT_OK) {
				/* the station itself failed (its log): keep the marker */
				*err = why;
				r = rc;
				goto out;
			}
			if (res.outcome == PHT_STATION_QUEUED) {
				queued = 1;
				r = sd_queue_train(d, node_train, round, envelope, &e);
			} else {
				sd_say(d, "train %s round %lld: %s", node_train, (long long)round,
				    pht_station_outcome_name(res.outcome));
				r = sd_answer(d, node_train, round, envelope, &res, &why, rc, &e);
			}
		}
	}
	if (r != PHT_OK && !sd_local_fault(r)) {
		/* cannot be finished as logged, and never will be: close it */
		why = e;
		queued = 0;
		r = close_interrupted(d, node_train, round, envelope, &why, &e);
	}
	if (r != PHT_OK) {
		*err = e;
		goto out;
	}
	if (!queued)
		/* answered: a queue item it came from (approved) is done too */
		pht_station_queue_remove(d->queue_dir, node_train, NULL);
done:
	sd_unmark(d);
	r = PHT_OK;
out:
	pht_station_result_clear(&res);
	json_decref(le.output);
	json_decref(body);
	json_decref(m);
	pht_buf_free(b);
	return r;
}
