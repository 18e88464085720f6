/* pht_station_diff_snap.c — the release auditor's snapshot: the set system of a dataset's store, bound to the journal bytes it covers and authenticated, so a start replays only the journal's tail. */
#include "pht_station_diff_int.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAGIC "PHTSNAP\n"
#define VERSION 1u
/* The largest snapshot: the basis at its entry bound, the atoms and ids at theirs. */
#define SNAP_MAX_BYTES ((size_t)768 << 20)
/* A snapshot is due when the work since the last is at least this, and RATIO times its cost. */
#define SNAP_MIN_SECONDS 2.0
#define SNAP_RATIO 4.0

/* The fixed part before the universe: magic, version, 0, off, lines, hash, k. */
struct snap_head {
	char magic[8];
	uint32_t version, zero;
	uint64_t off, lines;
	uint8_t hash[32];
	uint64_t k;
};

int
pht_diff_snap_due(const struct store *s)
{
	return s->tail_cost >= SNAP_MIN_SECONDS && s->tail_cost >= SNAP_RATIO * s->snap_cost;
}

/* SHA-256 of the journal's first off bytes; *data (may be NULL) keeps them. */
static int
journal_hash(int fd, const char *path, off_t off, uint8_t hash[32], char **data,
    struct pht_err *err)
{
	unsigned int len = 0;
	char *buf;
	int r;

	if ((r = pht_diff_read_range(fd, path, 0, off, &buf, err)) != PHT_OK)
		return r;
	if (EVP_Digest(buf, (size_t)off, hash, &len, EVP_sha256(), NULL) != 1) {
		free(buf);
		return pht_errf(err, PHT_ERR_CRYPTO, "SHA-256 failed");
	}
	if (data != NULL)
		*data = buf;
	else
		free(buf);
	return PHT_OK;
}

/* The universe's keys in id order into out. */
static int
put_universe(const struct store *s, struct pht_buf *out)
{
	uint64_t *keys, n = s->nkeys;
	size_t i;
	int r;

	if ((keys = calloc(s->nkeys + 1, sizeof(*keys))) == NULL)
		return PHT_ERR_NOMEM;
	for (i = 0; i < s->hcap; i++)
		if (s->hval[i] != 0)
			keys[s->hval[i] - 1] = s->hkey[i];
	if ((r = pht_buf_put(out, &n, 8)) == PHT_OK)
		r = pht_buf_put(out, keys, s->nkeys * sizeof(*keys));
	free(keys);
	return r;
}

int
pht_diff_snap_write(struct pht_station_diff *d, struct store *s, int fd, struct pht_err *err)
{
	struct snap_head h;
	struct pht_buf *b = NULL;
	uint8_t mac[32];
	unsigned int maclen = 0;
	double t0 = pht_diff_now();
	int r;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MAGIC, 8);
	h.version = VERSION;
	h.off = (uint64_t)s->off;
	h.lines = s->line;
	h.k = (uint64_t)s->k;
	if ((r = journal_hash(fd, s->path, s->off, h.hash, NULL, err)) != PHT_OK)
		return r;
	if ((b = pht_buf_new(SNAP_MAX_BYTES)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = pht_buf_put(b, &h, sizeof(h))) != PHT_OK ||
	    (r = put_universe(s, b)) != PHT_OK ||
	    (r = pht_station_setsys_save(s->sys, b)) != PHT_OK) {
		r = pht_errf(err, r, "%s: %s", s->snap_path, pht_strerror(r));
		goto out;
	}
	if (HMAC(EVP_sha256(), d->snap_key, sizeof(d->snap_key), pht_buf_data(b), pht_buf_len(b),
	    mac, &maclen) == NULL || (r = pht_buf_put(b, mac, sizeof(mac))) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_TOO_LARGE, "%s: too large", s->snap_path);
		goto out;
	}
	if ((r = pht_file_write_atomic(s->snap_path, pht_buf_data(b), pht_buf_len(b), 0600,
	    err)) != PHT_OK)
		goto out;
	s->tail_cost = 0;
	s->snapshots++;
out:
	/* a failed write is not retried until as much work again has been done */
	s->snap_cost = pht_diff_now() - t0;
	if (r != PHT_OK)
		s->snap_cost = s->tail_cost;
	pht_buf_free(b);
	return r;
}

/* The universe from b into s (reset): each key gets its index as id. */
static int
get_universe(struct store *s, struct pht_buf *b)
{
	uint64_t n, key;
	uint32_t id;
	size_t i;

	if (pht_buf_get(b, &n, 8) != PHT_OK || n >= UINT32_MAX || n > pht_buf_remaining(b) / 8)
		return PHT_ERR_MALFORMED;
	for (i = 0; i < n; i++)
		if (pht_buf_get(b, &key, 8) != PHT_OK || pht_diff_key_id(s, key, &id) != PHT_OK ||
		    id != i)
			return PHT_ERR_MALFORMED;       /* a key twice */
	return PHT_OK;
}

int
pht_diff_snap_load(struct pht_station_diff *d, struct store *s, int fd, off_t size, int64_t k)
{
	struct pht_err e;
	struct pht_buf *b = NULL;
	struct snap_head h;
	uint8_t mac[32], hash[32];
	unsigned int maclen = 0;
	char *data = NULL;
	size_t len, used = 0;
	uint64_t lines;
	int r = PHT_ERR_MALFORMED;

	if (pht_file_read(s->snap_path, SNAP_MAX_BYTES, &b, &e) != PHT_OK)
		return PHT_ERR_NOT_FOUND;
	/* authentic: written by this station from a state it had checked */
	if ((len = pht_buf_len(b)) < sizeof(h) + sizeof(mac) ||
	    HMAC(EVP_sha256(), d->snap_key, sizeof(d->snap_key), pht_buf_data(b),
	    len - sizeof(mac), mac, &maclen) == NULL ||
	    CRYPTO_memcmp(mac, pht_buf_data(b) + len - sizeof(mac), sizeof(mac)) != 0)
		goto out;
	/* of this version, for this k, and of the first bytes of this journal */
	if (pht_buf_get(b, &h, sizeof(h)) != PHT_OK || memcmp(h.magic, MAGIC, 8) != 0 ||
	    h.version != VERSION || h.zero != 0 || h.k != (uint64_t)k ||
	    h.off > (uint64_t)size || h.off == 0)
		goto out;
	if (journal_hash(fd, s->path, (off_t)h.off, hash, &data, &e) != PHT_OK ||
	    memcmp(hash, h.hash, sizeof(hash)) != 0 || data[h.off - 1] != '\n')
		goto out;
	/* the universe and the set system, then the keys and budget from the journal */
	if (get_universe(s, b) != PHT_OK)
		goto out;
	if (pht_station_setsys_load(b, sizeof(mac), k, &d->lim, &s->sys) != PHT_OK)
		goto out;
	if (pht_station_setsys_nids(s->sys) > s->nkeys ||
	    pht_diff_replay_lines(s, data, (size_t)h.off, 1, &d->lim, &used, &e) != PHT_OK ||
	    used != h.off || (lines = s->line) != h.lines)
		goto out;
	s->off = (off_t)h.off;
	s->snap_off = (off_t)h.off;
	r = PHT_OK;
out:
	free(data);
	pht_buf_free(b);
	return r;
}
