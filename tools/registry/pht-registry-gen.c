/* pht-registry-gen.c — writes a synthetic, seeded melanoma treatment registry, one dataset per hospital. */

/*
 * The registry is fake: no row describes a real patient. It is built so that
 * analyses on it have known answers. Each hospital gets NAME.csv and
 * NAME.dict.json (the PHT data dictionary) with one row per patient, i.e. the
 * one line of systemic therapy the registry recorded for that patient.
 *
 * Reproducibility. All randomness comes from xoshiro256** (Blackman & Vigna,
 * 2018), seeded through splitmix64: the federation-level parameters from
 * splitmix64(seed), hospital h from splitmix64(seed ^ (h * 0x9E3779B97F4A7C15)
 * + 1). Transcendental functions (log, exp, power) are computed here from
 * + - * / and sqrt only (IEEE 754 correctly rounded everywhere), frexp and
 * ldexp (exact), with a fixed number of series terms; meson compiles this
 * file with -ffp-contract=off so no compiler fuses a*b+c. The same seed and
 * options therefore give identical bytes on every machine.
 *
 * Model. Survival times follow proportional-hazards Weibull models:
 *   S(t | x) = exp(-(t / scale)^shape * exp(lp(x)))
 * overall survival (OS):   shape 0.90, scale so that the reference patient's
 *                          median is 1600 days;
 * progression (cause-specific, independent of death given x):
 *                          shape 0.80, reference median 900 days.
 * The reference patient: chemotherapy, stage IIIA, ECOG 0, LDH normal, age
 * 65, female, first line, hospital frailty 1. lp(x) is the sum of the log
 * hazard ratios below (the same risk factor table for OS and progression,
 * treatment-specific ratios for each):
 *
 *   factor                      OS HR     progression HR
 *   treatment (vs chemotherapy)
 *     nivolumab                 0.55      0.60
 *     pembrolizumab             0.55      0.60
 *     ipilimumab                0.75      0.85
 *     ipilimumab+nivolumab      0.45      0.50
 *     dabrafenib+trametinib     0.50      0.45
 *     encorafenib+binimetinib   0.48      0.42
 *     vemurafenib+cobimetinib   0.55      0.50
 *   stage (vs IIIA)   IIIB 1.3, IIIC 1.7, IIID 2.2, IV-M1a 2.0, IV-M1b 2.4,
 *                     IV-M1c 3.2, IV-M1d 4.2                (OS and progression)
 *   ECOG              1.5 per point                         (OS and progression)
 *   LDH elevated      1.8                                   (OS and progression)
 *   age               1.10 per 10 years above 65            (OS and progression)
 *   male sex          1.10                                  (OS and progression)
 *   line of therapy   1.25 per line after the first         (OS and progression)
 *   BRAF V600         1.00 (not prognostic by itself)
 *   hospital          exp(frailty_h), frailty_h ~ N(0, 0.10^2) (hospital 1: -0.10)
 *
 * Covariates are generated before being masked as missing, so a patient with
 * "NA" for LDH still has a true LDH status acting on the hazard (missing
 * completely at random within a hospital). PFS = min(progression, death),
 * event = either observed; OS event = death observed. Censoring: loss to
 * follow-up at rate 0.03 per year and administrative censoring at the data
 * cut-off 2024-06-30. Start dates are uniform over 2016-01-01 .. 2023-12-31.
 * Times are whole days rounded up (at least 1), so PFS <= OS always.
 *
 * Treatment choice: BRAF-targeted therapy only for BRAF V600 patients (never
 * for wildtype or untested ones); among V600 patients the targeted share is
 * 0.40 in first line (+0.20 if LDH is elevated, +0.20 in stage IV-M1d) and
 * 0.65 in later lines. The rest get immunotherapy or chemotherapy with weights
 * nivolumab 0.30, pembrolizumab 0.32, ipilimumab+nivolumab 0.30 x hospital
 * preference (x0.2 if ECOG >= 2, x0.4 if age >= 75), ipilimumab 0.02 (line 1)
 * or 0.20 (later), chemotherapy 0.03 / 0.10 / 0.35 by line 1 / 2 / 3.
 * Targeted: dabrafenib+trametinib 0.55, encorafenib+binimetinib 0.30,
 * vemurafenib+cobimetinib 0.15. A drug is only given from its EU approval
 * date (ipilimumab+nivolumab 2016-05-11, encorafenib+binimetinib 2018-09-20).
 * docs/registry.md tells the rest (response, adverse events, cost, hospitals).
 */

#include "pht_err.h"
#include "pht_file.h"
#include "pht_time.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GEN_VERSION "1"
#define MAX_HOSPITALS 99
#define MAX_ROWS_PER_HOSPITAL 9999999ULL   /* patient ids are h * 10^7 + row */
#define MAX_PATIENTS_TOTAL 200000000ULL

/* ---- PRNG: xoshiro256** seeded by splitmix64 ---------------------------- */

struct rng {
	uint64_t s[4];
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void
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

static uint64_t
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
static double
rng_unif(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform on (0, 1]. */
static double
rng_unif_pos(struct rng *r)
{
	return 1.0 - rng_unif(r);
}

/* Uniform integer in [0, n), n > 0 (Lemire's multiply, bias < 2^-40 here). */
static uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* ---- deterministic elementary functions --------------------------------- */

static const double LN2 = 0.69314718055994530942;

/* Natural logarithm of x > 0 (finite), from frexp and a fixed atanh series. */
static double
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
static double
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
static double
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
static double
rng_weibull_ph(struct rng *r, double scale, double shape, double lp)
{
	double e = -det_log(rng_unif_pos(r));

	if (e <= 0.0)
		return scale * 1e-9;
	return scale * det_exp((det_log(e) - lp) / shape);
}

/* Draws an index from weights w[0..n-1] (sum > 0). */
static int
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

/* ---- the model's tables -------------------------------------------------- */

enum { SEX_FEMALE, SEX_MALE, NSEX };
static const char *const sex_levels[NSEX] = { "female", "male" };

enum { ST_IIIA, ST_IIIB, ST_IIIC, ST_IIID, ST_M1A, ST_M1B, ST_M1C, ST_M1D, NSTAGE };
static const char *const stage_levels[NSTAGE] = {
	"IIIA", "IIIB", "IIIC", "IIID", "IV-M1a", "IV-M1b", "IV-M1c", "IV-M1d",
};
static const double stage_prob[NSTAGE] = {
	0.03, 0.07, 0.15, 0.03, 0.15, 0.17, 0.30, 0.10,
};
static const double stage_hr[NSTAGE] = {
	1.0, 1.3, 1.7, 2.2, 2.0, 2.4, 3.2, 4.2,
};
static const double stage_p_ldh[NSTAGE] = {
	0.10, 0.12, 0.14, 0.16, 0.28, 0.35, 0.50, 0.55,
};

enum { BRAF_WT, BRAF_V600, NBRAF };
static const char *const braf_levels[NBRAF] = { "wildtype", "V600" };

enum { RESP_CR, RESP_PR, RESP_SD, RESP_PD, RESP_NE, NRESP };
static const char *const resp_levels[NRESP] = { "CR", "PR", "SD", "PD", "NE" };

enum {
	TR_CHEMO, TR_NIVO, TR_PEMBRO, TR_IPI, TR_IPINIVO, TR_DABTRAM,
	TR_ENCOBINI, TR_VEMCOBI, NTREAT
};

/*
 * Per treatment: hazard ratios, response (objective response probability
 * among patients progression-free at the first assessment, and the share of
 * those that are complete), grade 3+ adverse event probability, cost per 28
 * days during the first 84 days and afterwards (EUR), the longest duration
 * given (days), and the EU approval date.
 */
struct treatment {
	const char *name;
	int targeted;
	double hr_os, hr_prog;
	double orr, cr_share, p_ae3;
	double cost28_induction, cost28_maintenance;
	int max_days;
	int avail_y, avail_m, avail_d;
	double w_line[3];   /* immunotherapy/chemo or targeted base weights by line */
};

static const struct treatment treatments[NTREAT] = {
	{ "chemotherapy",            0, 1.00, 1.00, 0.12, 0.10, 0.30,   300.0,   300.0, 126,
	  2000, 1, 1, { 0.03, 0.10, 0.35 } },
	{ "nivolumab",               0, 0.55, 0.60, 0.45, 0.35, 0.16,  7600.0,  7600.0, 730,
	  2015, 6, 19, { 0.30, 0.30, 0.30 } },
	{ "pembrolizumab",           0, 0.55, 0.60, 0.45, 0.35, 0.17,  7200.0,  7200.0, 730,
	  2015, 7, 17, { 0.32, 0.32, 0.32 } },
	{ "ipilimumab",              0, 0.75, 0.85, 0.18, 0.25, 0.25, 21300.0,     0.0,  84,
	  2011, 7, 13, { 0.02, 0.20, 0.20 } },
	{ "ipilimumab+nivolumab",    0, 0.45, 0.50, 0.60, 0.35, 0.55,  9900.0,  7600.0, 730,
	  2016, 5, 11, { 0.30, 0.30, 0.30 } },
	{ "dabrafenib+trametinib",   1, 0.50, 0.45, 0.75, 0.25, 0.45, 10800.0, 10800.0, 100000,
	  2015, 8, 25, { 0.55, 0.55, 0.55 } },
	{ "encorafenib+binimetinib", 1, 0.48, 0.42, 0.75, 0.25, 0.58, 10200.0, 10200.0, 100000,
	  2018, 9, 20, { 0.30, 0.30, 0.30 } },
	{ "vemurafenib+cobimetinib", 1, 0.55, 0.50, 0.70, 0.20, 0.60, 11500.0, 11500.0, 100000,
	  2015, 11, 20, { 0.15, 0.15, 0.15 } },
};

#define OS_SHAPE 0.90
#define OS_MEDIAN_REF 1600.0
#define PROG_SHAPE 0.80
#define PROG_MEDIAN_REF 900.0
#define HR_ECOG 1.5
#define HR_LDH 1.8
#define HR_AGE10 1.10
#define HR_MALE 1.10
#define HR_LINE 1.25
#define LOSS_RATE_PER_YEAR 0.03
#define FIRST_ASSESSMENT_DAY 84.0
#define AE3_HOSPITAL_COST 9500.0
#define VISIT_COST_28 250.0

/* The logarithms and scales of the model, computed once (det_log is not free). */
struct model {
	double log_stage_hr[NSTAGE], log_hr_os[NTREAT], log_hr_prog[NTREAT];
	double log_ecog, log_ldh, log_age10, log_male, log_line;
	double scale_os, scale_prog;
};

static void
model_init(struct model *m)
{
	int i;

	for (i = 0; i < NSTAGE; i++)
		m->log_stage_hr[i] = det_log(stage_hr[i]);
	for (i = 0; i < NTREAT; i++) {
		m->log_hr_os[i] = det_log(treatments[i].hr_os);
		m->log_hr_prog[i] = det_log(treatments[i].hr_prog);
	}
	m->log_ecog = det_log(HR_ECOG);
	m->log_ldh = det_log(HR_LDH);
	m->log_age10 = det_log(HR_AGE10);
	m->log_male = det_log(HR_MALE);
	m->log_line = det_log(HR_LINE);
	m->scale_os = OS_MEDIAN_REF / det_exp(det_log(LN2) / OS_SHAPE);
	m->scale_prog = PROG_MEDIAN_REF / det_exp(det_log(LN2) / PROG_SHAPE);
}

/* Per-hospital parameters, drawn from the federation stream. */
struct hospital {
	double size_weight;   /* relative number of patients */
	double adv_factor;    /* multiplies the weights of stage IV-M1c/M1d */
	double age_shift;     /* years added to the mean age */
	double ipinivo_pref;  /* multiplies the ipilimumab+nivolumab weight */
	double p_miss_ldh, p_miss_ecog, p_miss_braf;
	double frailty;       /* log hazard ratio of the hospital */
};

static void
hospitals_draw(uint64_t seed, unsigned n, struct hospital *h)
{
	struct rng r;
	unsigned i;

	rng_seed(&r, seed);
	for (i = 0; i < n; i++) {
		/* always draw the same number of values per hospital */
		double u1 = rng_unif(&r), u2 = rng_unif(&r), z3 = rng_norm(&r);
		double u4 = rng_unif(&r), u5 = rng_unif(&r), u6 = rng_unif(&r);
		double u7 = rng_unif(&r), z8 = rng_norm(&r);

		if (i == 0) {   /* the academic centre: large, advanced cases */
			h[i].size_weight = 3.0;
			h[i].adv_factor = 1.5;
			h[i].age_shift = -2.0;
			h[i].ipinivo_pref = 1.6;
			h[i].p_miss_ldh = 0.02;
			h[i].p_miss_ecog = 0.01;
			h[i].p_miss_braf = 0.01;
			h[i].frailty = -0.10;
		} else {
			h[i].size_weight = 0.4 + 1.6 * u1;
			h[i].adv_factor = 0.7 + 0.5 * u2;
			h[i].age_shift = 2.5 * z3;
			h[i].ipinivo_pref = 0.5 + u4;
			h[i].p_miss_ldh = 0.03 + 0.12 * u5;
			h[i].p_miss_ecog = 0.01 + 0.06 * u6;
			h[i].p_miss_braf = 0.01 + 0.04 * u7;
			h[i].frailty = 0.10 * z8;
		}
	}
}

/* One generated patient (true values plus what the registry shows). */
struct patient {
	int64_t id;
	int age, sex, stage, ecog, ldh, braf, treatment, line;
	int32_t start;   /* days since 1970-01-01 */
	int response, ae3;
	int64_t pfs_days, os_days;
	int pfs_event, os_event;
	int64_t cost_cents;
	int miss_ecog, miss_ldh, miss_braf;
};

/* Fixed dates (days since the epoch), computed once. */
struct dates {
	int32_t first_start, last_start, cutoff;
	int32_t avail[NTREAT];
};

static void
dates_init(struct dates *d)
{
	int t;

	d->first_start = (int32_t)pht_days_from_civil(2016, 1, 1);
	d->last_start = (int32_t)pht_days_from_civil(2023, 12, 31);
	d->cutoff = (int32_t)pht_days_from_civil(2024, 6, 30);
	for (t = 0; t < NTREAT; t++)
		d->avail[t] = (int32_t)pht_days_from_civil(treatments[t].avail_y,
		    (unsigned)treatments[t].avail_m, (unsigned)treatments[t].avail_d);
}


static int
choose_treatment(struct rng *r, const struct patient *p, const struct hospital *h,
    const struct dates *d)
{
	double w[NTREAT], io = 0.0, tg = 0.0, share = 0.0;
	int t, li = p->line - 1;

	for (t = 0; t < NTREAT; t++) {
		w[t] = p->start >= d->avail[t] ? treatments[t].w_line[li] : 0.0;
		if (t == TR_IPINIVO) {
			w[t] *= h->ipinivo_pref;
			if (p->ecog >= 2)
				w[t] *= 0.2;
			if (p->age >= 75)
				w[t] *= 0.4;
		}
		if (treatments[t].targeted)
			tg += w[t];
		else
			io += w[t];
	}
	/* BRAF-targeted therapy only for a documented V600 mutation */
	if (p->braf == BRAF_V600 && !p->miss_braf) {
		if (p->line == 1)
			share = 0.40 + (p->ldh ? 0.20 : 0.0) + (p->stage == ST_M1D ? 0.20 : 0.0);
		else
			share = 0.65;
	}
	for (t = 0; t < NTREAT; t++) {
		if (treatments[t].targeted)
			w[t] = tg > 0.0 ? w[t] * share / tg : 0.0;
		else
			w[t] = w[t] * (1.0 - share) / io;   /* chemotherapy: io > 0 */
	}
	return rng_pick(r, w, NTREAT);
}

/* Whole days, rounded up, at least 1. */
static int64_t
to_days(double t)
{
	double c = ceil(t);

	return c < 1.0 ? 1 : (int64_t)c;
}

static void
generate_patient(struct rng *r, const struct model *md, const struct hospital *h,
    const struct dates *d, unsigned hidx, uint64_t row, struct patient *p)
{
	static const double ecog_prob[4] = { 0.50, 0.35, 0.12, 0.03 };
	static const double line_prob[3] = { 0.72, 0.21, 0.07 };
	const struct treatment *tr;
	double w[NSTAGE], a, lp, t_os, t_prog, c_loss, admin, cens, pf;
	double os_t, pfs_t, u, p_or, p_ae, dur, stop_u, stop_day, cost, noise;
	int i;

	memset(p, 0, sizeof(*p));
	p->id = (int64_t)(hidx + 1) * 10000000 + (int64_t)row + 1;

	a = 64.0 + h->age_shift + 12.0 * rng_norm(r);
	a = a < 18.0 ? 18.0 : a > 95.0 ? 95.0 : a;
	p->age = (int)floor(a + 0.5);
	p->sex = rng_unif(r) < 0.58 ? SEX_MALE : SEX_FEMALE;
	for (i = 0; i < NSTAGE; i++)
		w[i] = stage_prob[i] * (i >= ST_M1C ? h->adv_factor : 1.0);
	p->stage = rng_pick(r, w, NSTAGE);
	p->ecog = rng_pick(r, ecog_prob, 4);
	if (rng_unif(r) < (p->age >= 75 ? 0.25 : 0.0) && p->ecog < 3)
		p->ecog++;
	p->ldh = rng_unif(r) < stage_p_ldh[p->stage];
	p->braf = rng_unif(r) < (p->age < 50 ? 0.55 : 0.40) ? BRAF_V600 : BRAF_WT;
	p->miss_ecog = rng_unif(r) < h->p_miss_ecog;
	p->miss_ldh = rng_unif(r) < h->p_miss_ldh;
	p->miss_braf = rng_unif(r) < h->p_miss_braf;
	p->line = 1 + rng_pick(r, line_prob, 3);
	p->start = d->first_start + (int32_t)rng_below(r,
	    (uint64_t)(d->last_start - d->first_start + 1));
	p->treatment = choose_treatment(r, p, h, d);
	tr = &treatments[p->treatment];

	/* survival: proportional-hazards Weibull, see the table on top */
	lp = md->log_stage_hr[p->stage] + p->ecog * md->log_ecog +
	    (p->ldh ? md->log_ldh : 0.0) +
	    (p->age - 65) / 10.0 * md->log_age10 +
	    (p->sex == SEX_MALE ? md->log_male : 0.0) +
	    (p->line - 1) * md->log_line + h->frailty;
	t_os = rng_weibull_ph(r, md->scale_os, OS_SHAPE, lp + md->log_hr_os[p->treatment]);
	t_prog = rng_weibull_ph(r, md->scale_prog, PROG_SHAPE, lp + md->log_hr_prog[p->treatment]);
	c_loss = -det_log(rng_unif_pos(r)) * 365.25 / LOSS_RATE_PER_YEAR;
	admin = (double)(d->cutoff - p->start);
	cens = c_loss < admin ? c_loss : admin;
	pf = t_prog < t_os ? t_prog : t_os;
	os_t = t_os <= cens ? t_os : cens;
	p->os_event = t_os <= cens;
	pfs_t = pf <= cens ? pf : cens;
	p->pfs_event = pf <= cens;
	p->os_days = to_days(os_t);
	p->pfs_days = to_days(pfs_t);

	/* best response at the first assessment (day 84) */
	u = rng_unif(r);
	if (p->pfs_event && pfs_t < FIRST_ASSESSMENT_DAY)
		p->response = t_prog < t_os ? RESP_PD : RESP_NE;
	else if (!p->pfs_event && pfs_t < FIRST_ASSESSMENT_DAY)
		p->response = RESP_NE;
	else {
		p_or = tr->orr * (pf >= 365.0 ? 1.4 : 0.7);
		p_or = p_or > 0.95 ? 0.95 : p_or;
		if (u < p_or)
			p->response = rng_unif(r) < tr->cr_share ? RESP_CR : RESP_PR;
		else
			p->response = RESP_SD;
	}

	p_ae = tr->p_ae3 * (p->age >= 75 ? 1.2 : 1.0);
	p->ae3 = rng_unif(r) < (p_ae > 0.95 ? 0.95 : p_ae);

	/* cost: drug by phase, visits, a hospital stay for a grade 3+ event */
	dur = pfs_t < tr->max_days ? pfs_t : (double)tr->max_days;
	stop_u = rng_unif(r);
	stop_day = 30.0 + 90.0 * rng_unif(r);
	if (p->ae3 && stop_u < 0.4 && stop_day < dur)
		dur = stop_day;
	cost = tr->cost28_induction * (dur < 84.0 ? dur : 84.0) / 28.0 +
	    tr->cost28_maintenance * (dur > 84.0 ? dur - 84.0 : 0.0) / 28.0 +
	    VISIT_COST_28 * dur / 28.0 + (p->ae3 ? AE3_HOSPITAL_COST : 0.0);
	noise = det_exp(0.05 * rng_norm(r));
	p->cost_cents = (int64_t)floor(cost * noise * 100.0 + 0.5);
}

/* ---- output ------------------------------------------------------------- */

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

static int
write_dict(const char *path, const char *name, uint64_t seed, struct pht_err *err)
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

static int
write_csv(const char *path, const struct model *md, const struct hospital *h,
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

/* ---- command line ------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: pht-registry-gen --out DIR [--seed N] [--hospitals N]\n"
	    "                        [--patients N | --rows-per-hospital N]\n\n"
	    "Writes a synthetic melanoma treatment registry: DIR/hospital_NN.csv and\n"
	    "DIR/hospital_NN.dict.json for each hospital. Output is identical on every\n"
	    "machine for the same options.\n\n"
	    "  --out DIR              output directory (created if missing)\n"
	    "  --seed N               random seed, 0 .. 2^64-1 (default 1)\n"
	    "  --hospitals N          number of hospitals, 1 .. %d (default 6)\n"
	    "  --patients N           patients in ALL hospitals together, split by\n"
	    "                         hospital size (default 3000; >= 10 per hospital)\n"
	    "  --rows-per-hospital N  exactly N patients in every hospital instead\n"
	    "                         (for benchmarks), 1 .. %llu\n",
	    MAX_HOSPITALS, (unsigned long long)MAX_ROWS_PER_HOSPITAL);
}

/* Parses a decimal unsigned integer in [lo, hi]; 0 on success. */
static int
parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9') {
		fprintf(stderr, "pht-registry-gen: %s: expected a number, got \"%s\"\n",
		    opt, s ? s : "");
		return -1;
	}
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "pht-registry-gen: %s: \"%s\" is not a number in "
		    "%" PRIu64 "..%" PRIu64 "\n", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* Splits total patients by hospital size (largest remainder, ties by index). */
static void
split_patients(uint64_t total, unsigned nh, const struct hospital *h, uint64_t *n)
{
	double wsum = 0.0, frac[MAX_HOSPITALS], best;
	uint64_t given = 0;
	unsigned i, b;

	for (i = 0; i < nh; i++)
		wsum += h[i].size_weight;
	for (i = 0; i < nh; i++) {
		double x = (double)total * h[i].size_weight / wsum;

		n[i] = (uint64_t)floor(x);
		frac[i] = x - floor(x);
		given += n[i];
	}
	while (given < total) {
		for (b = 0, best = -1.0, i = 0; i < nh; i++)
			if (frac[i] > best) {
				best = frac[i];
				b = i;
			}
		n[b]++;
		frac[b] = -2.0;
		given++;
	}
}

int
main(int argc, char **argv)
{
	struct hospital hosp[MAX_HOSPITALS];
	uint64_t seed = 1, nhosp = 6, patients = 3000, per = 0, counts[MAX_HOSPITALS];
	const char *outdir = NULL;
	struct dates dates;
	struct model model;
	struct pht_err err;
	char name[32], file[48], *path;
	int i, rc;
	unsigned h;

	pht_err_clear(&err);
	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (v == NULL) {
			fprintf(stderr, "pht-registry-gen: %s: unknown option or missing value\n", a);
			usage(stderr);
			return 2;
		}
		if (strcmp(a, "--out") == 0)
			outdir = v;
		else if (strcmp(a, "--seed") == 0) {
			if (parse_u64(a, v, 0, UINT64_MAX, &seed) != 0)
				return 2;
		} else if (strcmp(a, "--hospitals") == 0) {
			if (parse_u64(a, v, 1, MAX_HOSPITALS, &nhosp) != 0)
				return 2;
		} else if (strcmp(a, "--patients") == 0) {
			if (parse_u64(a, v, 1, MAX_PATIENTS_TOTAL, &patients) != 0)
				return 2;
		} else if (strcmp(a, "--rows-per-hospital") == 0) {
			if (parse_u64(a, v, 1, MAX_ROWS_PER_HOSPITAL, &per) != 0)
				return 2;
		} else {
			fprintf(stderr, "pht-registry-gen: %s: unknown option\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (outdir == NULL) {
		fprintf(stderr, "pht-registry-gen: --out DIR is required\n");
		usage(stderr);
		return 2;
	}
	if (per == 0 && patients < 10 * nhosp) {
		fprintf(stderr, "pht-registry-gen: --patients %" PRIu64 " is fewer than 10 "
		    "per hospital for %" PRIu64 " hospitals\n", patients, nhosp);
		return 2;
	}

	dates_init(&dates);
	model_init(&model);
	hospitals_draw(seed, (unsigned)nhosp, hosp);
	if (per > 0)
		for (h = 0; h < nhosp; h++)
			counts[h] = per;
	else
		split_patients(patients, (unsigned)nhosp, hosp, counts);
	for (h = 0; h < nhosp; h++)
		if (counts[h] > MAX_ROWS_PER_HOSPITAL) {
			fprintf(stderr, "pht-registry-gen: hospital %u would get %" PRIu64
			    " patients, more than %llu\n", h + 1, counts[h],
			    (unsigned long long)MAX_ROWS_PER_HOSPITAL);
			return 2;
		}

	if ((rc = pht_mkdir_p(outdir, 0755, &err)) != PHT_OK) {
		fprintf(stderr, "pht-registry-gen: %s\n", pht_err_msg(&err));
		return 1;
	}
	for (h = 0; h < nhosp; h++) {
		snprintf(name, sizeof(name), "hospital_%02u", h + 1);
		snprintf(file, sizeof(file), "%s.csv", name);
		if ((path = pht_path_join(outdir, file)) == NULL) {
			fprintf(stderr, "pht-registry-gen: out of memory\n");
			return 1;
		}
		rc = write_csv(path, &model, &hosp[h], &dates, seed, h, counts[h], &err);
		free(path);
		if (rc != PHT_OK) {
			fprintf(stderr, "pht-registry-gen: %s\n", pht_err_msg(&err));
			return 1;
		}
		snprintf(file, sizeof(file), "%s.dict.json", name);
		if ((path = pht_path_join(outdir, file)) == NULL) {
			fprintf(stderr, "pht-registry-gen: out of memory\n");
			return 1;
		}
		rc = write_dict(path, name, seed, &err);
		free(path);
		if (rc != PHT_OK) {
			fprintf(stderr, "pht-registry-gen: %s\n", pht_err_msg(&err));
			return 1;
		}
		printf("%s/%s.csv: %" PRIu64 " patients\n", outdir, name, counts[h]);
	}
	return 0;
}
