/* registry_out.c — writes one hospital's registry: the CSV through a row buffer, and its data dictionary. */
#include "registry_out.h"
#include "registry_model.h"
#include "registry_rng.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_time.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A write buffer in front of a FILE; a row is at most ROW_MAX bytes. */
#define ROW_MAX 512
struct out {
	FILE *f;
	size_t len;
	char buf[1 << 16];
};

static void
out_flush(struct out *o)
{
	if (o->len > 0)
		(void)fwrite(o->buf, 1, o->len, o->f);   /* ferror checked at close */
	o->len = 0;
}

static void
out_str(struct out *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
out_char(struct out *o, char c)
{
	o->buf[o->len++] = c;
}

static void
out_u64(struct out *o, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		o->buf[o->len++] = tmp[--n];
}

/* Zero-padded to width digits. */
static void
out_u64w(struct out *o, uint64_t v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		o->buf[o->len + (size_t)i] = (char)('0' + v % 10);
		v /= 10;
	}
	o->len += (size_t)width;
}

static void
out_date(struct out *o, int32_t days)
{
	int64_t y;
	unsigned m, d;

	pht_civil_from_days(days, &y, &m, &d);
	out_u64w(o, (uint64_t)y, 4);
	out_char(o, '-');
	out_u64w(o, m, 2);
	out_char(o, '-');
	out_u64w(o, d, 2);
}

static void
out_cents(struct out *o, int64_t cents)
{
	out_u64(o, (uint64_t)(cents / 100));
	out_char(o, '.');
	out_u64w(o, (uint64_t)(cents % 100), 2);
}

static void
write_row(struct out *o, const struct patient *p)
{
	if (o->len + ROW_MAX > sizeof(o->buf))
		out_flush(o);
	out_u64(o, (uint64_t)p->id);
	out_char(o, ',');
	out_u64(o, (uint64_t)p->age);
	out_char(o, ',');
	out_str(o, sex_levels[p->sex]);
	out_char(o, ',');
	out_str(o, stage_levels[p->stage]);
	out_char(o, ',');
	if (p->miss_ecog)
		out_str(o, "NA");
	else
		out_u64(o, (uint64_t)p->ecog);
	out_char(o, ',');
	out_str(o, p->miss_ldh ? "NA" : p->ldh ? "1" : "0");
	out_char(o, ',');
	out_str(o, p->miss_braf ? "NA" : braf_levels[p->braf]);
	out_char(o, ',');
	out_str(o, treatments[p->treatment].name);
	out_char(o, ',');
	out_u64(o, (uint64_t)p->line);
	out_char(o, ',');
	out_date(o, p->start);
	out_char(o, ',');
	out_str(o, resp_levels[p->response]);
	out_char(o, ',');
	out_char(o, p->ae3 ? '1' : '0');
	out_char(o, ',');
	out_u64(o, (uint64_t)p->pfs_days);
	out_char(o, ',');
	out_char(o, p->pfs_event ? '1' : '0');
	out_char(o, ',');
	out_u64(o, (uint64_t)p->os_days);
	out_char(o, ',');
	out_char(o, p->os_event ? '1' : '0');
	out_char(o, ',');
	out_cents(o, p->cost_cents);
	out_char(o, '\n');
}

/* The dictionary's columns, in CSV order. */
struct coldef {
	const char *name, *type, *unit, *description;
	const char *const *levels;
	int nlevels;
};

static const char *const treatment_levels[NTREAT] = {
	"chemotherapy", "nivolumab", "pembrolizumab", "ipilimumab",
	"ipilimumab+nivolumab", "dabrafenib+trametinib", "encorafenib+binimetinib",
	"vemurafenib+cobimetinib",
};

static const struct coldef columns[] = {
	{ "patient_id", "integer", "", "registry pseudonym (hospital * 10^7 + sequence); not a category", NULL, 0 },
	{ "age", "integer", "years", "age at start of the therapy line", NULL, 0 },
	{ "sex", "category", "", "sex", sex_levels, NSEX },
	{ "stage", "category", "", "AJCC 8th edition stage at start of therapy (unresectable III or IV)", stage_levels, NSTAGE },
	{ "ecog", "integer", "", "ECOG performance status (0-3) at start of therapy", NULL, 0 },
	{ "ldh_elevated", "boolean", "", "serum LDH above the upper limit of normal at start (1 = elevated)", NULL, 0 },
	{ "braf", "category", "", "BRAF mutation status (NA = not tested)", braf_levels, NBRAF },
	{ "treatment", "category", "", "systemic therapy of this line", treatment_levels, NTREAT },
	{ "line", "integer", "", "line of systemic therapy (1-3)", NULL, 0 },
	{ "start_date", "date", "", "start of the therapy line", NULL, 0 },
	{ "best_response", "category", "", "best overall response (RECIST 1.1; NE = not evaluable)", resp_levels, NRESP },
	{ "ae_grade3", "boolean", "", "any grade 3 or higher adverse event (CTCAE) during therapy (1 = yes)", NULL, 0 },
	{ "pfs_days", "integer", "days", "progression-free survival from start (to progression, death or censoring)", NULL, 0 },
	{ "pfs_event", "boolean", "", "1 = progression or death observed, 0 = censored", NULL, 0 },
	{ "os_days", "integer", "days", "overall survival from start (to death or censoring)", NULL, 0 },
	{ "os_event", "boolean", "", "1 = death observed, 0 = censored (alive at last contact or data cut-off 2024-06-30)", NULL, 0 },
	{ "cost_eur", "number", "EUR", "cost of the therapy line: drugs, visits, hospital stays for grade 3+ events", NULL, 0 },
};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

int
registry_write_dict(const char *path, const char *name, uint64_t seed, struct pht_err *err)
{
	json_t *root = NULL, *cols, *col, *lv, *miss;
	char desc[256], *text = NULL;
	size_t i;
	int k, rc = PHT_ERR_NOMEM;

	snprintf(desc, sizeof(desc), "Synthetic melanoma treatment registry, %s "
	    "(pht-registry-gen %s, seed %" PRIu64 "). Not real patients.",
	    name, GEN_VERSION, seed);
	if ((root = json_object()) == NULL || (cols = json_array()) == NULL)
		goto out;
	if (json_object_set_new(root, "dataset", json_string(name)) != 0 ||
	    json_object_set_new(root, "description", json_string(desc)) != 0 ||
	    json_object_set_new(root, "columns", cols) != 0)
		goto out;
	for (i = 0; i < NCOLS; i++) {
		if ((col = json_object()) == NULL || json_array_append_new(cols, col) != 0)
			goto out;
		if (json_object_set_new(col, "name", json_string(columns[i].name)) != 0 ||
		    json_object_set_new(col, "type", json_string(columns[i].type)) != 0 ||
		    json_object_set_new(col, "unit", json_string(columns[i].unit)) != 0 ||
		    json_object_set_new(col, "description",
		    json_string(columns[i].description)) != 0)
			goto out;
		/* the pseudonym keys the rows for the station; trains never see it */
		if (strcmp(columns[i].name, "patient_id") == 0 &&
		    json_object_set_new(col, "role", json_string("identifier")) != 0)
			goto out;
		if (columns[i].levels != NULL) {
			if ((lv = json_array()) == NULL ||
			    json_object_set_new(col, "levels", lv) != 0)
				goto out;
			for (k = 0; k < columns[i].nlevels; k++)
				if (json_array_append_new(lv, json_string(columns[i].levels[k])) != 0)
					goto out;
		}
		if ((miss = json_pack("[ss]", "", "NA")) == NULL ||
		    json_object_set_new(col, "missing", miss) != 0)
			goto out;
	}
	if ((text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	rc = pht_file_write_atomic(path, text, strlen(text), 0644, err);
out:
	if (rc == PHT_ERR_NOMEM)
		pht_errf(err, rc, "%s: out of memory", path);
	free(text);
	json_decref(root);
	return rc;
}

int
registry_write_csv(const char *path, const struct model *md, const struct hospital *h,
    const struct dates *d, uint64_t seed, unsigned hidx, uint64_t nrows,
    struct pht_err *err)
{
	struct out *o = NULL;
	struct patient p;
	struct rng r;
	char *tmp = NULL;
	size_t i, n = strlen(path) + 5;
	uint64_t row;
	int rc = PHT_ERR_IO;

	if ((o = calloc(1, sizeof(*o))) == NULL || (tmp = malloc(n)) == NULL) {
		rc = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	snprintf(tmp, n, "%s.tmp", path);
	if ((o->f = fopen(tmp, "w")) == NULL) {
		rc = pht_errf(err, PHT_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	for (i = 0; i < NCOLS; i++) {
		out_str(o, columns[i].name);
		out_char(o, i + 1 < NCOLS ? ',' : '\n');
	}
	rng_seed(&r, (seed ^ ((uint64_t)(hidx + 1) * 0x9E3779B97F4A7C15ULL)) + 1);
	for (row = 0; row < nrows; row++) {
		generate_patient(&r, md, h, d, hidx, row, &p);
		write_row(o, &p);
	}
	out_flush(o);
	if (ferror(o->f) || fflush(o->f) != 0) {
		rc = pht_errf(err, PHT_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
		goto out;
	}
	if (fclose(o->f) != 0) {
		o->f = NULL;
		rc = pht_errf(err, PHT_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	o->f = NULL;
	if (rename(tmp, path) != 0) {
		rc = pht_errf(err, PHT_ERR_IO, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	rc = PHT_OK;
out:
	if (o != NULL && o->f != NULL)
		fclose(o->f);
	if (rc != PHT_OK && tmp != NULL)
		(void)unlink(tmp);
	free(tmp);
	free(o);
	return rc;
}
