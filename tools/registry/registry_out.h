/* registry_out.h — writing a hospital's CSV and data dictionary (registry_out.c). */
#ifndef REGISTRY_OUT_H
#define REGISTRY_OUT_H

#include <stdint.h>

#define GEN_VERSION "1"

struct dates;
struct hospital;
struct model;
struct pht_err;

/*
 * Writes the data dictionary of hospital name (seed in its description)
 * to path, atomically. PHT_OK, PHT_ERR_NOMEM or PHT_ERR_IO with err set.
 */
int registry_write_dict(const char *path, const char *name, uint64_t seed,
    struct pht_err *err);

/*
 * Writes nrows patients of hospital hidx (h), drawn from its own stream of
 * seed, to path (through path.tmp and a rename). PHT_OK, PHT_ERR_NOMEM or
 * PHT_ERR_IO with err set.
 */
int registry_write_csv(const char *path, const struct model *md,
    const struct hospital *h, const struct dates *d, uint64_t seed,
    unsigned hidx, uint64_t nrows, struct pht_err *err);

#endif
