/* pht_station_seen.c — append-only, fsynced store of seen train ids. */
#include "pht_station_seen.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_id.h"
#include "pht_journal.h"
#include "pht_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>


/* Reads all of fd into b. */
static int
read_all(int fd, const char *path, struct pht_buf *b, struct pht_err *err)
{
	char chunk[65536];
	ssize_t n;
	off_t off = 0;

	for (;;) {
		n = pread(fd, chunk, sizeof(chunk), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
		if (n == 0)
			return PHT_OK;
		if (pht_buf_put(b, chunk, (size_t)n) != PHT_OK)
			return pht_errf(err, PHT_ERR_TOO_LARGE, "%s: larger than %zu bytes",
			    path, PHT_SEEN_MAX);
		off += n;
	}
}

/* 1 if id is a complete line of the n bytes at d. */
static int
contains(const char *d, size_t n, const char *id)
{
	size_t idlen = strlen(id), i = 0;
	const char *nl;

	while (i < n) {
		nl = memchr(d + i, '\n', n - i);
		if (nl == NULL)
			return 0; /* unconfirmed partial last line */
		if ((size_t)(nl - (d + i)) == idlen && memcmp(d + i, id, idlen) == 0)
			return 1;
		i = (size_t)(nl - d) + 1;
	}
	return 0;
}

int
pht_station_seen_add(const char *path, const char *id, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	char line[PHT_ID_MAX + 3];
	size_t len;
	int fd, r;

	if (!pht_id_ok(id))
		return pht_errf(err, PHT_ERR_INVALID, "%s: bad train id", path);
	if ((r = pht_journal_open(path, 1, &fd, err)) != PHT_OK)
		return r;
	if ((r = pht_journal_lock(fd, path, 1, err)) != PHT_OK)
		goto out;
	if ((b = pht_buf_new(PHT_SEEN_MAX)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = read_all(fd, path, b, err)) != PHT_OK)
		goto out;
	if (contains(pht_buf_str(b), pht_buf_len(b), id)) {
		r = pht_errf(err, PHT_ERR_REPLAY, "train %s was seen before", id);
		goto out;
	}
	/*
	 * This store keeps a torn last line (it never counts: contains() passes
	 * over it) and closes it off before the new id, so nothing is cut.
	 */
	len = (size_t)snprintf(line, sizeof(line), "%s%s\n",
	    pht_buf_len(b) > 0 && pht_buf_str(b)[pht_buf_len(b) - 1] != '\n' ? "\n" : "",
	    id);
	r = pht_journal_append(fd, path, (off_t)pht_buf_len(b), line, len, err);
out:
	pht_buf_free(b);
	close(fd); /* releases the lock */
	return r;
}

int
pht_station_seen_has(const char *path, const char *id, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	int fd, r;

	if ((r = pht_journal_open(path, 0, &fd, err)) != PHT_OK)
		return r == PHT_ERR_NOT_FOUND ? 0 : r;
	if ((r = pht_journal_lock(fd, path, 0, err)) == PHT_OK) {
		if ((b = pht_buf_new(PHT_SEEN_MAX)) == NULL)
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		else if ((r = read_all(fd, path, b, err)) == PHT_OK)
			r = contains(pht_buf_str(b), pht_buf_len(b), id);
	}
	pht_buf_free(b);
	close(fd);
	return r;
}
