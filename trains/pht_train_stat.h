/* pht_train_stat.h — distribution kernels of the data API: histograms on the station's grid and quantiles as means of blocks of at least k values (internal to trains/). */
#ifndef PHT_TRAIN_STAT_H
#define PHT_TRAIN_STAT_H

#include <lua.h>

/*
 * Adds data:histogram(name, edges), data:snap(name, edges) and
 * data:quantile(name, p [, min_cell]) to the view metatable of L
 * (pht_train_data_view_methods_add), documented in docs/train-api.md
 * ("Release kernels"). They read the column arrays directly, never
 * return a single row's value, suppress counts under k and record the
 * rows behind each released number as a row set. Called once per state
 * by pht_train_open_data(). Raises on memory errors.
 */
void pht_train_stat_register(lua_State *L);

/*
 * x snapped to the station's grid: the nearest multiple of step when
 * step > 0, else x rounded to digits significant decimal digits (0 stays
 * 0). Exposed for the tests.
 */
double pht_train_stat_snap(double x, double step, int digits);

#endif
