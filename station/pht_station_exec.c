/* pht_station_exec.c — a signed train through verification, policy, the sandbox, output checks and the audit log, as a table of stages. */
#include "pht_station_exec.h"
#include "pht_station_code.h"
#include "pht_audit.h"
#include "pht_dataset.h"
#include "pht_enc.h"
#include "pht_hash.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_output.h"
#include "pht_permit.h"
#include "pht_station_gov.h"
#include "pht_station_optout.h"
#include "pht_audit_archive.h"
#include "pht_station_diff.h"
#include "pht_station_round.h"
#include "pht_station_seen.h"
#include "pht_time.h"
#include "pht_train.h"
#include "pht_train_rowsets.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The station. datasets[i] caches the dataset of the config's i-th entry
 * once loaded (NULL until then).
 */
struct pht_station {
	struct pht_station_config *cfg;
	struct pht_key *key;
	struct pht_trust *trust;
	struct pht_audit *log;
	struct pht_dataset **datasets;
	struct pht_station_optout_info *optinfo; /* opt-outs applied to datasets[i] */
	struct pht_station_gov *gov;
	struct pht_station_diff *diff;  /* the release auditor (pht_station_diff.h) */
};

const char *
pht_station_outcome_name(enum pht_station_outcome o)
{
	switch (o) {
	case PHT_STATION_RELEASED: return "released";
	case PHT_STATION_QUEUED: return "queued";
	case PHT_STATION_REJECTED: return "rejected";
	case PHT_STATION_FAILED: return "failed";
	case PHT_STATION_WITHHELD: return "withheld";
	}
	return "unknown";
}

int
pht_station_open(struct pht_station_config *cfg, struct pht_station **out,
    struct pht_err *err)
{
	struct pht_station *st = NULL;
	struct pht_key *k = NULL;
	size_t i;
	int r;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		pht_station_config_free(cfg);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	st->cfg = cfg;
	if ((st->datasets = calloc(pht_station_config_ndatasets(cfg) + 1,
	    sizeof(*st->datasets))) == NULL || (st->optinfo = calloc(
	    pht_station_config_ndatasets(cfg) + 1, sizeof(*st->optinfo))) == NULL ||
	    (st->trust = pht_trust_new()) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_key_load_as(pht_station_config_key(cfg), PHT_KEY_SIGN, 1,
	    &st->key, err)) != PHT_OK) {
		pht_err_prefix(err, "station key");
		goto out;
	}
	for (i = 0; i < pht_station_config_nsigners(cfg); i++) {
		const struct pht_station_signer *s = pht_station_config_signer(cfg, i);
		if ((r = pht_key_load_as(s->key, PHT_KEY_SIGN, 0, &k, err)) == PHT_OK &&
		    pht_key_has_private(k))
			r = pht_errf(err, PHT_ERR_INVALID, "%s: is a private key; trust the "
			    "signer's public key (.sign.pub)", s->key);
		if (r != PHT_OK || (r = pht_trust_add(st->trust, s->name, k, err)) != PHT_OK) {
			pht_err_prefix(err, "signer %s", s->name);
			goto out;
		}
		pht_key_free(k);
		k = NULL;
	}
	if ((r = pht_audit_open(pht_station_config_audit_log(cfg), st->key, &st->log,
	    err)) != PHT_OK)
		goto out;
	if ((r = pht_station_gov_open(cfg, st->log, &st->gov, err)) != PHT_OK)
		goto out;
	if ((r = pht_station_diff_open(pht_station_config_released_rows(cfg), st->key,
	    &st->diff, err)) != PHT_OK)
		goto out;
	*out = st;
	st = NULL; /* transferred */
out:
	pht_key_free(k);
	pht_station_close(st);
	return r;
}

void
pht_station_close(struct pht_station *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; st->datasets != NULL && i < pht_station_config_ndatasets(st->cfg); i++)
		pht_dataset_free(st->datasets[i]);
	free(st->datasets);
	free(st->optinfo);
	pht_station_gov_free(st->gov);
	pht_station_diff_free(st->diff);
	pht_audit_close(st->log);
	pht_trust_free(st->trust);
	pht_key_free(st->key);
	pht_station_config_free(st->cfg);
	free(st);
}

const struct pht_station_config *
pht_station_config(const struct pht_station *st)
{
	return st->cfg;
}

struct pht_station_gov *
pht_station_governance(struct pht_station *st)
{
	return st->gov;
}

void
pht_station_result_clear(struct pht_station_result *res)
{
	if (res == NULL)
		return;
	json_decref(res->output);
	memset(res, 0, sizeof(*res));
}

/* Sets a string field unless value is NULL; 0 on success. */
static int
set_str(json_t *o, const char *k, const char *v)
{
	return v == NULL ? 0 : json_object_set_new(o, k, json_string(v));
}

static json_t *
str_array(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Appends event with fields (consumed) to the log and records the head. */
static int
log_event(struct pht_station *st, struct pht_station_result *res, const char *event,
    json_t *fields, struct pht_err *err)
{
	int r;

	if (fields == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory building the %s entry",
		    event);
	if (res->permit[0] != '\0' && json_object_get(fields, "permit") == NULL &&
	    set_str(fields, "permit", res->permit) != 0) {
		json_decref(fields);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory building the %s entry",
		    event);
	}
	r = pht_audit_append(st->log, event, fields, &res->head, err);
	json_decref(fields);
	return r;
}

/*
 * Logs a refusal and finishes: fields (consumed, may be NULL) get the reason
 * and error name, and "data_dependent": true when res says the outcome may
 * depend on data values. Returns PHT_OK with err = why if logged.
 */
static int
finish(struct pht_station *st, struct pht_station_result *res,
    enum pht_station_outcome outcome, const char *event, json_t *fields,
    const struct pht_err *why, struct pht_err *err)
{
	int r;

	if (fields == NULL)
		fields = json_object();
	if (fields != NULL && res->train[0] != '\0' &&
	    json_object_get(fields, "train") == NULL)
		set_str(fields, "train", res->train);
	if (fields != NULL && (set_str(fields, "reason", pht_err_msg(why)) != 0 ||
	    (why->code != PHT_OK &&
	    set_str(fields, "error", pht_strerror(why->code)) != 0) ||
	    (res->data_dependent &&
	    json_object_set_new(fields, "data_dependent", json_true()) != 0))) {
		json_decref(fields);
		fields = NULL;
	}
	if ((r = log_event(st, res, event, fields, err)) != PHT_OK)
		return r;
	res->outcome = outcome;
	if (err != NULL)
		*err = *why;
	return PHT_OK;
}

/* Resource use of a run as audit fields. */
static int
add_stats(json_t *f, const struct pht_run_stats *s)
{
	char seed[32];
	json_t *cols = json_array();
	const char *p = s->columns_read, *c;

	if (cols == NULL)
		return -1;
	while (*p != '\0') {
		c = strchr(p, ',');
		size_t n = c != NULL ? (size_t)(c - p) : strlen(p);
		if (n > 0 && json_array_append_new(cols, json_stringn(p, n)) != 0) {
			json_decref(cols);
			return -1;
		}
		p += n + (c != NULL);
	}
	snprintf(seed, sizeof(seed), "%" PRIu64, s->seed);
	return json_object_set_new(f, "instructions", json_integer((json_int_t)s->instructions)) |
	    json_object_set_new(f, "peak_memory", json_integer((json_int_t)s->peak_memory)) |
	    json_object_set_new(f, "wall_ms", json_real(s->wall_ms)) |
	    json_object_set_new(f, "cpu_ms", json_real(s->cpu_ms)) |
	    json_object_set_new(f, "rows_read", json_integer((json_int_t)s->rows_read)) |
	    json_object_set_new(f, "columns_read", cols) |
	    json_object_set_new(f, "seed", json_string(seed));
}

/* The dataset a train runs on here, or NULL with why set. */
static int
pick_dataset(struct pht_station *st, const struct pht_trainmsg *msg, size_t *idx,
    struct pht_err *why)
{
	const struct pht_station_config *cfg = st->cfg;
	const char *const *names;
	size_t n, i, j;

	names = pht_trainmsg_datasets(msg, &n);
	if (n == 0) {
		if (pht_station_config_ndatasets(cfg) == 1) {
			*idx = 0;
			return PHT_OK;
		}
		return pht_errf(why, PHT_ERR_POLICY, "the train names no dataset and "
		    "this station holds %zu", pht_station_config_ndatasets(cfg));
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < pht_station_config_ndatasets(cfg); j++)
			if (strcmp(names[i], pht_station_config_dataset(cfg, j)->name) == 0) {
				*idx = j;
				return PHT_OK;
			}
	return pht_errf(why, PHT_ERR_POLICY, "none of the train's datasets (%s%s) "
	    "is held at station %s", names[0], n > 1 ? ", ..." : "",
	    pht_station_config_id(cfg));
}

static int
load_dataset(struct pht_station *st, size_t idx, struct pht_err *why)
{
	const struct pht_station_dataset *d = pht_station_config_dataset(st->cfg, idx);
	int r;

	if (st->datasets[idx] != NULL && !pht_station_optout_stale(d, &st->optinfo[idx]))
		return PHT_OK;
	pht_dataset_free(st->datasets[idx]);
	st->datasets[idx] = NULL;
	if ((r = pht_station_dataset_load(d, &st->datasets[idx], &st->optinfo[idx],
	    why)) != PHT_OK)
		pht_err_prefix(why, "dataset %s", d->name);
	return r;
}

/* The "id" of an authentic payload that failed validation, for the log. */
static void
claimed_id(const uint8_t *payload, size_t len, char out[129])
{
	json_t *v = NULL;
	const char *id;
	size_t i, n;

	out[0] = '\0';
	if (pht_json_parse((const char *)payload, len, "train", &v, NULL) != PHT_OK)
		return;
	if ((id = json_string_value(json_object_get(v, "id"))) != NULL &&
	    (n = strlen(id)) > 0 && n <= 128) {
		for (i = 0; i < n; i++)
			if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
			    (id[i] >= 'A' && id[i] <= 'Z') || id[i] == '_' || id[i] == '-'))
				break;
		if (i == n)
			memcpy(out, id, n + 1);
	}
	json_decref(v);
}

/*
 * One train on its way through the station: what the stages of exec_train
 * hand each other. A stage that refuses leaves its audit fields in fields
 * (consumed by finish) and the reason in why.
 */
struct exec_ctx {
	struct pht_station *st;
	const char *envelope;
	size_t len;
	int approved;                 /* pht_station_exec_approved */
	struct pht_station_result *res;
	const struct pht_station_policy *pol;
	const struct pht_station_signer *signer;
	struct pht_envelope *env;
	struct pht_trainmsg *msg;
	struct pht_permit *permit;    /* the data permit the train runs under, or NULL */
	char env_sha[65];
	const char *signer_name, *signer_fp, *code, *tname;
	size_t code_len;
	size_t idx;                   /* the dataset of the run (config index) */
	json_t *meta;                 /* the train's own table, when it names itself there */
	json_t *output;               /* the run's output */
	struct pht_train_rowsets *rows;
	struct pht_run_stats stats;
	int run;                      /* the run's result (pht_train_run_station_rows) */
	size_t rounded;               /* values stage_rounding rounded */
	json_t *fields;               /* a refusal's audit fields, or NULL */
	int error;                    /* STAGE_ERROR: the error code (detail in err) */
};

/* What a stage tells exec_train. */
enum stage_next {
	STAGE_NEXT,      /* go on to the next stage */
	STAGE_STOP,      /* the train stops here with the stage's outcome; why says why */
	STAGE_ERROR,     /* the station could not go on (err set): nothing more is logged */
};

static const char *
ctx_dataset(const struct exec_ctx *x)
{
	return pht_station_config_dataset(x->st->cfg, x->idx)->name;
}

/* The envelope, its signature against the trust set, the signer's config entry. */
static enum stage_next
stage_envelope(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	const struct pht_station_config *cfg = x->st->cfg;
	size_t i;

	(void)err;
	if (pht_envelope_parse(x->envelope, x->len, &x->env, why) != PHT_OK) {
		x->fields = json_pack("{s:s}", "envelope_sha256", x->env_sha);
		return STAGE_STOP;
	}
	x->signer_fp = pht_envelope_signer_fp(x->env);
	if (pht_envelope_verify(x->env, x->st->trust, why) != PHT_OK) {
		x->fields = json_pack("{s:s, s:s}", "envelope_sha256", x->env_sha,
		    "signer", x->signer_fp);
		return STAGE_STOP;
	}
	x->signer_name = pht_envelope_signer_name(x->env);
	for (i = 0; i < pht_station_config_nsigners(cfg); i++)
		if (strcmp(pht_station_config_signer(cfg, i)->name, x->signer_name) == 0)
			x->signer = pht_station_config_signer(cfg, i);
	if (x->signer == NULL) {
		pht_errf(why, PHT_ERR_INTERNAL, "signer %s not in the config",
		    x->signer_name);
		return STAGE_STOP;
	}
	return STAGE_NEXT;
}

/* The payload: its fields, code hash and expiry. */
static enum stage_next
stage_payload(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	struct pht_station_result *res = x->res;
	const uint8_t *payload;
	size_t plen;

	(void)err;
	payload = pht_envelope_payload(x->env, &plen);
	if (pht_trainmsg_parse(payload, plen, pht_time_now(), &x->msg, why) != PHT_OK) {
		claimed_id(payload, plen, res->train);
		x->fields = json_pack("{s:s, s:s, s:s}", "envelope_sha256", x->env_sha,
		    "signer", x->signer_fp, "signer_name", x->signer_name);
		return STAGE_STOP;
	}
	snprintf(res->train, sizeof(res->train), "%s", pht_trainmsg_id(x->msg));
	if (pht_trainmsg_permit(x->msg) != NULL)
		snprintf(res->permit, sizeof(res->permit), "%s", pht_trainmsg_permit(x->msg));
	x->code = pht_trainmsg_code(x->msg, &x->code_len);
	x->tname = pht_trainmsg_name(x->msg);
	return STAGE_NEXT;
}

/* The train's code into the station's code store, by its hash. */
static int
store_code(struct pht_station *st, const struct pht_trainmsg *msg, struct pht_err *err)
{
	const char *code;
	size_t len;
	char *dir;
	int r;

	if ((dir = pht_station_code_dir(pht_station_config_audit_log(st->cfg))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	code = pht_trainmsg_code(msg, &len);
	r = pht_station_code_put(dir, code, len, pht_trainmsg_code_sha256(msg), err);
	free(dir);
	if (r != PHT_OK)
		pht_err_prefix(err, "the code store");
	return r;
}

/* The "received" entry, once the train is authentic (not again when approved). */
static enum stage_next
stage_received(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	const struct pht_trainmsg *msg = x->msg;
	const char *const *ds, *const *targets;
	char issued[21], expires[21];
	size_t nds, ntargets;
	json_t *f;

	(void)why;
	if (x->approved)
		return STAGE_NEXT;
	/* the code the entry names is stored first (pht_station_code.h) */
	if ((x->error = store_code(x->st, msg, err)) != PHT_OK)
		return STAGE_ERROR;
	pht_time_format(pht_trainmsg_issued(msg), issued);
	pht_time_format(pht_trainmsg_expires(msg), expires);
	ds = pht_trainmsg_datasets(msg, &nds);
	targets = pht_trainmsg_stations(msg, &ntargets);
	f = json_pack("{s:s, s:s, s:s, s:s, s:O, s:o, s:o, s:I, s:s, s:s, s:s}",
	    "train", x->res->train, "signer", x->signer_fp, "signer_name", x->signer_name,
	    "code_sha256", pht_trainmsg_code_sha256(msg),
	    "params", pht_trainmsg_params(msg), "datasets", str_array(ds, nds),
	    "stations", str_array(targets, ntargets),
	    "round", (json_int_t)pht_trainmsg_round(msg), "issued", issued,
	    "expires", expires, "envelope_sha256", x->env_sha);
	if (f != NULL && set_str(f, "name", x->tname) != 0) {
		json_decref(f);
		f = NULL;
	}
	x->error = log_event(x->st, x->res, "received", f, err);
	return x->error == PHT_OK ? STAGE_NEXT : STAGE_ERROR;
}

/*
 * Replay: the id is recorded durably before anything runs; an approved
 * train must already be there (it was recorded when queued).
 */
static enum stage_next
stage_replay(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	const char *seen = pht_station_config_seen_ids(x->st->cfg);

	(void)err;
	if (x->approved) {
		if (pht_station_seen_has(seen, x->res->train, why) == 1)
			return STAGE_NEXT;
		pht_errf(why, PHT_ERR_POLICY, "train %s was never queued at this "
		    "station", x->res->train);
		return STAGE_STOP;
	}
	return pht_station_seen_add(seen, x->res->train, why) == PHT_OK ? STAGE_NEXT :
	    STAGE_STOP;
}

/* Addressed to this station. */
static enum stage_next
stage_target(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	const char *id = pht_station_config_id(x->st->cfg);
	const char *const *targets;
	size_t ntargets, i;

	(void)err;
	targets = pht_trainmsg_stations(x->msg, &ntargets);
	for (i = 0; i < ntargets; i++)
		if (strcmp(targets[i], id) == 0)
			return STAGE_NEXT;
	pht_errf(why, PHT_ERR_POLICY, "station %s is not among the train's targets", id);
	return STAGE_STOP;
}

/* Policy: a dataset held here. */
static enum stage_next
stage_dataset(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)err;
	return pick_dataset(x->st, x->msg, &x->idx, why) == PHT_OK ? STAGE_NEXT :
	    STAGE_STOP;
}

/* Governance: halts and the data permit (docs/governance.md). */
static enum stage_next
stage_permit(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)err;
	if (pht_station_gov_check(x->st->gov, x->msg, x->signer_fp, ctx_dataset(x),
	    pht_time_now(), &x->permit, why) == PHT_OK)
		return STAGE_NEXT;
	x->fields = json_pack("{s:s}", "dataset", ctx_dataset(x));
	return STAGE_STOP;
}

/* The train's own name from its table if the payload gives none. */
static enum stage_next
stage_name(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)err;
	if (x->tname != NULL)
		return STAGE_NEXT;
	if (pht_train_describe(x->code, x->code_len, "train", &x->pol->limits, &x->meta,
	    why) != PHT_OK)
		return STAGE_STOP;
	x->tname = json_string_value(json_object_get(x->meta, "name"));
	return STAGE_NEXT;
}

/* Approval: the trains of a review signer wait for a steward. */
static enum stage_next
stage_review(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)err;
	if (x->signer->mode != PHT_SIGNER_REVIEW || x->approved)
		return STAGE_NEXT;
	pht_errf(why, PHT_OK, "signer %s is marked review: the train waits for "
	    "a data steward's approval", x->signer_name);
	x->fields = json_pack("{s:s}", "dataset", ctx_dataset(x));
	if (x->fields != NULL && set_str(x->fields, "name", x->tname) != 0) {
		json_decref(x->fields);
		x->fields = NULL;
	}
	return STAGE_STOP;
}

/* The analyst's query budget on this dataset (pht_station_diff.h). */
static enum stage_next
stage_budget(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)err;
	return pht_station_diff_budget(x->st->diff, ctx_dataset(x), x->signer_fp,
	    x->pol->limits.k, &x->pol->budget, pht_time_now(), why) == PHT_OK ?
	    STAGE_NEXT : STAGE_STOP;
}

/* The dataset, loaded again when it or its opt-outs changed. */
static enum stage_next
stage_load(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)err;
	return load_dataset(x->st, x->idx, why) == PHT_OK ? STAGE_NEXT : STAGE_STOP;
}

/*
 * A dataset smaller than k can release nothing computed from data: the run
 * is declined before the train sees a row, with a category that depends on
 * the dataset and k alone (pht_train_check_rows, docs/security.md T15g).
 */
static enum stage_next
stage_size(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)err;
	if (pht_train_check_rows(x->st->datasets[x->idx], &x->pol->limits, why) ==
	    PHT_OK)
		return STAGE_NEXT;
	x->fields = json_pack("{s:s}", "dataset", ctx_dataset(x));
	return STAGE_STOP;
}

/* The run counted against the permit's cap. */
static enum stage_next
stage_count(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)err;
	if (x->permit == NULL || pht_station_gov_count_run(x->st->gov,
	    pht_permit_id(x->permit), pht_permit_max_runs(x->permit), NULL, why) == PHT_OK)
		return STAGE_NEXT;
	return STAGE_STOP;
}

/*
 * The sandbox run with the policy's limits, stopped at once if the operator
 * halts the station. Never stops the train itself: stage_executed logs the
 * run first, whatever its result.
 */
static enum stage_next
stage_run(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	struct pht_limits lim;
	int halted;

	(void)err;
	lim = x->pol->limits;
	/* row-level values only under a permit granting them to this code */
	lim.row_access = x->res->row_access = pht_permit_row_access(x->permit,
	    pht_trainmsg_code_sha256(x->msg));
	lim.cancel = pht_station_gov_halted_cb;
	lim.cancel_arg = (void *)pht_station_gov_state_dir(x->st->gov);
	x->run = pht_train_run_station_rows(x->code, x->code_len,
	    x->tname != NULL ? x->tname : "train", x->st->datasets[x->idx],
	    pht_trainmsg_params(x->msg), (int)pht_trainmsg_round(x->msg), 0, &lim,
	    &x->output, &x->stats, &x->rows, why);
	halted = x->run != PHT_OK && pht_station_gov_halted_cb(
	    (void *)pht_station_gov_state_dir(x->st->gov));
	if (halted)
		pht_errf(why, PHT_ERR_DENIED, "the station was halted while the train "
		    "ran: the run was stopped");
	/*
	 * From here on every refusal may depend on data values unless the
	 * child said it touched none (docs/governance.md, "What the analyst is
	 * told"). The operator's halt is the station's own act.
	 */
	x->res->data_dependent = x->stats.data_touched && !halted;
	return STAGE_NEXT;
}

/*
 * The "executed" entry for every run, failed or not: a failure in the run
 * and a refusal after it then leave the same number of entries (the log
 * head the analyst gets tells them apart no more than the answer does).
 * Then a failed run stops the train.
 */
static enum stage_next
stage_executed(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	struct pht_station *st = x->st;
	struct pht_station_result *res = x->res;
	json_t *f;

	(void)why;
	f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:I, s:s, s:s, s:s}",
	    "train", res->train, "signer", x->signer_fp, "signer_name", x->signer_name,
	    "code_sha256", pht_trainmsg_code_sha256(x->msg), "dataset", ctx_dataset(x),
	    "params", pht_trainmsg_params(x->msg),
	    "round", (json_int_t)pht_trainmsg_round(x->msg),
	    "csv_sha256", pht_dataset_csv_sha256(st->datasets[x->idx]),
	    "dict_sha256", pht_dataset_dict_sha256(st->datasets[x->idx]),
	    "station", pht_station_config_id(st->cfg));
	if (f != NULL) {
		json_object_set_new(f, "k", json_integer((json_int_t)x->pol->limits.k));
		(void)pht_station_optout_log_fields(pht_station_config_dataset(st->cfg,
		    x->idx), &st->optinfo[x->idx], f);
		if (add_stats(f, &x->stats) != 0 || set_str(f, "name", x->tname) != 0 ||
		    (res->row_access && json_object_set_new(f, "row_access",
		    json_true()) != 0)) {
			json_decref(f);
			f = NULL;
		}
	}
	if ((x->error = log_event(st, res, "executed", f, err)) != PHT_OK)
		return STAGE_ERROR;
	return x->run == PHT_OK ? STAGE_NEXT : STAGE_STOP;
}

/* Disclosure: every column the run read is covered by the permit. */
static enum stage_next
stage_columns(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)err;
	if (x->permit == NULL || pht_station_gov_check_columns(x->permit, ctx_dataset(x),
	    x->stats.columns_read, why) == PHT_OK)
		return STAGE_NEXT;
	return STAGE_STOP;
}

/* Disclosure: what may leave (pht_output.h). */
static enum stage_next
stage_output(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)err;
	return pht_output_check(x->output, &x->pol->output, why) == PHT_OK ?
	    STAGE_NEXT : STAGE_STOP;
}

/* Counts rounded to the policy's base (pht_station_round.h); never stops. */
static enum stage_next
stage_rounding(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	(void)why;
	(void)err;
	x->rounded = pht_station_round_counts(x->output, x->pol->round_counts);
	return STAGE_NEXT;
}

/*
 * Disclosure: differencing against the earlier releases and the budget
 * (recorded durably if released).
 */
static enum stage_next
stage_differencing(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	const uint64_t *rowkeys = NULL;

	(void)err;
	if (pht_station_diff_rowkeys(x->st->diff, x->st->datasets[x->idx], &rowkeys,
	    why) == PHT_OK && pht_station_diff_admit(x->st->diff, ctx_dataset(x),
	    x->signer_fp, x->res->train, x->rows, rowkeys, x->pol->limits.k,
	    &x->pol->budget, pht_time_now(), why) == PHT_OK)
		return STAGE_NEXT;
	x->fields = json_pack("{s:I}", "row_sets",
	    (json_int_t)pht_train_rowsets_count(x->rows));
	return STAGE_STOP;
}

/* The "released" entry with the exact output, the output handed over. */
static enum stage_next
stage_release(struct exec_ctx *x, struct pht_err *why, struct pht_err *err)
{
	struct pht_station_result *res = x->res;
	const struct pht_station_policy *pol = x->pol;
	char *dump;
	json_t *f;

	(void)why;
	if ((dump = pht_json_dump(x->output)) == NULL) {
		x->error = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		return STAGE_ERROR;
	}
	(void)pht_sha256_hex(dump, strlen(dump), res->output_sha256, NULL);
	free(dump);
	f = json_pack("{s:s, s:O, s:s, s:I}", "train", res->train, "output", x->output,
	    "output_sha256", res->output_sha256, "row_sets",
	    (json_int_t)pht_train_rowsets_count(x->rows));
	if (f != NULL && res->row_access && json_object_set_new(f, "row_access",
	    json_true()) != 0) {
		json_decref(f);
		f = NULL;
	}
	if (f != NULL && pol->round_counts > 1 && json_object_set_new(f, "rounding",
	    json_pack("{s:I, s:I}", "counts", (json_int_t)pol->round_counts,
	    "values_rounded", (json_int_t)x->rounded)) != 0) {
		json_decref(f);
		f = NULL;
	}
	if ((x->error = log_event(x->st, res, "released", f, err)) != PHT_OK)
		return STAGE_ERROR;
	res->outcome = PHT_STATION_RELEASED;
	res->output = x->output;
	x->output = NULL; /* transferred */
	return STAGE_NEXT;
}

/*
 * The stages in order, each with the outcome (and so the audit event: its
 * pht_station_outcome_name) of a train it stops. The order is the contract
 * of pht_station_exec (pht_station_exec.h); the tests pin its entries.
 */
static const struct exec_stage {
	const char *name;
	enum stage_next (*run)(struct exec_ctx *x, struct pht_err *why,
	    struct pht_err *err);
	enum pht_station_outcome stop;
} exec_stages[] = {
	{"verify envelope", stage_envelope, PHT_STATION_REJECTED},
	{"payload and expiry", stage_payload, PHT_STATION_REJECTED},
	{"received", stage_received, PHT_STATION_REJECTED},
	{"replay", stage_replay, PHT_STATION_REJECTED},
	{"target", stage_target, PHT_STATION_REJECTED},
	{"dataset", stage_dataset, PHT_STATION_REJECTED},
	{"halts and permit", stage_permit, PHT_STATION_REJECTED},
	{"train name", stage_name, PHT_STATION_FAILED},
	{"approval", stage_review, PHT_STATION_QUEUED},
	{"query budget", stage_budget, PHT_STATION_REJECTED},
	{"load dataset", stage_load, PHT_STATION_FAILED},
	{"dataset size", stage_size, PHT_STATION_REJECTED},
	{"permit run count", stage_count, PHT_STATION_REJECTED},
	{"sandbox run", stage_run, PHT_STATION_FAILED},
	{"executed", stage_executed, PHT_STATION_FAILED},
	{"permit columns", stage_columns, PHT_STATION_WITHHELD},
	{"output checks", stage_output, PHT_STATION_WITHHELD},
	{"rounding", stage_rounding, PHT_STATION_WITHHELD},
	{"differencing", stage_differencing, PHT_STATION_WITHHELD},
	{"release", stage_release, PHT_STATION_RELEASED},
};

/*
 * pht_station_exec, or with approved set the run of a queued train a
 * steward approved: no second "received" entry, the id must already be in
 * the seen-ids store (it was recorded when queued), no review step. The
 * stages run in order until one stops the train; the one place a stop
 * becomes its audit entry (finish) and the caller's answer (*err = why).
 */
static int
exec_train(struct pht_station *st, const char *envelope, size_t len, int approved,
    struct pht_station_result *res, struct pht_err *err)
{
	struct exec_ctx x;
	struct pht_err why;
	enum stage_next next = STAGE_NEXT;
	size_t i;
	int r = PHT_OK;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	pht_err_clear(&why);
	x.st = st;
	x.envelope = envelope;
	x.len = len;
	x.approved = approved;
	x.res = res;
	x.pol = pht_station_config_policy(st->cfg);
	(void)pht_sha256_hex(envelope, len, x.env_sha, NULL);

	/* the audit log rotates at the configured size, between trains */
	if (pht_station_config_audit_rotate_bytes(st->cfg) > 0 &&
	    (r = pht_audit_rotate_at(pht_station_config_audit_log(st->cfg), st->key,
	    pht_station_config_audit_rotate_bytes(st->cfg), NULL, err)) != PHT_OK)
		return r;

	for (i = 0; i < sizeof(exec_stages) / sizeof(exec_stages[0]); i++)
		if ((next = exec_stages[i].run(&x, &why, err)) != STAGE_NEXT)
			break;
	if (next == STAGE_STOP) {
		r = finish(st, res, exec_stages[i].stop,
		    pht_station_outcome_name(exec_stages[i].stop), x.fields, &why, err);
		x.fields = NULL; /* consumed */
	} else if (next == STAGE_ERROR) {
		r = x.error;
	} else {
		pht_err_clear(err);
	}
	json_decref(x.fields);
	pht_train_rowsets_free(x.rows);
	json_decref(x.output);
	json_decref(x.meta);
	pht_permit_free(x.permit);
	pht_trainmsg_free(x.msg);
	pht_envelope_free(x.env);
	return r;
}

int
pht_station_exec(struct pht_station *st, const char *envelope, size_t len,
    struct pht_station_result *res, struct pht_err *err)
{
	return exec_train(st, envelope, len, 0, res, err);
}

int
pht_station_exec_approved(struct pht_station *st, const char *envelope,
    size_t len, struct pht_station_result *res, struct pht_err *err)
{
	return exec_train(st, envelope, len, 1, res, err);
}
