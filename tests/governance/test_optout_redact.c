/* test_optout_redact.c — opt-outs change no released number; what analysts are told holds no data value, the audit log keeps the detail. */
#include "tap.h"
#include "train_envelope.h"

#include "pht_audit.h"
#include "pht_audit_archive.h"
#include "pht_dataset.h"
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_key.h"
#include "pht_station_config.h"
#include "pht_station_exec.h"
#include "pht_station_optout.h"
#include "pht_station_redact.h"
#include "pht_time.h"
#include "pht_trainmsg.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NROWS 24
#define SENTINEL_NUM "987654.321"
#define SENTINEL_LEVEL "QXZsentinelLevel"

static char dir[] = "/tmp/pht-gov-XXXXXX";

static const char *dict_text =
    "{\"dataset\":\"cohort\",\"description\":\"test cohort\",\"columns\":["
    "{\"name\":\"pid\",\"type\":\"integer\"},"
    "{\"name\":\"age\",\"type\":\"number\",\"unit\":\"years\"},"
    "{\"name\":\"sex\",\"type\":\"category\",\"levels\":[\"F\",\"M\"]},"
    "{\"name\":\"site\",\"type\":\"category\",\"levels\":[\"north\",\"" SENTINEL_LEVEL "\"]},"
    "{\"name\":\"consent_research\",\"type\":\"category\",\"levels\":[\"yes\",\"no\"]}]}";

/*
 * Row i of the cohort: pid 700001+i; consent "no" for rows 3 and 17; age
 * missing in rows 2, 12 (opted out by pseudonym), 14 and 16, so that
 * removing rows must also move the missing-value bitmap. At least k = 3
 * ages stay missing under every opt-out: with fewer, the row count and the
 * count of ages together would determine a group smaller than k, and the
 * release auditor would rightly withhold the stats train.
 */
static void
row(int i, char *out, size_t n)
{
	double age = 40.25 + (double)((i * 37) % 29) + (i == 9 ? 0 : 0);

	snprintf(out, n, "%d,%s,%s,%s,%s\n", 700001 + i,
	    i == 9 ? SENTINEL_NUM : "", i % 2 ? "M" : "F",
	    i == 11 ? SENTINEL_LEVEL : "north", i == 3 || i == 17 ? "no" : "yes");
	if (i == 2 || i == 12 || i == 14 || i == 16)
		snprintf(out, n, "%d,,%s,%s,%s\n", 700001 + i, i % 2 ? "M" : "F",
		    i == 11 ? SENTINEL_LEVEL : "north", i == 3 || i == 17 ? "no" : "yes");
	else if (i != 9)
		snprintf(out, n, "%d,%.2f,%s,%s,%s\n", 700001 + i, age, i % 2 ? "M" : "F",
		    i == 11 ? SENTINEL_LEVEL : "north", i == 3 || i == 17 ? "no" : "yes");
}

/* Writes the cohort CSV leaving out the rows whose bit is set in skip. */
static void
write_csv(const char *name, unsigned long skip, const char *extra)
{
	char path[1200], line[256];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs("pid,age,sex,site,consent_research\n", f);
	for (i = 0; i < NROWS; i++) {
		if (skip & (1ul << i))
			continue;
		row(i, line, sizeof(line));
		fputs(line, f);
	}
	if (extra != NULL)
		fputs(extra, f);
	fclose(f);
}

static void
write_file(const char *name, const char *text)
{
	char path[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

static char *
read_all(const char *name)
{
	char path[1200], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static void
file_sha256(const char *name, char out[65])
{
	char *t = read_all(name);
	uint8_t md[32];
	unsigned int ml = 0;
	int i;

	EVP_Digest(t, strlen(t), md, &ml, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	free(t);
}

static char *
envelope(const char *code, const char *params, const char *ds, size_t *len)
{
	char path[1200];

	snprintf(path, sizeof(path), "%s/analyst.sign.key", dir);
	return test_train_envelope(path, code, params, ds, "st-a", 0, 3600, len);
}

static struct pht_station *
open_station(const char *datasets, const char *policy)
{
	struct pht_station_config *cfg = NULL;
	struct pht_station *st = NULL;
	struct pht_err e;
	char text[8192];

	snprintf(text, sizeof(text),
	    "{\"station\":\"st-a\",\"datasets\":%s,"
	    "\"signers\":[{\"name\":\"analyst\",\"key\":\"analyst.sign.pub\",\"mode\":\"auto\"}],"
	    "\"policy\":%s,\"audit_log\":\"audit.log\",\"key\":\"st-a.sign.key\","
	    "\"seen_ids\":\"seen-ids\"}", datasets, policy);
	if (pht_station_config_parse(text, strlen(text), "test.json", dir, &cfg, &e) != PHT_OK ||
	    pht_station_open(cfg, &st, &e) != PHT_OK) {
		tap_diag("station: %s", e.msg);
		return NULL;
	}
	return st;
}

/* The run's released output as compact sorted JSON (caller frees), or NULL. */
static char *
run(struct pht_station *st, const char *code, const char *params, const char *ds,
    struct pht_station_result *res, struct pht_err *e)
{
	size_t len;
	char *env = envelope(code, params, ds, &len), *out = NULL;
	int r;

	pht_err_clear(e);
	r = pht_station_exec(st, env, len, res, e);
	free(env);
	if (r == PHT_OK && res->outcome == PHT_STATION_RELEASED)
		out = pht_json_dump(res->output);
	return out;
}

static const char *stats_code =
    "return { name = 'stats', version = '1',\n"
    "  station = function(data, params)\n"
    "    local a = data:column('age')\n"
    "    local out = { n = data:nrows(), nage = a:count(), sum = a:sum(), sumsq = a:sumsq(),\n"
    "      groups = {} }\n"
    "    for _, g in ipairs(data:group_by('sex')) do\n"
    "      out.groups[#out.groups + 1] = { n = g.n, nage = g.data:column('age'):count(),\n"
    "        sum = g.data:column('age'):sum() }\n"
    "    end\n"
    "    return out\n"
    "  end,\n"
    "  combine = function(r) return { done = true, result = r[1] } end }\n";

/* The last logged entry with event ev (new reference) or NULL. */
struct find {
	const char *ev;
	json_t *e;
};

static int
find_fn(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	struct find *f = arg;

	(void)line;
	(void)hash;
	if (strcmp(json_string_value(json_object_get(entry, "event")), f->ev) == 0) {
		json_decref(f->e);
		f->e = json_incref((json_t *)entry);
	}
	return 0;
}

static json_t *
last_entry(const char *ev)
{
	struct find f = {ev, NULL};
	char path[1200];

	snprintf(path, sizeof(path), "%s/audit.log", dir);
	pht_audit_foreach(path, find_fn, &f, NULL);
	return f.e;
}

static void
test_optout(void)
{
	struct pht_station *st;
	struct pht_station_result res;
	struct pht_err e;
	char dsj[4096], sha[65], *with, *deleted, *plain, *consent, *deleted2, *log;
	char first_train[129], logp[1200];
	struct pht_station_replay rp;
	json_t *x;

	/* rows 5 and 12 opted out by pseudonym (700006, 700013); 999 is nobody */
	write_file("optout.txt", "700006\n\n700013\r\n999\nnot-a-number\n");
	write_csv("cohort.csv", 0, NULL);
	write_csv("cohort-deleted.csv", (1ul << 5) | (1ul << 12), NULL);
	write_csv("cohort-noconsent.csv", (1ul << 3) | (1ul << 17), NULL);
	snprintf(dsj, sizeof(dsj), "{"
	    "\"with\":{\"csv\":\"cohort.csv\",\"dict\":\"cohort.dict.json\","
	    "\"opt_out\":{\"file\":\"optout.txt\",\"column\":\"pid\"}},"
	    "\"plain\":{\"csv\":\"cohort.csv\",\"dict\":\"cohort.dict.json\"},"
	    "\"deleted\":{\"csv\":\"cohort-deleted.csv\",\"dict\":\"cohort.dict.json\"},"
	    "\"consent\":{\"csv\":\"cohort.csv\",\"dict\":\"cohort.dict.json\","
	    "\"opt_out\":{\"column\":\"consent_research\",\"value\":\"no\"}},"
	    "\"deleted2\":{\"csv\":\"cohort-noconsent.csv\",\"dict\":\"cohort.dict.json\"}}");
	if ((st = open_station(dsj, "{\"k\":3}")) == NULL) {
		tap_ok(0, "open the opt-out station");
		return;
	}
	with = run(st, stats_code, "{}", "with", &res, &e);
	snprintf(first_train, sizeof(first_train), "%s", res.train);
	pht_station_result_clear(&res);
	x = last_entry("executed");
	file_sha256("optout.txt", sha);
	tap_ok(x != NULL && json_integer_value(json_object_get(x, "opt_out_excluded")) == 2 &&
	    strcmp(json_string_value(json_object_get(x, "opt_out_sha256")), sha) == 0,
	    "executed entry: 2 rows excluded, the opt-out file's hash");
	file_sha256("cohort.csv", sha);
	tap_ok(x != NULL && strcmp(json_string_value(json_object_get(x, "csv_sha256")), sha) == 0,
	    "executed entry keeps the hash of the original data file");
	json_decref(x);
	deleted = run(st, stats_code, "{}", "deleted", &res, &e);
	pht_station_result_clear(&res);
	plain = run(st, stats_code, "{}", "plain", &res, &e);
	pht_station_result_clear(&res);
	tap_ok(with != NULL && deleted != NULL && strcmp(with, deleted) == 0,
	    "pseudonym opt-out: released output equals the run on the CSV with the rows "
	    "deleted (%s)", with ? with : "none");
	tap_ok(with != NULL && plain != NULL && strcmp(with, plain) != 0,
	    "and differs from the run without the opt-out");
	consent = run(st, stats_code, "{}", "consent", &res, &e);
	pht_station_result_clear(&res);
	deleted2 = run(st, stats_code, "{}", "deleted2", &res, &e);
	pht_station_result_clear(&res);
	tap_ok(consent != NULL && deleted2 != NULL && strcmp(consent, deleted2) == 0 &&
	    strcmp(consent, plain) != 0,
	    "column opt-out (consent_research = no): equals the deleted CSV, differs from none");
	x = last_entry("executed");
	json_decref(x);
	log = read_all("audit.log");
	tap_ok(strstr(log, "700006") == NULL && strstr(log, "700013") == NULL,
	    "the audit log never names who opted out");
	free(log);
	/* the replay applies the same opt-out */
	snprintf(logp, sizeof(logp), "%s/audit.log", dir);
	memset(&rp, 0, sizeof(rp));
	tap_ok(pht_station_replay(pht_station_config(st), logp, first_train, stats_code,
	    strlen(stats_code), &rp, &e) == PHT_OK && rp.matches && !rp.data_changed,
	    "replay with the same opt-out list: MATCH, data unchanged");
	pht_station_replay_clear(&rp);
	/* a patient opts out while the station runs: the list changes, the cache reloads */
	write_file("optout.txt", "700006\n700013\n700001\n");
	tap_ok(pht_station_replay(pht_station_config(st), logp, first_train, stats_code,
	    strlen(stats_code), &rp, &e) == PHT_OK && rp.data_changed && !rp.matches,
	    "replay after the list changed: data changed (the opt-out list), no match");
	pht_station_replay_clear(&rp);
	free(with);
	with = run(st, stats_code, "{}", "with", &res, &e);
	pht_station_result_clear(&res);
	x = last_entry("executed");
	/* (the output itself may be refused: it differs from an earlier release
	 * by one patient, which the differencing guard catches) */
	tap_ok(x != NULL && json_integer_value(json_object_get(x, "opt_out_excluded")) == 3 &&
	    (with == NULL || strcmp(with, deleted) != 0),
	    "a changed opt-out list is applied at the next run (3 excluded)");
	if (x == NULL || json_integer_value(json_object_get(x, "opt_out_excluded")) != 3)
		tap_diag("excluded %lld, output %s, %s", x ? (long long)json_integer_value(
		    json_object_get(x, "opt_out_excluded")) : -1LL, with ? with : "none", e.msg);
	json_decref(x);
	free(with);
	free(deleted);
	free(plain);
	free(consent);
	free(deleted2);
	pht_station_close(st);
	unlink("optout.txt");
}

static void
test_optout_errors(void)
{
	struct pht_station_config *cfg = NULL;
	struct pht_dataset *ds = NULL;
	struct pht_err e;
	char text[2048], path[1200], dpath[1200];
	const struct pht_station_dataset *d;
	static const struct {
		const char *spec, *want;
	} bad[] = {
		{"[]", "datasets.r.opt_out: not an object"},
		{"{\"file\":\"x\"}", "datasets.r.opt_out.column: missing"},
		{"{\"column\":\"pid\"}", "give either file"},
		{"{\"column\":\"pid\",\"file\":\"x\",\"value\":\"1\"}", "give either file"},
		{"{\"column\":\"pid\",\"who\":1}", "datasets.r.opt_out.who: unknown field"},
		{"{\"column\":\"\",\"value\":\"1\"}", "datasets.r.opt_out.column: not a non-empty"},
		{"{\"column\":\"pid\",\"value\":3}", "datasets.r.opt_out.value: not a non-empty"},
	};
	size_t i;
	int r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{\"station\":\"s\",\"datasets\":{\"r\":{\"csv\":"
		    "\"cohort.csv\",\"opt_out\":%s}},\"signers\":[],\"audit_log\":\"a\","
		    "\"key\":\"k\",\"seen_ids\":\"s\"}", bad[i].spec);
		pht_err_clear(&e);
		r = pht_station_config_parse(text, strlen(text), "st.json", dir, &cfg, &e);
		tap_ok(r == PHT_ERR_MALFORMED && cfg == NULL && strstr(e.msg, bad[i].want) != NULL &&
		    strncmp(e.msg, "st.json: ", 9) == 0, "config opt_out %s refused: %s",
		    bad[i].spec, e.msg);
	}
	/* the other governance fields of the config */
	{
		static const struct {
			const char *extra, *want;
		} bad2[] = {
			{"\"retention_years\":0", "st.json: retention_years: not a positive integer (1 to 100)"},
			{"\"retention_years\":101", "retention_years: not a positive integer"},
			{"\"audit_rotate_kb\":-1", "audit_rotate_kb: not a positive integer"},
			{"\"catalog\":[]", "st.json: catalog: not an object"},
			{"\"catalog\":{\"owner\":\"x\"}", "catalog.owner: unknown field"},
			{"\"catalog\":{\"title\":\"\"}", "catalog.title: not a non-empty string"},
			{"\"catalog\":{\"contact\":{\"email\":\"nobody\"}}", "catalog.contact.email: not an e-mail address"},
			{"\"catalog\":{\"legislation\":[\"GDPR\"]}", "catalog.legislation: entries must be http(s) or urn: URIs"},
			{"\"catalog\":{\"datasets\":{\"zz\":{}}}", "catalog.datasets.zz: not a dataset of this station"},
			{"\"catalog\":{\"datasets\":{\"r\":{\"coding\":{\"pid\":\"icd\"}}}}", "catalog.datasets.r.coding.pid: not an http(s) or urn: URI"},
		};
		for (i = 0; i < sizeof(bad2) / sizeof(bad2[0]); i++) {
			snprintf(text, sizeof(text), "{\"station\":\"s\",\"datasets\":{\"r\":{\"csv\":"
			    "\"cohort.csv\"}},\"signers\":[],\"audit_log\":\"a\",\"key\":\"k\","
			    "\"seen_ids\":\"s\",%s}", bad2[i].extra);
			pht_err_clear(&e);
			r = pht_station_config_parse(text, strlen(text), "st.json", dir, &cfg, &e);
			tap_ok(r == PHT_ERR_MALFORMED && cfg == NULL && strstr(e.msg, bad2[i].want) != NULL,
			    "config %s refused: %s", bad2[i].extra, e.msg);
		}
		snprintf(text, sizeof(text), "{\"station\":\"s\",\"datasets\":{\"r\":{\"csv\":"
		    "\"cohort.csv\"}},\"signers\":[],\"audit_log\":\"a\",\"key\":\"k\","
		    "\"seen_ids\":\"s\"}");
		tap_ok(pht_station_config_parse(text, strlen(text), "st.json", dir, &cfg, &e) ==
		    PHT_OK && pht_station_config_retention_years(cfg) == 5 &&
		    pht_station_config_audit_rotate_bytes(cfg) == 0 &&
		    pht_station_config_catalog(cfg) == NULL,
		    "defaults: retention 5 years, no automatic rotation, no catalog section");
		pht_station_config_free(cfg);
		cfg = NULL;
	}
	/* a column that is not in the dataset; a missing list */
	snprintf(text, sizeof(text), "{\"station\":\"s\",\"datasets\":{"
	    "\"a\":{\"csv\":\"cohort.csv\",\"opt_out\":{\"column\":\"nhs\",\"value\":\"1\"}},"
	    "\"b\":{\"csv\":\"cohort.csv\",\"opt_out\":{\"column\":\"pid\",\"file\":\"gone.txt\"}}},"
	    "\"signers\":[],\"audit_log\":\"a\",\"key\":\"k\",\"seen_ids\":\"s\"}");
	write_file("cohort.dict.json", dict_text);
	tap_ok(pht_station_config_parse(text, strlen(text), "st.json", dir, &cfg, &e) == PHT_OK,
	    "config with opt-outs parses");
	d = pht_station_config_find_dataset(cfg, "a");
	pht_err_clear(&e);
	tap_ok(pht_station_dataset_load(d, &ds, NULL, &e) == PHT_ERR_INVALID && ds == NULL &&
	    strstr(e.msg, "opt-out: column nhs is not in the dataset") != NULL,
	    "opt-out on an unknown column: INVALID (%s)", e.msg);
	d = pht_station_config_find_dataset(cfg, "b");
	pht_err_clear(&e);
	tap_ok(pht_station_dataset_load(d, &ds, NULL, &e) == PHT_ERR_IO && ds == NULL &&
	    strstr(e.msg, "opt-out list") != NULL && strstr(e.msg, "gone.txt") != NULL,
	    "missing opt-out list: IO naming it (%s)", e.msg);
	pht_station_config_free(cfg);
	(void)path;
	(void)dpath;
}

/* ---- what analysts are told ---- */

static const char *const forbidden[] = {SENTINEL_NUM, "987654", SENTINEL_LEVEL,
    "700010", ":13:", "row 13", "line 13", NULL};

/* Runs code; checks the analyst's reason and the audit log's detail. */
static void
check_path(struct pht_station *st, const char *what, const char *code,
    const char *params, const char *ds, enum pht_station_outcome want,
    const char *category, const char *logged)
{
	struct pht_station_result res;
	struct pht_err e;
	char reason[1024], ref[128], *out, *log;
	const char *status, *error;
	json_t *x;
	size_t i;
	int clean = 1, generic = strcmp(category, PHT_STATION_NO_RESULT_REASON) == 0;

	out = run(st, code, params, ds, &res, &e);
	free(out);
	pht_station_answer(&res, PHT_OK, &e, &status, &error, reason, sizeof(reason));
	for (i = 0; forbidden[i] != NULL; i++)
		if (strstr(reason, forbidden[i]) != NULL) {
			tap_diag("%s: leaks %s", what, forbidden[i]);
			clean = 0;
		}
	snprintf(ref, sizeof(ref), "(audit entry seq %llu, hash %s)",
	    (unsigned long long)res.head.seq, res.head.hash);
	tap_ok(res.outcome == want && strncmp(reason, category, strlen(category)) == 0 &&
	    (generic ? strcmp(reason, category) == 0 : strstr(reason, ref) != NULL) && clean,
	    "%s: analyst told \"%s\"", what, reason);
	log = read_all("audit.log");
	x = last_entry(want == PHT_STATION_WITHHELD ? "withheld" :
	    want == PHT_STATION_REJECTED ? "rejected" : "failed");
	tap_ok(logged == NULL || (x != NULL && strstr(json_string_value(json_object_get(x,
	    "reason")) ? json_string_value(json_object_get(x, "reason")) : "", logged) != NULL),
	    "%s: the audit log keeps the detail (%s)", what, logged ? logged : "-");
	json_decref(x);
	free(log);
	pht_station_result_clear(&res);
}

static void
test_redact(void)
{
	struct pht_station *st;
	char dsj[2048];
	struct pht_err why;
	struct pht_audit_head h = {7, "ab"};
	char reason[256];

	write_csv("cohort.csv", 0, NULL);
	/* a broken cell carrying the sentinel on line 13 */
	write_csv("broken.csv", 1ul << 11, "700099," SENTINEL_NUM "x,F,north,yes\n");
	snprintf(dsj, sizeof(dsj), "{"
	    "\"good\":{\"csv\":\"cohort.csv\",\"dict\":\"cohort.dict.json\"},"
	    "\"broken\":{\"csv\":\"broken.csv\",\"dict\":\"cohort.dict.json\"}}");
	st = open_station(dsj, "{\"k\":5,\"output\":{\"max_string\":12},"
	    "\"limits\":{\"instructions\":2000000,\"time_seconds\":20}}");
	if (st == NULL) {
		tap_ok(0, "open the redaction station");
		return;
	}
	check_path(st, "bad cell at load", stats_code, "{}", "broken", PHT_STATION_FAILED,
	    "data: the dataset could not be loaded", SENTINEL_NUM);
	check_path(st, "train error quoting a value",
	    "return { name='e', version='1', station = function(data)\n"
	    "  local v = data:column('age'):sum() - data:where('age', '<', 900000):column('age'):sum()\n"
	    "  if v > 900000 then error(string.format('age = %.3f in row 12', v)) end\n"
	    "  return {} end, combine = function(r) return {done=true} end }\n",
	    "{}", "good", PHT_STATION_FAILED, PHT_STATION_NO_RESULT_REASON, SENTINEL_NUM);
	check_path(st, "failed assertion quoting a level",
	    "return { name='e', version='1', station = function(data)\n"
	    "  for _, g in ipairs(data:group_by('site')) do\n"
	    "    assert(g.key == 'north' or g.n == 0, 'site ' .. tostring(g.key)) end\n"
	    "  return {} end, combine = function(r) return {done=true} end }\n",
	    "{}", "good", PHT_STATION_FAILED, PHT_STATION_NO_RESULT_REASON, SENTINEL_LEVEL);
	check_path(st, "output refused at a path naming a value",
	    "return { name='e', version='1', station = function(data)\n"
	    "  local v = data:column('age'):sum() - data:where('age', '<', 900000):column('age'):sum()\n"
	    "  local t = {}\n"
	    "  if v > 900000 then t[string.format('%.3f', v)] = string.rep('x', 40) end\n"
	    "  return t end, combine = function(r) return {done=true} end }\n",
	    "{}", "good", PHT_STATION_WITHHELD, PHT_STATION_NO_RESULT_REASON, SENTINEL_NUM);
	check_path(st, "instruction budget",
	    "return { name='e', version='1', station = function(data)\n"
	    "  local i = 0 while true do i = i + 1 end end,\n"
	    "  combine = function(r) return {done=true} end }\n",
	    "{}", "good", PHT_STATION_FAILED, "limit: instruction budget", "instruction budget");
	check_path(st, "instruction budget after reading data",
	    "return { name='e', version='1', station = function(data)\n"
	    "  local s = data:column('age'):sum() while true do s = s + 1 end end,\n"
	    "  combine = function(r) return {done=true} end }\n",
	    "{}", "good", PHT_STATION_FAILED, PHT_STATION_NO_RESULT_REASON,
	    "instruction budget");
	check_path(st, "subset smaller than k (a subset of one, the sentinel's)",
	    "return { name='e', version='1', station = function(data)\n"
	    "  return { n = data:where('age', '>', 900000):column('age'):sum() } end,\n"
	    "  combine = function(r) return {done=true} end }\n",
	    "{}", "good", PHT_STATION_FAILED, PHT_STATION_NO_RESULT_REASON, "smaller than k");
	check_path(st, "policy refusal (dataset not held)", stats_code, "{}", "elsewhere",
	    PHT_STATION_REJECTED, "refused: policy", "none of the train's datasets");
	pht_station_close(st);

	/* unit cases of the function itself */
	pht_errf(&why, PHT_ERR_IO, "reg.csv:13:age: \"987654.321x\" is not a number");
	pht_station_redact(PHT_STATION_RELEASED, PHT_ERR_IO, &why, &h, reason, sizeof(reason));
	tap_ok(strncmp(reason, "station error", 13) == 0 && strstr(reason, "987654") == NULL &&
	    strstr(reason, "seq 7, hash ab") != NULL, "station error: category and reference (%s)",
	    reason);
	pht_errf(&why, PHT_ERR_POLICY, "permit P1 does not cover column \"987654\"");
	pht_station_redact(PHT_STATION_REJECTED, PHT_OK, &why, &h, reason, sizeof(reason));
	tap_ok(strncmp(reason, "refused: policy: permit P1 does not cover column", 48) == 0 &&
	    strstr(reason, "987654") == NULL, "refusal keeps its detail, quoted text dropped (%s)",
	    reason);
	pht_errf(&why, PHT_ERR_DENIED, "the station was halted while the train ran");
	pht_station_redact(PHT_STATION_FAILED, PHT_OK, &why, NULL, reason, sizeof(reason));
	tap_ok(strncmp(reason, "halted: ", 8) == 0 &&
	    strstr(reason, "see the station's audit log") != NULL, "halt while running (%s)",
	    reason);
	pht_station_redact(PHT_STATION_RELEASED, PHT_OK, &why, &h, reason, sizeof(reason));
	tap_ok(reason[0] == '\0', "a release needs no reason");
	pht_errf(&why, PHT_ERR_POLICY, "queued");
	pht_station_redact(PHT_STATION_QUEUED, PHT_OK, &why, &h, reason, 8);
	tap_ok(strlen(reason) == 7, "the reason is cut to the buffer");
}

/* audit_rotate_kb: the station rotates its log between trains, the chain holds */
static void
test_rotate_at(void)
{
	struct pht_station *st;
	struct pht_station_result res;
	struct pht_audit_report rep;
	struct pht_key *pub = NULL;
	struct pht_err e;
	char lp[1200], kp[1200], **files = NULL, *out;
	size_t n = 0, before = 0, i;
	int r;

	snprintf(lp, sizeof(lp), "%s/audit.log", dir);
	snprintf(kp, sizeof(kp), "%s/st-a.sign.pub", dir);
	if (pht_audit_files(lp, &files, &before, &e) == PHT_OK)
		pht_audit_files_free(files);
	files = NULL;
	st = open_station("{\"good\":{\"csv\":\"cohort.csv\",\"dict\":\"cohort.dict.json\"}}",
	    "{\"k\":3},\"audit_rotate_kb\":1");
	if (st == NULL) {
		tap_ok(0, "open a station with audit_rotate_kb");
		return;
	}
	for (i = 0; i < 3; i++) {
		out = run(st, stats_code, "{}", "good", &res, &e);
		free(out);
		pht_station_result_clear(&res);
	}
	pht_station_close(st);
	r = pht_audit_files(lp, &files, &n, &e);
	tap_ok(r == PHT_OK && n >= before + 2,
	    "audit_rotate_kb 1: the log was rotated between trains (%zu files, %zu before)",
	    n, before);
	pht_key_load(kp, &pub, NULL);
	tap_ok(pht_audit_verify_files((const char *const *)files, n, pub, NULL, &rep, &e) ==
	    PHT_OK && rep.start.seq == 0, "and the files verify as one chain from entry 1 (%s)",
	    e.msg);
	pht_key_free(pub);
	pht_audit_files_free(files);
}

int
main(void)
{
	const char *names[] = {"st-a", "analyst"};
	size_t i;

	if (mkdtemp(dir) == NULL || chdir(dir) != 0)
		return 1;
	for (i = 0; i < 2; i++)
		if (pht_key_generate_files(dir, names[i], NULL, NULL, NULL) != PHT_OK)
			return 1;
	write_file("cohort.dict.json", dict_text);
	write_csv("cohort.csv", 0, NULL);
	test_optout_errors();
	test_optout();
	test_redact();
	test_rotate_at();
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
