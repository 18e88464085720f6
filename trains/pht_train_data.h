/* pht_train_data.h — the data API a train's station() sees: read-only columnar views (internal to trains/). */
#ifndef PHT_TRAIN_DATA_H
#define PHT_TRAIN_DATA_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

struct pht_dataset;
struct pht_train_ctx;

/*
 * Pushes the view of all rows of ds (the `data` argument). ds must outlive
 * the state. Registers the view, column and row metatables (protected:
 * getmetatable gives false) on first use. Raises on memory errors.
 */
void pht_train_data_push(lua_State *L, const struct pht_dataset *ds);

/* Distinct rows of ctx->ds touched through the data API so far. */
uint64_t pht_train_data_rows_read(const struct pht_train_ctx *ctx);

/*
 * Comma-separated names of the columns the train read, in dictionary
 * order, into out (always NUL-terminated; ends with ",..." if cut).
 */
void pht_train_data_columns_read(const struct pht_train_ctx *ctx, char *out,
    size_t outlen);

#endif
