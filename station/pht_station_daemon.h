/* pht_station_daemon.h — the station daemon: long-polls the node, runs trains, posts signed sealed results. */
#ifndef PHT_STATION_DAEMON_H
#define PHT_STATION_DAEMON_H

#include <signal.h>

struct pht_err;

/* How the daemon runs; zero fields take the defaults. */
struct pht_station_daemon_opts {
	const char *config;              /* STATION.json (with a node section) */
	volatile sig_atomic_t *stop;     /* set by SIGTERM/SIGINT: leave cleanly */
	int wait_seconds;                /* inbox long poll, 1..60; default 30 */
	int backoff_min_ms;              /* first retry delay; default 500 */
	int backoff_max_ms;              /* bound of the delay; default 30000 */
	/* One line per event (never NULL-called with NULL line); may be NULL. */
	void (*log)(void *arg, const char *line);
	void *log_arg;
};

/*
 * Runs the station daemon until *stop is set. At start: loads the config
 * (it must have a node section), opens the station (pht_station_open),
 * publishes the datasets' dictionaries (POST /v1/stations/self). Then,
 * round after round: answers approved and refused items of the approval
 * queue (pht_station_queue.h), long-polls its inbox and puts every
 * envelope through pht_station_exec. Trains of review signers go to the
 * approval queue (the inbox entry is acknowledged); every other outcome
 * becomes a result payload (pht_resultmsg.h) signed with the station's
 * key and posted with the audit log head (which acknowledges the entry).
 * A released output, and the reason of any other outcome, are sealed to
 * the train's result key when the envelope was authentic; reasons never
 * carry data values (a train's own error message stays in the audit log).
 *
 * Results not yet posted are kept in "<audit_log>.outbox/" and posted
 * first after a restart. The entry being processed is kept in
 * "<audit_log>.inflight" until its answer is out of the station's hands;
 * a marker found at start is finished from the audit log whatever the
 * time (a logged release is sealed as at the train's issue and sent again,
 * never recomputed; a train without an outcome goes through the station
 * now), or closed as failed: interrupted (logged, answered) when it cannot
 * be finished. When the node cannot be reached, every request is
 * retried with exponential backoff (min..max, with jitter). A local fault
 * (disk full, an audit log that cannot be written) pauses the daemon:
 * said once, no new train taken, retried with backoff, resumed.
 *
 * Returns PHT_OK after a clean stop; an error only if the configuration
 * or the keys cannot be loaded (a broken station state at start is said
 * and waited out), with the detail.
 */
int pht_station_daemon_run(const struct pht_station_daemon_opts *opts,
    struct pht_err *err);

#endif
