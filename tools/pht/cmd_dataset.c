/* cmd_dataset.c — pht dataset check (a source against its dictionary, with the loader's messages) and pht dataset infer (a draft dictionary). */
#include "pht_cli.h"

#include "pht_dataset.h"
#include "pht_dataset_infer.h"
#include "pht_dataset_source.h"
#include "pht_err.h"
#include "pht_station_config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dataset_help =
    "usage: pht dataset check SOURCE [--dict DICT] [dialect options]\n"
    "       pht dataset check --config STATION.json --dataset NAME\n"
    "       pht dataset infer SOURCE [--name NAME] [dialect options]\n"
    "\n"
    "SOURCE is a CSV file (its dictionary is NAME.dict.json beside it unless\n"
    "--dict says otherwise) or a source file SOURCE.json: one object as in a\n"
    "station config's datasets entry, for a CSV in a dialect, an SQLite file\n"
    "or a PostgreSQL query (docs/dataset.md, \"Sources\").\n"
    "\n"
    "check  loads the source as the station does and prints its rows, columns\n"
    "       and the SHA-256 of the typed columns (the same digest means the\n"
    "       same data, whatever the source); on a bad cell, the loader's\n"
    "       message naming the row and the column, and exit 1.\n"
    "infer  prints a draft dictionary on stdout: types, levels, missing codes\n"
    "       and an identifier guessed from the cells, for the data steward to\n"
    "       edit (units, descriptions, roles); notes go to stderr.\n"
    "\n"
    "Dialect options (a CSV path only):\n"
    "  --delimiter C        field separator (default ,)\n"
    "  --quote C            quote character (default \")\n"
    "  --decimal C          decimal point, . or , (default .)\n"
    "  --encoding E         utf-8 (default), latin-1 or windows-1252\n"
    "  --format COL=FMT     a date or datetime column's format, e.g. dx=%d-%m-%Y\n"
    "                       (repeatable)\n";

enum { D_DICT, D_CONFIG, D_DATASET, D_NAME, D_DELIM, D_QUOTE, D_DECIMAL,
    D_ENCODING, D_FORMAT, D_N };

static const struct pht_cli_opt dataset_opts[D_N] = {
	PHT_CLI_OPT("dict"), PHT_CLI_OPT("config"), PHT_CLI_OPT("dataset"),
	PHT_CLI_OPT("name"), PHT_CLI_OPT("delimiter"), PHT_CLI_OPT("quote"),
	PHT_CLI_OPT("decimal"), PHT_CLI_OPT("encoding"),
	PHT_CLI_OPT_MANY("format", PHT_CLI_OPT_MAX),
};

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

/*
 * The source the arguments name: a source file, or a CSV path with the
 * dialect options built into a source object (so that they are checked
 * as a config's are).
 */
static int
source_from_args(const char *cmd, const char *path, struct pht_cli_opt *o,
    int need_dict, struct pht_dataset_source **out, struct pht_err *err)
{
	json_t *obj = NULL, *dl = NULL, *fm = NULL;
	const char *eq;
	char *col;
	size_t i;
	int r;

	*out = NULL;
	if (ends_with(path, ".json")) {
		for (i = D_DICT; i < D_N; i++)
			if (i != D_NAME && o[i].n > 0)
				return pht_cli_usage_error(cmd, "--%s: a source file holds "
				    "its own dictionary and dialect", o[i].name);
		return pht_dataset_source_load_file(path, need_dict, out, err) ==
		    PHT_OK ? PHT_OK : -1;
	}
	if ((obj = json_pack("{s:s}", "csv", path)) == NULL ||
	    (dl = json_object()) == NULL || (fm = json_object()) == NULL) {
		r = pht_cli_usage_error(cmd, "out of memory");
		goto out;
	}
	if (pht_cli_opt_val(&o[D_DICT]) != NULL)
		json_object_set_new(obj, "dict", json_string(pht_cli_opt_val(&o[D_DICT])));
	if (pht_cli_opt_val(&o[D_DELIM]) != NULL)
		json_object_set_new(dl, "delimiter", json_string(pht_cli_opt_val(&o[D_DELIM])));
	if (pht_cli_opt_val(&o[D_QUOTE]) != NULL)
		json_object_set_new(dl, "quote", json_string(pht_cli_opt_val(&o[D_QUOTE])));
	if (pht_cli_opt_val(&o[D_DECIMAL]) != NULL)
		json_object_set_new(dl, "decimal", json_string(pht_cli_opt_val(&o[D_DECIMAL])));
	if (pht_cli_opt_val(&o[D_ENCODING]) != NULL)
		json_object_set_new(dl, "encoding",
		    json_string(pht_cli_opt_val(&o[D_ENCODING])));
	for (i = 0; i < o[D_FORMAT].n; i++) {
		if ((eq = strchr(o[D_FORMAT].vals[i], '=')) == NULL ||
		    eq == o[D_FORMAT].vals[i]) {
			r = pht_cli_usage_error(cmd, "--format %s: give COLUMN=FORMAT",
			    o[D_FORMAT].vals[i]);
			goto out;
		}
		if ((col = strndup(o[D_FORMAT].vals[i],
		    (size_t)(eq - o[D_FORMAT].vals[i]))) == NULL) {
			r = pht_cli_usage_error(cmd, "out of memory");
			goto out;
		}
		json_object_set_new(fm, col, json_string(eq + 1));
		free(col);
	}
	if (json_object_size(dl) > 0)
		json_object_set(obj, "dialect", dl);
	if (json_object_size(fm) > 0)
		json_object_set(obj, "formats", fm);
	r = pht_dataset_source_parse(obj, "options", "", NULL, NULL, need_dict, out,
	    err) == PHT_OK ? PHT_OK : -1;
out:
	json_decref(fm);
	json_decref(dl);
	json_decref(obj);
	return r;
}

static int
dataset_check(const struct pht_dataset_source *src)
{
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	char digest[65];
	int r;

	if ((r = pht_dataset_source_load(src, NULL, &ds, &err)) != PHT_OK) {
		pht_cli_error("dataset check", &err);
		return PHT_EXIT_FAIL;
	}
	if (pht_dataset_columns_sha256(ds, digest) != PHT_OK) {
		pht_dataset_free(ds);
		fprintf(stderr, "pht dataset check: SHA-256 failed\n");
		return PHT_EXIT_FAIL;
	}
	printf("ok: dataset %s from %s: %zu rows, %zu columns, columns sha256 %s\n",
	    pht_dataset_name(ds), pht_dataset_source_label(src),
	    pht_dataset_nrows(ds), pht_dataset_ncols(ds), digest);
	pht_dataset_free(ds);
	return PHT_EXIT_OK;
}

/* NAME from a path: the file name without its directory and extension. */
static char *
name_of(const char *path)
{
	const char *b = strrchr(path, '/'), *dot;

	b = b != NULL ? b + 1 : path;
	dot = strrchr(b, '.');
	return strndup(b, dot != NULL && dot != b ? (size_t)(dot - b) : strlen(b));
}

static int
dataset_infer(const struct pht_dataset_source *src, const char *path,
    const char *name)
{
	struct pht_dataset_cells *cells = NULL;
	json_t *dict = NULL, *notes = NULL, *n;
	char *own = NULL, *text = NULL;
	struct pht_err err;
	size_t i;
	int rc = PHT_EXIT_FAIL;

	if (name == NULL && (name = own = name_of(path)) == NULL)
		goto out;
	if (pht_dataset_source_cells(src, 0, &cells, &err) != PHT_OK ||
	    pht_dataset_infer(cells, name, pht_dataset_source_dialect(src), &dict,
	    &notes, &err) != PHT_OK) {
		pht_cli_error("dataset infer", &err);
		rc = pht_cli_exit_for(err.code);
		goto out;
	}
	if ((text = json_dumps(dict, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	printf("%s\n", text);
	json_array_foreach(notes, i, n)
		fprintf(stderr, "pht dataset infer: note: %s\n", json_string_value(n));
	fprintf(stderr, "pht dataset infer: %zu rows, %zu columns read; edit units, "
	    "descriptions and roles before use\n", cells->nrows, cells->ncols);
	rc = PHT_EXIT_OK;
out:
	free(text);
	free(own);
	json_decref(dict);
	json_decref(notes);
	pht_dataset_source_cells_free(cells);
	return rc;
}

/* The source of --config F --dataset NAME (a copy is not needed: cfg lives). */
static int
config_check(const char *cfgpath, const char *name)
{
	struct pht_station_config *cfg = NULL;
	const struct pht_station_dataset *d;
	struct pht_err err;
	int rc;

	if (pht_station_config_load(cfgpath, &cfg, &err) != PHT_OK) {
		pht_cli_error("dataset check", &err);
		return pht_cli_exit_for(err.code);
	}
	if ((d = pht_station_config_find_dataset(cfg, name)) == NULL) {
		pht_station_config_free(cfg);
		return pht_cli_usage_error("dataset check", "%s: no dataset %s",
		    cfgpath, name);
	}
	rc = dataset_check(d->source);
	pht_station_config_free(cfg);
	return rc;
}

int
pht_cmd_dataset(int argc, char **argv)
{
	struct pht_cli_opt o[D_N];
	struct pht_dataset_source *src = NULL;
	const char *pos[1];
	struct pht_err err;
	size_t npos = 0;
	int infer, rc;

	if (argc < 2 || pht_cli_wants_help(argc, argv)) {
		fputs(dataset_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? PHT_EXIT_USAGE : PHT_EXIT_OK;
	}
	if (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "infer") != 0)
		return pht_cli_usage_error("dataset", "unknown subcommand %s (check, "
		    "infer)", argv[1]);
	infer = strcmp(argv[1], "infer") == 0;
	memcpy(o, dataset_opts, sizeof(o));
	if ((rc = pht_cli_opt_parse(infer ? "dataset infer" : "dataset check", argc,
	    argv, 2, o, D_N, pos, 1, &npos)) != PHT_EXIT_OK)
		return rc;
	if (!infer && o[D_CONFIG].n > 0) {
		if (o[D_DATASET].n == 0 || npos > 0)
			return pht_cli_usage_error("dataset check", "--config needs "
			    "--dataset NAME and no SOURCE");
		return config_check(pht_cli_opt_val(&o[D_CONFIG]),
		    pht_cli_opt_val(&o[D_DATASET]));
	}
	if (npos != 1)
		return pht_cli_usage_error(infer ? "dataset infer" : "dataset check",
		    "give one SOURCE (a CSV file or a source .json)");
	if (o[D_CONFIG].n > 0 || o[D_DATASET].n > 0 || (!infer && o[D_NAME].n > 0) ||
	    (infer && o[D_DICT].n > 0))
		return pht_cli_usage_error(infer ? "dataset infer" : "dataset check",
		    "an option this subcommand does not take");
	if ((rc = source_from_args(infer ? "dataset infer" : "dataset check", pos[0],
	    o, !infer, &src, &err)) != PHT_OK) {
		if (rc < 0) {
			pht_cli_error(infer ? "dataset infer" : "dataset check", &err);
			return pht_cli_exit_for(err.code);
		}
		return rc;
	}
	rc = infer ? dataset_infer(src, pos[0], pht_cli_opt_val(&o[D_NAME])) :
	    dataset_check(src);
	pht_dataset_source_free(src);
	return rc;
}
