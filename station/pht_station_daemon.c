/* pht_station_daemon.c — the polling station: inbox → pht_station_exec → sealed, signed result → node. */
#include "pht_station_daemon.h"
#include "pht_audit.h"
#include "pht_buf.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_id.h"
#include "pht_file.h"
#include "pht_http.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_resultmsg.h"
#include "pht_station_catalog.h"
#include "pht_station_redact.h"
#include "pht_seal.h"
#include "pht_station_config.h"
#include "pht_station_exec.h"
#include "pht_station_gov.h"
#include "pht_station_queue.h"
#include "pht_station_seen.h"
#include "pht_time.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"
#include "pht_limits.h"

#include <openssl/rand.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


/*
 * The daemon's state. delay_ms is the current backoff delay: 0 after a
 * request that reached the node, else the last delay (doubling up to the
 * bound).
 */
struct daemon {
	const struct pht_station_daemon_opts *o;
	struct pht_station *st;
	const struct pht_station_config *cfg;  /* borrowed from st */
	struct pht_key *key;                   /* the station's signing key */
	struct pht_trust *trust;               /* the config's signers */
	struct pht_http *http;
	char *base;                            /* node URL without a trailing / */
	char *queue_dir, *outbox_dir, *inflight;
	const char *id;                        /* station id */
	int wait_s, min_ms, max_ms, delay_ms;
	int paused;                            /* 1 while a local fault holds it */
};

static void
say(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct daemon *d, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (d->o->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	d->o->log(d->o->log_arg, line);
}

static int
stopping(const struct daemon *d)
{
	return d->o->stop != NULL && *d->o->stop != 0;
}

/* Sleeps ms in steps of 100 ms, waking early when asked to stop. */
static void
nap(struct daemon *d, int ms)
{
	struct timespec ts = {0, 100 * 1000 * 1000};

	for (; ms > 0 && !stopping(d); ms -= 100)
		nanosleep(&ts, NULL);
}

/* Waits the next backoff delay: doubled each time, bounded, with jitter. */
static void
backoff(struct daemon *d)
{
	unsigned int rnd = 0;
	int ms;

	d->delay_ms = d->delay_ms == 0 ? d->min_ms :
	    (d->delay_ms > d->max_ms / 2 ? d->max_ms : d->delay_ms * 2);
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (unsigned int)pht_time_mono_ms();
	/* "equal jitter": half the delay fixed, half random */
	ms = d->delay_ms / 2 + (int)(rnd % (unsigned int)(d->delay_ms / 2 + 1));
	if (!d->paused)
		say(d, "retrying in %d ms", ms);
	nap(d, ms);
}

/* One request to the node: base URL + path. Network failures are PHT_ERR_NETWORK. */
static int
call(struct daemon *d, const char *method, const char *path, const json_t *body,
    long timeout_ms, json_t **out, struct pht_err *err)
{
	char url[1024];
	long status;
	json_t *resp = NULL;
	int r;

	if (out != NULL)
		*out = NULL;
	if ((size_t)snprintf(url, sizeof(url), "%s%s", d->base, path) >= sizeof(url))
		return pht_errf(err, PHT_ERR_INVALID, "node URL too long");
	r = pht_http_request_json(d->http, method, url, body, timeout_ms, &status,
	    &resp, err);
	if (r == PHT_OK && out != NULL) {
		*out = resp;
		resp = NULL; /* transferred */
	}
	json_decref(resp);
	return r;
}

/* ---- results ---- */

/*
 * The POST body for a result: the payload built, sealed to the train's
 * result key when the envelope is authentic and its payload valid, signed
 * with the station key. output is the released output (NULL otherwise).
 */
static int
make_result(struct daemon *d, const char *node_train, int64_t round,
    const char *status, const char *error, const char *reason,
    const json_t *output, const char *envelope, const struct pht_audit_head *head,
    int64_t now, json_t **body, struct pht_err *err)
{
	struct pht_resultmsg_spec spec;
	struct pht_envelope *env = NULL;
	struct pht_trainmsg *msg = NULL;
	const uint8_t *payload;
	uint8_t *sealed = NULL;
	size_t plen, sealed_len = 0, outlen, envlen;
	char *plain = NULL, *text = NULL, *envtext = NULL;
	json_t *p = NULL;
	struct pht_err pe;
	int r;

	*body = NULL;
	memset(&spec, 0, sizeof(spec));
	pht_err_clear(&pe);
	if (envelope == NULL)
		(void)pht_errf(&pe, PHT_ERR_NOT_FOUND, "no envelope");
	else if (pht_envelope_open(envelope, strlen(envelope), d->trust, &env, &pe) ==
	    PHT_OK) {
		payload = pht_envelope_payload(env, &plen);
		(void)pht_trainmsg_parse(payload, plen, now, &msg, &pe);
	}
	if (output != NULL && msg == NULL) {
		/* a release is sealed or not sent at all */
		r = pht_errf(err, pe.code != PHT_OK ? pe.code : PHT_ERR_INTERNAL,
		    "the released output cannot be sealed: %s", pht_err_msg(&pe));
		goto out;
	}
	spec.train = msg != NULL ? pht_trainmsg_id(msg) : node_train;
	spec.round = round;
	spec.station = d->id;
	spec.status = status;
	spec.issued = pht_time_now();
	spec.log_seq = head->seq;
	spec.log_hash = head->hash;
	if (msg != NULL) {
		p = output != NULL ?
		    json_pack("{s:s, s:O}", "status", status, "output", output) :
		    json_pack("{s:s, s:s, s:s}", "status", status, "error", error,
		    "reason", reason);
		if (p == NULL || (plain = pht_json_dump(p)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((r = pht_seal(pht_trainmsg_result_key(msg), spec.train, d->id,
		    (const uint8_t *)plain, strlen(plain), &sealed, &sealed_len,
		    err)) != PHT_OK)
			goto out;
		spec.sealed = sealed;
		spec.sealed_len = sealed_len;
	} else {
		spec.error = error;
		spec.reason = reason;
	}
	if ((r = pht_resultmsg_build(&spec, &text, &outlen, err)) != PHT_OK ||
	    (r = pht_envelope_sign(d->key, (const uint8_t *)text, outlen, &envtext,
	    &envlen, err)) != PHT_OK)
		goto out;
	if ((*body = json_pack("{s:I, s:s, s:{s:I, s:s}}", "round", (json_int_t)round,
	    "result", envtext, "log_head", "seq", (json_int_t)head->seq, "hash",
	    head->hash)) == NULL)
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
out:
	json_decref(p);
	free(plain);
	free(sealed);
	free(text);
	free(envtext);
	pht_trainmsg_free(msg);
	pht_envelope_free(env);
	return r;
}

/* Posts one outbox item; PHT_OK when the node took it or refused it for good. */
static int
post_outbox(struct daemon *d, const char *path)
{
	struct pht_buf *b = NULL;
	struct pht_err e;
	json_t *item = NULL, *resp = NULL;
	const char *train;
	char route[256];
	int r;

	if (pht_file_read(path, PHT_OUTBOX_ITEM_MAX, &b, &e) != PHT_OK ||
	    pht_json_parse(pht_buf_str(b), pht_buf_len(b), path, &item, &e) != PHT_OK ||
	    !pht_id_ok(train = json_string_value(json_object_get(item, "train"))) ||
	    !json_is_object(json_object_get(item, "body"))) {
		say(d, "outbox item %s is unreadable: dropped", path);
		pht_buf_free(b);
		json_decref(item);
		unlink(path);
		return PHT_OK;
	}
	pht_buf_free(b);
	snprintf(route, sizeof(route), "/v1/trains/%s/results", train);
	r = call(d, "POST", route, json_object_get(item, "body"), 0, &resp, &e);
	if (r == PHT_OK) {
		d->delay_ms = 0;
		say(d, "result for train %s round %lld posted", train,
		    (long long)json_integer_value(json_object_get(json_object_get(item,
		    "body"), "round")));
		unlink(path);
	} else if (r != PHT_ERR_NETWORK) {
		d->delay_ms = 0;
		say(d, "result for train %s refused by the node: %s", train, pht_err_msg(&e));
		unlink(path);
		r = PHT_OK;
	} else {
		say(d, "posting the result for train %s: %s", train, pht_err_msg(&e));
	}
	json_decref(item);
	json_decref(resp);
	return r;
}

/* Posts every outbox item; PHT_ERR_NETWORK if one could not reach the node. */
static int
flush_outbox(struct daemon *d)
{
	DIR *dir;
	struct dirent *de;
	char *path;
	int r = PHT_OK;

	if ((dir = opendir(d->outbox_dir)) == NULL)
		return PHT_OK;
	while (r == PHT_OK && !stopping(d) && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".json") == NULL)
			continue;
		if ((path = pht_path_join(d->outbox_dir, de->d_name)) == NULL)
			break;
		r = post_outbox(d, path);
		free(path);
	}
	closedir(dir);
	return r;
}

/* Keeps a result durably in the outbox, then tries to post it. */
static int
send_result(struct daemon *d, const char *node_train, int64_t round, json_t *body,
    struct pht_err *err)
{
	char name[180], *path = NULL, *text = NULL;
	json_t *item;
	int r;

	snprintf(name, sizeof(name), "%s.%lld.json", node_train, (long long)round);
	if ((item = json_pack("{s:s, s:O}", "train", node_train, "body", body)) == NULL ||
	    (text = pht_json_dump(item)) == NULL ||
	    (path = pht_path_join(d->outbox_dir, name)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_mkdir_p(d->outbox_dir, 0700, err)) != PHT_OK ||
	    (r = pht_file_write_atomic(path, text, strlen(text), 0600, err)) != PHT_OK)
		goto out;
	(void)post_outbox(d, path);
out:
	json_decref(item);
	free(text);
	free(path);
	return r;
}

/* The current head of the audit log (seq 0 and 64 zeros for an empty log). */
static void
fix_head(struct daemon *d, struct pht_audit_head *h)
{
	if (h->seq == 0 || h->hash[0] == '\0') {
		if (pht_audit_read_head(pht_station_config_audit_log(d->cfg), h, NULL) !=
		    PHT_OK || h->hash[0] == '\0') {
			h->seq = 0;
			memset(h->hash, '0', PHT_AUDIT_HASH_HEX);
			h->hash[PHT_AUDIT_HASH_HEX] = '\0';
		}
	}
}

/* The result of an exec outcome: built, kept, posted. */
static int
answer(struct daemon *d, const char *node_train, int64_t round, const char *envelope,
    struct pht_station_result *res, const struct pht_err *why, int rc,
    struct pht_err *err)
{
	char reason[PHT_RESULTMSG_MAX_REASON];
	const char *status, *error;
	json_t *body = NULL;
	int r;

	fix_head(d, &res->head);
	/* never data values or row numbers; one answer for data-dependent outcomes */
	pht_station_answer(res, rc, why, &status, &error, reason, sizeof(reason));
	if ((r = make_result(d, node_train, round, status, error, reason,
	    res->outcome == PHT_STATION_RELEASED && rc == PHT_OK ? res->output : NULL,
	    envelope, &res->head, pht_time_now(), &body, err)) != PHT_OK)
		return r;
	r = send_result(d, node_train, round, body, err);
	json_decref(body);
	return r;
}

/*
 * The in-flight marker, "<audit_log>.inflight", holds the entry being
 * processed ({"train", "round", "envelope"}); it is written (fsynced)
 * before a train goes through the station and removed once its answer is
 * in the outbox or the queue. A marker found at start means the daemon
 * died in between.
 */
static int
mark(struct daemon *d, const char *node_train, int64_t round, const char *envelope,
    struct pht_err *err)
{
	json_t *m = json_pack("{s:s, s:I, s:s}", "train", node_train, "round",
	    (json_int_t)round, "envelope", envelope);
	char *text = m != NULL ? pht_json_dump(m) : NULL;
	int r;

	json_decref(m);
	if (text == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	r = pht_file_write_atomic(d->inflight, text, strlen(text), 0600, err);
	free(text);
	return r;
}

static void
unmark(struct daemon *d)
{
	unlink(d->inflight);
}

/* ---- the approval queue ---- */

/* The queue item for a train exec queued: what a steward needs to decide. */
static int
queue_train(struct daemon *d, const char *node_train, int64_t round,
    const char *envelope, struct pht_err *err)
{
	struct pht_envelope *env = NULL;
	struct pht_trainmsg *msg = NULL;
	const struct pht_station_dataset *ds = NULL;
	const char *const *names;
	const uint8_t *payload;
	json_t *item = NULL, *cols = NULL, *dsl = NULL;
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
	if (item == NULL || (pht_trainmsg_name(msg) != NULL &&
	    json_object_set_new(item, "name", json_string(pht_trainmsg_name(msg))) != 0)) {
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
static int
process_queue(struct daemon *d, struct pht_err *err)
{
	struct pht_station_result res;
	struct pht_err why, e;
	json_t *items = NULL, *it, *body = NULL;
	const char *state, *id, *node_train, *envelope;
	int64_t round;
	size_t i;
	int r = PHT_OK, rc;

	if (pht_station_queue_list(d->queue_dir, &items, &e) != PHT_OK) {
		say(d, "approval queue: %s", pht_err_msg(&e));
		return PHT_OK;
	}
	json_array_foreach(items, i, it) {
		if (stopping(d))
			break;
		state = json_string_value(json_object_get(it, "state"));
		id = json_string_value(json_object_get(it, "train"));
		node_train = json_string_value(json_object_get(it, "node_train"));
		envelope = json_string_value(json_object_get(it, "envelope"));
		round = json_integer_value(json_object_get(it, "round"));
		if (strcmp(state, "pending") == 0)
			continue;
		if (!pht_id_ok(node_train) || round < 1) {
			say(d, "approval queue: item %s has no node train id or round: "
			    "removed", id);
			pht_station_queue_remove(d->queue_dir, id, NULL);
			continue;
		}
		memset(&res, 0, sizeof(res));
		pht_err_clear(&why);
		if (strcmp(state, "approved") == 0) {
			say(d, "train %s: approved by %s: running", id,
			    json_string_value(json_object_get(it, "by")));
			if ((r = mark(d, node_train, round, envelope, &e)) != PHT_OK) {
				*err = e;
				break;
			}
			rc = pht_station_exec_approved(d->st, envelope, strlen(envelope),
			    &res, &why);
			say(d, "train %s round %lld: %s%s%s", id, (long long)round,
			    rc == PHT_OK ? pht_station_outcome_name(res.outcome) : "station error",
			    res.outcome == PHT_STATION_RELEASED && rc == PHT_OK ? "" : ": ",
			    res.outcome == PHT_STATION_RELEASED && rc == PHT_OK ? "" :
			    pht_err_msg(&why));
			r = answer(d, node_train, round, envelope, &res, &why, rc, &e);
		} else {
			res.outcome = PHT_STATION_REJECTED;
			fix_head(d, &res.head);
			r = make_result(d, node_train, round, "refused", "refused",
			    "refused by the station's data steward", NULL, envelope,
			    &res.head, pht_time_now(), &body, &e);
			if (r == PHT_OK)
				r = send_result(d, node_train, round, body, &e);
			json_decref(body);
			body = NULL;
			say(d, "train %s round %lld: refused by %s: signed refusal sent", id,
			    (long long)round, json_string_value(json_object_get(it, "by")));
		}
		pht_station_result_clear(&res);
		if (r != PHT_OK) {
			*err = e;
			break;
		}
		pht_station_queue_remove(d->queue_dir, id, NULL);
		unmark(d);
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
static int
local_fault(int code)
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
	say(d, "train %s round %lld: closed as failed: interrupted (%s)", node_train,
	    (long long)round, pht_err_msg(why));
	if ((r = make_result(d, node_train, round, "failed", "interrupted",
	    "interrupted by a stop of the station and closed (see its audit log)", NULL,
	    envelope, &head, PHT_TRAINMSG_AT_ISSUE, &body, err)) != PHT_OK)
		goto out;
	r = send_result(d, node_train, round, body, err);
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
static int
recover(struct daemon *d, struct pht_err *err)
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
	    local_fault(r) && access(d->inflight, R_OK) == 0) {
		*err = e;
		goto out;
	}
	if (r != PHT_OK ||
	    pht_json_parse(pht_buf_str(b), pht_buf_len(b), d->inflight, &m, &e) != PHT_OK ||
	    !pht_id_ok(node_train = json_string_value(json_object_get(m, "train"))) ||
	    (envelope = json_string_value(json_object_get(m, "envelope"))) == NULL ||
	    (round = json_integer_value(json_object_get(m, "round"))) < 1) {
		say(d, "in-flight marker %s unreadable: removed", d->inflight);
		goto done;
	}
	le.train = node_train;
	if ((r = pht_audit_foreach(pht_station_config_audit_log(d->cfg), scan_entry, &le,
	    err)) != PHT_OK)
		goto out; /* a torn or broken log: said by the caller, which waits */
	if (!d->paused)
		say(d, "train %s round %lld was interrupted by a stop (last logged: %s): "
		    "finishing it", node_train, (long long)round,
		    le.event[0] ? le.event : "nothing");
	fix_head(d, &res.head);
	if (strcmp(le.event, "released") == 0 && le.output != NULL) {
		if ((r = make_result(d, node_train, round, "released", "", "", le.output,
		    envelope, &res.head, PHT_TRAINMSG_AT_ISSUE, &body, &e)) == PHT_OK)
			r = send_result(d, node_train, round, body, &e);
	} else if (strcmp(le.event, "queued") == 0) {
		queued = 1;
		r = queue_train(d, node_train, round, envelope, &e);
		if (r == PHT_ERR_REPLAY)
			r = PHT_OK;
	} else if (strcmp(le.event, "rejected") == 0 || strcmp(le.event, "failed") == 0 ||
	    strcmp(le.event, "withheld") == 0) {
		snprintf(reason, sizeof(reason), "%s before a restart of the station (the "
		    "reason is in its audit log)", le.event);
		r = le.data_dependent ?
		    make_result(d, node_train, round, PHT_STATION_NO_RESULT_STATUS,
		    PHT_STATION_NO_RESULT_ERROR, PHT_STATION_NO_RESULT_REASON, NULL,
		    envelope, &res.head, PHT_TRAINMSG_AT_ISSUE, &body, &e) :
		    make_result(d, node_train, round, le.event, le.error[0] ? le.error :
		    le.event, reason, NULL, envelope, &res.head, PHT_TRAINMSG_AT_ISSUE, &body,
		    &e);
		if (r == PHT_OK)
			r = send_result(d, node_train, round, body, &e);
	} else {
		seen = pht_station_seen_has(pht_station_config_seen_ids(d->cfg), node_train,
		    NULL) == 1;
		if (seen && signer_mode(d, envelope) == (int)PHT_SIGNER_REVIEW) {
			queued = 1;
			r = queue_train(d, node_train, round, envelope, &e);
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
				r = queue_train(d, node_train, round, envelope, &e);
			} else {
				say(d, "train %s round %lld: %s", node_train, (long long)round,
				    pht_station_outcome_name(res.outcome));
				r = answer(d, node_train, round, envelope, &res, &why, rc, &e);
			}
		}
	}
	if (r != PHT_OK && !local_fault(r)) {
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
	unmark(d);
	r = PHT_OK;
out:
	pht_station_result_clear(&res);
	json_decref(le.output);
	json_decref(body);
	json_decref(m);
	pht_buf_free(b);
	return r;
}

/* ---- the inbox ---- */

static void
ack(struct daemon *d, const char *node_train, int64_t round)
{
	char route[256];
	json_t *body = json_pack("{s:I}", "round", (json_int_t)round), *resp = NULL;
	struct pht_err e;

	snprintf(route, sizeof(route), "/v1/inbox/%s/ack", node_train);
	if (body != NULL && call(d, "POST", route, body, 0, &resp, &e) != PHT_OK)
		say(d, "ack of train %s: %s (it will be handed out again)", node_train,
		    pht_err_msg(&e));
	json_decref(body);
	json_decref(resp);
}

/* One inbox entry through the station. PHT_OK unless the station broke. */
static int
handle_entry(struct daemon *d, const json_t *entry, struct pht_err *err)
{
	struct pht_station_result res;
	struct pht_err why;
	const char *node_train = json_string_value(json_object_get(entry, "train"));
	const char *envelope = json_string_value(json_object_get(entry, "envelope"));
	const char *analyst = json_string_value(json_object_get(entry, "analyst"));
	json_t *qi = NULL;
	int64_t round = json_integer_value(json_object_get(entry, "round"));
	int r, rc;

	if (!pht_id_ok(node_train) || envelope == NULL || round < 1) {
		say(d, "inbox entry without a valid train id, round or envelope: skipped");
		return PHT_OK;
	}
	if (pht_station_queue_get(d->queue_dir, node_train, &qi, NULL) == PHT_OK) {
		/* queued before; its answer comes from the steward's decision */
		json_decref(qi);
		ack(d, node_train, round);
		return PHT_OK;
	}
	memset(&res, 0, sizeof(res));
	pht_err_clear(&why);
	if (!d->paused)
		say(d, "train %s round %lld from analyst %s: received", node_train,
		    (long long)round, analyst != NULL ? analyst : "?");
	if ((r = mark(d, node_train, round, envelope, err)) != PHT_OK)
		return r;
	rc = pht_station_exec(d->st, envelope, strlen(envelope), &res, &why);
	if (rc == PHT_OK && res.outcome == PHT_STATION_QUEUED) {
		if ((r = queue_train(d, node_train, round, envelope, err)) != PHT_OK) {
			pht_station_result_clear(&res);
			return r;
		}
		unmark(d);
		say(d, "train %s: queued for a data steward (pht station queue)", node_train);
		ack(d, node_train, round);
		pht_station_result_clear(&res);
		return PHT_OK;
	}
	if (rc != PHT_OK) {
		/*
		 * the station itself failed (its audit log: a full disk, a torn
		 * line): nothing is answered; the marker stays and the run is
		 * finished from the log once the fault clears (recover)
		 */
		pht_station_result_clear(&res);
		*err = why;
		return rc;
	}
	say(d, "train %s round %lld: %s%s%s", node_train, (long long)round,
	    pht_station_outcome_name(res.outcome),
	    res.outcome == PHT_STATION_RELEASED ? "" : ": ",
	    res.outcome == PHT_STATION_RELEASED ? "" : pht_err_msg(&why));
	r = answer(d, node_train, round, envelope, &res, &why, rc, err);
	pht_station_result_clear(&res);
	if (r == PHT_OK)
		unmark(d);
	return r;
}

/* Publishes the dictionaries; PHT_ERR_NETWORK if the node is away. */
static int
publish(struct daemon *d)
{
	struct pht_buf *b = NULL;
	struct pht_err e;
	json_t *dicts = json_object(), *one = NULL, *body = NULL, *resp = NULL;
	size_t i;
	int r;

	if (dicts == NULL)
		return PHT_ERR_NOMEM;
	for (i = 0; i < pht_station_config_ndatasets(d->cfg); i++) {
		const struct pht_station_dataset *ds = pht_station_config_dataset(d->cfg, i);
		if (pht_file_read(ds->dict, PHT_DICT_MAX, &b, &e) != PHT_OK ||
		    pht_json_parse(pht_buf_str(b), pht_buf_len(b), ds->dict, &one, &e) !=
		    PHT_OK) {
			say(d, "dataset %s: dictionary not published: %s", ds->name,
			    pht_err_msg(&e));
		} else {
			json_object_set_new(dicts, ds->name, one);
		}
		one = NULL;
		pht_buf_free(b);
		b = NULL;
	}
	body = json_pack("{s:O}", "dictionaries", dicts);
	/* the catalogue entry (docs/catalog.md): names, types, rounded counts */
	if (body != NULL) {
		json_t *cat = NULL;
		if (pht_station_catalog_build(d->cfg, &cat, &e) == PHT_OK)
			json_object_set_new(body, "catalog", cat);
		else
			say(d, "catalogue not published: %s", pht_err_msg(&e));
	}
	r = body == NULL ? PHT_ERR_NOMEM :
	    call(d, "POST", "/v1/stations/self", body, 0, &resp, &e);
	if (r == PHT_OK)
		say(d, "published %zu data dictionar%s", json_object_size(dicts),
		    json_object_size(dicts) == 1 ? "y" : "ies");
	else
		say(d, "publishing the dictionaries: %s", pht_err_msg(&e));
	json_decref(dicts);
	json_decref(body);
	json_decref(resp);
	return r;
}

/* One long poll of the inbox and the entries it brings. */
static int
poll_inbox(struct daemon *d, int wait_s, struct pht_err *err)
{
	char route[64];
	struct pht_err e;
	json_t *resp = NULL, *trains, *entry;
	size_t i;
	int r;

	snprintf(route, sizeof(route), "/v1/inbox?wait=%d", wait_s);
	r = call(d, "GET", route, NULL, (long)(wait_s + 15) * 1000, &resp, &e);
	if (r == PHT_ERR_MALFORMED && wait_s > 1) {
		/* the node's max_wait is lower: ask for less */
		d->wait_s = wait_s / 2;
		say(d, "inbox: %s: polling with wait=%d from now on", pht_err_msg(&e),
		    d->wait_s);
		return PHT_OK;
	}
	if (r != PHT_OK) {
		if (!stopping(d)) {
			say(d, "inbox: %s", pht_err_msg(&e));
			backoff(d);
		}
		return PHT_OK;
	}
	d->delay_ms = 0;
	trains = json_object_get(resp, "trains");
	json_array_foreach(trains, i, entry) {
		if (stopping(d))
			break;
		if ((r = handle_entry(d, entry, err)) != PHT_OK)
			break;
	}
	json_decref(resp);
	return r;
}

/*
 * The permit authorities' revocation lists and halt orders, fetched every
 * poll cycle so that they take effect within one cycle (docs/governance.md).
 * A failure is said and retried next cycle; the inbox poll does the backoff.
 */
static void
fetch_governance(struct daemon *d)
{
	struct pht_err e;
	int refused = 0;

	pht_err_clear(&e);
	if (pht_station_gov_fetch(pht_station_governance(d->st), d->http, d->base,
	    &refused, &e) != PHT_OK)
		say(d, "revocation lists and halt orders: %s", pht_err_msg(&e));
	else if (refused > 0)
		say(d, "revocation lists and halt orders: %d refused (not signed by a "
		    "configured permit authority, or older than the ones held)", refused);
}

static int
queue_has_decided(struct daemon *d)
{
	json_t *items = NULL, *it;
	size_t i;
	int any = 0;

	if (pht_station_queue_list(d->queue_dir, &items, NULL) != PHT_OK)
		return 0;
	json_array_foreach(items, i, it)
		any |= strcmp(json_string_value(json_object_get(it, "state")), "pending") != 0;
	json_decref(items);
	return any;
}

static int
queue_pending(struct daemon *d)
{
	json_t *items = NULL;
	int n;

	if (pht_station_queue_list(d->queue_dir, &items, NULL) != PHT_OK)
		return 0;
	n = (int)json_array_size(items);
	json_decref(items);
	return n;
}

/*
 * A local fault (a full disk, an audit log that cannot be written): said
 * once, then waited out with backoff. Nothing is lost meanwhile: a train
 * not yet marked in flight stays in the node's inbox (not acknowledged),
 * one marked is finished from the audit log once the fault clears.
 */
static void
pause_for(struct daemon *d, const char *what, const struct pht_err *e)
{
	if (!d->paused)
		say(d, "paused: %s: %s; no new trains until it clears (retrying)", what,
		    pht_err_msg(e));
	d->paused = 1;
	backoff(d);
}

static void
resume(struct daemon *d)
{
	if (d->paused)
		say(d, "resumed: the fault has cleared");
	d->paused = 0;
	d->delay_ms = 0;
}

/* Faults of the station's own state that may clear without a config change. */
static int
start_fault(int code)
{
	return local_fault(code) || code == PHT_ERR_TAMPERED;
}

static void
close_daemon(struct daemon *d)
{
	pht_http_free(d->http);
	pht_trust_free(d->trust);
	pht_key_free(d->key);
	pht_station_close(d->st);
	free(d->base);
	free(d->queue_dir);
	free(d->outbox_dir);
	free(d->inflight);
	d->http = NULL;
	d->trust = NULL;
	d->key = NULL;
	d->st = NULL;
	d->base = d->queue_dir = d->outbox_dir = d->inflight = NULL;
}

static int
open_daemon(struct daemon *d, struct pht_err *err)
{
	struct pht_station_config *cfg = NULL;
	const struct pht_station_node *node;
	struct pht_http_opts ho;
	struct pht_key *k = NULL;
	size_t i, n;
	int r;

	if ((r = pht_station_config_load(d->o->config, &cfg, err)) != PHT_OK)
		return r;
	node = pht_station_config_node(cfg);
	if (node == NULL || node->url == NULL) {
		pht_station_config_free(cfg);
		return pht_errf(err, PHT_ERR_INVALID, "%s: no node section: the daemon "
		    "needs node.url, node.cert, node.key and node.ca", d->o->config);
	}
	if ((r = pht_station_open(cfg, &d->st, err)) != PHT_OK)
		return r; /* cfg was handed over */
	d->cfg = pht_station_config(d->st);
	node = pht_station_config_node(d->cfg);
	d->id = pht_station_config_id(d->cfg);
	if ((r = pht_key_load_as(pht_station_config_key(d->cfg), PHT_KEY_SIGN, 1, &d->key,
	    err)) != PHT_OK)
		return r;
	if ((d->trust = pht_trust_new()) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (i = 0; i < pht_station_config_nsigners(d->cfg); i++) {
		const struct pht_station_signer *s = pht_station_config_signer(d->cfg, i);
		if ((r = pht_key_load_as(s->key, PHT_KEY_SIGN, 0, &k, err)) != PHT_OK ||
		    (r = pht_trust_add(d->trust, s->name, k, err)) != PHT_OK) {
			pht_key_free(k);
			return r;
		}
		pht_key_free(k);
		k = NULL;
	}
	n = strlen(node->url);
	while (n > 0 && node->url[n - 1] == '/')
		n--;
	if ((d->base = strndup(node->url, n)) == NULL ||
	    (d->queue_dir = pht_station_queue_dir(d->cfg)) == NULL ||
	    (d->outbox_dir = malloc(strlen(pht_station_config_audit_log(d->cfg)) +
	    sizeof(".outbox"))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	snprintf(d->outbox_dir, strlen(pht_station_config_audit_log(d->cfg)) +
	    sizeof(".outbox"), "%s.outbox", pht_station_config_audit_log(d->cfg));
	if ((d->inflight = malloc(strlen(pht_station_config_audit_log(d->cfg)) +
	    sizeof(".inflight"))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	snprintf(d->inflight, strlen(pht_station_config_audit_log(d->cfg)) +
	    sizeof(".inflight"), "%s.inflight", pht_station_config_audit_log(d->cfg));
	memset(&ho, 0, sizeof(ho));
	ho.cert = node->cert;
	ho.key = node->key;
	ho.ca = node->ca;
	ho.cancel = d->o->stop;
	ho.connect_timeout_ms = 5000;
	return pht_http_new(&ho, &d->http, err);
}

int
pht_station_daemon_run(const struct pht_station_daemon_opts *o, struct pht_err *err)
{
	struct daemon d;
	struct pht_err e;
	int r, published = 0, wait_s;

	memset(&d, 0, sizeof(d));
	d.o = o;
	d.wait_s = o->wait_seconds > 0 && o->wait_seconds <= 60 ? o->wait_seconds : 30;
	d.min_ms = o->backoff_min_ms > 0 ? o->backoff_min_ms : 500;
	d.max_ms = o->backoff_max_ms >= d.min_ms ? o->backoff_max_ms : 30000;
	if (d.max_ms < d.min_ms)
		d.max_ms = d.min_ms;
	/* a bad config ends the start; a fault of the station's state is waited out */
	while ((r = open_daemon(&d, err)) != PHT_OK) {
		close_daemon(&d);
		if (!start_fault(r) || stopping(&d))
			goto out;
		if (!d.paused)
			say(&d, "cannot start: %s; waiting for it to clear (retrying every "
			    "%d ms)", pht_err_msg(err), d.max_ms);
		d.paused = 1;
		nap(&d, d.max_ms);
	}
	say(&d, "station %s: polling %s", d.id, d.base);
	while (!stopping(&d)) {
		if (recover(&d, &e) != PHT_OK) {
			pause_for(&d, "finishing an interrupted train", &e);
			continue;
		}
		if (!published) {
			if (publish(&d) != PHT_OK) {
				backoff(&d);
				continue;
			}
			published = 1;
			d.delay_ms = 0;
		}
		if (flush_outbox(&d) != PHT_OK) {
			backoff(&d);
			continue;
		}
		fetch_governance(&d);
		if (queue_has_decided(&d) && process_queue(&d, &e) != PHT_OK) {
			pause_for(&d, "the approval queue", &e);
			continue;
		}
		/* with trains waiting for a steward, look at the queue more often */
		wait_s = queue_pending(&d) > 0 && d.wait_s > 5 ? 5 : d.wait_s;
		if (poll_inbox(&d, wait_s, &e) != PHT_OK) {
			pause_for(&d, "taking a train", &e);
			continue;
		}
		resume(&d);
	}
	say(&d, "stopping");
	r = PHT_OK;
out:
	close_daemon(&d);
	return r;
}
