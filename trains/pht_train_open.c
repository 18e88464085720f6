/* pht_train_open.c — the one table of the data API's kernel libraries: a new kernel file is one line here, and the data API (pht_train_data.c) needs none of them. */
#include "pht_train_open.h"
#include "pht_train_data.h"
#include "pht_train_derive.h"
#include "pht_train_model.h"
#include "pht_train_stat.h"
#include "pht_train_surv.h"

#include <stddef.h>

/* Each adds its methods through pht_train_data_view_methods_add or pht_train_data_column_methods_add. */
static void (*const kernel_libs[])(lua_State *L) = {
	pht_train_model_register,       /* data:cox_stratum, data:glm_step */
	pht_train_derive_register,      /* column operators and methods, data:with */
	pht_train_stat_register,        /* data:histogram, data:snap, data:quantile */
	pht_train_surv_register,        /* data:km, data:time_resolution */
};

void
pht_train_open_data(lua_State *L, const struct pht_dataset *ds)
{
	size_t i;

	for (i = 0; i < sizeof(kernel_libs) / sizeof(kernel_libs[0]); i++)
		kernel_libs[i](L);
	pht_train_data_push(L, ds);
}
