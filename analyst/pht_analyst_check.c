/* pht_analyst_check.c — a run's params checked against the train's declaration and the stations' published dictionaries, before anything is sent. */
#include "pht_analyst_check.h"
#include "pht_err.h"
#include "pht_train_decl.h"

#include <stdio.h>
#include <string.h>

static void
say(const struct pht_analyst_check *c, int problem, const char *line)
{
	if (c->say != NULL)
		c->say(c->arg, problem, line);
}

size_t
pht_analyst_check_params(const struct pht_analyst_check *c)
{
	struct pht_err err;

	pht_err_clear(&err);
	if (pht_train_decl_check_params(c->decl, c->params, PHT_TRAIN_DECL_ANALYST,
	    &err) == PHT_OK)
		return 0;
	say(c, 1, err.msg);
	return 1;
}

size_t
pht_analyst_check_station(const struct pht_analyst_check *c, const char *station,
    const json_t *dicts)
{
	const json_t *dict = NULL;
	struct pht_err err;
	char line[PHT_ERR_DETAIL_MAX + 128];
	size_t i;

	if (c->decl == NULL)
		return 0;
	if (!json_is_object(dicts) || json_object_size(dicts) == 0) {
		snprintf(line, sizeof(line), "station %s published no data dictionary: "
		    "its columns are checked when the train arrives there", station);
		say(c, 0, line);
		return 0;
	}
	for (i = 0; i < c->ndatasets && dict == NULL; i++)
		dict = json_object_get(dicts, c->datasets[i]);
	if (c->ndatasets == 0 && json_object_size(dicts) == 1)
		dict = json_object_iter_value(json_object_iter((json_t *)dicts));
	if (dict == NULL) {
		if (c->ndatasets == 0)
			snprintf(line, sizeof(line), "station %s holds %zu datasets: name the "
			    "one to run on (--datasets)", station, json_object_size(dicts));
		else
			snprintf(line, sizeof(line), "station %s holds none of the datasets "
			    "%s%s: it would refuse the train", station, c->datasets[0],
			    c->ndatasets > 1 ? ", ..." : "");
		say(c, 1, line);
		return 1;
	}
	pht_err_clear(&err);
	if (pht_train_decl_check_columns(c->decl, c->params, dict, station,
	    PHT_TRAIN_DECL_ANALYST, &err) == PHT_OK)
		return 0;
	say(c, 1, err.msg);
	return 1;
}

size_t
pht_analyst_check_stations(const struct pht_analyst_check *c, const json_t *list,
    const char *const *stations, size_t n)
{
	const json_t *st, *found;
	const char *id;
	char line[300];
	size_t i, k, problems = 0;

	if (c->decl == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		found = NULL;
		json_array_foreach(list, k, st)
			if ((id = json_string_value(json_object_get(st, "id"))) != NULL &&
			    strcmp(id, stations[i]) == 0)
				found = st;
		if (found == NULL) {
			snprintf(line, sizeof(line), "station %.200s is not listed by the node: "
			    "its columns are checked when the train arrives there", stations[i]);
			say(c, 0, line);
			continue;
		}
		problems += pht_analyst_check_station(c, stations[i],
		    json_object_get(found, "dictionaries"));
	}
	return problems;
}
