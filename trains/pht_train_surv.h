/* pht_train_surv.h — the Kaplan–Meier kernel of the data API: a station's released step table on the station's time grid (internal to trains/). */
#ifndef PHT_TRAIN_SURV_H
#define PHT_TRAIN_SURV_H

#include <lua.h>

/*
 * Adds data:km{...} and data:time_resolution([name]) to the view
 * metatable of L (pht_train_data_view_methods_add), documented in
 * docs/train-api.md ("Release kernels"). data:km reads the complete cases
 * of its columns straight from the column arrays, coarsens times to the
 * station's grid (never finer than the policy's time resolution) and
 * returns per group the steps km.lua's station() returned, merged until
 * each covers max(k, min_cell, policy km_min_cell) patients; each released
 * step's and group's rows are recorded as row sets, unreleased ones never.
 * Called once per state by pht_train_open_data(). Raises on memory errors.
 */
void pht_train_surv_register(lua_State *L);

#endif
