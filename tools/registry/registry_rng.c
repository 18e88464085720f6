/* registry_rng.c — the generator's only randomness (xoshiro256** seeded by splitmix64) and its elementary functions computed from + - * / and sqrt, so that every machine writes the same bytes. */
#include "registry_rng.h"

#include <math.h>
#include <stdint.h>

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void
rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform on [0, 1) with 53 random bits. */
double
rng_unif(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform on (0, 1]. */
double
rng_unif_pos(struct rng *r)
{
	return 1.0 - rng_unif(r);
}

/* Uniform integer in [0, n), n > 0 (Lemire's multiply, bias < 2^-40 here). */
uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}


const double LN2 = 0.69314718055994530942;

/* Natural logarithm of x > 0 (finite), from frexp and a fixed atanh series. */
double
det_log(double x)
{
	double m, s, s2, p;
	int e, k;

	m = frexp(x, &e);
	if (m < 0.70710678118654752440) {
		m *= 2.0;
		e--;
	}
	s = (m - 1.0) / (m + 1.0);
	s2 = s * s;
	p = 1.0 / 27.0;
	for (k = 25; k >= 1; k -= 2)
		p = p * s2 + 1.0 / k;
	return (double)e * LN2 + 2.0 * s * p;
}

/* e^x, from a fixed Taylor series on |r| <= ln2/2 and ldexp. */
double
det_exp(double x)
{
	double r, p;
	int k, i;

	if (x < -700.0)
		return 0.0;
	if (x > 700.0)
		x = 700.0;
	k = (int)floor(x / LN2 + 0.5);
	r = x - (double)k * LN2;
	p = 1.0;
	for (i = 18; i >= 1; i--)
		p = 1.0 + p * r / i;
	return ldexp(p, k);
}

/* Standard normal deviate (Marsaglia's polar method, one value per call). */
double
rng_norm(struct rng *r)
{
	double u, v, s;

	do {
		u = 2.0 * rng_unif(r) - 1.0;
		v = 2.0 * rng_unif(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	return u * sqrt(-2.0 * det_log(s) / s);
}

/*
 * A time from S(t) = exp(-(t / scale)^shape * exp(lp)):
 * t = scale * (E * exp(-lp))^(1 / shape), E ~ Exp(1).
 */
double
rng_weibull_ph(struct rng *r, double scale, double shape, double lp)
{
	double e = -det_log(rng_unif_pos(r));

	if (e <= 0.0)
		return scale * 1e-9;
	return scale * det_exp((det_log(e) - lp) / shape);
}

/* Draws an index from weights w[0..n-1] (sum > 0). */
int
rng_pick(struct rng *r, const double *w, int n)
{
	double tot = 0.0, u;
	int i;

	for (i = 0; i < n; i++)
		tot += w[i];
	u = rng_unif(r) * tot;
	for (i = 0; i < n; i++) {
		if (u < w[i])
			return i;
		u -= w[i];
	}
	for (i = n - 1; i > 0 && w[i] <= 0.0; i--)
		;
	return i;
}
