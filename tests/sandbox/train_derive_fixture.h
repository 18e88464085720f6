/* train_derive_fixture.h — the generated dataset, the limits and the run helpers shared by the train_derive test's files. */
#ifndef TRAIN_DERIVE_FIXTURE_H
#define TRAIN_DERIVE_FIXTURE_H

#include "sandbox_gen.h"

#include "pht_err.h"
#include "pht_train.h"

#include <stddef.h>
#include <stdint.h>

#define N 1000

/* The locals every train body starts with. */
#define PRELUDE "local a, s, x, dx, k, id = data:column('age'), data:column('stage'),\n" \
    "  data:column('sex'), data:column('dx'), data:column('smoker'), data:column('id')\n"

extern struct gen g;
extern struct pht_dataset *ds;
extern struct pht_limits lim;
extern struct pht_run_stats st;
extern struct pht_err run_err;
extern int64_t d2010;            /* 2010-01-01 in days */

/* Runs body (after PRELUDE when d is the generated dataset) as a station on d; the output or NULL (run_err set). */
json_t *run_on(const struct pht_dataset *d, const char *body);
/* run_on the generated dataset. */
json_t *run_body(const char *body);
/* The number o[k] (0 when absent). */
double num(const json_t *o, const char *k);
/* got within 1e-9 of want (relative beyond 1). */
int near(double got, double want);
/* a is the array of the n strings want. */
int levels_are(const json_t *a, const char *const *want, size_t n);

/* The test groups, in the order main runs them. */
void test_cases(void);
void test_binding(void);
void test_rowsets(void);
void test_attacks(void);
void test_legit(void);
void test_cut(void);
void test_recode(void);
void test_with(void);
void test_with_cox(void);
void test_errors(void);
void test_two_datasets(void);
void test_memory(void);
void test_date_diff(void);
void test_identifier(void);
void test_thresholds(void);

#endif
