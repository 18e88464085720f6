/* pht_file.h — bounded file reads and crash-safe file writes. */
#ifndef PHT_FILE_H
#define PHT_FILE_H

#include <stddef.h>
#include <sys/types.h>

struct pht_buf;
struct pht_err;

/*
 * Reads the whole file at path into a new buffer of at most max bytes.
 * *out is NULL on failure; PHT_ERR_IO (detail names the file and errno),
 * PHT_ERR_TOO_LARGE if the file is larger than max.
 */
int pht_file_read(const char *path, size_t max, struct pht_buf **out,
    struct pht_err *err);

/*
 * Writes data to path atomically: a temporary file in the same directory,
 * fsync, rename, fsync of the directory. mode is applied to the new file
 * (e.g. 0600 for private keys). On failure the old file is untouched.
 */
int pht_file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct pht_err *err);

/*
 * Writes all len bytes to fd, retrying short writes and EINTR. *done (may
 * be NULL) gets how many bytes reached fd, also on failure. 0, or -1 with
 * errno set.
 */
int pht_file_write_all(int fd, const void *data, size_t len, size_t *done);

/*
 * fsyncs the directory that holds path, so that a file created or renamed
 * there survives a crash. 0, or -1 with errno set.
 */
int pht_file_fsync_parent(const char *path);

/* Creates dir and its parents with mode (existing ones are fine). */
int pht_mkdir_p(const char *dir, mode_t mode, struct pht_err *err);

/* Joins dir and name into a new string "dir/name"; caller frees. */
char *pht_path_join(const char *dir, const char *name);

#endif
