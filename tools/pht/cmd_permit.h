/* cmd_permit.h — pht station halt|resume (the operator's halt; pht permit is in pht_cli.h). */
#ifndef CMD_PERMIT_H
#define CMD_PERMIT_H

#include <stddef.h>

/*
 * pht station halt|resume --config STATION.json [--by NAME] [--reason TEXT];
 * argv[1] is "halt" or "resume".
 */
int pht_station_cmd_halt(int argc, char **argv);

/*
 * pht station orders --config STATION.json FILE...: stores revocation lists
 * and halt orders given as files (what the daemon fetches from the node on
 * every poll cycle), for stations without a node or in a hurry.
 */
int pht_station_cmd_orders(int argc, char **argv);

struct pht_buf;

/*
 * Reads a reviewer's code approval envelope (pht permit approve) from path
 * for a train whose code is code[0..len): checks that it parses as a code
 * approval and lists the code's SHA-256 (the signature is the station's to
 * check against the permit's reviewers). On success *out holds the file's
 * text and 0 is returned; otherwise prints "pht CMD: --approval ..." and
 * returns the exit code.
 */
int pht_cli_load_approval(const char *cmd, const char *path, const char *code,
    size_t len, struct pht_buf **out);

#endif
