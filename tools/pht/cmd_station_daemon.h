/* cmd_station_daemon.h — pht station run|queue|approve|refuse (the daemon and its approval queue). */
#ifndef CMD_STATION_DAEMON_H
#define CMD_STATION_DAEMON_H

/* pht station run --config STATION.json [...]; argv[1] is "run". */
int pht_station_cmd_run(int argc, char **argv);

/* pht station queue --config STATION.json [--json]; argv[1] is "queue". */
int pht_station_cmd_queue(int argc, char **argv);

/* pht station approve|refuse --config STATION.json ID [--by NAME]. */
int pht_station_cmd_decide(int argc, char **argv);

#endif
