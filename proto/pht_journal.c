/* pht_journal.c — append-only line files: durable creation, locking, torn-line cut, append, fsync. */
#include "pht_journal.h"
#include "pht_err.h"
#include "pht_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int
pht_journal_open(const char *path, int write, int *fd, struct pht_err *err)
{
	int r;

	if (!write) {
		if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0)
			return PHT_OK;
		return errno == ENOENT ? PHT_ERR_NOT_FOUND :
		    pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	}
	if ((*fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0) {
		/* a new journal: make its directory entry durable too */
		if (pht_file_fsync_parent(path) != 0) {
			r = pht_errf(err, PHT_ERR_IO, "%s: fsync of its directory: %s", path,
			    strerror(errno));
			close(*fd);
			*fd = -1;
			return r;
		}
		return PHT_OK;
	}
	if (errno != EEXIST || (*fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)) < 0) {
		*fd = -1;
		return pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	}
	return PHT_OK;
}

int
pht_journal_lock(int fd, const char *path, int exclusive, struct pht_err *err)
{
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
		if (errno == EINTR)
			continue;
		return pht_errf(err, PHT_ERR_IO, "%s: lock: %s", path, strerror(errno));
	}
	return PHT_OK;
}

size_t
pht_journal_whole(const char *data, size_t n)
{
	while (n > 0 && data[n - 1] != '\n')
		n--;
	return n;
}

int
pht_journal_append(int fd, const char *path, off_t off, const char *data,
    size_t len, struct pht_err *err)
{
	struct stat st;
	size_t done = 0;
	int e;

	/* the torn-line rule: what follows the last whole line was never confirmed */
	if (fstat(fd, &st) != 0 || (st.st_size != off && ftruncate(fd, off) != 0))
		return pht_errf(err, PHT_ERR_IO, "%s: truncate: %s", path, strerror(errno));
	if (lseek(fd, off, SEEK_SET) < 0)
		return pht_errf(err, PHT_ERR_IO, "%s: seek: %s", path, strerror(errno));
	if (pht_file_write_all(fd, data, len, &done) != 0) {
		e = errno;
		/* cut our partial line off again so the journal stays whole */
		if (done > 0 && ftruncate(fd, off) != 0)
			return pht_errf(err, PHT_ERR_IO, "%s: write: %s; and removing the "
			    "partial line failed: %s", path, strerror(e), strerror(errno));
		return pht_errf(err, PHT_ERR_IO, "%s: write: %s", path, strerror(e));
	}
	if (fsync(fd) != 0)
		return pht_errf(err, PHT_ERR_IO, "%s: fsync: %s", path, strerror(errno));
	return PHT_OK;
}
