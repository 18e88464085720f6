/* cli_opt.c — the one long-option parser of every pht command, driven by a table. */
#include "pht_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The option of opts named by a ("--name" or "--name=VALUE"), or NULL. */
static struct pht_cli_opt *
find_opt(const char *a, struct pht_cli_opt *opts, size_t nopts, const char **eq)
{
	size_t j, len;

	*eq = strchr(a, '=');
	len = *eq != NULL ? (size_t)(*eq - a - 2) : strlen(a + 2);
	for (j = 0; j < nopts; j++)
		if (strlen(opts[j].name) == len && strncmp(opts[j].name, a + 2, len) == 0)
			return &opts[j];
	return NULL;
}

int
pht_cli_opt_parse(const char *cmd, int argc, char **argv, int start,
    struct pht_cli_opt *opts, size_t nopts, const char **pos, size_t maxpos,
    size_t *npos)
{
	struct pht_cli_opt *o;
	const char *a, *eq;
	int i, only_pos = 0;

	*npos = 0;
	for (i = start; i < argc; i++) {
		a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (*npos >= maxpos)
				return pht_cli_usage_error(cmd, "unexpected argument '%s'", a);
			pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || (o = find_opt(a, opts, nopts, &eq)) == NULL)
			return pht_cli_usage_error(cmd, "unknown option '%s'", a);
		if (o->flag == PHT_CLI_OPT_ARG) {
			if (eq == NULL && i + 1 >= argc)
				return pht_cli_usage_error(cmd, "option --%s needs a value",
				    o->name);
			a = eq != NULL ? eq + 1 : argv[++i];
			if (*npos >= maxpos)
				return pht_cli_usage_error(cmd, "unexpected argument '%s'", a);
			pos[(*npos)++] = a;
			continue;
		}
		if (o->n >= (o->max > 0 ? o->max : 1))
			return o->max > 1 ?
			    pht_cli_usage_error(cmd, "option --%s given too often", o->name) :
			    pht_cli_usage_error(cmd, "option --%s given twice", o->name);
		if (o->flag == PHT_CLI_OPT_FLAG) {
			if (eq != NULL)
				return pht_cli_usage_error(cmd, "option --%s takes no value",
				    o->name);
			o->vals[o->n++] = "";
		} else if (eq != NULL) {
			o->vals[o->n++] = eq + 1;
		} else if (i + 1 < argc) {
			o->vals[o->n++] = argv[++i];
		} else {
			return pht_cli_usage_error(cmd, "option --%s needs a value", o->name);
		}
	}
	return PHT_EXIT_OK;
}

int
pht_cli_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

const char *
pht_cli_opt_val(const struct pht_cli_opt *o)
{
	return o->n > 0 ? o->vals[0] : NULL;
}

volatile sig_atomic_t pht_cli_stop;

static void
on_stop(int sig)
{
	(void)sig;
	pht_cli_stop = 1;
}

void
pht_cli_catch_stop(int ignore_hup)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ignore_hup)
		signal(SIGHUP, SIG_IGN);
}
