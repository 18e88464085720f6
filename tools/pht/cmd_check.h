/* cmd_check.h — what pht run, pht sim and pht train describe share: --params, the train's declaration, the checks before anything is sent. */
#ifndef PHT_CMD_CHECK_H
#define PHT_CMD_CHECK_H

#include <jansson.h>
#include <stddef.h>

struct pht_train_decl;
struct pht_analyst_check;

/*
 * --params ARG: a JSON object given inline, or @FILE (a file holding one;
 * "@-" reads stdin). *out gets a new object ({} when arg is NULL).
 * Returns an exit code; the problem is printed as "pht CMD: ...".
 */
int pht_cli_read_params(const char *cmd, const char *arg, json_t **out);

/*
 * The declaration in meta (pht_train_describe), *decl NULL when the train
 * declares nothing, and a check over params with its findings printed on
 * stderr ("pht CMD: ..."). c is filled for the station checks that follow
 * (datasets, if any, set by the caller). Returns an exit code: PHT_EXIT_OK,
 * PHT_EXIT_USAGE when the params are wrong, PHT_EXIT_FAIL when the
 * declaration is.
 */
int pht_cli_check_start(const char *cmd, const json_t *meta, const json_t *params,
    struct pht_train_decl **decl, struct pht_analyst_check *c);

/* The say callback of pht_analyst_check that prints on stderr; arg is the command's name. */
void pht_cli_check_say(void *arg, int problem, const char *line);

/* pht train describe TRAIN.lua [--json] (argv[0] is "train"). */
int pht_cmd_train_describe(int argc, char **argv);

#endif
