/* pht_station_gov.c — permits, revocations, halt orders and the local halt, kept beside the audit log. */
#include "pht_station_gov.h"
#include "pht_audit.h"
#include "pht_buf.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_http.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_permit.h"
#include "pht_station_config.h"
#include "pht_time.h"
#include "pht_trainmsg.h"
#include "pht_trust.h"
#include "pht_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENV_FILE_MAX ((size_t)PHT_ENVELOPE_MAX)

/* The state: the config (borrowed), the authorities' keys, the directory. */
struct pht_station_gov {
	const struct pht_station_config *cfg;
	struct pht_audit *log;      /* borrowed, may be NULL */
	struct pht_trust *authorities;
	char *dir;
};

char *
pht_station_gov_dir(const struct pht_station_config *cfg)
{
	const char *log = pht_station_config_audit_log(cfg);
	size_t n = strlen(log) + sizeof(".gov");
	char *d = malloc(n);

	if (d != NULL)
		snprintf(d, n, "%s.gov", log);
	return d;
}

const char *
pht_station_gov_state_dir(const struct pht_station_gov *gov)
{
	return gov->dir;
}

int
pht_station_gov_open(const struct pht_station_config *cfg, struct pht_audit *log,
    struct pht_station_gov **out, struct pht_err *err)
{
	struct pht_station_gov *g = NULL;
	struct pht_key *k = NULL;
	const char *path, *base;
	char name[PHT_KEY_NAME_MAX + 1];
	size_t i, n;
	int r;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->authorities = pht_trust_new()) == NULL ||
	    (g->dir = pht_station_gov_dir(cfg)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	g->cfg = cfg;
	g->log = log;
	for (i = 0; i < pht_station_config_npermit_authorities(cfg); i++) {
		path = pht_station_config_permit_authority(cfg, i);
		if ((r = pht_key_load_as(path, PHT_KEY_SIGN, 0, &k, err)) == PHT_OK &&
		    pht_key_has_private(k))
			r = pht_errf(err, PHT_ERR_INVALID, "%s: is a private key; trust the "
			    "authority's public key (.sign.pub)", path);
		if (r != PHT_OK) {
			pht_err_prefix(err, "permit authority");
			goto out;
		}
		/* named after the file: AUTH.sign.pub -> AUTH */
		base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
		snprintf(name, sizeof(name), "%s", base);
		n = strlen(name);
		if (n > 9 && strcmp(name + n - 9, ".sign.pub") == 0)
			name[n - 9] = '\0';
		else if (n > 4 && strcmp(name + n - 4, ".pub") == 0)
			name[n - 4] = '\0';
		if (!pht_key_name_ok(name))
			snprintf(name, sizeof(name), "authority-%zu", i + 1);
		if ((r = pht_trust_add(g->authorities, name, k, err)) != PHT_OK) {
			pht_err_prefix(err, "permit authority %s", path);
			goto out;
		}
		pht_key_free(k);
		k = NULL;
	}
	*out = g;
	g = NULL; /* transferred */
	r = PHT_OK;
out:
	pht_key_free(k);
	pht_station_gov_free(g);
	return r;
}

void
pht_station_gov_free(struct pht_station_gov *gov)
{
	if (gov == NULL)
		return;
	pht_trust_free(gov->authorities);
	free(gov->dir);
	free(gov);
}

/* ---- files ---- */

/* dir/name into a new string; NULL on OOM. */
static char *
state_path(const char *dir, const char *name)
{
	return pht_path_join(dir, name);
}

/* Reads a state file: PHT_ERR_NOT_FOUND if it does not exist. */
static int
read_state(const char *path, size_t max, struct pht_buf **out, struct pht_err *err)
{
	struct stat sb;

	*out = NULL;
	if (stat(path, &sb) != 0 && errno == ENOENT)
		return pht_errf(err, PHT_ERR_NOT_FOUND, "%s: no such file", path);
	return pht_file_read(path, max, out, err);
}

static int
write_state(const char *dir, const char *path, const char *text, size_t len,
    struct pht_err *err)
{
	int r;

	if ((r = pht_mkdir_p(dir, 0700, err)) != PHT_OK)
		return r;
	return pht_file_write_atomic(path, text, len, 0600, err);
}

/* Appends a governance event to the log if there is one; fields consumed. */
static int
log_gov(struct pht_station_gov *gov, const char *event, json_t *fields,
    struct pht_err *err)
{
	int r;

	if (gov->log == NULL) {
		json_decref(fields);
		return PHT_OK;
	}
	if (fields == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	r = pht_audit_append(gov->log, event, fields, NULL, err);
	json_decref(fields);
	return r;
}

/* ---- the local halt ---- */

int
pht_station_gov_halted_cb(void *dir)
{
	char path[4096];
	struct stat sb;

	if ((size_t)snprintf(path, sizeof(path), "%s/halted", (const char *)dir) >=
	    sizeof(path))
		return 1; /* cannot tell: stop rather than run unchecked */
	return stat(path, &sb) == 0;
}

int
pht_station_gov_set_halt(const struct pht_station_config *cfg, int halt,
    const char *by, const char *reason, struct pht_err *err)
{
	struct pht_key *key = NULL;
	struct pht_audit *log = NULL;
	struct pht_buf *b = NULL;
	json_t *flag = NULL, *f = NULL, *old = NULL;
	char *dir = NULL, *path = NULL, *text = NULL, t[21];
	int r;

	if ((dir = pht_station_gov_dir(cfg)) == NULL ||
	    (path = state_path(dir, "halted")) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* the key and the log first: a halt nobody can log is not done */
	if ((r = pht_key_load_as(pht_station_config_key(cfg), PHT_KEY_SIGN, 1, &key,
	    err)) != PHT_OK) {
		pht_err_prefix(err, "station key");
		goto out;
	}
	if ((r = pht_audit_open(pht_station_config_audit_log(cfg), key, &log, err)) !=
	    PHT_OK)
		goto out;
	pht_time_format(pht_time_now(), t);
	if (halt) {
		if (pht_station_gov_halted_cb(dir)) {
			if (read_state(path, PHT_GOV_STATE_MAX, &b, NULL) == PHT_OK)
				(void)pht_json_parse(pht_buf_str(b), pht_buf_len(b), path, &old,
				    NULL);
			r = pht_errf(err, PHT_ERR_DENIED, "station %s is already halted "
			    "(since %s by %s)", pht_station_config_id(cfg),
			    json_string_value(json_object_get(old, "time")) != NULL ?
			    json_string_value(json_object_get(old, "time")) : "?",
			    json_string_value(json_object_get(old, "by")) != NULL ?
			    json_string_value(json_object_get(old, "by")) : "?");
			goto out;
		}
		if ((flag = json_pack("{s:s, s:s}", "by", by != NULL ? by : "operator",
		    "time", t)) == NULL || (reason != NULL && json_object_set_new(flag,
		    "reason", json_string(reason)) != 0) ||
		    (text = pht_json_dump(flag)) == NULL) {
			r = pht_errf(err, PHT_ERR_INVALID, "halt: by or reason is not "
			    "valid UTF-8");
			goto out;
		}
		/*
		 * Logged before the flag is written: a run the flag stops logs its
		 * failure after the halt that stopped it. Should the flag not be
		 * written, the log says so at once ("resumed", with the reason).
		 */
		if ((f = json_pack("{s:s, s:s}", "by", by != NULL ? by : "operator",
		    "station", pht_station_config_id(cfg))) == NULL ||
		    (reason != NULL && json_object_set_new(f, "reason",
		    json_string(reason)) != 0)) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((r = pht_audit_append(log, "halted", f, NULL, err)) != PHT_OK)
			goto out;
		if ((r = write_state(dir, path, text, strlen(text), err)) != PHT_OK) {
			struct pht_err e2;
			json_t *undo = json_pack("{s:s, s:s, s:s}", "by", "station",
			    "station", pht_station_config_id(cfg), "reason", "the halt "
			    "could not take effect: its flag was not written");
			pht_err_clear(&e2);
			if (undo != NULL)
				(void)pht_audit_append(log, "resumed", undo, NULL, &e2);
			json_decref(undo);
		}
		goto out;
	} else {
		if (!pht_station_gov_halted_cb(dir)) {
			r = pht_errf(err, PHT_ERR_DENIED, "station %s is not halted",
			    pht_station_config_id(cfg));
			goto out;
		}
		if (unlink(path) != 0) {
			r = pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	if ((f = json_pack("{s:s, s:s}", "by", by != NULL ? by : "operator",
	    "station", pht_station_config_id(cfg))) == NULL ||
	    (reason != NULL && json_object_set_new(f, "reason", json_string(reason)) != 0)) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = pht_audit_append(log, halt ? "halted" : "resumed", f, NULL, err);
out:
	json_decref(flag);
	json_decref(old);
	json_decref(f);
	free(text);
	free(path);
	free(dir);
	pht_buf_free(b);
	pht_audit_close(log);
	pht_key_free(key);
	return r;
}

/* ---- opening authority envelopes ---- */

/* Verifies env against the authorities; *e the envelope (caller frees). */
static int
open_env(struct pht_station_gov *gov, const char *env, size_t len,
    struct pht_envelope **e, struct pht_err *err)
{
	int r;

	if ((r = pht_envelope_open(env, len, gov->authorities, e, err)) != PHT_OK)
		pht_err_prefix(err, "permit authority");
	return r;
}

static int
open_permit(struct pht_station_gov *gov, const char *env, size_t len,
    struct pht_permit **p, char fp[PHT_KEY_FP_LEN + 1], struct pht_err *err)
{
	struct pht_envelope *e = NULL;
	const uint8_t *pl;
	size_t plen;
	int r;

	*p = NULL;
	if ((r = open_env(gov, env, len, &e, err)) != PHT_OK)
		return r;
	pl = pht_envelope_payload(e, &plen);
	r = pht_permit_parse(pl, plen, p, err);
	if (fp != NULL)
		snprintf(fp, PHT_KEY_FP_LEN + 1, "%s", pht_envelope_signer_fp(e));
	pht_envelope_free(e);
	return r;
}

/* The stored revocation list of the authority with fingerprint fp, or NULL. */
static int
stored_revocations(struct pht_station_gov *gov, const char *fp,
    struct pht_revocations **out, char **text, struct pht_err *err)
{
	struct pht_envelope *e = NULL;
	struct pht_buf *b = NULL;
	const uint8_t *pl;
	char name[128], *path = NULL;
	size_t plen;
	int r;

	*out = NULL;
	if (text != NULL)
		*text = NULL;
	snprintf(name, sizeof(name), "revocations-%s.env", fp);
	if ((path = state_path(gov->dir, name)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = read_state(path, ENV_FILE_MAX, &b, err)) == PHT_ERR_NOT_FOUND) {
		r = PHT_OK;
		goto out;
	}
	if (r != PHT_OK || (r = open_env(gov, pht_buf_str(b), pht_buf_len(b), &e,
	    err)) != PHT_OK) {
		pht_err_prefix(err, "%s", path);
		goto out;
	}
	pl = pht_envelope_payload(e, &plen);
	if ((r = pht_revocations_parse(pl, plen, out, err)) != PHT_OK)
		goto out;
	if (text != NULL)
		*text = pht_buf_steal(b, NULL);
out:
	pht_envelope_free(e);
	pht_buf_free(b);
	free(path);
	return r;
}

int
pht_station_gov_update_revocations(struct pht_station_gov *gov, const char *env,
    size_t len, int *changed, struct pht_err *err)
{
	struct pht_envelope *e = NULL;
	struct pht_revocations *rv = NULL, *old = NULL;
	const uint8_t *pl;
	char name[128], *path = NULL, *oldtext = NULL, fp[PHT_KEY_FP_LEN + 1];
	json_t *ids = NULL;
	size_t plen, i;
	int r;

	if (changed != NULL)
		*changed = 0;
	if ((r = open_env(gov, env, len, &e, err)) != PHT_OK)
		goto out;
	pl = pht_envelope_payload(e, &plen);
	if ((r = pht_revocations_parse(pl, plen, &rv, err)) != PHT_OK)
		goto out;
	snprintf(fp, sizeof(fp), "%s", pht_envelope_signer_fp(e));
	if ((r = stored_revocations(gov, fp, &old, &oldtext, err)) != PHT_OK)
		goto out;
	if (old != NULL) {
		if (pht_revocations_seq(rv) < pht_revocations_seq(old) ||
		    (pht_revocations_seq(rv) == pht_revocations_seq(old) &&
		    (strlen(oldtext) != len || memcmp(oldtext, env, len) != 0))) {
			r = pht_errf(err, PHT_ERR_REPLAY, "revocation list seq %" PRId64
			    " is older than the stored list (seq %" PRId64 ")%s",
			    pht_revocations_seq(rv), pht_revocations_seq(old),
			    pht_revocations_seq(rv) == pht_revocations_seq(old) ?
			    " or differs from it under the same seq" : "");
			goto out;
		}
		if (pht_revocations_seq(rv) == pht_revocations_seq(old))
			goto out; /* the same list */
	}
	snprintf(name, sizeof(name), "revocations-%s.env", fp);
	if ((path = state_path(gov->dir, name)) == NULL || (ids = json_array()) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = write_state(gov->dir, path, env, len, err)) != PHT_OK)
		goto out;
	for (i = 0; i < pht_revocations_count(rv); i++)
		json_array_append_new(ids, json_string(pht_revocations_id(rv, i)));
	if (changed != NULL)
		*changed = 1;
	r = log_gov(gov, "revocations", json_pack("{s:s, s:s, s:I, s:O}",
	    "authority", fp, "authority_name", pht_envelope_signer_name(e),
	    "list_seq", (json_int_t)pht_revocations_seq(rv), "revoked", ids), err);
out:
	json_decref(ids);
	free(path);
	free(oldtext);
	pht_revocations_free(rv);
	pht_revocations_free(old);
	pht_envelope_free(e);
	return r;
}

/* Reads the JSON object in the state file name ({} if missing); *out caller decrefs. */
static int
load_object(const struct pht_station_gov *gov, const char *name, json_t **out,
    struct pht_err *err)
{
	struct pht_buf *b = NULL;
	char *path;
	int r;

	*out = NULL;
	if ((path = state_path(gov->dir, name)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	r = read_state(path, PHT_GOV_STATE_MAX, &b, err);
	if (r == PHT_ERR_NOT_FOUND)
		r = (*out = json_object()) == NULL ?
		    pht_errf(err, PHT_ERR_NOMEM, "out of memory") : PHT_OK;
	else if (r == PHT_OK &&
	    (r = pht_json_parse(pht_buf_str(b), pht_buf_len(b), path, out, err)) ==
	    PHT_OK && !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: not a JSON object", path);
	}
	pht_buf_free(b);
	free(path);
	return r;
}

/* The stored halt orders: {"FP SCOPE": "<envelope>"} (empty if none). */
static int
load_halts(struct pht_station_gov *gov, json_t **out, struct pht_err *err)
{
	return load_object(gov, "halts.json", out, err);
}

static int
open_halt(struct pht_station_gov *gov, const char *env, size_t len,
    struct pht_halt **h, char fp[PHT_KEY_FP_LEN + 1], char **signer_name,
    struct pht_err *err)
{
	struct pht_envelope *e = NULL;
	const uint8_t *pl;
	size_t plen;
	int r;

	*h = NULL;
	if ((r = open_env(gov, env, len, &e, err)) != PHT_OK)
		return r;
	pl = pht_envelope_payload(e, &plen);
	r = pht_halt_parse(pl, plen, h, err);
	snprintf(fp, PHT_KEY_FP_LEN + 1, "%s", pht_envelope_signer_fp(e));
	if (signer_name != NULL)
		*signer_name = strdup(pht_envelope_signer_name(e));
	pht_envelope_free(e);
	return r;
}

int
pht_station_gov_update_halt(struct pht_station_gov *gov, const char *env,
    size_t len, int *changed, struct pht_err *err)
{
	struct pht_halt *h = NULL, *old = NULL;
	json_t *halts = NULL, *prev;
	char fp[PHT_KEY_FP_LEN + 1], ofp[PHT_KEY_FP_LEN + 1], key[PHT_KEY_FP_LEN + 200];
	char *path = NULL, *text = NULL, *aname = NULL, t[21];
	int r;

	if (changed != NULL)
		*changed = 0;
	if ((r = open_halt(gov, env, len, &h, fp, &aname, err)) != PHT_OK)
		goto out;
	if ((r = load_halts(gov, &halts, err)) != PHT_OK)
		goto out;
	snprintf(key, sizeof(key), "%s %s", fp, pht_halt_scope(h));
	if ((prev = json_object_get(halts, key)) != NULL && json_is_string(prev) &&
	    open_halt(gov, json_string_value(prev), json_string_length(prev), &old,
	    ofp, NULL, NULL) == PHT_OK) {
		if (json_string_length(prev) == len &&
		    memcmp(json_string_value(prev), env, len) == 0)
			goto out; /* the same order */
		if (pht_halt_issued(h) <= pht_halt_issued(old)) {
			pht_time_format(pht_halt_issued(old), t);
			r = pht_errf(err, PHT_ERR_REPLAY, "halt order for %s is not newer "
			    "than the stored one (issued %s)", pht_halt_scope(h), t);
			goto out;
		}
	}
	if (json_object_set_new(halts, key, json_stringn(env, len)) != 0 ||
	    (text = pht_json_dump(halts)) == NULL ||
	    (path = state_path(gov->dir, "halts.json")) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = write_state(gov->dir, path, text, strlen(text), err)) != PHT_OK)
		goto out;
	if (changed != NULL)
		*changed = 1;
	pht_time_format(pht_halt_issued(h), t);
	{
		json_t *f = json_pack("{s:s, s:s, s:s, s:s}", "authority", fp,
		    "authority_name", aname != NULL ? aname : "?", "scope",
		    pht_halt_scope(h), "issued", t);
		char u[21];
		if (f != NULL && pht_halt_until(h) != 0) {
			pht_time_format(pht_halt_until(h), u);
			json_object_set_new(f, "until", json_string(u));
		}
		if (f != NULL && pht_halt_reason(h) != NULL)
			json_object_set_new(f, "reason", json_string(pht_halt_reason(h)));
		r = log_gov(gov, "halt-order", f, err);
	}
out:
	json_decref(halts);
	free(text);
	free(path);
	free(aname);
	pht_halt_free(h);
	pht_halt_free(old);
	return r;
}

/*
 * Refuses when an authority halt order in force covers (permit, dataset);
 * authority_fp limits it to orders of that authority (NULL: any).
 */
static int
check_halt_orders(struct pht_station_gov *gov, const char *permit,
    const char *dataset, int64_t now, struct pht_err *why)
{
	json_t *halts = NULL, *v;
	struct pht_halt *h = NULL;
	const char *k;
	char fp[PHT_KEY_FP_LEN + 1], *aname = NULL, t[21];
	int r;

	if ((r = load_halts(gov, &halts, why)) != PHT_OK)
		return r;
	r = PHT_OK;
	json_object_foreach(halts, k, v) {
		if (!json_is_string(v) || open_halt(gov, json_string_value(v),
		    json_string_length(v), &h, fp, &aname, NULL) != PHT_OK) {
			/* an order that no longer verifies (authority removed) is void */
			pht_halt_free(h);
			free(aname);
			h = NULL;
			aname = NULL;
			continue;
		}
		if (pht_halt_in_force(h, now) && pht_halt_covers(h, permit, dataset)) {
			pht_time_format(pht_halt_issued(h), t);
			r = pht_errf(why, PHT_ERR_DENIED, "halted by permit authority %s "
			    "(scope %s, issued %s)%s%.256s", aname != NULL ? aname : "?",
			    pht_halt_scope(h), t, pht_halt_reason(h) != NULL ? ": " : "",
			    pht_halt_reason(h) != NULL ? pht_halt_reason(h) : "");
		}
		pht_halt_free(h);
		free(aname);
		h = NULL;
		aname = NULL;
		if (r != PHT_OK)
			break;
	}
	json_decref(halts);
	return r;
}

/* ---- permits ---- */

/* Stores a verified permit envelope unless a later-issued one is stored. */
static int
store_permit(struct pht_station_gov *gov, const char *env, size_t len,
    const struct pht_permit *p, const char *fp, struct pht_err *err)
{
	struct pht_permit *old = NULL;
	struct pht_buf *b = NULL;
	char name[PHT_PERMIT_ID_MAX + 16], *dir = NULL, *path = NULL, t[21], u[21];
	int r;

	snprintf(name, sizeof(name), "%s.env", pht_permit_id(p));
	if ((dir = state_path(gov->dir, "permits")) == NULL ||
	    (path = state_path(dir, name)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = read_state(path, ENV_FILE_MAX, &b, NULL);
	if (r == PHT_OK) {
		if (pht_buf_len(b) == len && memcmp(pht_buf_data(b), env, len) == 0)
			goto out; /* known */
		if (open_permit(gov, pht_buf_str(b), pht_buf_len(b), &old, NULL, NULL) ==
		    PHT_OK && pht_permit_issued(old) >= pht_permit_issued(p)) {
			r = PHT_OK; /* keep the later one */
			goto out;
		}
	}
	if ((r = write_state(dir, path, env, len, err)) != PHT_OK)
		goto out;
	pht_time_format(pht_permit_valid_from(p), t);
	pht_time_format(pht_permit_valid_until(p), u);
	r = log_gov(gov, "permit", json_pack("{s:s, s:s, s:s, s:s, s:s}", "permit",
	    pht_permit_id(p), "authority", fp, "purpose", pht_permit_purpose(p),
	    "valid_from", t, "valid_until", u), err);
out:
	pht_permit_free(old);
	pht_buf_free(b);
	free(path);
	free(dir);
	return r;
}

/* The stored permit id, verified; PHT_ERR_NOT_FOUND if none is stored. */
static int
stored_permit(struct pht_station_gov *gov, const char *id, struct pht_permit **p,
    char fp[PHT_KEY_FP_LEN + 1], struct pht_err *err)
{
	struct pht_buf *b = NULL;
	char name[PHT_PERMIT_ID_MAX + 16], *dir = NULL, *path = NULL;
	int r;

	*p = NULL;
	snprintf(name, sizeof(name), "%s.env", id);
	if ((dir = state_path(gov->dir, "permits")) == NULL ||
	    (path = state_path(dir, name)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = read_state(path, ENV_FILE_MAX, &b, err)) == PHT_ERR_NOT_FOUND) {
		r = pht_errf(err, PHT_ERR_DENIED, "permit %s is not known at this "
		    "station (the analyst sends it with the train: pht train sign "
		    "--permit-file)", id);
		goto out;
	}
	if (r == PHT_OK)
		r = open_permit(gov, pht_buf_str(b), pht_buf_len(b), p, fp, err);
out:
	pht_buf_free(b);
	free(path);
	free(dir);
	return r;
}

/* Reads usage.json ({} if missing); *out caller decrefs. */
static int
load_usage(const struct pht_station_gov *gov, json_t **out, struct pht_err *err)
{
	return load_object(gov, "usage.json", out, err);
}

int64_t
pht_station_gov_runs(const struct pht_station_gov *gov, const char *permit_id)
{
	json_t *u = NULL;
	int64_t n;

	if (load_usage(gov, &u, NULL) != PHT_OK)
		return 0;
	n = json_integer_value(json_object_get(json_object_get(u, permit_id), "runs"));
	json_decref(u);
	return n;
}

int
pht_station_gov_count_run(struct pht_station_gov *gov, const char *permit_id,
    int64_t max_runs, int64_t *runs, struct pht_err *err)
{
	json_t *u = NULL, *one;
	char *lock = NULL, *path = NULL, *text = NULL;
	int64_t n;
	int fd = -1, r;

	if ((lock = state_path(gov->dir, "usage.lock")) == NULL ||
	    (path = state_path(gov->dir, "usage.json")) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_mkdir_p(gov->dir, 0700, err)) != PHT_OK)
		goto out;
	/* one counter for every process of the station (daemon, pht station exec) */
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(fd, LOCK_EX) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", lock, strerror(errno));
		goto out;
	}
	if ((r = load_usage(gov, &u, err)) != PHT_OK)
		goto out;
	n = json_integer_value(json_object_get(json_object_get(u, permit_id), "runs")) + 1;
	if (max_runs > 0 && n > max_runs) {
		r = pht_errf(err, PHT_ERR_DENIED, "permit %s: all %" PRId64 " runs are "
		    "used at this station", permit_id, max_runs);
		goto out;
	}
	if ((one = json_pack("{s:I}", "runs", (json_int_t)n)) == NULL ||
	    json_object_set_new(u, permit_id, one) != 0 ||
	    (text = pht_json_dump(u)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_file_write_atomic(path, text, strlen(text), 0600, err)) != PHT_OK)
		goto out;
	if (runs != NULL)
		*runs = n;
out:
	if (fd >= 0)
		close(fd);
	json_decref(u);
	free(text);
	free(lock);
	free(path);
	return r;
}

int
pht_station_gov_check(struct pht_station_gov *gov, const struct pht_trainmsg *msg,
    const char *signer_fp, const char *dataset, int64_t now,
    struct pht_permit **permit, struct pht_err *why)
{
	struct pht_permit *p = NULL;
	struct pht_revocations *rv = NULL;
	struct pht_buf *b = NULL;
	const char *id = pht_trainmsg_permit(msg), *env;
	char fp[PHT_KEY_FP_LEN + 1], *path = NULL;
	json_t *flag = NULL;
	struct pht_err perr;
	int64_t runs;
	int r, pr = PHT_OK;

	*permit = NULL;
	pht_err_clear(&perr);
	/*
	 * 0. a permit the train carries is verified and stored first, so that
	 * a later train can name it even if this one is refused (its refusal,
	 * if any, is reported after the halts)
	 */
	if (id != NULL && pht_trust_count(gov->authorities) > 0 &&
	    (env = pht_trainmsg_permit_envelope(msg)) != NULL) {
		if ((pr = open_permit(gov, env, strlen(env), &p, fp, &perr)) == PHT_OK) {
			if (strcmp(pht_permit_id(p), id) != 0)
				pr = pht_errf(&perr, PHT_ERR_DENIED, "the train names permit "
				    "%s but carries permit %s", id, pht_permit_id(p));
			else
				pr = store_permit(gov, env, strlen(env), p, fp, &perr);
		}
		pht_permit_free(p);
		p = NULL;
	}
	/* 1. the operator's halt */
	if (pht_station_gov_halted_cb(gov->dir)) {
		if ((path = state_path(gov->dir, "halted")) != NULL &&
		    read_state(path, PHT_GOV_STATE_MAX, &b, NULL) == PHT_OK)
			(void)pht_json_parse(pht_buf_str(b), pht_buf_len(b), "halted",
			    &flag, NULL);
		r = pht_errf(why, PHT_ERR_DENIED, "station is halted by %.64s since "
		    "%.20s%s%.256s",
		    json_string_value(json_object_get(flag, "by")) != NULL ?
		    json_string_value(json_object_get(flag, "by")) : "its operator",
		    json_string_value(json_object_get(flag, "time")) != NULL ?
		    json_string_value(json_object_get(flag, "time")) : "?",
		    json_string_value(json_object_get(flag, "reason")) != NULL ? ": " : "",
		    json_string_value(json_object_get(flag, "reason")) != NULL ?
		    json_string_value(json_object_get(flag, "reason")) : "");
		goto out;
	}
	/* 2. authority halts of everything or of the dataset */
	if ((r = check_halt_orders(gov, NULL, dataset, now, why)) != PHT_OK)
		goto out;
	/* 3. a permit at all */
	if (id == NULL) {
		r = pht_station_config_require_permit(gov->cfg) ?
		    pht_errf(why, PHT_ERR_DENIED, "no permit: station %s runs trains "
		    "only under a data permit", pht_station_config_id(gov->cfg)) : PHT_OK;
		goto out;
	}
	if (pht_trust_count(gov->authorities) == 0) {
		r = PHT_OK;
		goto out;
	}
	/* 4. the permit itself: the stored one (a later-issued one wins) */
	if (pr != PHT_OK) {
		if (why != NULL)
			*why = perr;
		r = pr;
		goto out;
	}
	if ((r = stored_permit(gov, id, &p, fp, why)) != PHT_OK)
		goto out;
	/* 5. valid now */
	if ((r = pht_permit_check_time(p, now, why)) != PHT_OK)
		goto out;
	/* 6. not revoked by its authority */
	if ((r = stored_revocations(gov, fp, &rv, NULL, why)) != PHT_OK)
		goto out;
	if (rv != NULL && pht_revocations_has(rv, id)) {
		r = pht_errf(why, PHT_ERR_DENIED, "permit %s was revoked (revocation "
		    "list seq %" PRId64 ")", id, pht_revocations_seq(rv));
		goto out;
	}
	/* 7. authority halts of the permit */
	if ((r = check_halt_orders(gov, id, dataset, now, why)) != PHT_OK)
		goto out;
	/* 8. what it covers */
	if ((r = pht_permit_check_train(p, signer_fp, pht_station_config_id(gov->cfg),
	    dataset, pht_trainmsg_code_sha256(msg), pht_trainmsg_round(msg),
	    pht_trainmsg_code_approval(msg), why)) != PHT_OK)
		goto out;
	/* 9. caps */
	runs = pht_station_gov_runs(gov, id);
	if (pht_permit_max_runs(p) > 0 && runs >= pht_permit_max_runs(p)) {
		r = pht_errf(why, PHT_ERR_DENIED, "permit %s: all %" PRId64 " runs "
		    "are used at this station", id, pht_permit_max_runs(p));
		goto out;
	}
	*permit = p;
	p = NULL; /* transferred */
	r = PHT_OK;
out:
	json_decref(flag);
	pht_buf_free(b);
	free(path);
	pht_revocations_free(rv);
	pht_permit_free(p);
	return r;
}

int
pht_station_gov_check_columns(const struct pht_permit *permit, const char *dataset,
    const char *columns_read, struct pht_err *why)
{
	char col[1024];
	const char *p = columns_read, *c;
	size_t n;

	while (*p != '\0') {
		c = strchr(p, ',');
		n = c != NULL ? (size_t)(c - p) : strlen(p);
		if (n >= sizeof(col))
			n = sizeof(col) - 1;
		memcpy(col, p, n);
		col[n] = '\0';
		if (strcmp(col, "...") == 0 && c == NULL)
			return pht_errf(why, PHT_ERR_DENIED, "permit %s: the train read "
			    "more columns than the runtime could list, so the permit "
			    "cannot be shown to cover them", pht_permit_id(permit));
		if (n > 0 && !pht_permit_allows_column(permit, dataset, col))
			return pht_errf(why, PHT_ERR_DENIED, "permit %s: the train read "
			    "column %.128s of dataset %.64s, which the permit does not "
			    "allow", pht_permit_id(permit), col, dataset);
		p += n + (c != NULL);
	}
	return PHT_OK;
}

/* ---- fetching from the node ---- */

static int
fetch_list(struct pht_station_gov *gov, struct pht_http *http, const char *base,
    const char *route, const char *member, int halts, int *refused,
    struct pht_err *err)
{
	char url[2048];
	long status = 0;
	json_t *resp = NULL, *v;
	size_t i;
	int r;

	if ((size_t)snprintf(url, sizeof(url), "%s%s", base, route) >= sizeof(url))
		return pht_errf(err, PHT_ERR_INVALID, "node URL too long");
	if ((r = pht_http_request_json(http, "GET", url, NULL, 0, &status, &resp,
	    err)) != PHT_OK)
		goto out;
	json_array_foreach(json_object_get(resp, member), i, v) {
		int rc;
		if (!json_is_string(v)) {
			if (refused != NULL)
				(*refused)++;
			continue;
		}
		rc = halts ? pht_station_gov_update_halt(gov, json_string_value(v),
		    json_string_length(v), NULL, NULL) :
		    pht_station_gov_update_revocations(gov, json_string_value(v),
		    json_string_length(v), NULL, NULL);
		if (rc != PHT_OK && refused != NULL)
			(*refused)++;
	}
out:
	json_decref(resp);
	return r;
}

int
pht_station_gov_fetch(struct pht_station_gov *gov, struct pht_http *http,
    const char *base, int *refused, struct pht_err *err)
{
	int r;

	if (refused != NULL)
		*refused = 0;
	if (pht_trust_count(gov->authorities) == 0)
		return PHT_OK;
	if ((r = fetch_list(gov, http, base, "/v1/revocations", "revocations", 0,
	    refused, err)) != PHT_OK)
		return r;
	return fetch_list(gov, http, base, "/v1/halts", "halts", 1, refused, err);
}
