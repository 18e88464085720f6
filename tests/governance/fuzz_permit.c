/* fuzz_permit.c — fuzz target: permits, revocation lists and halt orders as a station reads them (envelope, then each payload parser and every check). */
#include "pht_envelope.h"
#include "pht_err.h"
#include "pht_permit.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FP "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define CODE "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Every parser on one payload, and every check on what parses. */
static void
payload(const uint8_t *p, size_t n)
{
	struct pht_permit *pm = NULL;
	struct pht_revocations *rv = NULL;
	struct pht_halt *h = NULL;
	struct pht_err err;
	const char *cols[] = {"age", "sex", ""};
	size_t i;

	pht_err_clear(&err);
	if (pht_permit_parse(p, n, &pm, &err) == PHT_OK) {
		(void)pht_permit_check_time(pm, 0, &err);
		(void)pht_permit_check_time(pm, INT64_C(1767225600), &err);
		(void)pht_permit_check_train(pm, FP, "a", "reg", CODE, 1, NULL, &err);
		(void)pht_permit_check_train(pm, NULL, NULL, NULL, NULL, 1000000, NULL, &err);
		(void)pht_permit_check_columns(pm, "reg", cols, 3, &err);
		(void)strlen(pht_permit_id(pm));
		(void)strlen(pht_permit_purpose(pm));
		pht_permit_free(pm);
	}
	if (pht_revocations_parse(p, n, &rv, &err) == PHT_OK) {
		for (i = 0; i < pht_revocations_count(rv); i++)
			(void)pht_revocations_has(rv, pht_revocations_id(rv, i));
		(void)pht_revocations_has(rv, "P1");
		pht_revocations_free(rv);
	}
	if (pht_halt_parse(p, n, &h, &err) == PHT_OK) {
		(void)pht_halt_in_force(h, pht_halt_issued(h));
		(void)pht_halt_covers(h, "P1", "reg");
		(void)pht_halt_covers(h, NULL, NULL);
		(void)strlen(pht_halt_scope(h));
		pht_halt_free(h);
	}
	/* details are printable text, always terminated */
	if (strlen(err.msg) >= sizeof(err.msg))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pht_envelope *env = NULL;
	const uint8_t *p;
	size_t n;

	payload(data, size);
	if (pht_envelope_parse((const char *)data, size, &env, NULL) == PHT_OK) {
		p = pht_envelope_payload(env, &n);
		payload(p, n);
		pht_envelope_free(env);
	}
	return 0;
}
