/* pht_station_code.h — the station's code store: every train's code kept by its SHA-256, for stewards and auditors. */
#ifndef PHT_STATION_CODE_H
#define PHT_STATION_CODE_H

#include <stddef.h>

struct pht_buf;
struct pht_err;

/*
 * The store is a directory beside the audit log, "<audit_log>.code"
 * (mode 0700), holding one file per train code, "<sha256 hex>.lua" (mode
 * 0600): the code exactly as signed, its name the lower-case hex SHA-256
 * of its bytes, the `code_sha256` the audit log's entries carry. A file is
 * written once (atomically, fsynced with its directory, before the
 * "received" entry that names it) and never changed or removed, so every
 * entry's code_sha256 stays readable; the file's name is its check (a
 * changed file no longer hashes to it).
 */

/* The store directory of an audit log ("<audit_log>.code"); caller frees. NULL on OOM. */
char *pht_station_code_dir(const char *audit_log);

/*
 * Stores code (len bytes) under sha256_hex, which must be its SHA-256
 * (PHT_ERR_HASH_MISMATCH otherwise); nothing is written when the file is
 * there already with those bytes. Creates the directory if needed.
 * PHT_ERR_INVALID (not 64 lower-case hex digits), the errors of
 * pht_file_write_atomic, PHT_ERR_NOMEM.
 */
int pht_station_code_put(const char *dir, const char *code, size_t len,
    const char *sha256_hex, struct pht_err *err);

/*
 * Reads the code stored under sha256_hex into *out (caller frees with
 * pht_buf_free). PHT_ERR_NOT_FOUND ("no code with SHA-256 H in DIR"),
 * PHT_ERR_HASH_MISMATCH (the file's bytes no longer hash to its name),
 * PHT_ERR_INVALID (a bad hash), PHT_ERR_IO.
 */
int pht_station_code_get(const char *dir, const char *sha256_hex, struct pht_buf **out,
    struct pht_err *err);

#endif
