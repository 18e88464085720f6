/* train_envelope.h — one signed train envelope for the tests that run a station (header-only, like tap.h). */
#ifndef PHT_TESTS_TRAIN_ENVELOPE_H
#define PHT_TESTS_TRAIN_ENVELOPE_H

#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_key.h"
#include "pht_time.h"
#include "pht_trainmsg.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * A signed envelope of train code (round 1) with params (JSON text; NULL:
 * none) for dataset ds and station (either NULL: none named), issued at now
 * + issued and expiring at now + expires seconds, signed with the private
 * key in the file keyfile; *len its length. Aborts on any failure: it is
 * the tests' setup, not what they test. Caller frees.
 */
static inline char *
test_train_envelope(const char *keyfile, const char *code, const char *params,
    const char *ds, const char *station, int64_t issued, int64_t expires, size_t *len)
{
	struct pht_trainmsg_spec spec;
	struct pht_key *key = NULL;
	const char *dsv[1] = {ds}, *stv[1] = {station};
	char *payload = NULL, *env = NULL;
	json_t *p = params != NULL ? json_loads(params, 0, NULL) : NULL;
	size_t plen;
	int64_t now = pht_time_now();

	memset(&spec, 0, sizeof(spec));
	spec.code = code;
	spec.code_len = strlen(code);
	spec.params = p;
	spec.datasets = dsv;
	spec.n_datasets = ds != NULL;
	spec.stations = stv;
	spec.n_stations = station != NULL;
	spec.round = 1;
	spec.issued = now + issued;
	spec.expires = now + expires;
	if (pht_key_load(keyfile, &key, NULL) != PHT_OK ||
	    pht_trainmsg_build(&spec, &payload, &plen, NULL) != PHT_OK ||
	    pht_envelope_sign(key, (uint8_t *)payload, plen, &env, len, NULL) != PHT_OK)
		abort();
	free(payload);
	pht_key_free(key);
	json_decref(p);
	return env;
}

#endif
