/* sandbox_gen.h — a seeded synthetic registry for the sandbox tests, kept both as CSV text and as plain C arrays. */
#ifndef SANDBOX_GEN_H
#define SANDBOX_GEN_H

#include "pht_buf.h"
#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_time.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Columns: id integer (1..n), age number (2 decimals, ~5% missing),
 * sex category F/M/X (X rare), dx date (~3% missing), smoker boolean,
 * stage integer 1..4 (~2% missing). The arrays are the truth the tests
 * compute their expectations from, independently of the loader.
 */
struct gen {
	size_t n;
	double *age;
	int *age_miss;
	int *sex;          /* 0 F, 1 M, 2 X */
	int64_t *dx;       /* days since epoch */
	int *dx_miss;
	int *smoker;
	int64_t *stage;
	int *stage_miss;
	char *csv;
	size_t csv_len;
};

static const char gen_dict[] =
    "{\"dataset\":\"reg\",\"description\":\"synthetic\",\"columns\":["
    "{\"name\":\"id\",\"type\":\"integer\"},"
    "{\"name\":\"age\",\"type\":\"number\",\"unit\":\"years\"},"
    "{\"name\":\"sex\",\"type\":\"category\",\"levels\":[\"F\",\"M\",\"X\"]},"
    "{\"name\":\"dx\",\"type\":\"date\"},"
    "{\"name\":\"smoker\",\"type\":\"boolean\"},"
    "{\"name\":\"stage\",\"type\":\"integer\"}]}";

static inline uint64_t
gen_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static inline unsigned
gen_below(uint64_t *s, unsigned n)
{
	return (unsigned)((gen_next(s) >> 11) % n);
}

static inline int
gen_make(struct gen *g, size_t n, uint64_t seed)
{
	struct pht_buf *b = pht_buf_new((size_t)64 << 20);
	static const char *const sexes[] = {"F", "M", "X"};
	int64_t d0 = pht_days_from_civil(2000, 1, 1), d1 = pht_days_from_civil(2020, 12, 31);
	uint64_t s = seed ? seed : 1;
	size_t i;

	memset(g, 0, sizeof(*g));
	g->n = n;
	g->age = calloc(n, sizeof(double));
	g->age_miss = calloc(n, sizeof(int));
	g->sex = calloc(n, sizeof(int));
	g->dx = calloc(n, sizeof(int64_t));
	g->dx_miss = calloc(n, sizeof(int));
	g->smoker = calloc(n, sizeof(int));
	g->stage = calloc(n, sizeof(int64_t));
	g->stage_miss = calloc(n, sizeof(int));
	if (b == NULL || !g->age || !g->age_miss || !g->sex || !g->dx || !g->dx_miss ||
	    !g->smoker || !g->stage || !g->stage_miss)
		return -1;
	pht_buf_puts(b, "id,age,sex,dx,smoker,stage\r\n");
	for (i = 0; i < n; i++) {
		unsigned cents = 2000 + gen_below(&s, 7001);
		unsigned r = gen_below(&s, 100);
		int64_t y;
		unsigned m, d;

		g->age_miss[i] = gen_below(&s, 100) < 5;
		g->age[i] = g->age_miss[i] ? 0 : cents / 100.0;
		g->sex[i] = r < 2 ? 2 : (r < 51 ? 0 : 1);
		g->dx_miss[i] = gen_below(&s, 100) < 3;
		g->dx[i] = g->dx_miss[i] ? 0 : d0 + gen_below(&s, (unsigned)(d1 - d0 + 1));
		g->smoker[i] = gen_below(&s, 3) == 0;
		g->stage_miss[i] = gen_below(&s, 100) < 2;
		g->stage[i] = g->stage_miss[i] ? 0 : 1 + gen_below(&s, 4);
		pht_buf_putf(b, "%zu,", i + 1);
		if (g->age_miss[i])
			pht_buf_puts(b, "NA,");
		else
			pht_buf_putf(b, "%u.%02u,", cents / 100, cents % 100);
		pht_buf_putf(b, "%s,", sexes[g->sex[i]]);
		if (!g->dx_miss[i]) {
			pht_civil_from_days(g->dx[i], &y, &m, &d);
			pht_buf_putf(b, "%04lld-%02u-%02u", (long long)y, m, d);
		}
		pht_buf_putf(b, ",%s,", g->smoker[i] ? (i % 2 ? "true" : "1") : (i % 2 ? "false" : "0"));
		if (g->stage_miss[i])
			pht_buf_puts(b, "\"\"\r\n");
		else
			pht_buf_putf(b, "%lld\r\n", (long long)g->stage[i]);
	}
	g->csv = pht_buf_steal(b, &g->csv_len);
	pht_buf_free(b);
	return g->csv != NULL ? 0 : -1;
}

static inline int
gen_load(const struct gen *g, struct pht_dataset **ds, struct pht_err *err)
{
	return pht_dataset_load_mem(g->csv, g->csv_len, gen_dict, strlen(gen_dict),
	    "reg.csv", ds, err);
}

static inline void
gen_free(struct gen *g)
{
	free(g->age);
	free(g->age_miss);
	free(g->sex);
	free(g->dx);
	free(g->dx_miss);
	free(g->smoker);
	free(g->stage);
	free(g->stage_miss);
	free(g->csv);
}

/* Mean of the non-missing ages (the "good train" expectation). */
static inline double
gen_mean_age(const struct gen *g)
{
	double s = 0;
	size_t i, c = 0;

	for (i = 0; i < g->n; i++)
		if (!g->age_miss[i]) {
			s += g->age[i];
			c++;
		}
	return s / (double)c;
}

#endif
