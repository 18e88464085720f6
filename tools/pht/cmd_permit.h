/* cmd_permit.h — pht station halt|resume (the operator's halt; pht permit is in pht_cli.h). */
#ifndef CMD_PERMIT_H
#define CMD_PERMIT_H

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

#endif
