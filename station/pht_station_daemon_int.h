/* pht_station_daemon_int.h — what the files of the station daemon share: its state, the node calls, results and recovery (internal to station/). */
#ifndef PHT_STATION_DAEMON_INT_H
#define PHT_STATION_DAEMON_INT_H

#include <jansson.h>
#include <stdint.h>

#include "pht_station_daemon.h"

struct pht_audit_head;
struct pht_err;
struct pht_http;
struct pht_key;
struct pht_station;
struct pht_station_config;
struct pht_station_result;
struct pht_trust;

/*
 * The daemon's state. delay_ms is the current backoff delay: 0 after a
 * request that reached the node, else the last delay (doubling up to the
 * bound).
 */
struct daemon {
	const struct pht_station_daemon_opts *o;
	struct pht_station *st;
	const struct pht_station_config *cfg;  /* borrowed from st */
	struct pht_key *key;                   /* the station's signing key */
	struct pht_trust *trust;               /* the config's signers */
	struct pht_http *http;
	char *base;                            /* node URL without a trailing / */
	char *queue_dir, *outbox_dir, *inflight;
	const char *id;                        /* station id */
	int wait_s, min_ms, max_ms, delay_ms;
	int paused;                            /* 1 while a local fault holds it */
};

/* ---- pht_station_daemon.c: the loop and the node ---- */

/* One line through the daemon's log callback (nothing if it has none). */
void sd_say(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 once the caller asked the daemon to stop. */
int sd_stopping(const struct daemon *d);

/* Sleeps ms in steps of 100 ms, waking early when asked to stop. */
void sd_nap(struct daemon *d, int ms);

/* Waits the next backoff delay: doubled each time, bounded, with jitter. */
void sd_backoff(struct daemon *d);

/*
 * One request to the node: base URL + path; *out (may be NULL; caller
 * decrefs) gets the reply. Network failures are PHT_ERR_NETWORK.
 */
int sd_call(struct daemon *d, const char *method, const char *path, const json_t *body,
    long timeout_ms, json_t **out, struct pht_err *err);

/* ---- pht_station_daemon_result.c: results, the outbox, the in-flight marker ---- */

/*
 * The POST body for a result: the payload built, sealed to the train's
 * result key when the envelope is authentic and its payload valid, signed
 * with the station key. output is the released output (NULL otherwise).
 */
int sd_make_result(struct daemon *d, const char *node_train, int64_t round,
    const char *status, const char *error, const char *reason,
    const json_t *output, const char *envelope, const struct pht_audit_head *head,
    int64_t now, json_t **body, struct pht_err *err);

/* Posts every outbox item; PHT_ERR_NETWORK if one could not reach the node. */
int sd_flush_outbox(struct daemon *d);

/* Keeps a result (body, consumed) durably in the outbox, then tries to post it. */
int sd_send_result(struct daemon *d, const char *node_train, int64_t round, json_t *body,
    struct pht_err *err);

/* The current head of the audit log (seq 0 and 64 zeros for an empty log). */
void sd_fix_head(struct daemon *d, struct pht_audit_head *h);

/* The result of an exec outcome (rc, res, why): built, kept, posted. */
int sd_answer(struct daemon *d, const char *node_train, int64_t round, const char *envelope,
    struct pht_station_result *res, const struct pht_err *why, int rc,
    struct pht_err *err);

/*
 * The in-flight marker, "<audit_log>.inflight", holds the entry being
 * processed ({"train", "round", "envelope"}); it is written (fsynced)
 * before a train goes through the station and removed (sd_unmark) once its
 * answer is in the outbox or the queue. A marker found at start means the
 * daemon died in between.
 */
int sd_mark(struct daemon *d, const char *node_train, int64_t round, const char *envelope,
    struct pht_err *err);
void sd_unmark(struct daemon *d);

/* ---- pht_station_daemon_recover.c: the approval queue and crash recovery ---- */

/* The queue item for a train exec queued: what a steward needs to decide. */
int sd_queue_train(struct daemon *d, const char *node_train, int64_t round,
    const char *envelope, struct pht_err *err);

/* Runs approved items and answers refused ones; PHT_OK unless the station broke. */
int sd_process_queue(struct daemon *d, struct pht_err *err);

/* 1 for a fault of the station's own disk or memory: worth waiting for, never final. */
int sd_local_fault(int code);

/*
 * Finishes the train a crash interrupted, from what the audit log says
 * (the contract is at its definition). PHT_OK once the marker is gone; an
 * error only for a local fault (disk, memory): the marker stays and the
 * caller waits and tries again.
 */
int sd_recover(struct daemon *d, struct pht_err *err);

#endif
