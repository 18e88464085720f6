/* test_limits.c — the maxima of pht_limits.h fit inside each other as the wire requires. */
#include "pht_err.h"
#include "pht_limits.h"
#include "pht_trainmsg.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Length of the standard base64 of n bytes. */
static size_t
b64len(size_t n)
{
	return (n + 2) / 3 * 4;
}

int
main(void)
{
	struct pht_trainmsg_spec spec;
	struct pht_err e;
	char *code, *out = NULL;
	size_t n = 0;
	int r;

	tap_ok(PHT_TRAINMSG_MAX <= PHT_ENVELOPE_MAX_PAYLOAD,
	    "a train payload fits in an envelope");
	tap_ok(PHT_RESULTMSG_MAX <= PHT_ENVELOPE_MAX_PAYLOAD,
	    "a result payload fits in an envelope");
	tap_ok(PHT_PERMIT_MAX <= PHT_ENVELOPE_MAX_PAYLOAD,
	    "a permit payload fits in an envelope");
	tap_ok(b64len(PHT_ENVELOPE_MAX_PAYLOAD) + 4096 <= PHT_ENVELOPE_MAX,
	    "the base64 of the largest payload, with the other fields, fits in the envelope text");
	tap_ok(PHT_TRAINMSG_MAX_PERMIT <= PHT_ENVELOPE_MAX,
	    "an embedded permit is an envelope");
	tap_ok(b64len(1u << 20) + 64 + 1024 < PHT_RESULTMSG_MAX,
	    "a sealed train output at its 1 MiB cap fits in a result payload");
	tap_ok(PHT_RESULTMSG_MAX <= PHT_SEAL_MAX_PLAIN, "sealing never limits a result");
	tap_ok(PHT_QUEUE_ITEM_MAX >= PHT_ENVELOPE_MAX && PHT_OUTBOX_ITEM_MAX >= PHT_ENVELOPE_MAX,
	    "a queue or outbox entry holds an envelope");
	tap_ok(PHT_AUDIT_LINE_MAX >= PHT_ENVELOPE_MAX,
	    "an audit line may quote an envelope");
	tap_ok(PHT_NAME_MAX <= PHT_ID_MAX, "a name is no longer than an id");

	/* train source at the one limit every command reads it with is signable */
	memset(&spec, 0, sizeof(spec));
	if ((code = malloc(PHT_TRAIN_CODE_MAX)) == NULL)
		return 1;
	memset(code, 'x', PHT_TRAIN_CODE_MAX);
	memcpy(code, "-- ", 3);
	spec.code = code;
	spec.code_len = PHT_TRAIN_CODE_MAX;
	spec.round = 1;
	spec.issued = 1700000000;
	spec.expires = spec.issued + 3600;
	memset(spec.result_key, 7, sizeof(spec.result_key));
	r = pht_trainmsg_build(&spec, &out, &n, &e);
	tap_ok(r == PHT_OK && n <= PHT_TRAINMSG_MAX,
	    "a train with PHT_TRAIN_CODE_MAX bytes of code builds into a payload (%zu bytes)", n);
	free(out);
	free(code);
	return tap_done();
}
