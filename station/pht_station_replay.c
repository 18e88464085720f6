/* pht_station_replay.c — a released run re-run from its audit entries on the station's data (pht audit replay). */
#include "pht_station_exec.h"
#include "pht_audit.h"
#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_hash.h"
#include "pht_json.h"
#include "pht_station_optout.h"
#include "pht_station_round.h"
#include "pht_train.h"
#include "pht_trainmsg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
