/* pht_audit_archive.c — the chain across rotated files, auditor bundles, retention and pruning. */
#include "pht_audit_archive.h"
#include "pht_buf.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_time.h"

#include <openssl/evp.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUNDLE_JSON_MAX ((size_t)16 << 20)
#define HEADS_MAX 4096

int
pht_audit_verify_files(const char *const *paths, size_t n,
    const struct pht_key *station_pub, const struct pht_audit_head *expect,
    struct pht_audit_report *report, struct pht_err *err)
{
	struct pht_audit_report one, all;
	struct pht_audit_head prev, first_start;
	size_t i;
	int r = PHT_OK, found = 0;

	memset(&all, 0, sizeof(all));
	memset(&prev, 0, sizeof(prev));
	memset(&first_start, 0, sizeof(first_start));
	if (report != NULL)
		memset(report, 0, sizeof(*report));
	if (n == 0)
		return pht_errf(err, PHT_ERR_INVALID, "no log files given");
	for (i = 0; i < n; i++) {
		r = pht_audit_verify_from(paths[i], station_pub, i == 0 ? NULL : &prev,
		    NULL, &one, err);
		all.entries += one.entries;
		if (r != PHT_OK) {
			all.fault = one.fault;
			all.line = one.line;
			all.head = one.head;
			if (r == PHT_ERR_TAMPERED && i > 0 && one.line == 1)
				pht_err_prefix(err, "%s does not continue %s", paths[i],
				    paths[i - 1]);
			goto out;
		}
		if (i == 0)
			first_start = one.start;
		if (expect != NULL && expect->seq > one.start.seq &&
		    expect->seq <= one.head.seq) {
			found = 1;
			if ((r = pht_audit_verify_from(paths[i], station_pub, i == 0 ?
			    NULL : &prev, expect, &one, err)) != PHT_OK) {
				all.fault = one.fault;
				all.line = one.line;
				goto out;
			}
		}
		prev = one.head;
		all.head = one.head;
	}
	if (expect != NULL && expect->seq > 0 && !found) {
		all.fault = PHT_AUDIT_FAULT_HEAD;
		r = pht_errf(err, PHT_ERR_TAMPERED, "%s: %s: the files hold entries %" PRIu64
		    " to %" PRIu64 ", the published head is entry %" PRIu64, paths[n - 1],
		    pht_audit_fault_name(PHT_AUDIT_FAULT_HEAD), first_start.seq + 1,
		    all.head.seq, expect->seq);
	}
out:
	all.start = first_start;
	if (report != NULL)
		*report = all;
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
pht_audit_files_free(char **files)
{
	size_t i;

	for (i = 0; files != NULL && files[i] != NULL; i++)
		free(files[i]);
	free(files);
}

int
pht_audit_files(const char *path, char ***out, size_t *n, struct pht_err *err)
{
	char *dir = NULL, **v = NULL, **nv;
	const char *base, *slash = strrchr(path, '/');
	size_t blen, cnt = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int r = PHT_ERR_NOMEM;

	*out = NULL;
	*n = 0;
	base = slash != NULL ? slash + 1 : path;
	blen = strlen(base);
	if ((dir = slash == NULL ? strdup(".") : slash == path ? strdup("/") :
	    strndup(path, (size_t)(slash - path))) == NULL)
		goto out;
	if ((d = opendir(dir)) == NULL) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (strncmp(nm, base, blen) != 0 || nm[blen] != '.' ||
		    strlen(nm + blen + 1) != 12 ||
		    strspn(nm + blen + 1, "0123456789") != 12)
			continue;
		if (cnt + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto out;
			v = nv;
		}
		if ((v[cnt] = slash != NULL ? pht_path_join(dir, nm) : strdup(nm)) == NULL)
			goto out;
		v[++cnt] = NULL;
	}
	if (cnt > 0)
		qsort(v, cnt, sizeof(*v), cmp_str);
	if (stat(path, &st) == 0) {
		if (cnt + 2 > cap) {
			if ((nv = realloc(v, (cnt + 2) * sizeof(*v))) == NULL)
				goto out;
			v = nv;
		}
		if ((v[cnt] = strdup(path)) == NULL)
			goto out;
		v[++cnt] = NULL;
	}
	if (cnt == 0)
		r = pht_errf(err, PHT_ERR_NOT_FOUND, "%s: no such log (and no archives "
		    "of it)", path);
	else {
		*out = v;
		*n = cnt;
		v = NULL; /* transferred */
		r = PHT_OK;
	}
out:
	if (r == PHT_ERR_NOMEM)
		pht_errf(err, r, "out of memory");
	if (d != NULL)
		closedir(d);
	if (v != NULL) {
		for (i = 0; i < cnt; i++)
			free(v[i]);
		free(v);
	}
	free(dir);
	return r;
}

int
pht_audit_rotate_at(const char *path, const struct pht_key *station_key,
    uint64_t max_bytes, int *rotated, struct pht_err *err)
{
	struct stat st;
	char *archived = NULL;
	int r;

	if (rotated != NULL)
		*rotated = 0;
	if (stat(path, &st) != 0)
		return errno == ENOENT ? PHT_OK :
		    pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	if ((uint64_t)st.st_size < max_bytes)
		return PHT_OK;
	if ((r = pht_audit_rotate(path, station_key, &archived, err)) != PHT_OK)
		return r;
	free(archived);
	if (rotated != NULL)
		*rotated = 1;
	return PHT_OK;
}

/* ---- export ---- */

/*
 * The entries a bundle leaves out unless the station asks for the data's
 * detail: the executed and outcome entries of every run whose outcome may
 * depend on data values (its outcome entry says "data_dependent": true),
 * by (file, line), in log order.
 */
struct leave {
	json_t *trains;                 /* set: train id -> true */
	size_t file;                    /* the file being walked */
	size_t *files;
	uint64_t *lines;
	size_t n, cap;
};

static int
dd_trains_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct leave *lv = arg;
	const char *id = json_string_value(json_object_get(entry, "train"));

	(void)line;
	(void)hash;
	if (id != NULL && json_is_true(json_object_get(entry, "data_dependent")) &&
	    json_object_set_new(lv->trains, id, json_true()) != 0)
		return PHT_ERR_NOMEM;
	return 0;
}

static int
leave_lines_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct leave *lv = arg;
	const char *id = json_string_value(json_object_get(entry, "train"));
	const char *ev = json_string_value(json_object_get(entry, "event"));
	size_t *nf;
	uint64_t *nl;

	(void)hash;
	if (id == NULL || ev == NULL || json_object_get(lv->trains, id) == NULL ||
	    (strcmp(ev, "executed") != 0 && strcmp(ev, "failed") != 0 &&
	    strcmp(ev, "withheld") != 0))
		return 0;
	if (lv->n == lv->cap) {
		lv->cap = lv->cap ? lv->cap * 2 : 64;
		if ((nf = realloc(lv->files, lv->cap * sizeof(*nf))) == NULL)
			return PHT_ERR_NOMEM;
		lv->files = nf;
		if ((nl = realloc(lv->lines, lv->cap * sizeof(*nl))) == NULL)
			return PHT_ERR_NOMEM;
		lv->lines = nl;
	}
	lv->files[lv->n] = lv->file;
	lv->lines[lv->n++] = line;
	return 0;
}

/* Fills lv from the log's files (already verified). */
static int
leave_find(const struct pht_audit_export_spec *sp, struct leave *lv, struct pht_err *err)
{
	size_t i;
	int r;

	if ((lv->trains = json_object()) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (i = 0; i < sp->nlogs; i++)
		if ((r = pht_audit_foreach(sp->logs[i], dd_trains_fn, lv, err)) != PHT_OK)
			return r == PHT_ERR_NOMEM ? pht_errf(err, r, "out of memory") : r;
	for (i = 0; i < sp->nlogs && json_object_size(lv->trains) > 0; i++) {
		lv->file = i;
		if ((r = pht_audit_foreach(sp->logs[i], leave_lines_fn, lv, err)) != PHT_OK)
			return r == PHT_ERR_NOMEM ? pht_errf(err, r, "out of memory") : r;
	}
	return PHT_OK;
}

static void
leave_clear(struct leave *lv)
{
	json_decref(lv->trains);
	free(lv->files);
	free(lv->lines);
	memset(lv, 0, sizeof(*lv));
}

/* Where the exported range lies, found in one pass over the files. */
struct span {
	int64_t from, to;
	size_t file;                    /* the file being walked */
	uint64_t seq_before;            /* seq of the entry before the current one */
	char hash_before[PHT_AUDIT_HASH_HEX + 1];
	int started;
	struct pht_audit_head anchor;   /* the entry before the first exported */
	uint64_t first_seq, last_seq;   /* the range, by seq */
	size_t first_file, last_file;
	uint64_t first_line, last_line;
};

static int
span_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct span *s = arg;
	const char *ts = json_string_value(json_object_get(entry, "time"));
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(entry, "seq"));
	int64_t t;

	if (ts != NULL && pht_time_parse(ts, &t) == PHT_OK && t >= s->from && t <= s->to) {
		if (!s->started) {
			const char *prev = json_string_value(json_object_get(entry, "prev"));
			s->started = 1;
			s->anchor.seq = seq - 1;
			snprintf(s->anchor.hash, sizeof(s->anchor.hash), "%s",
			    prev != NULL ? prev : "");
			s->first_seq = seq;
			s->first_file = s->file;
			s->first_line = line;
		}
		s->last_seq = seq;
		s->last_file = s->file;
		s->last_line = line;
	}
	memcpy(s->hash_before, hash, PHT_AUDIT_HASH_HEX + 1);
	s->seq_before = seq;
	return 0;
}

/*
 * Copies lines [first, last] (1-based) of path, the file-th of the log, to
 * f, hashing them; the lines lv names from *at on are written in their
 * left-out form (pht_audit_left_out_line). *left counts those.
 */
static int
copy_lines(const char *path, size_t file, uint64_t first, uint64_t last, FILE *f,
    EVP_MD_CTX *md, const struct leave *lv, size_t *at, uint64_t *left,
    struct pht_err *err)
{
	FILE *in = fopen(path, "r");
	char *line = NULL, *stub = NULL;
	const char *w;
	size_t cap = 0, wn;
	ssize_t len;
	uint64_t no = 0;
	int r = PHT_OK;

	if (in == NULL)
		return pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	while (no < last && (len = getline(&line, &cap, in)) > 0) {
		++no;
		while (*at < lv->n && (lv->files[*at] < file ||
		    (lv->files[*at] == file && lv->lines[*at] < no)))
			(*at)++;
		if (no < first)
			continue;
		w = line;
		wn = (size_t)len;
		if (*at < lv->n && lv->files[*at] == file && lv->lines[*at] == no) {
			free(stub);
			stub = NULL;
			if ((r = pht_audit_left_out_line(line, (size_t)len - 1, &stub,
			    err)) != PHT_OK)
				break;
			wn = strlen(stub);
			stub[wn++] = '\n';     /* over its NUL: written by length */
			w = stub;
			(*left)++;
		}
		if (fwrite(w, 1, wn, f) != wn || EVP_DigestUpdate(md, w, wn) != 1) {
			r = pht_errf(err, PHT_ERR_IO, "writing the bundle: %s", strerror(errno));
			break;
		}
	}
	free(stub);
	if (r == PHT_OK && last != UINT64_MAX && no < last)
		r = pht_errf(err, PHT_ERR_TAMPERED, "%s: ended while being exported", path);
	free(line);
	fclose(in);
	return r;
}

/* The node's heads: one {"seq","hash"} or an array of them; new reference. */
static int
parse_heads(const char *text, size_t len, json_t **out, struct pht_err *err)
{
	json_t *v = NULL, *arr = NULL, *h;
	const char *hash;
	size_t i;
	int r;

	*out = NULL;
	if ((r = pht_json_parse(text, len, "node heads", &v, err)) != PHT_OK)
		return r;
	if (json_is_object(v)) {
		arr = json_pack("[O]", v);
	} else if (json_is_array(v)) {
		arr = json_incref(v);
	} else {
		json_decref(v);
		return pht_errf(err, PHT_ERR_MALFORMED, "node heads: not a {\"seq\", "
		    "\"hash\"} object or an array of them");
	}
	json_decref(v);
	if (arr == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (json_array_size(arr) > HEADS_MAX) {
		json_decref(arr);
		return pht_errf(err, PHT_ERR_TOO_LARGE, "node heads: more than %d", HEADS_MAX);
	}
	json_array_foreach(arr, i, h) {
		json_t *s = json_object_get(h, "seq");
		hash = json_string_value(json_object_get(h, "hash"));
		if (!json_is_object(h) || json_object_size(h) != 2 || !json_is_integer(s) ||
		    json_integer_value(s) < 0 || hash == NULL ||
		    strlen(hash) != PHT_AUDIT_HASH_HEX ||
		    strspn(hash, "0123456789abcdef") != PHT_AUDIT_HASH_HEX) {
			json_decref(arr);
			return pht_errf(err, PHT_ERR_MALFORMED, "node heads: entry %zu is not "
			    "{\"seq\": N, \"hash\": 64 hex digits}", i);
		}
	}
	*out = arr;
	return PHT_OK;
}

static void
md_hex(EVP_MD_CTX *md, char out[65])
{
	uint8_t d[32];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(md, d, &n) != 1 || n != 32) {
		out[0] = '\0';
		return;
	}
	pht_hex_encode(d, 32, out);
}

int
pht_audit_export(const struct pht_audit_export_spec *sp, uint64_t *count,
    struct pht_err *err)
{
	struct span s;
	struct leave lv;
	json_t *heads = NULL, *b = NULL;
	EVP_MD_CTX *md = NULL;
	FILE *f = NULL;
	char *path = NULL, *pem = NULL, *text = NULL, fp[80], sha[65], from[21], to[21];
	size_t i, pemlen, at = 0;
	uint64_t left = 0;
	int r;

	if (count != NULL)
		*count = 0;
	memset(&s, 0, sizeof(s));
	memset(&lv, 0, sizeof(lv));
	s.from = sp->from;
	s.to = sp->to;
	if (sp->from > sp->to)
		return pht_errf(err, PHT_ERR_INVALID, "the range ends before it starts");
	if (sp->heads_json != NULL &&
	    (r = parse_heads(sp->heads_json, sp->heads_len, &heads, err)) != PHT_OK)
		return r;
	if ((r = pht_audit_verify_files(sp->logs, sp->nlogs, sp->station_pub, NULL, NULL,
	    err)) != PHT_OK) {
		pht_err_prefix(err, "the log does not verify, nothing exported");
		goto out;
	}
	for (i = 0; i < sp->nlogs; i++) {
		s.file = i;
		if ((r = pht_audit_foreach(sp->logs[i], span_fn, &s, err)) != PHT_OK)
			goto out;
	}
	if (!s.started) {
		r = pht_errf(err, PHT_ERR_NOT_FOUND, "no entry of the log falls in the range");
		goto out;
	}
	if (!sp->data_detail && (r = leave_find(sp, &lv, err)) != PHT_OK)
		goto out;
	if (mkdir(sp->out_dir, 0700) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", sp->out_dir, strerror(errno));
		goto out;
	}
	if ((path = pht_path_join(sp->out_dir, "entries.log")) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha256(),
	    NULL) != 1) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((f = fopen(path, "wx")) == NULL) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (i = s.first_file; i <= s.last_file; i++) {
		if ((r = copy_lines(sp->logs[i], i, i == s.first_file ? s.first_line : 1,
		    i == s.last_file ? s.last_line : UINT64_MAX, f, md, &lv, &at, &left,
		    err)) != PHT_OK)
			goto out;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	md_hex(md, sha);
	if ((r = pht_key_public_pem(sp->station_pub, &pem, &pemlen, err)) != PHT_OK ||
	    (r = pht_key_fingerprint(sp->station_pub, fp, err)) != PHT_OK)
		goto out;
	pht_time_format(sp->from, from);
	pht_time_format(sp->to, to);
	b = json_pack("{s:s, s:i, s:s, s:s, s:{s:I, s:s}, s:I, s:I, s:I, s:s, s:s, s:s, "
	    "s:o, s:b, s:I}", "kind", "pht-audit-bundle", "version", 2, "from", from, "to", to,
	    "anchor", "seq", (json_int_t)s.anchor.seq, "hash", s.anchor.hash,
	    "first_seq", (json_int_t)s.first_seq, "last_seq", (json_int_t)s.last_seq,
	    "entries", (json_int_t)(s.last_seq - s.first_seq + 1),
	    "entries_sha256", sha, "station_key", pem, "station_key_fp", fp,
	    "node_heads", heads != NULL ? json_incref(heads) : json_array(),
	    "data_detail", sp->data_detail != 0, "left_out", (json_int_t)left);
	free(path);
	if (b == NULL || (text = json_dumps(b, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL ||
	    (path = pht_path_join(sp->out_dir, "bundle.json")) == NULL) {
		path = NULL;
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_file_write_atomic(path, text, strlen(text), 0644, err)) != PHT_OK)
		goto out;
	if (count != NULL)
		*count = s.last_seq - s.first_seq + 1;
out:
	leave_clear(&lv);
	if (f != NULL)
		fclose(f);
	EVP_MD_CTX_free(md);
	json_decref(heads);
	json_decref(b);
	free(text);
	free(pem);
	free(path);
	return r;
}

/* ---- bundle verification ---- */

struct times {
	int64_t from, to;
	uint64_t bad_seq;
};

static int
times_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct times *t = arg;
	const char *ts = json_string_value(json_object_get(entry, "time"));
	int64_t v;

	(void)line;
	(void)hash;
	if (json_is_true(json_object_get(entry, "left_out")))
		return 0;       /* no time shown: it lies between its neighbours' */
	if (t->bad_seq == 0 && (ts == NULL || pht_time_parse(ts, &v) != PHT_OK ||
	    v < t->from || v > t->to))
		t->bad_seq = (uint64_t)json_integer_value(json_object_get(entry, "seq"));
	return 0;
}

static int
file_sha256(const char *path, char out[65], struct pht_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n;
	int r = PHT_OK;

	if (f == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		r = f == NULL ? pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno)) :
		    pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(md, buf, n);
	if (ferror(f))
		r = pht_errf(err, PHT_ERR_IO, "%s: read error", path);
	else
		md_hex(md, out);
out:
	if (f != NULL)
		fclose(f);
	EVP_MD_CTX_free(md);
	return r;
}

int
pht_audit_bundle_verify(const char *dir, const struct pht_key *expect_pub,
    struct pht_audit_bundle_report *rep, struct pht_err *err)
{
	struct pht_audit_report ar;
	struct pht_audit_head anchor, h;
	struct times tm;
	struct pht_buf *b = NULL;
	struct pht_key *key = NULL;
	json_t *m = NULL, *heads, *x;
	const char *kind, *from, *to, *ahash, *sha, *pem, *hh;
	char *bpath = NULL, *epath = NULL, fp[80], efp[80], got[65];
	int64_t version, aseq, first, last, entries, hs, left = 0;
	unsigned opts;
	size_t i;
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((bpath = pht_path_join(dir, "bundle.json")) == NULL ||
	    (epath = pht_path_join(dir, "entries.log")) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pht_file_read(bpath, BUNDLE_JSON_MAX, &b, err)) != PHT_OK ||
	    (r = pht_json_parse(pht_buf_str(b), pht_buf_len(b), bpath, &m, err)) != PHT_OK)
		goto out;
	if ((r = pht_json_get_str(m, "kind", bpath, &kind, err)) != PHT_OK ||
	    (r = pht_json_get_int(m, "version", bpath, &version, err)) != PHT_OK ||
	    (r = pht_json_get_str(m, "from", bpath, &from, err)) != PHT_OK ||
	    (r = pht_json_get_str(m, "to", bpath, &to, err)) != PHT_OK ||
	    (r = pht_json_get_int(m, "first_seq", bpath, &first, err)) != PHT_OK ||
	    (r = pht_json_get_int(m, "last_seq", bpath, &last, err)) != PHT_OK ||
	    (r = pht_json_get_int(m, "entries", bpath, &entries, err)) != PHT_OK ||
	    (r = pht_json_get_str(m, "entries_sha256", bpath, &sha, err)) != PHT_OK ||
	    (r = pht_json_get_str(m, "station_key", bpath, &pem, err)) != PHT_OK ||
	    (r = pht_json_get_object(m, "anchor", bpath, &x, err)) != PHT_OK ||
	    (r = pht_json_get_int(x, "seq", "bundle anchor", &aseq, err)) != PHT_OK ||
	    (r = pht_json_get_str(x, "hash", "bundle anchor", &ahash, err)) != PHT_OK ||
	    (r = pht_json_get_array(m, "node_heads", bpath, &heads, err)) != PHT_OK)
		goto out;
	/* version 2 may leave entries out (docs/audit-log.md); it says how many */
	if (version == 2 && (r = pht_json_get_int(m, "left_out", bpath, &left, err)) !=
	    PHT_OK)
		goto out;
	opts = version == 2 ? PHT_AUDIT_LEFT_OUT_OK : 0;
	if (strcmp(kind, "pht-audit-bundle") != 0 || (version != 1 && version != 2) ||
	    left < 0 || aseq < 0 ||
	    first != aseq + 1 || last < first || entries != last - first + 1 ||
	    strlen(ahash) != PHT_AUDIT_HASH_HEX || pht_time_parse(from, &tm.from) != PHT_OK ||
	    pht_time_parse(to, &tm.to) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: not a version 1 audit bundle with "
		    "a consistent range (anchor, first_seq, last_seq, entries, from, to)",
		    bpath);
		goto out;
	}
	if ((r = pht_key_from_pem(pem, strlen(pem), "bundle station_key", &key,
	    err)) != PHT_OK || (r = pht_key_fingerprint(key, fp, err)) != PHT_OK)
		goto out;
	snprintf(rep->station_fp, sizeof(rep->station_fp), "%s", fp);
	if (expect_pub != NULL) {
		if ((r = pht_key_fingerprint(expect_pub, efp, err)) != PHT_OK)
			goto out;
		if (strcmp(fp, efp) != 0) {
			r = pht_errf(err, PHT_ERR_TAMPERED, "%s: the bundle's station key %s is "
			    "not the key given (%s)", bpath, fp, efp);
			goto out;
		}
	}
	if ((r = file_sha256(epath, got, err)) != PHT_OK)
		goto out;
	if (strcmp(got, sha) != 0) {
		r = pht_errf(err, PHT_ERR_TAMPERED, "%s: SHA-256 %s, bundle.json says %s",
		    epath, got, sha);
		goto out;
	}
	anchor.seq = (uint64_t)aseq;
	memcpy(anchor.hash, ahash, PHT_AUDIT_HASH_HEX + 1);
	if ((r = pht_audit_verify_opts(epath, key, &anchor, NULL, opts, &ar, err)) !=
	    PHT_OK)
		goto out;
	if (ar.left_out != (uint64_t)left) {
		r = pht_errf(err, PHT_ERR_TAMPERED, "%s: %" PRIu64 " entries left out, "
		    "bundle.json says %" PRId64, epath, ar.left_out, left);
		goto out;
	}
	if (ar.entries != (uint64_t)entries || ar.head.seq != (uint64_t)last) {
		r = pht_errf(err, PHT_ERR_TAMPERED, "%s: holds entries %" PRId64 " to %" PRIu64
		    " (%" PRIu64 "), bundle.json says %" PRId64 " to %" PRId64, epath, first,
		    ar.head.seq, ar.entries, first, last);
		goto out;
	}
	tm.bad_seq = 0;
	if ((r = pht_audit_foreach_opts(epath, opts, times_fn, &tm, err)) != PHT_OK)
		goto out;
	if (tm.bad_seq != 0) {
		r = pht_errf(err, PHT_ERR_TAMPERED, "%s: entry %" PRIu64 " lies outside the "
		    "bundle's range %s to %s", epath, tm.bad_seq, from, to);
		goto out;
	}
	json_array_foreach(heads, i, x) {
		hh = json_string_value(json_object_get(x, "hash"));
		hs = json_integer_value(json_object_get(x, "seq"));
		if (hh == NULL || strlen(hh) != PHT_AUDIT_HASH_HEX || hs < 0) {
			r = pht_errf(err, PHT_ERR_MALFORMED, "%s: node_heads[%zu] is not "
			    "{seq, hash}", bpath, i);
			goto out;
		}
		if (hs < first || hs > last) {
			rep->heads_outside++;
			continue;
		}
		h.seq = (uint64_t)hs;
		memcpy(h.hash, hh, PHT_AUDIT_HASH_HEX + 1);
		if ((r = pht_audit_verify_opts(epath, key, &anchor, &h, opts, NULL, err)) !=
		    PHT_OK) {
			pht_err_prefix(err, "node head %" PRId64, hs);
			goto out;
		}
		rep->heads_checked++;
	}
	rep->entries = ar.entries;
	rep->left_out = ar.left_out;
	rep->anchor = anchor;
	rep->head = ar.head;
	r = PHT_OK;
out:
	pht_key_free(key);
	json_decref(m);
	pht_buf_free(b);
	free(bpath);
	free(epath);
	return r;
}

/* ---- retention ---- */

struct newest {
	int64_t t;
	uint64_t seq;
	char time[32];
};

static int
newest_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct newest *n = arg;
	const char *ts = json_string_value(json_object_get(entry, "time"));
	int64_t t;

	(void)line;
	(void)hash;
	if (ts != NULL && pht_time_parse(ts, &t) == PHT_OK && t >= n->t) {
		n->t = t;
		n->seq = (uint64_t)json_integer_value(json_object_get(entry, "seq"));
		snprintf(n->time, sizeof(n->time), "%s", ts);
	}
	return 0;
}

/* t plus years calendar years (29 February becomes 28 February). */
static int64_t
add_years(int64_t t, int years)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400, y;
	int64_t secs = t - days * 86400;
	unsigned m, d;

	pht_civil_from_days(days, &y, &m, &d);
	y += years;
	if (m == 2 && d == 29)
		d = 28;
	return pht_days_from_civil(y, m, d) * 86400 + secs;
}

int
pht_audit_retention_check(const char *path, int years, int64_t now,
    struct pht_err *err)
{
	struct newest n = {INT64_MIN, 0, ""};
	char until[21];
	int r;

	if ((r = pht_audit_foreach(path, newest_fn, &n, err)) != PHT_OK)
		return r;
	if (n.t == INT64_MIN)
		return PHT_OK;
	if (add_years(n.t, years) > now) {
		pht_time_format(add_years(n.t, years), until);
		return pht_errf(err, PHT_ERR_DENIED, "%s: entry %" PRIu64 " of %s is younger "
		    "than the retention period of %d years: kept until %s", path, n.seq,
		    n.time, years, until);
	}
	return PHT_OK;
}

int
pht_audit_prune(const char *path, int years, int64_t now, const char *const *only,
    size_t nonly, int dry_run, const struct pht_key *station_key, size_t *removed,
    struct pht_err *err)
{
	struct pht_audit *log = NULL;
	json_t *names = NULL, *f = NULL;
	const char *base;
	char **files = NULL;
	size_t n = 0, narch, i, j, upto = 0;
	int r;

	if (removed != NULL)
		*removed = 0;
	if ((r = pht_audit_files(path, &files, &n, err)) != PHT_OK)
		return r;
	narch = n > 0 && strcmp(files[n - 1], path) == 0 ? n - 1 : n;
	if (only != NULL) {
		/* every named file: an archive, old enough, and no gap left behind */
		for (i = 0; i < nonly; i++) {
			for (j = 0; j < narch; j++)
				if (strcmp(files[j], only[i]) == 0)
					break;
			if (j == narch) {
				r = pht_errf(err, PHT_ERR_INVALID, "%s: not an archive of %s (the "
				    "live log is never pruned)", only[i], path);
				goto out;
			}
			if (j + 1 > upto)
				upto = j + 1;
		}
		for (j = 0; j < upto; j++) {
			for (i = 0; i < nonly && strcmp(files[j], only[i]) != 0; i++)
				;
			if (i == nonly) {
				r = pht_errf(err, PHT_ERR_DENIED, "%s: an older archive is kept, so "
				    "pruning the later ones would break the chain", files[j]);
				goto out;
			}
			if ((r = pht_audit_retention_check(files[j], years, now, err)) != PHT_OK)
				goto out;
		}
	} else {
		for (upto = 0; upto < narch; upto++) {
			struct pht_err e;
			if ((r = pht_audit_retention_check(files[upto], years, now, &e)) ==
			    PHT_ERR_DENIED)
				break;
			if (r != PHT_OK) {
				*err = e;
				goto out;
			}
		}
	}
	if ((names = json_array()) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (j = 0; j < upto; j++) {
		if (!dry_run && unlink(files[j]) != 0) {
			r = pht_errf(err, PHT_ERR_IO, "%s: %s", files[j], strerror(errno));
			goto logit;
		}
		base = strrchr(files[j], '/') != NULL ? strrchr(files[j], '/') + 1 : files[j];
		json_array_append_new(names, json_string(base));
		if (removed != NULL)
			(*removed)++;
	}
	r = PHT_OK;
logit:
	if (!dry_run && station_key != NULL && json_array_size(names) > 0) {
		int r2;
		struct pht_err e2;
		if ((f = json_pack("{s:O, s:i}", "files", names, "retention_years", years)) ==
		    NULL)
			r2 = pht_errf(&e2, PHT_ERR_NOMEM, "out of memory");
		else if ((r2 = pht_audit_open(path, station_key, &log, &e2)) == PHT_OK)
			r2 = pht_audit_append(log, "pruned", f, NULL, &e2);
		if (r == PHT_OK && r2 != PHT_OK) {
			r = r2;
			*err = e2;
			pht_err_prefix(err, "archives removed, but the pruned entry was not "
			    "logged");
		}
	}
out:
	pht_audit_close(log);
	json_decref(f);
	json_decref(names);
	pht_audit_files_free(files);
	return r;
}
