/* pht_journal.h — append-only line files that survive crashes: open, lock, append, the torn-line rule. */
#ifndef PHT_JOURNAL_H
#define PHT_JOURNAL_H

#include <stddef.h>
#include <sys/types.h>

struct pht_err;

/*
 * A journal is a file of lines, each ended by "\n", only ever appended to.
 * The torn-line rule: bytes after the last "\n" are a line whose append
 * never completed. They were never confirmed to anyone, readers pass over
 * them, and the next append cuts them off before it writes. Every durable
 * line file of the station (audit log, seen ids, release store) follows it.
 *
 * Writers hold the exclusive lock (pht_journal_lock) from reading the
 * file to the end of their append; readers hold the shared one.
 */

/*
 * Opens the journal at path into *fd. With write, for appending
 * (O_RDWR | O_APPEND), creating it with mode 0600 if absent and then
 * fsyncing its directory so the new name is durable; without, read-only.
 * *fd is -1 on failure: PHT_ERR_NOT_FOUND (err untouched) for a missing
 * file opened read-only, PHT_ERR_IO naming the file otherwise.
 */
int pht_journal_open(const char *path, int write, int *fd, struct pht_err *err);

/*
 * Takes the shared (exclusive = 0) or exclusive lock on fd (flock; released
 * by close), retrying EINTR. PHT_ERR_IO ("PATH: lock: why").
 */
int pht_journal_lock(int fd, const char *path, int exclusive, struct pht_err *err);

/* The length of the whole lines among the n bytes at data (up to the last "\n"). */
size_t pht_journal_whole(const char *data, size_t n);

/*
 * Appends the len bytes at data (one or more whole lines) at offset off,
 * the end of the last whole line the caller read (lock held): anything
 * after off (a torn line) is cut off first; the lines are written and
 * fsynced. If the write fails part way, the file is cut back to off so it
 * stays whole. PHT_ERR_IO ("PATH: write: why", "PATH: fsync: why", or
 * "...; and removing the partial line failed: why" when the cut-back
 * failed too, which leaves a torn line for the next append to cut).
 * On PHT_OK the journal ends at off + len.
 */
int pht_journal_append(int fd, const char *path, off_t off, const char *data,
    size_t len, struct pht_err *err);

#endif
