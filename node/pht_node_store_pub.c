/* pht_node_store_pub.c — what the node publishes: the stations seen with their dictionaries and log heads, and the governance documents (revocation lists, halt orders). */
#include "pht_node_store.h"
#include "pht_node_db.h"
#include "pht_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

int
pht_node_store_station_seen(struct pht_node_store *st, const char *station,
    int64_t now, struct pht_err *err)
{
	sqlite3_stmt *s = pht_node_db_stmt(st, S_ST_SEEN);

	pht_node_db_bind_text(s, 1, station);
	sqlite3_bind_int64(s, 2, now);
	return pht_node_db_exec(st, s, "update station", err);
}

int
pht_node_store_station_publish(struct pht_node_store *st,
    const char *station, const char *dict, size_t len, int64_t now,
    struct pht_err *err)
{
	sqlite3_stmt *s = pht_node_db_stmt(st, S_ST_PUB);

	pht_node_db_bind_text(s, 1, station);
	sqlite3_bind_text(s, 2, dict, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	return pht_node_db_exec(st, s, "publish station", err);
}

void
pht_node_stations_free(struct pht_node_station *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		free(s[i].dictionaries);
	free(s);
}

int
pht_node_store_stations(struct pht_node_store *st,
    struct pht_node_station **out, size_t *n, struct pht_err *err)
{
	struct pht_node_station *l = NULL, *nl;
	sqlite3_stmt *s = pht_node_db_stmt(st, S_ST_LIST);
	size_t cnt = 0, cap = 0, len;
	int r = PHT_OK, rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nl = reallocarray(l, cap, sizeof(*l))) == NULL) {
				r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
				goto out;
			}
			l = nl;
		}
		memset(&l[cnt], 0, sizeof(l[cnt]));
		pht_node_db_col_text(s, 0, l[cnt].id, sizeof(l[cnt].id));
		if (sqlite3_column_type(s, 1) != SQLITE_NULL &&
		    (l[cnt].dictionaries = pht_node_db_col_blob(s, 1, &len)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		l[cnt].last_seen = sqlite3_column_int64(s, 2);
		l[cnt].log_seq = sqlite3_column_int64(s, 3);
		pht_node_db_col_text(s, 4, l[cnt].log_hash, sizeof(l[cnt].log_hash));
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = pht_node_db_err(st, err, "read stations");
		goto out;
	}
	*out = l;
	*n = cnt;
	l = NULL; /* transferred */
out:
	sqlite3_reset(s);
	pht_node_stations_free(l, cnt);
	return r;
}

/* ---- governance documents (revocation lists, halt orders) ---- */

int
pht_node_store_gov_put(struct pht_node_store *st, const char *kind,
    const char *key, int64_t rank, const char *body, size_t len, int64_t now,
    int *created, struct pht_err *err)
{
	sqlite3_stmt *s;
	const void *old;
	int64_t old_rank;
	size_t old_len;
	int r, rc;

	if (created != NULL)
		*created = 0;
	if ((r = pht_node_db_begin(st, err)) != PHT_OK)
		return r;
	s = pht_node_db_stmt(st, S_GOV_GET);
	pht_node_db_bind_text(s, 1, kind);
	pht_node_db_bind_text(s, 2, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		old_rank = sqlite3_column_int64(s, 0);
		old = sqlite3_column_blob(s, 1);
		old_len = (size_t)sqlite3_column_bytes(s, 1);
		if (rank == PHT_NODE_GOV_LATEST) {
			/* the sender's newest document: ranked after the stored one */
			rank = old_rank < now ? now : old_rank + 1;
			if (old_len == len && memcmp(old, body, len) == 0) {
				sqlite3_reset(s);
				r = PHT_OK; /* unchanged */
				goto out;
			}
		}
		if (old_rank == rank && old_len == len && memcmp(old, body, len) == 0) {
			sqlite3_reset(s);
			r = PHT_OK; /* the same document again */
			goto out;
		}
		if (old_rank >= rank) {
			sqlite3_reset(s);
			r = pht_errf(err, PHT_ERR_REPLAY, "a %s document at least as new "
			    "(%lld) is stored for %.200s", kind, (long long)old_rank, key);
			goto out;
		}
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(s);
		r = pht_node_db_err(st, err, "read governance document");
		goto out;
	} else if (rank == PHT_NODE_GOV_LATEST) {
		rank = now;
	}
	sqlite3_reset(s);
	s = pht_node_db_stmt(st, S_GOV_PUT);
	pht_node_db_bind_text(s, 1, kind);
	pht_node_db_bind_text(s, 2, key);
	sqlite3_bind_int64(s, 3, rank);
	sqlite3_bind_blob(s, 4, body, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	if ((r = pht_node_db_exec(st, s, "store governance document", err)) != PHT_OK)
		goto out;
	if ((r = pht_node_db_commit(st, err)) != PHT_OK)
		goto out;
	if (created != NULL)
		*created = 1;
	return PHT_OK;
out:
	pht_node_db_rollback(st);
	return r;
}

int
pht_node_store_gov_list(struct pht_node_store *st, const char *kind,
    char ***out, size_t *n, struct pht_err *err)
{
	sqlite3_stmt *s = pht_node_db_stmt(st, S_GOV_LIST);
	char **l = NULL, **nl;
	size_t cnt = 0, len;
	int r = PHT_OK, rc;

	*out = NULL;
	*n = 0;
	pht_node_db_bind_text(s, 1, kind);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((nl = reallocarray(l, cnt + 1, sizeof(*l))) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		l = nl;
		len = (size_t)sqlite3_column_bytes(s, 0);
		if ((l[cnt] = malloc(len + 1)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		memcpy(l[cnt], sqlite3_column_blob(s, 0), len);
		l[cnt][len] = '\0';
		cnt++;
	}
	if (rc != SQLITE_DONE)
		r = pht_node_db_err(st, err, "list governance documents");
out:
	sqlite3_reset(s);
	if (r != PHT_OK) {
		pht_node_store_gov_free(l, cnt);
		return r;
	}
	*out = l;
	*n = cnt;
	return PHT_OK;
}

void
pht_node_store_gov_free(char **docs, size_t n)
{
	size_t i;

	if (docs == NULL)
		return;
	for (i = 0; i < n; i++)
		free(docs[i]);
	free(docs);
}
