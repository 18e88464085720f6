/* pht_station_seen.h — the station's durable store of train ids already seen (replay defence). */
#ifndef PHT_STATION_SEEN_H
#define PHT_STATION_SEEN_H

struct pht_err;

/*
 * The store is a text file, one train id per line, only ever appended to.
 * Ids follow pht_id_ok (pht_id.h): 1..128 characters from [0-9A-Za-z_.-],
 * not "." or "..". The file is a journal (pht_journal.h).
 *
 * Records id in the store at path (created mode 0600 if missing), under an
 * exclusive lock: PHT_ERR_REPLAY ("train ID was seen before") if it is
 * already there; else the id is appended and fsynced before PHT_OK is
 * returned, so a train is recorded durably before it can run. A last line
 * left without its newline by a crash is ignored (it was never confirmed)
 * and closed off before the new id. PHT_ERR_INVALID for a bad id,
 * PHT_ERR_IO, PHT_ERR_TOO_LARGE for a store over 256 MiB.
 */
int pht_station_seen_add(const char *path, const char *id, struct pht_err *err);

/* 1 if id is in the store at path, 0 if not (or the store does not exist). */
int pht_station_seen_has(const char *path, const char *id, struct pht_err *err);

#endif
