/* fuzz_dataset.c — fuzz target: a data dictionary, a NUL byte, then a CSV, through pht_dataset_load_mem. */
#include "pht_dataset.h"
#include "pht_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the invariants of a loaded dataset; aborts on a broken one. */
static void
check(const struct pht_dataset *ds)
{
	const struct pht_column *c;
	size_t i, r, nrows = pht_dataset_nrows(ds), nmiss;
	uint64_t sink = 0; /* touches every value; wraps freely */
	volatile uint64_t keep; /* so the reads are not optimised out */

	for (i = 0; i < pht_dataset_ncols(ds); i++) {
		c = pht_dataset_column(ds, i);
		if (c == NULL || pht_dataset_find(ds, c->name) != c)
			abort();
		/* at most one identifier, and it is the one the dataset names */
		if (c->role == PHT_ROLE_IDENTIFIER && pht_dataset_identifier(ds) != c)
			abort();
		nmiss = 0;
		for (r = 0; r < nrows; r++) {
			if (pht_column_is_missing(c, r))
				nmiss++;
			switch (c->type) {
			case PHT_COL_NUMBER: sink += c->v.f64[r] != 0; break;
			case PHT_COL_INTEGER: sink += (uint64_t)c->v.i64[r]; break;
			case PHT_COL_CATEGORY:
				if (c->v.i32[r] < 0 || (size_t)c->v.i32[r] >= c->nlevels)
					abort();
				sink += strlen(c->levels[c->v.i32[r]]);
				break;
			case PHT_COL_DATE: sink += (uint64_t)(int64_t)c->v.i32[r]; break;
			case PHT_COL_BOOLEAN:
				if (c->v.u8[r] > 1)
					abort();
				break;
			}
		}
		if (nmiss != c->nmissing || (nmiss == 0) != (c->missing == NULL))
			abort();
	}
	keep = sink;
	(void)keep;
	if (strlen(pht_dataset_csv_sha256(ds)) != 64)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t dlen = nul ? (size_t)(nul - data) : size;
	const char *csv = nul ? (const char *)nul + 1 : "";
	size_t clen = nul ? size - dlen - 1 : 0;
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	int r;

	r = pht_dataset_load_mem(csv, clen, (const char *)data, dlen, "fuzz.csv",
	    &ds, &err);
	if (r == PHT_OK) {
		if (ds == NULL)
			abort();
		check(ds);
	} else if (ds != NULL || err.msg[0] == '\0')
		abort();
	pht_dataset_free(ds);
	return 0;
}
