/* train_derive_fixture.c — the generated dataset, the limits and the run helpers shared by the train_derive test's files. */
#include "tap.h"
#include "train_derive_fixture.h"

#include "pht_err.h"
#include "pht_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gen g;
struct pht_dataset *ds;
struct pht_limits lim;
struct pht_run_stats st;
struct pht_err run_err;
int64_t d2010;

json_t *
run_on(const struct pht_dataset *d, const char *body)
{
	char code[16384];
	json_t *out = NULL;

	/* the prelude's columns are the generator's */
	snprintf(code, sizeof(code), "return { name = 't', version = '1',\n"
	    "station = function(data, params, round)\n%s%s\nend,\n"
	    "combine = function() return {done = true, result = 0} end }\n",
	    d == ds ? PRELUDE : "", body);
	if (pht_train_run_station(code, strlen(code), "t.lua", d, NULL, 1, 1, &lim,
	    &out, &st, &run_err) != PHT_OK)
		return NULL;
	return out;
}

json_t *
run_body(const char *body)
{
	return run_on(ds, body);
}

double
num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

int
near(double got, double want)
{
	return fabs(got - want) <= 1e-9 * (fabs(want) > 1 ? fabs(want) : 1);
}

int
levels_are(const json_t *a, const char *const *want, size_t n)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(json_string_value(json_array_get(a, i)), want[i]) != 0)
			return 0;
	return 1;
}
