/* registry_model.h — the registry's model: levels, treatments, hospitals and patients (registry_model.c). */
#ifndef REGISTRY_MODEL_H
#define REGISTRY_MODEL_H

#include <stdint.h>

struct rng;

enum { SEX_FEMALE, SEX_MALE, NSEX };

enum { ST_IIIA, ST_IIIB, ST_IIIC, ST_IIID, ST_M1A, ST_M1B, ST_M1C, ST_M1D, NSTAGE };

enum { BRAF_WT, BRAF_V600, NBRAF };

enum { RESP_CR, RESP_PR, RESP_SD, RESP_PD, RESP_NE, NRESP };

enum {
	TR_CHEMO, TR_NIVO, TR_PEMBRO, TR_IPI, TR_IPINIVO, TR_DABTRAM,
	TR_ENCOBINI, TR_VEMCOBI, NTREAT
};

extern const char *const sex_levels[NSEX];
extern const char *const stage_levels[NSTAGE];
extern const char *const braf_levels[NBRAF];
extern const char *const resp_levels[NRESP];

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

extern const struct treatment treatments[NTREAT];

/* The logarithms and scales of the model, computed once (det_log is not free). */
struct model {
	double log_stage_hr[NSTAGE], log_hr_os[NTREAT], log_hr_prog[NTREAT];
	double log_ecog, log_ldh, log_age10, log_male, log_line;
	double scale_os, scale_prog;
};

/* Per-hospital parameters, drawn from the federation stream. */
struct hospital {
	double size_weight;   /* relative number of patients */
	double adv_factor;    /* multiplies the weights of stage IV-M1c/M1d */
	double age_shift;     /* years added to the mean age */
	double ipinivo_pref;  /* multiplies the ipilimumab+nivolumab weight */
	double p_miss_ldh, p_miss_ecog, p_miss_braf;
	double frailty;       /* log hazard ratio of the hospital */
};

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

/* Computes the model's logarithms and scales once. */
void model_init(struct model *m);

/* Draws the parameters of n hospitals from the federation stream of seed. */
void hospitals_draw(uint64_t seed, unsigned n, struct hospital *h);

/* Fills the fixed dates (start window, cut-off, approval dates). */
void dates_init(struct dates *d);

/* Draws patient row of hospital hidx (h) from r into *p. */
void generate_patient(struct rng *r, const struct model *md,
    const struct hospital *h, const struct dates *d, unsigned hidx,
    uint64_t row, struct patient *p);

#endif
