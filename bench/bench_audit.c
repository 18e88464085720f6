/* bench_audit.c — pht-bench-audit: the release auditor (pht_station_diff_admit) under a stream of standard-train-like and ad-hoc row sets over a 100,000-row dataset. */
#include "bench_util.h"

#include "pht_err.h"
#include "pht_key.h"
#include "pht_station_diff.h"
#include "pht_station_setsys.h"
#include "pht_train_rowsets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NROWS 100000
#define MAXSETS 64

/* The synthetic registry: a fixed function of the row number. */
static uint8_t age[NROWS], sex[NROWS], arm[NROWS], stage[NROWS], event[NROWS];
static uint16_t tdays[NROWS];
static uint32_t cost[NROWS];    /* 0..9999: its percentile grid is every 100 */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static int any_threshold;       /* ad hoc filters may cut at any age and cost, not only a grid */
static int study;               /* standard trains run on a study's 24 cohorts, not on fresh filters */

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
gen_data(void)
{
	size_t i;

	for (i = 0; i < NROWS; i++) {
		age[i] = (uint8_t)(18 + next() % 73);
		sex[i] = (uint8_t)(next() % 2);
		arm[i] = (uint8_t)(next() % 3);
		stage[i] = (uint8_t)(next() % 4);
		tdays[i] = (uint16_t)(1 + next() % 3650);
		event[i] = (uint8_t)(next() % 3 != 0);
		cost[i] = (uint32_t)(next() % 10000);
	}
}

/* A filter: a conjunction of predicates an analyst might choose. */
struct filter {
	int age_lo, age_hi, sex, arm, stage_max, cost_lo;
};

static void
random_filter(struct filter *f, int adhoc)
{
	int p = adhoc ? 45 : 25;     /* percent chance of each predicate */

	f->age_lo = (int)(next() % 100) < p ? 20 + 5 * (int)(next() % 14) : 0;
	f->age_hi = (int)(next() % 100) < p ? f->age_lo + 5 * (1 + (int)(next() % 8)) : 999;
	if (adhoc && any_threshold && (int)(next() % 100) < p) {   /* ad hoc: any year */
		f->age_lo = 18 + (int)(next() % 70);
		f->age_hi = f->age_lo + 1 + (int)(next() % 30);
	}
	f->sex = (int)(next() % 100) < p ? (int)(next() % 2) : -1;
	f->arm = (int)(next() % 100) < p ? (int)(next() % 3) : -1;
	f->stage_max = (int)(next() % 100) < p ? (int)(next() % 4) : 9;
	f->cost_lo = (int)(next() % 100) < p ? 100 * (int)(next() % 100) : 0;
	if (adhoc && any_threshold && (int)(next() % 100) < p)
		f->cost_lo = (int)(next() % 10000);
}

static int
in_filter(const struct filter *f, size_t i)
{
	return age[i] >= f->age_lo && age[i] < f->age_hi && (f->sex < 0 || sex[i] == f->sex) &&
	    (f->arm < 0 || arm[i] == f->arm) && stage[i] <= f->stage_max &&
	    (int)cost[i] >= f->cost_lo;
}

static uint32_t rows[NROWS];
static struct filter cohorts[24];

/* The filter of a standard train's release: one of the study's cohorts, or a fresh one. */
static void
train_filter(struct filter *f)
{
	if (study)
		*f = cohorts[next() % 24];
	else
		random_filter(f, 0);
}

/* Adds the rows of filter f (and group slot g of col, unless col is NULL) to rs. */
static void
add_set(struct pht_train_rowsets *rs, const struct filter *f, const uint8_t *col, int g,
    int tmin)
{
	size_t i, n = 0;

	for (i = 0; i < NROWS; i++)
		if (in_filter(f, i) && (col == NULL || col[i] == g) && tdays[i] >= tmin)
			rows[n++] = (uint32_t)i;
	if (n > 0)
		pht_train_rowsets_add(rs, rows, n, 0);
}

/* The next release: its row sets. */
static struct pht_train_rowsets *
next_release(int *kind)
{
	struct pht_train_rowsets *rs = pht_train_rowsets_new(NROWS);
	struct filter f;
	int g, t, r = (int)(next() % 100);

	if (r < 20) {                   /* group_by / aggregate_by over a filter */
		const uint8_t *cols[3] = {sex, arm, stage};
		int ng[3] = {2, 3, 4}, c = (int)(next() % 3);

		*kind = 0;
		train_filter(&f);
		for (g = 0; g < ng[c]; g++)
			add_set(rs, &f, cols[c], g, 0);
	} else if (r < 30) {            /* crosstab sex x stage */
		*kind = 1;
		train_filter(&f);
		f.sex = -1;
		for (g = 0; g < 8; g++) {
			struct filter h = f;

			h.sex = g / 4;
			h.stage_max = g % 4;
			if (g % 4 > 0) {
				/* stage == g%4: as a difference of the cumulative filters */
				size_t i, n = 0;

				for (i = 0; i < NROWS; i++)
					if (in_filter(&h, i) && stage[i] == g % 4)
						rows[n++] = (uint32_t)i;
				if (n > 0)
					pht_train_rowsets_add(rs, rows, n, 0);
			} else
				add_set(rs, &h, NULL, 0, 0);
		}
	} else if (r < 40) {            /* Kaplan-Meier risk sets on a 180-day grid per arm */
		*kind = 2;
		train_filter(&f);
		f.arm = (int)(next() % 3);
		for (t = 0; t < 3650; t += 180)
			add_set(rs, &f, NULL, 0, t);
	} else if (r < 60) {            /* nested filters: age >= a, a on a 5-year grid */
		*kind = 3;
		train_filter(&f);
		f.age_lo = 20 + 5 * (int)(next() % 14);
		add_set(rs, &f, NULL, 0, 0);
	} else {                        /* ad hoc */
		*kind = 4;
		random_filter(&f, 1);
		add_set(rs, &f, NULL, 0, 0);
	}
	return rs;
}

/* Distinct sets seen: a hash set of 64-bit set digests. */
static uint64_t *seen;
static size_t seen_cap, nseen;

static int
see(uint64_t h)
{
	size_t i;

	if (h == 0)
		h = 1;
	for (i = h & (seen_cap - 1); seen[i] != 0; i = (i + 1) & (seen_cap - 1))
		if (seen[i] == h)
			return 0;
	seen[i] = h;
	nseen++;
	return 1;
}

static uint64_t
digest(const struct pht_train_rowsets *rs, size_t i)
{
	size_t n = pht_train_rowsets_rows(rs, i, rows), j;
	uint64_t h = 0xcbf29ce484222325ULL ^ n;

	for (j = 0; j < n; j++)
		h = (h ^ rows[j]) * 0x100000001b3ULL;
	return h;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	struct pht_station_diff *d = NULL, *d2 = NULL;
	struct pht_key *key = NULL;
	struct pht_err e;
	static uint64_t keys[NROWS];
	char prefix[1024], path[1100], t[16];
	double *lat = NULL, t0, total = 0, cpu0;
	size_t target, nrel = 0, cap = 1024, i, withheld = 0, bounds = 0, kinds[5] = {0};
	long hwm0;
	int kind, r;
	struct stat st;
	struct pht_station_setsys_limits lim;
	const char *mix;
	double run_start, wall_budget;

	if (argc < 3) {
		fprintf(stderr, "usage: pht-bench-audit DIR DISTINCT_SETS study|grid|any [SECONDS [WALL]]\n"
		    "  admits standard-train-like and ad-hoc releases over a 100,000-row\n"
		    "  dataset until DISTINCT_SETS distinct row sets were submitted; prints\n"
		    "  audit.* metrics (time per release, memory, replay). study: the\n"
		    "  standard trains run on 24 fixed cohorts, ad hoc filters on grids;\n"
		    "  grid: every release on a fresh filter, thresholds on grids (ages by\n"
		    "  5 years, cost by percentiles); any: ad hoc filters may also cut anywhere.\n"
		    "  In every mix 40%% of releases are ad hoc subsets. WALL: stop after\n"
		    "  that many seconds (distinct_sets_reached says how far it got).\n"
		    "  SECONDS: the auditor's time bound (2)\n");
		return 2;
	}
	target = (size_t)strtoul(argv[2], NULL, 10);
	any_threshold = argc > 3 && strcmp(argv[3], "any") == 0;
	study = argc > 3 && strcmp(argv[3], "study") == 0;
	mix = any_threshold ? "any" : study ? "study" : "grid";
	snprintf(prefix, sizeof(prefix), "%s/audit-%s-%zu", argv[1], mix, target);
	snprintf(path, sizeof(path), "%s.bench", prefix);
	unlink(path);
	for (seen_cap = 1; seen_cap < 4 * target + 16; seen_cap *= 2)
		;
	if ((seen = calloc(seen_cap, sizeof(*seen))) == NULL ||
	    (lat = malloc(cap * sizeof(*lat))) == NULL)
		return 1;
	gen_data();
	for (i = 0; i < 24; i++)
		random_filter(&cohorts[i], 0);
	hwm0 = bench_hwm_kib();
	if (pht_key_generate(PHT_KEY_SIGN, &key, &e) != PHT_OK ||
	    pht_station_diff_open(prefix, key, &d, &e) != PHT_OK) {
		fprintf(stderr, "pht-bench-audit: %s\n", e.msg);
		return 1;
	}
	pht_station_setsys_default_limits(&lim);
	lim.seconds = argc > 4 ? strtod(argv[4], NULL) : 2.0;
	wall_budget = argc > 5 ? strtod(argv[5], NULL) : 0;
	pht_station_diff_set_limits(d, &lim);
	for (i = 0; i < NROWS; i++) {
		snprintf(t, sizeof(t), "P%zu", i);
		keys[i] = pht_station_diff_key(d, "bench", t, strlen(t), 0);
	}
	cpu0 = bench_cpu();
	run_start = bench_now();
	while (nseen < target && (wall_budget <= 0 || bench_now() - run_start < wall_budget)) {
		struct pht_train_rowsets *rs = next_release(&kind);

		for (i = 0; i < pht_train_rowsets_count(rs); i++)
			see(digest(rs, i));
		t0 = bench_now();
		pht_err_clear(&e);
		r = pht_station_diff_admit(d, "bench", "fp-analyst", "train", rs, keys, 5, NULL,
		    1700000000 + (int64_t)nrel, &e);
		if (nrel == cap && (lat = realloc(lat, (cap *= 2) * sizeof(*lat))) == NULL)
			return 1;
		lat[nrel++] = bench_now() - t0;
		total += lat[nrel - 1];
		kinds[kind]++;
		if (r == PHT_ERR_DISCLOSURE) {
			withheld++;
			bounds += strstr(e.msg, "bounds") != NULL;
		} else if (r != PHT_OK) {
			fprintf(stderr, "pht-bench-audit: %s: %s\n", pht_strerror(r), e.msg);
			return 1;
		}
		pht_train_rowsets_free(rs);
		if (getenv("PHT_BENCH_AUDIT_TRACE") != NULL) {
			struct pht_station_setsys_stats ts;

			pht_station_diff_stats(d, "bench", &ts);
			fprintf(stderr, "release %zu kind %d sets %zu: %d %.1f ms atoms %llu rank %llu "
			    "small %llu entries %llu candidates %llu (%s)\n", nrel, kind, nseen, r,
			    1e3 * lat[nrel - 1], (unsigned long long)ts.atoms,
			    (unsigned long long)ts.basis, (unsigned long long)ts.small_basis,
			    (unsigned long long)ts.entries, (unsigned long long)ts.candidates,
			    r == PHT_OK ? "" : e.msg);
		}
	}
	{
		double cpu = bench_cpu() - cpu0;
		struct pht_station_setsys_stats ss;

		pht_station_diff_stats(d, "bench", &ss);
		printf("audit.%s.%zu.atoms\t%llu\n", mix, target, (unsigned long long)ss.atoms);
		printf("audit.%s.%zu.rank\t%llu\n", mix, target, (unsigned long long)ss.basis);
		printf("audit.%s.%zu.rank_small_pivots\t%llu\n", mix, target,
		    (unsigned long long)ss.small_basis);
		printf("audit.%s.%zu.basis_entries\t%llu\n", mix, target, (unsigned long long)ss.entries);
		printf("audit.%s.%zu.auditor_mib\t%.1f\n", mix, target, (double)ss.bytes / 1048576.0);
		qsort(lat, nrel, sizeof(*lat), cmp_d);
		printf("audit.%s.%zu.releases\t%zu\n", mix, target, nrel);
		printf("audit.%s.%zu.distinct_sets_reached\t%zu\n", mix, target, nseen);
		printf("audit.%s.%zu.withheld\t%zu\n", mix, target, withheld);
		printf("audit.%s.%zu.withheld_by_bounds\t%zu\n", mix, target, bounds);
		{
			const char *kn[5] = {"group_by", "crosstab", "km", "nested", "adhoc"};

			for (i = 0; i < 5; i++)
				printf("audit.%s.%zu.releases_%s\t%zu\n", mix, target, kn[i], kinds[i]);
		}
		printf("audit.%s.%zu.ms_per_release_mean\t%.3f\n", mix, target, 1e3 * total / (double)nrel);
		printf("audit.%s.%zu.ms_per_release_median\t%.3f\n", mix, target, 1e3 * lat[nrel / 2]);
		printf("audit.%s.%zu.ms_per_release_p90\t%.3f\n", mix, target, 1e3 * lat[nrel * 9 / 10]);
		printf("audit.%s.%zu.ms_per_release_max\t%.3f\n", mix, target, 1e3 * lat[nrel - 1]);
		printf("audit.%s.%zu.cpu_ms_per_release\t%.3f\n", mix, target, 1e3 * cpu / (double)nrel);
		printf("audit.%s.%zu.peak_rss_added_mib\t%.1f\n", mix, target,
		    (double)(bench_hwm_kib() - hwm0) / 1024.0);
		if (stat(path, &st) == 0)
			printf("audit.%s.%zu.store_mib\t%.2f\n", mix, target, (double)st.st_size / 1048576.0);
	}
	{
		struct pht_station_diff_info info;
		char snap[1200];

		pht_station_diff_info(d, "bench", &info);
		snprintf(snap, sizeof(snap), "%s+snapshot", path);
		printf("audit.%s.%zu.snapshots_written\t%llu\n", mix, target,
		    (unsigned long long)info.snapshots);
		printf("audit.%s.%zu.snapshot_write_ms\t%.1f\n", mix, target,
		    1e3 * info.snapshot_seconds);
		if (stat(snap, &st) == 0)
			printf("audit.%s.%zu.snapshot_mib\t%.1f\n", mix, target,
			    (double)st.st_size / 1048576.0);
		/*
		 * A fresh process's first admission: from the snapshot and the
		 * journal after it, then (the snapshot moved away) the whole journal.
		 */
		for (i = 0; i < 2; i++) {
			struct pht_train_rowsets *rs = pht_train_rowsets_new(NROWS);
			char aside[1300];

			snprintf(aside, sizeof(aside), "%s.aside", snap);
			if (i == 1 && rename(snap, aside) != 0)
				unlink(aside);
			pht_station_diff_open(prefix, key, &d2, &e);
			pht_station_diff_set_limits(d2, &lim);
			pht_train_rowsets_add(rs, NULL, 0, 1);
			t0 = bench_now();
			r = pht_station_diff_admit(d2, "bench", "fp-analyst", "train", rs, keys, 5,
			    NULL, 1700000000, &e);
			pht_station_diff_info(d2, "bench", &info);
			printf("audit.%s.%zu.%s\t%.1f\n", mix, target, i == 0 ? "replay_ms" :
			    "replay_full_ms", 1e3 * (bench_now() - t0));
			if (i == 0)
				printf("audit.%s.%zu.replay_releases_after_snapshot\t%llu\n", mix,
				    target, (unsigned long long)info.replayed);
			else
				rename(aside, snap);
			pht_train_rowsets_free(rs);
			pht_station_diff_free(d2);
			d2 = NULL;
		}
	}
	pht_station_diff_free(d);
	pht_key_free(key);
	free(lat);
	free(seen);
	return 0;
}
