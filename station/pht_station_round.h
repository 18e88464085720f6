/* pht_station_round.h — the station's optional output rounding: counts to the nearest multiple of a base, after the train and before release. */
#ifndef PHT_STATION_ROUND_H
#define PHT_STATION_ROUND_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Which values are counts: JSON integers (not reals) that are the value
 * of an object key named in PHT_STATION_ROUND_KEYS, or that sit anywhere
 * inside an array or object that is the value of such a key (so
 * "counts": [[3, 12], [7, 0]] is rounded cell by cell). Nothing else is
 * touched: keys of groups (an integer column's values), rounds, degrees of
 * freedom, sums, means and coefficients stay as the train computed them.
 */
#define PHT_STATION_ROUND_KEYS \
	"n", "count", "counts", "events", "censored", "censorings", "at_risk", \
	"n_risk", "n_event", "n_censor", "missing", "below", "above", "patients", \
	"num", "den", "numerator", "denominator", "total", "dropped", "frequency"

/*
 * Rounds every count in v (in place) to the nearest multiple of base,
 * halves away from zero (7 -> 5, 8 -> 10, 2 -> 0 with base 5). base >= 2;
 * base 1 or less leaves v alone. Returns how many values changed.
 */
size_t pht_station_round_counts(json_t *v, int64_t base);

#endif
