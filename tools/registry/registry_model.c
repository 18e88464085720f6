/* registry_model.c — the registry's model: its tables (stages, treatments and their hazard ratios), the hospitals' parameters and one patient drawn from them (the model is described at the top of pht-registry-gen.c). */
#include "registry_model.h"
#include "registry_rng.h"
#include "pht_time.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

const char *const sex_levels[NSEX] = { "female", "male" };

const char *const stage_levels[NSTAGE] = {
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

const char *const braf_levels[NBRAF] = { "wildtype", "V600" };

const char *const resp_levels[NRESP] = { "CR", "PR", "SD", "PD", "NE" };

const struct treatment treatments[NTREAT] = {
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

void
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

void
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

void
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

void
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
