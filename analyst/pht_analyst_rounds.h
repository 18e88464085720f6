/* pht_analyst_rounds.h — the round loop of a whole train: station() at every station, then combine(), until combine says done; pht sim and pht run differ only in the transport. */
#ifndef PHT_ANALYST_ROUNDS_H
#define PHT_ANALYST_ROUNDS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pht_err;
struct pht_limits;
struct pht_run_stats;

/*
 * How a round reaches the stations: in-process runs on local datasets
 * (pht sim, tools/pht/cmd_sim.c) or signed trains through the node
 * (pht_analyst_run). round runs round `round` with params at
 * stations[0..n) and sets outputs[i] (the loop owns it) to station i's
 * released output, or leaves it NULL when station i gave none. It returns
 * PHT_OK, or an error (detail in err) that ends the run.
 */
struct pht_analyst_transport {
	int (*round)(void *arg, int round, const json_t *params,
	    const char *const *stations, size_t n, json_t **outputs,
	    struct pht_err *err);
	/*
	 * Why station gave no result in round (a category the station or the
	 * transport chose: "rejected: refused: too few rows: ...", "no answer:
	 * ..."), or NULL when not known; the string stays valid until the
	 * next call of round. May be NULL.
	 */
	const char *(*reason)(void *arg, int round, const char *station);
	void *arg;
};

/* One run of the loop; the caller owns every pointer. */
struct pht_analyst_rounds {
	const char *code;                    /* the train's Lua source */
	size_t code_len;
	const char *chunkname;               /* for combine's error messages */
	const json_t *params;                /* first round's params (object) or NULL: {} */
	const char *const *stations;         /* the first round's stations */
	size_t nstations;
	size_t min_stations;                 /* 0: every station must release */
	int max_rounds;                      /* 0: 50 */
	int first_round;                     /* 0 or 1: a new run; N: a run picked up
	                                        at round N (params, stations: its) */
	const json_t *participation;         /* a run picked up: its participation so
	                                        far; entries of rounds before
	                                        first_round are kept (NULL: none) */
	uint64_t seed;                       /* combine's math.random seed; 0: fresh */
	const struct pht_limits *limits;     /* combine's sandbox; NULL: defaults */
	const struct pht_analyst_transport *transport;
	/* after every combine that succeeded (may be NULL) */
	void (*combined)(void *arg, int round, const struct pht_run_stats *stats);
	void *arg;
};

/* How the loop ended, for the caller's words. */
struct pht_analyst_rounds_end {
	int rounds;      /* rounds begun */
	int ran_out;     /* 1: max_rounds rounds without combine saying done */
	/*
	 * Who took part, one entry a round (the caller decrefs; set in every
	 * case, NULL only when out of memory):
	 *   [{"round": N, "included": [ID, ...],
	 *     "missing": [{"station": ID, "reason": TEXT}, ...]}, ...]
	 * included: the stations whose released output combine got; missing:
	 * the round's other stations, with the transport's reason ("no
	 * result" when it gave none).
	 */
	json_t *participation;
};

/*
 * Round after round: the transport runs the round at the active stations;
 * at least min_stations of them (bounded by how many are active, and at
 * least one) must release a result, or PHT_ERR_POLICY names the ones that
 * did not with their reasons (and, when some released, the --min-stations
 * that would go on without the others); combine (pht_train_run_combine) gets the released outputs as
 * [{"station", "output"}] in the order of the stations; when it says done
 * *result (caller decrefs) gets its "result", else its params feed the
 * next round, which goes to the stations that released. Errors: the
 * transport's as it gave them, combine's prefixed "round N: combine",
 * PHT_ERR_LIMIT when the rounds run out (end->ran_out set). end is set
 * in every case. A result that is a JSON object gets end->participation
 * as its "participation" member too (docs/federation.md).
 */
int pht_analyst_rounds_run(const struct pht_analyst_rounds *spec, json_t **result,
    struct pht_analyst_rounds_end *end, struct pht_err *err);

#endif
