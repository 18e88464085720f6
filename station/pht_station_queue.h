/* pht_station_queue.h — the station's durable approval queue for trains of review signers. */
#ifndef PHT_STATION_QUEUE_H
#define PHT_STATION_QUEUE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pht_err;
struct pht_station_config;

/*
 * The queue is a directory beside the audit log, "<audit_log>.queue"
 * (mode 0700), holding one file per queued train, "<train id>.json"
 * (mode 0600, written atomically), a JSON object:
 *
 *   train        the train id (the queue id)
 *   node_train   the id the node delivered it under, round: its round
 *   envelope     the signed envelope, byte for byte
 *   queued       RFC 3339 UTC time it was queued
 *   signer       the signer's name in the station config
 *   name         the train's name (if known), code_sha256, datasets,
 *   params       the params as signed; permit: the permit id it names
 *                (if any)
 *   columns      the dataset columns named in the params (the columns it
 *                may read, as far as can be known before it runs)
 *   expires      RFC 3339 UTC time the train expires (from its payload;
 *                a steward may approve it only before)
 *   state        "pending", "approved" or "refused"
 *   by, decided  who decided and when (once decided)
 *
 * The daemon adds entries, `pht station approve|refuse` decides them (and
 * logs the decision in the audit log), the daemon runs approved entries
 * and answers refused ones, then removes them. Ids are the node's train
 * ids (pht_id_ok, pht_id.h); the queue refuses any other id and passes
 * over any file that is not "<id>.json".
 */

/* The queue directory of a station config ("<audit_log>.queue"); caller frees. NULL on OOM. */
char *pht_station_queue_dir(const struct pht_station_config *cfg);

/*
 * Adds a queued train. item must hold at least "train" and "envelope";
 * "state" is set to "pending" and "queued" to now. Creates the directory
 * if needed. PHT_ERR_INVALID for a bad train id, PHT_ERR_REPLAY if the id
 * is queued already, PHT_ERR_IO.
 */
int pht_station_queue_add(const char *dir, json_t *item, struct pht_err *err);

/*
 * Lists the queue: *out gets an array of items (the caller decrefs) in
 * order of their "queued" time, then id. A missing directory is an empty
 * queue. A file that does not parse is reported (PHT_ERR_MALFORMED naming
 * it), not skipped.
 */
int pht_station_queue_list(const char *dir, json_t **out, struct pht_err *err);

/*
 * Reads one item; *out (caller decrefs). PHT_ERR_NOT_FOUND ("no queued
 * train ID") if absent, PHT_ERR_INVALID for a bad id.
 */
int pht_station_queue_get(const char *dir, const char *id, json_t **out,
    struct pht_err *err);

/*
 * Records a steward's decision on a pending item: approve (1) or refuse
 * (0), by whom (1..128 printable characters). PHT_ERR_NOT_FOUND if absent,
 * the refusals of pht_station_queue_may_decide at pht_time_now() (no
 * longer pending, or an approval after the train expired),
 * PHT_ERR_INVALID for a bad id or name.
 */
int pht_station_queue_decide(const char *dir, const char *id, int approve,
    const char *by, struct pht_err *err);

/*
 * The queued train's payload, parsed from the item's envelope (its
 * signature was verified when it was queued) with every check but the
 * clock (PHT_TRAINMSG_AT_ISSUE): *msg (caller frees with
 * pht_trainmsg_free). Errors of pht_envelope_parse and pht_trainmsg_parse.
 */
struct pht_trainmsg;
int pht_station_queue_train(const json_t *item, struct pht_trainmsg **msg,
    struct pht_err *err);

/*
 * Whether a steward may decide item at time now: it must be pending
 * (PHT_ERR_DENIED "train ID was already approved by NAME"), and to be
 * approved not expired (PHT_ERR_EXPIRED "train ID expired at T, before
 * this approval (now N): refuse it, or ask the analyst to send it again
 * with a longer --expires"). Refusing an expired train is allowed (the
 * analyst gets a signed refusal). Errors of pht_station_queue_train.
 */
int pht_station_queue_may_decide(const json_t *item, int approve, int64_t now,
    struct pht_err *err);

/* Removes an item once it is answered. PHT_ERR_NOT_FOUND if absent. */
int pht_station_queue_remove(const char *dir, const char *id, struct pht_err *err);

/*
 * The dictionary columns of the dataset at dict_path that params names:
 * every string anywhere in params equal to a column name, in dictionary
 * order. *out gets an array of strings (empty if the dictionary cannot be
 * read). NULL-safe on params.
 */
int pht_station_queue_columns(const char *dict_path, const json_t *params,
    json_t **out, struct pht_err *err);

#endif
