/* pht_station_diff.c — the release auditor: per-dataset journals of released row sets keyed by patient, the admission of a release against all of them, and budgets. */
#include "pht_station_diff_int.h"
#include "pht_buf.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_journal.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_train_rowsets.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SNAP_LABEL "pht released-rows snapshot v1"

/* ---- files ---- */

/* Opens (creating it, durably, if create) and locks the store. */
static int
open_locked(const char *path, int create, int *fd, struct pht_err *err)
{
	int r;

	if ((r = pht_journal_open(path, create, fd, err)) != PHT_OK)
		return r;
	if ((r = pht_journal_lock(*fd, path, create, err)) != PHT_OK) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

/* ---- the auditor ---- */

int
pht_station_diff_open(const char *prefix, const struct pht_key *station_key,
    struct pht_station_diff **out, struct pht_err *err)
{
	struct pht_station_diff *d = NULL;
	unsigned int mdlen = 0;
	struct stat sb;
	int r;

	*out = NULL;
	if (prefix == NULL || station_key == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "release auditor: a store path and the "
		    "station key are required");
	/*
	 * A file at the prefix itself is a store of the earlier pairwise guard:
	 * its releases cannot be read into the set system, and starting without
	 * them would forget what already left. Fail closed until the data
	 * steward decides (docs/station-config.md, released_rows).
	 */
	if (stat(prefix, &sb) == 0 || errno != ENOENT)
		return pht_errf(err, PHT_ERR_POLICY, "release auditor: %s exists: it holds "
		    "releases in the earlier per-analyst format, which the release auditor "
		    "cannot read; the station releases nothing while they would be "
		    "forgotten. Move it aside once you accept that those releases are no "
		    "longer audited", prefix);
	if ((d = calloc(1, sizeof(*d))) == NULL || (d->prefix = strdup(prefix)) == NULL) {
		free(d);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	if ((r = pht_diff_secret(station_key, d->secret, err)) != PHT_OK ||
	    HMAC(EVP_sha256(), d->secret, sizeof(d->secret), (const uint8_t *)SNAP_LABEL,
	    strlen(SNAP_LABEL), d->snap_key, &mdlen) == NULL) {
		pht_station_diff_free(d);
		return r != PHT_OK ? r : pht_errf(err, PHT_ERR_CRYPTO, "HMAC failed");
	}
	pht_station_setsys_default_limits(&d->lim);
	*out = d;
	return PHT_OK;
}

void
pht_station_diff_free(struct pht_station_diff *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nstores; i++) {
		pht_diff_store_reset(&d->stores[i]);
		free(d->stores[i].dataset);
		free(d->stores[i].path);
		free(d->stores[i].snap_path);
	}
	free(d->stores);
	free(d->kc.dataset);
	free(d->kc.file_rows);
	free(d->kc.keys);
	free(d->prefix);
	explicit_bzero(d->secret, sizeof(d->secret));
	explicit_bzero(d->snap_key, sizeof(d->snap_key));
	free(d);
}

void
pht_station_diff_set_limits(struct pht_station_diff *d,
    const struct pht_station_setsys_limits *lim)
{
	d->lim = *lim;
}

void
pht_station_diff_stats(const struct pht_station_diff *d, const char *dataset,
    struct pht_station_setsys_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < d->nstores; i++)
		if (strcmp(d->stores[i].dataset, dataset) == 0 && d->stores[i].sys != NULL)
			pht_station_setsys_stats(d->stores[i].sys, st);
}

static int
get_store(struct pht_station_diff *d, const char *dataset, struct store **out,
    struct pht_err *err)
{
	struct store *ns, *s;
	size_t i, n;

	*out = NULL;
	for (i = 0; i < d->nstores; i++)
		if (strcmp(d->stores[i].dataset, dataset) == 0) {
			*out = &d->stores[i];
			return PHT_OK;
		}
	if ((ns = realloc(d->stores, (d->nstores + 1) * sizeof(*ns))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	d->stores = ns;
	s = &d->stores[d->nstores];
	memset(s, 0, sizeof(*s));
	n = strlen(d->prefix) + strlen(dataset) + 2;
	if ((s->dataset = strdup(dataset)) == NULL || (s->path = malloc(n)) == NULL ||
	    (s->snap_path = malloc(n + strlen(SNAP_SUFFIX))) == NULL) {
		free(s->dataset);
		free(s->path);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	snprintf(s->path, n, "%s.%s", d->prefix, dataset);
	snprintf(s->snap_path, n + strlen(SNAP_SUFFIX), "%s%s", s->path, SNAP_SUFFIX);
	d->nstores++;
	*out = s;
	return PHT_OK;
}

static int
check_args(const char *dataset, const char *signer, const struct pht_station_budget *budget,
    int64_t k, struct pht_err *err)
{
	if (signer == NULL || dataset == NULL || signer[0] == '\0' || dataset[0] == '\0' ||
	    strchr(dataset, '/') != NULL || k < 1)
		return pht_errf(err, PHT_ERR_INVALID, "released-rows store: signer, dataset "
		    "and k >= 1 are required");
	if (budget != NULL && budget->releases > 0 && budget->window_seconds <= 0)
		return pht_errf(err, PHT_ERR_INVALID, "released-rows store: a budget needs a "
		    "positive window");
	return PHT_OK;
}

static int
budget_refusal(const struct store *s, int64_t used, const struct pht_station_budget *b,
    struct pht_err *err)
{
	return pht_errf(err, PHT_ERR_POLICY, "query budget exhausted: %" PRId64
	    " release%s on dataset %s in the last %g hours for this analyst (the "
	    "station's budget is %" PRId64 " per %g hours)", used, used == 1 ? "" : "s",
	    s->dataset, (double)b->window_seconds / 3600.0, b->releases,
	    (double)b->window_seconds / 3600.0);
}

int
pht_station_diff_budget(struct pht_station_diff *d, const char *dataset,
    const char *signer_fp, int64_t k, const struct pht_station_budget *budget,
    int64_t now, struct pht_err *err)
{
	struct store *s;
	int64_t used;
	int fd = -1, r;

	if (d == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "released-rows store: no auditor");
	if ((r = check_args(dataset, signer_fp, budget, k, err)) != PHT_OK)
		return r;
	if (budget == NULL || budget->releases <= 0)
		return PHT_OK;
	if ((r = get_store(d, dataset, &s, err)) != PHT_OK)
		return r;
	if ((r = open_locked(s->path, 0, &fd, err)) == PHT_ERR_NOT_FOUND)
		return PHT_OK;
	if (r != PHT_OK)
		return r;
	if ((r = pht_diff_store_sync(d, s, fd, k, err)) == PHT_OK &&
	    (used = pht_diff_releases_since(s, signer_fp, now - budget->window_seconds)) >=
	    budget->releases)
		r = budget_refusal(s, used, budget, err);
	close(fd);
	return r;
}

/* The lines to append: the keys if new, then the release with the sets that grew the span. */
static char *
entry_lines(const struct rowmap *m, const uint64_t *keys, const struct pht_train_rowsets *rs,
    const uint8_t *grew, const char *signer, const char *train, int64_t k, int64_t now)
{
	struct pht_buf *one = NULL, *out = NULL;
	json_t *o = NULL, *arr = NULL;
	char *b64 = NULL, *text = NULL, *res = NULL;
	uint8_t *kb = NULL;
	size_t i;

	if ((out = pht_buf_new((size_t)1 << 31)) == NULL)
		goto out;
	if (!m->stored) {
		if ((kb = malloc((size_t)m->n * 8 + 1)) == NULL)
			goto out;
		pht_diff_keys_bytes(keys, m->n, kb);
		if ((b64 = pht_b64_encode_alloc(kb, (size_t)m->n * 8)) == NULL ||
		    (o = json_pack("{s:s, s:I, s:s}", "rows", m->id, "n", (json_int_t)m->n,
		    "keys", b64)) == NULL || (text = pht_json_dump(o)) == NULL ||
		    pht_buf_puts(out, text) != PHT_OK || pht_buf_putc(out, '\n') != PHT_OK)
			goto out;
		free(b64);
		free(text);
		json_decref(o);
		b64 = text = NULL;
		o = NULL;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < pht_train_rowsets_count(rs); i++) {
		if (!grew[i])
			continue;
		if ((one = pht_buf_new(PHT_TRAIN_ROWSETS_MAX_BYTES + 64)) == NULL ||
		    pht_train_rowsets_put_one(rs, i, one) != PHT_OK ||
		    (b64 = pht_b64_encode_alloc(pht_buf_data(one), pht_buf_len(one))) == NULL ||
		    json_array_append_new(arr, json_string(b64)) != 0)
			goto out;
		free(b64);
		b64 = NULL;
		pht_buf_free(one);
		one = NULL;
	}
	if ((o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:O}", "t", (json_int_t)now, "signer",
	    signer, "train", train, "k", (json_int_t)k, "rows", m->id, "sets", arr)) == NULL ||
	    (text = pht_json_dump(o)) == NULL || pht_buf_puts(out, text) != PHT_OK ||
	    pht_buf_putc(out, '\n') != PHT_OK)
		goto out;
	res = pht_buf_steal(out, NULL);
out:
	free(kb);
	free(text);
	free(b64);
	pht_buf_free(one);
	pht_buf_free(out);
	json_decref(o);
	json_decref(arr);
	return res;
}

static int
withheld(struct pht_err *err, uint64_t rows, int64_t k, const char *dataset)
{
	return pht_errf(err, PHT_ERR_DISCLOSURE, "differencing: with this output the sum over "
	    "a group of %" PRIu64 " row%s (fewer than k = %" PRId64 ") would follow from the "
	    "releases on dataset %s to all analysts; nothing is released", rows,
	    rows == 1 ? "" : "s", k, dataset);
}

int
pht_station_diff_admit(struct pht_station_diff *d, const char *dataset,
    const char *signer_fp, const char *train, const struct pht_train_rowsets *rs,
    const uint64_t *keys, int64_t k, const struct pht_station_budget *budget,
    int64_t now, struct pht_err *err)
{
	struct store *s = NULL;
	struct rowmap *m;
	uint8_t *kb = NULL, *grew = NULL;
	uint32_t *ids = NULL;
	uint64_t found = 0;
	size_t nsets, i, n, cap = 0, nrows;
	int64_t used;
	char id[PHT_SHA256_HEX_LEN + 1], *lines = NULL;
	int fd = -1, r, g, open_tx = 0;
	struct pht_err snap_err;
	double t0;

	if (d == NULL || train == NULL || rs == NULL || keys == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "released-rows store: auditor, train, row "
		    "sets and keys are required");
	if ((r = check_args(dataset, signer_fp, budget, k, err)) != PHT_OK)
		return r;
	nsets = pht_train_rowsets_count(rs);
	nrows = pht_train_rowsets_nrows(rs);
	/* a set of fewer than k rows is a small group by itself */
	for (i = 0; i < nsets; i++)
		if (pht_train_rowsets_size(rs, i) < (uint64_t)k)
			return withheld(err, pht_train_rowsets_size(rs, i), k, dataset);
	if ((r = get_store(d, dataset, &s, err)) != PHT_OK ||
	    (r = open_locked(s->path, 1, &fd, err)) != PHT_OK)
		return r;
	if ((r = pht_diff_store_sync(d, s, fd, k, err)) != PHT_OK)
		goto out;
	if (budget != NULL && budget->releases > 0 && (used = pht_diff_releases_since(s, signer_fp,
	    now - budget->window_seconds)) >= budget->releases) {
		r = budget_refusal(s, used, budget, err);
		goto out;
	}

	/* this version of the data's keys */
	if ((kb = malloc(nrows * 8 + 1)) == NULL || (grew = calloc(nsets + 1, 1)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	pht_diff_keys_bytes(keys, nrows, kb);
	(void)pht_sha256_hex(kb, nrows * 8, id, NULL);
	if ((m = pht_diff_find_map(s, id)) == NULL && (m = pht_diff_add_map(s, id, keys, nrows, 0)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}

	/* the sets, added in one transaction, then the check */
	t0 = pht_diff_now();
	if ((r = pht_station_setsys_begin(s->sys)) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_INTERNAL, "release auditor: transaction open");
		goto out;
	}
	open_tx = 1;
	for (i = 0; i < nsets; i++) {
		if ((r = pht_diff_set_ids(rs, i, m, &ids, &cap, &n)) != PHT_OK ||
		    (r = pht_station_setsys_add(s->sys, ids, n, &d->lim, &g)) != PHT_OK)
			break;
		grew[i] = (uint8_t)g;
	}
	if (r == PHT_OK)
		r = pht_station_setsys_check(s->sys, &d->lim, &found);
	if (r == PHT_ERR_DISCLOSURE) {
		r = withheld(err, found, k, dataset);
		goto out;
	}
	if (r == PHT_ERR_TOO_LARGE) {
		r = pht_errf(err, PHT_ERR_DISCLOSURE, "differencing: the release auditor's bounds "
		    "(atoms, basis, candidates or time; docs/security.md T7) were reached on "
		    "dataset %s: it cannot show that no small group follows; nothing is released",
		    dataset);
		goto out;
	}
	if (r != PHT_OK) {
		r = pht_errf(err, r, "release auditor: %s", pht_strerror(r));
		goto out;
	}

	/* cut a torn last line off, append, make it durable */
	if ((lines = entry_lines(m, keys, rs, grew, signer_fp, train, k, now)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory building the released-rows entry");
		goto out;
	}
	if ((r = pht_journal_append(fd, s->path, s->off, lines, strlen(lines), err)) !=
	    PHT_OK) {
		s->valid = 0;   /* what reached the file is unknown: re-read it */
		goto out;
	}
	pht_station_setsys_commit(s->sys);
	open_tx = 0;
	s->tail_cost += pht_diff_now() - t0;     /* what replaying it would cost */
	if (!m->stored)
		s->line++;
	m->stored = 1;
	s->line++;
	s->off += (off_t)strlen(lines);
	if ((r = pht_diff_add_rel(s, now, signer_fp)) != PHT_OK) {
		s->valid = 0;
		r = pht_errf(err, r, "out of memory");
		/* stored and durable: the release may leave; the cache is re-read next time */
		r = PHT_OK;
	}
	/* a snapshot when replaying the lines after the last one costs enough */
	if (s->valid && pht_diff_snap_due(s))
		(void)pht_diff_snap_write(d, s, fd, &snap_err);
out:
	if (open_tx)
		pht_station_setsys_rollback(s->sys);
	free(lines);
	free(ids);
	free(grew);
	free(kb);
	if (fd >= 0)
		close(fd);      /* releases the lock */
	return r;
}


int
pht_station_diff_snapshot(struct pht_station_diff *d, const char *dataset, int64_t k,
    struct pht_err *err)
{
	struct store *s;
	int fd = -1, r;

	if (d == NULL || dataset == NULL || dataset[0] == '\0' || strchr(dataset, '/') != NULL ||
	    k < 1)
		return pht_errf(err, PHT_ERR_INVALID, "release auditor: dataset and k >= 1 are "
		    "required");
	if ((r = get_store(d, dataset, &s, err)) != PHT_OK ||
	    (r = open_locked(s->path, 1, &fd, err)) != PHT_OK)
		return r;
	if ((r = pht_diff_store_sync(d, s, fd, k, err)) == PHT_OK)
		r = pht_diff_snap_write(d, s, fd, err);
	close(fd);
	return r;
}

void
pht_station_diff_info(const struct pht_station_diff *d, const char *dataset,
    struct pht_station_diff_info *info)
{
	size_t i;

	memset(info, 0, sizeof(*info));
	for (i = 0; i < d->nstores; i++)
		if (strcmp(d->stores[i].dataset, dataset) == 0) {
			info->snapshot_offset = (uint64_t)d->stores[i].snap_off;
			info->replayed = d->stores[i].replayed;
			info->snapshots = d->stores[i].snapshots;
			info->snapshot_seconds = d->stores[i].snap_cost;
		}
}
