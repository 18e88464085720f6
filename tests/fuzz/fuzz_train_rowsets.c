/* fuzz_train_rowsets.c — fuzz target: the strict decoder of the row sets a train child sends (and the station stores). */
#include "pht_err.h"
#include "pht_train_rowsets.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Whatever decodes must be canonical (its encoding is the input, byte for
 * byte) and consistent (a set's difference with itself is 0, with another
 * at most the sum of their sizes).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pht_train_rowsets *rs = NULL;
	struct pht_err err;
	const uint8_t *b;
	size_t len, i, n;

	if (pht_train_rowsets_decode(data, size, "fuzz", &rs, &err) != PHT_OK)
		return 0;
	b = pht_train_rowsets_bytes(rs, &len);
	if (len != size || memcmp(b, data, size) != 0)
		__builtin_trap();
	n = pht_train_rowsets_count(rs);
	for (i = 0; i < n && i < 8; i++) {
		if (pht_train_rowsets_symdiff(rs, i, rs, i, UINT64_MAX) != 0)
			__builtin_trap();
		if (i > 0 && pht_train_rowsets_symdiff(rs, i - 1, rs, i, UINT64_MAX) >
		    pht_train_rowsets_size(rs, i - 1) + pht_train_rowsets_size(rs, i))
			__builtin_trap();
	}
	pht_train_rowsets_free(rs);
	return 0;
}
