/* pht_station_diff_replay.c — the cached state of one dataset's store (the universe of row keys, versions of the rows, releases for the budget, the set system) and its replay from the journal. */
#include "pht_station_diff_int.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_train_rowsets.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the cached state ---- */

void
pht_diff_store_reset(struct store *s)
{
	size_t i;

	pht_station_setsys_free(s->sys);
	s->sys = NULL;
	free(s->hkey);
	free(s->hval);
	s->hkey = NULL;
	s->hval = NULL;
	s->hcap = s->nkeys = 0;
	for (i = 0; i < s->nmaps; i++)
		free(s->maps[i].ids);
	free(s->maps);
	s->maps = NULL;
	s->nmaps = 0;
	free(s->rels);
	s->rels = NULL;
	s->nrels = 0;
	for (i = 0; i < s->nsigners; i++)
		free(s->signers[i]);
	free(s->signers);
	s->signers = NULL;
	s->nsigners = 0;
	s->valid = 0;
	s->off = 0;
	s->line = 0;
	s->tail_cost = 0;
	s->snap_off = 0;
	s->replayed = 0;
}

static int
hash_grow(struct store *s)
{
	size_t cap = s->hcap ? s->hcap * 2 : 1 << 16, i, h;
	uint64_t *nk = calloc(cap, sizeof(*nk));
	uint32_t *nv = calloc(cap, sizeof(*nv));

	if (nk == NULL || nv == NULL) {
		free(nk);
		free(nv);
		return PHT_ERR_NOMEM;
	}
	for (i = 0; i < s->hcap; i++) {
		if (s->hval[i] == 0)
			continue;
		for (h = (size_t)s->hkey[i] & (cap - 1); nv[h] != 0; h = (h + 1) & (cap - 1))
			;
		nk[h] = s->hkey[i];
		nv[h] = s->hval[i];
	}
	free(s->hkey);
	free(s->hval);
	s->hkey = nk;
	s->hval = nv;
	s->hcap = cap;
	return PHT_OK;
}

/* The id of key in the universe, added if new. */
int
pht_diff_key_id(struct store *s, uint64_t key, uint32_t *id)
{
	size_t h;

	if ((s->nkeys + 1) * 2 > s->hcap && hash_grow(s) != PHT_OK)
		return PHT_ERR_NOMEM;
	for (h = (size_t)key & (s->hcap - 1); s->hval[h] != 0; h = (h + 1) & (s->hcap - 1))
		if (s->hkey[h] == key) {
			*id = s->hval[h] - 1;
			return PHT_OK;
		}
	if (s->nkeys >= UINT32_MAX - 1)
		return PHT_ERR_TOO_LARGE;
	s->hkey[h] = key;
	s->hval[h] = (uint32_t)++s->nkeys;
	*id = s->hval[h] - 1;
	return PHT_OK;
}

struct rowmap *
pht_diff_find_map(struct store *s, const char *id)
{
	size_t i;

	for (i = s->nmaps; i-- > 0;)
		if (strcmp(s->maps[i].id, id) == 0)
			return &s->maps[i];
	return NULL;
}

/* Adds the rowmap of n keys (id their hash); NULL if out of memory. */
struct rowmap *
pht_diff_add_map(struct store *s, const char *id, const uint64_t *keys, size_t n, int stored)
{
	struct rowmap *m, *nm;
	size_t i;

	if ((nm = realloc(s->maps, (s->nmaps + 1) * sizeof(*nm))) == NULL)
		return NULL;
	s->maps = nm;
	m = &s->maps[s->nmaps];
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->n = (uint32_t)n;
	m->stored = stored;
	if ((m->ids = malloc((n + 1) * sizeof(*m->ids))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (pht_diff_key_id(s, keys[i], &m->ids[i]) != PHT_OK) {
			free(m->ids);
			return NULL;
		}
	s->nmaps++;
	return m;
}

void
pht_diff_keys_bytes(const uint64_t *keys, size_t n, uint8_t *out)
{
	size_t i;
	int b;

	for (i = 0; i < n; i++)
		for (b = 0; b < 8; b++)
			out[8 * i + (size_t)b] = (uint8_t)(keys[i] >> (8 * b));
}

int
pht_diff_add_rel(struct store *s, int64_t t, const char *signer)
{
	size_t i;
	struct rel *nr;
	char **ns;

	for (i = 0; i < s->nsigners; i++)
		if (strcmp(s->signers[i], signer) == 0)
			break;
	if (i == s->nsigners) {
		if ((ns = realloc(s->signers, (s->nsigners + 1) * sizeof(*ns))) == NULL)
			return PHT_ERR_NOMEM;
		s->signers = ns;
		if ((ns[s->nsigners] = strdup(signer)) == NULL)
			return PHT_ERR_NOMEM;
		s->nsigners++;
	}
	if ((nr = realloc(s->rels, (s->nrels + 1) * sizeof(*nr))) == NULL)
		return PHT_ERR_NOMEM;
	s->rels = nr;
	s->rels[s->nrels].t = t;
	s->rels[s->nrels].signer = i;
	s->nrels++;
	return PHT_OK;
}

int64_t
pht_diff_releases_since(const struct store *s, const char *signer, int64_t since)
{
	size_t i;
	int64_t n = 0;

	for (i = 0; i < s->nrels; i++)
		n += s->rels[i].t >= since && strcmp(s->signers[s->rels[i].signer], signer) == 0;
	return n;
}

/* The ids of set i of rs through map m into *ids (grown as needed); *n their count. */
int
pht_diff_set_ids(const struct pht_train_rowsets *rs, size_t i, const struct rowmap *m,
    uint32_t **ids, size_t *cap, size_t *n)
{
	size_t size = pht_train_rowsets_size(rs, i), j;
	uint32_t *p;

	if (size + 1 > *cap) {
		if ((p = realloc(*ids, (size + 1) * sizeof(*p))) == NULL)
			return PHT_ERR_NOMEM;
		*ids = p;
		*cap = size + 1;
	}
	*n = pht_train_rowsets_rows(rs, i, *ids);
	for (j = 0; j < *n; j++)
		(*ids)[j] = m->ids[(*ids)[j]];
	return PHT_OK;
}

/* ---- replaying the journal ---- */

static int
bad_line(const struct store *s, struct pht_err *err, const char *why)
{
	return pht_errf(err, PHT_ERR_MALFORMED, "%s:%" PRIu64 ": %s", s->path, s->line, why);
}

static int
replay_keys(struct store *s, const json_t *o, struct pht_err *err)
{
	const char *id, *b64;
	int64_t n;
	uint8_t *bytes = NULL;
	uint64_t *keys = NULL;
	size_t blen, i;
	char hash[PHT_SHA256_HEX_LEN + 1];
	int r = PHT_OK, b;

	if (pht_json_get_str(o, "rows", "keys entry", &id, err) != PHT_OK ||
	    pht_json_get_int(o, "n", "keys entry", &n, err) != PHT_OK ||
	    pht_json_get_str(o, "keys", "keys entry", &b64, err) != PHT_OK) {
		pht_err_prefix(err, "%s:%" PRIu64, s->path, s->line);
		return PHT_ERR_MALFORMED;
	}
	if (pht_b64_decode_alloc(b64, strlen(b64), &bytes, &blen) != PHT_OK || n < 0 ||
	    n > UINT32_MAX || blen != (size_t)n * 8)
		r = bad_line(s, err, "keys: not base64 of n 8-byte keys");
	else if (pht_sha256_hex(bytes, blen, hash, NULL) != PHT_OK || strcmp(hash, id) != 0)
		r = bad_line(s, err, "keys: they do not hash to their rows id");
	else if (pht_diff_find_map(s, id) != NULL)
		r = bad_line(s, err, "keys: stored twice");
	else if ((keys = malloc(((size_t)n + 1) * sizeof(*keys))) == NULL)
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	else {
		for (i = 0; i < (size_t)n; i++)
			for (keys[i] = 0, b = 7; b >= 0; b--)
				keys[i] = keys[i] << 8 | bytes[8 * i + (size_t)b];
		if (pht_diff_add_map(s, id, keys, (size_t)n, 1) == NULL)
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	free(bytes);
	free(keys);
	return r;
}

static int
replay_release(struct store *s, const json_t *o, int light,
    const struct pht_station_setsys_limits *lim, struct pht_err *err)
{
	const char *signer, *train, *id;
	const struct rowmap *m;
	struct pht_train_rowsets *rs = NULL;
	const json_t *sets, *v;
	uint32_t *ids = NULL;
	uint8_t *bytes = NULL;
	size_t i, cap = 0, n, blen;
	uint64_t found;
	int64_t t;
	int r;
	struct pht_station_setsys_limits rl = *lim;

	/* what was released is replayed whatever the machine's load: no time bound */
	rl.seconds = 1e18;

	if (pht_json_get_str(o, "signer", "release entry", &signer, err) != PHT_OK ||
	    pht_json_get_str(o, "train", "release entry", &train, err) != PHT_OK ||
	    pht_json_get_str(o, "rows", "release entry", &id, err) != PHT_OK ||
	    pht_json_get_int(o, "t", "release entry", &t, err) != PHT_OK) {
		pht_err_prefix(err, "%s:%" PRIu64, s->path, s->line);
		return PHT_ERR_MALFORMED;
	}
	if (!json_is_array(sets = json_object_get(o, "sets")))
		return bad_line(s, err, "sets: not an array");
	if ((m = pht_diff_find_map(s, id)) == NULL)
		return bad_line(s, err, "rows: no keys stored for it before");
	if (light)
		return pht_diff_add_rel(s, t, signer);
	if ((r = pht_station_setsys_begin(s->sys)) != PHT_OK)
		return pht_errf(err, PHT_ERR_INTERNAL, "release auditor: transaction open");
	json_array_foreach(sets, i, v) {
		if (!json_is_string(v) || pht_b64_decode_alloc(json_string_value(v),
		    json_string_length(v), &bytes, &blen) != PHT_OK) {
			r = bad_line(s, err, "sets: not base64");
			break;
		}
		r = pht_train_rowsets_decode(bytes, blen, "stored set", &rs, err);
		free(bytes);
		bytes = NULL;
		if (r != PHT_OK) {
			pht_err_prefix(err, "%s:%" PRIu64, s->path, s->line);
			break;
		}
		if (pht_train_rowsets_nrows(rs) != m->n || pht_train_rowsets_count(rs) != 1) {
			r = bad_line(s, err, "sets: not one set over the rows of its keys");
			break;
		}
		if ((r = pht_diff_set_ids(rs, 0, m, &ids, &cap, &n)) != PHT_OK ||
		    (r = pht_station_setsys_add(s->sys, ids, n, &rl, NULL)) != PHT_OK) {
			r = r == PHT_ERR_TOO_LARGE ? bad_line(s, err, "the releases stored pass the "
			    "auditor's bounds") : pht_errf(err, r, "release auditor: replay failed");
			break;
		}
		pht_train_rowsets_free(rs);
		rs = NULL;
	}
	pht_train_rowsets_free(rs);
	free(ids);
	if (r != PHT_OK) {
		pht_station_setsys_rollback(s->sys);
		return r;
	}
	/*
	 * While the sets so far were shown to determine no small group, check
	 * again (from the rows this release changed: cheap), so the system
	 * stays known clean and an admission need not search from every row.
	 * What the check says does not change what is replayed: it left.
	 */
	if (pht_station_setsys_clean(s->sys))
		(void)pht_station_setsys_check(s->sys, &rl, &found);
	pht_station_setsys_commit(s->sys);
	s->replayed++;
	return pht_diff_add_rel(s, t, signer);
}

static int
replay_line(struct store *s, const char *text, size_t len, int light,
    const struct pht_station_setsys_limits *lim, struct pht_err *err)
{
	json_t *o = NULL;
	int r;

	if (pht_json_parse(text, len, "released-rows entry", &o, err) != PHT_OK) {
		pht_err_prefix(err, "%s:%" PRIu64, s->path, s->line);
		return PHT_ERR_MALFORMED;
	}
	if (!json_is_object(o))
		r = bad_line(s, err, "not an object");
	else if (json_object_get(o, "keys") != NULL)
		r = replay_keys(s, o, err);
	else
		r = replay_release(s, o, light, lim, err);
	json_decref(o);
	return r;
}

int
pht_diff_read_range(int fd, const char *path, off_t from, off_t to, char **out, struct pht_err *err)
{
	size_t len = (size_t)(to - from), got = 0;
	ssize_t n;
	char *buf;

	*out = NULL;
	if ((buf = malloc(len + 1)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory reading %s", path);
	while (got < len) {
		n = pread(fd, buf + got, len - got, from + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return pht_errf(err, PHT_ERR_IO, "%s: %s", path, n < 0 ? strerror(errno) :
			    "shorter than it was");
		}
		got += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	return PHT_OK;
}

int
pht_diff_replay_lines(struct store *s, const char *data, size_t len, int light,
    const struct pht_station_setsys_limits *lim, size_t *used, struct pht_err *err)
{
	const char *nl;
	size_t i = 0;
	int r = PHT_OK;

	while (i < len && (nl = memchr(data + i, '\n', len - i)) != NULL) {
		s->line++;
		if ((size_t)(nl - (data + i)) > LINE_MAX_BYTES) {
			r = bad_line(s, err, "line too long");
			break;
		}
		if ((r = replay_line(s, data + i, (size_t)(nl - (data + i)), light, lim, err)) !=
		    PHT_OK)
			break;
		i = (size_t)(nl - data) + 1;
	}
	*used = i;
	return r;
}

double
pht_diff_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
pht_diff_store_sync(struct pht_station_diff *d, struct store *s, int fd, int64_t k,
    struct pht_err *err)
{
	struct stat st;
	char *data = NULL;
	size_t used = 0;
	double t0;
	int r = PHT_OK;

	if (fstat(fd, &st) != 0)
		return pht_errf(err, PHT_ERR_IO, "%s: %s", s->path, strerror(errno));
	if (st.st_size > STORE_MAX_BYTES)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "%s: larger than 1 GiB", s->path);
	if (!s->valid || s->dev != st.st_dev || s->ino != st.st_ino || st.st_size < s->off ||
	    s->k != k) {
		pht_diff_store_reset(s);
		s->k = k;
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		if (pht_diff_snap_load(d, s, fd, st.st_size, k) != PHT_OK) {
			pht_diff_store_reset(s);
			if ((s->sys = pht_station_setsys_new(k)) == NULL)
				return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		}
		s->valid = 1;
	}
	if (st.st_size == s->off)
		return PHT_OK;
	if ((r = pht_diff_read_range(fd, s->path, s->off, st.st_size, &data, err)) != PHT_OK)
		return r;
	/* what is left without a newline is a torn last line: never confirmed */
	t0 = pht_diff_now();
	r = pht_diff_replay_lines(s, data, (size_t)(st.st_size - s->off), 0, &d->lim, &used, err);
	s->off += (off_t)used;
	s->tail_cost += pht_diff_now() - t0;
	free(data);
	if (r != PHT_OK)
		s->valid = 0;   /* fail closed, and re-read from the start next time */
	return r;
}
