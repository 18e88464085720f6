/* pht_analyst_format.c — a result as a table (R's print of coxph, glm, survfit) or as CSV, from its JSON. */
#include "pht_analyst_format.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_MAX (64u << 20)      /* the largest rendering */
#define GRID_COLS 9                 /* the widest table (survfit's summary) */
#define CELL_MAX 64

/* A table being laid out: rows of at most GRID_COLS cells, widths per column. */
struct grid {
	char (*cells)[GRID_COLS][CELL_MAX];
	size_t nrows, cap, ncols;
	size_t width[GRID_COLS];
};

static void
grid_clear(struct grid *g)
{
	free(g->cells);
	memset(g, 0, sizeof(*g));
}

/* A new row of the table; NULL when out of memory. */
static char (*grid_row(struct grid *g))[CELL_MAX]
{
	void *p;

	if (g->nrows == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		if ((p = realloc(g->cells, g->cap * sizeof(*g->cells))) == NULL)
			return NULL;
		g->cells = p;
	}
	memset(g->cells[g->nrows], 0, sizeof(*g->cells));
	return g->cells[g->nrows++];
}

/* The table: the first column left-aligned, the others right-aligned. */
static void
grid_put(struct grid *g, struct pht_buf *b)
{
	size_t r, c, w;

	for (r = 0; r < g->nrows; r++)
		for (c = 0; c < g->ncols; c++)
			if ((w = strlen(g->cells[r][c])) > g->width[c])
				g->width[c] = w;
	for (r = 0; r < g->nrows; r++) {
		for (c = 0; c < g->ncols; c++) {
			if (c == 0)
				pht_buf_putf(b, "%-*s", (int)g->width[c], g->cells[r][c]);
			else
				pht_buf_putf(b, " %*s", (int)g->width[c], g->cells[r][c]);
		}
		pht_buf_putc(b, '\n');
	}
}

/*
 * v as text: a number to digits significant digits (an integer as itself), a string as it is,
 * a boolean TRUE/FALSE (R's), null or absent NA.
 */
static void
cell(const json_t *v, int digits, char *out, size_t n)
{
	if (json_is_integer(v))
		snprintf(out, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, n, "%.*g", digits, json_real_value(v));
	else if (json_is_string(v))
		snprintf(out, n, "%s", json_string_value(v));
	else if (json_is_boolean(v))
		snprintf(out, n, "%s", json_is_true(v) ? "TRUE" : "FALSE");
	else
		snprintf(out, n, "NA");
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void
csv_field(struct pht_buf *b, const char *s, int last)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		pht_buf_puts(b, s);
	} else {
		pht_buf_putc(b, '"');
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				pht_buf_putc(b, '"');
			pht_buf_putc(b, *p);
		}
		pht_buf_putc(b, '"');
	}
	pht_buf_putc(b, last ? '\n' : ',');
}

/* One CSV row of the fields keys[0..n) of o (name: the first field). */
static void
csv_row(struct pht_buf *b, const char *first, const json_t *o,
    const char *const *keys, size_t n)
{
	char s[CELL_MAX];
	size_t i;

	if (first != NULL)
		csv_field(b, first, n == 0);
	for (i = 0; i < n; i++) {
		cell(json_object_get(o, keys[i]), 17, s, sizeof(s));
		csv_field(b, s, i + 1 == n);
	}
}

/* The result's notes and the stations a round missed, each once. */
static void
put_notes(struct pht_buf *b, const json_t *result)
{
	const json_t *notes = json_object_get(result, "notes"), *n, *round, *m;
	const char *last_inc = NULL;
	json_t *seen = json_object();
	size_t i, j;

	if (json_is_array(notes) && json_array_size(notes) > 0) {
		pht_buf_puts(b, "\nNotes:\n");
		json_array_foreach(notes, i, n)
			if (json_is_string(n))
				pht_buf_putf(b, "  - %s\n", json_string_value(n));
	}
	json_array_foreach(json_object_get(result, "participation"), i, round) {
		json_array_foreach(json_object_get(round, "missing"), j, m) {
			const char *st = json_string_value(json_object_get(m, "station"));
			const char *why = json_string_value(json_object_get(m, "reason"));
			if (st == NULL || seen == NULL || json_object_get(seen, st) != NULL)
				continue;
			json_object_set_new(seen, st, json_true());
			if (json_object_size(seen) == 1)
				pht_buf_puts(b, "\nStations missing:\n");
			pht_buf_putf(b, "  %s: round %lld: %s\n", st,
			    (long long)json_integer_value(json_object_get(round, "round")),
			    why != NULL ? why : "no result");
		}
	}
	round = json_array_get(json_object_get(result, "participation"),
	    json_array_size(json_object_get(result, "participation")) - 1);
	json_array_foreach(json_object_get(round, "included"), i, n) {
		pht_buf_putf(b, "%s%s", i == 0 ? "Stations included: " : ", ",
		    json_string_value(n) != NULL ? json_string_value(n) : "?");
		last_inc = "";
	}
	if (last_inc != NULL)
		pht_buf_putc(b, '\n');
	json_decref(seen);
}

static const char *const cox_keys[] = {"coef", "exp_coef", "se", "z", "p", "lower95",
    "upper95"};

/* cox.lua: R's print of a coxph object. */
static int
put_cox(struct pht_buf *b, const json_t *r, enum pht_analyst_format fmt)
{
	static const char *const head[] = {"", "coef", "exp(coef)", "se(coef)", "z", "p"};
	const json_t *coefs = json_object_get(r, "coefficients"), *c, *t;
	char (*row)[CELL_MAX];
	struct grid g;
	size_t i, k;

	if (fmt == PHT_ANALYST_FORMAT_CSV) {
		pht_buf_puts(b, "term,coef,exp_coef,se,z,p,lower95,upper95\n");
		json_array_foreach(coefs, i, c)
			csv_row(b, json_string_value(json_object_get(c, "name")) != NULL ?
			    json_string_value(json_object_get(c, "name")) : "", c, cox_keys, 5 + 2);
		return 0;
	}
	memset(&g, 0, sizeof(g));
	g.ncols = 6;
	if ((row = grid_row(&g)) == NULL)
		return -1;
	for (k = 0; k < 6; k++)
		snprintf(row[k], CELL_MAX, "%s", head[k]);
	json_array_foreach(coefs, i, c) {
		if ((row = grid_row(&g)) == NULL) {
			grid_clear(&g);
			return -1;
		}
		cell(json_object_get(c, "name"), 0, row[0], CELL_MAX);
		for (k = 0; k < 4; k++)
			cell(json_object_get(c, cox_keys[k]), 5, row[k + 1], CELL_MAX);
		cell(json_object_get(c, "p"), 3, row[5], CELL_MAX);
	}
	grid_put(&g, b);
	grid_clear(&g);
	if (json_is_array(json_object_get(r, "aliased")))
		pht_buf_putf(b, "(%zu not defined because of singularities)\n",
		    json_array_size(json_object_get(r, "aliased")));
	t = json_object_get(r, "lr_test");
	if (json_is_object(t))
		pht_buf_putf(b, "\nLikelihood ratio test=%.2f  on %lld df, p=%.3g\n",
		    json_number_value(json_object_get(t, "chisq")),
		    (long long)json_integer_value(json_object_get(t, "df")),
		    json_number_value(json_object_get(t, "p")));
	pht_buf_putf(b, "n= %lld, number of events= %lld\n",
	    (long long)json_integer_value(json_object_get(r, "n")),
	    (long long)json_integer_value(json_object_get(r, "events")));
	return 0;
}

/* glm.lua: R's print of summary.glm's coefficients and deviances. */
static int
put_glm(struct pht_buf *b, const json_t *r, enum pht_analyst_format fmt)
{
	const json_t *coefs = json_object_get(r, "coefficients"), *c;
	const char *fam = json_string_value(json_object_get(r, "family"));
	int t = fam != NULL && strcmp(fam, "gaussian") == 0;
	const char *keys[] = {"estimate", "se", t ? "t" : "z", "p"};
	char (*row)[CELL_MAX];
	struct grid g;
	size_t i;

	if (fmt == PHT_ANALYST_FORMAT_CSV) {
		pht_buf_putf(b, "term,estimate,se,%s,p\n", keys[2]);
		json_array_foreach(coefs, i, c)
			csv_row(b, json_string_value(json_object_get(c, "name")) != NULL ?
			    json_string_value(json_object_get(c, "name")) : "", c, keys, 4);
		return 0;
	}
	pht_buf_putf(b, "Coefficients:");
	if (json_is_array(json_object_get(r, "aliased")))
		pht_buf_putf(b, " (%zu not defined because of singularities)",
		    json_array_size(json_object_get(r, "aliased")));
	pht_buf_putc(b, '\n');
	memset(&g, 0, sizeof(g));
	g.ncols = 5;
	if ((row = grid_row(&g)) == NULL)
		return -1;
	snprintf(row[1], CELL_MAX, "Estimate");
	snprintf(row[2], CELL_MAX, "Std. Error");
	snprintf(row[3], CELL_MAX, "%s value", keys[2]);
	snprintf(row[4], CELL_MAX, "Pr(>|%s|)", keys[2]);
	json_array_foreach(coefs, i, c) {
		if ((row = grid_row(&g)) == NULL) {
			grid_clear(&g);
			return -1;
		}
		cell(json_object_get(c, "name"), 0, row[0], CELL_MAX);
		cell(json_object_get(c, "estimate"), 5, row[1], CELL_MAX);
		cell(json_object_get(c, "se"), 5, row[2], CELL_MAX);
		cell(json_object_get(c, keys[2]), 4, row[3], CELL_MAX);
		cell(json_object_get(c, "p"), 3, row[4], CELL_MAX);
	}
	grid_put(&g, b);
	grid_clear(&g);
	pht_buf_putf(b, "\n(Dispersion parameter for %s family taken to be %.6g)\n\n",
	    fam != NULL ? fam : "?", json_number_value(json_object_get(r, "dispersion")));
	pht_buf_putf(b, "    Null deviance: %.2f  on %lld  degrees of freedom\n",
	    json_number_value(json_object_get(r, "null_deviance")),
	    (long long)json_integer_value(json_object_get(r, "df_null")));
	pht_buf_putf(b, "Residual deviance: %.2f  on %lld  degrees of freedom\n",
	    json_number_value(json_object_get(r, "deviance")),
	    (long long)json_integer_value(json_object_get(r, "df_residual")));
	pht_buf_putf(b, "AIC: %.5g\n\nNumber of Fisher Scoring iterations: %lld\n",
	    json_number_value(json_object_get(r, "aic")),
	    (long long)json_integer_value(json_object_get(r, "iterations")));
	return 0;
}

static const char *const km_keys[] = {"time", "n_risk", "n_event", "n_censor", "surv",
    "std_err", "lower", "upper"};

/* km.lua: print(survfit) per group, then summary(survfit) per curve. */
static int
put_km(struct pht_buf *b, const json_t *r, enum pht_analyst_format fmt)
{
	static const char *const head[] = {"time", "n.risk", "n.event", "survival",
	    "std.err", "lower 95% CI", "upper 95% CI"};
	static const char *const kidx[] = {"time", "n_risk", "n_event", "surv", "std_err",
	    "lower", "upper"};
	const json_t *curves = json_object_get(r, "curves"), *c, *p, *lr;
	char grp[CELL_MAX], (*row)[CELL_MAX];
	struct grid g;
	size_t i, j, k;

	if (fmt == PHT_ANALYST_FORMAT_CSV) {
		pht_buf_puts(b, "group,time,n_risk,n_event,n_censor,surv,std_err,lower,upper\n");
		json_array_foreach(curves, i, c) {
			cell(json_object_get(c, "group"), 17, grp, sizeof(grp));
			json_array_foreach(json_object_get(c, "table"), j, p)
				csv_row(b, grp, p, km_keys, 8);
		}
		return 0;
	}
	memset(&g, 0, sizeof(g));
	g.ncols = 6;
	if ((row = grid_row(&g)) == NULL)
		return -1;
	snprintf(row[1], CELL_MAX, "n");
	snprintf(row[2], CELL_MAX, "events");
	snprintf(row[3], CELL_MAX, "median");
	snprintf(row[4], CELL_MAX, "0.95LCL");
	snprintf(row[5], CELL_MAX, "0.95UCL");
	json_array_foreach(curves, i, c) {
		if ((row = grid_row(&g)) == NULL)
			goto fail;
		cell(json_object_get(c, "group"), 6, grp, sizeof(grp));
		snprintf(row[0], CELL_MAX, "%s%.50s", json_object_get(c, "group") != NULL ?
		    "group=" : "", json_object_get(c, "group") != NULL ? grp : "all");
		cell(json_object_get(c, "n"), 6, row[1], CELL_MAX);
		cell(json_object_get(c, "events"), 6, row[2], CELL_MAX);
		cell(json_object_get(c, "median"), 6, row[3], CELL_MAX);
		cell(json_object_get(c, "median_lower"), 6, row[4], CELL_MAX);
		cell(json_object_get(c, "median_upper"), 6, row[5], CELL_MAX);
	}
	grid_put(&g, b);
	grid_clear(&g);
	json_array_foreach(curves, i, c) {
		if (json_object_get(c, "group") != NULL) {
			cell(json_object_get(c, "group"), 6, grp, sizeof(grp));
			pht_buf_putf(b, "\n                group=%s\n", grp);
		} else {
			pht_buf_putc(b, '\n');
		}
		g.ncols = 7;
		if ((row = grid_row(&g)) == NULL)
			goto fail;
		for (k = 0; k < 7; k++)
			snprintf(row[k], CELL_MAX, "%s", head[k]);
		json_array_foreach(json_object_get(c, "table"), j, p) {
			if ((row = grid_row(&g)) == NULL)
				goto fail;
			for (k = 0; k < 7; k++)
				cell(json_object_get(p, kidx[k]), k < 3 ? 6 : 4, row[k],
				    CELL_MAX);
		}
		grid_put(&g, b);
		grid_clear(&g);
	}
	lr = json_object_get(r, "logrank");
	if (json_is_object(lr))
		pht_buf_putf(b, "\nLog-rank test: Chisq= %.1f  on %lld degrees of freedom, "
		    "p= %.3g\n", json_number_value(json_object_get(lr, "chisq")),
		    (long long)json_integer_value(json_object_get(lr, "df")),
		    json_number_value(json_object_get(lr, "p")));
	return 0;
fail:
	grid_clear(&g);
	return -1;
}

/* Any other result: one row per value (table: path value; csv: path,value). */
static void
put_flat(struct pht_buf *b, const json_t *v, char *path, size_t len, size_t cap,
    enum pht_analyst_format fmt)
{
	const char *key;
	json_t *x;
	char s[CELL_MAX];
	size_t i;
	int n;

	if (json_is_object(v) || json_is_array(v)) {
		if (json_is_object(v)) {
			json_object_foreach((json_t *)v, key, x) {
				n = snprintf(path + len, cap - len, "%s%s", len ? "." : "", key);
				if (n > 0 && (size_t)n < cap - len)
					put_flat(b, x, path, len + (size_t)n, cap, fmt);
			}
		} else {
			json_array_foreach(v, i, x) {
				n = snprintf(path + len, cap - len, "[%zu]", i + 1);
				if (n > 0 && (size_t)n < cap - len)
					put_flat(b, x, path, len + (size_t)n, cap, fmt);
			}
		}
		path[len] = '\0';
		return;
	}
	path[len] = '\0';
	if (fmt == PHT_ANALYST_FORMAT_CSV) {
		csv_field(b, path, 0);
		if (json_is_string(v))
			csv_field(b, json_string_value(v), 1);
		else {
			cell(v, 17, s, sizeof(s));
			csv_field(b, s, 1);
		}
	} else if (json_is_string(v)) {
		pht_buf_putf(b, "%-40s %s\n", path, json_string_value(v));
	} else {
		cell(v, 6, s, sizeof(s));
		pht_buf_putf(b, "%-40s %s\n", path, s);
	}
}

int
pht_analyst_format_parse(const char *name, enum pht_analyst_format *out)
{
	if (strcmp(name, "json") == 0)
		*out = PHT_ANALYST_FORMAT_JSON;
	else if (strcmp(name, "table") == 0)
		*out = PHT_ANALYST_FORMAT_TABLE;
	else if (strcmp(name, "csv") == 0)
		*out = PHT_ANALYST_FORMAT_CSV;
	else
		return -1;
	return 0;
}

int
pht_analyst_format(const json_t *result, enum pht_analyst_format fmt, char **out,
    struct pht_err *err)
{
	const json_t *first = json_array_get(json_object_get(result, "coefficients"), 0);
	struct pht_buf *b = NULL;
	char *dump, path[1024];
	int rc = 0;

	*out = NULL;
	if ((b = pht_buf_new(FORMAT_MAX)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (fmt == PHT_ANALYST_FORMAT_JSON) {
		if ((dump = pht_json_dump(result)) == NULL) {
			pht_buf_free(b);
			return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		}
		rc = pht_buf_putf(b, "%s\n", dump);
		free(dump);
	} else if (json_object_get(first, "coef") != NULL) {
		rc = put_cox(b, result, fmt);
	} else if (json_object_get(first, "estimate") != NULL) {
		rc = put_glm(b, result, fmt);
	} else if (json_is_array(json_object_get(result, "curves"))) {
		rc = put_km(b, result, fmt);
	} else {
		path[0] = '\0';
		if (fmt == PHT_ANALYST_FORMAT_CSV)
			pht_buf_puts(b, "path,value\n");
		put_flat(b, result, path, 0, sizeof(path), fmt);
		fmt = PHT_ANALYST_FORMAT_CSV;   /* the notes are rows already */
	}
	if (rc == 0 && fmt == PHT_ANALYST_FORMAT_TABLE)
		put_notes(b, result);
	/*
	 * A put past the maximum fails and leaves the buffer near it: a last
	 * 4 KiB that no longer fits says the text was cut.
	 */
	if (rc == 0 && pht_buf_len(b) + 4096 >= FORMAT_MAX)
		rc = -2;
	if (rc != 0) {
		pht_buf_free(b);
		return rc == -2 ? pht_errf(err, PHT_ERR_TOO_LARGE, "the result's text "
		    "is over %u bytes", FORMAT_MAX) : pht_errf(err, PHT_ERR_NOMEM,
		    "out of memory");
	}
	*out = pht_buf_steal(b, NULL);
	pht_buf_free(b);
	return *out != NULL ? PHT_OK : pht_errf(err, PHT_ERR_NOMEM, "out of memory");
}
