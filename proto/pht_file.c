/* pht_file.c — bounded reads and atomic writes. */
#include "pht_file.h"
#include "pht_buf.h"
#include "pht_err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
pht_file_read(const char *path, size_t max, struct pht_buf **out,
    struct pht_err *err)
{
	struct pht_buf *b = NULL;
	char chunk[65536];
	ssize_t n;
	int fd, r = PHT_OK;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	if ((b = pht_buf_new(max)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((r = pht_buf_put(b, chunk, (size_t)n)) != PHT_OK) {
			if (r == PHT_ERR_TOO_LARGE)
				pht_errf(err, r, "%s: larger than %zu bytes", path, max);
			else
				pht_errf(err, r, "%s: %s", path, pht_strerror(r));
			goto out;
		}
	}
	*out = b;
	b = NULL; /* transferred */
out:
	close(fd);
	pht_buf_free(b);
	return r;
}

int
pht_file_write_all(int fd, const void *data, size_t len, size_t *done)
{
	const char *p = data;
	size_t off = 0;
	ssize_t n;

	if (done != NULL)
		*done = 0;
	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		off += (size_t)n;
		if (done != NULL)
			*done = off;
	}
	return 0;
}

int
pht_file_fsync_parent(const char *path)
{
	char dir[PATH_MAX], *slash;
	int dfd, r, e;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = fsync(dfd);
	e = errno;
	close(dfd);
	errno = e;
	return r;
}

int
pht_file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct pht_err *err)
{
	char tmp[PATH_MAX];
	int fd = -1, r = PHT_OK;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return pht_errf(err, PHT_ERR_INVALID, "%s: path too long", path);
	if ((fd = mkstemp(tmp)) < 0)
		return pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	if (fchmod(fd, mode) != 0 || pht_file_write_all(fd, data, len, NULL) != 0 ||
	    fsync(fd) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return r;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return r;
	}
	/* the new name is in place; a directory that cannot be synced is not an error */
	(void)pht_file_fsync_parent(path);
	return PHT_OK;
}

int
pht_mkdir_p(const char *dir, mode_t mode, struct pht_err *err)
{
	char p[PATH_MAX];
	size_t i, n;

	n = strlen(dir);
	if (n == 0 || n >= sizeof(p))
		return pht_errf(err, PHT_ERR_INVALID, "bad directory name");
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST)
			return pht_errf(err, PHT_ERR_IO, "%s: %s", p, strerror(errno));
		if (i < n)
			p[i] = '/';
	}
	return PHT_OK;
}

char *
pht_path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *s;

	if ((s = malloc(a + b + 2)) == NULL)
		return NULL;
	memcpy(s, dir, a);
	s[a] = '/';
	memcpy(s + a + 1, name, b + 1);
	return s;
}
