/* cmd_catalog.h — the station side of the catalogue command (cmd_catalog.c). */
#ifndef CMD_CATALOG_H
#define CMD_CATALOG_H

/* pht station catalog --config STATION.json; argv[1] is "catalog". */
int pht_cmd_station_catalog(int argc, char **argv);

#endif
