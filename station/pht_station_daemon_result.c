/* pht_station_daemon_result.c — the station daemon's answers: result payloads sealed and signed, the durable outbox, the in-flight marker. */
#include "pht_station_daemon_int.h"
#include "pht_audit.h"
#include "pht_buf.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_resultmsg.h"
#include "pht_seal.h"
#include "pht_station_config.h"
#include "pht_station_exec.h"
#include "pht_station_redact.h"
#include "pht_time.h"
#include "pht_trainmsg.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The POST body for a result: the payload built, sealed to the train's
 * result key when the envelope is authentic and its payload valid, signed
 * with the station key. output is the released output (NULL otherwise).
 */
int
sd_make_result(struct daemon *d, const char *node_train, int64_t round,
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
		sd_say(d, "outbox item %s is unreadable: dropped", path);
		pht_buf_free(b);
		json_decref(item);
		unlink(path);
		return PHT_OK;
	}
	pht_buf_free(b);
	snprintf(route, sizeof(route), "/v1/trains/%s/results", train);
	r = sd_call(d, "POST", route, json_object_get(item, "body"), 0, &resp, &e);
	if (r == PHT_OK) {
		d->delay_ms = 0;
		sd_say(d, "result for train %s round %lld posted", train,
		    (long long)json_integer_value(json_object_get(json_object_get(item,
		    "body"), "round")));
		unlink(path);
	} else if (r != PHT_ERR_NETWORK) {
		d->delay_ms = 0;
		sd_say(d, "result for train %s refused by the node: %s", train, pht_err_msg(&e));
		unlink(path);
		r = PHT_OK;
	} else {
		sd_say(d, "posting the result for train %s: %s", train, pht_err_msg(&e));
	}
	json_decref(item);
	json_decref(resp);
	return r;
}

/* Posts every outbox item; PHT_ERR_NETWORK if one could not reach the node. */
int
sd_flush_outbox(struct daemon *d)
{
	DIR *dir;
	struct dirent *de;
	char *path;
	int r = PHT_OK;

	if ((dir = opendir(d->outbox_dir)) == NULL)
		return PHT_OK;
	while (r == PHT_OK && !sd_stopping(d) && (de = readdir(dir)) != NULL) {
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
int
sd_send_result(struct daemon *d, const char *node_train, int64_t round, json_t *body,
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
void
sd_fix_head(struct daemon *d, struct pht_audit_head *h)
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
int
sd_answer(struct daemon *d, const char *node_train, int64_t round, const char *envelope,
    struct pht_station_result *res, const struct pht_err *why, int rc,
    struct pht_err *err)
{
	char reason[PHT_RESULTMSG_MAX_REASON];
	const char *status, *error;
	json_t *body = NULL;
	int r;

	sd_fix_head(d, &res->head);
	/* never data values or row numbers; one answer for data-dependent outcomes */
	pht_station_answer(res, rc, why, &status, &error, reason, sizeof(reason));
	if ((r = sd_make_result(d, node_train, round, status, error, reason,
	    res->outcome == PHT_STATION_RELEASED && rc == PHT_OK ? res->output : NULL,
	    envelope, &res->head, pht_time_now(), &body, err)) != PHT_OK)
		return r;
	r = sd_send_result(d, node_train, round, body, err);
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
int
sd_mark(struct daemon *d, const char *node_train, int64_t round, const char *envelope,
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

void
sd_unmark(struct daemon *d)
{
	unlink(d->inflight);
}
