/* registry_rng.h — xoshiro256** and the deterministic elementary functions the registry model draws with (registry_rng.c). */
#ifndef REGISTRY_RNG_H
#define REGISTRY_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

extern const double LN2;

/* Seeds r from seed through splitmix64. */
void rng_seed(struct rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1). */
double rng_unif(struct rng *r);
/* Uniform in (0, 1). */
double rng_unif_pos(struct rng *r);
/* Uniform in 0 .. n-1. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* log and exp from + - * / only: the same bits on every machine. */
double det_log(double x);
double det_exp(double x);
/* Standard normal. */
double rng_norm(struct rng *r);
/* A proportional-hazards Weibull time with linear predictor lp. */
double rng_weibull_ph(struct rng *r, double scale, double shape, double lp);
/* An index 0 .. n-1 drawn with weights w. */
int rng_pick(struct rng *r, const double *w, int n);

#endif
