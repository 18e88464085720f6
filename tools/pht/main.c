/* main.c — the pht executable: finds the subcommand and hands over. */
#include "pht_cli.h"
#include "pht_config.h"
#include "pht_err.h"
#include "pht_train_assemble.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cmd {
	const char *name;
	pht_cmd_fn fn;
	const char *summary;
};

#define PHT_CMD_ENTRY(name, fn, summary) { name, fn, summary },
static const struct cmd commands[] = {
	PHT_COMMANDS(PHT_CMD_ENTRY)
};
#undef PHT_CMD_ENTRY

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: pht COMMAND [ARGS...]\n\n"
	    "PHT — Personal Health Train: federated analysis of hospital registries.\n\n"
	    "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'pht COMMAND --help' for a command's options.\n"
	    "Exit codes: 0 ok, 1 the job failed, 2 bad usage or input.\n");
}

void
pht_cli_error(const char *prefix, const struct pht_err *err)
{
	fprintf(stderr, "pht: %s: %s\n", prefix, pht_err_msg(err));
}

int
pht_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pht %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'pht %s --help')\n", cmd);
	return PHT_EXIT_USAGE;
}

int
pht_cli_exit_for(int code)
{
	switch (code) {
	case PHT_OK:
		return PHT_EXIT_OK;
	case PHT_ERR_USAGE:
	case PHT_ERR_IO:
	case PHT_ERR_MALFORMED:
	case PHT_ERR_INVALID:
	case PHT_ERR_TOO_LARGE:
		return PHT_EXIT_USAGE;
	default:
		return PHT_EXIT_FAIL;
	}
}

int
pht_cli_read_train(const char *path, size_t max, struct pht_buf **out, struct pht_err *err)
{
	const char *lib = getenv("PHT_TRAIN_LIB");

	return pht_train_assemble(path, lib != NULL && *lib != '\0' ? lib : NULL, max, out, err);
}

int
pht_cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int
pht_cmd_version(int argc, char **argv)
{
	if (pht_cli_wants_help(argc, argv)) {
		printf("usage: pht version\n\nPrints the version of pht.\n");
		return PHT_EXIT_OK;
	}
	printf("pht %s\n", PHT_VERSION);
	return PHT_EXIT_OK;
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return PHT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
				if (strcmp(argv[2], commands[i].name) == 0) {
					char *hargv[] = {argv[2], "--help", NULL};
					return commands[i].fn(2, hargv);
				}
			fprintf(stderr, "pht: unknown command '%s'\n", argv[2]);
			return PHT_EXIT_USAGE;
		}
		usage(stdout);
		return PHT_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "pht: unknown command '%s' (see 'pht help')\n", argv[1]);
	return PHT_EXIT_USAGE;
}
