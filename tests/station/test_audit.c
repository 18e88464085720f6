/* test_audit.c — the audit log: append, recover, verify, and every kind of tampering. */
#include "tap.h"

#include "pht_audit.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_key.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *d;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)n + 1);
	if (d != NULL && fread(d, 1, (size_t)n, f) != (size_t)n) {
		free(d);
		d = NULL;
	}
	fclose(f);
	if (d != NULL) {
		d[n] = 0;
		*len = (size_t)n;
	}
	return d;
}

static void
spit(const char *path, const char *d, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(d, 1, len, f) != len)
		abort();
	fclose(f);
}

/* Offsets of the starts of the lines of d (at most max). */
static size_t
line_starts(const char *d, size_t len, size_t *starts, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < len && n < max; i++)
		if (i == 0 || d[i - 1] == '\n')
			starts[n++] = i;
	return n;
}

static void
sha256_hex(const void *p, size_t n, char out[65])
{
	uint8_t md[32];
	unsigned int l;

	EVP_Digest(p, n, md, &l, EVP_sha256(), NULL);
	pht_hex_encode(md, 32, out);
}

/* A line with a valid layout and hash over entry, signed by key. */
static char *
forge_line(const struct pht_key *key, const char *entry)
{
	char hash[65], msg[13 + 64], b64[89], *line;
	uint8_t sig[64];

	sha256_hex(entry, strlen(entry), hash);
	memcpy(msg, "pht-audit-v1:", 13);
	memcpy(msg + 13, hash, 64);
	if (pht_key_sign(key, (uint8_t *)msg, sizeof(msg), sig, NULL) != PHT_OK)
		abort();
	pht_b64_encode(sig, 64, b64);
	if (asprintf(&line, "{\"hash\":\"%s\",\"sig\":\"%s\",\"entry\":%s}\n", hash,
	    b64, entry) < 0)
		abort();
	return line;
}

static int
verify_fault(const char *path, const struct pht_key *pub, enum pht_audit_fault *f,
    uint64_t *line, struct pht_err *e)
{
	struct pht_audit_report rep;
	int r;

	pht_err_clear(e);
	r = pht_audit_verify(path, pub, NULL, &rep, e);
	*f = rep.fault;
	*line = rep.line;
	return r;
}

struct collect {
	char events[16][32];
	size_t n;
	uint64_t lines[16];
	json_t *released;
};

static int
collect_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct collect *c = arg;
	const char *ev = json_string_value(json_object_get(entry, "event"));

	if (c->n < 16) {
		snprintf(c->events[c->n], sizeof(c->events[0]), "%s", ev ? ev : "?");
		c->lines[c->n] = line;
		c->n++;
	}
	if (ev != NULL && strcmp(ev, "released") == 0 && c->released == NULL)
		c->released = json_incref(json_object_get(entry, "output"));
	(void)hash;
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/pht-audit-XXXXXX", path[256], work[256], buf[512];
	struct pht_key *key = NULL, *pub = NULL, *other = NULL;
	struct pht_audit *log = NULL, *log2 = NULL;
	struct pht_audit_head h1, h2, head5;
	struct pht_audit_report rep;
	enum pht_audit_fault f;
	struct collect col;
	struct pht_err e;
	size_t len, wlen, starts[32], nlines, i, bad, removed;
	uint64_t line;
	char *orig, *w, *forged;
	json_t *fields, *output;
	int r;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	snprintf(work, sizeof(work), "%s/work.log", dir);
	tap_ok(pht_key_generate(PHT_KEY_SIGN, &key, NULL) == PHT_OK, "station key");
	tap_ok(pht_key_generate(PHT_KEY_SIGN, &other, NULL) == PHT_OK, "another key");
	pub = pht_key_public_copy(key);

	/* errors before any log exists */
	pht_err_clear(&e);
	tap_ok(pht_audit_open(path, pub, &log, &e) == PHT_ERR_INVALID &&
	    strstr(e.msg, "private Ed25519 key") != NULL, "open refuses a public-only key");
	tap_ok(pht_audit_read_head(path, &h1, &e) == PHT_OK && h1.seq == 0 &&
	    strspn(h1.hash, "0") == 64, "head of a missing log is seq 0, zero hash");
	pht_err_clear(&e);
	tap_ok(pht_audit_verify(path, pub, NULL, NULL, &e) == PHT_ERR_IO &&
	    strstr(e.msg, "audit.log") != NULL, "verify of a missing file: IO error naming it");

	/* write five entries */
	tap_ok(pht_audit_open(path, key, &log, &e) == PHT_OK, "open creates the log");
	fields = json_pack("{s:s, s:s}", "train", "00112233445566778899aabbccddeeff",
	    "signer", "alice");
	tap_ok(pht_audit_append(log, "received", fields, &h1, &e) == PHT_OK && h1.seq == 1,
	    "append received -> seq 1");
	json_decref(fields);
	fields = json_pack("{s:s, s:I, s:I, s:f}", "train",
	    "00112233445566778899aabbccddeeff", "instructions", (json_int_t)12345,
	    "peak_memory", (json_int_t)65536, "wall_ms", 12.5);
	tap_ok(pht_audit_append(log, "executed", fields, &h2, &e) == PHT_OK && h2.seq == 2 &&
	    strcmp(h1.hash, h2.hash) != 0, "append executed -> seq 2, new hash");
	json_decref(fields);
	output = json_pack("{s:i, s:f, s:[i,i,i], s:s}", "n", 42, "mean", 61.25,
	    "counts", 5, 7, 30, "note", "line\nbreak \"quoted\" é");
	fields = json_pack("{s:s, s:O}", "train", "00112233445566778899aabbccddeeff",
	    "output", output);
	tap_ok(pht_audit_append(log, "released", fields, NULL, &e) == PHT_OK,
	    "append released with output");
	json_decref(fields);
	fields = json_pack("{s:s}", "seq", "x");
	pht_err_clear(&e);
	tap_ok(pht_audit_append(log, "failed", fields, NULL, &e) == PHT_ERR_INVALID &&
	    strstr(e.msg, "reserved") != NULL, "reserved field name refused");
	json_decref(fields);
	fields = json_pack("[i]", 1);
	pht_err_clear(&e);
	tap_ok(pht_audit_append(log, "failed", fields, NULL, &e) == PHT_ERR_INVALID &&
	    strstr(e.msg, "not an object") != NULL, "non-object fields refused");
	json_decref(fields);
	pht_err_clear(&e);
	tap_ok(pht_audit_append(log, "", NULL, NULL, &e) == PHT_ERR_INVALID,
	    "empty event name refused");
	pht_audit_close(log);
	log = NULL;

	/* reopen recovers the head and continues the chain */
	tap_ok(pht_audit_open(path, key, &log, &e) == PHT_OK, "reopen");
	pht_audit_get_head(log, &h1);
	tap_ok(h1.seq == 3, "reopen recovers seq 3");
	tap_ok(pht_audit_read_head(path, &h2, &e) == PHT_OK && h2.seq == 3 &&
	    strcmp(h1.hash, h2.hash) == 0, "read_head agrees with the writer");
	/* a second writer on the same file stays in step */
	tap_ok(pht_audit_open(path, key, &log2, &e) == PHT_OK, "second writer");
	fields = json_pack("{s:s, s:s}", "train", "ffeeddccbbaa99887766554433221100",
	    "reason", "unknown signer");
	tap_ok(pht_audit_append(log2, "rejected", fields, &h2, &e) == PHT_OK && h2.seq == 4,
	    "second writer appends seq 4");
	json_decref(fields);
	fields = json_pack("{s:s}", "reason", "train error: boom");
	tap_ok(pht_audit_append(log, "failed", fields, &head5, &e) == PHT_OK &&
	    head5.seq == 5, "first writer catches up and appends seq 5");
	json_decref(fields);
	pht_audit_close(log2);
	log2 = NULL;
	pht_audit_close(log);
	log = NULL;

	/* verify the whole log */
	pht_err_clear(&e);
	r = pht_audit_verify(path, pub, NULL, &rep, &e);
	tap_ok(r == PHT_OK && rep.entries == 5 && rep.fault == PHT_AUDIT_FAULT_NONE &&
	    rep.line == 0, "verify: 5 entries, no fault");
	tap_ok(rep.head.seq == 5 && strcmp(rep.head.hash, head5.hash) == 0,
	    "verify reports the head");
	tap_ok(pht_audit_verify(path, pub, &head5, NULL, &e) == PHT_OK,
	    "verify against the published head");
	tap_ok(pht_audit_verify(path, key, NULL, NULL, &e) == PHT_OK,
	    "a private key verifies too");
	pht_err_clear(&e);
	tap_ok(pht_audit_verify(path, other, NULL, &rep, &e) == PHT_ERR_TAMPERED &&
	    rep.fault == PHT_AUDIT_FAULT_SIGNATURE && rep.line == 1 &&
	    strstr(e.msg, "audit.log:1: bad signature") != NULL,
	    "the wrong station key: bad signature at line 1");

	/* foreach sees every entry in order, the output exactly */
	memset(&col, 0, sizeof(col));
	tap_ok(pht_audit_foreach(path, collect_fn, &col, &e) == PHT_OK && col.n == 5,
	    "foreach visits 5 entries");
	tap_ok(strcmp(col.events[0], "received") == 0 && strcmp(col.events[1], "executed") == 0 &&
	    strcmp(col.events[2], "released") == 0 && strcmp(col.events[3], "rejected") == 0 &&
	    strcmp(col.events[4], "failed") == 0 && col.lines[4] == 5,
	    "events in order with line numbers");
	tap_ok(col.released != NULL && json_equal(col.released, output),
	    "released output comes back exactly");
	json_decref(col.released);
	json_decref(output);

	/* the file itself: layout of a line */
	orig = slurp(path, &len);
	nlines = line_starts(orig, len, starts, 32);
	tap_ok(nlines == 5 && orig[len - 1] == '\n', "5 lines ending in a newline");
	tap_ok(strncmp(orig, "{\"hash\":\"", 9) == 0 &&
	    strncmp(orig + 9 + 64, "\",\"sig\":\"", 9) == 0 &&
	    strncmp(orig + 9 + 64 + 9 + 88, "\",\"entry\":{", 11) == 0,
	    "line layout is hash, sig, entry");
	{
		/* hash = SHA-256 of the entry bytes as written (independent recompute) */
		const char *ent = orig + 180, *end = strchr(orig, '\n');
		char want[65];
		sha256_hex(ent, (size_t)(end - 1 - ent), want);
		tap_ok(strncmp(orig + 9, want, 64) == 0, "hash is the SHA-256 of the entry bytes");
		tap_ok(strstr(orig, "\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"") != NULL &&
		    strstr(orig, "\"seq\":1,") != NULL, "first entry: seq 1, zero prev");
	}

	/* tamper with every byte, two ways each: found at the right line */
	bad = 0;
	for (i = 0; i < len; i++) {
		static const unsigned char flips[] = {0x01, 0x20};
		size_t m, want_line = 0, k;
		for (k = 0; k < nlines && starts[k] <= i; k++)
			want_line = k + 1;
		for (m = 0; m < sizeof(flips); m++) {
			w = malloc(len);
			memcpy(w, orig, len);
			w[i] = (char)(w[i] ^ flips[m]);
			spit(work, w, len);
			free(w);
			r = verify_fault(work, pub, &f, &line, &e);
			if (r != PHT_ERR_TAMPERED || line != want_line) {
				if (bad++ == 0)
					tap_diag("byte %zu ^0x%02x: r=%d line=%llu want %zu (%s)",
					    i, flips[m], r, (unsigned long long)line, want_line, e.msg);
				continue;
			}
			/* inside the entry (not its braces): the hash catches it */
			if (i > starts[want_line - 1] + 180 &&
			    (want_line == nlines ? i + 2 < len : i + 2 < starts[want_line]) &&
			    f != PHT_AUDIT_FAULT_HASH) {
				if (bad++ == 0)
					tap_diag("byte %zu: fault %s, want hash mismatch", i,
					    pht_audit_fault_name(f));
			}
		}
	}
	tap_ok(bad == 0, "every one of %zu bytes flipped two ways is caught at its line", len);

	/* delete an entry */
	w = malloc(len);
	wlen = starts[2];
	memcpy(w, orig, wlen);
	memcpy(w + wlen, orig + starts[3], len - starts[3]);
	wlen += len - starts[3];
	spit(work, w, wlen);
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_SEQ && line == 3 &&
	    strstr(e.msg, "seq 3 expected, 4 found") != NULL,
	    "deleted entry 3: seq gap at line 3 (%s)", e.msg);
	spit(work, orig + starts[1], len - starts[1]);
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_SEQ && line == 1,
	    "deleted first entry: seq gap at line 1");
	/* deleting the last entry is only visible against the published head */
	spit(work, orig, starts[4]);
	tap_ok(pht_audit_verify(work, pub, NULL, NULL, &e) == PHT_OK,
	    "log cut at a line boundary verifies on its own");
	pht_err_clear(&e);
	tap_ok(pht_audit_verify(work, pub, &head5, &rep, &e) == PHT_ERR_TAMPERED &&
	    rep.fault == PHT_AUDIT_FAULT_HEAD && rep.line == 5 &&
	    strstr(e.msg, "published head is entry 5") != NULL,
	    "...and fails against the published head at line 5");
	spit(work, orig, len);
	snprintf(h1.hash, sizeof(h1.hash), "%s", head5.hash);
	h1.hash[0] = h1.hash[0] == 'a' ? 'b' : 'a';
	h1.seq = 5;
	pht_err_clear(&e);
	tap_ok(pht_audit_verify(work, pub, &h1, &rep, &e) == PHT_ERR_TAMPERED &&
	    rep.fault == PHT_AUDIT_FAULT_HEAD && rep.line == 5,
	    "a different published head hash is caught");

	/* reorder entries 2 and 3 */
	wlen = 0;
	memcpy(w, orig, starts[1]);
	wlen = starts[1];
	memcpy(w + wlen, orig + starts[2], starts[3] - starts[2]);
	wlen += starts[3] - starts[2];
	memcpy(w + wlen, orig + starts[1], starts[2] - starts[1]);
	wlen += starts[2] - starts[1];
	memcpy(w + wlen, orig + starts[3], len - starts[3]);
	wlen += len - starts[3];
	spit(work, w, wlen);
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_SEQ && line == 2,
	    "entries 2 and 3 swapped: caught at line 2");
	free(w);

	/* an entry appended without the key */
	snprintf(buf, sizeof(buf), "{\"event\":\"released\",\"output\":{\"n\":1},"
	    "\"prev\":\"%s\",\"seq\":6,\"time\":\"2026-01-01T00:00:00Z\"}", head5.hash);
	forged = forge_line(other, buf);
	w = malloc(len + strlen(forged));
	memcpy(w, orig, len);
	memcpy(w + len, forged, strlen(forged));
	spit(work, w, len + strlen(forged));
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_SIGNATURE && line == 6,
	    "forged entry signed by another key: bad signature at line 6");
	pht_err_clear(&e);
	tap_ok(pht_audit_open(work, key, &log, &e) == PHT_ERR_TAMPERED && log == NULL &&
	    strstr(e.msg, "not signed by this station") != NULL,
	    "the writer refuses to chain onto a forged entry");
	free(forged);
	/* same entry with a copied signature */
	forged = forge_line(key, buf);
	memcpy(forged + 9 + 64 + 9, orig + 9 + 64 + 9, 88);
	memcpy(w + len, forged, strlen(forged));
	spit(work, w, len + strlen(forged));
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_SIGNATURE && line == 6,
	    "forged entry with a copied signature: bad signature at line 6");
	free(forged);
	/* a well-signed line with wrong prev or bad JSON (as a key thief could write) */
	snprintf(buf, sizeof(buf), "{\"event\":\"x\",\"prev\":\"%s\",\"seq\":6,"
	    "\"time\":\"2026-01-01T00:00:00Z\"}", h2.hash);
	forged = forge_line(key, buf);
	memcpy(w + len, forged, strlen(forged));
	spit(work, w, len + strlen(forged));
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_PREV && line == 6,
	    "prev pointing elsewhere: prev link broken at line 6");
	free(forged);
	forged = forge_line(key, "{\"event\":\"x\",\"seq\":}");
	memcpy(w + len, forged, strlen(forged));
	spit(work, w, len + strlen(forged));
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_MALFORMED && line == 6 &&
	    strstr(e.msg, "entry") != NULL, "entry that is not JSON: malformed at line 6");
	free(forged);
	forged = forge_line(key, "{\"event\":\"x\",\"seq\":6}");
	memcpy(w + len, forged, strlen(forged));
	spit(work, w, len + strlen(forged));
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_MALFORMED && line == 6 &&
	    strstr(e.msg, "field time: missing") != NULL,
	    "entry without time: malformed at line 6 (%s)", e.msg);
	free(forged);
	free(w);

	/* torn last line: verify, the writer refuses, repair, continue */
	spit(work, orig, len - 10);
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_TORN && line == 5 &&
	    strstr(e.msg, "work.log:5: torn last line") != NULL,
	    "truncated last line: torn at line 5 (%s)", e.msg);
	spit(work, orig, len - 1);
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_TORN && line == 5,
	    "missing final newline: torn at line 5");
	pht_err_clear(&e);
	tap_ok(pht_audit_open(work, key, &log, &e) == PHT_ERR_TAMPERED &&
	    strstr(e.msg, "pht audit repair") != NULL, "the writer refuses a torn log");
	pht_err_clear(&e);
	tap_ok(pht_audit_repair(work, other, &removed, &e) == PHT_ERR_TAMPERED,
	    "repair with another station's key refuses (chain does not verify)");
	tap_ok(pht_audit_repair(work, key, &removed, &e) == PHT_OK &&
	    removed == len - 1 - starts[4], "repair removes the torn bytes");
	r = pht_audit_verify(work, pub, NULL, &rep, &e);
	tap_ok(r == PHT_OK && rep.entries == 5, "repaired log verifies, repair logged as entry 5");
	memset(&col, 0, sizeof(col));
	pht_audit_foreach(work, collect_fn, &col, &e);
	tap_ok(col.n == 5 && strcmp(col.events[4], "repaired") == 0, "entry 5 is 'repaired'");
	json_decref(col.released);
	{
		DIR *d = opendir(dir);
		struct dirent *de;
		int found = 0;
		while (d != NULL && (de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "work.log.torn-5-", 16) == 0) {
				char p2[512];
				size_t tl;
				char *t;
				snprintf(p2, sizeof(p2), "%s/%s", dir, de->d_name);
				t = slurp(p2, &tl);
				found = t != NULL && tl == len - 1 - starts[4] &&
				    memcmp(t, orig + starts[4], tl) == 0;
				free(t);
				unlink(p2);
			}
		}
		if (d != NULL)
			closedir(d);
		tap_ok(found, "the torn bytes are kept aside in work.log.torn-5-*");
	}
	tap_ok(pht_audit_open(work, key, &log, &e) == PHT_OK, "the writer accepts the repaired log");
	tap_ok(pht_audit_append(log, "received", NULL, &h1, &e) == PHT_OK && h1.seq == 6,
	    "and appends seq 6");
	pht_audit_close(log);
	log = NULL;
	pht_err_clear(&e);
	tap_ok(pht_audit_repair(work, key, &removed, &e) == PHT_ERR_NOT_FOUND &&
	    strstr(e.msg, "nothing to repair") != NULL, "repair of a whole log: nothing to do");
	spit(work, orig, len);
	{
		char *t = malloc(len);
		memcpy(t, orig, len);
		t[starts[2] + 200] ^= 1;
		spit(work, t, len);
		free(t);
	}
	pht_err_clear(&e);
	tap_ok(pht_audit_repair(work, key, &removed, &e) == PHT_ERR_TAMPERED &&
	    strstr(e.msg, "not repaired") != NULL, "a tampered log is not repaired");

	/* not the layout at all */
	spit(work, "hello\n", 6);
	r = verify_fault(work, pub, &f, &line, &e);
	tap_ok(r == PHT_ERR_TAMPERED && f == PHT_AUDIT_FAULT_MALFORMED && line == 1,
	    "garbage: malformed at line 1");
	spit(work, "", 0);
	tap_ok(pht_audit_verify(work, pub, NULL, &rep, &e) == PHT_OK && rep.entries == 0,
	    "an empty log verifies with 0 entries");
	pht_err_clear(&e);
	tap_ok(pht_audit_verify(work, NULL, NULL, NULL, &e) == PHT_ERR_INVALID,
	    "verify without a key refused");

	/* four processes appending at once: one chain, nothing lost */
	{
		char conc[300];
		pid_t kids[4];
		int k, status, all_ok = 1;

		snprintf(conc, sizeof(conc), "%s/conc.log", dir);
		for (k = 0; k < 4; k++) {
			if ((kids[k] = fork()) == 0) {
				struct pht_audit *l = NULL;
				json_t *fl;
				int j, bad2 = 0;
				if (pht_audit_open(conc, key, &l, NULL) != PHT_OK)
					_exit(2);
				for (j = 0; j < 25; j++) {
					fl = json_pack("{s:i, s:i}", "writer", k, "n", j);
					bad2 |= pht_audit_append(l, "received", fl, NULL, NULL) != PHT_OK;
					json_decref(fl);
				}
				pht_audit_close(l);
				_exit(bad2);
			}
		}
		for (k = 0; k < 4; k++)
			if (kids[k] < 0 || waitpid(kids[k], &status, 0) != kids[k] ||
			    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
				all_ok = 0;
		tap_ok(all_ok, "four concurrent writers all appended");
		r = pht_audit_verify(conc, pub, NULL, &rep, &e);
		tap_ok(r == PHT_OK && rep.entries == 100, "their log verifies with 100 entries");
		unlink(conc);
	}

	tap_str(pht_audit_fault_name(PHT_AUDIT_FAULT_TORN), "torn last line", "fault names");

	free(orig);
	unlink(path);
	unlink(work);
	rmdir(dir);
	pht_key_free(key);
	pht_key_free(pub);
	pht_key_free(other);
	return tap_done();
}
