/* pht_audit_archive.h — the audit log over time: a chain across rotated files, auditor bundles, retention. */
#ifndef PHT_AUDIT_ARCHIVE_H
#define PHT_AUDIT_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "pht_audit.h"

struct pht_err;
struct pht_key;

/*
 * Verifies a log kept in several files (oldest first: the archives
 * pht_audit_rotate left, then the live file): each file as
 * pht_audit_verify, and each file after the first must start exactly where
 * the one before it ends. The first may itself continue an older file that
 * retention removed (report->start says where it starts). expect, if not
 * NULL, must be an entry of one of the files with that hash. PHT_OK, or
 * PHT_ERR_TAMPERED with a detail naming the file and line; report (may be
 * NULL) covers the whole chain.
 */
int pht_audit_verify_files(const char *const *paths, size_t n,
    const struct pht_key *station_pub, const struct pht_audit_head *expect,
    struct pht_audit_report *report, struct pht_err *err);

/*
 * The archives of the log at path, oldest first: the files named
 * PATH.<12 digits> beside it, then path itself if it exists. *out is a
 * NULL-terminated array (free with pht_audit_files_free); *n its length.
 */
int pht_audit_files(const char *path, char ***out, size_t *n, struct pht_err *err);
void pht_audit_files_free(char **files);

/*
 * Rotates the log at path (pht_audit_rotate) if it has grown to max_bytes
 * or more; *rotated (may be NULL) says whether it did. PHT_OK when the log
 * is smaller; errors as pht_audit_rotate.
 */
int pht_audit_rotate_at(const char *path, const struct pht_key *station_key,
    uint64_t max_bytes, int *rotated, struct pht_err *err);

/* What to put in a bundle. */
struct pht_audit_export_spec {
	const char *const *logs;        /* the log's files, oldest first */
	size_t nlogs;
	const struct pht_key *station_pub;
	int64_t from, to;               /* entries with from <= time <= to (Unix seconds) */
	const char *heads_json;         /* the node's heads (file text) or NULL */
	size_t heads_len;
	const char *out_dir;            /* created; must not exist */
	int data_detail;                /* 1: keep data-dependent detail (see below) */
};

/*
 * Writes an auditor's bundle, a directory holding bundle.json (version 2:
 * the range, the anchor — seq and hash of the entry before the first one
 * exported —, the station's public key in PEM and its fingerprint, the
 * entry count, the SHA-256 of entries.log, the node's heads, data_detail
 * and the number of entries left_out) and entries.log (the entries' lines
 * exactly as in the log). Unless spec->data_detail is set, the executed,
 * failed and withheld entries of every run whose outcome may depend on
 * data values (its outcome entry says "data_dependent": true) are left
 * out: written as left-out lines (pht_audit_left_out_line) that keep the
 * chain and the signatures checkable without their content. The log's files are verified
 * first (PHT_ERR_TAMPERED if broken). heads_json is one {"seq", "hash"}
 * object or an array of them (PHT_ERR_MALFORMED otherwise).
 * PHT_ERR_NOT_FOUND if no entry falls in the range; PHT_ERR_IO.
 * *count (may be NULL) gets the number of entries written.
 */
int pht_audit_export(const struct pht_audit_export_spec *spec, uint64_t *count,
    struct pht_err *err);

/* What checking a bundle found. */
struct pht_audit_bundle_report {
	uint64_t entries;
	uint64_t left_out;              /* entries shown only by hash and signature */
	struct pht_audit_head anchor, head;
	char station_fp[80];            /* fingerprint of the key in the bundle */
	size_t heads_checked;           /* node heads inside the range, matched */
	size_t heads_outside;           /* node heads outside it (not checkable) */
};

/*
 * Verifies a bundle offline: bundle.json well formed (version 1, or 2
 * with left_out), entries.log's SHA-256, every entry's hash (left-out
 * lines of a version 2 bundle: their recorded hash, as many as left_out
 * says), signature (with the key in the bundle, or
 * with expect_pub if given, which must then be the same key), seq and prev
 * from the anchor, the count and range, and every node head inside the
 * range against the entry of that seq. PHT_ERR_TAMPERED naming what
 * failed; PHT_ERR_MALFORMED for a bad bundle.json; PHT_ERR_IO.
 */
int pht_audit_bundle_verify(const char *dir, const struct pht_key *expect_pub,
    struct pht_audit_bundle_report *rep, struct pht_err *err);

/*
 * Retention: may the file at path go? It may only if every entry in it is
 * older than `years` years before now (the newest entry's time plus years
 * calendar years is at or before now). PHT_OK if it may; PHT_ERR_DENIED
 * with a detail naming the youngest entry if not; PHT_ERR_TAMPERED or
 * PHT_ERR_IO if it cannot be read.
 */
int pht_audit_retention_check(const char *path, int years, int64_t now,
    struct pht_err *err);

/*
 * Deletes the archives of the log at path (never the live file) that
 * retention allows, oldest first, stopping at the first that must stay so
 * that what remains is still one chain. If only (may be NULL) names files,
 * just those are considered and any of them retention keeps is refused
 * (PHT_ERR_DENIED, nothing deleted). dry_run deletes nothing. When files
 * were deleted and station_key (private) is given, a signed "pruned" entry
 * naming them (names only) and the retention period is appended to the
 * log; a failure to log is returned after the deletion. *removed (may be
 * NULL) gets the count.
 */
int pht_audit_prune(const char *path, int years, int64_t now,
    const char *const *only, size_t nonly, int dry_run,
    const struct pht_key *station_key, size_t *removed, struct pht_err *err);

#endif
