/* test_reference.c — recomputes the committed R fixtures from the station CSVs with the formulas of tests/reference/README.md. */
#include "tap.h"
#include "reference_common.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TAP_SHARED_DEFINE;     /* the TAP tally of every file of test_reference */

/*
 * CI has no R. This program checks, without it, that the fixtures in
 * tests/reference/expected agree with the station files in
 * tests/reference/data, and that README's description of R's conventions
 * (status coding, reference levels and coefficient names, Greenwood and
 * log-log intervals, the median rule, the grid, log-rank, stratified Cox with
 * Efron and Breslow ties, IRLS, dispersion, AIC) is enough to reproduce R's
 * numbers: everything is computed here from the CSVs, in plain C, and
 * compared with what R wrote. The checks: Kaplan-Meier and log-rank
 * (test_reference_km.c), Cox and GLMs (test_reference_models.c), over
 * what reference_common.c shares.
 */

/* main() changes into tests/reference, so the fixtures' and CSVs' paths are relative to it. */

/* ---- provenance --------------------------------------------------------------- */

static void
test_index(void)
{
	json_t *ix = load_fixture("index");
	const char *sv, *rv;

	if (ix == NULL)
		return;
	sv = json_string_value(json_object_get(ix, "survival_version"));
	rv = json_string_value(json_object_get(ix, "r_version"));
	tap_ok(sv != NULL && rv != NULL, "index records R %s and survival %s",
	    rv ? rv : "?", sv ? sv : "?");
	tap_ok(json_object_size(json_object_get(ix, "datasets")) == 5,
	    "index lists the five datasets (four, and colon with aliased covariates)");
	json_decref(ix);
}

int
main(void)
{
	static const char *const sets[] = { "lung", "veteran", "colon", "pbc" };
	static const char *const glms[] = { "glm_binomial_colon", "glm_poisson_colon",
	    "glm_gaussian_pbc", "glm_gaussian_lung" };
	char dir[1024];
	const char *src = getenv("PHT_SRC");
	size_t i;

	snprintf(dir, sizeof(dir), "%s/tests/reference", src ? src : ".");
	if (chdir(dir) != 0) {
		tap_ok(0, "chdir %s (set PHT_SRC to the source tree)", dir);
		return tap_done();
	}
	test_index();
	for (i = 0; i < 4; i++)
		test_km(sets[i]);
	for (i = 0; i < 4; i++)
		test_cox(sets[i]);
	for (i = 0; i < 4; i++)
		test_glm(glms[i]);
	return tap_done();
}
