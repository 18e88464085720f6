/* test_analyst_check.c — the checks pht run makes before sending (analyst/pht_analyst_check.c): which dictionary a station is checked against, what is a problem and what a note (TAP). */
#include "tap.h"

#include "pht_analyst_check.h"
#include "pht_err.h"
#include "pht_train_decl.h"

#include <stdio.h>
#include <string.h>

static char said[4096];
static int nsaid;

static void
say(void *arg, int problem, const char *line)
{
	size_t n = strlen(said);

	(void)arg;
	snprintf(said + n, sizeof(said) - n, "%s%s%s", nsaid++ ? "|" : "", problem ? "" : "note: ",
	    line);
}

static json_t *
js(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (v == NULL)
		printf("Bail out! bad test JSON: %s\n", text);
	return v;
}

#define MEL "{\"dataset\": \"melanoma\", \"columns\": [{\"name\": \"stage\", \"type\": \"category\"}]}"
#define REG "{\"dataset\": \"reg\", \"columns\": [{\"name\": \"stagee\", \"type\": \"category\"}]}"

/* Checks one station's dicts with the given datasets; returns the problems, fills said. */
static size_t
station(struct pht_analyst_check *c, const char *dicts, const char *const *ds, size_t nds)
{
	json_t *d = dicts != NULL ? js(dicts) : NULL;
	size_t n;

	said[0] = '\0';
	nsaid = 0;
	c->datasets = ds;
	c->ndatasets = nds;
	n = pht_analyst_check_station(c, "hospital_02", d);
	json_decref(d);
	return n;
}

int
main(void)
{
	json_t *meta = js("{\"name\": \"count\", \"version\": \"1\", \"params\": ["
	    "{\"name\": \"by\", \"type\": \"column\"}]}");
	json_t *params = js("{\"by\": \"stagee\"}"), *list;
	const char *mel[] = {"melanoma"}, *both[] = {"other", "reg", "melanoma"}, *none[] = {"x", "y"};
	const char *stations[] = {"hospital_02", "hospital_09"};
	struct pht_train_decl *decl = NULL;
	struct pht_analyst_check c;
	struct pht_err err;

	if (pht_train_decl_parse(meta, &decl, &err) != PHT_OK || decl == NULL) {
		printf("Bail out! the declaration does not parse\n");
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.decl = decl;
	c.params = params;
	c.say = say;

	tap_ok(station(&c, NULL, NULL, 0) == 0 && strcmp(said, "note: station hospital_02 published no "
	    "data dictionary: its columns are checked when the train arrives there") == 0,
	    "no dictionary published: a note, not a problem (%s)", said);
	tap_ok(station(&c, "{\"melanoma\": " MEL "}", NULL, 0) == 1 &&
	    strcmp(said, "by: column \"stagee\" is not in dataset melanoma at hospital_02; did you mean "
	    "\"stage\"?") == 0, "its only dataset when the run names none (%s)", said);
	tap_ok(station(&c, "{\"melanoma\": " MEL ", \"reg\": " REG "}", NULL, 0) == 1 &&
	    strcmp(said, "station hospital_02 holds 2 datasets: name the one to run on (--datasets)") == 0,
	    "two datasets and none named: a problem, as the station refuses (%s)", said);
	tap_ok(station(&c, "{\"melanoma\": " MEL ", \"reg\": " REG "}", mel, 1) == 1 &&
	    strstr(said, "dataset melanoma at hospital_02") != NULL, "the dataset named (%s)", said);
	tap_ok(station(&c, "{\"melanoma\": " MEL ", \"reg\": " REG "}", both, 3) == 0 && said[0] == '\0',
	    "the first of the run's datasets the station holds (reg has stagee)");
	tap_ok(station(&c, "{\"melanoma\": " MEL "}", none, 2) == 1 &&
	    strcmp(said, "station hospital_02 holds none of the datasets x, ...: it would refuse the "
	    "train") == 0, "none of the run's datasets (%s)", said);

	list = js("[{\"id\": \"hospital_02\", \"dictionaries\": {\"melanoma\": " MEL "}}, {\"id\": \"h3\"}]");
	said[0] = '\0';
	nsaid = 0;
	c.datasets = NULL;
	c.ndatasets = 0;
	tap_ok(pht_analyst_check_stations(&c, list, stations, 2) == 1 &&
	    strstr(said, "at hospital_02; did you mean") != NULL &&
	    strstr(said, "note: station hospital_09 is not listed by the node") != NULL,
	    "each target station from the node's list; one not listed is a note (%s)", said);
	said[0] = '\0';
	nsaid = 0;
	tap_ok(pht_analyst_check_params(&c) == 0 && said[0] == '\0', "the params fit the declaration");
	json_object_set_new(params, "secure", json_true());
	said[0] = '\0';
	nsaid = 0;
	tap_ok(pht_analyst_check_params(&c) == 1 && strcmp(said, "unknown param \"secure\"; count takes by") == 0,
	    "an unknown param is a problem (%s)", said);
	c.decl = NULL;
	said[0] = '\0';
	tap_ok(pht_analyst_check_params(&c) == 0 && pht_analyst_check_stations(&c, list, stations, 2) == 0 &&
	    said[0] == '\0', "a train that declares nothing: nothing checked, nothing said");

	json_decref(list);
	json_decref(params);
	json_decref(meta);
	pht_train_decl_free(decl);
	return tap_done();
}
