/* cmd_results.c — pht results: pick up a saved run (pht run --resume) and print its combined result. */
#include "pht_cli.h"

#include <stdio.h>
#include <string.h>

static const char *results_help =
    "usage: pht results RUN [--timeout D] [--out FILE]\n"
    "\n"
    "Picks up a run that pht run saved when it stopped waiting (--timeout\n"
    "passed with stations yet to answer, or --detach): RUN is the run's id\n"
    "(its folder is $PHT_RUNS/RUN, else ~/.pht/runs/RUN) or its folder. It\n"
    "collects the results of the round in flight from the node (which keeps\n"
    "them until then), checks them as pht run does, combines, and goes on\n"
    "with the rounds. The combined result is printed as JSON on stdout (and\n"
    "written to --out FILE and RUN/result.json); a run that was done already\n"
    "prints it again.\n"
    "\n"
    "  --timeout D   how long to wait for each round (90s, 10m; default 0:\n"
    "                look once at the node and stop waiting again)\n"
    "\n"
    "The same as pht run --resume RUN --timeout D. Exit codes: 0 done, 1 the\n"
    "run failed, 2 bad usage or an unreadable run folder, 3 still waiting\n"
    "(run it again later).\n";

int
pht_cmd_results(int argc, char **argv)
{
	struct pht_cli_opt o[] = {PHT_CLI_OPT("timeout"), PHT_CLI_OPT("out")};
	const char *pos[1], *timeout, *out;
	char *rargv[9];
	size_t npos;
	int rargc = 0, r;

	if (pht_cli_wants_help(argc, argv)) {
		fputs(results_help, stdout);
		return PHT_EXIT_OK;
	}
	if ((r = pht_cli_opt_parse("results", argc, argv, 1, o, 2, pos, 1, &npos)) != 0)
		return r;
	if (npos != 1)
		return pht_cli_usage_error("results", "give the RUN (its id or folder)");
	timeout = pht_cli_opt_val(&o[0]);
	out = pht_cli_opt_val(&o[1]);
	rargv[rargc++] = "run";
	rargv[rargc++] = "--resume";
	rargv[rargc++] = (char *)pos[0];
	rargv[rargc++] = "--timeout";
	rargv[rargc++] = (char *)(timeout != NULL ? timeout : "0");
	if (out != NULL) {
		rargv[rargc++] = "--out";
		rargv[rargc++] = (char *)out;
	}
	rargv[rargc] = NULL;
	return pht_cmd_run(rargc, rargv);
}
