/* pht_station_diff_int.h — the release auditor's insides, shared by its files: the cached state of a dataset's store, its replay and its snapshot. Not for use outside pht_station_diff*.c. */
#ifndef PHT_STATION_DIFF_INT_H
#define PHT_STATION_DIFF_INT_H

#include "pht_hash.h"
#include "pht_station_diff.h"
#include "pht_station_setsys.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pht_err;
struct pht_train_rowsets;

/* The snapshot of PREFIX.DATASET: a name no dataset's store can have ('+' is not in a name). */
#define SNAP_SUFFIX "+snapshot"
#define STORE_MAX_BYTES ((off_t)1 << 30)
/* A line holds the keys of at most 2^32 rows or 4096 sets of at most 16 MiB, in base64. */
#define LINE_MAX_BYTES ((size_t)64 << 20)

/* One version of a dataset's rows: their keys' ids in the universe. */
struct rowmap {
	char id[PHT_SHA256_HEX_LEN + 1];
	uint32_t n;
	uint32_t *ids;
	int stored;             /* its keys line is in the file */
};

/* One release, for the budget. */
struct rel {
	int64_t t;
	size_t signer;
};

/*
 * The cached state of one dataset's store: everything the file's first
 * off bytes say (complete lines only), for the file dev/ino.
 */
struct store {
	char *dataset, *path, *snap_path;
	int valid;
	dev_t dev;
	ino_t ino;
	off_t off;
	uint64_t line;
	int64_t k;
	struct pht_station_setsys *sys;
	/* the universe: key -> id + 1 (0 = empty), open addressing */
	uint64_t *hkey;
	uint32_t *hval;
	size_t hcap, nkeys;
	struct rowmap *maps;
	size_t nmaps;
	struct rel *rels;
	size_t nrels;
	char **signers;
	size_t nsigners;
	/* snapshots: see pht_station_diff_snap.c */
	double tail_cost;       /* seconds of set-system work on the lines after the last snapshot */
	double snap_cost;       /* seconds the last snapshot took to write */
	off_t snap_off;         /* the journal bytes the snapshot in use covered (0: none) */
	uint64_t replayed;      /* releases replayed into the set system since reset */
	uint64_t snapshots;     /* snapshots written by this process */
};

/* The keys of one dataset as last computed. */
struct keycache {
	char *dataset;
	char csv[PHT_SHA256_HEX_LEN + 1];
	size_t nrows;
	uint32_t *file_rows;    /* NULL when no row was dropped */
	uint64_t *keys;
};

struct pht_station_diff {
	char *prefix;
	uint8_t secret[32];
	uint8_t snap_key[32];   /* authenticates snapshots; derived from secret */
	struct pht_station_setsys_limits lim;
	struct store *stores;
	size_t nstores;
	struct keycache kc;
};


/* ---- keys (pht_station_diff_keys.c) ---- */

/* The station secret for row keys, derived from its signing key. */
int pht_diff_secret(const struct pht_key *station_key, uint8_t secret[32], struct pht_err *err);

/* ---- the cached state and its replay (pht_station_diff_replay.c) ---- */

void pht_diff_store_reset(struct store *s);
/* Seconds on the monotonic clock (what the snapshot policy counts work in). */
double pht_diff_now(void);
struct rowmap *pht_diff_find_map(struct store *s, const char *id);
/* Adds the rowmap of n keys (id their hash); NULL if out of memory. */
struct rowmap *pht_diff_add_map(struct store *s, const char *id, const uint64_t *keys,
    size_t n, int stored);
/* The id of key in the universe, added if new. */
int pht_diff_key_id(struct store *s, uint64_t key, uint32_t *id);
void pht_diff_keys_bytes(const uint64_t *keys, size_t n, uint8_t *out);
int pht_diff_add_rel(struct store *s, int64_t t, const char *signer);
int64_t pht_diff_releases_since(const struct store *s, const char *signer, int64_t since);
/* The ids of set i of rs through map m into *ids (grown as needed); *n their count. */
int pht_diff_set_ids(const struct pht_train_rowsets *rs, size_t i, const struct rowmap *m,
    uint32_t **ids, size_t *cap, size_t *n);
/* The bytes [from, to) of the file at fd, NUL-terminated, into a new *out. */
int pht_diff_read_range(int fd, const char *path, off_t from, off_t to, char **out,
    struct pht_err *err);
/*
 * Replays the whole lines of data[0 .. len) into s (light: the releases
 * only for the budget, their sets not added: a snapshot holds them);
 * *used gets the bytes of those lines.
 */
int pht_diff_replay_lines(struct store *s, const char *data, size_t len, int light,
    const struct pht_station_setsys_limits *lim, size_t *used, struct pht_err *err);
/*
 * Brings s up to date with the file open at fd (locked): from a snapshot
 * if s starts from nothing and a good one is there, then the complete
 * lines after s->off. A damaged line leaves s invalid.
 */
int pht_diff_store_sync(struct pht_station_diff *d, struct store *s, int fd, int64_t k,
    struct pht_err *err);

/* ---- snapshots (pht_station_diff_snap.c) ---- */

/* Whether the work since the last snapshot makes a new one worth writing. */
int pht_diff_snap_due(const struct store *s);
/*
 * Writes the snapshot of s (valid, up to date with the journal at fd,
 * lock held) to s->snap_path. PHT_ERR_IO, PHT_ERR_NOMEM, PHT_ERR_TOO_LARGE.
 */
int pht_diff_snap_write(struct pht_station_diff *d, struct store *s, int fd,
    struct pht_err *err);
/*
 * Loads s (reset, for k) from its snapshot if there is one that verifies
 * and matches the first bytes of the journal at fd (size bytes): the set
 * system from the snapshot, the rest by a light replay of the journal up
 * to it. PHT_OK if it was used; anything else leaves s reset (the caller
 * replays the whole journal).
 */
int pht_diff_snap_load(struct pht_station_diff *d, struct store *s, int fd, off_t size,
    int64_t k);

#endif
