/* pht_station_redact.h — what an analyst is told about a run that did not release: a category and an audit reference, never data. */
#ifndef PHT_STATION_REDACT_H
#define PHT_STATION_REDACT_H

#include <stddef.h>

#include "pht_audit.h"
#include "pht_station_exec.h"

struct pht_err;

/*
 * Writes into out (n bytes, always NUL-terminated) the reason that may
 * leave the station for a train's outcome o whose detail does not depend
 * on data values (pht_station_answer decides that first): rc is what pht_station_exec
 * returned, why the detail it gave, head the audit log head after the
 * run's last entry. The reason is a fixed category chosen from the error
 * code and the kind of failure, never the detail itself:
 *
 *   "train error", "limit: instruction budget", "limit: memory",
 *   "limit: wall-clock time", "limit: CPU time", "limit: sandbox violation",
 *   "disclosure: subset smaller than k", "disclosure: too many row sets",
 *   "disclosure: output refused", "output checks: ...",
 *   "permit: the train read a column outside its permit", "data: the dataset could not be
 *   loaded", "halted: the station was halted", "station error", ...
 *
 * followed by " (audit entry seq N, hash H)" so that the analyst can ask
 * the station's steward for the detail, which stays in the local log. A
 * refusal before the run (o == PHT_STATION_REJECTED: signature, expiry,
 * replay, target, policy, permit, halt) is decided before any data is
 * read, so its detail is kept after the category ("refused: permit: ...")
 * with control bytes replaced and quoted text removed. A released outcome
 * gives "".
 */
void pht_station_redact(enum pht_station_outcome o, int rc,
    const struct pht_err *why, const struct pht_audit_head *head, char *out,
    size_t n);

/* The one answer for every outcome that may depend on data values. */
#define PHT_STATION_NO_RESULT_STATUS "failed"
#define PHT_STATION_NO_RESULT_ERROR "no result"
#define PHT_STATION_NO_RESULT_REASON "the run produced no releasable result " \
	"(details in the station's audit log)"

/*
 * What the analyst is told about a train's outcome res (rc and why as
 * pht_station_exec returned them): *status ("released", "rejected",
 * "failed" or "withheld"), *error (a short name; "" for a release; static
 * strings) and the reason in out (n bytes, NUL-terminated).
 *
 * An outcome that may depend on data values (res->data_dependent: a limit,
 * a train error, a disclosure guard, the output checks, a column outside
 * the permit, the release auditor — anything after the train was handed
 * something computed from data) gets exactly PHT_STATION_NO_RESULT_STATUS,
 * _ERROR and _REASON, the same bytes whatever happened and with no audit
 * reference, so that which guard refused cannot answer a question about a
 * row. Everything else is told as pht_station_redact says, and for a run
 * that touched no data (a syntax error, a column not in the published
 * dictionary, a bad param checked before any aggregate) with the detail
 * of the train error, limit or output check after the category.
 */
void pht_station_answer(const struct pht_station_result *res, int rc,
    const struct pht_err *why, const char **status, const char **error,
    char *out, size_t n);

#endif
