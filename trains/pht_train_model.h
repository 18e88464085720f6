/* pht_train_model.h — model kernels of the data API: Cox stratum sums and GLM IRLS pieces in C (internal to trains/). */
#ifndef PHT_TRAIN_MODEL_H
#define PHT_TRAIN_MODEL_H

#include <lua.h>

/* Most design terms (covariate columns after category expansion) a kernel takes. */
#define PHT_TRAIN_MODEL_MAX_TERMS 256

/*
 * Adds the model kernels to the view metatable of L (through
 * pht_train_data_view_methods_add): data:cox_stratum{...} and
 * data:glm_step{...}, documented in docs/train-api.md ("Model kernels").
 * Both read the complete cases of the columns they name straight from the
 * column arrays (the view's k guard, row and column accounting apply as
 * for col:values()), build the design as the standard trains code it
 * (numbers as they are, booleans 0/1, a category one 0/1 term per level
 * after the dictionary's first) and return sums only: never a row. The
 * disclosure guards on those sums (n >= 3 x terms, binary classes, events)
 * stay with the caller, on the counts the kernels return. Bad arguments
 * raise ordinary (catchable) errors starting "cox_stratum: " or
 * "glm_step: ". Called once per state by pht_train_open_data(). Raises on
 * memory errors.
 */
void pht_train_model_register(lua_State *L);

#endif
