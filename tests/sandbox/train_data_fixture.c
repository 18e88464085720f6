/* train_data_fixture.c — the generated dataset, the limits and the run helpers shared by the train_data test's files. */
#include "tap.h"
#include "train_data_fixture.h"

#include "pht_err.h"
#include "pht_json.h"
#include "pht_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gen g;
struct pht_dataset *ds;
struct pht_limits lim;
struct pht_run_stats st;
struct pht_err run_err;

/* Runs station() whose body is given; returns the output or NULL (run_err set). */
json_t *
run_body(const char *body, uint64_t seed)
{
	char code[8192];
	json_t *out = NULL;

	snprintf(code, sizeof(code), "return { name = 't', version = '1',\n"
	    "station = function(data, params, round)\n%s\nend,\n"
	    "combine = function() return {done = true, result = 0} end }\n", body);
	if (pht_train_run_station(code, strlen(code), "t.lua", ds, NULL, 1, seed, &lim,
	    &out, &st, &run_err) != PHT_OK) {
		tap_diag("train failed: %s", run_err.msg);
		return NULL;
	}
	return out;
}

int
near(double got, double want)
{
	return fabs(got - want) <= 1e-12 * (fabs(want) > 1 ? fabs(want) : 1);
}

/* Variances: relative error at most 1e-12 (the exact figure may be far below 1). */
int
var_near(double got, double want)
{
	return fabs(got - want) <= 1e-12 * fabs(want);
}

/* Sample variance of the n values x whose miss flag is 0, by two passes in long double. */
double
naive_var(const double *x, const int *miss, size_t n)
{
	long double s = 0, m, d, ss = 0;
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (miss == NULL || !miss[i]) {
			s += x[i];
			c++;
		}
	m = s / (long double)c;
	for (i = 0; i < n; i++)
		if (miss == NULL || !miss[i]) {
			d = (long double)x[i] - m;
			ss += d * d;
		}
	return (double)(ss / (long double)(c - 1));
}

double
num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "(none)";
}

void
date_str(int64_t days, char out[16])
{
	int64_t y;
	unsigned m, d;

	pht_civil_from_days(days, &y, &m, &d);
	snprintf(out, 16, "%04lld-%02u-%02u", (long long)y, m, d);
}

const int few_smoker[FEW_N] = {0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0};
const int few_stage[FEW_N] = {1, 2, 1, 2, 3, 3, 1, 4, 2, 1, 2};

/* Runs body over the small dataset. */
json_t *
run_few(const char *body)
{
	static const char dict[] = "{\"dataset\":\"few\",\"columns\":["
	    "{\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"age\",\"type\":\"number\"},"
	    "{\"name\":\"smoker\",\"type\":\"boolean\"},{\"name\":\"stage\",\"type\":\"integer\"}]}";
	struct pht_dataset *few = NULL, *saved = ds;
	char csv[1024];
	size_t i, len;
	json_t *o;

	len = (size_t)snprintf(csv, sizeof(csv), "id,age,smoker,stage\n");
	for (i = 0; i < FEW_N; i++)
		len += (size_t)snprintf(csv + len, sizeof(csv) - len, "%zu,%s,%d,%d\n", i + 1,
		    i == FEW_AGE_ROW ? "42.5" : "NA", few_smoker[i], few_stage[i]);
	if (pht_dataset_load_mem(csv, len, dict, strlen(dict), "few.csv", &few, &run_err) != PHT_OK) {
		tap_diag("the small dataset does not load: %s", run_err.msg);
		return NULL;
	}
	ds = few;
	o = run_body(body, 1);
	ds = saved;
	pht_dataset_free(few);
	return o;
}
