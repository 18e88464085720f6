/* train_data_fixture.h — the generated dataset, the limits and the run helpers shared by the train_data test's files. */
#ifndef TRAIN_DATA_FIXTURE_H
#define TRAIN_DATA_FIXTURE_H

#include "sandbox_gen.h"

#include "pht_err.h"
#include "pht_json.h"
#include "pht_train.h"

#include <stddef.h>
#include <stdint.h>

#define N 1000

extern struct gen g;
extern struct pht_dataset *ds;
extern struct pht_limits lim;
extern struct pht_run_stats st;
extern struct pht_err run_err;

/* Runs station() whose body is given; returns the output or NULL (run_err set). */
json_t *run_body(const char *body, uint64_t seed);
/* got within 1e-12 of want (relative beyond 1). */
int near(double got, double want);
/* Variances: relative error at most 1e-12 (the exact figure may be far below 1). */
int var_near(double got, double want);
/* Sample variance of the n values x whose miss flag is 0, by two passes in long double. */
double naive_var(const double *x, const int *miss, size_t n);
/* The number o[k] (0 when absent). */
double num(const json_t *o, const char *k);
/* The string o[k], "(none)" when absent. */
const char *str(const json_t *o, const char *k);
/* days as YYYY-MM-DD. */
void date_str(int64_t days, char out[16]);

/*
 * A small dataset: ten rows missing age and one with age 42.5 (FEW_AGE_ROW),
 * smoker and stage as in the arrays below; the expectations are computed
 * from these arrays.
 */
#define FEW_N 11
#define FEW_AGE_ROW 10
extern const int few_smoker[FEW_N];
extern const int few_stage[FEW_N];
/* Runs body over the small dataset. */
json_t *run_few(const char *body);

/* The test groups, in the order main runs them. */
void test_whole_columns(void);
void test_where(void);
void test_chained_and_empty(void);
void test_group_by(void);
void test_key_folding(void);
void test_crosstab(void);
void test_crosstab_complementary(void);
void test_crosstab_folded(void);
void test_removed(void);
void test_rows_and_meta(void);
void test_seed_params_combine(void);
void test_closed_stdio(void);
void test_where_kernels(void);
void test_sum_kernels(void);
void test_aggregate_by(void);
void test_integer_sums(void);
void test_variance_offset(void);
void test_identifier_invisible(void);

#endif
