/* pht_node_store_mail.c — the mailbox proper: trains posted to stations, inboxes, acknowledgements, results and deliveries. */
#include "pht_node_store.h"
#include "pht_node_db.h"
#include "pht_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* Owner of train into analyst; PHT_ERR_NOT_FOUND if none. */
static int
train_owner(struct pht_node_store *st, const char *train, char *analyst,
    size_t size, struct pht_err *err)
{
	sqlite3_stmt *s = pht_node_db_stmt(st, S_TRAIN_GET);
	int rc;

	pht_node_db_bind_text(s, 1, train);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		pht_node_db_col_text(s, 0, analyst, size);
		sqlite3_reset(s);
		return PHT_OK;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return pht_node_db_err(st, err, "read train");
	return pht_errf(err, PHT_ERR_NOT_FOUND, "train %s: no such train", train);
}

int
pht_node_store_train_owner(struct pht_node_store *st, const char *train,
    char *analyst, size_t size, struct pht_err *err)
{
	return train_owner(st, train, analyst, size, err);
}

int
pht_node_store_post_train(struct pht_node_store *st, const char *train,
    int64_t round, const char *analyst, const char *envelope, size_t len,
    const char *const *stations, size_t n, int64_t now, int *created,
    struct pht_err *err)
{
	char owner[PHT_NODE_NAME_MAX + 1];
	sqlite3_stmt *s;
	size_t i;
	int r, rc, news = 0;

	if (created != NULL)
		*created = 0;
	if ((r = pht_node_db_begin(st, err)) != PHT_OK)
		return r;
	r = train_owner(st, train, owner, sizeof(owner), err);
	if (r == PHT_OK && strcmp(owner, analyst) != 0) {
		r = pht_errf(err, PHT_ERR_DENIED,
		    "train %s belongs to another analyst", train);
		goto out;
	}
	if (r == PHT_ERR_NOT_FOUND) {
		s = pht_node_db_stmt(st, S_TRAIN_INS);
		pht_node_db_bind_text(s, 1, train);
		pht_node_db_bind_text(s, 2, analyst);
		sqlite3_bind_int64(s, 3, now);
		if ((r = pht_node_db_exec(st, s, "insert train", err)) != PHT_OK)
			goto out;
		news = 1;
	} else if (r != PHT_OK)
		goto out;

	s = pht_node_db_stmt(st, S_ENV_GET);
	pht_node_db_bind_text(s, 1, train);
	sqlite3_bind_int64(s, 2, round);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int same = (size_t)sqlite3_column_bytes(s, 0) == len &&
		    (len == 0 || memcmp(sqlite3_column_blob(s, 0), envelope, len) == 0);
		sqlite3_reset(s);
		if (!same) {
			r = pht_errf(err, PHT_ERR_REPLAY, "train %s round %lld: "
			    "already posted with a different envelope", train,
			    (long long)round);
			goto out;
		}
	} else {
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			r = pht_node_db_err(st, err, "read envelope");
			goto out;
		}
		/* a new round: within the analyst's share of the mailbox */
		if (st->max_pending > 0) {
			int64_t pending;
			s = pht_node_db_stmt(st, S_PENDING_ANALYST);
			pht_node_db_bind_text(s, 1, analyst);
			if (sqlite3_step(s) != SQLITE_ROW) {
				sqlite3_reset(s);
				r = pht_node_db_err(st, err, "count waiting trains");
				goto out;
			}
			pending = sqlite3_column_int64(s, 0);
			sqlite3_reset(s);
			if ((uint64_t)pending + n > st->max_pending) {
				r = pht_errf(err, PHT_ERR_POLICY, "analyst %s has %lld "
				    "deliveries waiting at stations; %zu more would pass the "
				    "limit of %zu (limits.max_pending): wait until stations "
				    "take them", analyst, (long long)pending, n,
				    st->max_pending);
				goto out;
			}
		}
		s = pht_node_db_stmt(st, S_ENV_INS);
		pht_node_db_bind_text(s, 1, train);
		sqlite3_bind_int64(s, 2, round);
		sqlite3_bind_blob(s, 3, envelope, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, now);
		if ((r = pht_node_db_exec(st, s, "insert envelope", err)) != PHT_OK)
			goto out;
		news = 1;
	}
	for (i = 0; i < n; i++) {
		s = pht_node_db_stmt(st, S_INBOX_INS);
		pht_node_db_bind_text(s, 1, stations[i]);
		pht_node_db_bind_text(s, 2, train);
		sqlite3_bind_int64(s, 3, round);
		sqlite3_bind_int64(s, 4, now);
		if ((r = pht_node_db_exec(st, s, "insert inbox entry", err)) != PHT_OK)
			goto out;
		if (sqlite3_changes(st->db) > 0)
			news = 1;
	}
	if ((r = pht_node_db_commit(st, err)) != PHT_OK)
		goto out;
	if (created != NULL)
		*created = news;
out:
	if (r != PHT_OK)
		pht_node_db_rollback(st);
	return r;
}

void
pht_node_msgs_free(struct pht_node_msg *msgs, size_t n)
{
	size_t i;

	if (msgs == NULL)
		return;
	for (i = 0; i < n; i++)
		free(msgs[i].envelope);
	free(msgs);
}

int
pht_node_store_inbox(struct pht_node_store *st, const char *station,
    size_t max, int64_t now, struct pht_node_msg **msgs, size_t *n,
    struct pht_err *err)
{
	struct pht_node_msg *m = NULL;
	sqlite3_stmt *s;
	size_t cnt = 0, i;
	int r, rc;

	*msgs = NULL;
	*n = 0;
	if (max == 0)
		return PHT_OK;
	if (max > 100000)
		max = 100000;
	if ((m = calloc(max, sizeof(*m))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = pht_node_db_begin(st, err)) != PHT_OK)
		goto out;
	s = pht_node_db_stmt(st, S_INBOX_LIST);
	pht_node_db_bind_text(s, 1, station);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while (cnt < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct pht_node_msg *e = &m[cnt];
		e->seq = sqlite3_column_int64(s, 0);
		pht_node_db_col_text(s, 1, e->train, sizeof(e->train));
		e->round = sqlite3_column_int64(s, 2);
		pht_node_db_col_text(s, 3, e->analyst, sizeof(e->analyst));
		e->state = (enum pht_node_state)sqlite3_column_int(s, 4);
		e->created = sqlite3_column_int64(s, 5);
		if ((e->envelope = pht_node_db_col_blob(s, 6, &e->len)) == NULL) {
			sqlite3_reset(s);
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		cnt++;
	}
	if (cnt < max && rc != SQLITE_DONE) {
		sqlite3_reset(s);
		r = pht_node_db_err(st, err, "read inbox");
		goto out;
	}
	sqlite3_reset(s);
	for (i = 0; i < cnt; i++) {
		if (m[i].state != PHT_NODE_QUEUED)
			continue;
		s = pht_node_db_stmt(st, S_INBOX_DELIVER);
		sqlite3_bind_int64(s, 1, m[i].seq);
		sqlite3_bind_int64(s, 2, now);
		if ((r = pht_node_db_exec(st, s, "mark delivered", err)) != PHT_OK)
			goto out;
	}
	if ((r = pht_node_db_commit(st, err)) != PHT_OK)
		goto out;
	if (cnt > 0) {
		*msgs = m;
		*n = cnt;
		m = NULL; /* transferred */
	}
out:
	if (r != PHT_OK)
		pht_node_db_rollback(st);
	pht_node_msgs_free(m, cnt);
	return r;
}

int
pht_node_store_inbox_pending(struct pht_node_store *st, const char *station,
    struct pht_err *err)
{
	sqlite3_stmt *s = pht_node_db_stmt(st, S_INBOX_PENDING);
	int rc;

	pht_node_db_bind_text(s, 1, station);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return pht_node_db_err(st, err, "read inbox");
}

/* Number of station's inbox entries for train (round < 0: any round). */
static int
inbox_count(struct pht_node_store *st, const char *station, const char *train,
    int64_t round, int64_t *count, struct pht_err *err)
{
	sqlite3_stmt *s = pht_node_db_stmt(st, S_INBOX_HAS);
	int rc;

	pht_node_db_bind_text(s, 1, station);
	pht_node_db_bind_text(s, 2, train);
	sqlite3_bind_int64(s, 3, round);
	rc = sqlite3_step(s);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return pht_node_db_err(st, err, "read inbox");
	return PHT_OK;
}

int
pht_node_store_ack(struct pht_node_store *st, const char *station,
    const char *train, int64_t round, int64_t now, size_t *nacked,
    struct pht_err *err)
{
	sqlite3_stmt *s;
	int64_t cnt;
	int r;

	*nacked = 0;
	if ((r = pht_node_db_begin(st, err)) != PHT_OK)
		return r;
	if ((r = inbox_count(st, station, train, round, &cnt, err)) != PHT_OK)
		goto out;
	if (cnt == 0) {
		r = round < 0 ?
		    pht_errf(err, PHT_ERR_NOT_FOUND, "train %s: not in the inbox of %s",
		    train, station) :
		    pht_errf(err, PHT_ERR_NOT_FOUND, "train %s round %lld: not in the "
		    "inbox of %s", train, (long long)round, station);
		goto out;
	}
	s = pht_node_db_stmt(st, S_ACK);
	pht_node_db_bind_text(s, 1, station);
	pht_node_db_bind_text(s, 2, train);
	sqlite3_bind_int64(s, 3, round);
	sqlite3_bind_int64(s, 4, now);
	if ((r = pht_node_db_exec(st, s, "ack", err)) != PHT_OK)
		goto out;
	*nacked = (size_t)sqlite3_changes(st->db);
	r = pht_node_db_commit(st, err);
out:
	if (r != PHT_OK) {
		pht_node_db_rollback(st);
		*nacked = 0;
	}
	return r;
}

int
pht_node_store_post_result(struct pht_node_store *st, const char *train,
    const char *station, int64_t round, const char *body, size_t len,
    int64_t log_seq, const char *log_hash, int64_t now, int *created,
    struct pht_err *err)
{
	sqlite3_stmt *s;
	int64_t cnt;
	int r, rc;

	if (created != NULL)
		*created = 0;
	if ((r = pht_node_db_begin(st, err)) != PHT_OK)
		return r;
	if ((r = inbox_count(st, station, train, round, &cnt, err)) != PHT_OK)
		goto out;
	if (cnt == 0) {
		r = pht_errf(err, PHT_ERR_NOT_FOUND, "train %s round %lld: not sent "
		    "to station %s", train, (long long)round, station);
		goto out;
	}
	s = pht_node_db_stmt(st, S_RES_GET);
	pht_node_db_bind_text(s, 1, train);
	pht_node_db_bind_text(s, 2, station);
	sqlite3_bind_int64(s, 3, round);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int same = (size_t)sqlite3_column_bytes(s, 0) == len &&
		    (len == 0 || memcmp(sqlite3_column_blob(s, 0), body, len) == 0);
		sqlite3_reset(s);
		if (!same)
			r = pht_errf(err, PHT_ERR_REPLAY, "train %s round %lld: station "
			    "%s already posted a different result", train,
			    (long long)round, station);
		else
			r = pht_node_db_commit(st, err); /* the same result again: nothing to do */
		goto out;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		r = pht_node_db_err(st, err, "read result");
		goto out;
	}
	s = pht_node_db_stmt(st, S_RES_INS);
	pht_node_db_bind_text(s, 1, train);
	pht_node_db_bind_text(s, 2, station);
	sqlite3_bind_int64(s, 3, round);
	sqlite3_bind_blob(s, 4, body, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, log_seq);
	pht_node_db_bind_text(s, 6, log_hash);
	sqlite3_bind_int64(s, 7, now);
	if ((r = pht_node_db_exec(st, s, "insert result", err)) != PHT_OK)
		goto out;
	s = pht_node_db_stmt(st, S_ACK);
	pht_node_db_bind_text(s, 1, station);
	pht_node_db_bind_text(s, 2, train);
	sqlite3_bind_int64(s, 3, round);
	sqlite3_bind_int64(s, 4, now);
	if ((r = pht_node_db_exec(st, s, "ack", err)) != PHT_OK)
		goto out;
	if ((r = pht_node_store_station_seen(st, station, now, err)) != PHT_OK)
		goto out;
	s = pht_node_db_stmt(st, S_ST_HEAD);
	pht_node_db_bind_text(s, 1, station);
	sqlite3_bind_int64(s, 2, log_seq);
	pht_node_db_bind_text(s, 3, log_hash);
	if ((r = pht_node_db_exec(st, s, "update log head", err)) != PHT_OK)
		goto out;
	if ((r = pht_node_db_commit(st, err)) != PHT_OK)
		goto out;
	if (created != NULL)
		*created = 1;
out:
	if (r != PHT_OK)
		pht_node_db_rollback(st);
	return r;
}

void
pht_node_results_free(struct pht_node_result *res, size_t n)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < n; i++)
		free(res[i].body);
	free(res);
}

int
pht_node_store_results(struct pht_node_store *st, const char *train,
    int64_t after, size_t max, struct pht_node_result **out, size_t *n,
    struct pht_err *err)
{
	struct pht_node_result *res = NULL;
	sqlite3_stmt *s;
	size_t cnt = 0;
	int r = PHT_OK, rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	if (max == 0)
		return PHT_OK;
	if (max > 100000)
		max = 100000;
	if ((res = calloc(max, sizeof(*res))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	s = pht_node_db_stmt(st, S_RES_LIST);
	pht_node_db_bind_text(s, 1, train);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
	while (cnt < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct pht_node_result *e = &res[cnt];
		e->seq = sqlite3_column_int64(s, 0);
		pht_node_db_col_text(s, 1, e->station, sizeof(e->station));
		e->round = sqlite3_column_int64(s, 2);
		e->log_seq = sqlite3_column_int64(s, 3);
		pht_node_db_col_text(s, 4, e->log_hash, sizeof(e->log_hash));
		e->received = sqlite3_column_int64(s, 5);
		if ((e->body = pht_node_db_col_blob(s, 6, &e->len)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		cnt++;
	}
	if (cnt < max && rc != SQLITE_DONE) {
		r = pht_node_db_err(st, err, "read results");
		goto out;
	}
	if (cnt > 0) {
		*out = res;
		*n = cnt;
		res = NULL; /* transferred */
	}
out:
	sqlite3_reset(s);
	pht_node_results_free(res, cnt);
	return r;
}

int
pht_node_store_deliveries(struct pht_node_store *st, const char *train,
    struct pht_node_delivery **out, size_t *n, struct pht_err *err)
{
	struct pht_node_delivery *d = NULL, *nd;
	sqlite3_stmt *s = pht_node_db_stmt(st, S_DELIV);
	size_t cnt = 0, cap = 0;
	int r = PHT_OK, rc;

	*out = NULL;
	*n = 0;
	pht_node_db_bind_text(s, 1, train);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nd = reallocarray(d, cap, sizeof(*d))) == NULL) {
				r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
				goto out;
			}
			d = nd;
		}
		pht_node_db_col_text(s, 0, d[cnt].station, sizeof(d[cnt].station));
		d[cnt].round = sqlite3_column_int64(s, 1);
		d[cnt].state = (enum pht_node_state)sqlite3_column_int(s, 2);
		d[cnt].has_result = sqlite3_column_int(s, 3);
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = pht_node_db_err(st, err, "read deliveries");
		goto out;
	}
	*out = d;
	*n = cnt;
	d = NULL; /* transferred */
out:
	sqlite3_reset(s);
	free(d);
	return r;
}
