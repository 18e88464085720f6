/* pht_station_diff_keys.c — row keys: a station secret from its signing key, and the HMAC of each row's identifier that keeps a patient's identity across versions of the data. */
#include "pht_station_diff_int.h"
#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_key.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LABEL "pht released-rows row keys v1"

/* Ed25519 signatures are deterministic: the same key gives the same secret. */
int
pht_diff_secret(const struct pht_key *station_key, uint8_t secret[32], struct pht_err *err)
{
	uint8_t sig[PHT_KEY_SIG_LEN];
	unsigned int mdlen = 0;
	int r;

	if ((r = pht_key_sign(station_key, (const uint8_t *)KEY_LABEL, strlen(KEY_LABEL), sig,
	    err)) != PHT_OK)
		return r;
	if (EVP_Digest(sig, sizeof(sig), secret, &mdlen, EVP_sha256(), NULL) != 1)
		return pht_errf(err, PHT_ERR_CRYPTO, "SHA-256 failed");
	return PHT_OK;
}

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

