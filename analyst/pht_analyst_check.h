/* pht_analyst_check.h — a run's params checked before anything is sent: against the train's declaration and the dictionaries the stations publish. */
#ifndef PHT_ANALYST_CHECK_H
#define PHT_ANALYST_CHECK_H

#include <jansson.h>
#include <stddef.h>

struct pht_train_decl;

/*
 * What a check looks at and where it says what it found. Borrowed: the
 * caller keeps everything alive during the calls. say gets one line per
 * finding: problem 1 for something that would make a station refuse or
 * fail the train (the run should not be sent), 0 for a note (a station
 * whose columns cannot be checked here).
 */
struct pht_analyst_check {
	const struct pht_train_decl *decl;  /* NULL: the train declares nothing */
	const json_t *params;               /* the first round's params (NULL: {}) */
	const char *const *datasets;        /* the run's datasets, in order (may be none) */
	size_t ndatasets;
	void (*say)(void *arg, int problem, const char *line);
	void *arg;
};

/*
 * The params against the declaration alone (pht_train_decl_check_params
 * as the analyst gives them: unknown, missing, wrong type, a param the
 * train's combine sets). Returns the number of problems said (0 or 1).
 */
size_t pht_analyst_check_params(const struct pht_analyst_check *c);

/*
 * The columns the params name against the dictionary station would run
 * the train on: dicts is what the station publishes (an object from
 * dataset name to data dictionary, as GET /v1/stations lists it; NULL or
 * empty when it published none). The dataset is picked as the station
 * picks it: the first of c->datasets it holds, or its only dataset when
 * the run names none. Returns the number of problems said (0 or 1); a
 * station that published no dictionary is a note.
 */
size_t pht_analyst_check_station(const struct pht_analyst_check *c,
    const char *station, const json_t *dicts);

/*
 * pht_analyst_check_station for each of stations[0..n) in list (the
 * "stations" array of GET /v1/stations). A station the node does not
 * list is a note. Returns the number of problems said.
 */
size_t pht_analyst_check_stations(const struct pht_analyst_check *c,
    const json_t *list, const char *const *stations, size_t n);

#endif
