/* cmd_node_absent.c — `pht node` in a pht built without the node (meson -Dnode). */
#include "pht_cli.h"

#include <stdio.h>

int
pht_cmd_node(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "pht node: this pht was built without the node "
	    "(meson setup -Dnode=enabled needs libevent and SQLite)\n");
	return PHT_EXIT_USAGE;
}
