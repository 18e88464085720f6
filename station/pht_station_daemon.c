/* pht_station_daemon.c — the polling station: inbox → pht_station_exec → sealed, signed result → node. */
#include "pht_station_daemon_int.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_http.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_station_catalog.h"
#include "pht_station_config.h"
#include "pht_station_exec.h"
#include "pht_station_gov.h"
#include "pht_station_queue.h"
#include "pht_time.h"
#include "pht_trust.h"

#include <openssl/rand.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
sd_say(struct daemon *d, const char *fmt, ...)
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

int
sd_stopping(const struct daemon *d)
{
	return d->o->stop != NULL && *d->o->stop != 0;
}

/* Sleeps ms in steps of 100 ms, waking early when asked to stop. */
void
sd_nap(struct daemon *d, int ms)
{
	struct timespec ts = {0, 100 * 1000 * 1000};

	for (; ms > 0 && !sd_stopping(d); ms -= 100)
		nanosleep(&ts, NULL);
}

/* Waits the next backoff delay: doubled each time, bounded, with jitter. */
void
sd_backoff(struct daemon *d)
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
		sd_say(d, "retrying in %d ms", ms);
	sd_nap(d, ms);
}

/* One request to the node: base URL + path. Network failures are PHT_ERR_NETWORK. */
int
sd_call(struct daemon *d, const char *method, const char *path, const json_t *body,
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

/* ---- the inbox ---- */

static void
ack(struct daemon *d, const char *node_train, int64_t round)
{
	char route[256];
	json_t *body = json_pack("{s:I}", "round", (json_int_t)round), *resp = NULL;
	struct pht_err e;

	snprintf(route, sizeof(route), "/v1/inbox/%s/ack", node_train);
	if (body != NULL && sd_call(d, "POST", route, body, 0, &resp, &e) != PHT_OK)
		sd_say(d, "ack of train %s: %s (it will be handed out again)", node_train,
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
		sd_say(d, "inbox entry without a valid train id, round or envelope: skipped");
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
		sd_say(d, "train %s round %lld from analyst %s: received", node_train,
		    (long long)round, analyst != NULL ? analyst : "?");
	if ((r = sd_mark(d, node_train, round, envelope, err)) != PHT_OK)
		return r;
	rc = pht_station_exec(d->st, envelope, strlen(envelope), &res, &why);
	if (rc == PHT_OK && res.outcome == PHT_STATION_QUEUED) {
		if ((r = sd_queue_train(d, node_train, round, envelope, err)) != PHT_OK) {
			pht_station_result_clear(&res);
			return r;
		}
		sd_unmark(d);
		sd_say(d, "train %s: queued for a data steward (pht station queue)", node_train);
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
	sd_say(d, "train %s round %lld: %s%s%s", node_train, (long long)round,
	    pht_station_outcome_name(res.outcome),
	    res.outcome == PHT_STATION_RELEASED ? "" : ": ",
	    res.outcome == PHT_STATION_RELEASED ? "" : pht_err_msg(&why));
	r = sd_answer(d, node_train, round, envelope, &res, &why, rc, err);
	pht_station_result_clear(&res);
	if (r == PHT_OK)
		sd_unmark(d);
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
			sd_say(d, "dataset %s: dictionary not published: %s", ds->name,
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
			sd_say(d, "catalogue not published: %s", pht_err_msg(&e));
	}
	r = body == NULL ? PHT_ERR_NOMEM :
	    sd_call(d, "POST", "/v1/stations/self", body, 0, &resp, &e);
	if (r == PHT_OK)
		sd_say(d, "published %zu data dictionar%s", json_object_size(dicts),
		    json_object_size(dicts) == 1 ? "y" : "ies");
	else
		sd_say(d, "publishing the dictionaries: %s", pht_err_msg(&e));
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
	r = sd_call(d, "GET", route, NULL, (long)(wait_s + 15) * 1000, &resp, &e);
	if (r == PHT_ERR_MALFORMED && wait_s > 1) {
		/* the node's max_wait is lower: ask for less */
		d->wait_s = wait_s / 2;
		sd_say(d, "inbox: %s: polling with wait=%d from now on", pht_err_msg(&e),
		    d->wait_s);
		return PHT_OK;
	}
	if (r != PHT_OK) {
		if (!sd_stopping(d)) {
			sd_say(d, "inbox: %s", pht_err_msg(&e));
			sd_backoff(d);
		}
		return PHT_OK;
	}
	d->delay_ms = 0;
	trains = json_object_get(resp, "trains");
	json_array_foreach(trains, i, entry) {
		if (sd_stopping(d))
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
		sd_say(d, "revocation lists and halt orders: %s", pht_err_msg(&e));
	else if (refused > 0)
		sd_say(d, "revocation lists and halt orders: %d refused (not signed by a "
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
		sd_say(d, "paused: %s: %s; no new trains until it clears (retrying)", what,
		    pht_err_msg(e));
	d->paused = 1;
	sd_backoff(d);
}

static void
resume(struct daemon *d)
{
	if (d->paused)
		sd_say(d, "resumed: the fault has cleared");
	d->paused = 0;
	d->delay_ms = 0;
}

/* Faults of the station's own state that may clear without a config change. */
static int
start_fault(int code)
{
	return sd_local_fault(code) || code == PHT_ERR_TAMPERED;
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
		if (!start_fault(r) || sd_stopping(&d))
			goto out;
		if (!d.paused)
			sd_say(&d, "cannot start: %s; waiting for it to clear (retrying every "
			    "%d ms)", pht_err_msg(err), d.max_ms);
		d.paused = 1;
		sd_nap(&d, d.max_ms);
	}
	sd_say(&d, "station %s: polling %s", d.id, d.base);
	while (!sd_stopping(&d)) {
		if (sd_recover(&d, &e) != PHT_OK) {
			pause_for(&d, "finishing an interrupted train", &e);
			continue;
		}
		if (!published) {
			if (publish(&d) != PHT_OK) {
				sd_backoff(&d);
				continue;
			}
			published = 1;
			d.delay_ms = 0;
		}
		if (sd_flush_outbox(&d) != PHT_OK) {
			sd_backoff(&d);
			continue;
		}
		fetch_governance(&d);
		if (queue_has_decided(&d) && sd_process_queue(&d, &e) != PHT_OK) {
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
	sd_say(&d, "stopping");
	r = PHT_OK;
out:
	close_daemon(&d);
	return r;
}
