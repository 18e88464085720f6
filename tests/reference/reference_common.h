/* reference_common.h — what the reference checks share: the pooled station CSVs, the R fixtures and their comparison, dense inverses and model matrices (reference_common.c). */
#ifndef REFERENCE_COMMON_H
#define REFERENCE_COMMON_H

#include <stddef.h>

#include <jansson.h>

#define MAXP 16
#define MAXSTATIONS 8

/* The pooled dataset: every station's CSV of one dataset, one table. */
struct dset {
	size_t nrows, ncols;
	char *names[64];
	int is_cat[64];
	json_t *levels[64];   /* borrowed from dict */
	json_t *dict;
	double *v;            /* nrows * ncols; NaN = missing; category = level index */
	int *station;         /* 0-based */
	int nstations;
};

struct design {
	size_t n, p;
	char names[MAXP][96];
	double *x;       /* n * p, complete cases only */
	size_t *row;     /* dataset row of each design row */
};

/* Frees what d holds (not d); accepts a zeroed d. */
void dset_free(struct dset *d);

/* The index of column name, or -1. */
int dset_col(const struct dset *d, const char *name);

/* The value at (row, col); NaN = missing, category = level index. */
double dval(const struct dset *d, size_t row, int col);

/* Loads data/NAME/station1.. into d; returns 0, or -1 after a failed tap_ok. */
int dset_load(const char *name, struct dset *d);

/* expected/NAME.json (new reference), or NULL after a failed tap_ok. */
json_t *load_fixture(const char *name);

/* A fixture number: null = NaN, "Inf"/"-Inf" = infinities. */
double jnum(const json_t *v);

/* Walks a path of object keys ("a.b.c"). */
const json_t *jget(const json_t *j, const char *path);

/* 1 if got is within rel (relative) of want; NaN matches NaN, an infinity only itself. */
int close_to(double got, double want, double rel);

/* Compares an array against the fixture's array at path (same length). */
void cmp_array(const json_t *fx, const char *path, const double *got, size_t n, double rel,
    const char *what);

/* Compares one number against the fixture's at path. */
void cmp_num(const json_t *fx, const char *path, double got, double rel, const char *what);

/* Inverts the p x p matrix a (row-major) into inv by Gauss-Jordan; -1 if singular. */
int mat_inverse(const double *a, size_t p, double *inv);

/*
 * Builds the design for covariates (README: a category gives one 0/1 column
 * per non-first level, named column+level), with an intercept first if asked,
 * over the rows where every column in need[] and every covariate is present.
 */
int design_build(const struct dset *d, const json_t *covs, int intercept, const int *need,
    size_t nneed, struct design *m);

/* Frees what m holds (not m). */
void design_free(struct design *m);

/* Checks that the fixture's term names are the design's (R's coefficient names). */
void check_terms(const json_t *terms, const struct design *m, const char *what);

/* The checks, by file: test_reference_km.c, test_reference_models.c. */
void test_km(const char *dataset);
void test_cox(const char *dataset);
void test_glm(const char *fname);

#endif
