/* pht_station_gov.h — the station's governance state: data permits, revocation lists, halt orders, the local halt. */
#ifndef PHT_STATION_GOV_H
#define PHT_STATION_GOV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pht_audit;
struct pht_err;
struct pht_http;
struct pht_permit;
struct pht_station_config;
struct pht_trainmsg;

/*
 * Everything lives in one directory beside the audit log,
 * "<audit_log>.gov" (mode 0700), files written atomically (mode 0600):
 *
 *   halted              present while the station is halted by its
 *                       operator: {"by", "reason", "time"}
 *   permits/ID.env      every permit seen, the authority's signed envelope
 *                       byte for byte (a later-issued permit with the same
 *                       id replaces it)
 *   revocations-FP.env  the latest revocation list of the authority whose
 *                       key has fingerprint FP (its seq only ever grows)
 *   halts.json          the latest halt order per authority and scope:
 *                       {"FP SCOPE": "<envelope text>", ...}
 *   usage.json          runs counted per permit: {"ID": {"runs": N}}
 *
 * Stored envelopes are verified again whenever they are read, so the
 * files are no more trusted than the node that delivered them.
 * docs/governance.md describes the rules.
 */
struct pht_station_gov;

/* The state directory of a config ("<audit_log>.gov"); caller frees. NULL on OOM. */
char *pht_station_gov_dir(const struct pht_station_config *cfg);

/*
 * Opens the governance state of the station cfg describes (cfg borrowed,
 * must outlive gov): loads the permit authorities' public keys (a private
 * key or a bad file is refused with PHT_ERR_INVALID naming it). log (may
 * be NULL; borrowed) receives governance events: "permit" (a new permit
 * stored), "revocations" (a newer list: authority, list_seq, revoked) and
 * "halt-order" (a new order: authority, scope, issued, until, reason).
 */
int pht_station_gov_open(const struct pht_station_config *cfg,
    struct pht_audit *log, struct pht_station_gov **out, struct pht_err *err);

/* Frees gov; accepts NULL. */
void pht_station_gov_free(struct pht_station_gov *gov);

/*
 * The operator's halt (halt = 1) or resume (halt = 0) of the station whose
 * config is cfg: writes (or removes) the flag file first, so it takes
 * effect at once, then logs "halted" or "resumed" with by and reason (may
 * be NULL) in the audit log (signed with the station key named in cfg).
 * PHT_ERR_DENIED if the station is already halted / not halted
 * (nothing is logged then).
 */
int pht_station_gov_set_halt(const struct pht_station_config *cfg, int halt,
    const char *by, const char *reason, struct pht_err *err);

/*
 * 1 if the operator's halt flag is set for the state directory dir (a
 * NUL-terminated path given as void * so it can be a pht_limits cancel
 * callback: the running train is killed within about 50 ms of a halt).
 */
int pht_station_gov_halted_cb(void *dir);

/* The state directory of gov (borrowed). */
const char *pht_station_gov_state_dir(const struct pht_station_gov *gov);

/*
 * Whether a train may run here now. Checks, in this order, each refusal
 * PHT_ERR_DENIED unless said otherwise, with the reason in why:
 *  - the operator's halt ("station is halted by NAME since T: REASON");
 *  - authority halt orders in force covering everything or the dataset;
 *  - a permit named by the train (when none: refused if require_permit,
 *    else PHT_OK with *permit NULL); no permit authority configured: the
 *    permit cannot be checked and is ignored (PHT_OK, *permit NULL);
 *  - the permit: the envelope embedded in the train (then stored) or a
 *    stored one ("permit P is not known at this station" otherwise); it
 *    must be signed by a configured authority (PHT_ERR_UNKNOWN_SIGNER,
 *    PHT_ERR_BAD_SIGNATURE), parse (PHT_ERR_MALFORMED) and have the id
 *    the train names;
 *  - valid now (PHT_ERR_NOT_YET_VALID, PHT_ERR_EXPIRED);
 *  - not revoked by its authority's latest list ("permit P was revoked
 *    (revocation list seq N)");
 *  - authority halt orders in force for the permit;
 *  - it names the signer, this station, the dataset, the code hash (or
 *    one of its reviewers approved the code: the train's code_approval)
 *    and allows the round (pht_permit_check_train);
 *  - runs left under max_runs ("permit P: all N runs are used").
 * On PHT_OK *permit (may be NULL) is the permit the train runs under; the
 * caller frees it.
 */
int pht_station_gov_check(struct pht_station_gov *gov,
    const struct pht_trainmsg *msg, const char *signer_fp, const char *dataset,
    int64_t now, struct pht_permit **permit, struct pht_err *why);

/*
 * Counts one run under permit_id durably, under a lock shared by every
 * process of the station, before the train runs (a crash never gives a
 * run for free). PHT_ERR_DENIED ("permit P: all N runs are used") if
 * max_runs (0: no cap) runs are counted already; *runs (may be NULL) gets
 * the new count. PHT_ERR_IO on failure.
 */
int pht_station_gov_count_run(struct pht_station_gov *gov, const char *permit_id,
    int64_t max_runs, int64_t *runs, struct pht_err *err);

/* The runs counted so far under permit_id (0 if none). */
int64_t pht_station_gov_runs(const struct pht_station_gov *gov,
    const char *permit_id);

/*
 * After a run, before anything is released: every column the train read
 * (columns_read as the runtime reports it, comma-separated, ",..." at the
 * end when the list was cut short) must be allowed by the permit for
 * dataset. PHT_ERR_DENIED naming the first column that is not (or saying
 * the list was cut short), else PHT_OK.
 */
int pht_station_gov_check_columns(const struct pht_permit *permit,
    const char *dataset, const char *columns_read, struct pht_err *why);

/*
 * Stores a revocation list (envelope text) if it is signed by a configured
 * authority and newer than the one stored for that authority.
 * *changed (may be NULL) is 1 if it was stored, 0 if it is the one
 * already stored. PHT_ERR_REPLAY ("older than the stored list, seq N")
 * for an older list or the same seq with other contents; envelope and
 * parse errors as pht_envelope_open and pht_revocations_parse.
 */
int pht_station_gov_update_revocations(struct pht_station_gov *gov,
    const char *env, size_t len, int *changed, struct pht_err *err);

/*
 * Stores a halt order (envelope text) if it is signed by a configured
 * authority and issued later than the stored order of that authority for
 * the same scope. *changed as above; PHT_ERR_REPLAY for an older order.
 */
int pht_station_gov_update_halt(struct pht_station_gov *gov, const char *env,
    size_t len, int *changed, struct pht_err *err);

/*
 * One poll cycle's fetch from the node: GET base/v1/revocations and
 * base/v1/halts, every envelope through the update functions above.
 * Envelopes the station refuses are counted in *refused (may be NULL) and
 * skipped: the node is trusted for nothing. PHT_ERR_NETWORK (and the other
 * pht_http errors) if the node could not be asked.
 */
int pht_station_gov_fetch(struct pht_station_gov *gov, struct pht_http *http,
    const char *base, int *refused, struct pht_err *err);

#endif
