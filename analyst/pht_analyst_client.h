/* pht_analyst_client.h — the analyst's client: sign, dispatch, collect, verify, open and combine, round after round. */
#ifndef PHT_ANALYST_CLIENT_H
#define PHT_ANALYST_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_http.h"

struct pht_err;
struct pht_key;
struct pht_limits;
struct pht_trust;

/* Where a run stands, handed to the progress callback after every change. */
struct pht_analyst_progress {
	int round;
	size_t expected;      /* stations the round was sent to */
	size_t answered;      /* stations whose result is in (released or not) */
	size_t errors;        /* answered with an error or refusal */
	size_t refused;       /* results refused by the client (bad signature, ...) */
};

/*
 * A run picked up again after it stopped waiting (pht results): the round
 * that was in flight, already at the node, and what was reported so far.
 */
struct pht_analyst_resume {
	int round;                           /* the round in flight */
	const char *train_id;                /* its train id at the node */
	int64_t expires;                     /* its trains' expiry (Unix seconds) */
	const json_t *report;                /* the report so far, or NULL */
};

/* Everything a run needs; the caller owns every pointer. */
struct pht_analyst_run_spec {
	const char *node_url;                /* https://host:port */
	struct pht_http_opts http;           /* analyst certificate, key, CA */
	const struct pht_key *sign_key;      /* analyst's Ed25519 private key */
	const struct pht_key *seal_key;      /* analyst's X25519 private key */
	const struct pht_trust *station_keys;/* pinned station keys, named by station id */
	const char *const *stations;         /* target station ids */
	size_t nstations;
	const char *code;                    /* the train's Lua source */
	size_t code_len;
	const char *chunkname;               /* for combine's error messages */
	const char *name;                    /* train name for the payload, or NULL */
	const json_t *params;                /* first round's params (object) or NULL */
	const char *const *datasets;
	size_t ndatasets;
	const char *permit;                  /* data permit id, or NULL */
	const char *permit_envelope;         /* the signed permit's text, or NULL */
	const char *code_approval;           /* a reviewer's code approval text, or NULL */
	int64_t round_timeout;               /* seconds pht run waits for each round
	                                        (0: one look at the node) */
	int64_t expires;                     /* seconds each round's train stays valid
	                                        at the stations; 0: round_timeout */
	int detach;                          /* stop waiting once the first round
	                                        this call posts is at the node */
	const struct pht_analyst_resume *resume;  /* NULL: a new run; else params
	                                        and stations are that round's */
	size_t min_stations;                 /* 0: every station must answer */
	int max_rounds;                      /* 0: 50 */
	const struct pht_limits *limits;     /* combine's sandbox; NULL: defaults */
	void (*progress)(void *arg, const struct pht_analyst_progress *p);
	void (*note)(void *arg, const char *line);   /* events worth telling */
	void *arg;
};

/*
 * Runs the train through the federation. Each round: a fresh train id, a
 * train payload (pht_trainmsg) with the round's params, issued now and
 * expiring after expires (the stations refuse it from then on; a steward
 * may hold it that long), the analyst's result key (the public half
 * of seal_key), signed (pht_envelope) and posted to the node
 * (POST /v1/trains, retried while the node is unreachable); then the
 * results are long-polled until every station answered or the round's
 * deadline passed. A result is accepted only if its envelope is signed by
 * the pinned key of the station the node says sent it, its payload
 * (pht_resultmsg) names this train, round and station, and its seal opens
 * with seal_key; any other result is refused and reported through note
 * (it does not count as an answer). The rounds are the loop of
 * pht_analyst_rounds.h with the node as its transport (the one pht sim
 * shares): released outputs go to combine in the order of stations;
 * combine's params feed the next round, which goes to the stations that
 * answered.
 *
 * A round goes on when at least min_stations (0: all) released a result;
 * *report (caller decrefs; set also on failure) gets
 *   {"rounds": N, "train_ids": [...], "failed": [{"station","round",
 *    "status","reason"}], "refused": [{"station","round","reason"}],
 *    "participation": [...]} (pht_analyst_rounds_end; also in an object
 * result)
 * with every station that failed, refused, or did not answer by the
 * deadline ("status": "no answer"). *result gets combine's final "result".
 *
 * Stopping without a result. When a round's deadline passes (or at once
 * with detach, or when http.cancel is set) while stations have not
 * answered, too few released to go on, and the train has not expired,
 * the run stops waiting: it returns PHT_OK with *result NULL and the
 * report's "waiting" set to {"round", "train", "params", "stations",
 * "expires"} (the round in flight, its train id, params and stations, and
 * the trains' expiry as Unix seconds): everything a later call needs, with
 * resume, to pick the results up from the node (which keeps them until
 * then) and go on with the rounds. Pending stations are then not in
 * "failed". A resumed run starts at resume->round, collects that round's
 * results from the node's first one on, and never posts that round again.
 *
 * PHT_ERR_NETWORK if the node stays unreachable past a deadline,
 * PHT_ERR_DENIED/PHT_ERR_MALFORMED from the node, PHT_ERR_POLICY when too
 * few stations answered (detail names them), PHT_ERR_TRAIN from combine,
 * PHT_ERR_LIMIT when the rounds run out.
 */
int pht_analyst_run(const struct pht_analyst_run_spec *spec, json_t **result,
    json_t **report, struct pht_err *err);

/*
 * GET /v1/stations: *out (caller decrefs) gets the node's "stations" array
 * ({"id", "dictionaries", "last_seen", "log_head"} each).
 */
int pht_analyst_list_stations(const char *node_url, const struct pht_http_opts *http,
    json_t **out, struct pht_err *err);

#endif
