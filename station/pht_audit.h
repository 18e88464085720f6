/* pht_audit.h — the station's append-only, hash-chained, signed audit log. */
#ifndef PHT_AUDIT_H
#define PHT_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_limits.h"

struct pht_err;
struct pht_key;

/*
 * The log is a file of JSON lines, one entry per event, each line exactly
 *
 *   {"hash":"<64 hex>","sig":"<88 base64>","entry":ENTRY}\n
 *
 * ENTRY is a compact JSON object (sorted keys) holding at least
 *   "seq"   1-based sequence number, +1 per line
 *   "time"  RFC 3339 UTC time of the event
 *   "prev"  the previous line's hash (64 zeros on line 1)
 *   "event" what happened: received, rejected, queued, approved, refused,
 *           executed, released, failed, repaired, ...
 * and the event's own fields. hash is the SHA-256 of the exact ENTRY
 * bytes, sig the station's Ed25519 signature over the 13 + 64 bytes
 * "pht-audit-v1:" followed by that hash in hex. Nothing is re-serialized
 * to verify: the ENTRY bytes are taken from the line as written.
 *
 * A crash in the middle of an append leaves a last line without its
 * newline (a torn line). Verify reports it; the writer refuses to append
 * after it until pht_audit_repair() has moved the torn bytes aside and
 * logged a "repaired" entry. See docs/audit-log.md.
 */

#define PHT_AUDIT_HASH_HEX 64

/* Why verification stopped. */
enum pht_audit_fault {
	PHT_AUDIT_FAULT_NONE = 0,
	PHT_AUDIT_FAULT_MALFORMED,     /* not the line layout, or ENTRY is bad JSON */
	PHT_AUDIT_FAULT_HASH,          /* hash is not SHA-256 of ENTRY */
	PHT_AUDIT_FAULT_SIGNATURE,     /* signature does not verify */
	PHT_AUDIT_FAULT_SEQ,           /* seq is not the previous seq + 1 */
	PHT_AUDIT_FAULT_PREV,          /* prev is not the previous line's hash */
	PHT_AUDIT_FAULT_TORN,          /* last line has no newline (torn write) */
	PHT_AUDIT_FAULT_HEAD,          /* log ends before the expected head */
};

/* Short name of a fault ("hash mismatch", "torn last line", ...). */
const char *pht_audit_fault_name(enum pht_audit_fault f);

/* The last entry of a log: its seq (0 for an empty log) and hash. */
struct pht_audit_head {
	uint64_t seq;
	char hash[PHT_AUDIT_HASH_HEX + 1];
};

/* The outcome of pht_audit_verify. */
struct pht_audit_report {
	uint64_t entries;               /* lines that verified, from the start */
	struct pht_audit_head head;     /* the last verified entry */
	enum pht_audit_fault fault;     /* NONE if the whole log verified */
	uint64_t line;                  /* 1-based line of the first fault, or 0 */
	struct pht_audit_head start;    /* the entry the file continues from: seq 0
	                                   for a log that starts the chain */
	uint64_t left_out;              /* left-out lines (PHT_AUDIT_LEFT_OUT_OK) */
};

/*
 * Verifies the log at path against the station's public signing key:
 * the layout of every line, each hash, each signature, seq continuity
 * from 1 and each prev link, and that the file ends with a newline. If
 * expect is not NULL (a head the station published earlier), the log
 * must also contain that entry with that hash (a log cut back to an
 * earlier line boundary is caught this way). Stops at the first fault.
 *
 * Returns PHT_OK if everything verifies; PHT_ERR_TAMPERED with the report
 * filled and a detail "LOG:LINE: reason" otherwise; PHT_ERR_IO if the file
 * cannot be read. report may be NULL.
 */
int pht_audit_verify(const char *path, const struct pht_key *station_pub,
    const struct pht_audit_head *expect, struct pht_audit_report *report,
    struct pht_err *err);

/*
 * The same for a file whose chain does not start at seq 1: a file after a
 * rotation (docs/audit-log.md) or an exported bundle's entries. With start
 * given, the first line must be entry start->seq + 1 with prev
 * start->hash. Without it (and in pht_audit_verify), a file whose first
 * entry is a signed "continued" entry (written by pht_audit_rotate) is
 * taken to continue from that entry's seq - 1 and prev; report->start
 * says so, and only the file before it can prove that link.
 */
int pht_audit_verify_from(const char *path, const struct pht_key *station_pub,
    const struct pht_audit_head *start, const struct pht_audit_head *expect,
    struct pht_audit_report *report, struct pht_err *err);

/*
 * An entry left out of an auditor's bundle (pht_audit_archive.h) stands
 * in the bundle's file as the line
 *
 *   {"hash":"<64 hex>","sig":"<88 base64>","left_out":{"prev":P,"seq":N}}
 *
 * with the entry's own hash and signature and its seq and prev: the
 * signature still proves the station wrote an entry with that hash there,
 * and the chain runs on through it, but its content (time included: it
 * lies between its neighbours') is not shown.
 * pht_audit_left_out_line makes that line from a log line (len bytes,
 * without the newline; *out allocated, NUL-terminated, no newline);
 * PHT_ERR_MALFORMED if line is not a log line.
 */
int pht_audit_left_out_line(const char *line, size_t len, char **out,
    struct pht_err *err);

/*
 * pht_audit_verify_from and pht_audit_foreach with options: with
 * PHT_AUDIT_LEFT_OUT_OK, left-out lines are accepted (their signature,
 * seq and prev checked; report->left_out counts them) and fn sees them as
 * {"seq", "prev", "left_out": true}. Logs never hold such lines;
 * only bundles do.
 */
#define PHT_AUDIT_LEFT_OUT_OK 0x1u
int pht_audit_verify_opts(const char *path, const struct pht_key *station_pub,
    const struct pht_audit_head *start, const struct pht_audit_head *expect,
    unsigned opts, struct pht_audit_report *report, struct pht_err *err);

/*
 * Calls fn for each entry of the log in order with its line number, its
 * hash and ENTRY parsed (borrowed for the call). Checks layout, hashes,
 * seq and prev links (not signatures: use pht_audit_verify for that) and
 * stops with PHT_ERR_TAMPERED at the first fault, including a torn last
 * line. A non-zero return of fn stops the walk and is returned.
 */
typedef int (*pht_audit_entry_fn)(uint64_t line, const char *hash,
    const json_t *entry, void *arg);
int pht_audit_foreach(const char *path, pht_audit_entry_fn fn, void *arg,
    struct pht_err *err);
/* pht_audit_foreach with options (PHT_AUDIT_LEFT_OUT_OK: bundles only). */
int pht_audit_foreach_opts(const char *path, unsigned opts, pht_audit_entry_fn fn,
    void *arg, struct pht_err *err);

/* An open log, for appending. */
struct pht_audit;

/*
 * Opens (creating it, mode 0600, if missing) the log at path for
 * appending with the station's private signing key (borrowed; must outlive
 * log). The log's chain is checked (as pht_audit_foreach) and the last
 * entry's signature verified to recover the head. PHT_ERR_TAMPERED if the
 * log is broken, including a torn last line ("run pht audit repair").
 */
int pht_audit_open(const char *path, const struct pht_key *station_key,
    struct pht_audit **out, struct pht_err *err);

/* Closes log; accepts NULL. */
void pht_audit_close(struct pht_audit *log);

/*
 * Appends one entry: event name and its fields (an object, may be NULL;
 * must not use the names seq, time, prev or event). Under an exclusive
 * lock on the file it catches up with lines other processes appended,
 * writes the line with one write(2) on an O_APPEND descriptor and
 * fsyncs before returning. If the write is short, the partial line is cut
 * off again. head (may be NULL) receives the new head.
 * PHT_ERR_INVALID for a reserved field name; PHT_ERR_TOO_LARGE if the line
 * would exceed PHT_AUDIT_LINE_MAX; PHT_ERR_IO; PHT_ERR_TAMPERED if another
 * process left the log broken.
 */
int pht_audit_append(struct pht_audit *log, const char *event,
    const json_t *fields, struct pht_audit_head *head, struct pht_err *err);

/* The head as of the last open or append. */
void pht_audit_get_head(const struct pht_audit *log, struct pht_audit_head *head);

/*
 * Reads the head of the log at path (the last complete entry; seq 0 for an
 * empty or missing log) after checking the chain as pht_audit_foreach does.
 */
int pht_audit_read_head(const char *path, struct pht_audit_head *head,
    struct pht_err *err);

/*
 * Rotation: closes the log at path and starts a new file there that
 * continues the chain. Under the log's lock, the current file is kept as
 * PATH.<last seq, 12 digits> (a hard link: its bytes are never copied) and
 * a new file holding one signed "continued" entry (seq = last seq + 1,
 * prev = the last hash, previous_file = the archive's name) replaces PATH
 * atomically. Writers that hold the old file open move over at their next
 * append. *archived gets the archive's path (caller frees).
 * PHT_ERR_INVALID for an empty log; PHT_ERR_TAMPERED for a broken one;
 * PHT_ERR_IO.
 */
int pht_audit_rotate(const char *path, const struct pht_key *station_key,
    char **archived, struct pht_err *err);

/*
 * The operator's repair of a torn log: if the log ends in a line without a
 * newline, moves those bytes to PATH.torn-<seq+1>-<unix time> (fsynced),
 * cuts them off the log and appends a signed "repaired" entry recording
 * the number of bytes removed, their SHA-256 and the file they were moved
 * to. The rest of the chain must verify (else PHT_ERR_TAMPERED: a broken
 * chain is not repaired, it is evidence). PHT_ERR_NOT_FOUND if there is
 * nothing to repair. *removed (may be NULL) gets the byte count.
 */
int pht_audit_repair(const char *path, const struct pht_key *station_key,
    size_t *removed, struct pht_err *err);

#endif
