/* cmd_station_daemon.h — pht station run|queue|approve|refuse (the daemon and its approval queue). */
#ifndef CMD_STATION_DAEMON_H
#define CMD_STATION_DAEMON_H

#include <jansson.h>

/* pht station run --config STATION.json [...]; argv[1] is "run". */
int pht_station_cmd_run(int argc, char **argv);

/* pht station queue --config STATION.json [--json]; argv[1] is "queue". */
int pht_station_cmd_queue(int argc, char **argv);

/*
 * pht station queue show --config STATION.json ID [--std DIR]: the queued
 * train's fields, permit, expiry, code and its diff against the standard
 * train of its name (cmd_station_review.c); argv[1] is "show".
 */
int pht_station_cmd_queue_show(int argc, char **argv);

/*
 * One line of a queued train's listing: "  LABEL      a, b, c" from a
 * JSON array of strings ("(none known)" when it is empty).
 */
void pht_station_print_list(const char *label, const json_t *a);

/* pht station approve|refuse --config STATION.json ID [--by NAME]. */
int pht_station_cmd_decide(int argc, char **argv);

#endif
