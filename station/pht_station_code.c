/* pht_station_code.c — train code stored by its SHA-256 in a directory beside the audit log. */
#include "pht_station_code.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_hash.h"
#include "pht_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
pht_station_code_dir(const char *audit_log)
{
	size_t n = strlen(audit_log);
	char *p = malloc(n + sizeof(".code"));

	if (p != NULL) {
		memcpy(p, audit_log, n);
		memcpy(p + n, ".code", sizeof(".code"));
	}
	return p;
}

/* "<dir>/<hash>.lua", or NULL with err set (a bad hash, OOM). */
static char *
code_path(const char *dir, const char *sha, struct pht_err *err)
{
	char name[PHT_SHA256_HEX_LEN + 8], *p;
	size_t i;

	if (sha == NULL || strlen(sha) != PHT_SHA256_HEX_LEN) {
		pht_errf(err, PHT_ERR_INVALID, "code hash \"%.70s\": not a SHA-256 in hex",
		    sha != NULL ? sha : "");
		return NULL;
	}
	for (i = 0; i < PHT_SHA256_HEX_LEN; i++)
		if (!((sha[i] >= '0' && sha[i] <= '9') || (sha[i] >= 'a' && sha[i] <= 'f'))) {
			pht_errf(err, PHT_ERR_INVALID, "code hash \"%.70s\": not a SHA-256 "
			    "in lower-case hex", sha);
			return NULL;
		}
	snprintf(name, sizeof(name), "%s.lua", sha);
	if ((p = pht_path_join(dir, name)) == NULL)
		pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	return p;
}

int
pht_station_code_get(const char *dir, const char *sha, struct pht_buf **out,
    struct pht_err *err)
{
	struct pht_buf *b = NULL;
	char got[PHT_SHA256_HEX_LEN + 1], *path;
	int r;

	*out = NULL;
	if ((path = code_path(dir, sha, err)) == NULL)
		return err != NULL ? err->code : PHT_ERR_INVALID;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		r = pht_errf(err, PHT_ERR_NOT_FOUND, "no code with SHA-256 %s in %s", sha,
		    dir);
		goto out;
	}
	if ((r = pht_file_read(path, PHT_TRAIN_CODE_MAX, &b, err)) != PHT_OK ||
	    (r = pht_sha256_hex(pht_buf_data(b), pht_buf_len(b), got, err)) != PHT_OK)
		goto out;
	if (strcmp(got, sha) != 0) {
		r = pht_errf(err, PHT_ERR_HASH_MISMATCH, "%s: the stored code no longer "
		    "has the SHA-256 it is stored under (changed to %s)", path, got);
		goto out;
	}
	*out = b;
	b = NULL; /* transferred */
out:
	pht_buf_free(b);
	free(path);
	return r;
}

int
pht_station_code_put(const char *dir, const char *code, size_t len, const char *sha,
    struct pht_err *err)
{
	struct pht_buf *old = NULL;
	char got[PHT_SHA256_HEX_LEN + 1], *path;
	int r;

	if ((path = code_path(dir, sha, err)) == NULL)
		return err != NULL ? err->code : PHT_ERR_INVALID;
	if ((r = pht_sha256_hex(code, len, got, err)) != PHT_OK)
		goto out;
	if (strcmp(got, sha) != 0) {
		r = pht_errf(err, PHT_ERR_HASH_MISMATCH, "the code's SHA-256 is %s, not %s",
		    got, sha);
		goto out;
	}
	/* there already and whole: written once, never again */
	if (pht_station_code_get(dir, sha, &old, NULL) == PHT_OK) {
		r = PHT_OK;
		goto out;
	}
	if ((r = pht_mkdir_p(dir, 0700, err)) != PHT_OK)
		goto out;
	r = pht_file_write_atomic(path, code, len, 0600, err);
out:
	pht_buf_free(old);
	free(path);
	return r;
}
