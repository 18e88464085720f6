/* pht_station_diff.c — the released-rows store: refuses releases whose rows differ from earlier ones by fewer than k, and counts releases against the budget. */
#include "pht_station_diff.h"
#include "pht_buf.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_train_rowsets.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define DIFF_MAX_BYTES ((size_t)1 << 30)
/* A line holds at most 4096 sets of at most 16 MiB together, in base64. */
#define DIFF_LINE_MAX (PHT_TRAIN_ROWSETS_MAX_BYTES / 3 * 4 + 4 * PHT_TRAIN_ROWSETS_MAX_SETS * 16 + 65536)

/* What the store knows for one admission. */
struct scan {
	const char *path;
	const char *signer;
	const char *dataset;
	const char *csv;
	const struct pht_train_rowsets *rs;
	int64_t k;
	int64_t since;          /* budget window start */
	int64_t in_window;      /* releases by signer on dataset since then */
	uint8_t *stored;        /* per set of rs: 1 if the store already holds it */
	int refused;            /* PHT_OK or the refusal code */
};

static int
fsync_parent(const char *path)
{
	char *dir = strdup(path), *slash;
	int dfd, r;

	if (dir == NULL)
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, strlen(dir) + 1, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		free(dir);
		return -1;
	}
	r = fsync(dfd);
	close(dfd);
	free(dir);
	return r;
}

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
			    path, DIFF_MAX_BYTES);
		off += n;
	}
}

/* Compares the stored sets of one matching line with the new ones. */
static int
check_sets(struct scan *s, const json_t *sets, const char *train, uint64_t line,
    struct pht_err *err)
{
	struct pht_train_rowsets *old = NULL;
	uint8_t *bytes = NULL;
	size_t n, i, j, blen;
	uint64_t d;
	const json_t *v;
	int r = PHT_OK;

	json_array_foreach(sets, n, v) {
		if (!json_is_string(v) || pht_b64_decode_alloc(json_string_value(v),
		    json_string_length(v), &bytes, &blen) != PHT_OK)
			return pht_errf(err, PHT_ERR_MALFORMED, "%s:%" PRIu64 ": sets[%zu]: not "
			    "base64", s->path, line, n);
		r = pht_train_rowsets_decode(bytes, blen, "stored set", &old, err);
		free(bytes);
		bytes = NULL;
		if (r != PHT_OK) {
			pht_err_prefix(err, "%s:%" PRIu64, s->path, line);
			return r;
		}
		/*
		 * The same file with another number of rows (rows left out, e.g.
		 * by opt-outs) numbers its rows differently: other data.
		 */
		if (pht_train_rowsets_nrows(old) != pht_train_rowsets_nrows(s->rs)) {
			pht_train_rowsets_free(old);
			old = NULL;
			continue;
		}
		for (j = 0; j < pht_train_rowsets_count(old); j++)
			for (i = 0; i < pht_train_rowsets_count(s->rs); i++) {
				d = pht_train_rowsets_symdiff(s->rs, i, old, j, (uint64_t)s->k);
				if (d == 0)
					s->stored[i] = 1;
				else if (d < (uint64_t)s->k && s->refused == PHT_OK) {
					s->refused = pht_errf(err, PHT_ERR_DISCLOSURE, "differencing: "
					    "the rows behind this output differ from those behind "
					    "train %s, released earlier to the same analyst, by %" PRIu64
					    " row%s (fewer than k = %" PRId64 "); nothing is released",
					    train, d, d == 1 ? "" : "s", s->k);
				}
			}
		pht_train_rowsets_free(old);
		old = NULL;
	}
	return PHT_OK;
}

/* One complete line of the store. */
static int
scan_line(struct scan *s, const char *text, size_t len, uint64_t line,
    struct pht_err *err)
{
	json_t *o = NULL, *sets;
	const char *signer, *dataset, *csv, *train;
	int64_t t;
	int r;

	if ((r = pht_json_parse(text, len, "released-rows entry", &o, err)) != PHT_OK) {
		pht_err_prefix(err, "%s:%" PRIu64, s->path, line);
		return PHT_ERR_MALFORMED;
	}
	if ((r = pht_json_get_str(o, "signer", "entry", &signer, err)) != PHT_OK ||
	    (r = pht_json_get_str(o, "dataset", "entry", &dataset, err)) != PHT_OK ||
	    (r = pht_json_get_str(o, "csv_sha256", "entry", &csv, err)) != PHT_OK ||
	    (r = pht_json_get_str(o, "train", "entry", &train, err)) != PHT_OK ||
	    (r = pht_json_get_int(o, "t", "entry", &t, err)) != PHT_OK) {
		pht_err_prefix(err, "%s:%" PRIu64, s->path, line);
		r = PHT_ERR_MALFORMED;
		goto out;
	}
	if (!json_is_array(sets = json_object_get(o, "sets"))) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s:%" PRIu64 ": sets: not an array",
		    s->path, line);
		goto out;
	}
	if (strcmp(signer, s->signer) != 0 || strcmp(dataset, s->dataset) != 0) {
		r = PHT_OK;
		goto out;
	}
	if (t >= s->since)
		s->in_window++;
	if (s->rs != NULL && strcmp(csv, s->csv) == 0)
		r = check_sets(s, sets, train, line, err);
	else
		r = PHT_OK;
out:
	json_decref(o);
	return r;
}

/*
 * Scans the len bytes of the store (complete lines only). Returns an
 * error for a damaged store; s->refused carries a differencing refusal.
 */
static int
scan_store(struct scan *s, const char *data, size_t len, struct pht_err *err)
{
	size_t i = 0;
	uint64_t line = 0;
	const char *nl;
	int r;

	while (i < len) {
		line++;
		if ((nl = memchr(data + i, '\n', len - i)) == NULL)
			break;          /* a torn last line: never confirmed */
		if ((size_t)(nl - (data + i)) > DIFF_LINE_MAX)
			return pht_errf(err, PHT_ERR_MALFORMED, "%s:%" PRIu64 ": line too long",
			    s->path, line);
		if ((r = scan_line(s, data + i, (size_t)(nl - (data + i)), line, err)) != PHT_OK)
			return r;
		i = (size_t)(nl - data) + 1;
	}
	return PHT_OK;
}

static int
budget_refusal(const struct scan *s, const struct pht_station_budget *b,
    struct pht_err *err)
{
	return pht_errf(err, PHT_ERR_POLICY, "query budget exhausted: %" PRId64
	    " release%s on dataset %s in the last %g hours for this analyst (the "
	    "station's budget is %" PRId64 " per %g hours)", s->in_window,
	    s->in_window == 1 ? "" : "s", s->dataset, (double)b->window_seconds / 3600.0,
	    b->releases, (double)b->window_seconds / 3600.0);
}

/* The JSON line of a release, with the sets not yet stored. */
static char *
entry_line(const struct scan *s, const char *train, int64_t now)
{
	struct pht_buf *one = NULL;
	json_t *o = NULL, *arr = NULL;
	char *b64 = NULL, *text = NULL, *line = NULL;
	size_t i, n;

	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < pht_train_rowsets_count(s->rs); i++) {
		if (s->stored[i])
			continue;
		if ((one = pht_buf_new(PHT_TRAIN_ROWSETS_MAX_BYTES + 64)) == NULL ||
		    pht_train_rowsets_put_one(s->rs, i, one) != PHT_OK ||
		    (b64 = pht_b64_encode_alloc(pht_buf_data(one), pht_buf_len(one))) == NULL ||
		    json_array_append_new(arr, json_string(b64)) != 0)
			goto out;
		free(b64);
		b64 = NULL;
		pht_buf_free(one);
		one = NULL;
	}
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:O}", "t", (json_int_t)now, "signer",
	    s->signer, "dataset", s->dataset, "csv_sha256", s->csv, "train", train,
	    "sets", arr);
	if (o == NULL || (text = pht_json_dump(o)) == NULL)
		goto out;
	n = strlen(text);
	if ((line = malloc(n + 2)) != NULL) {
		memcpy(line, text, n);
		line[n] = '\n';
		line[n + 1] = '\0';
	}
out:
	free(text);
	free(b64);
	pht_buf_free(one);
	json_decref(o);
	json_decref(arr);
	return line;
}

static int
write_all(int fd, const char *path, const char *p, size_t n, struct pht_err *err)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return pht_errf(err, PHT_ERR_IO, "%s: write: %s", path, strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return PHT_OK;
}

/* Opens (creating it, durably, if needed) and locks the store. -1 with err set. */
static int
open_locked(const char *path, int create, int *fd, struct pht_err *err)
{
	*fd = -1;
	if (create && (*fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0) {
		if (fsync_parent(path) != 0) {
			close(*fd);
			*fd = -1;
			return pht_errf(err, PHT_ERR_IO, "%s: fsync of its directory: %s",
			    path, strerror(errno));
		}
	} else if ((*fd = open(path, (create ? O_RDWR : O_RDONLY) | O_CLOEXEC)) < 0)
		return errno == ENOENT && !create ? PHT_ERR_NOT_FOUND :
		    pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	while (flock(*fd, create ? LOCK_EX : LOCK_SH) != 0) {
		if (errno == EINTR)
			continue;
		close(*fd);
		*fd = -1;
		return pht_errf(err, PHT_ERR_IO, "%s: lock: %s", path, strerror(errno));
	}
	return PHT_OK;
}

static int
check_args(const char *path, const char *signer, const char *dataset,
    const struct pht_station_budget *budget, struct pht_err *err)
{
	if (path == NULL || signer == NULL || dataset == NULL || signer[0] == '\0' ||
	    dataset[0] == '\0')
		return pht_errf(err, PHT_ERR_INVALID, "released-rows store: path, signer and "
		    "dataset are required");
	if (budget != NULL && budget->releases > 0 && budget->window_seconds <= 0)
		return pht_errf(err, PHT_ERR_INVALID, "released-rows store: a budget needs a "
		    "positive window");
	return PHT_OK;
}

int
pht_station_diff_budget(const char *path, const char *signer_fp,
    const char *dataset, const struct pht_station_budget *budget, int64_t now,
    struct pht_err *err)
{
	struct scan s;
	struct pht_buf *b = NULL;
	int fd = -1, r;

	if ((r = check_args(path, signer_fp, dataset, budget, err)) != PHT_OK)
		return r;
	if (budget == NULL || budget->releases <= 0)
		return PHT_OK;
	memset(&s, 0, sizeof(s));
	s.path = path;
	s.signer = signer_fp;
	s.dataset = dataset;
	s.since = now - budget->window_seconds;
	if ((r = open_locked(path, 0, &fd, err)) == PHT_ERR_NOT_FOUND)
		return PHT_OK;
	if (r != PHT_OK)
		return r;
	if ((b = pht_buf_new(DIFF_MAX_BYTES)) == NULL)
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	else if ((r = read_all(fd, path, b, err)) == PHT_OK &&
	    (r = scan_store(&s, pht_buf_str(b), pht_buf_len(b), err)) == PHT_OK &&
	    s.in_window >= budget->releases)
		r = budget_refusal(&s, budget, err);
	pht_buf_free(b);
	close(fd);
	return r;
}

int
pht_station_diff_admit(const char *path, const char *signer_fp,
    const char *dataset, const char *csv_sha256, const char *train,
    const struct pht_train_rowsets *rs, int64_t k,
    const struct pht_station_budget *budget, int64_t now, struct pht_err *err)
{
	struct scan s;
	struct pht_buf *b = NULL;
	const char *data;
	char *line = NULL;
	size_t len, i, j, keep;
	uint64_t d;
	int fd = -1, r;

	if ((r = check_args(path, signer_fp, dataset, budget, err)) != PHT_OK)
		return r;
	if (csv_sha256 == NULL || train == NULL || rs == NULL || k < 1)
		return pht_errf(err, PHT_ERR_INVALID, "released-rows store: data hash, train, "
		    "row sets and k >= 1 are required");
	memset(&s, 0, sizeof(s));
	s.path = path;
	s.signer = signer_fp;
	s.dataset = dataset;
	s.csv = csv_sha256;
	s.rs = rs;
	s.k = k;
	s.since = budget != NULL && budget->releases > 0 ? now - budget->window_seconds :
	    INT64_MAX;
	if ((s.stored = calloc(pht_train_rowsets_count(rs) + 1, 1)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");

	/* Within the output itself: two of its own sets must not differ by under k. */
	for (i = 0; i < pht_train_rowsets_count(rs); i++)
		for (j = i + 1; j < pht_train_rowsets_count(rs); j++) {
			d = pht_train_rowsets_symdiff(rs, i, rs, j, (uint64_t)k);
			if (d > 0 && d < (uint64_t)k) {
				r = pht_errf(err, PHT_ERR_DISCLOSURE, "differencing: two row sets "
				    "behind this output differ by %" PRIu64 " row%s (fewer than k = %"
				    PRId64 "); nothing is released", d, d == 1 ? "" : "s", k);
				goto out;
			}
		}

	if ((r = open_locked(path, 1, &fd, err)) != PHT_OK)
		goto out;
	if ((b = pht_buf_new(DIFF_MAX_BYTES)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = read_all(fd, path, b, err)) != PHT_OK ||
	    (r = scan_store(&s, pht_buf_str(b), pht_buf_len(b), err)) != PHT_OK)
		goto out;
	if (s.refused != PHT_OK) {
		r = s.refused;
		goto out;
	}
	if (budget != NULL && budget->releases > 0 && s.in_window >= budget->releases) {
		r = budget_refusal(&s, budget, err);
		goto out;
	}

	/* Cut a torn last line off, then append this release and make it durable. */
	data = pht_buf_str(b);
	len = pht_buf_len(b);
	for (keep = len; keep > 0 && data[keep - 1] != '\n'; keep--)
		;
	if (keep != len && ftruncate(fd, (off_t)keep) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: truncate: %s", path, strerror(errno));
		goto out;
	}
	if ((line = entry_line(&s, train, now)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory building the released-rows entry");
		goto out;
	}
	if (lseek(fd, 0, SEEK_END) < 0 ||
	    (r = write_all(fd, path, line, strlen(line), err)) != PHT_OK) {
		if (r == PHT_OK)
			r = pht_errf(err, PHT_ERR_IO, "%s: seek: %s", path, strerror(errno));
		goto out;
	}
	if (fsync(fd) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: fsync: %s", path, strerror(errno));
		goto out;
	}
	r = PHT_OK;
out:
	free(line);
	free(s.stored);
	pht_buf_free(b);
	if (fd >= 0)
		close(fd);      /* releases the lock */
	return r;
}
