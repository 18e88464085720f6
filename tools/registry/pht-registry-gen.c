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

#include "registry_model.h"
#include "registry_out.h"
#include "pht_err.h"
#include "pht_file.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_HOSPITALS 99
#define MAX_ROWS_PER_HOSPITAL 9999999ULL   /* patient ids are h * 10^7 + row */
#define MAX_PATIENTS_TOTAL 200000000ULL

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
		rc = registry_write_csv(path, &model, &hosp[h], &dates, seed, h, counts[h], &err);
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
		rc = registry_write_dict(path, name, seed, &err);
		free(path);
		if (rc != PHT_OK) {
			fprintf(stderr, "pht-registry-gen: %s\n", pht_err_msg(&err));
			return 1;
		}
		printf("%s/%s.csv: %" PRIu64 " patients\n", outdir, name, counts[h]);
	}
	return 0;
}
