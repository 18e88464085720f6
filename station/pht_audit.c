/* pht_audit.c — append-only audit log: hash chain, signatures, torn-line handling. */
#include "pht_audit.h"
#include "pht_buf.h"
#include "pht_enc.h"
#include "pht_hash.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_journal.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_time.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The fixed layout of a line: PREFIX HASH MID SIG TAIL ENTRY "}". */
#define L_PREFIX "{\"hash\":\""
#define L_MID "\",\"sig\":\""
#define L_TAIL "\",\"entry\":"
#define L_PREFIX_LEN (sizeof(L_PREFIX) - 1)
#define L_MID_LEN (sizeof(L_MID) - 1)
#define L_TAIL_LEN (sizeof(L_TAIL) - 1)
#define L_SIG_B64 88 /* base64 of a 64-byte Ed25519 signature */
#define L_HASH_OFF L_PREFIX_LEN
#define L_SIG_OFF (L_HASH_OFF + PHT_AUDIT_HASH_HEX + L_MID_LEN)
#define L_ENTRY_OFF (L_SIG_OFF + L_SIG_B64 + L_TAIL_LEN)
/* a line left out of a bundle: PREFIX HASH MID SIG LEFT {prev, seq} "}" */
#define L_LEFT "\",\"left_out\":"
#define L_LEFT_LEN (sizeof(L_LEFT) - 1)
#define L_LEFT_OFF (L_SIG_OFF + L_SIG_B64 + L_LEFT_LEN)

#define SIG_DOMAIN "pht-audit-v1:"
#define SIG_DOMAIN_LEN (sizeof(SIG_DOMAIN) - 1)

static const char zero_hash[PHT_AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static const char *const reserved[] = {"seq", "time", "prev", "event", NULL};

const char *
pht_audit_fault_name(enum pht_audit_fault f)
{
	switch (f) {
	case PHT_AUDIT_FAULT_NONE: return "ok";
	case PHT_AUDIT_FAULT_MALFORMED: return "malformed line";
	case PHT_AUDIT_FAULT_HASH: return "hash mismatch";
	case PHT_AUDIT_FAULT_SIGNATURE: return "bad signature";
	case PHT_AUDIT_FAULT_SEQ: return "sequence gap or reorder";
	case PHT_AUDIT_FAULT_PREV: return "prev link broken";
	case PHT_AUDIT_FAULT_TORN: return "torn last line";
	case PHT_AUDIT_FAULT_HEAD: return "log ends before the published head";
	}
	return "unknown fault";
}

/* ---- reading lines ---------------------------------------------------- */

enum { RD_EOF = 0, RD_LINE = 1, RD_TORN = 2, RD_LONG = 3 };

/* Sequential reader of lines from fd starting at a file offset (pread). */
struct reader {
	int fd;
	uint64_t off;           /* offset of the next chunk to read */
	char chunk[65536];
	size_t pos, len;
	struct pht_buf *line;   /* the current line, without its newline */
	uint64_t line_start;    /* file offset where the current line starts */
};

static int
reader_init(struct reader *rd, int fd, uint64_t start)
{
	rd->fd = fd;
	rd->off = start;
	rd->pos = rd->len = 0;
	rd->line_start = start;
	rd->line = pht_buf_new(PHT_AUDIT_LINE_MAX);
	return rd->line == NULL ? PHT_ERR_NOMEM : PHT_OK;
}

static void
reader_clear(struct reader *rd)
{
	pht_buf_free(rd->line);
	rd->line = NULL;
}

/*
 * Next line: RD_LINE (complete, in rd->line), RD_EOF (no more bytes),
 * RD_TORN (bytes without a final newline, in rd->line), RD_LONG (line over
 * PHT_AUDIT_LINE_MAX), or a negative PHT_ERR_* (detail in err).
 */
static int
reader_next(struct reader *rd, const char *path, struct pht_err *err)
{
	ssize_t n;
	char *nl;
	size_t take;

	pht_buf_reset(rd->line);
	rd->line_start = rd->off - (rd->len - rd->pos);
	for (;;) {
		if (rd->pos == rd->len) {
			n = pread(rd->fd, rd->chunk, sizeof(rd->chunk), (off_t)rd->off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
			if (n == 0)
				return pht_buf_len(rd->line) == 0 ? RD_EOF : RD_TORN;
			rd->off += (uint64_t)n;
			rd->pos = 0;
			rd->len = (size_t)n;
		}
		nl = memchr(rd->chunk + rd->pos, '\n', rd->len - rd->pos);
		take = nl != NULL ? (size_t)(nl - (rd->chunk + rd->pos)) : rd->len - rd->pos;
		if (pht_buf_put(rd->line, rd->chunk + rd->pos, take) != PHT_OK)
			return RD_LONG;
		rd->pos += take;
		if (nl != NULL) {
			rd->pos++;
			return RD_LINE;
		}
	}
}

/* ---- checking lines ---------------------------------------------------- */

/* Where the chain stands after the lines checked so far. */
struct chain {
	uint64_t line;                      /* lines checked */
	struct pht_audit_head head;
	uint64_t good_bytes;                /* file offset after the last good line */
	uint8_t last_sig[PHT_KEY_SIG_LEN];  /* signature of the head entry */
	enum pht_audit_fault fault;
	uint64_t fault_line;
	uint64_t want_seq;                  /* record the hash of this entry ... */
	char want_hash[PHT_AUDIT_HASH_HEX + 1]; /* ... here */
	int preset;                         /* head was set by the caller: no anchoring */
	struct pht_audit_head start;        /* what the file continues from (rotation) */
	unsigned opts;                      /* PHT_AUDIT_LEFT_OUT_OK */
	uint64_t left_out;                  /* left-out lines accepted */
};

static void
chain_init(struct chain *ch)
{
	memset(ch, 0, sizeof(*ch));
	memcpy(ch->head.hash, zero_hash, sizeof(zero_hash));
}

static int fault(struct chain *ch, enum pht_audit_fault f, const char *path,
    struct pht_err *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int
fault(struct chain *ch, enum pht_audit_fault f, const char *path,
    struct pht_err *err, const char *fmt, ...)
{
	va_list ap;
	char reason[256];

	ch->fault = f;
	ch->fault_line = ch->line + 1;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return pht_errf(err, PHT_ERR_TAMPERED, "%s:%" PRIu64 ": %s: %s", path,
	    ch->fault_line, pht_audit_fault_name(f), reason);
}

/* The station's signature over hash (when pub is given); a fault otherwise. */
static int
check_sig(struct chain *ch, const struct pht_key *pub, const char *hash,
    const uint8_t *sig, const char *path, struct pht_err *err)
{
	char msg[SIG_DOMAIN_LEN + PHT_AUDIT_HASH_HEX];
	struct pht_err perr;
	int r;

	if (pub == NULL)
		return PHT_OK;
	memcpy(msg, SIG_DOMAIN, SIG_DOMAIN_LEN);
	memcpy(msg + SIG_DOMAIN_LEN, hash, PHT_AUDIT_HASH_HEX);
	if ((r = pht_key_verify(pub, (const uint8_t *)msg, sizeof(msg), sig, &perr)) !=
	    PHT_OK)
		return fault(ch, PHT_AUDIT_FAULT_SIGNATURE, path, err, "%s",
		    r == PHT_ERR_BAD_SIGNATURE ? "not signed by this station's key" :
		    perr.msg);
	return PHT_OK;
}

/* Entry seq with prev and hash as the next link of ch: checked, then ch advanced. */
static int
link_entry(struct chain *ch, int64_t seq, const char *prev, const char *hash,
    const uint8_t *sig, const char *path, struct pht_err *err)
{
	if (seq < 1 || (uint64_t)seq != ch->head.seq + 1)
		return fault(ch, PHT_AUDIT_FAULT_SEQ, path, err, "seq %" PRIu64 " expected, "
		    "%" PRId64 " found", ch->head.seq + 1, seq);
	if (strcmp(prev, ch->head.hash) != 0)
		return fault(ch, PHT_AUDIT_FAULT_PREV, path, err, "%s",
		    "prev is not the hash of the entry before");
	ch->line++;
	ch->head.seq = (uint64_t)seq;
	memcpy(ch->head.hash, hash, PHT_AUDIT_HASH_HEX + 1);
	memcpy(ch->last_sig, sig, PHT_KEY_SIG_LEN);
	if (ch->head.seq == ch->want_seq)
		memcpy(ch->want_hash, hash, PHT_AUDIT_HASH_HEX + 1);
	return PHT_OK;
}

/*
 * A left-out line (PHT_AUDIT_LEFT_OUT_OK) as the next link of ch: layout,
 * the stub exactly {prev, seq}, the signature over the recorded
 * hash, seq and prev. The hash cannot be recomputed: the entry is not
 * there; the next line's prev and the signature bind it.
 */
static int
check_left_out(struct chain *ch, const char *l, size_t len, const struct pht_key *pub,
    const char *path, json_t **entry, struct pht_err *err)
{
	char hash[PHT_AUDIT_HASH_HEX + 1];
	uint8_t sig[PHT_KEY_SIG_LEN + 2];
	const char *prev;
	struct pht_err perr;
	json_t *e = NULL;
	size_t siglen;
	int64_t seq;
	int r;

	if (memcmp(l + L_HASH_OFF + PHT_AUDIT_HASH_HEX, L_MID, L_MID_LEN) != 0 ||
	    l[L_LEFT_OFF] != '{' || l[len - 1] != '}' ||
	    !pht_hex_lower_ok(l + L_HASH_OFF, PHT_AUDIT_HASH_HEX) ||
	    pht_b64_decode(l + L_SIG_OFF, L_SIG_B64, sig, sizeof(sig), &siglen) != PHT_OK ||
	    siglen != PHT_KEY_SIG_LEN)
		return fault(ch, PHT_AUDIT_FAULT_MALFORMED, path, err, "%s",
		    "not {\"hash\":HEX,\"sig\":BASE64,\"left_out\":{...}}");
	memcpy(hash, l + L_HASH_OFF, PHT_AUDIT_HASH_HEX);
	hash[PHT_AUDIT_HASH_HEX] = '\0';
	if (pht_json_parse(l + L_LEFT_OFF, len - 1 - L_LEFT_OFF, "left_out", &e,
	    &perr) != PHT_OK || !json_is_object(e) || json_object_size(e) != 2 ||
	    pht_json_get_int(e, "seq", "left_out", &seq, &perr) != PHT_OK ||
	    pht_json_get_str(e, "prev", "left_out", &prev, &perr) != PHT_OK ||
	    strlen(prev) != PHT_AUDIT_HASH_HEX) {
		json_decref(e);
		return fault(ch, PHT_AUDIT_FAULT_MALFORMED, path, err, "%s",
		    "left_out: not exactly {prev, seq}");
	}
	if ((r = check_sig(ch, pub, hash, sig, path, err)) != PHT_OK ||
	    (r = link_entry(ch, seq, prev, hash, sig, path, err)) != PHT_OK) {
		json_decref(e);
		return r;
	}
	ch->left_out++;
	if (entry != NULL && json_object_set_new(e, "left_out", json_true()) == 0)
		*entry = e;
	else
		json_decref(e);
	return PHT_OK;
}

int
pht_audit_left_out_line(const char *line, size_t len, char **out, struct pht_err *err)
{
	json_t *e = NULL, *stub = NULL;
	char *text = NULL;
	size_t n;
	int r;

	*out = NULL;
	if (len < L_ENTRY_OFF + 3 || memcmp(line, L_PREFIX, L_PREFIX_LEN) != 0 ||
	    memcmp(line + L_SIG_OFF + L_SIG_B64, L_TAIL, L_TAIL_LEN) != 0 ||
	    line[len - 1] != '}')
		return pht_errf(err, PHT_ERR_MALFORMED, "not an audit log line");
	if ((r = pht_json_parse(line + L_ENTRY_OFF, len - 1 - L_ENTRY_OFF, "entry", &e,
	    err)) != PHT_OK)
		return r;
	if (!json_is_string(json_object_get(e, "prev")) ||
	    !json_is_integer(json_object_get(e, "seq"))) {
		r = pht_errf(err, PHT_ERR_MALFORMED, "entry: no seq or prev");
		goto out;
	}
	stub = json_pack("{s:O, s:O}", "prev", json_object_get(e, "prev"),
	    "seq", json_object_get(e, "seq"));
	if (stub == NULL || (text = pht_json_dump(stub)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	n = L_SIG_OFF + L_SIG_B64 + L_LEFT_LEN + strlen(text) + 2;
	if ((*out = malloc(n)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, line, L_SIG_OFF + L_SIG_B64);
	snprintf(*out + L_SIG_OFF + L_SIG_B64, n - L_SIG_OFF - L_SIG_B64, "%s%s}",
	    L_LEFT, text);
	r = PHT_OK;
out:
	free(text);
	json_decref(stub);
	json_decref(e);
	return r;
}

/*
 * Checks one complete line (len bytes, no newline) as the next link of ch.
 * pub verifies the signature when not NULL. On success advances ch and, if
 * entry is not NULL, hands over the parsed ENTRY. PHT_ERR_TAMPERED with
 * ch->fault set otherwise.
 */
static int
check_line(struct chain *ch, const char *l, size_t len, const struct pht_key *pub,
    const char *path, json_t **entry, struct pht_err *err)
{
	char hash[PHT_AUDIT_HASH_HEX + 1];
	uint8_t sig[PHT_KEY_SIG_LEN + 2];
	const char *event, *prev, *time;
	struct pht_err perr;
	json_t *e = NULL;
	size_t siglen, elen;
	int64_t seq, t;
	int r;

	if (entry != NULL)
		*entry = NULL;
	if ((ch->opts & PHT_AUDIT_LEFT_OUT_OK) && len > L_LEFT_OFF + 2 &&
	    memcmp(l, L_PREFIX, L_PREFIX_LEN) == 0 &&
	    memcmp(l + L_SIG_OFF + L_SIG_B64, L_LEFT, L_LEFT_LEN) == 0)
		return check_left_out(ch, l, len, pub, path, entry, err);
	if (len < L_ENTRY_OFF + 3 ||
	    memcmp(l, L_PREFIX, L_PREFIX_LEN) != 0 ||
	    memcmp(l + L_HASH_OFF + PHT_AUDIT_HASH_HEX, L_MID, L_MID_LEN) != 0 ||
	    memcmp(l + L_SIG_OFF + L_SIG_B64, L_TAIL, L_TAIL_LEN) != 0 ||
	    l[L_ENTRY_OFF] != '{' || l[len - 1] != '}')
		return fault(ch, PHT_AUDIT_FAULT_MALFORMED, path, err, "%s",
		    "not {\"hash\":HEX,\"sig\":BASE64,\"entry\":{...}}");
	if (!pht_hex_lower_ok(l + L_HASH_OFF, PHT_AUDIT_HASH_HEX))
		return fault(ch, PHT_AUDIT_FAULT_MALFORMED, path, err, "%s",
		    "hash is not 64 lower-case hex digits");
	if (pht_b64_decode(l + L_SIG_OFF, L_SIG_B64, sig, sizeof(sig), &siglen) != PHT_OK ||
	    siglen != PHT_KEY_SIG_LEN)
		return fault(ch, PHT_AUDIT_FAULT_MALFORMED, path, err, "%s",
		    "sig is not the base64 of a 64-byte signature");
	elen = len - 1 - L_ENTRY_OFF;
	(void)pht_sha256_hex(l + L_ENTRY_OFF, elen, hash, NULL);
	if (memcmp(hash, l + L_HASH_OFF, PHT_AUDIT_HASH_HEX) != 0)
		return fault(ch, PHT_AUDIT_FAULT_HASH, path, err, "%s",
		    "the entry's SHA-256 differs from the recorded hash");
	if (pht_json_parse(l + L_ENTRY_OFF, elen, "entry", &e, &perr) != PHT_OK)
		return fault(ch, PHT_AUDIT_FAULT_MALFORMED, path, err, "%s", perr.msg);
	if (!json_is_object(e) ||
	    pht_json_get_int(e, "seq", "entry", &seq, &perr) != PHT_OK ||
	    pht_json_get_str(e, "time", "entry", &time, &perr) != PHT_OK ||
	    pht_json_get_str(e, "prev", "entry", &prev, &perr) != PHT_OK ||
	    pht_json_get_str(e, "event", "entry", &event, &perr) != PHT_OK) {
		if (!json_is_object(e))
			snprintf(perr.msg, sizeof(perr.msg), "entry: not an object");
		json_decref(e);
		return fault(ch, PHT_AUDIT_FAULT_MALFORMED, path, err, "%s", perr.msg);
	}
	if (pht_time_parse(time, &t) != PHT_OK || event[0] == '\0' ||
	    strlen(prev) != PHT_AUDIT_HASH_HEX) {
		json_decref(e);
		return fault(ch, PHT_AUDIT_FAULT_MALFORMED, path, err, "%s",
		    "entry: bad time, prev or event");
	}
	if ((r = check_sig(ch, pub, hash, sig, path, err)) != PHT_OK) {
		json_decref(e);
		return r;
	}
	/* a file opened by rotation continues the chain of the one before */
	if (ch->line == 0 && !ch->preset && seq > 1 && strcmp(event, "continued") == 0 &&
	    pht_hex_lower_ok(prev, PHT_AUDIT_HASH_HEX)) {
		ch->head.seq = (uint64_t)seq - 1;
		memcpy(ch->head.hash, prev, PHT_AUDIT_HASH_HEX + 1);
		ch->start = ch->head;
	}
	if ((r = link_entry(ch, seq, prev, hash, sig, path, err)) != PHT_OK) {
		json_decref(e);
		return r;
	}
	if (entry != NULL)
		*entry = e;
	else
		json_decref(e);
	return PHT_OK;
}

/*
 * Walks the lines of fd from ch->good_bytes on, extending ch. fn (may be
 * NULL) sees each good entry. Returns PHT_OK at a clean end,
 * PHT_ERR_TAMPERED at the first fault (a torn line included), PHT_ERR_IO,
 * or fn's non-zero return.
 */
static int
walk(int fd, const char *path, struct chain *ch, const struct pht_key *pub,
    pht_audit_entry_fn fn, void *arg, struct pht_err *err)
{
	struct reader rd;
	json_t *e = NULL;
	int r, k;

	if ((r = reader_init(&rd, fd, ch->good_bytes)) != PHT_OK)
		return pht_errf(err, r, "%s: out of memory", path);
	for (;;) {
		k = reader_next(&rd, path, err);
		if (k < 0) {
			r = k;
			break;
		}
		if (k == RD_EOF) {
			r = PHT_OK;
			break;
		}
		if (k == RD_LONG) {
			r = fault(ch, PHT_AUDIT_FAULT_MALFORMED, path, err,
			    "line longer than %u bytes", PHT_AUDIT_LINE_MAX);
			break;
		}
		if (k == RD_TORN) {
			r = fault(ch, PHT_AUDIT_FAULT_TORN, path, err, "%s",
			    "no newline at the end: an append was cut short "
			    "(run pht audit repair)");
			break;
		}
		if ((r = check_line(ch, pht_buf_str(rd.line), pht_buf_len(rd.line),
		    pub, path, fn != NULL ? &e : NULL, err)) != PHT_OK)
			break;
		ch->good_bytes = rd.line_start + pht_buf_len(rd.line) + 1;
		if (fn != NULL) {
			r = fn(ch->line, ch->head.hash, e, arg);
			json_decref(e);
			e = NULL;
			if (r != 0)
				break;
		}
	}
	reader_clear(&rd);
	return r;
}

static int
open_read(const char *path, int *fd, struct pht_err *err)
{
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	return PHT_OK;
}

int
pht_audit_verify(const char *path, const struct pht_key *station_pub,
    const struct pht_audit_head *expect, struct pht_audit_report *report,
    struct pht_err *err)
{
	return pht_audit_verify_from(path, station_pub, NULL, expect, report, err);
}

int
pht_audit_verify_from(const char *path, const struct pht_key *station_pub,
    const struct pht_audit_head *start, const struct pht_audit_head *expect,
    struct pht_audit_report *report, struct pht_err *err)
{
	return pht_audit_verify_opts(path, station_pub, start, expect, 0, report, err);
}

int
pht_audit_verify_opts(const char *path, const struct pht_key *station_pub,
    const struct pht_audit_head *start, const struct pht_audit_head *expect,
    unsigned opts, struct pht_audit_report *report, struct pht_err *err)
{
	struct chain ch;
	int fd, r;

	chain_init(&ch);
	ch.opts = opts;
	if (start != NULL) {
		ch.preset = 1;
		ch.head = *start;
		ch.start = *start;
	}
	if (report != NULL)
		memset(report, 0, sizeof(*report));
	if (station_pub == NULL || pht_key_type(station_pub) != PHT_KEY_SIGN)
		return pht_errf(err, PHT_ERR_INVALID,
		    "verifying %s needs the station's Ed25519 public key", path);
	if ((r = open_read(path, &fd, err)) != PHT_OK)
		return r;
	if (expect != NULL)
		ch.want_seq = expect->seq;
	r = walk(fd, path, &ch, station_pub, NULL, NULL, err);
	close(fd);
	if (r == PHT_OK && expect != NULL && expect->seq > ch.head.seq) {
		ch.fault = PHT_AUDIT_FAULT_HEAD;
		ch.fault_line = ch.line + 1;
		r = pht_errf(err, PHT_ERR_TAMPERED, "%s:%" PRIu64 ": %s: the log has %"
		    PRIu64 " entries, the published head is entry %" PRIu64, path,
		    ch.fault_line, pht_audit_fault_name(ch.fault), ch.head.seq,
		    expect->seq);
	} else if (r == PHT_OK && expect != NULL && expect->seq > 0 &&
	    strcmp(ch.want_hash, expect->hash) != 0) {
		ch.fault = PHT_AUDIT_FAULT_HEAD;
		ch.fault_line = expect->seq;
		r = pht_errf(err, PHT_ERR_TAMPERED, "%s:%" PRIu64 ": %s: entry %" PRIu64
		    " has hash %.16s..., the published head says %.16s...", path,
		    ch.fault_line, "published head differs", expect->seq,
		    ch.want_hash, expect->hash);
	}
	if (report != NULL) {
		report->entries = ch.line;
		report->head = ch.head;
		report->fault = ch.fault;
		report->line = ch.fault_line;
		report->start = ch.start;
		report->left_out = ch.left_out;
	}
	return r;
}

int
pht_audit_foreach(const char *path, pht_audit_entry_fn fn, void *arg,
    struct pht_err *err)
{
	return pht_audit_foreach_opts(path, 0, fn, arg, err);
}

int
pht_audit_foreach_opts(const char *path, unsigned opts, pht_audit_entry_fn fn,
    void *arg, struct pht_err *err)
{
	struct chain ch;
	int fd, r;

	chain_init(&ch);
	ch.opts = opts;
	if ((r = open_read(path, &fd, err)) != PHT_OK)
		return r;
	r = walk(fd, path, &ch, NULL, fn, arg, err);
	close(fd);
	return r;
}

int
pht_audit_read_head(const char *path, struct pht_audit_head *head,
    struct pht_err *err)
{
	struct chain ch;
	int fd, r;

	chain_init(&ch);
	*head = ch.head;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return PHT_OK;
		return pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
	}
	r = walk(fd, path, &ch, NULL, NULL, NULL, err);
	close(fd);
	if (r == PHT_OK)
		*head = ch.head;
	return r;
}

/* ---- writing ------------------------------------------------------------ */

/*
 * An open log. Invariant: chain describes the first chain.good_bytes bytes
 * of the file, all of which verified when last read; the file is only ever
 * extended under an exclusive flock.
 */
struct pht_audit {
	char *path;
	int fd;
	const struct pht_key *key;
	struct chain chain;
};

static int
lock(struct pht_audit *log, int op, struct pht_err *err)
{
	return pht_journal_lock(log->fd, log->path, op == LOCK_EX, err);
}

/* Brings log->chain up to the end of the file (lock held). */
static int
catch_up(struct pht_audit *log, struct pht_err *err)
{
	struct stat st;
	int r;

	if (fstat(log->fd, &st) != 0)
		return pht_errf(err, PHT_ERR_IO, "%s: %s", log->path, strerror(errno));
	if ((uint64_t)st.st_size == log->chain.good_bytes)
		return PHT_OK;
	if ((uint64_t)st.st_size < log->chain.good_bytes)
		return pht_errf(err, PHT_ERR_TAMPERED, "%s: the log shrank from %" PRIu64
		    " to %lld bytes while open", log->path, log->chain.good_bytes,
		    (long long)st.st_size);
	if ((r = walk(log->fd, log->path, &log->chain, NULL, NULL, NULL, err)) != PHT_OK)
		return r;
	/* the newest entry must carry our signature */
	if (log->chain.head.seq > 0) {
		char msg[SIG_DOMAIN_LEN + PHT_AUDIT_HASH_HEX];
		memcpy(msg, SIG_DOMAIN, SIG_DOMAIN_LEN);
		memcpy(msg + SIG_DOMAIN_LEN, log->chain.head.hash, PHT_AUDIT_HASH_HEX);
		if (pht_key_verify(log->key, (const uint8_t *)msg, sizeof(msg),
		    log->chain.last_sig, NULL) != PHT_OK)
			return pht_errf(err, PHT_ERR_TAMPERED, "%s:%" PRIu64 ": %s: the "
			    "last entry is not signed by this station's key", log->path,
			    log->chain.line, pht_audit_fault_name(PHT_AUDIT_FAULT_SIGNATURE));
	}
	return PHT_OK;
}

/* Builds, signs and writes one line (lock held, chain caught up). */
static int
append_locked(struct pht_audit *log, const char *event, const json_t *fields,
    struct pht_err *err)
{
	char hash[PHT_AUDIT_HASH_HEX + 1], msg[SIG_DOMAIN_LEN + PHT_AUDIT_HASH_HEX];
	char now[21], b64[L_SIG_B64 + 1];
	uint8_t sig[PHT_KEY_SIG_LEN];
	struct pht_buf *line = NULL;
	json_t *e = NULL;
	char *text = NULL;
	size_t tlen;
	int r;

	if ((e = json_object()) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (fields != NULL && json_object_update(e, (json_t *)fields) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	pht_time_format(pht_time_now(), now);
	if (json_object_set_new(e, "seq", json_integer((json_int_t)(log->chain.head.seq + 1))) ||
	    json_object_set_new(e, "time", json_string(now)) ||
	    json_object_set_new(e, "prev", json_string(log->chain.head.hash)) ||
	    json_object_set_new(e, "event", json_string(event))) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((text = pht_json_dump(e)) == NULL) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: entry cannot be serialized", log->path);
		goto out;
	}
	tlen = strlen(text);
	(void)pht_sha256_hex(text, tlen, hash, NULL);
	memcpy(msg, SIG_DOMAIN, SIG_DOMAIN_LEN);
	memcpy(msg + SIG_DOMAIN_LEN, hash, PHT_AUDIT_HASH_HEX);
	if ((r = pht_key_sign(log->key, (const uint8_t *)msg, sizeof(msg), sig, err)) != PHT_OK)
		goto out;
	pht_b64_encode(sig, sizeof(sig), b64);
	if ((line = pht_buf_new(PHT_AUDIT_LINE_MAX)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (pht_buf_puts(line, L_PREFIX) != PHT_OK || pht_buf_puts(line, hash) != PHT_OK ||
	    pht_buf_puts(line, L_MID) != PHT_OK || pht_buf_puts(line, b64) != PHT_OK ||
	    pht_buf_puts(line, L_TAIL) != PHT_OK || pht_buf_put(line, text, tlen) != PHT_OK ||
	    pht_buf_puts(line, "}\n") != PHT_OK) {
		r = pht_errf(err, PHT_ERR_TOO_LARGE, "%s: %s entry longer than %u bytes",
		    log->path, event, PHT_AUDIT_LINE_MAX);
		goto out;
	}
	if ((r = pht_journal_append(log->fd, log->path, (off_t)log->chain.good_bytes,
	    pht_buf_str(line), pht_buf_len(line), err)) != PHT_OK) {
		/* a torn line the journal could not cut off: the chain needs repair */
		if (err != NULL && strstr(err->msg, "partial line failed") != NULL) {
			char why[PHT_ERR_DETAIL_MAX];
			snprintf(why, sizeof(why), "%s", err->msg);
			pht_errf(err, r, "%s (run pht audit repair)", why);
		}
		goto out;
	}
	log->chain.line++;
	log->chain.head.seq++;
	memcpy(log->chain.head.hash, hash, sizeof(hash));
	memcpy(log->chain.last_sig, sig, sizeof(sig));
	log->chain.good_bytes += pht_buf_len(line);
	r = PHT_OK;
out:
	pht_buf_free(line);
	free(text);
	json_decref(e);
	return r;
}

static int
audit_open_fd(const char *path, const struct pht_key *key, struct pht_audit **out,
    struct pht_err *err)
{
	struct pht_audit *log;
	int fd, r;

	*out = NULL;
	if (key == NULL || pht_key_type(key) != PHT_KEY_SIGN || !pht_key_has_private(key))
		return pht_errf(err, PHT_ERR_INVALID,
		    "%s: appending needs the station's private Ed25519 key", path);
	if ((r = pht_journal_open(path, 1, &fd, err)) != PHT_OK)
		return r;
	if ((log = calloc(1, sizeof(*log))) == NULL || (log->path = strdup(path)) == NULL) {
		free(log);
		close(fd);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	log->fd = fd;
	log->key = key;
	chain_init(&log->chain);
	*out = log;
	return PHT_OK;
}

int
pht_audit_open(const char *path, const struct pht_key *station_key,
    struct pht_audit **out, struct pht_err *err)
{
	struct pht_audit *log = NULL;
	int r;

	*out = NULL;
	if ((r = audit_open_fd(path, station_key, &log, err)) != PHT_OK)
		return r;
	if ((r = lock(log, LOCK_EX, err)) != PHT_OK)
		goto out;
	r = catch_up(log, err);
	(void)flock(log->fd, LOCK_UN);
	if (r != PHT_OK)
		goto out;
	*out = log;
	log = NULL; /* transferred */
out:
	pht_audit_close(log);
	return r;
}

void
pht_audit_close(struct pht_audit *log)
{
	if (log == NULL)
		return;
	close(log->fd);
	free(log->path);
	free(log);
}

/*
 * With the lock held on log->fd: if pht_audit_rotate replaced the file at
 * log->path since it was opened, moves over to the new file (locked,
 * chain read from its start, which continues the old one). On failure the
 * lock is released.
 */
static int
follow_rotation(struct pht_audit *log, struct pht_err *err)
{
	struct stat a, b;
	int fd, tries;

	for (tries = 0; tries < 16; tries++) {
		if (fstat(log->fd, &a) != 0 || stat(log->path, &b) != 0) {
			(void)flock(log->fd, LOCK_UN);
			return pht_errf(err, PHT_ERR_IO, "%s: %s", log->path, strerror(errno));
		}
		if (a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return PHT_OK;
		if ((fd = open(log->path, O_RDWR | O_APPEND | O_CLOEXEC)) < 0) {
			(void)flock(log->fd, LOCK_UN);
			return pht_errf(err, PHT_ERR_IO, "%s: %s", log->path, strerror(errno));
		}
		(void)flock(log->fd, LOCK_UN);
		close(log->fd);
		log->fd = fd;
		chain_init(&log->chain);
		if (lock(log, LOCK_EX, err) != PHT_OK)
			return PHT_ERR_IO;
	}
	(void)flock(log->fd, LOCK_UN);
	return pht_errf(err, PHT_ERR_IO, "%s: the log keeps being rotated", log->path);
}

int
pht_audit_append(struct pht_audit *log, const char *event, const json_t *fields,
    struct pht_audit_head *head, struct pht_err *err)
{
	size_t i;
	int r;

	if (event == NULL || event[0] == '\0')
		return pht_errf(err, PHT_ERR_INVALID, "audit entry without an event name");
	if (fields != NULL && !json_is_object(fields))
		return pht_errf(err, PHT_ERR_INVALID, "audit %s: fields are not an object",
		    event);
	for (i = 0; fields != NULL && reserved[i] != NULL; i++)
		if (json_object_get(fields, reserved[i]) != NULL)
			return pht_errf(err, PHT_ERR_INVALID,
			    "audit %s: field name %s is reserved", event, reserved[i]);
	if ((r = lock(log, LOCK_EX, err)) != PHT_OK)
		return r;
	if ((r = follow_rotation(log, err)) != PHT_OK)
		return r;
	if ((r = catch_up(log, err)) == PHT_OK)
		r = append_locked(log, event, fields, err);
	(void)flock(log->fd, LOCK_UN);
	if (r == PHT_OK && head != NULL)
		*head = log->chain.head;
	return r;
}

void
pht_audit_get_head(const struct pht_audit *log, struct pht_audit_head *head)
{
	*head = log->chain.head;
}

int
pht_audit_repair(const char *path, const struct pht_key *station_key,
    size_t *removed, struct pht_err *err)
{
	struct pht_audit *log = NULL;
	struct pht_buf *tail = NULL;
	char hash[PHT_AUDIT_HASH_HEX + 1], *aside = NULL;
	struct pht_key *pub = NULL;
	json_t *fields = NULL;
	struct stat st;
	uint64_t n;
	ssize_t k;
	int r;

	if (removed != NULL)
		*removed = 0;
	if ((r = audit_open_fd(path, station_key, &log, err)) != PHT_OK)
		return r;
	if ((pub = pht_key_public_copy(station_key)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = lock(log, LOCK_EX, err)) != PHT_OK)
		goto out;
	r = walk(log->fd, path, &log->chain, pub, NULL, NULL, err);
	if (r == PHT_OK) {
		r = pht_errf(err, PHT_ERR_NOT_FOUND, "%s: the log is whole; nothing to "
		    "repair", path);
		goto unlock;
	}
	if (r != PHT_ERR_TAMPERED || log->chain.fault != PHT_AUDIT_FAULT_TORN) {
		if (r == PHT_ERR_TAMPERED)
			pht_err_prefix(err, "not repaired (only a torn last line is)");
		goto unlock;
	}
	if (fstat(log->fd, &st) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
		goto unlock;
	}
	n = (uint64_t)st.st_size - log->chain.good_bytes;
	if ((tail = pht_buf_new(PHT_AUDIT_LINE_MAX)) == NULL ||
	    pht_buf_put(tail, "", 0) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto unlock;
	}
	while (pht_buf_len(tail) < n) {
		char chunk[65536];
		size_t want = n - pht_buf_len(tail) < sizeof(chunk) ?
		    (size_t)(n - pht_buf_len(tail)) : sizeof(chunk);
		k = pread(log->fd, chunk, want,
		    (off_t)(log->chain.good_bytes + pht_buf_len(tail)));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || pht_buf_put(tail, chunk, (size_t)k) != PHT_OK) {
			r = pht_errf(err, PHT_ERR_IO, "%s: reading the torn line failed", path);
			goto unlock;
		}
	}
	if (asprintf(&aside, "%s.torn-%" PRIu64 "-%lld", path, log->chain.head.seq + 1,
	    (long long)pht_time_now()) < 0) {
		aside = NULL;
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto unlock;
	}
	if ((r = pht_file_write_atomic(aside, pht_buf_data(tail), pht_buf_len(tail),
	    0600, err)) != PHT_OK)
		goto unlock;
	if (ftruncate(log->fd, (off_t)log->chain.good_bytes) != 0 || fsync(log->fd) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: truncate: %s", path, strerror(errno));
		goto unlock;
	}
	(void)pht_sha256_hex(pht_buf_data(tail), pht_buf_len(tail), hash, NULL);
	if ((fields = json_pack("{s:I, s:s, s:s}", "bytes_removed", (json_int_t)n,
	    "removed_sha256", hash, "moved_to", aside)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto unlock;
	}
	log->chain.fault = PHT_AUDIT_FAULT_NONE;
	if ((r = append_locked(log, "repaired", fields, err)) != PHT_OK)
		goto unlock;
	if (removed != NULL)
		*removed = (size_t)n;
unlock:
	(void)flock(log->fd, LOCK_UN);
out:
	json_decref(fields);
	free(aside);
	pht_buf_free(tail);
	pht_key_free(pub);
	pht_audit_close(log);
	return r;
}

int
pht_audit_rotate(const char *path, const struct pht_key *station_key,
    char **archived, struct pht_err *err)
{
	struct pht_audit *log = NULL, *next = NULL;
	char *aside = NULL, *tmp = NULL;
	const char *base;
	json_t *f = NULL;
	int r;

	*archived = NULL;
	if ((r = pht_audit_open(path, station_key, &log, err)) != PHT_OK)
		return r;
	if ((r = lock(log, LOCK_EX, err)) != PHT_OK)
		goto out;
	if ((r = follow_rotation(log, err)) != PHT_OK)
		goto out;
	if ((r = catch_up(log, err)) != PHT_OK)
		goto unlock;
	if (log->chain.head.seq == 0) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: the log is empty: nothing to rotate",
		    path);
		goto unlock;
	}
	if (asprintf(&aside, "%s.%012" PRIu64, path, log->chain.head.seq) < 0 ||
	    asprintf(&tmp, "%s.rotating", path) < 0) {
		aside = tmp = NULL;
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto unlock;
	}
	/* the closed file keeps its entries under its new name, never copied */
	if (link(path, aside) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: cannot keep it as %s: %s", path, aside,
		    strerror(errno));
		goto unlock;
	}
	(void)unlink(tmp);
	if ((r = audit_open_fd(tmp, station_key, &next, err)) != PHT_OK)
		goto unlock;
	next->chain.head = log->chain.head;
	base = strrchr(aside, '/') != NULL ? strrchr(aside, '/') + 1 : aside;
	if ((f = json_pack("{s:s}", "previous_file", base)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto unlock;
	}
	if ((r = append_locked(next, "continued", f, err)) != PHT_OK)
		goto unlock;
	if (rename(tmp, path) != 0 || pht_file_fsync_parent(path) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: putting the new file in place: %s", path,
		    strerror(errno));
		goto unlock;
	}
	*archived = aside;
	aside = NULL; /* transferred */
unlock:
	(void)flock(log->fd, LOCK_UN);
out:
	if (r != PHT_OK && aside != NULL && tmp != NULL && access(tmp, F_OK) == 0) {
		/* the new file never took over: the old one is still the log */
		(void)unlink(tmp);
		(void)unlink(aside);
	}
	json_decref(f);
	pht_audit_close(next);
	pht_audit_close(log);
	free(aside);
	free(tmp);
	return r;
}
