/* pht_analyst_rounds.c — the one round loop of pht sim and pht run: transport, then combine, until done. */
#include "pht_analyst_rounds.h"
#include "pht_err.h"
#include "pht_limits.h"
#include "pht_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The released outputs of the active stations as combine's results, in
 * their order; next[0..*nok) gets the stations that released; *entry gets
 * the round's participation entry (pht_analyst_rounds_end) and names the
 * others with their reasons (a comma list, cut at its size).
 */
static json_t *
released(const struct pht_analyst_rounds *s, int round, const char *const *active,
    size_t nactive, json_t *const *outputs, const char **next, size_t *nok,
    int *left, json_t **entry, char *names, size_t namesz)
{
	const struct pht_analyst_transport *t = s->transport;
	json_t *results = json_array(), *inc = json_array(), *miss = json_array();
	const char *why;
	char why_left[64];
	size_t i, l;
	int bad = results == NULL || inc == NULL || miss == NULL;

	*nok = 0;
	*entry = NULL;
	names[0] = '\0';
	for (i = 0; !bad && i < nactive; i++) {
		if (outputs[i] != NULL) {
			next[(*nok)++] = active[i];
			bad = json_array_append_new(results, json_pack("{s:s, s:O}",
			    "station", active[i], "output", outputs[i])) != 0 ||
			    json_array_append_new(inc, json_string(active[i])) != 0;
			continue;
		}
		why = t->reason != NULL ? t->reason(t->arg, round, active[i]) : NULL;
		if (why == NULL || why[0] == '\0')
			why = "no result";
		bad = json_array_append_new(miss, json_pack("{s:s, s:s}", "station",
		    active[i], "reason", why)) != 0;
		l = strlen(names);
		snprintf(names + l, namesz - l, "%s%s (%s)", l ? ", " : "", active[i], why);
	}
	/* the stations an earlier round lost, and since when */
	for (i = 0; !bad && i < s->nstations; i++) {
		for (l = 0; l < nactive && strcmp(active[l], s->stations[i]) != 0; l++)
			;
		if (l < nactive) {
			if (outputs[l] == NULL && left[i] == 0)
				left[i] = round;
			continue;
		}
		snprintf(why_left, sizeof(why_left), "left the run in round %d", left[i]);
		bad = json_array_append_new(miss, json_pack("{s:s, s:s}", "station",
		    s->stations[i], "reason", why_left)) != 0;
	}
	if (!bad && (*entry = json_pack("{s:i, s:O, s:O}", "round", round, "included",
	    inc, "missing", miss)) == NULL)
		bad = 1;
	json_decref(inc);
	json_decref(miss);
	if (bad) {
		json_decref(results);
		json_decref(*entry);
		*entry = NULL;
		return NULL;
	}
	return results;
}

int
pht_analyst_rounds_run(const struct pht_analyst_rounds *s, json_t **result,
    struct pht_analyst_rounds_end *end, struct pht_err *err)
{
	const struct pht_analyst_transport *t = s->transport;
	struct pht_limits lim;
	struct pht_run_stats stats;
	const char **active = NULL, **next = NULL;
	json_t **outputs = NULL, *params = NULL, *results = NULL, *out = NULL, *entry;
	size_t nactive, nok, need, i;
	int *left = NULL, round, max_rounds = s->max_rounds > 0 ? s->max_rounds : 50, r;
	char names[2048], hint[64];

	*result = NULL;
	memset(end, 0, sizeof(*end));
	end->participation = json_array();
	json_array_foreach(s->participation, i, entry)
		if (end->participation != NULL && json_integer_value(json_object_get(entry,
		    "round")) < s->first_round)
			json_array_append_new(end->participation, json_deep_copy(entry));
	if (s->nstations == 0)
		return pht_errf(err, PHT_ERR_INVALID, "no stations");
	if (s->limits != NULL)
		lim = *s->limits;
	else
		pht_limits_default(&lim);
	params = s->params != NULL ? json_deep_copy(s->params) : json_object();
	active = calloc(s->nstations, sizeof(*active));
	next = calloc(s->nstations, sizeof(*next));
	outputs = calloc(s->nstations, sizeof(*outputs));
	left = calloc(s->nstations, sizeof(*left));
	if (params == NULL || active == NULL || next == NULL || outputs == NULL ||
	    left == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(active, s->stations, s->nstations * sizeof(*active));
	nactive = s->nstations;
	need = s->min_stations > 0 ? s->min_stations : s->nstations;
	for (round = s->first_round > 1 ? s->first_round : 1; round <= max_rounds;
	    round++) {
		end->rounds = round;
		for (i = 0; i < s->nstations; i++) {
			json_decref(outputs[i]);
			outputs[i] = NULL;
		}
		if ((r = t->round(t->arg, round, params, active, nactive, outputs, err)) !=
		    PHT_OK)
			goto out;
		if ((results = released(s, round, active, nactive, outputs, next, &nok,
		    left, &entry, names, sizeof(names))) == NULL ||
		    json_array_append_new(end->participation, entry) != 0) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (nok < need || nok == 0) {
			hint[0] = '\0';
			if (nok > 0)
				snprintf(hint, sizeof(hint), " (--min-stations %zu goes on "
				    "without the others)", nok);
			r = pht_errf(err, PHT_ERR_POLICY, "round %d: %zu of %zu stations "
			    "released a result, %zu needed%s; no result from: %s", round,
			    nok, nactive, need > 0 ? need : 1, hint, names);
			goto out;
		}
		r = pht_train_run_combine(s->code, s->code_len, s->chunkname, results, params,
		    round, s->seed, &lim, &out, &stats, err);
		json_decref(results);
		results = NULL;
		if (r != PHT_OK) {
			pht_err_prefix(err, "round %d: combine", round);
			goto out;
		}
		if (s->combined != NULL)
			s->combined(s->arg, round, &stats);
		/* combine returns a result when done, params otherwise (pht_train.h) */
		if (json_is_true(json_object_get(out, "done"))) {
			*result = json_incref(json_object_get(out, "result"));
			if (*result == NULL)
				*result = json_null();
			if (json_is_object(*result) && end->participation != NULL &&
			    json_object_set(*result, "participation",
			    end->participation) != 0) {
				json_decref(*result);
				*result = NULL;
				r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
				goto out;
			}
			r = PHT_OK;
			goto out;
		}
		json_decref(params);
		params = json_incref(json_object_get(out, "params"));
		json_decref(out);
		out = NULL;
		if (!json_is_object(params)) {
			r = pht_errf(err, PHT_ERR_TRAIN, "round %d: combine returned neither "
			    "a result nor params", round);
			goto out;
		}
		memcpy(active, next, nok * sizeof(*active));
		nactive = nok;
		if (nactive < need)
			need = nactive;
	}
	end->ran_out = 1;
	r = pht_errf(err, PHT_ERR_LIMIT, "the train did not finish within %d rounds",
	    max_rounds);
out:
	for (i = 0; outputs != NULL && i < s->nstations; i++)
		json_decref(outputs[i]);
	free(outputs);
	free(left);
	free(active);
	free(next);
	json_decref(params);
	json_decref(results);
	json_decref(out);
	return r;
}
