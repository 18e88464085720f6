/* cmd_node.c — `pht node serve`: runs the federation node. */
#include "pht_cli.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_node_server.h"
#include "pht_node_store.h"
#include "pht_time.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void
node_help(FILE *f)
{
	fprintf(f,
	    "usage: pht node serve --config NODE.json [--port-file FILE]\n"
	    "                      [--accept-store-loss]\n\n"
	    "Runs the federation node: an HTTPS server (TLS 1.3, client\n"
	    "certificates from the federation CA required) that relays signed\n"
	    "trains to station inboxes and sealed results back to analysts,\n"
	    "kept in a durable SQLite mailbox. See docs/node.md for NODE.json\n"
	    "and proto/PROTOCOL-node.md for the API.\n\n"
	    "  --port-file FILE  write the bound port to FILE once listening\n"
	    "                    (useful with \"port\": 0)\n"
	    "  --accept-store-loss  serve from a store that lost writes the node\n"
	    "                    had acknowledged (it refuses to otherwise); the\n"
	    "                    number given up is logged\n\n"
	    "At start the store is checked (integrity, and its write journal\n"
	    "against NODE.db.acked); on a full disk the node waits for space.\n"
	    "Stops cleanly on SIGTERM or SIGINT; SIGHUP is logged and ignored.\n"
	    "Logs to stderr.\n");
}

static void
log_stderr(void *arg, const char *line)
{
	char ts[21];

	pht_time_format(pht_time_now(), ts);
	fprintf(stderr, "%s pht node: %s\n", ts, line);
}

/* Long polls hold one descriptor each: allow as many as the hard limit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
node_serve(int argc, char **argv)
{
	const char *config = NULL, *port_file = NULL;
	struct timespec pause = {5, 0};
	int accept_loss = 0, waiting = 0;
	int64_t lost;
	struct pht_node_config *cfg = NULL;
	struct pht_node_server *srv = NULL;
	struct pht_err err;
	struct pht_cli_opt o[] = {PHT_CLI_OPT("config"), PHT_CLI_OPT("port-file"),
	    PHT_CLI_OPT_FLAG("accept-store-loss")};
	const char *pos[1];
	char portbuf[16];
	size_t npos;
	int r;

	if ((r = pht_cli_opt_parse("node serve", argc, argv, 2, o, 3, pos, 0, &npos)) != 0)
		return r;
	config = pht_cli_opt_val(&o[0]);
	port_file = pht_cli_opt_val(&o[1]);
	accept_loss = o[2].n > 0;
	if (config == NULL)
		return pht_cli_usage_error("node", "serve: --config NODE.json is "
		    "required");
	pht_err_clear(&err);
	if ((r = pht_node_config_load(config, &cfg, &err)) != PHT_OK) {
		pht_cli_error("node serve", &err);
		return pht_cli_exit_for(r);
	}
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (accept_loss) {
		if ((r = pht_node_store_accept_loss(cfg->database, &lost, &err)) != PHT_OK &&
		    r != PHT_ERR_NOSPACE) {
			pht_cli_error("node serve", &err);
			goto out;
		}
		if (r == PHT_OK)
			log_stderr(NULL, lost > 0 ? "--accept-store-loss: serving from a "
			    "store that lost acknowledged writes" : "--accept-store-loss: "
			    "the store had lost nothing");
		if (lost > 0)
			fprintf(stderr, "pht node: %lld acknowledged writes given up\n",
			    (long long)lost);
	}
	/* a full disk is waited out (said once); anything else ends the start */
	while ((r = pht_node_server_new(cfg, log_stderr, NULL, &srv, &err)) ==
	    PHT_ERR_NOSPACE) {
		if (!waiting)
			fprintf(stderr, "pht node: %s: waiting for space (retrying every "
			    "5 s)\n", pht_err_msg(&err));
		waiting = 1;
		nanosleep(&pause, NULL);
	}
	if (r != PHT_OK) {
		pht_cli_error("node serve", &err);
		goto out;
	}
	if (port_file != NULL) {
		snprintf(portbuf, sizeof(portbuf), "%d\n", pht_node_server_port(srv));
		if ((r = pht_file_write_atomic(port_file, portbuf, strlen(portbuf),
		    0644, &err)) != PHT_OK) {
			pht_cli_error("node serve", &err);
			goto out;
		}
	}
	if ((r = pht_node_server_run(srv, &err)) != PHT_OK)
		pht_cli_error("node serve", &err);
out:
	pht_node_server_free(srv);
	pht_node_config_free(cfg);
	return pht_cli_exit_for(r);
}

int
pht_cmd_node(int argc, char **argv)
{
	if (argc < 2 || pht_cli_wants_help(argc, argv)) {
		node_help(argc < 2 ? stderr : stdout);
		return argc < 2 ? PHT_EXIT_USAGE : PHT_EXIT_OK;
	}
	if (strcmp(argv[1], "serve") == 0)
		return node_serve(argc, argv);
	return pht_cli_usage_error("node", "unknown subcommand '%s'", argv[1]);
}
