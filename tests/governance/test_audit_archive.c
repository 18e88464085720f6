/* test_audit_archive.c — rotation keeps the chain, auditor bundles verify offline, retention never deletes anything younger. */
#include "tap.h"

#include "pht_audit.h"
#include "pht_audit_archive.h"
#include "pht_err.h"
#include "pht_key.h"
#include "pht_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/pht-arch-XXXXXX";

static void
path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static int
exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static const char *
pht(void)
{
	return getenv("PHT") ? getenv("PHT") : "pht";
}

/* Runs a shell command line; its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
flip_byte(const char *p, long off)
{
	FILE *f = fopen(p, "r+");
	int c;

	fseek(f, off, SEEK_SET);
	c = fgetc(f);
	fseek(f, off, SEEK_SET);
	fputc(c == 'a' ? 'b' : 'a', f);
	fclose(f);
}

int
main(void)
{
	struct pht_key *key = NULL, *pub = NULL, *other = NULL;
	struct pht_audit *log = NULL, *writer = NULL;
	struct pht_audit_report rep;
	struct pht_audit_head h1, h2, bad;
	struct pht_audit_bundle_report br;
	struct pht_audit_export_spec spec;
	struct pht_err e;
	char lp[1200], kp[1200], pp[1200], bundle[1200], b2[1200], heads[512], cfg[1200];
	char *a1 = NULL, *a2 = NULL, **files = NULL;
	const char *set[3];
	uint64_t count = 0;
	size_t n, removed;
	int i, r;
	int64_t now = pht_time_now();

	if (mkdtemp(dir) == NULL || pht_key_generate_files(dir, "st", NULL, NULL, NULL) != PHT_OK ||
	    pht_key_generate_files(dir, "other", NULL, NULL, NULL) != PHT_OK)
		return 1;
	path(lp, sizeof(lp), "audit.log");
	path(kp, sizeof(kp), "st.sign.key");
	path(pp, sizeof(pp), "st.sign.pub");
	pht_key_load(kp, &key, NULL);
	pht_key_load(pp, &pub, NULL);
	path(b2, sizeof(b2), "other.sign.pub");
	pht_key_load(b2, &other, NULL);

	/* ---- rotation ---- */
	pht_err_clear(&e);
	r = pht_audit_rotate(lp, key, &a1, &e);
	tap_ok(r == PHT_ERR_INVALID && strstr(e.msg, "nothing to rotate") != NULL,
	    "an empty log is not rotated (%s)", e.msg);
	free(a1);
	a1 = NULL;
	tap_ok(pht_audit_open(lp, key, &log, &e) == PHT_OK, "open the log");
	tap_ok(pht_audit_open(lp, key, &writer, &e) == PHT_OK, "a second writer (the daemon)");
	for (i = 0; i < 5; i++)
		pht_audit_append(log, "test", NULL, &h1, &e);
	tap_ok(h1.seq == 5, "five entries");
	r = pht_audit_rotate(lp, key, &a1, &e);
	tap_ok(r == PHT_OK && a1 != NULL && strstr(a1, "audit.log.000000000005") != NULL &&
	    exists(a1), "rotate: the closed file is kept as LOG.<last seq> (%s)", a1 ? a1 : e.msg);
	r = pht_audit_verify(lp, pub, NULL, &rep, &e);
	tap_ok(r == PHT_OK && rep.entries == 1 && rep.start.seq == 5 &&
	    strcmp(rep.start.hash, h1.hash) == 0 && rep.head.seq == 6,
	    "the new file verifies alone and says it continues from entry 5");
	/* the writer that had the old file open moves over */
	pht_audit_append(writer, "after", NULL, &h2, &e);
	tap_ok(h2.seq == 7, "a writer holding the old file appends entry 7 to the new one");
	r = pht_audit_verify(a1, pub, NULL, &rep, &e);
	tap_ok(r == PHT_OK && rep.entries == 5, "the archive is untouched (5 entries)");
	pht_audit_append(log, "after", NULL, &h2, &e);
	tap_ok(h2.seq == 8, "the rotating process's own handle follows too");
	set[0] = a1;
	set[1] = lp;
	r = pht_audit_verify_files(set, 2, pub, NULL, &rep, &e);
	tap_ok(r == PHT_OK && rep.entries == 8 && rep.head.seq == 8 && rep.start.seq == 0,
	    "archive + live file verify as one chain of 8");
	r = pht_audit_rotate(lp, key, &a2, &e);
	tap_ok(r == PHT_OK && a2 != NULL && strstr(a2, ".000000000008") != NULL, "second rotation");
	pht_audit_append(writer, "later", NULL, &h2, &e);
	tap_ok(pht_audit_files(lp, &files, &n, &e) == PHT_OK && n == 3 &&
	    strcmp(files[0], a1) == 0 && strcmp(files[1], a2) == 0 && strcmp(files[2], lp) == 0,
	    "pht_audit_files lists the archives oldest first, then the log");
	r = pht_audit_verify_files((const char *const *)files, n, pub, &h1, &rep, &e);
	tap_ok(r == PHT_OK && rep.entries == 10, "three files, one chain, holding the head 5");
	set[0] = a2;
	set[1] = a1;
	set[2] = lp;
	pht_err_clear(&e);
	r = pht_audit_verify_files(set, 3, pub, NULL, &rep, &e);
	tap_ok(r == PHT_ERR_TAMPERED && strstr(e.msg, "does not continue") != NULL,
	    "files out of order: TAMPERED (%s)", e.msg);
	set[0] = a1;
	set[1] = lp;
	pht_err_clear(&e);
	r = pht_audit_verify_files(set, 2, pub, NULL, &rep, &e);
	tap_ok(r == PHT_ERR_TAMPERED && rep.fault == PHT_AUDIT_FAULT_SEQ,
	    "a missing middle file: TAMPERED, sequence gap (%s)", e.msg);
	bad = h1;
	bad.hash[0] = bad.hash[0] == 'a' ? 'b' : 'a';
	pht_err_clear(&e);
	r = pht_audit_verify_files((const char *const *)files, n, pub, &bad, &rep, &e);
	tap_ok(r == PHT_ERR_TAMPERED && rep.fault == PHT_AUDIT_FAULT_HEAD,
	    "a published head with another hash: TAMPERED (%s)", e.msg);
	bad.seq = 99;
	pht_err_clear(&e);
	r = pht_audit_verify_files((const char *const *)files, n, pub, &bad, &rep, &e);
	tap_ok(r == PHT_ERR_TAMPERED && strstr(e.msg, "published head is entry 99") != NULL,
	    "a head beyond the files: TAMPERED (%s)", e.msg);

	/* ---- export and offline verification ---- */
	path(bundle, sizeof(bundle), "bundle");
	memset(&spec, 0, sizeof(spec));
	spec.logs = (const char *const *)files;
	spec.nlogs = n;
	spec.station_pub = pub;
	spec.from = now - 3600;
	spec.to = now + 3600;
	snprintf(heads, sizeof(heads), "[{\"seq\":%llu,\"hash\":\"%s\"},{\"seq\":500,\"hash\":\"%s\"}]",
	    (unsigned long long)h1.seq, h1.hash, h1.hash);
	spec.heads_json = heads;
	spec.heads_len = strlen(heads);
	spec.out_dir = bundle;
	r = pht_audit_export(&spec, &count, &e);
	tap_ok(r == PHT_OK && count == 10, "export: 10 entries (%s)", r ? e.msg : "ok");
	r = pht_audit_bundle_verify(bundle, NULL, &br, &e);
	tap_ok(r == PHT_OK && br.entries == 10 && br.anchor.seq == 0 && br.head.seq == 10 &&
	    br.heads_checked == 1 && br.heads_outside == 1,
	    "the bundle verifies offline: 10 entries, node head 5 matched, head 500 outside");
	r = pht_audit_bundle_verify(bundle, pub, &br, &e);
	tap_ok(r == PHT_OK, "and with the station's key given");
	pht_err_clear(&e);
	r = pht_audit_bundle_verify(bundle, other, &br, &e);
	tap_ok(r == PHT_ERR_TAMPERED && strstr(e.msg, "not the key given") != NULL,
	    "with another station's key: TAMPERED (%s)", e.msg);
	tap_ok(sh("%s audit verify %s >/dev/null", pht(), bundle) == 0 &&
	    sh("%s audit verify --bundle %s --station-key %s >/dev/null", pht(), bundle, pp) == 0,
	    "pht audit verify BUNDLE: exit 0");
	tap_ok(pht_audit_export(&spec, &count, &e) == PHT_ERR_IO, "export never overwrites a bundle");
	/* a bundle of the later files: it continues from an anchor */
	path(b2, sizeof(b2), "bundle2");
	spec.logs = (const char *const *)files + 1;
	spec.nlogs = 2;
	spec.out_dir = b2;
	spec.heads_json = NULL;
	r = pht_audit_export(&spec, &count, &e);
	tap_ok(r == PHT_OK && count == 5, "export of the files after retention: 5 entries");
	r = pht_audit_bundle_verify(b2, pub, &br, &e);
	tap_ok(r == PHT_OK && br.anchor.seq == 5 && strcmp(br.anchor.hash, h1.hash) == 0,
	    "its anchor is entry 5 with its hash");
	spec.out_dir = bundle;
	spec.from = now + 7200;
	spec.to = now + 9000;
	path(b2, sizeof(b2), "bundle3");
	spec.out_dir = b2;
	pht_err_clear(&e);
	tap_ok(pht_audit_export(&spec, &count, &e) == PHT_ERR_NOT_FOUND && !exists(b2),
	    "an empty range: NOT_FOUND, nothing written (%s)", e.msg);
	spec.from = now - 3600;
	spec.heads_json = "{\"seq\":1}";
	spec.heads_len = strlen(spec.heads_json);
	pht_err_clear(&e);
	tap_ok(pht_audit_export(&spec, &count, &e) == PHT_ERR_MALFORMED &&
	    strstr(e.msg, "node heads") != NULL, "malformed node heads refused (%s)", e.msg);
	/* tampering */
	snprintf(b2, sizeof(b2), "%s/entries.log", bundle);
	flip_byte(b2, 200);
	pht_err_clear(&e);
	r = pht_audit_bundle_verify(bundle, NULL, &br, &e);
	tap_ok(r == PHT_ERR_TAMPERED && strstr(e.msg, "SHA-256") != NULL,
	    "one changed byte in entries.log: TAMPERED (%s)", e.msg);
	tap_ok(sh("%s audit verify %s >/dev/null 2>&1", pht(), bundle) == 1,
	    "pht audit verify BUNDLE: exit 1");
	flip_byte(b2, 200);
	snprintf(b2, sizeof(b2), "%s/bundle.json", bundle);
	{
		char cmd[1400];
		snprintf(cmd, sizeof(cmd), "sed -i 's/\"last_seq\": 10/\"last_seq\": 9/; "
		    "s/\"entries\": 10/\"entries\": 9/' %s", b2);
		tap_ok(system(cmd) == 0, "edit bundle.json's range");
	}
	pht_err_clear(&e);
	r = pht_audit_bundle_verify(bundle, NULL, &br, &e);
	tap_ok(r == PHT_ERR_TAMPERED && strstr(e.msg, "bundle.json says") != NULL,
	    "a range that hides an entry: TAMPERED (%s)", e.msg);

	/* ---- retention ---- */
	pht_err_clear(&e);
	r = pht_audit_retention_check(a1, 5, now, &e);
	tap_ok(r == PHT_ERR_DENIED && strstr(e.msg, "younger than the retention period of 5 "
	    "years") != NULL, "retention: a file with entries of today is kept (%s)", e.msg);
	set[0] = a1;
	pht_err_clear(&e);
	r = pht_audit_prune(lp, 5, now, set, 1, 0, key, &removed, &e);
	tap_ok(r == PHT_ERR_DENIED && exists(a1) && removed == 0,
	    "prune of a young archive is refused and it stays (%s)", e.msg);
	r = pht_audit_prune(lp, 5, now, NULL, 0, 0, key, &removed, &e);
	tap_ok(r == PHT_OK && removed == 0 && exists(a1) && exists(a2),
	    "prune of everything: nothing is old enough");
	r = pht_audit_prune(lp, 5, now + 4 * 366 * 86400LL, NULL, 0, 0, key, &removed, &e);
	tap_ok(r == PHT_OK && removed == 0 && exists(a1), "four years on: still kept");
	set[0] = a2;
	pht_err_clear(&e);
	r = pht_audit_prune(lp, 5, now + 6 * 366 * 86400LL, set, 1, 0, key, &removed, &e);
	tap_ok(r == PHT_ERR_DENIED && strstr(e.msg, "break the chain") != NULL && exists(a2),
	    "pruning a later archive while an older stays: refused (%s)", e.msg);
	set[0] = lp;
	pht_err_clear(&e);
	r = pht_audit_prune(lp, 5, now + 6 * 366 * 86400LL, set, 1, 0, key, &removed, &e);
	tap_ok(r == PHT_ERR_INVALID && exists(lp), "the live log is never pruned (%s)", e.msg);
	r = pht_audit_prune(lp, 5, now + 6 * 366 * 86400LL, NULL, 0, 1, key, &removed, &e);
	tap_ok(r == PHT_OK && removed == 2 && exists(a1), "dry run six years on: would remove 2");
	/* the CLI with a config: retention from the config */
	path(cfg, sizeof(cfg), "station.json");
	{
		FILE *f = fopen(cfg, "w");
		fprintf(f, "{\"station\":\"s\",\"datasets\":{\"r\":{\"csv\":\"r.csv\"}},"
		    "\"signers\":[],\"audit_log\":\"audit.log\",\"key\":\"st.sign.key\","
		    "\"seen_ids\":\"seen\",\"retention_years\":1}");
		fclose(f);
	}
	tap_ok(sh("%s audit prune --config %s %s >/dev/null 2>&1", pht(), cfg, a1) == 1 && exists(a1),
	    "pht audit prune ARCHIVE: refused with exit 1, the file stays");
	tap_ok(sh("%s audit rotate --config %s >/dev/null", pht(), cfg) == 0,
	    "pht audit rotate --config");
	{
		char cmd[2000];
		int st;
		snprintf(cmd, sizeof(cmd), "%s audit verify %s/audit.log.0* %s/audit.log "
		    "--station-key %s >/dev/null", getenv("PHT") ? getenv("PHT") : "pht",
		    dir, dir, pp);
		st = system(cmd);
		tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "pht audit verify ARCHIVES... LOG: exit 0");
	}
	pht_audit_files_free(files);
	tap_ok(pht_audit_files(lp, &files, &n, &e) == PHT_OK && n == 4,
	    "now three archives and the log");
	r = pht_audit_verify_files((const char *const *)files, n, pub, NULL, &rep, &e);
	tap_ok(r == PHT_OK && rep.entries == 11 && rep.head.seq == 11,
	    "the chain still verifies across four files (11 entries)");
	/* six years on: the archives go, the deletion is logged, the rest verifies */
	r = pht_audit_prune(lp, 5, now + 6 * 366 * 86400LL, NULL, 0, 0, key, &removed, &e);
	tap_ok(r == PHT_OK && removed == 3 && !exists(a1) && !exists(a2) && exists(lp),
	    "six years on: the three archives are pruned, the live log stays");
	{
		FILE *f = fopen(lp, "r");
		char line[4096], last[4096] = "";
		while (f != NULL && fgets(line, sizeof(line), f) != NULL)
			snprintf(last, sizeof(last), "%s", line);
		if (f != NULL)
			fclose(f);
		tap_ok(strstr(last, "\"event\":\"pruned\"") != NULL &&
		    strstr(last, "audit.log.000000000005") != NULL &&
		    strstr(last, "\"retention_years\":5") != NULL,
		    "a signed pruned entry names the files removed");
	}
	r = pht_audit_verify(lp, pub, NULL, &rep, &e);
	tap_ok(r == PHT_OK && rep.start.seq == 10 && rep.head.seq == 12,
	    "the live log still verifies, continuing from entry 10 (the last archived)");
	pht_audit_close(log);
	pht_audit_close(writer);
	pht_audit_files_free(files);
	free(a1);
	free(a2);
	pht_key_free(key);
	pht_key_free(pub);
	pht_key_free(other);
	if (tap_failed_ == 0) {
		/* keep the directory for inspection when something failed */
		char rm[1200];
		snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
		if (system(rm) != 0)
			tap_diag("could not remove %s", dir);
	} else {
		tap_diag("left %s for inspection", dir);
	}
	return tap_done();
}
