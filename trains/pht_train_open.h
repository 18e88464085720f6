/* pht_train_open.h — opens the data API and the kernel libraries on top of it from one table, as Lua's linit.c opens its libraries (internal to trains/). */
#ifndef PHT_TRAIN_OPEN_H
#define PHT_TRAIN_OPEN_H

#include <lua.h>

struct pht_dataset;

/*
 * Pushes the `data` argument of a station function: opens every kernel
 * library of the data API in the order of the table in pht_train_open.c
 * (each adds its methods to the view and column metatables), then pushes
 * the view of all rows of ds (pht_train_data_push). ds must outlive the
 * state. Calling it again on the same state opens nothing twice over (a
 * method added again replaces itself). Raises on memory errors.
 */
void pht_train_open_data(lua_State *L, const struct pht_dataset *ds);

#endif
