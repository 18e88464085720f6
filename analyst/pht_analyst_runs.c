/* pht_analyst_runs.c — run folders: saving a run that stopped waiting and reading it back. */
#include "pht_analyst_runs.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_hash.h"
#include "pht_id.h"
#include "pht_json.h"
#include "pht_limits.h"
#include "pht_time.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUNS_JSON_MAX ((size_t)64 << 20)

int
pht_analyst_runs_path(const char *run, char **out, struct pht_err *err)
{
	const char *base = getenv("PHT_RUNS"), *home;
	char *b = NULL;

	*out = NULL;
	if (run == NULL || *run == '\0')
		return pht_errf(err, PHT_ERR_INVALID, "no run given");
	if (strchr(run, '/') != NULL) {
		if ((*out = strdup(run)) == NULL)
			return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		return PHT_OK;
	}
	if (!pht_id_ok(run))
		return pht_errf(err, PHT_ERR_INVALID, "run \"%.40s\": not a run id (or "
		    "give its folder as a path)", run);
	if (base == NULL || *base == '\0') {
		if ((home = getenv("HOME")) == NULL || *home == '\0')
			return pht_errf(err, PHT_ERR_INVALID, "no HOME and no PHT_RUNS: "
			    "give the run folder as a path");
		if ((b = pht_path_join(home, ".pht/runs")) == NULL)
			return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		base = b;
	}
	*out = pht_path_join(base, run);
	free(b);
	return *out != NULL ? PHT_OK : pht_errf(err, PHT_ERR_NOMEM, "out of memory");
}

/* path made absolute into obj[name]; a missing file is an error. */
static int
set_abs(json_t *obj, const char *name, const char *path, struct pht_err *err)
{
	char buf[PATH_MAX];

	if (path == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "run folder: no %s", name);
	if (realpath(path, buf) == NULL)
		return pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	if (json_object_set_new(obj, name, json_string(buf)) != 0)
		return pht_errf(err, PHT_ERR_INVALID, "%s: not valid UTF-8", path);
	return PHT_OK;
}

static int
write_json(const char *dir, const char *name, const json_t *v, struct pht_err *err)
{
	char *text = NULL, *path = NULL;
	size_t len;
	int r;

	if ((text = pht_json_dump(v)) == NULL || (path = pht_path_join(dir, name)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	len = strlen(text);
	r = pht_file_write_atomic(path, text, len, 0600, err);
out:
	free(text);
	free(path);
	return r;
}

static int
read_file(const char *dir, const char *name, size_t max, int opt, struct pht_buf **out,
    struct pht_err *err)
{
	char *path = pht_path_join(dir, name);
	int r;

	*out = NULL;
	if (path == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (opt && access(path, F_OK) != 0 && errno == ENOENT)
		r = PHT_OK;
	else
		r = pht_file_read(path, max, out, err);
	free(path);
	return r;
}

/* An existing run.json in dir must be the same run's. */
static int
same_run(const char *dir, const char *run, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	json_t *old = NULL;
	const char *id;
	int r;

	if ((r = read_file(dir, "run.json", RUNS_JSON_MAX, 1, &b, err)) != PHT_OK ||
	    b == NULL)
		return r;
	if ((r = pht_json_parse(pht_buf_str(b), pht_buf_len(b), "run.json", &old, err)) ==
	    PHT_OK) {
		id = json_string_value(json_object_get(old, "run"));
		if (id == NULL || strcmp(id, run) != 0)
			r = pht_errf(err, PHT_ERR_DENIED, "%s holds another run (%s)", dir,
			    id != NULL ? id : "?");
	}
	json_decref(old);
	pht_buf_free(b);
	return r;
}

/* The spec's settings into st (strings, lists and numbers). */
static int
put_spec(json_t *st, const struct pht_analyst_run_spec *spec, struct pht_err *err)
{
	char sha[PHT_SHA256_HEX_LEN + 1];
	int r;

	if ((r = pht_sha256_hex(spec->code, spec->code_len, sha, err)) != PHT_OK)
		return r;
	if ((r = pht_json_set_strings(st, "run", "datasets", spec->datasets,
	    spec->ndatasets, err)) != PHT_OK)
		return r;
	if (json_object_set_new(st, "code_sha256", json_string(sha)) != 0 ||
	    json_object_set_new(st, "min_stations",
	    json_integer((json_int_t)spec->min_stations)) != 0 ||
	    json_object_set_new(st, "max_rounds", json_integer(spec->max_rounds)) != 0 ||
	    json_object_set_new(st, "expires", json_integer(spec->expires)) != 0 ||
	    json_object_set_new(st, "timeout", json_integer(spec->round_timeout)) != 0)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((spec->name != NULL && json_object_set_new(st, "name",
	    json_string(spec->name)) != 0) ||
	    (spec->permit != NULL && json_object_set_new(st, "permit",
	    json_string(spec->permit)) != 0) ||
	    (spec->permit_envelope != NULL && json_object_set_new(st, "permit_envelope",
	    json_string(spec->permit_envelope)) != 0) ||
	    (spec->code_approval != NULL && json_object_set_new(st, "code_approval",
	    json_string(spec->code_approval)) != 0))
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	return PHT_OK;
}

int
pht_analyst_runs_save(const char *dir, const struct pht_analyst_run_spec *spec,
    const struct pht_analyst_runs_files *f, const json_t *report, struct pht_err *err)
{
	const json_t *ids = json_object_get(report, "train_ids");
	const char *run = json_string_value(json_array_get(ids, 0));
	char now[21], *code_path = NULL;
	json_t *st = NULL;
	int r;

	if (!json_is_object(json_object_get(report, "waiting")) || run == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "the run is not waiting for results");
	pht_time_format(pht_time_now(), now);
	if ((st = json_pack("{s:s, s:i, s:s, s:s, s:O, s:o, s:s}", "kind", "pht-run",
	    "version", 1, "run", run, "node", spec->node_url, "waiting",
	    json_object_get(report, "waiting"), "report", json_deep_copy(report), "saved",
	    now)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_object_del(json_object_get(st, "report"), "waiting");
	if ((r = set_abs(st, "cert", f->cert, err)) != PHT_OK ||
	    (r = set_abs(st, "key", f->key, err)) != PHT_OK ||
	    (r = set_abs(st, "ca", f->ca, err)) != PHT_OK ||
	    (r = set_abs(st, "sign_key", f->sign_key, err)) != PHT_OK ||
	    (r = set_abs(st, "seal_key", f->seal_key, err)) != PHT_OK ||
	    (r = set_abs(st, "station_keys", f->station_keys, err)) != PHT_OK ||
	    (r = put_spec(st, spec, err)) != PHT_OK)
		goto out;
	if (f->train != NULL && json_object_set_new(st, "train", json_string(f->train)) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_mkdir_p(dir, 0700, err)) != PHT_OK ||
	    (r = same_run(dir, run, err)) != PHT_OK)
		goto out;
	if ((code_path = pht_path_join(dir, "train.lua")) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* the code first: a run.json always has its train.lua beside it */
	if ((r = pht_file_write_atomic(code_path, spec->code, spec->code_len, 0600,
	    err)) != PHT_OK)
		goto out;
	r = write_json(dir, "run.json", st, err);
out:
	free(code_path);
	json_decref(st);
	return r;
}

int
pht_analyst_runs_done(const char *dir, const json_t *result, struct pht_err *err)
{
	return write_json(dir, "result.json", result, err);
}

/* A string array member as a NULL-free array of borrowed strings. */
static int
get_strings(const json_t *obj, const char *name, const char ***out, size_t *n,
    struct pht_err *err)
{
	json_t *a, *v;
	size_t i;
	int r;

	if ((r = pht_json_get_array(obj, name, "run.json", &a, err)) != PHT_OK)
		return r;
	if ((*out = calloc(json_array_size(a) + 1, sizeof(**out))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	json_array_foreach(a, i, v) {
		if (((*out)[i] = json_string_value(v)) == NULL)
			return pht_errf(err, PHT_ERR_MALFORMED, "run.json: field %s: entry "
			    "%zu is not a string", name, i);
	}
	*n = json_array_size(a);
	return PHT_OK;
}

/* run.json's fields into run. */
static int
parse_state(struct pht_analyst_saved_run *run, struct pht_err *err)
{
	static const char *const known[] = {"kind", "version", "run", "node", "cert",
	    "key", "ca", "sign_key", "seal_key", "station_keys", "train", "name",
	    "code_sha256", "datasets", "permit", "permit_envelope", "code_approval",
	    "min_stations", "max_rounds", "expires", "timeout", "waiting", "report",
	    "saved", NULL};
	struct pht_analyst_runs_files *f = &run->files;
	const json_t *st = run->root;
	json_t *w, *rep;
	int64_t v, round;
	int r;

	if (!json_is_object(st))
		return pht_errf(err, PHT_ERR_MALFORMED, "run.json: not a JSON object");
	if ((r = pht_json_only_known(st, "run.json", known, err)) != PHT_OK ||
	    (r = pht_json_field_kind(st, "run.json", "pht-run", err)) != PHT_OK ||
	    (r = pht_json_field_int(st, "run.json", "version", 0, 1, 1, &v, err)) != PHT_OK ||
	    (r = pht_json_get_str(st, "run", "run.json", &run->run, err)) != PHT_OK ||
	    (r = pht_json_get_str(st, "node", "run.json", &f->node, err)) != PHT_OK ||
	    (r = pht_json_get_str(st, "cert", "run.json", &f->cert, err)) != PHT_OK ||
	    (r = pht_json_get_str(st, "key", "run.json", &f->key, err)) != PHT_OK ||
	    (r = pht_json_get_str(st, "ca", "run.json", &f->ca, err)) != PHT_OK ||
	    (r = pht_json_get_str(st, "sign_key", "run.json", &f->sign_key, err)) != PHT_OK ||
	    (r = pht_json_get_str(st, "seal_key", "run.json", &f->seal_key, err)) != PHT_OK ||
	    (r = pht_json_get_str(st, "station_keys", "run.json", &f->station_keys,
	    err)) != PHT_OK ||
	    (r = pht_json_get_str_opt(st, "train", "run.json", &f->train, err)) != PHT_OK ||
	    (r = pht_json_get_str_opt(st, "name", "run.json", &run->name, err)) != PHT_OK ||
	    (r = pht_json_get_str(st, "code_sha256", "run.json", &run->code_sha256,
	    err)) != PHT_OK ||
	    (r = pht_json_get_str_opt(st, "permit", "run.json", &run->permit, err)) !=
	    PHT_OK ||
	    (r = pht_json_get_str_opt(st, "permit_envelope", "run.json",
	    &run->permit_envelope, err)) != PHT_OK ||
	    (r = pht_json_get_str_opt(st, "code_approval", "run.json",
	    &run->code_approval, err)) != PHT_OK ||
	    (r = get_strings(st, "datasets", &run->datasets, &run->ndatasets, err)) !=
	    PHT_OK)
		return r;
	if ((r = pht_json_field_int(st, "run.json", "min_stations", 0, 0, 1000000, &v,
	    err)) != PHT_OK)
		return r;
	run->min_stations = (size_t)v;
	if ((r = pht_json_field_int(st, "run.json", "max_rounds", 0, 0, 100000, &v,
	    err)) != PHT_OK)
		return r;
	run->max_rounds = (int)v;
	if ((r = pht_json_field_int(st, "run.json", "expires", 0, 0, INT32_MAX,
	    &run->expires, err)) != PHT_OK ||
	    (r = pht_json_field_int(st, "run.json", "timeout", 0, 0, INT32_MAX,
	    &run->timeout, err)) != PHT_OK ||
	    (r = pht_json_get_object(st, "waiting", "run.json", &w, err)) != PHT_OK ||
	    (r = pht_json_get_object(st, "report", "run.json", &rep, err)) != PHT_OK)
		return r;
	if ((r = pht_json_field_int(w, "run.json waiting", "round", 0, 1, 100000, &round,
	    err)) != PHT_OK ||
	    (r = pht_json_get_str(w, "train", "run.json waiting", &run->resume.train_id,
	    err)) != PHT_OK ||
	    (r = pht_json_field_int(w, "run.json waiting", "expires", 0, 0, INT64_MAX / 2,
	    &run->resume.expires, err)) != PHT_OK ||
	    (r = get_strings(w, "stations", &run->stations, &run->nstations, err)) !=
	    PHT_OK)
		return r;
	if (!pht_id_ok(run->resume.train_id) || !pht_id_ok(run->run))
		return pht_errf(err, PHT_ERR_MALFORMED, "run.json: a run or train id that "
		    "is not an id");
	if (!json_is_object(run->params = json_object_get(w, "params")))
		return pht_errf(err, PHT_ERR_MALFORMED, "run.json: waiting.params: not an "
		    "object");
	if (run->nstations == 0)
		return pht_errf(err, PHT_ERR_MALFORMED, "run.json: waiting.stations: empty");
	run->resume.round = (int)round;
	run->resume.report = rep;
	return PHT_OK;
}

int
pht_analyst_runs_load(const char *dir, struct pht_analyst_saved_run *run,
    struct pht_err *err)
{
	struct pht_buf *b = NULL, *res = NULL;
	char sha[PHT_SHA256_HEX_LEN + 1];
	int r;

	memset(run, 0, sizeof(*run));
	if (access(dir, F_OK) != 0)
		return pht_errf(err, PHT_ERR_NOT_FOUND, "no run folder at %s", dir);
	if ((r = read_file(dir, "run.json", RUNS_JSON_MAX, 0, &b, err)) != PHT_OK ||
	    (r = pht_json_parse(pht_buf_str(b), pht_buf_len(b), "run.json", &run->root,
	    err)) != PHT_OK ||
	    (r = parse_state(run, err)) != PHT_OK ||
	    (r = read_file(dir, "train.lua", PHT_TRAIN_CODE_MAX, 0, &run->code, err)) !=
	    PHT_OK ||
	    (r = pht_sha256_hex(pht_buf_data(run->code), pht_buf_len(run->code), sha,
	    err)) != PHT_OK)
		goto out;
	if (strcmp(sha, run->code_sha256) != 0) {
		r = pht_errf(err, PHT_ERR_HASH_MISMATCH, "%s/train.lua: its SHA-256 is not "
		    "the run's code_sha256 (the file was changed)", dir);
		goto out;
	}
	if ((r = read_file(dir, "result.json", RUNS_JSON_MAX, 1, &res, err)) != PHT_OK)
		goto out;
	if (res != NULL)
		r = pht_json_parse(pht_buf_str(res), pht_buf_len(res), "result.json",
		    &run->result, err);
out:
	pht_buf_free(b);
	pht_buf_free(res);
	return r;
}

void
pht_analyst_runs_clear(struct pht_analyst_saved_run *run)
{
	if (run == NULL)
		return;
	free(run->datasets);
	free(run->stations);
	pht_buf_free(run->code);
	json_decref(run->root);
	json_decref(run->result);
	memset(run, 0, sizeof(*run));
}
