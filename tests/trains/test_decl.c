/* test_decl.c — declared params (trains/pht_train_decl.c): the parser, the checks of params and columns, the suggestion, describe's text (TAP). */
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_train_decl.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *DICT =
    "{\"dataset\": \"melanoma\", \"columns\": ["
    "{\"name\": \"pid\", \"type\": \"integer\", \"role\": \"identifier\"},"
    "{\"name\": \"age\", \"type\": \"integer\"},"
    "{\"name\": \"stage\", \"type\": \"category\", \"levels\": [\"I\", \"II\"]},"
    "{\"name\": \"os_days\", \"type\": \"number\"},"
    "{\"name\": \"dead\", \"type\": \"boolean\"},"
    "{\"name\": \"dx\", \"type\": \"date\"}]}";

static const char *META =
    "{\"name\": \"demo\", \"version\": \"1.0.0\", \"releases\": \"counts\", \"params\": ["
    "{\"name\": \"by\", \"type\": \"column\", \"column_types\": [\"category\", \"boolean\", \"integer\"],"
    " \"doc\": \"counts per value\"},"
    "{\"name\": \"time\", \"type\": \"column\", \"required\": true, \"column_types\": [\"number\", \"integer\"]},"
    "{\"name\": \"covariates\", \"type\": \"columns\", \"default\": [\"age\"]},"
    "{\"name\": \"hist\", \"type\": \"column map\", \"column_types\": [\"number\"]},"
    "{\"name\": \"ties\", \"type\": \"string\", \"values\": [\"efron\", \"breslow\"], \"default\": \"efron\"},"
    "{\"name\": \"max_iter\", \"type\": \"integer\", \"min\": 1, \"max\": 50},"
    "{\"name\": \"q\", \"type\": \"numbers\", \"min\": 0, \"max\": 1},"
    "{\"name\": \"code\", \"type\": \"number|string\"},"
    "{\"name\": \"pfs\", \"type\": \"column\", \"default\": \"\", \"empty\": true, \"only_with\": \"pfs_event\"},"
    "{\"name\": \"pfs_event\", \"type\": \"column\", \"default\": \"pfs_event\", \"empty\": true,"
    " \"only_with\": \"pfs\"},"
    "{\"name\": \"beta\", \"type\": \"numbers\", \"set_by\": \"combine\"}]}";

static json_t *
js(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (v == NULL)
		printf("Bail out! bad test JSON: %s: %s\n", e.text, text);
	return v;
}

static struct pht_train_decl *decl;
static json_t *dict;

/* Checks params (text) as the analyst gives them: "" when fine, else the message. */
static const char *
check(const char *params, int columns, int flags)
{
	static struct pht_err err;
	json_t *p = js(params);
	int r;

	pht_err_clear(&err);
	r = pht_train_decl_check_params(decl, p, flags, &err);
	if (r == PHT_OK && columns)
		r = pht_train_decl_check_columns(decl, p, dict, "hospital_02", flags, &err);
	json_decref(p);
	return r == PHT_OK ? "" : err.msg;
}

static void
bad_decl(const char *params, const char *want, const char *what)
{
	char text[2048];
	struct pht_train_decl *d = NULL;
	struct pht_err err;
	json_t *m;
	int r;

	snprintf(text, sizeof(text), "{\"name\": \"t\", \"version\": \"1\", \"params\": %s}", params);
	m = js(text);
	pht_err_clear(&err);
	r = pht_train_decl_parse(m, &d, &err);
	tap_ok(r == PHT_ERR_TRAIN && d == NULL && strstr(err.msg, want) != NULL,
	    "a bad declaration is refused: %s (%s)", what, err.msg);
	pht_train_decl_free(d);
	json_decref(m);
}

static void
test_suggest(void)
{
	const char *cols[] = {"age", "stage", "os_days", "dead", "sex"};
	const char *n = NULL;

	tap_ok(pht_train_decl_distance("stagee", "stage") == 1, "distance: one insertion");
	tap_ok(pht_train_decl_distance("satge", "stage") == 1, "distance: a swap of neighbours is one edit");
	tap_ok(pht_train_decl_distance("AGE", "age") == 0, "distance: letter case ignored");
	tap_ok(pht_train_decl_distance("", "abc") == 3, "distance: from the empty word");
	tap_str(pht_train_decl_suggest("stagee", cols, 5), "stage", "suggest: stagee -> stage");
	tap_str(pht_train_decl_suggest("os_day", cols, 5), "os_days", "suggest: os_day -> os_days");
	tap_str(pht_train_decl_suggest("sexx", cols, 5), "sex", "suggest: sexx -> sex");
	tap_ok(pht_train_decl_suggest("weight", cols, 5) == NULL, "suggest: nothing close, nothing said");
	tap_ok(pht_train_decl_suggest("ag", cols, 5) != NULL &&
	    strcmp(pht_train_decl_suggest("ag", cols, 5), "age") == 0,
	    "suggest: a short word within one edit");
	tap_ok(pht_train_decl_suggest("xy", cols, 5) == NULL,
	    "suggest: a short word two edits away is not a slip");
	tap_ok(pht_train_decl_suggest("age", cols, 5) == NULL, "suggest: never the word itself");
	tap_ok(pht_train_decl_suggest("dea", cols, 0) == NULL && pht_train_decl_suggest("x", &n, 1) == NULL,
	    "suggest: no names, or a NULL name");
}

static void
test_parse(void)
{
	struct pht_train_decl *d = (void *)1;
	struct pht_err err;
	json_t *m;

	m = js("{\"name\": \"old\", \"version\": \"1\", \"params\": {\"column\": \"string\"}}");
	tap_ok(pht_train_decl_parse(m, &d, &err) == PHT_OK && d == NULL,
	    "the older form (description strings) declares nothing");
	json_decref(m);
	m = js("{\"name\": \"none\", \"version\": \"1\", \"params\": {}}");
	d = (void *)1;
	tap_ok(pht_train_decl_parse(m, &d, &err) == PHT_OK && d == NULL, "no params: nothing declared");
	json_decref(m);
	bad_decl("[{\"type\": \"string\"}]", "params[1]: name", "a param without a name");
	bad_decl("[{\"name\": \"1a\", \"type\": \"string\"}]", "params[1]: name", "a name starting with a digit");
	bad_decl("[{\"name\": \"by\", \"type\": \"colum\"}]", "params[1] (by): type", "an unknown type");
	bad_decl("[{\"name\": \"by\", \"type\": \"column|strin\"}]", "params[1] (by): type",
	    "an unknown type in a union");
	bad_decl("[{\"name\": \"by\", \"type\": \"column\", \"requried\": true}]",
	    "field 'requried' is not a declaration field", "a misspelled declaration field");
	bad_decl("[{\"name\": \"n\", \"type\": \"integer\", \"column_types\": [\"number\"]}]",
	    "field 'column_types'", "column types on a param that names no column");
	bad_decl("[{\"name\": \"by\", \"type\": \"column\", \"column_types\": [\"text\"]}]",
	    "column_types: each one of", "an unknown column type");
	bad_decl("[{\"name\": \"n\", \"type\": \"integer\", \"default\": \"x\"}]",
	    "the default does not have the declared type", "a default of another type");
	bad_decl("[{\"name\": \"n\", \"type\": \"integer\", \"required\": true, \"default\": 1}]",
	    "a required param has no default", "a required param with a default");
	bad_decl("[{\"name\": \"n\", \"type\": \"integer\"}, {\"name\": \"n\", \"type\": \"string\"}]",
	    "params[2] (n): declared twice", "a name declared twice");
	bad_decl("[{\"name\": \"a\", \"type\": \"column\", \"only_with\": \"b\"}]",
	    "only_with names no declared param", "only_with naming nothing");
	bad_decl("[\"a\"]", "params[1]: each declared param is a table", "an entry that is not a table");
}

static void
test_params(void)
{
	tap_str(check("{\"time\": \"os_days\"}", 1, PHT_TRAIN_DECL_ANALYST), "",
	    "required params given: fine, defaults checked too");
	tap_str(check("{\"time\": \"os_days\", \"secure\": true}", 0, PHT_TRAIN_DECL_ANALYST),
	    "unknown param \"secure\"; demo takes by, time, covariates, hist, ties, max_iter, q, code, pfs, "
	    "pfs_event", "an unknown param names the known ones (not those combine sets)");
	tap_str(check("{\"time\": \"os_days\", \"tiess\": \"efron\"}", 0, PHT_TRAIN_DECL_ANALYST),
	    "unknown param \"tiess\"; did you mean \"ties\"? demo takes by, time, covariates, hist, ties, "
	    "max_iter, q, code, pfs, pfs_event", "a misspelled param: the closest known one");
	tap_str(check("{}", 0, PHT_TRAIN_DECL_ANALYST), "missing param \"time\" (required)",
	    "a missing required param");
	tap_str(check("{\"time\": null}", 0, PHT_TRAIN_DECL_ANALYST), "missing param \"time\" (required)",
	    "null is a missing param");
	tap_str(check("{\"time\": 3}", 0, PHT_TRAIN_DECL_ANALYST),
	    "time must be a column name, not an integer", "a number for a column");
	tap_str(check("{\"time\": \"t\", \"covariates\": \"age\"}", 0, PHT_TRAIN_DECL_ANALYST),
	    "covariates must be an array of column names, not a string", "a string for a list");
	tap_str(check("{\"time\": \"t\", \"covariates\": [\"age\", 2]}", 0, PHT_TRAIN_DECL_ANALYST),
	    "covariates must be an array of column names; element 2 is an integer", "a list with a number");
	tap_str(check("{\"time\": \"t\", \"max_iter\": \"20\"}", 0, PHT_TRAIN_DECL_ANALYST),
	    "max_iter must be an integer, not a string", "a string for an integer");
	tap_str(check("{\"time\": \"t\", \"max_iter\": 2.5}", 0, PHT_TRAIN_DECL_ANALYST),
	    "max_iter must be an integer, not a fractional number", "a fraction for an integer");
	tap_str(check("{\"time\": \"t\", \"max_iter\": 20.0}", 0, PHT_TRAIN_DECL_ANALYST), "",
	    "an integral float is an integer");
	tap_str(check("{\"time\": \"t\", \"max_iter\": 0}", 0, PHT_TRAIN_DECL_ANALYST),
	    "max_iter: 0 is outside [1, 50]", "below the range");
	tap_str(check("{\"time\": \"t\", \"q\": [0.5, 1.5]}", 0, PHT_TRAIN_DECL_ANALYST),
	    "q: 1.5 is outside [0, 1]", "an element outside the range");
	tap_str(check("{\"time\": \"t\", \"ties\": \"efrom\"}", 0, PHT_TRAIN_DECL_ANALYST),
	    "ties: \"efrom\" is not one of \"efron\", \"breslow\"; did you mean \"efron\"?",
	    "a value outside the declared ones");
	tap_str(check("{\"time\": \"t\", \"code\": \"x\"}", 0, PHT_TRAIN_DECL_ANALYST), "",
	    "a union type: a string");
	tap_str(check("{\"time\": \"t\", \"code\": true}", 0, PHT_TRAIN_DECL_ANALYST),
	    "code must be a string or a number, not true", "a union type: neither");
	tap_str(check("{\"time\": \"t\", \"beta\": [0]}", 0, PHT_TRAIN_DECL_ANALYST),
	    "beta: set by the train's combine between rounds, not by the analyst",
	    "a param combine sets, from the analyst");
	tap_str(check("{\"time\": \"t\", \"beta\": [0]}", 0, 0), "",
	    "a param combine sets, in a later round (the station)");
	tap_str(check("{\"time\": \"t\", \"secure\": true}", 0, 0),
	    "unknown param 'secure'; demo takes by, time, covariates, hist, ties, max_iter, q, code, pfs, "
	    "pfs_event", "at the station names are in single quotes");
	tap_str(check("[]", 0, 0), "params must be a JSON object", "params that are not an object");
}

static void
test_columns(void)
{
	tap_str(check("{\"time\": \"os_days\", \"by\": \"stagee\"}", 1, PHT_TRAIN_DECL_ANALYST),
	    "by: column \"stagee\" is not in dataset melanoma at hospital_02; did you mean \"stage\"?",
	    "a misspelled column, with the closest one");
	tap_str(check("{\"time\": \"os_days\", \"by\": \"weight\"}", 1, PHT_TRAIN_DECL_ANALYST),
	    "by: column \"weight\" is not in dataset melanoma at hospital_02", "an unknown column, nothing close");
	tap_str(check("{\"time\": \"os_days\", \"by\": \"stagee\"}", 1, 0),
	    "by: column 'stagee' is not in dataset melanoma at hospital_02; did you mean 'stage'?",
	    "at the station: single quotes");
	tap_str(check("{\"time\": \"os_days\", \"by\": \"pid\"}", 1, PHT_TRAIN_DECL_ANALYST),
	    "by: column \"pid\" is the identifier of dataset melanoma at hospital_02, which trains never see",
	    "the identifier column");
	tap_str(check("{\"time\": \"os_days\", \"by\": \"pi\"}", 1, PHT_TRAIN_DECL_ANALYST),
	    "by: column \"pi\" is not in dataset melanoma at hospital_02",
	    "the identifier is never suggested");
	tap_str(check("{\"time\": \"os_days\", \"by\": \"os_days\"}", 1, PHT_TRAIN_DECL_ANALYST),
	    "by: column \"os_days\" of dataset melanoma at hospital_02 is a number column; by takes an integer, "
	    "category or boolean column", "a column of the wrong type");
	tap_str(check("{\"time\": \"stage\"}", 1, PHT_TRAIN_DECL_ANALYST),
	    "time: column \"stage\" of dataset melanoma at hospital_02 is a category column; time takes a number "
	    "or integer column", "a category for a time");
	tap_str(check("{\"time\": \"os_days\", \"covariates\": [\"age\", \"sexx\"]}", 1, PHT_TRAIN_DECL_ANALYST),
	    "covariates: column \"sexx\" is not in dataset melanoma at hospital_02", "each column of a list");
	tap_str(check("{\"time\": \"os_days\", \"hist\": {\"age\": {}}}", 1, PHT_TRAIN_DECL_ANALYST),
	    "hist: column \"age\" of dataset melanoma at hospital_02 is an integer column; hist takes a number "
	    "column", "the keys of a column map");
	tap_str(check("{\"time\": \"os_days\", \"pfs\": \"os_days\"}", 1, PHT_TRAIN_DECL_ANALYST),
	    "pfs_event: column \"pfs_event\" (the param's default) is not in dataset melanoma at hospital_02",
	    "a default column is checked when the param it goes with is used");
	tap_str(check("{\"time\": \"os_days\", \"pfs\": \"os_days\", \"pfs_event\": \"dead\"}", 1,
	    PHT_TRAIN_DECL_ANALYST), "", "both columns of a pair given");
	tap_str(check("{\"time\": \"os_days\", \"covariates\": [\"dx\"]}", 1, PHT_TRAIN_DECL_ANALYST), "",
	    "no column types declared: any type");
}

static void
test_format(void)
{
	struct pht_buf *b = pht_buf_new(1 << 16);
	json_t *m = js(META);
	const char *t;

	tap_ok(b != NULL && pht_train_decl_format(decl, m, b) == PHT_OK, "describe's text is written");
	t = b != NULL ? pht_buf_str(b) : "";
	tap_ok(strncmp(t, "demo 1.0.0\n", 11) == 0, "it starts with name and version");
	tap_ok(strstr(t, "  time       a column name (a number or integer column); required\n") != NULL,
	    "a required column param, its types");
	tap_ok(strstr(t, "  ties       a string; default \"efron\"\n") != NULL &&
	    strstr(t, "one of [\"efron\",\"breslow\"]") != NULL, "a default and the values");
	tap_ok(strstr(t, "  beta       an array of numbers; set by combine between rounds\n") != NULL,
	    "a param combine sets");
	tap_ok(strstr(t, "\nreleases:\n  counts\n") != NULL, "what a station releases");
	if (!tap_ok(strstr(t, "\n             counts per value\n") != NULL, "a doc under its param"))
		tap_diag("%s", t);
	json_decref(m);
	pht_buf_free(b);
}

int
main(void)
{
	json_t *meta = js(META);
	struct pht_err err;

	dict = js(DICT);
	if (meta == NULL || dict == NULL || pht_train_decl_parse(meta, &decl, &err) != PHT_OK ||
	    decl == NULL) {
		printf("Bail out! the test declaration does not parse\n");
		return 1;
	}
	test_suggest();
	test_parse();
	test_params();
	test_columns();
	test_format();
	pht_train_decl_free(decl);
	json_decref(meta);
	json_decref(dict);
	return tap_done();
}
