/* test_config.c — the station config: a full example, defaults, and every refusal. */
#include "tap.h"

#include "pht_err.h"
#include "pht_station_config.h"
#include "pht_dataset_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A minimal valid config with one field replaced or added (FIELDS is spliced in). */
#define HEAD "{\"station\":\"a\",\"audit_log\":\"audit.log\",\"key\":\"k/st.sign.key\"," \
	"\"seen_ids\":\"seen\""
#define DS ",\"datasets\":{\"reg\":{\"csv\":\"reg.csv\"}}"
#define SG ",\"signers\":[{\"name\":\"alice\",\"key\":\"alice.sign.pub\",\"mode\":\"auto\"}]"

struct bad_case {
	const char *text;
	int code;
	const char *detail;
};

static const struct bad_case bad[] = {
	{"", PHT_ERR_MALFORMED, "cfg.json: line"},
	{"[1]", PHT_ERR_MALFORMED, "cfg.json: not a JSON object"},
	{"{\"station\":\"a\",\"station\":\"b\"}", PHT_ERR_MALFORMED, "duplicate"},
	{HEAD DS SG ",\"extra\":1}", PHT_ERR_MALFORMED, "cfg.json: extra: unknown field"},
	{"{\"audit_log\":\"a\",\"key\":\"k\",\"seen_ids\":\"s\"" DS SG "}",
	    PHT_ERR_MALFORMED, "cfg.json: station: missing"},
	{"{\"station\":7,\"audit_log\":\"a\",\"key\":\"k\",\"seen_ids\":\"s\"" DS SG "}",
	    PHT_ERR_MALFORMED, "cfg.json: station: not a string"},
	{"{\"station\":\"\",\"audit_log\":\"a\",\"key\":\"k\",\"seen_ids\":\"s\"" DS SG "}",
	    PHT_ERR_MALFORMED, "cfg.json: station: empty"},
	{"{\"station\":\"a b\",\"audit_log\":\"a\",\"key\":\"k\",\"seen_ids\":\"s\"" DS SG "}",
	    PHT_ERR_MALFORMED, "cfg.json: station: station id must be"},
	{"{\"station\":\"a\\u0000b\",\"audit_log\":\"a\",\"key\":\"k\",\"seen_ids\":\"s\"" DS SG "}",
	    PHT_ERR_MALFORMED, "NUL"},
	{HEAD SG "}", PHT_ERR_MALFORMED, "cfg.json: datasets: missing"},
	{HEAD ",\"datasets\":[]" SG "}", PHT_ERR_MALFORMED, "cfg.json: datasets: not an object"},
	{HEAD ",\"datasets\":{}" SG "}", PHT_ERR_MALFORMED, "cfg.json: datasets: empty"},
	{HEAD ",\"datasets\":{\"a/b\":{\"csv\":\"x.csv\"}}" SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: datasets.a/b: dataset name must be"},
	{HEAD ",\"datasets\":{\"reg\":\"x.csv\"}" SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: datasets.reg: not an object"},
	{HEAD ",\"datasets\":{\"reg\":{\"csv\":\"x.csv\",\"rows\":3}}" SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: datasets.reg.rows: unknown field"},
	{HEAD ",\"datasets\":{\"reg\":{\"dict\":\"x.dict.json\"}}" SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: datasets.reg.csv: missing"},
	{HEAD ",\"datasets\":{\"reg\":{\"csv\":1}}" SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: datasets.reg.csv: not a string"},
	{HEAD ",\"datasets\":{\"reg\":{\"csv\":\"x.txt\"}}" SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: datasets.reg.dict: missing (and the csv path does not end in .csv"},
	{HEAD ",\"datasets\":{\"reg\":{\"csv\":\"x.csv\",\"dict\":false}}" SG "}",
	    PHT_ERR_MALFORMED, "cfg.json: datasets.reg.dict: not a string"},
	{HEAD ",\"datasets\":{\"reg\":{\"sqlite\":\"r.db\",\"dict\":\"d.json\"}}" SG "}",
	    PHT_ERR_MALFORMED, "cfg.json: datasets.reg.query: missing"},
	{HEAD ",\"datasets\":{\"reg\":{\"postgres\":\"dbname=r password=x\",\"query\":"
	    "\"SELECT 1\",\"dict\":\"d.json\"}}" SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: datasets.reg.postgres: holds a password: give a passfile"},
	{HEAD ",\"datasets\":{\"reg\":{\"csv\":\"x.csv\",\"dialect\":{\"encoding\":"
	    "\"koi8-r\"}}}" SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: datasets.reg.dialect.encoding: not one of"},
	{HEAD ",\"datasets\":{\"reg\":{\"csv\":\"x.csv\",\"formats\":{\"dx\":"
	    "\"%b %d %Y\"}}}" SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: datasets.reg.formats.dx: %b is not a directive"},
	{HEAD DS "}", PHT_ERR_MALFORMED, "cfg.json: signers: missing"},
	{HEAD DS ",\"signers\":{}}", PHT_ERR_MALFORMED, "cfg.json: signers: not an array"},
	{HEAD DS ",\"signers\":[\"alice\"]}", PHT_ERR_MALFORMED,
	    "cfg.json: signers[0]: not an object"},
	{HEAD DS ",\"signers\":[{\"name\":\"a\",\"key\":\"a.pub\",\"mode\":\"auto\",\"x\":1}]}",
	    PHT_ERR_MALFORMED, "cfg.json: signers[0].x: unknown field"},
	{HEAD DS ",\"signers\":[{\"key\":\"a.pub\",\"mode\":\"auto\"}]}", PHT_ERR_MALFORMED,
	    "cfg.json: signers[0].name: missing"},
	{HEAD DS ",\"signers\":[{\"name\":\"a b\",\"key\":\"a.pub\",\"mode\":\"auto\"}]}",
	    PHT_ERR_MALFORMED, "cfg.json: signers[0].name: must be"},
	{HEAD DS ",\"signers\":[{\"name\":\"a\",\"key\":\"a.pub\",\"mode\":\"auto\"},"
	    "{\"name\":\"a\",\"key\":\"b.pub\",\"mode\":\"auto\"}]}", PHT_ERR_MALFORMED,
	    "cfg.json: signers[1].name: duplicate signer name"},
	{HEAD DS ",\"signers\":[{\"name\":\"a\",\"mode\":\"auto\"}]}", PHT_ERR_MALFORMED,
	    "cfg.json: signers[0].key: missing"},
	{HEAD DS ",\"signers\":[{\"name\":\"a\",\"key\":\"a.pub\"}]}", PHT_ERR_MALFORMED,
	    "cfg.json: signers[0].mode: missing"},
	{HEAD DS ",\"signers\":[{\"name\":\"a\",\"key\":\"a.pub\",\"mode\":\"yes\"}]}",
	    PHT_ERR_MALFORMED, "cfg.json: signers[0].mode: must be \"auto\" or \"review\""},
	{HEAD DS SG ",\"policy\":[]}", PHT_ERR_MALFORMED, "cfg.json: policy: not an object"},
	{HEAD DS SG ",\"policy\":{\"kk\":5}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.kk: unknown field"},
	{HEAD DS SG ",\"policy\":{\"k\":0}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.k: not a positive integer"},
	{HEAD DS SG ",\"policy\":{\"k\":2.5}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.k: not a positive integer"},
	{HEAD DS SG ",\"policy\":{\"k\":\"5\"}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.k: not a positive integer"},
	{HEAD DS SG ",\"policy\":{\"time_resolution_days\":0}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.time_resolution_days: not a positive number of days"},
	{HEAD DS SG ",\"policy\":{\"time_resolution_days\":-7}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.time_resolution_days: not a positive number of days"},
	{HEAD DS SG ",\"policy\":{\"time_resolution_days\":\"30\"}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.time_resolution_days: not a positive number of days"},
	{HEAD DS SG ",\"policy\":{\"time_resolution_days\":3661}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.time_resolution_days: not a positive number of days (at most 3660)"},
	{HEAD DS SG ",\"policy\":{\"km_min_cell\":0}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.km_min_cell: not a positive integer"},
	{HEAD DS SG ",\"policy\":{\"km_min_cell\":2.5}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.km_min_cell: not a positive integer"},
	{HEAD DS SG ",\"policy\":{\"grid_digits\":7}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.grid_digits: not a positive integer (1 to 6)"},
	{HEAD DS SG ",\"policy\":{\"grid\":[5]}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.grid: not an object"},
	{HEAD DS SG ",\"policy\":{\"grid\":{\"age\":0}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.grid.age: not a positive step"},
	{HEAD DS SG ",\"policy\":{\"grid\":{\"age\":-5}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.grid.age: not a positive step"},
	{HEAD DS SG ",\"policy\":{\"grid\":{\"age\":\"5\"}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.grid.age: not a positive step"},
	{HEAD DS SG ",\"policy\":{\"grid\":{\"\":5}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.grid.: not a column name"},
	{HEAD DS SG ",\"policy\":{\"output\":1}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.output: not an object"},
	{HEAD DS SG ",\"policy\":{\"output\":{\"max\":1}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.output.max: unknown field"},
	{HEAD DS SG ",\"policy\":{\"output\":{\"max_bytes\":-1}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.output.max_bytes: not a positive integer"},
	{HEAD DS SG ",\"policy\":{\"output\":{\"max_numbers\":0}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.output.max_numbers: not a positive integer"},
	{HEAD DS SG ",\"policy\":{\"output\":{\"max_string\":true}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.output.max_string: not a positive integer"},
	{HEAD DS SG ",\"policy\":{\"limits\":\"none\"}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.limits: not an object"},
	{HEAD DS SG ",\"policy\":{\"limits\":{\"cpu\":1}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.limits.cpu: unknown field"},
	{HEAD DS SG ",\"policy\":{\"limits\":{\"instructions\":0}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.limits.instructions: not a positive integer"},
	{HEAD DS SG ",\"policy\":{\"limits\":{\"memory_mb\":1048577}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.limits.memory_mb: not a positive integer (1 to 1048576)"},
	{HEAD DS SG ",\"policy\":{\"limits\":{\"time_seconds\":0}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.limits.time_seconds: not a positive number"},
	{HEAD DS SG ",\"policy\":{\"limits\":{\"time_seconds\":\"1m\"}}}", PHT_ERR_MALFORMED,
	    "cfg.json: policy.limits.time_seconds: not a positive number"},
	{"{\"station\":\"a\",\"key\":\"k\",\"seen_ids\":\"s\"" DS SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: audit_log: missing"},
	{"{\"station\":\"a\",\"audit_log\":\"a\",\"seen_ids\":\"s\"" DS SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: key: missing"},
	{"{\"station\":\"a\",\"audit_log\":\"a\",\"key\":\"k\"" DS SG "}", PHT_ERR_MALFORMED,
	    "cfg.json: seen_ids: missing"},
	{"{\"station\":\"a\",\"audit_log\":[],\"key\":\"k\",\"seen_ids\":\"s\"" DS SG "}",
	    PHT_ERR_MALFORMED, "cfg.json: audit_log: not a string"},
	{HEAD DS SG ",\"node\":\"https://x\"}", PHT_ERR_MALFORMED, "cfg.json: node: not an object"},
	{HEAD DS SG ",\"node\":{\"url\":\"https://n\",\"cert\":\"c\",\"key\":\"k\",\"ca\":\"ca\","
	    "\"port\":1}}", PHT_ERR_MALFORMED, "cfg.json: node.port: unknown field"},
	{HEAD DS SG ",\"node\":{\"cert\":\"c\",\"key\":\"k\",\"ca\":\"ca\"}}", PHT_ERR_MALFORMED,
	    "cfg.json: node.url: missing"},
	{HEAD DS SG ",\"node\":{\"url\":\"http://n\",\"cert\":\"c\",\"key\":\"k\",\"ca\":\"ca\"}}",
	    PHT_ERR_MALFORMED, "cfg.json: node.url: must start with https://"},
	{HEAD DS SG ",\"node\":{\"url\":\"https://n\",\"key\":\"k\",\"ca\":\"ca\"}}",
	    PHT_ERR_MALFORMED, "cfg.json: node.cert: missing"},
	{HEAD DS SG ",\"node\":{\"url\":\"https://n\",\"cert\":\"c\",\"ca\":\"ca\"}}",
	    PHT_ERR_MALFORMED, "cfg.json: node.key: missing"},
	{HEAD DS SG ",\"node\":{\"url\":\"https://n\",\"cert\":\"c\",\"key\":\"k\"}}",
	    PHT_ERR_MALFORMED, "cfg.json: node.ca: missing"},
};

int
main(void)
{
	struct pht_station_config *cfg = NULL;
	const struct pht_station_policy *p;
	const struct pht_station_dataset *d;
	const struct pht_station_signer *s;
	struct pht_limits defl;
	struct pht_err e;
	char path[1024];
	const char *src = getenv("PHT_SRC");
	size_t i;
	int r;

	/* the documented example parses, paths resolved against its directory */
	snprintf(path, sizeof(path), "%s/tests/data/station/station.json",
	    src != NULL ? src : ".");
	r = pht_station_config_load(path, &cfg, &e);
	tap_ok(r == PHT_OK, "example config loads (%s)", r ? e.msg : "ok");
	if (cfg != NULL) {
		char want[1100];
		tap_str(pht_station_config_id(cfg), "st-a", "station id");
		tap_ok(pht_station_config_ndatasets(cfg) == 1, "one dataset");
		d = pht_station_config_dataset(cfg, 0);
		snprintf(want, sizeof(want), "%s/tests/data/station/registry.csv",
		    src != NULL ? src : ".");
		tap_str(d->csv, want, "csv path resolved against the config's directory");
		snprintf(want, sizeof(want), "%s/tests/data/station/registry.dict.json",
		    src != NULL ? src : ".");
		tap_str(d->dict, want, "dict path");
		tap_ok(pht_station_config_find_dataset(cfg, "registry") == d &&
		    pht_station_config_find_dataset(cfg, "nope") == NULL &&
		    pht_station_config_dataset(cfg, 1) == NULL, "dataset lookup");
		tap_ok(pht_station_config_nsigners(cfg) == 2, "two signers");
		s = pht_station_config_signer(cfg, 0);
		tap_ok(s != NULL && strcmp(s->name, "analyst") == 0 &&
		    s->mode == PHT_SIGNER_AUTO, "first signer auto");
		s = pht_station_config_signer(cfg, 1);
		tap_ok(s != NULL && strcmp(s->name, "visitor") == 0 &&
		    s->mode == PHT_SIGNER_REVIEW, "second signer review");
		tap_ok(pht_station_config_signer(cfg, 2) == NULL, "signer out of range");
		p = pht_station_config_policy(cfg);
		tap_ok(p->limits.k == 5 && p->output.max_bytes == 65536 &&
		    p->output.max_numbers == 10000 && p->output.max_string == 256,
		    "policy k and output caps");
		tap_ok(p->limits.instructions == 500000000 &&
		    p->limits.memory_bytes == (size_t)256 << 20 &&
		    p->limits.wall_seconds == 30, "policy limits");
		tap_ok(p->limits.output_bytes == 65536 && p->limits.output_numbers == 10000,
		    "runtime output caps follow the policy");
		tap_ok(strstr(pht_station_config_audit_log(cfg), "/station/audit.log") != NULL &&
		    strstr(pht_station_config_key(cfg), "/station/") != NULL &&
		    strstr(pht_station_config_seen_ids(cfg), "/station/seen-ids") != NULL,
		    "audit log, key and seen-ids paths");
		tap_ok(pht_station_config_node(cfg)->url != NULL &&
		    strcmp(pht_station_config_node(cfg)->url, "https://node.example.org:8443") == 0 &&
		    pht_station_config_node(cfg)->ca != NULL, "node section kept");
	}
	pht_station_config_free(cfg);
	pht_station_config_free(NULL);

	/* defaults where the policy is silent; absolute paths kept; no node */
	r = pht_station_config_parse(HEAD DS SG "}", strlen(HEAD DS SG "}"), "cfg.json",
	    "/etc/pht", &cfg, &e);
	tap_ok(r == PHT_OK, "minimal config parses");
	pht_limits_default(&defl);
	if (cfg != NULL) {
		p = pht_station_config_policy(cfg);
		tap_ok(p->limits.k == 5 && p->limits.instructions == defl.instructions &&
		    p->limits.memory_bytes == defl.memory_bytes &&
		    p->limits.wall_seconds == defl.wall_seconds &&
		    p->output.max_bytes == 1048576 && p->output.max_numbers == 100000,
		    "policy defaults");
		tap_str(pht_station_config_dataset(cfg, 0)->dict, "/etc/pht/reg.dict.json",
		    "dict defaults to NAME.dict.json beside the csv");
		tap_str(pht_station_config_audit_log(cfg), "/etc/pht/audit.log",
		    "relative path joined to the base directory");
		tap_ok(pht_station_config_node(cfg)->url == NULL, "no node section: NULL fields");
		tap_ok(p->limits.resolution == &p->resolution && p->resolution.time_days == 30 &&
		    p->resolution.km_min_cell == 1 && p->resolution.grid_digits == 2 &&
		    p->resolution.ngrids == 0, "resolution defaults: 30 days, no KM minimum, "
		    "2 digits, no grids");
	}
	pht_station_config_free(cfg);
	cfg = NULL;
	{
		/* SQL sources: csv NULL, dict and the source's label kept */
		const char *t = HEAD ",\"datasets\":{\"pg\":{\"postgres\":\"host=/run/pg "
		    "dbname=cdm\",\"passfile\":\"pgpass\",\"query\":\"SELECT 1\",\"dict\":"
		    "\"m.dict.json\"},\"lite\":{\"sqlite\":\"l.db\",\"query\":\"SELECT 1\","
		    "\"dict\":\"l.dict.json\",\"formats\":{\"dx\":\"%d.%m.%Y\"}}}" SG "}";
		const struct pht_station_dataset *d0, *d1;

		r = pht_station_config_parse(t, strlen(t), "cfg.json", "/etc/pht", &cfg, &e);
		tap_ok(r == PHT_OK, "postgres and sqlite datasets parse (%s)", e.msg);
		if (cfg != NULL) {
			d0 = pht_station_config_dataset(cfg, 0);
			d1 = pht_station_config_dataset(cfg, 1);
			tap_ok(d0->csv == NULL && d1->csv == NULL && d0->source != NULL,
			    "an SQL dataset has no csv path");
			tap_str(pht_dataset_source_label(d0->source),
			    "postgres:host=/run/pg dbname=cdm", "the postgres source's label");
			tap_str(d1->dict, "/etc/pht/l.dict.json", "the sqlite dataset's dict");
		}
		pht_station_config_free(cfg);
		cfg = NULL;
	}
	{
		const char *t = "{\"station\":\"a\",\"audit_log\":\"/var/log/a\",\"key\":\"k\","
		    "\"seen_ids\":\"s\"" DS ",\"signers\":[]}";
		tap_ok(pht_station_config_parse(t, strlen(t), "cfg.json", "/etc/pht", &cfg, &e) ==
		    PHT_OK && strcmp(pht_station_config_audit_log(cfg), "/var/log/a") == 0 &&
		    pht_station_config_nsigners(cfg) == 0,
		    "absolute paths kept; an empty trust list is allowed");
		pht_station_config_free(cfg);
		cfg = NULL;
	}

	/* the resolution policy, every field given */
	{
		const char *t = HEAD DS SG ",\"policy\":{\"k\":7,\"time_resolution_days\":7.5,"
		    "\"km_min_cell\":12,\"grid_digits\":3,\"grid\":{\"age\":5,\"cost\":0.25}}}";
		r = pht_station_config_parse(t, strlen(t), "cfg.json", NULL, &cfg, &e);
		tap_ok(r == PHT_OK, "resolution policy parses (%s)", r ? e.msg : "ok");
		if (cfg != NULL) {
			p = pht_station_config_policy(cfg);
			tap_ok(p->limits.k == 7 && p->limits.resolution == &p->resolution &&
			    p->resolution.time_days == 7.5 && p->resolution.km_min_cell == 12 &&
			    p->resolution.grid_digits == 3, "time resolution, KM minimum, digits");
			tap_ok(p->resolution.ngrids == 2 &&
			    strcmp(p->resolution.grids[0].column, "age") == 0 &&
			    p->resolution.grids[0].step == 5 &&
			    strcmp(p->resolution.grids[1].column, "cost") == 0 &&
			    p->resolution.grids[1].step == 0.25, "grids in file order");
		}
		pht_station_config_free(cfg);
		cfg = NULL;
	}

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pht_err_clear(&e);
		cfg = (struct pht_station_config *)&e; /* must be reset to NULL */
		r = pht_station_config_parse(bad[i].text, strlen(bad[i].text), "cfg.json",
		    NULL, &cfg, &e);
		if (!tap_ok(r == bad[i].code && cfg == NULL && strstr(e.msg, bad[i].detail) != NULL,
		    "refused: %s", bad[i].detail))
			tap_diag("got %d: %s", r, e.msg);
		pht_station_config_free(cfg);
		cfg = NULL;
	}
	/* too many entries, and a file too large to be a config */
	{
		char *t = malloc(1100 * 40 + 512), *p2;
		size_t k;
		FILE *f;

		p2 = t + sprintf(t, "%s,\"datasets\":{", HEAD);
		for (k = 0; k < 1025; k++)
			p2 += sprintf(p2, "%s\"d%zu\":{\"csv\":\"d.csv\"}", k ? "," : "", k);
		sprintf(p2, "}%s}", SG);
		pht_err_clear(&e);
		tap_ok(pht_station_config_parse(t, strlen(t), "cfg.json", NULL, &cfg, &e) ==
		    PHT_ERR_MALFORMED && strstr(e.msg, "cfg.json: datasets: too many entries") != NULL,
		    "1025 datasets refused");
		p2 = t + sprintf(t, "%s%s,\"signers\":[", HEAD, DS);
		for (k = 0; k < 1025; k++)
			p2 += sprintf(p2, "%s{}", k ? "," : "");
		sprintf(p2, "]}");
		pht_err_clear(&e);
		tap_ok(pht_station_config_parse(t, strlen(t), "cfg.json", NULL, &cfg, &e) ==
		    PHT_ERR_MALFORMED && strstr(e.msg, "cfg.json: signers: too many entries") != NULL,
		    "1025 signers refused");
		free(t);
		snprintf(path, sizeof(path), "/tmp/pht-config-big-%d.json", (int)getpid());
		f = fopen(path, "w");
		for (k = 0; k < 1024 * 1024 + 1; k++)
			fputc(' ', f);
		fclose(f);
		pht_err_clear(&e);
		tap_ok(pht_station_config_load(path, &cfg, &e) == PHT_ERR_TOO_LARGE &&
		    strstr(e.msg, path) != NULL, "a config over 1 MiB refused");
		unlink(path);
	}
	/* NUL inside the text: memory variant must not stop at the NUL */
	pht_err_clear(&e);
	tap_ok(pht_station_config_parse("{}\0{}", 5, "cfg.json", NULL, &cfg, &e) ==
	    PHT_ERR_MALFORMED && strstr(e.msg, "NUL") != NULL, "NUL byte in the file refused");
	pht_err_clear(&e);
	tap_ok(pht_station_config_load("/nonexistent/pht/station.json", &cfg, &e) ==
	    PHT_ERR_IO && strstr(e.msg, "/nonexistent/pht/station.json") != NULL,
	    "missing file: IO error naming it");
	return tap_done();
}
