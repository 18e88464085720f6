/* pht_station_diff.c — the release auditor: per-dataset journals of released row sets keyed by patient, replayed into the set system, with budgets. */
#include "pht_station_diff.h"
#include "pht_buf.h"
#include "pht_dataset.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_journal.h"
#include "pht_hash.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_station_setsys.h"
#include "pht_train_rowsets.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_MAX_BYTES ((off_t)1 << 30)
/* A line holds the keys of at most 2^32 rows or 4096 sets of at most 16 MiB, in base64. */
#define LINE_MAX_BYTES ((size_t)64 << 20)
#define KEY_LABEL "pht released-rows row keys v1"

/* One version of a dataset's rows: their keys' ids in the universe. */
struct rowmap {
	char id[PHT_SHA256_HEX_LEN + 1];
	uint32_t n;
	uint32_t *ids;
	int stored;             /* its keys line is in the file */
};

/* One release, for the budget. */
struct rel {
	int64_t t;
	size_t signer;
};

/*
 * The cached state of one dataset's store: everything the file's first
 * off bytes say (complete lines only), for the file dev/ino.
 */
struct store {
	char *dataset, *path;
	int valid;
	dev_t dev;
	ino_t ino;
	off_t off;
	uint64_t line;
	int64_t k;
	struct pht_station_setsys *sys;
	/* the universe: key -> id + 1 (0 = empty), open addressing */
	uint64_t *hkey;
	uint32_t *hval;
	size_t hcap, nkeys;
	struct rowmap *maps;
	size_t nmaps;
	struct rel *rels;
	size_t nrels;
	char **signers;
	size_t nsigners;
};

/* The keys of one dataset as last computed. */
struct keycache {
	char *dataset;
	char csv[PHT_SHA256_HEX_LEN + 1];
	size_t nrows;
	uint32_t *file_rows;    /* NULL when no row was dropped */
	uint64_t *keys;
};

struct pht_station_diff {
	char *prefix;
	uint8_t secret[32];
	struct pht_station_setsys_limits lim;
	struct store *stores;
	size_t nstores;
	struct keycache kc;
};

/* ---- keys ---- */

static uint64_t
hmac64(const uint8_t secret[32], const void *msg, size_t len)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	uint64_t v = 0;
	int i;

	if (HMAC(EVP_sha256(), secret, 32, msg, len, md, &mdlen) == NULL || mdlen < 8)
		abort();        /* HMAC-SHA-256 of memory does not fail */
	for (i = 7; i >= 0; i--)
		v = v << 8 | md[i];
	return v;
}

/* "kind\0dataset\0value\0occurrence" */
static uint64_t
row_key(const uint8_t secret[32], const char *kind, const char *dataset,
    const char *value, size_t len, uint32_t occurrence)
{
	char buf[512];
	size_t n = 0, kl = strlen(kind), dl = strlen(dataset);

	if (kl + dl + len + 16 > sizeof(buf))
		len = sizeof(buf) - kl - dl - 16;       /* identifiers are short; keep a prefix */
	memcpy(buf + n, kind, kl + 1);
	n += kl + 1;
	memcpy(buf + n, dataset, dl + 1);
	n += dl + 1;
	memcpy(buf + n, value, len);
	n += len;
	buf[n++] = '\0';
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%" PRIu32, occurrence);
	return hmac64(secret, buf, n);
}

uint64_t
pht_station_diff_key(const struct pht_station_diff *d, const char *dataset,
    const char *value, size_t len, uint32_t occurrence)
{
	return row_key(d->secret, "id", dataset, value, len, occurrence);
}

/* The identifier's value in row as text; 0 if missing. */
static size_t
id_text(const struct pht_column *c, size_t row, char *out, size_t max)
{
	const char *lv;
	int n;

	if (pht_column_is_missing(c, row))
		return 0;
	switch (c->type) {
	case PHT_COL_INTEGER:
		n = snprintf(out, max, "%" PRId64, c->v.i64[row]);
		break;
	case PHT_COL_NUMBER:
		n = snprintf(out, max, "%.17g", c->v.f64[row]);
		break;
	case PHT_COL_CATEGORY:
		lv = c->v.i32[row] >= 0 && (size_t)c->v.i32[row] < c->nlevels ?
		    c->levels[c->v.i32[row]] : "";
		n = snprintf(out, max, "%s", lv);
		break;
	case PHT_COL_DATE:
		n = snprintf(out, max, "d%" PRId32, c->v.i32[row]);
		break;
	default:
		n = snprintf(out, max, "%u", (unsigned)c->v.u8[row]);
		break;
	}
	return n > 0 && (size_t)n < max ? (size_t)n : 0;
}

struct keyed {
	uint64_t key;
	size_t row;
};

static int
cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

static int
compute_keys(const struct pht_station_diff *d, const struct pht_dataset *ds,
    uint64_t **out, struct pht_err *err)
{
	const struct pht_column *idc = pht_dataset_identifier(ds);
	const char *name = pht_dataset_name(ds);
	const uint32_t *map;
	size_t n = pht_dataset_nrows(ds), fn, i, j, len;
	struct keyed *kv = NULL;
	uint64_t *keys = NULL;
	char text[128];
	int r = PHT_OK;

	*out = NULL;
	map = pht_dataset_file_rows(ds, &fn);
	if ((keys = malloc((n + 1) * sizeof(*keys))) == NULL ||
	    (kv = malloc((n + 1) * sizeof(*kv))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (idc != NULL && (len = id_text(idc, i, text, sizeof(text))) > 0)
			keys[i] = row_key(d->secret, "id", name, text, len, 0);
		else {
			len = (size_t)snprintf(text, sizeof(text), "%" PRIu32,
			    map != NULL ? map[i] : (uint32_t)i);
			keys[i] = row_key(d->secret, "row", name, text, len, 0);
		}
		kv[i].key = keys[i];
		kv[i].row = i;
	}
	/* the j-th repeat of an identifier value (in row order) is keyed with j */
	qsort(kv, n, sizeof(*kv), cmp_keyed);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && kv[j].key == kv[i].key; j++) {
			len = id_text(idc, kv[j].row, text, sizeof(text));
			keys[kv[j].row] = row_key(d->secret, "id", name, text, len, (uint32_t)(j - i));
		}
	}
	for (i = 0; i < n; i++) {
		kv[i].key = keys[i];
		kv[i].row = i;
	}
	qsort(kv, n, sizeof(*kv), cmp_keyed);
	for (i = 1; i < n; i++)
		if (kv[i].key == kv[i - 1].key) {
			r = pht_errf(err, PHT_ERR_INTERNAL, "release auditor: two rows of dataset %s "
			    "get the same key; nothing is released", name);
			goto out;
		}
	*out = keys;
	keys = NULL;
out:
	free(kv);
	free(keys);
	return r;
}

int
pht_station_diff_rowkeys(struct pht_station_diff *d, const struct pht_dataset *ds,
    const uint64_t **keys, struct pht_err *err)
{
	struct keycache *kc = &d->kc;
	const uint32_t *map;
	size_t fn, n = pht_dataset_nrows(ds);
	uint64_t *nk = NULL;
	int r;

	*keys = NULL;
	map = pht_dataset_file_rows(ds, &fn);
	if (kc->keys != NULL && strcmp(kc->dataset, pht_dataset_name(ds)) == 0 &&
	    strcmp(kc->csv, pht_dataset_csv_sha256(ds)) == 0 && kc->nrows == n &&
	    (map == NULL) == (kc->file_rows == NULL) &&
	    (map == NULL || memcmp(map, kc->file_rows, n * sizeof(*map)) == 0)) {
		*keys = kc->keys;
		return PHT_OK;
	}
	if ((r = compute_keys(d, ds, &nk, err)) != PHT_OK)
		return r;
	free(kc->dataset);
	free(kc->file_rows);
	free(kc->keys);
	memset(kc, 0, sizeof(*kc));
	if ((kc->dataset = strdup(pht_dataset_name(ds))) == NULL ||
	    (map != NULL && (kc->file_rows = malloc((n + 1) * sizeof(*map))) == NULL)) {
		free(nk);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	if (map != NULL)
		memcpy(kc->file_rows, map, n * sizeof(*map));
	snprintf(kc->csv, sizeof(kc->csv), "%s", pht_dataset_csv_sha256(ds));
	kc->nrows = n;
	kc->keys = nk;
	*keys = nk;
	return PHT_OK;
}

/* ---- the cached state ---- */

static void
store_reset(struct store *s)
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
static int
key_id(struct store *s, uint64_t key, uint32_t *id)
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

static struct rowmap *
find_map(struct store *s, const char *id)
{
	size_t i;

	for (i = s->nmaps; i-- > 0;)
		if (strcmp(s->maps[i].id, id) == 0)
			return &s->maps[i];
	return NULL;
}

/* Adds the rowmap of n keys (id their hash); NULL if out of memory. */
static struct rowmap *
add_map(struct store *s, const char *id, const uint64_t *keys, size_t n, int stored)
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
		if (key_id(s, keys[i], &m->ids[i]) != PHT_OK) {
			free(m->ids);
			return NULL;
		}
	s->nmaps++;
	return m;
}

static void
keys_bytes(const uint64_t *keys, size_t n, uint8_t *out)
{
	size_t i;
	int b;

	for (i = 0; i < n; i++)
		for (b = 0; b < 8; b++)
			out[8 * i + (size_t)b] = (uint8_t)(keys[i] >> (8 * b));
}

static int
add_rel(struct store *s, int64_t t, const char *signer)
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

static int64_t
releases_since(const struct store *s, const char *signer, int64_t since)
{
	size_t i;
	int64_t n = 0;

	for (i = 0; i < s->nrels; i++)
		n += s->rels[i].t >= since && strcmp(s->signers[s->rels[i].signer], signer) == 0;
	return n;
}

/* The ids of set i of rs through map m into *ids (grown as needed); *n their count. */
static int
set_ids(const struct pht_train_rowsets *rs, size_t i, const struct rowmap *m,
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
	else if (find_map(s, id) != NULL)
		r = bad_line(s, err, "keys: stored twice");
	else if ((keys = malloc(((size_t)n + 1) * sizeof(*keys))) == NULL)
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	else {
		for (i = 0; i < (size_t)n; i++)
			for (keys[i] = 0, b = 7; b >= 0; b--)
				keys[i] = keys[i] << 8 | bytes[8 * i + (size_t)b];
		if (add_map(s, id, keys, (size_t)n, 1) == NULL)
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	free(bytes);
	free(keys);
	return r;
}

static int
replay_release(struct store *s, const json_t *o, const struct pht_station_setsys_limits *lim,
    struct pht_err *err)
{
	const char *signer, *train, *id;
	const struct rowmap *m;
	struct pht_train_rowsets *rs = NULL;
	const json_t *sets, *v;
	uint32_t *ids = NULL;
	uint8_t *bytes = NULL;
	size_t i, cap = 0, n, blen;
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
	if ((m = find_map(s, id)) == NULL)
		return bad_line(s, err, "rows: no keys stored for it before");
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
		if ((r = set_ids(rs, 0, m, &ids, &cap, &n)) != PHT_OK ||
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
	pht_station_setsys_commit(s->sys);
	return add_rel(s, t, signer);
}

static int
replay_line(struct store *s, const char *text, size_t len,
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
		r = replay_release(s, o, lim, err);
	json_decref(o);
	return r;
}

static int
read_range(int fd, const char *path, off_t from, off_t to, char **out, struct pht_err *err)
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

/*
 * Brings s up to date with the file open at fd (locked): replays the
 * complete lines after s->off. A damaged line leaves s invalid.
 */
static int
store_sync(struct store *s, int fd, int64_t k, const struct pht_station_setsys_limits *lim,
    struct pht_err *err)
{
	struct stat st;
	char *data = NULL, *nl;
	size_t i = 0, len;
	int r = PHT_OK;

	if (fstat(fd, &st) != 0)
		return pht_errf(err, PHT_ERR_IO, "%s: %s", s->path, strerror(errno));
	if (st.st_size > STORE_MAX_BYTES)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "%s: larger than 1 GiB", s->path);
	if (!s->valid || s->dev != st.st_dev || s->ino != st.st_ino || st.st_size < s->off ||
	    s->k != k) {
		store_reset(s);
		s->k = k;
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		if ((s->sys = pht_station_setsys_new(k)) == NULL)
			return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		s->valid = 1;
	}
	if (st.st_size == s->off)
		return PHT_OK;
	if ((r = read_range(fd, s->path, s->off, st.st_size, &data, err)) != PHT_OK)
		return r;
	len = (size_t)(st.st_size - s->off);
	while (i < len && (nl = memchr(data + i, '\n', len - i)) != NULL) {
		s->line++;
		if ((size_t)(nl - (data + i)) > LINE_MAX_BYTES) {
			r = bad_line(s, err, "line too long");
			break;
		}
		if ((r = replay_line(s, data + i, (size_t)(nl - (data + i)), lim, err)) != PHT_OK)
			break;
		s->off += (nl - (data + i)) + 1;
		i = (size_t)(nl - data) + 1;
	}
	/* what is left without a newline is a torn last line: never confirmed */
	free(data);
	if (r != PHT_OK)
		s->valid = 0;   /* fail closed, and re-read from the start next time */
	return r;
}

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
	uint8_t sig[PHT_KEY_SIG_LEN];
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
	/* Ed25519 signatures are deterministic: the same key gives the same secret */
	if ((r = pht_key_sign(station_key, (const uint8_t *)KEY_LABEL, strlen(KEY_LABEL), sig,
	    err)) != PHT_OK || EVP_Digest(sig, sizeof(sig), d->secret, &mdlen, EVP_sha256(),
	    NULL) != 1) {
		pht_station_diff_free(d);
		return r != PHT_OK ? r : pht_errf(err, PHT_ERR_CRYPTO, "SHA-256 failed");
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
		store_reset(&d->stores[i]);
		free(d->stores[i].dataset);
		free(d->stores[i].path);
	}
	free(d->stores);
	free(d->kc.dataset);
	free(d->kc.file_rows);
	free(d->kc.keys);
	free(d->prefix);
	explicit_bzero(d->secret, sizeof(d->secret));
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
	if ((s->dataset = strdup(dataset)) == NULL || (s->path = malloc(n)) == NULL) {
		free(s->dataset);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	snprintf(s->path, n, "%s.%s", d->prefix, dataset);
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
	if ((r = store_sync(s, fd, k, &d->lim, err)) == PHT_OK &&
	    (used = releases_since(s, signer_fp, now - budget->window_seconds)) >=
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
		keys_bytes(keys, m->n, kb);
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
	if ((r = store_sync(s, fd, k, &d->lim, err)) != PHT_OK)
		goto out;
	if (budget != NULL && budget->releases > 0 && (used = releases_since(s, signer_fp,
	    now - budget->window_seconds)) >= budget->releases) {
		r = budget_refusal(s, used, budget, err);
		goto out;
	}

	/* this version of the data's keys */
	if ((kb = malloc(nrows * 8 + 1)) == NULL || (grew = calloc(nsets + 1, 1)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	keys_bytes(keys, nrows, kb);
	(void)pht_sha256_hex(kb, nrows * 8, id, NULL);
	if ((m = find_map(s, id)) == NULL && (m = add_map(s, id, keys, nrows, 0)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}

	/* the sets, added in one transaction, then the check */
	if ((r = pht_station_setsys_begin(s->sys)) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_INTERNAL, "release auditor: transaction open");
		goto out;
	}
	open_tx = 1;
	for (i = 0; i < nsets; i++) {
		if ((r = set_ids(rs, i, m, &ids, &cap, &n)) != PHT_OK ||
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
	if (!m->stored)
		s->line++;
	m->stored = 1;
	s->line++;
	s->off += (off_t)strlen(lines);
	if ((r = add_rel(s, now, signer_fp)) != PHT_OK) {
		s->valid = 0;
		r = pht_errf(err, r, "out of memory");
		/* stored and durable: the release may leave; the cache is re-read next time */
		r = PHT_OK;
	}
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
