/* fuzz_train_frame.c — fuzz target: the parent's decoding of a train child's frame, as run_job does it. */
#include "pht_err.h"
#include "pht_json.h"
#include "pht_train_frame.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pht_train_frame f;
	struct pht_err err;
	json_t *out = NULL;

	if (pht_train_frame_decode(data, size, 1 << 20, &f, &err) != PHT_OK)
		return 0;
	if (strlen(f.columns) >= sizeof(f.columns))
		__builtin_trap();
	if (f.code == PHT_OK &&
	    pht_json_parse((const char *)f.payload, f.payload_len, "train output", &out,
	    &err) == PHT_OK)
		json_decref(out);
	return 0;
}
