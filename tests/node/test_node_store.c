/* test_node_store.c — the node mailbox: ordering, ownership, no duplicates, durability. */
#include "tap.h"

#include "pht_err.h"
#include "pht_node_store.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

static char dir[] = "/tmp/pht-node-store-XXXXXX";

static char *
db_path(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static void
test_basic(void)
{
	struct pht_node_store *st = NULL;
	struct pht_node_msg *m = NULL;
	struct pht_node_result *res = NULL;
	struct pht_node_delivery *d = NULL;
	struct pht_node_station *sl = NULL;
	struct pht_err e;
	const char *ab[] = {"a", "b"};
	const char *b_only[] = {"b"};
	char owner[PHT_NODE_NAME_MAX + 1];
	size_t n, nacked;
	int created, r;
	struct stat sb;

	pht_err_clear(&e);
	r = pht_node_store_open(db_path("basic.db"), &st, &e);
	tap_ok(r == PHT_OK && st != NULL, "open creates the store (%s)", pht_err_msg(&e));
	if (st == NULL)
		return;
	tap_ok(stat(db_path("basic.db"), &sb) == 0 && (sb.st_mode & 077) == 0,
	    "store file is private (0600)");

	r = pht_node_store_post_train(st, "t1", 1, "ana", "{\"x\":1}", 7, ab, 2,
	    1000, &created, &e);
	tap_ok(r == PHT_OK && created == 1, "post train t1 round 1 to a,b");
	r = pht_node_store_post_train(st, "t2", 1, "ana", "{\"x\":2}", 7, b_only, 1,
	    1001, &created, &e);
	tap_ok(r == PHT_OK && created == 1, "post train t2 to b");
	r = pht_node_store_post_train(st, "t1", 1, "ana", "{\"x\":1}", 7, ab, 2,
	    1002, &created, &e);
	tap_ok(r == PHT_OK && created == 0, "same post again is a no-op");
	r = pht_node_store_post_train(st, "t1", 1, "ana", "{\"x\":9}", 7, ab, 2,
	    1002, &created, &e);
	tap_ok(r == PHT_ERR_REPLAY && strstr(e.msg, "different envelope") != NULL,
	    "same round with another envelope refused: %s", e.msg);
	r = pht_node_store_post_train(st, "t1", 2, "bob", "{\"x\":3}", 7, ab, 2,
	    1003, &created, &e);
	tap_ok(r == PHT_ERR_DENIED && strstr(e.msg, "another analyst") != NULL,
	    "another analyst cannot post to t1: %s", e.msg);
	r = pht_node_store_train_owner(st, "t1", owner, sizeof(owner), &e);
	tap_ok(r == PHT_OK && strcmp(owner, "ana") == 0, "owner of t1 is ana");
	r = pht_node_store_train_owner(st, "zz", owner, sizeof(owner), &e);
	tap_ok(r == PHT_ERR_NOT_FOUND && strstr(e.msg, "zz") != NULL,
	    "owner of unknown train: not found");

	tap_ok(pht_node_store_inbox_pending(st, "b", &e) == 1, "b has work");
	tap_ok(pht_node_store_inbox_pending(st, "c", &e) == 0, "c has none");
	r = pht_node_store_inbox(st, "b", 10, 1010, &m, &n, &e);
	tap_ok(r == PHT_OK && n == 2, "b's inbox has 2 entries");
	if (n == 2) {
		tap_ok(strcmp(m[0].train, "t1") == 0 && strcmp(m[1].train, "t2") == 0 &&
		    m[0].seq < m[1].seq, "inbox in order of arrival");
		tap_ok(m[0].state == PHT_NODE_QUEUED && m[0].len == 7 &&
		    strcmp(m[0].envelope, "{\"x\":1}") == 0 &&
		    strcmp(m[0].analyst, "ana") == 0 && m[0].round == 1,
		    "entry carries envelope, analyst, round");
	}
	pht_node_msgs_free(m, n);
	r = pht_node_store_inbox(st, "b", 1, 1011, &m, &n, &e);
	tap_ok(r == PHT_OK && n == 1 && m[0].state == PHT_NODE_DELIVERED &&
	    strcmp(m[0].train, "t1") == 0, "not acked: handed out again, as delivered");
	pht_node_msgs_free(m, n);

	r = pht_node_store_ack(st, "b", "t2", -1, 1012, &nacked, &e);
	tap_ok(r == PHT_OK && nacked == 1, "b acks t2");
	r = pht_node_store_ack(st, "b", "t2", -1, 1012, &nacked, &e);
	tap_ok(r == PHT_OK && nacked == 0, "acking twice is harmless");
	r = pht_node_store_ack(st, "a", "t2", -1, 1012, &nacked, &e);
	tap_ok(r == PHT_ERR_NOT_FOUND && strstr(e.msg, "inbox of a") != NULL,
	    "a cannot ack a train it was not sent: %s", e.msg);

	r = pht_node_store_post_result(st, "t1", "a", 1, "R1", 2, 5, "h5", 1020,
	    &created, &e);
	tap_ok(r == PHT_OK && created == 1, "a posts result for t1 round 1");
	r = pht_node_store_post_result(st, "t1", "a", 1, "R1", 2, 5, "h5", 1021,
	    &created, &e);
	tap_ok(r == PHT_OK && created == 0, "same result again: not duplicated");
	r = pht_node_store_post_result(st, "t1", "a", 1, "R2", 2, 6, "h6", 1022,
	    &created, &e);
	tap_ok(r == PHT_ERR_REPLAY && strstr(e.msg, "different result") != NULL,
	    "a different result for the same round is refused: %s", e.msg);
	r = pht_node_store_post_result(st, "t2", "a", 1, "R", 1, 6, "h6", 1022,
	    &created, &e);
	tap_ok(r == PHT_ERR_NOT_FOUND && strstr(e.msg, "not sent to station a") != NULL,
	    "result for a train not sent to the station refused: %s", e.msg);
	r = pht_node_store_post_result(st, "t1", "b", 1, "Rb", 2, 2, "hb", 1023,
	    &created, &e);
	tap_ok(r == PHT_OK && created == 1, "b posts result for t1");

	r = pht_node_store_results(st, "t1", 0, 10, &res, &n, &e);
	tap_ok(r == PHT_OK && n == 2, "t1 has exactly 2 results");
	if (n == 2) {
		tap_ok(strcmp(res[0].station, "a") == 0 && strcmp(res[0].body, "R1") == 0 &&
		    res[0].log_seq == 5 && strcmp(res[0].log_hash, "h5") == 0 &&
		    strcmp(res[1].station, "b") == 0 && res[0].seq < res[1].seq,
		    "results in order of arrival with log heads; first result kept");
		int64_t after = res[0].seq;
		pht_node_results_free(res, n);
		r = pht_node_store_results(st, "t1", after, 10, &res, &n, &e);
		tap_ok(r == PHT_OK && n == 1 && strcmp(res[0].station, "b") == 0,
		    "results after a cursor");
	}
	pht_node_results_free(res, n);

	r = pht_node_store_deliveries(st, "t1", &d, &n, &e);
	tap_ok(r == PHT_OK && n == 2 && d[0].state == PHT_NODE_ACKED &&
	    d[0].has_result && strcmp(d[0].station, "a") == 0,
	    "posting a result acks the inbox entry");
	free(d);
	tap_ok(pht_node_store_inbox_pending(st, "a", &e) == 0,
	    "a's inbox is empty after its result");

	r = pht_node_store_station_publish(st, "a", "{\"reg\":[]}", 10, 1030, &e);
	tap_ok(r == PHT_OK, "a publishes dictionaries");
	r = pht_node_store_station_seen(st, "c", 1040, &e);
	tap_ok(r == PHT_OK, "c seen");
	r = pht_node_store_stations(st, &sl, &n, &e);
	tap_ok(r == PHT_OK && n == 3, "3 stations known (a, b, c)");
	if (n == 3) {
		tap_ok(strcmp(sl[0].id, "a") == 0 && sl[0].dictionaries != NULL &&
		    strcmp(sl[0].dictionaries, "{\"reg\":[]}") == 0 &&
		    sl[0].last_seen == 1030 && sl[0].log_seq == 5 &&
		    strcmp(sl[0].log_hash, "h5") == 0, "station a: dictionaries, seen, log head");
		tap_ok(strcmp(sl[2].id, "c") == 0 && sl[2].dictionaries == NULL &&
		    sl[2].log_seq == -1 && sl[2].last_seen == 1040, "station c: seen only");
	}
	pht_node_stations_free(sl, n);
	pht_node_store_free(st);

	/* Reopen: everything is still there. */
	st = NULL;
	r = pht_node_store_open(db_path("basic.db"), &st, &e);
	tap_ok(r == PHT_OK, "reopen");
	if (st == NULL)
		return;
	r = pht_node_store_inbox(st, "b", 10, 2000, &m, &n, &e);
	tap_ok(r == PHT_OK && n == 0, "after reopen: b's acked work stays acked");
	pht_node_msgs_free(m, n);
	r = pht_node_store_results(st, "t1", 0, 10, &res, &n, &e);
	tap_ok(r == PHT_OK && n == 2, "after reopen: both results, no more");
	pht_node_results_free(res, n);
	r = pht_node_store_post_train(st, "t1", 2, "ana", "{\"r\":2}", 7, ab, 2,
	    2001, &created, &e);
	tap_ok(r == PHT_OK && created == 1, "after reopen: next round accepted");
	r = pht_node_store_inbox(st, "a", 10, 2002, &m, &n, &e);
	tap_ok(r == PHT_OK && n == 1 && m[0].round == 2, "a gets round 2");
	pht_node_msgs_free(m, n);
	pht_node_store_free(st);
	pht_node_store_free(NULL);
}

static void
test_open_errors(void)
{
	struct pht_node_store *st = NULL;
	struct pht_err e;
	int r;

	pht_err_clear(&e);
	r = pht_node_store_open("/nonexistent-dir/x/node.db", &st, &e);
	tap_ok(r == PHT_ERR_IO && st == NULL &&
	    strstr(e.msg, "/nonexistent-dir/x/node.db") != NULL,
	    "open in a missing directory: IO error naming the file: %s", e.msg);
	{
		FILE *f = fopen(db_path("junk.db"), "w");
		if (f != NULL) {
			fputs("this is not a database, just some text that is long "
			    "enough to fill a header of one hundred bytes or so.......", f);
			fclose(f);
		}
	}
	r = pht_node_store_open(db_path("junk.db"), &st, &e);
	tap_ok(r == PHT_ERR_IO && st == NULL && strstr(e.msg, "junk.db") != NULL,
	    "open of a file that is not a database refused: %s", e.msg);
}

/*
 * A child posts trains (each to 50 stations, one transaction each) and
 * writes each id to a pipe once its post returned. The parent kills it with
 * SIGKILL after some posts, most likely in the middle of one. Every train
 * reported as posted must be there with all 50 inbox entries, and no train
 * may be there partly.
 */
static void
test_sigkill(void)
{
	struct pht_node_store *st = NULL;
	struct pht_node_msg *m = NULL;
	struct pht_err e;
	int pfd[2], status, r, i, reported = 0, ok_all = 1;
	char line[64];
	FILE *rf;
	pid_t pid;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	size_t n;

	pht_err_clear(&e);
	if (pipe(pfd) != 0) {
		tap_ok(0, "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		const char *stations[50];
		char names[50][8], id[32];
		close(pfd[0]);
		for (i = 0; i < 50; i++) {
			snprintf(names[i], sizeof(names[i]), "s%02d", i);
			stations[i] = names[i];
		}
		if (pht_node_store_open(db_path("kill.db"), &st, &e) != PHT_OK)
			_exit(3);
		for (i = 0; i < 100000; i++) {
			snprintf(id, sizeof(id), "k%d", i);
			if (pht_node_store_post_train(st, id, 1, "ana", "{}", 2,
			    stations, 50, i, NULL, &e) != PHT_OK)
				_exit(4);
			dprintf(pfd[1], "%s\n", id);
		}
		_exit(0);
	}
	close(pfd[1]);
	rf = fdopen(pfd[0], "r");
	/* Bounded: at most 20 reported posts, then kill. */
	while (rf != NULL && reported < 20 && fgets(line, sizeof(line), rf) != NULL)
		reported++;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* Drain what was reported before the kill. */
	while (rf != NULL && fgets(line, sizeof(line), rf) != NULL)
		reported++;
	if (rf != NULL)
		fclose(rf);
	tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "writer child killed with SIGKILL after %d posts", reported);

	r = pht_node_store_open(db_path("kill.db"), &st, &e);
	tap_ok(r == PHT_OK, "store opens after the kill (%s)", pht_err_msg(&e));
	if (st == NULL)
		return;
	for (i = 0; i < reported; i++) {
		char id[32], owner[PHT_NODE_NAME_MAX + 1];
		snprintf(id, sizeof(id), "k%d", i);
		if (pht_node_store_train_owner(st, id, owner, sizeof(owner), &e) != PHT_OK)
			ok_all = 0;
	}
	tap_ok(ok_all, "every train reported as posted survived the kill");
	r = pht_node_store_inbox(st, "s49", 100000, 1, &m, &n, &e);
	tap_ok(r == PHT_OK && n >= (size_t)reported,
	    "the last station's inbox holds every reported train (%zu >= %d)", n,
	    reported);
	pht_node_msgs_free(m, n);
	pht_node_store_free(st);

	if (sqlite3_open(db_path("kill.db"), &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM (SELECT train FROM inbox"
	    " GROUP BY train HAVING count(*) <> 50)", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		tap_ok(sqlite3_column_int(s, 0) == 0, "no train is there partly");
	else
		tap_ok(0, "count partial trains");
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		tap_str((const char *)sqlite3_column_text(s, 0), "ok", "integrity check");
	else
		tap_ok(0, "integrity check ran");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* Governance documents: highest rank wins, replays refused; LATEST always replaces. */
static void
test_gov(void)
{
	struct pht_node_store *st = NULL;
	struct pht_err e;
	char **l = NULL;
	size_t n = 0;
	int created, r;

	pht_err_clear(&e);
	if (pht_node_store_open(db_path("gov.db"), &st, &e) != PHT_OK) {
		tap_ok(0, "open gov.db: %s", pht_err_msg(&e));
		return;
	}
	r = pht_node_store_gov_put(st, "revocations", "auth", 2, "{\"seq\":2}", 9, 100,
	    &created, &e);
	tap_ok(r == PHT_OK && created == 1, "a revocation list of seq 2 is stored");
	r = pht_node_store_gov_put(st, "revocations", "auth", 2, "{\"seq\":2}", 9, 101,
	    &created, &e);
	tap_ok(r == PHT_OK && created == 0, "the same list again is a no-op");
	r = pht_node_store_gov_put(st, "revocations", "auth", 1, "{\"seq\":1}", 9, 102,
	    &created, &e);
	tap_ok(r == PHT_ERR_REPLAY && strstr(e.msg, "at least as new (2)") != NULL,
	    "an older list is PHT_ERR_REPLAY (%s)", pht_err_msg(&e));
	r = pht_node_store_gov_put(st, "revocations", "auth", 2, "{\"seq\":9}", 9, 102,
	    &created, &e);
	tap_ok(r == PHT_ERR_REPLAY, "other bytes under the same rank: PHT_ERR_REPLAY");
	/* a catalogue entry: the sender's newest always wins, even in the same second */
	r = pht_node_store_gov_put(st, "catalog", "a", PHT_NODE_GOV_LATEST, "{\"n\":10}",
	    8, 500, &created, &e);
	tap_ok(r == PHT_OK && created == 1, "LATEST: the first entry is stored");
	r = pht_node_store_gov_put(st, "catalog", "a", PHT_NODE_GOV_LATEST, "{\"n\":20}",
	    8, 500, &created, &e);
	tap_ok(r == PHT_OK && created == 1, "LATEST: a changed entry in the same second "
	    "replaces it");
	r = pht_node_store_gov_put(st, "catalog", "a", PHT_NODE_GOV_LATEST, "{\"n\":30}",
	    8, 400, &created, &e);
	tap_ok(r == PHT_OK && created == 1, "LATEST: and so does one with an earlier clock");
	r = pht_node_store_gov_put(st, "catalog", "a", PHT_NODE_GOV_LATEST, "{\"n\":30}",
	    8, 600, &created, &e);
	tap_ok(r == PHT_OK && created == 0, "LATEST: the same bytes again are a no-op");
	r = pht_node_store_gov_list(st, "catalog", &l, &n, &e);
	tap_ok(r == PHT_OK && n == 1 && strcmp(l[0], "{\"n\":30}") == 0,
	    "the catalogue holds the last entry sent");
	pht_node_store_gov_free(l, n);
	pht_node_store_free(st);
}

/* An analyst's share of the mailbox: rounds past max_pending are refused and store nothing. */
static void
test_max_pending(void)
{
	struct pht_node_store *st = NULL;
	struct pht_node_msg *m = NULL;
	struct pht_err e;
	const char *abc[] = {"a", "b", "c"}, *ab[] = {"a", "b"};
	size_t n = 0, nacked = 0;
	int created, r;

	pht_err_clear(&e);
	if (pht_node_store_open(db_path("pending.db"), &st, &e) != PHT_OK) {
		tap_ok(0, "open pending.db: %s", pht_err_msg(&e));
		return;
	}
	pht_node_store_set_max_pending(st, 4);
	r = pht_node_store_post_train(st, "p1", 1, "ana", "env1", 4, abc, 3, 10,
	    &created, &e);
	tap_ok(r == PHT_OK && created == 1, "3 entries waiting of 4 allowed");
	r = pht_node_store_post_train(st, "p2", 1, "ana", "env2", 4, ab, 2, 11,
	    &created, &e);
	tap_ok(r == PHT_ERR_POLICY && strstr(e.msg, "analyst ana has 3 deliveries waiting "
	    "at stations; 2 more would pass the limit of 4 (limits.max_pending)") != NULL,
	    "a round that would make 5: PHT_ERR_POLICY (%s)", pht_err_msg(&e));
	r = pht_node_store_inbox(st, "a", 10, 12, &m, &n, &e);
	tap_ok(r == PHT_OK && n == 1 && strcmp(m[0].train, "p1") == 0,
	    "the refused round stored nothing (a's inbox holds p1 only)");
	pht_node_msgs_free(m, n);
	m = NULL;
	r = pht_node_store_post_train(st, "p1", 1, "ana", "env1", 4, abc, 3, 12,
	    &created, &e);
	tap_ok(r == PHT_OK && created == 0, "re-posting a stored round is not counted");
	r = pht_node_store_post_train(st, "q1", 1, "bob", "envq", 4, abc, 3, 12,
	    &created, &e);
	tap_ok(r == PHT_OK && created == 1, "another analyst has a share of his own");
	r = pht_node_store_ack(st, "a", "p1", 1, 13, &nacked, &e);
	r |= pht_node_store_ack(st, "b", "p1", 1, 13, &nacked, &e);
	r = pht_node_store_post_train(st, "p2", 1, "ana", "env2", 4, ab, 2, 14,
	    &created, &e);
	tap_ok(r == PHT_OK && created == 1, "once stations took p1, the round fits");
	pht_node_store_free(st);
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_basic();
	test_gov();
	test_max_pending();
	test_open_errors();
	test_sigkill();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
