/* pht_cli.h — shared helpers for the pht subcommands: option parsing and exit codes. */
#ifndef PHT_CLI_H
#define PHT_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of every pht command. */
enum {
	PHT_EXIT_OK = 0,      /* the job was done */
	PHT_EXIT_FAIL = 1,    /* the job failed (bad signature, train error, ...) */
	PHT_EXIT_USAGE = 2,   /* bad usage or unreadable input */
	PHT_EXIT_WAITING = 3, /* not done yet: a run saved to be picked up later */
};

struct pht_err;

/*
 * A subcommand: argv[0] is the command's own name ("keygen"), the rest its
 * arguments. Returns one of the PHT_EXIT_* codes.
 */
typedef int (*pht_cmd_fn)(int argc, char **argv);

/* Prints "pht: <prefix>: <detail>" on stderr. */
void pht_cli_error(const char *prefix, const struct pht_err *err);

/*
 * Set to 1 by SIGINT or SIGTERM once pht_cli_catch_stop() ran: a command
 * that waits (pht run, the station daemon) polls it and stops cleanly (a
 * handler only sets a flag). pht_cli_catch_stop() also ignores SIGPIPE
 * (a peer that closed is an error return, not a death) and, with
 * ignore_hup, SIGHUP (a closed terminal).
 */
extern volatile sig_atomic_t pht_cli_stop;
void pht_cli_catch_stop(int ignore_hup);

/* Prints "pht COMMAND: message" on stderr and returns PHT_EXIT_USAGE. */
int pht_cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Maps a library error code to an exit code (input errors -> 2, else 1). */
int pht_cli_exit_for(int code);

/*
 * Reads the train at path as it is signed and run: its --#include lines
 * assembled (trains/pht_train_assemble.h), with the train library folder
 * from the environment variable PHT_TRAIN_LIB when set (else the folder
 * "lib" beside the train's folder). *out as pht_file_read's.
 */
struct pht_buf;
int pht_cli_read_train(const char *path, size_t max, struct pht_buf **out,
    struct pht_err *err);

/* Most times one option may be given (pht permit revoke --id ...). */
#define PHT_CLI_OPT_MAX 1024

/*
 * One row of a command's option table: "--name VALUE", "--name=VALUE" or,
 * for a flag, "--name" alone. The parser fills vals[0..n) with the values
 * given, in order (borrowed from argv; "" for a flag). Build rows with
 * PHT_CLI_OPT (given at most once), PHT_CLI_OPT_MANY, PHT_CLI_OPT_FLAG and
 * PHT_CLI_OPT_POS.
 */
struct pht_cli_opt {
	const char *name;
	size_t max;                        /* times it may be given; 0 is 1 */
	int flag;                          /* PHT_CLI_OPT_VALUE, _FLAG or _ARG */
	const char *vals[PHT_CLI_OPT_MAX];
	size_t n;
};
enum {
	PHT_CLI_OPT_VALUE = 0,   /* --name VALUE */
	PHT_CLI_OPT_FLAG = 1,    /* --name alone */
	PHT_CLI_OPT_ARG = 2,     /* --name VALUE, VALUE taken as the next positional argument */
};
#define PHT_CLI_OPT(name) { name, 1, PHT_CLI_OPT_VALUE, {0}, 0 }
#define PHT_CLI_OPT_MANY(name, max) { name, max, PHT_CLI_OPT_VALUE, {0}, 0 }
#define PHT_CLI_OPT_FLAG(name) { name, 1, PHT_CLI_OPT_FLAG, {0}, 0 }
/* --name VALUE as another way to write the positional argument VALUE (in order). */
#define PHT_CLI_OPT_POS(name) { name, 0, PHT_CLI_OPT_ARG, {0}, 0 }

/*
 * Parses argv[start..argc) into the table opts[0..nopts) and up to maxpos
 * positional arguments (pos[0..*npos)). "-" is a positional argument and
 * "--" ends the options. Returns PHT_EXIT_OK, or prints the usage error
 * ("unknown option", "given twice", "needs a value", "unexpected argument")
 * for cmd and returns PHT_EXIT_USAGE. The table must start with n == 0.
 */
int pht_cli_opt_parse(const char *cmd, int argc, char **argv, int start,
    struct pht_cli_opt *opts, size_t nopts, const char **pos, size_t maxpos,
    size_t *npos);

/*
 * A decimal integer in [lo, hi] with nothing around it (no sign, no
 * spaces): the one number parser of the pht options. 0 and *out set, or -1.
 */
int pht_cli_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* The first value of o, or NULL when it was not given. */
const char *pht_cli_opt_val(const struct pht_cli_opt *o);

/* True if argv has -h or --help among its arguments. */
int pht_cli_wants_help(int argc, char **argv);

/* Commands (one file each, cmd_*.c). */
#define PHT_COMMANDS(X) \
	X("version", pht_cmd_version, "print the version") \
	X("station", pht_cmd_station, "the station: run the daemon, exec one train, queue/approve/refuse, halt/resume, catalog") \
	X("audit", pht_cmd_audit, "verify, list, show, replay, export, rotate and prune a station's audit log") \
	X("keygen", pht_cmd_keygen, "generate signing and result-sealing key pairs") \
	X("train", pht_cmd_train, "sign a train, verify a signed train, print a train assembled") \
	X("pki", pht_cmd_pki, "create the federation CA and issue certificates") \
	X("node", pht_cmd_node, "run the federation node (mTLS relay and mailbox)") \
	X("sim", pht_cmd_sim, "run a whole train locally on CSV datasets (develop trains)") \
	X("dataset", pht_cmd_dataset, "check a dataset source against its dictionary; draft a dictionary (infer)") \
	X("permit", pht_cmd_permit, "issue, approve, show and verify permits and code approvals; revocations and halts") \
	X("run", pht_cmd_run, "dispatch a train through the federation and combine the results") \
	X("results", pht_cmd_results, "pick up the results of a run that stopped waiting, and go on") \
	X("stations", pht_cmd_stations, "list the stations a node knows and their datasets") \
	X("catalog", pht_cmd_catalog, "print the federation's catalogue of datasets (DCAT-AP)")

#define PHT_DECLARE_CMD(name, fn, summary) int fn(int argc, char **argv);
PHT_COMMANDS(PHT_DECLARE_CMD)
#undef PHT_DECLARE_CMD

#endif
