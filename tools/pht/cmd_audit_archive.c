/* cmd_audit_archive.c — pht audit export|rotate|prune, and verify of a bundle or of rotated files. */
#include "pht_cli.h"
#include "cmd_audit_archive.h"

#include "pht_audit.h"
#include "pht_audit_archive.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_key.h"
#include "pht_station_config.h"
#include "pht_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILES 4096
#define HEADS_FILE_MAX ((size_t)4 << 20)

/* Options shared by the subcommands; files are the positional arguments and --log values. */
struct opts {
	const char *files[MAX_FILES];
	size_t nfiles;
	const char *config, *station_key, *from, *to, *head_file, *out, *bundle, *head;
	int dry_run;
	int data_detail;
};

static int
parse(const char *cmd, int argc, char **argv, struct opts *o)
{
	enum { A_CONFIG, A_KEY, A_FROM, A_TO, A_HEADFILE, A_OUT, A_BUNDLE, A_HEAD,
	    A_DRY, A_DETAIL, A_LOG, A_N };
	static const struct pht_cli_opt table[A_N] = {
		PHT_CLI_OPT("config"), PHT_CLI_OPT("station-key"), PHT_CLI_OPT("from"),
		PHT_CLI_OPT("to"), PHT_CLI_OPT("head-file"), PHT_CLI_OPT("out"),
		PHT_CLI_OPT("bundle"), PHT_CLI_OPT("head"), PHT_CLI_OPT_FLAG("dry-run"),
		PHT_CLI_OPT_FLAG("with-data-detail"), PHT_CLI_OPT_POS("log"),
	};
	struct pht_cli_opt *t;
	int r;

	memset(o, 0, sizeof(*o));
	if ((t = malloc(sizeof(table))) == NULL)
		return PHT_EXIT_FAIL;
	memcpy(t, table, sizeof(table));
	r = pht_cli_opt_parse(cmd, argc, argv, 2, t, A_N, o->files, MAX_FILES, &o->nfiles);
	o->config = pht_cli_opt_val(&t[A_CONFIG]);
	o->station_key = pht_cli_opt_val(&t[A_KEY]);
	o->from = pht_cli_opt_val(&t[A_FROM]);
	o->to = pht_cli_opt_val(&t[A_TO]);
	o->head_file = pht_cli_opt_val(&t[A_HEADFILE]);
	o->out = pht_cli_opt_val(&t[A_OUT]);
	o->bundle = pht_cli_opt_val(&t[A_BUNDLE]);
	o->head = pht_cli_opt_val(&t[A_HEAD]);
	o->dry_run = t[A_DRY].n > 0;
	o->data_detail = t[A_DETAIL].n > 0;
	free(t); /* the values point into argv */
	return r;
}

/* "YYYY-MM-DD" (the day's first or last second) or "YYYY-MM-DDTHH:MM:SSZ". */
static int
parse_date(const char *s, int end_of_day, int64_t *t)
{
	unsigned y, m, d;
	char tail;

	if (pht_time_parse(s, t) == PHT_OK)
		return 0;
	if (strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 ||
	    s[4] != '-' || s[7] != '-' || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	*t = pht_days_from_civil(y, m, d) * 86400 + (end_of_day ? 86399 : 0);
	return 0;
}

/*
 * The station's log files and key: from --config (the audit log, its
 * archives, the station's key) or from the files given and --station-key.
 * *files is allocated when taken from the config.
 */
static int
log_and_key(const char *cmd, struct opts *o, char ***files, int need_private,
    struct pht_key **key, struct pht_station_config **cfgp)
{
	struct pht_station_config *cfg = NULL;
	struct pht_err e;
	size_t n;
	int r;

	*files = NULL;
	*key = NULL;
	pht_err_clear(&e);
	if (o->config != NULL) {
		if ((r = pht_station_config_load(o->config, &cfg, &e)) != PHT_OK ||
		    (r = pht_audit_files(pht_station_config_audit_log(cfg), files, &n,
		    &e)) != PHT_OK ||
		    (r = pht_key_load_as(o->station_key != NULL ? o->station_key :
		    pht_station_config_key(cfg), PHT_KEY_SIGN, need_private, key,
		    &e)) != PHT_OK) {
			pht_cli_error(cmd, &e);
			pht_station_config_free(cfg);
			pht_audit_files_free(*files);
			*files = NULL;
			return pht_cli_exit_for(r);
		}
		if (o->nfiles == 0) {
			for (n = 0; (*files)[n] != NULL && n < MAX_FILES; n++)
				o->files[n] = (*files)[n];
			o->nfiles = n;
		}
		if (cfgp != NULL)
			*cfgp = cfg;
		else
			pht_station_config_free(cfg);
		return 0;
	}
	if (o->station_key == NULL)
		return pht_cli_usage_error(cmd, "give --config STATION.json, or the log "
		    "files and --station-key");
	if ((r = pht_key_load_as(o->station_key, PHT_KEY_SIGN, need_private, key,
	    &e)) != PHT_OK) {
		pht_cli_error(cmd, &e);
		return pht_cli_exit_for(r);
	}
	return 0;
}

int
pht_cmd_audit_export(int argc, char **argv)
{
	struct pht_audit_export_spec spec;
	struct pht_key *key = NULL;
	struct pht_buf *heads = NULL;
	struct pht_err e;
	struct opts o;
	char **cfiles = NULL;
	uint64_t count = 0;
	int r, rc;

	if ((rc = parse("audit export", argc, argv, &o)) != 0)
		return rc;
	memset(&spec, 0, sizeof(spec));
	if (o.out == NULL || o.from == NULL || o.to == NULL)
		return pht_cli_usage_error("audit export", "give --from DATE --to DATE "
		    "--out BUNDLE");
	if (parse_date(o.from, 0, &spec.from) != 0 || parse_date(o.to, 1, &spec.to) != 0)
		return pht_cli_usage_error("audit export", "dates are YYYY-MM-DD or "
		    "YYYY-MM-DDTHH:MM:SSZ");
	if ((rc = log_and_key("audit export", &o, &cfiles, 0, &key, NULL)) != 0)
		return rc;
	if (o.nfiles == 0) {
		rc = pht_cli_usage_error("audit export", "give --log LOG (oldest first)");
		goto out;
	}
	pht_err_clear(&e);
	if (o.head_file != NULL &&
	    (r = pht_file_read(o.head_file, HEADS_FILE_MAX, &heads, &e)) != PHT_OK) {
		pht_cli_error("audit export", &e);
		rc = pht_cli_exit_for(r);
		goto out;
	}
	spec.logs = o.files;
	spec.nlogs = o.nfiles;
	spec.station_pub = key;
	spec.heads_json = heads != NULL ? pht_buf_str(heads) : NULL;
	spec.heads_len = heads != NULL ? pht_buf_len(heads) : 0;
	spec.out_dir = o.out;
	spec.data_detail = o.data_detail;
	if ((r = pht_audit_export(&spec, &count, &e)) != PHT_OK) {
		pht_cli_error("audit export", &e);
		rc = r == PHT_ERR_TAMPERED || r == PHT_ERR_NOT_FOUND ? PHT_EXIT_FAIL :
		    pht_cli_exit_for(r);
		goto out;
	}
	printf("%s: %" PRIu64 " entries exported\n", o.out, count);
	rc = PHT_EXIT_OK;
out:
	pht_buf_free(heads);
	pht_key_free(key);
	pht_audit_files_free(cfiles);
	return rc;
}

int
pht_cmd_audit_verify_is_set(int argc, char **argv)
{
	struct stat st;
	int i, npos = 0;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--bundle") == 0)
			return 1;
		if (strncmp(argv[i], "--", 2) == 0) {
			i++;
			continue;
		}
		npos++;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			return 1;
	}
	return npos > 1;
}

int
pht_cmd_audit_verify_set(int argc, char **argv)
{
	struct pht_audit_bundle_report br;
	struct pht_audit_report rep;
	struct pht_audit_head want;
	struct pht_key *pub = NULL;
	struct pht_err e;
	struct opts o;
	struct stat st;
	const char *bundle;
	int r, rc;

	if ((rc = parse("audit verify", argc, argv, &o)) != 0)
		return rc;
	pht_err_clear(&e);
	bundle = o.bundle;
	if (bundle == NULL && o.nfiles == 1 && stat(o.files[0], &st) == 0 &&
	    S_ISDIR(st.st_mode))
		bundle = o.files[0];
	if (o.station_key != NULL &&
	    (r = pht_key_load_as(o.station_key, PHT_KEY_SIGN, 0, &pub, &e)) != PHT_OK) {
		pht_cli_error("audit verify", &e);
		return pht_cli_exit_for(r);
	}
	if (bundle != NULL) {
		r = pht_audit_bundle_verify(bundle, pub, &br, &e);
		pht_key_free(pub);
		if (r != PHT_OK) {
			printf("%s: BROKEN\n", bundle);
			pht_cli_error("audit verify", &e);
			return r == PHT_ERR_TAMPERED ? PHT_EXIT_FAIL : pht_cli_exit_for(r);
		}
		printf("%s: OK, %" PRIu64 " entries (%" PRIu64 " to %" PRIu64 ") continuing "
		    "from entry %" PRIu64 " %s; station key %s%s; node heads: %zu matched, "
		    "%zu outside the range; %" PRIu64 " left out (data-dependent detail, "
		    "hash and signature only)\n", bundle, br.entries, br.anchor.seq + 1,
		    br.head.seq, br.anchor.seq, br.anchor.hash, br.station_fp,
		    o.station_key != NULL ? " (the key given)" : " (compare it with the "
		    "station's published key)", br.heads_checked, br.heads_outside,
		    br.left_out);
		return PHT_EXIT_OK;
	}
	if (pub == NULL)
		return pht_cli_usage_error("audit verify", "give --station-key PUB");
	if (o.head != NULL) {
		const char *colon = strchr(o.head, ':');
		char *end;
		want.seq = strtoull(o.head, &end, 10);
		if (colon == NULL || end != colon || strlen(colon + 1) != PHT_AUDIT_HASH_HEX) {
			pht_key_free(pub);
			return pht_cli_usage_error("audit verify", "--head: not SEQ:HASH");
		}
		memcpy(want.hash, colon + 1, PHT_AUDIT_HASH_HEX + 1);
	}
	r = pht_audit_verify_files(o.files, o.nfiles, pub, o.head != NULL ? &want : NULL,
	    &rep, &e);
	pht_key_free(pub);
	if (r != PHT_OK) {
		printf("%zu files: BROKEN (%s); %" PRIu64 " entries verified before it\n",
		    o.nfiles, pht_audit_fault_name(rep.fault), rep.entries);
		pht_cli_error("audit verify", &e);
		return r == PHT_ERR_TAMPERED ? PHT_EXIT_FAIL : pht_cli_exit_for(r);
	}
	printf("%zu files: OK, %" PRIu64 " entries, from entry %" PRIu64 " to head %"
	    PRIu64 " %s\n", o.nfiles, rep.entries, rep.start.seq + 1, rep.head.seq,
	    rep.head.hash);
	return PHT_EXIT_OK;
}

int
pht_cmd_audit_rotate(int argc, char **argv)
{
	struct pht_key *key = NULL;
	struct pht_err e;
	struct opts o;
	char **cfiles = NULL, *archived = NULL;
	const char *log;
	int r, rc;

	if ((rc = parse("audit rotate", argc, argv, &o)) != 0)
		return rc;
	if ((rc = log_and_key("audit rotate", &o, &cfiles, 1, &key, NULL)) != 0)
		return rc;
	if (o.nfiles == 0) {
		pht_key_free(key);
		return pht_cli_usage_error("audit rotate", "give LOG or --config");
	}
	log = cfiles != NULL ? o.files[o.nfiles - 1] : o.files[0];
	pht_err_clear(&e);
	if ((r = pht_audit_rotate(log, key, &archived, &e)) != PHT_OK) {
		pht_cli_error("audit rotate", &e);
		rc = r == PHT_ERR_TAMPERED ? PHT_EXIT_FAIL : pht_cli_exit_for(r);
	} else {
		printf("%s: closed as %s; the new file continues the chain\n", log, archived);
		rc = PHT_EXIT_OK;
	}
	free(archived);
	pht_key_free(key);
	pht_audit_files_free(cfiles);
	return rc;
}

int
pht_cmd_audit_prune(int argc, char **argv)
{
	struct pht_station_config *cfg = NULL;
	struct pht_err e;
	struct opts o;
	struct pht_key *key = NULL;
	size_t removed = 0;
	int r, rc;

	if ((rc = parse("audit prune", argc, argv, &o)) != 0)
		return rc;
	if (o.config == NULL)
		return pht_cli_usage_error("audit prune", "give --config STATION.json");
	pht_err_clear(&e);
	if ((r = pht_station_config_load(o.config, &cfg, &e)) != PHT_OK) {
		pht_cli_error("audit prune", &e);
		return pht_cli_exit_for(r);
	}
	if (!o.dry_run && (r = pht_key_load_as(pht_station_config_key(cfg), PHT_KEY_SIGN,
	    1, &key, &e)) != PHT_OK) {
		pht_cli_error("audit prune", &e);
		pht_station_config_free(cfg);
		return pht_cli_exit_for(r);
	}
	r = pht_audit_prune(pht_station_config_audit_log(cfg),
	    pht_station_config_retention_years(cfg), pht_time_now(),
	    o.nfiles > 0 ? o.files : NULL, o.nfiles, o.dry_run, key, &removed, &e);
	if (r != PHT_OK) {
		pht_cli_error("audit prune", &e);
		rc = r == PHT_ERR_DENIED || r == PHT_ERR_TAMPERED ? PHT_EXIT_FAIL :
		    pht_cli_exit_for(r);
	} else {
		printf("%s%zu archive%s of %s past the retention period of %d years\n",
		    o.dry_run ? "would remove " : "removed ", removed, removed == 1 ? "" : "s",
		    pht_station_config_audit_log(cfg), pht_station_config_retention_years(cfg));
		rc = PHT_EXIT_OK;
	}
	pht_key_free(key);
	pht_station_config_free(cfg);
	return rc;
}
