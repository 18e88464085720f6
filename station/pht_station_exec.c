/* pht_station_exec.c — a signed train through verification, policy, the sandbox, output checks and the audit log. */
#include "pht_station_exec.h"
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

#include <errno.h>
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
 * pht_station_exec, or with approved set the run of a queued train a
 * steward approved: no second "received" entry, the id must already be in
 * the seen-ids store (it was recorded when queued), no review step.
 */
static int
exec_train(struct pht_station *st, const char *envelope, size_t len, int approved,
    struct pht_station_result *res, struct pht_err *err)
{
	const struct pht_station_policy *pol = pht_station_config_policy(st->cfg);
	const struct pht_station_signer *signer = NULL;
	struct pht_envelope *env = NULL;
	struct pht_trainmsg *msg = NULL;
	struct pht_run_stats stats;
	struct pht_limits lim;
	struct pht_permit *permit = NULL;
	struct pht_err why;
	char env_sha[65], issued[21], expires[21], *dump = NULL;
	const char *signer_name, *signer_fp, *code, *tname;
	const char *const *targets;
	const uint8_t *payload;
	json_t *output = NULL, *f = NULL, *meta = NULL;
	struct pht_train_rowsets *rows = NULL;
	const uint64_t *rowkeys = NULL;
	size_t rounded = 0;
	size_t plen, code_len, ntargets, i, idx = 0;
	int r, rl, halted;

	memset(res, 0, sizeof(*res));
	pht_err_clear(&why);
	(void)pht_sha256_hex(envelope, len, env_sha, NULL);

	/* the audit log rotates at the configured size, between trains */
	if (pht_station_config_audit_rotate_bytes(st->cfg) > 0 &&
	    (r = pht_audit_rotate_at(pht_station_config_audit_log(st->cfg), st->key,
	    pht_station_config_audit_rotate_bytes(st->cfg), NULL, err)) != PHT_OK)
		return r;

	/* 1. the envelope and its signature */
	if ((r = pht_envelope_parse(envelope, len, &env, &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_REJECTED, "rejected",
		    json_pack("{s:s}", "envelope_sha256", env_sha), &why, err);
		goto out;
	}
	signer_fp = pht_envelope_signer_fp(env);
	if ((r = pht_envelope_verify(env, st->trust, &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_REJECTED, "rejected",
		    json_pack("{s:s, s:s}", "envelope_sha256", env_sha, "signer", signer_fp),
		    &why, err);
		goto out;
	}
	signer_name = pht_envelope_signer_name(env);
	for (i = 0; i < pht_station_config_nsigners(st->cfg); i++)
		if (strcmp(pht_station_config_signer(st->cfg, i)->name, signer_name) == 0)
			signer = pht_station_config_signer(st->cfg, i);
	if (signer == NULL) {
		pht_errf(&why, PHT_ERR_INTERNAL, "signer %s not in the config", signer_name);
		r = finish(st, res, PHT_STATION_REJECTED, "rejected", NULL, &why, err);
		goto out;
	}

	/* 2. the payload: fields, code hash, expiry */
	payload = pht_envelope_payload(env, &plen);
	if ((r = pht_trainmsg_parse(payload, plen, pht_time_now(), &msg, &why)) != PHT_OK) {
		claimed_id(payload, plen, res->train);
		r = finish(st, res, PHT_STATION_REJECTED, "rejected",
		    json_pack("{s:s, s:s, s:s}", "envelope_sha256", env_sha, "signer",
		    signer_fp, "signer_name", signer_name), &why, err);
		goto out;
	}
	snprintf(res->train, sizeof(res->train), "%s", pht_trainmsg_id(msg));
	if (pht_trainmsg_permit(msg) != NULL)
		snprintf(res->permit, sizeof(res->permit), "%s", pht_trainmsg_permit(msg));
	code = pht_trainmsg_code(msg, &code_len);
	tname = pht_trainmsg_name(msg);
	pht_time_format(pht_trainmsg_issued(msg), issued);
	pht_time_format(pht_trainmsg_expires(msg), expires);
	{
		size_t nds;
		const char *const *ds = pht_trainmsg_datasets(msg, &nds);
		targets = pht_trainmsg_stations(msg, &ntargets);
		f = json_pack("{s:s, s:s, s:s, s:s, s:O, s:o, s:o, s:I, s:s, s:s, s:s}",
		    "train", res->train, "signer", signer_fp, "signer_name", signer_name,
		    "code_sha256", pht_trainmsg_code_sha256(msg),
		    "params", pht_trainmsg_params(msg), "datasets", str_array(ds, nds),
		    "stations", str_array(targets, ntargets),
		    "round", (json_int_t)pht_trainmsg_round(msg), "issued", issued,
		    "expires", expires, "envelope_sha256", env_sha);
	}
	if (f != NULL && set_str(f, "name", tname) != 0) {
		json_decref(f);
		f = NULL;
	}
	if (approved) {
		json_decref(f);
		r = PHT_OK;
	} else
		r = log_event(st, res, "received", f, err);
	f = NULL; /* consumed */
	if (r != PHT_OK)
		goto out;

	/* 3. replay: the id is recorded durably before anything runs */
	if (approved && pht_station_seen_has(pht_station_config_seen_ids(st->cfg),
	    res->train, &why) != 1) {
		pht_errf(&why, PHT_ERR_POLICY, "train %s was never queued at this "
		    "station", res->train);
		r = finish(st, res, PHT_STATION_REJECTED, "rejected", NULL, &why, err);
		goto out;
	}
	if (!approved && (r = pht_station_seen_add(pht_station_config_seen_ids(st->cfg),
	    res->train, &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_REJECTED, "rejected", NULL, &why, err);
		goto out;
	}

	/* 4. addressed to this station */
	for (i = 0; i < ntargets; i++)
		if (strcmp(targets[i], pht_station_config_id(st->cfg)) == 0)
			break;
	if (i == ntargets) {
		pht_errf(&why, PHT_ERR_POLICY, "station %s is not among the train's "
		    "targets", pht_station_config_id(st->cfg));
		r = finish(st, res, PHT_STATION_REJECTED, "rejected", NULL, &why, err);
		goto out;
	}

	/* 5. policy: a dataset held here */
	if ((r = pick_dataset(st, msg, &idx, &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_REJECTED, "rejected", NULL, &why, err);
		goto out;
	}

	/* 5b. governance: halts and the data permit (docs/governance.md) */
	if ((r = pht_station_gov_check(st->gov, msg, signer_fp,
	    pht_station_config_dataset(st->cfg, idx)->name, pht_time_now(), &permit,
	    &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_REJECTED, "rejected", json_pack("{s:s}",
		    "dataset", pht_station_config_dataset(st->cfg, idx)->name), &why, err);
		goto out;
	}

	/* 6. the train's own name from its table if the payload gives none */
	if (tname == NULL) {
		if ((r = pht_train_describe(code, code_len, "train", &pol->limits, &meta,
		    &why)) != PHT_OK) {
			r = finish(st, res, PHT_STATION_FAILED, "failed", NULL, &why, err);
			goto out;
		}
		tname = json_string_value(json_object_get(meta, "name"));
	}

	/* 7. review signers wait for a steward */
	if (signer->mode == PHT_SIGNER_REVIEW && !approved) {
		pht_errf(&why, PHT_OK, "signer %s is marked review: the train waits for "
		    "a data steward's approval", signer_name);
		f = json_pack("{s:s}", "dataset", pht_station_config_dataset(st->cfg, idx)->name);
		if (f != NULL && set_str(f, "name", tname) != 0) {
			json_decref(f);
			f = NULL;
		}
		r = finish(st, res, PHT_STATION_QUEUED, "queued", f, &why, err);
		f = NULL;
		goto out;
	}

	/* 7b. the analyst's query budget on this dataset (pht_station_diff.h) */
	if ((r = pht_station_diff_budget(st->diff, pht_station_config_dataset(st->cfg,
	    idx)->name, signer_fp, pol->limits.k, &pol->budget, pht_time_now(),
	    &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_REJECTED, "rejected", NULL, &why, err);
		goto out;
	}

	/* 8. run */
	if ((r = load_dataset(st, idx, &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_FAILED, "failed", NULL, &why, err);
		goto out;
	}
	if (permit != NULL && (r = pht_station_gov_count_run(st->gov,
	    pht_permit_id(permit), pht_permit_max_runs(permit), NULL, &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_REJECTED, "rejected", NULL, &why, err);
		goto out;
	}
	memset(&stats, 0, sizeof(stats));
	lim = pol->limits;
	/* row-level values only under a permit granting them to this code */
	lim.row_access = res->row_access = pht_permit_row_access(permit,
	    pht_trainmsg_code_sha256(msg));
	lim.cancel = pht_station_gov_halted_cb;
	lim.cancel_arg = (void *)pht_station_gov_state_dir(st->gov);
	r = pht_train_run_station_rows(code, code_len, tname != NULL ? tname : "train",
	    st->datasets[idx], pht_trainmsg_params(msg), (int)pht_trainmsg_round(msg), 0,
	    &lim, &output, &stats, &rows, &why);
	halted = r != PHT_OK && pht_station_gov_halted_cb(
	    (void *)pht_station_gov_state_dir(st->gov));
	if (halted)
		pht_errf(&why, PHT_ERR_DENIED, "the station was halted while the train "
		    "ran: the run was stopped");
	/*
	 * From here on every refusal may depend on data values unless the
	 * child said it touched none (docs/governance.md, "What the analyst is
	 * told"). The operator's halt is the station's own act.
	 */
	res->data_dependent = stats.data_touched && !halted;
	f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:I, s:s, s:s, s:s}",
	    "train", res->train, "signer", signer_fp, "signer_name", signer_name,
	    "code_sha256", pht_trainmsg_code_sha256(msg), "dataset",
	    pht_station_config_dataset(st->cfg, idx)->name, "params",
	    pht_trainmsg_params(msg), "round", (json_int_t)pht_trainmsg_round(msg),
	    "csv_sha256", pht_dataset_csv_sha256(st->datasets[idx]),
	    "dict_sha256", pht_dataset_dict_sha256(st->datasets[idx]),
	    "station", pht_station_config_id(st->cfg));
	if (f != NULL) {
		json_object_set_new(f, "k", json_integer((json_int_t)pol->limits.k));
		(void)pht_station_optout_log_fields(pht_station_config_dataset(st->cfg, idx),
		    &st->optinfo[idx], f);
		if (add_stats(f, &stats) != 0 || set_str(f, "name", tname) != 0 ||
		    (res->row_access && json_object_set_new(f, "row_access",
		    json_true()) != 0)) {
			json_decref(f);
			f = NULL;
		}
	}
	/*
	 * "executed" for every run, failed or not: a failure in the run and a
	 * refusal after it then leave the same number of entries (the log head
	 * the analyst gets tells them apart no more than the answer does).
	 */
	rl = log_event(st, res, "executed", f, err);
	f = NULL; /* consumed */
	if (rl != PHT_OK) {
		r = rl;
		goto out;
	}
	if (r != PHT_OK) {
		r = finish(st, res, PHT_STATION_FAILED, "failed", NULL, &why, err);
		goto out;
	}

	/* 8b. every column it read must be covered by the permit */
	if (permit != NULL && (r = pht_station_gov_check_columns(permit,
	    pht_station_config_dataset(st->cfg, idx)->name, stats.columns_read,
	    &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_WITHHELD, "withheld", NULL, &why, err);
		goto out;
	}

	/* 9. what may leave */
	if ((r = pht_output_check(output, &pol->output, &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_WITHHELD, "withheld", NULL, &why, err);
		goto out;
	}
	/* 9b. rounding, then differencing and the budget (recorded durably if released) */
	rounded = pht_station_round_counts(output, pol->round_counts);
	if ((r = pht_station_diff_rowkeys(st->diff, st->datasets[idx], &rowkeys,
	    &why)) != PHT_OK || (r = pht_station_diff_admit(st->diff,
	    pht_station_config_dataset(st->cfg, idx)->name, signer_fp, res->train, rows,
	    rowkeys, pol->limits.k, &pol->budget, pht_time_now(), &why)) != PHT_OK) {
		r = finish(st, res, PHT_STATION_WITHHELD, "withheld",
		    json_pack("{s:I}", "row_sets", (json_int_t)pht_train_rowsets_count(rows)),
		    &why, err);
		goto out;
	}
	if ((dump = pht_json_dump(output)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	(void)pht_sha256_hex(dump, strlen(dump), res->output_sha256, NULL);
	f = json_pack("{s:s, s:O, s:s, s:I}", "train", res->train, "output", output,
	    "output_sha256", res->output_sha256, "row_sets",
	    (json_int_t)pht_train_rowsets_count(rows));
	if (f != NULL && res->row_access && json_object_set_new(f, "row_access",
	    json_true()) != 0) {
		json_decref(f);
		f = NULL;
	}
	if (f != NULL && pol->round_counts > 1 && json_object_set_new(f, "rounding",
	    json_pack("{s:I, s:I}", "counts", (json_int_t)pol->round_counts,
	    "values_rounded", (json_int_t)rounded)) != 0) {
		json_decref(f);
		f = NULL;
	}
	r = log_event(st, res, "released", f, err);
	f = NULL; /* consumed */
	if (r != PHT_OK)
		goto out;
	res->outcome = PHT_STATION_RELEASED;
	res->output = output;
	output = NULL; /* transferred */
	pht_err_clear(err);
out:
	free(dump);
	pht_train_rowsets_free(rows);
	json_decref(output);
	json_decref(f);
	json_decref(meta);
	pht_permit_free(permit);
	pht_trainmsg_free(msg);
	pht_envelope_free(env);
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

/* ---- replay ---- */

/* The recorded run of one train, collected from the log. */
struct recorded {
	const char *train;
	json_t *executed;
	json_t *released;
};

static int
collect(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct recorded *rec = arg;
	const char *ev = json_string_value(json_object_get(entry, "event"));
	const char *id = json_string_value(json_object_get(entry, "train"));

	(void)line;
	(void)hash;
	if (ev == NULL || id == NULL || strcmp(id, rec->train) != 0)
		return 0;
	if (strcmp(ev, "executed") == 0 && rec->executed == NULL)
		rec->executed = json_incref((json_t *)entry);
	else if (strcmp(ev, "released") == 0 && rec->released == NULL)
		rec->released = json_incref((json_t *)entry);
	return 0;
}

void
pht_station_replay_clear(struct pht_station_replay *rep)
{
	if (rep == NULL)
		return;
	json_decref(rep->output);
	memset(rep, 0, sizeof(*rep));
}

int
pht_station_replay(const struct pht_station_config *cfg, const char *log_path,
    const char *train_id, const char *code, size_t code_len,
    struct pht_station_replay *rep, struct pht_err *err)
{
	struct recorded rec = {train_id, NULL, NULL};
	const struct pht_station_dataset *d;
	struct pht_dataset *ds = NULL;
	struct pht_run_stats stats;
	struct pht_limits lim;
	const char *code_sha, *dsname, *seed_s, *csv_sha, *dict_sha, *out_sha, *tname;
	const char *opt_sha;
	struct pht_station_optout_info optinfo;
	const json_t *params;
	json_t *output = NULL;
	char sha[65], *dump = NULL, *end;
	unsigned long long seed;
	int64_t round;
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((r = pht_audit_foreach(log_path, collect, &rec, err)) != PHT_OK)
		goto out;
	if (rec.executed == NULL || rec.released == NULL) {
		r = pht_errf(err, PHT_ERR_NOT_FOUND, "%s: train %s has no %s entry", log_path,
		    train_id, rec.executed == NULL ? "executed" : "released");
		goto out;
	}
	if ((r = pht_json_get_str(rec.executed, "code_sha256", "executed entry", &code_sha, err)) ||
	    (r = pht_json_get_str(rec.executed, "dataset", "executed entry", &dsname, err)) ||
	    (r = pht_json_get_str(rec.executed, "seed", "executed entry", &seed_s, err)) ||
	    (r = pht_json_get_str(rec.executed, "csv_sha256", "executed entry", &csv_sha, err)) ||
	    (r = pht_json_get_str(rec.executed, "dict_sha256", "executed entry", &dict_sha, err)) ||
	    (r = pht_json_get_int(rec.executed, "round", "executed entry", &round, err)) ||
	    (r = pht_json_get_str(rec.released, "output_sha256", "released entry", &out_sha, err)))
		goto out;
	tname = json_string_value(json_object_get(rec.executed, "name"));
	params = json_object_get(rec.executed, "params");
	if (!json_is_object(params)) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "executed entry: field params: not an object");
		goto out;
	}
	errno = 0;
	seed = strtoull(seed_s, &end, 10);
	if (seed_s[0] < '0' || seed_s[0] > '9' || *end != '\0' || errno != 0 ||
	    round < 1 || round > PHT_TRAINMSG_MAX_ROUND) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "executed entry: bad seed or round");
		goto out;
	}
	(void)pht_sha256_hex(code, code_len, sha, NULL);
	if (strcmp(sha, code_sha) != 0) {
		r = pht_errf(err, PHT_ERR_HASH_MISMATCH, "the code given has SHA-256 %s, "
		    "train %s ran code %s", sha, train_id, code_sha);
		goto out;
	}
	if ((d = pht_station_config_find_dataset(cfg, dsname)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOT_FOUND, "dataset %s of the run is not in the "
		    "station config", dsname);
		goto out;
	}
	if ((r = pht_station_dataset_load(d, &ds, &optinfo, err)) != PHT_OK) {
		pht_err_prefix(err, "dataset %s", d->name);
		goto out;
	}
	/* the data, or who opted out of it, changed since the run */
	opt_sha = json_string_value(json_object_get(rec.executed, "opt_out_sha256"));
	rep->data_changed = strcmp(pht_dataset_csv_sha256(ds), csv_sha) != 0 ||
	    strcmp(pht_dataset_dict_sha256(ds), dict_sha) != 0 ||
	    (opt_sha != NULL && strcmp(opt_sha, optinfo.sha256) != 0) ||
	    (json_object_get(rec.executed, "opt_out_excluded") != NULL &&
	    (size_t)json_integer_value(json_object_get(rec.executed, "opt_out_excluded")) !=
	    optinfo.excluded);
	memset(&stats, 0, sizeof(stats));
	/* a run a permit gave row access is replayed with it, nothing else is */
	lim = pht_station_config_policy(cfg)->limits;
	lim.row_access = json_is_true(json_object_get(rec.executed, "row_access"));
	if ((r = pht_train_run_station(code, code_len, tname != NULL ? tname : "train", ds,
	    params, (int)round, (uint64_t)seed, &lim, &output, &stats, err)) != PHT_OK)
		goto out;
	pht_station_round_counts(output, pht_station_config_policy(cfg)->round_counts);
	if ((dump = pht_json_dump(output)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	(void)pht_sha256_hex(dump, strlen(dump), rep->replay_sha256, NULL);
	snprintf(rep->recorded_sha256, sizeof(rep->recorded_sha256), "%s", out_sha);
	rep->matches = strcmp(rep->replay_sha256, rep->recorded_sha256) == 0;
	rep->output = output;
	output = NULL; /* transferred */
out:
	free(dump);
	json_decref(output);
	pht_dataset_free(ds);
	json_decref(rec.executed);
	json_decref(rec.released);
	return r;
}
