/* pht_analyst_format.h — a run's result as people read it: JSON, a table like R's print of coxph, glm and survfit objects, or CSV. */
#ifndef PHT_ANALYST_FORMAT_H
#define PHT_ANALYST_FORMAT_H

#include <jansson.h>

struct pht_err;

/* The output formats of pht run and pht sim (--format). */
enum pht_analyst_format {
	PHT_ANALYST_FORMAT_JSON = 0,   /* the result as one line of JSON */
	PHT_ANALYST_FORMAT_TABLE,      /* aligned text, as R prints the fit */
	PHT_ANALYST_FORMAT_CSV,        /* one row per coefficient or curve point */
};

/* The format named name ("json", "table", "csv"): 0, or -1 for another name. */
int pht_analyst_format_parse(const char *name, enum pht_analyst_format *out);

/*
 * Renders a train's final result in fmt into *out (NUL-terminated, ending
 * in a newline; the caller frees it). The shape decides the layout:
 *
 *   a model (coefficients with "coef": cox.lua; with "estimate": glm.lua)
 *     table: R's print of coxph (coef, exp(coef), se(coef), z, p) or of
 *     summary.glm (Estimate, Std. Error, z or t value, Pr(>|z|)), then the
 *     tests, deviances, n, notes and the stations that were missing;
 *     csv: term,coef,exp_coef,se,z,p,lower95,upper95 (cox) or
 *     term,estimate,se,z|t,p (glm), one row per coefficient;
 *   Kaplan-Meier curves ("curves": km.lua)
 *     table: print(survfit) (n, events, median and its interval per
 *     group) and summary(survfit) per curve (time, n.risk, n.event,
 *     survival, std.err, lower and upper 95% CI), the log-rank test;
 *     csv: group,time,n_risk,n_event,n_censor,surv,std_err,lower,upper,
 *     one row per curve point;
 *   anything else: one row per value, "path value" (table) or
 *     path,value (csv), paths as a.b[1].c (arrays from 1).
 *
 * A missing or null number is NA (R's spelling, in both). CSV numbers
 * carry full precision (%.17g); the table rounds as R prints (4 to 5
 * significant digits, p-values 3). A table ends with the notes, the
 * stations that were missing (with the round and reason of the first
 * round without them) and those included in the last round. Errors:
 * PHT_ERR_NOMEM, PHT_ERR_TOO_LARGE near 64 MiB of text.
 */
int pht_analyst_format(const json_t *result, enum pht_analyst_format fmt,
    char **out, struct pht_err *err);

#endif
