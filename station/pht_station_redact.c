/* pht_station_redact.c — the analyst-facing reason: categories chosen from codes, details left in the audit log. */
#include "pht_station_redact.h"
#include "pht_err.h"
#include "pht_train.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A category for a limit the runtime enforced, from its kind. */
static const char *
limit_category(const char *msg)
{
	if (strstr(msg, "instruction budget") != NULL)
		return "limit: instruction budget";
	if (strstr(msg, "memory cap") != NULL || strstr(msg, "memory") != NULL)
		return "limit: memory";
	if (strstr(msg, "wall-clock") != NULL)
		return "limit: wall-clock time";
	if (strstr(msg, "CPU time") != NULL)
		return "limit: CPU time";
	if (strstr(msg, "sandbox violation") != NULL)
		return "limit: sandbox violation";
	if (strstr(msg, "output") != NULL)
		return "limit: output size";
	return "limit: a resource limit of the station";
}

static const char *
disclosure_category(const char *msg)
{
	if (strstr(msg, "smaller than k") != NULL)
		return "disclosure: subset smaller than k";
	if (strstr(msg, "row sets") != NULL)
		return "disclosure: too many row sets behind one output";
	if (strstr(msg, "differ") != NULL)
		return "disclosure: differencing (overlaps an earlier release)";
	if (strstr(msg, "budget") != NULL)
		return "disclosure: release budget spent";
	return "disclosure: output refused";
}

static const char *
refusal_category(int code)
{
	switch (code) {
	case PHT_ERR_BAD_SIGNATURE: return "refused: bad signature";
	case PHT_ERR_UNKNOWN_SIGNER: return "refused: unknown signer";
	case PHT_ERR_EXPIRED: return "refused: expired";
	case PHT_ERR_NOT_YET_VALID: return "refused: not yet valid";
	case PHT_ERR_HASH_MISMATCH: return "refused: hash mismatch";
	case PHT_ERR_REPLAY: return "refused: replayed";
	case PHT_ERR_POLICY: return "refused: policy";
	case PHT_ERR_DENIED: return "refused: permit or halt";
	case PHT_ERR_MALFORMED: return "refused: malformed train";
	case PHT_ERR_TOO_LARGE: return "refused: too large";
	default: return "refused";
	}
}

/*
 * Copies a refusal detail: printable ASCII only, text in double quotes
 * dropped (a quoted value is never needed to understand a refusal).
 */
static void
clean_detail(const char *in, char *out, size_t n)
{
	size_t o = 0;
	int quoted = 0;

	for (; *in != '\0' && o + 1 < n; in++) {
		unsigned char ch = (unsigned char)*in;
		if (ch == '"') {
			quoted = !quoted;
			if (quoted && o + 4 < n) {
				memcpy(out + o, "\"...", 4);
				o += 4;
			} else if (!quoted) {
				out[o++] = '"';
			}
			continue;
		}
		if (quoted)
			continue;
		out[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[o] = '\0';
}

/*
 * pht_station_redact; with precise set (a run that touched no data) the
 * detail of a train error, a limit or an output check is kept too.
 */
static void
redact(enum pht_station_outcome o, int rc, const struct pht_err *why,
    const struct pht_audit_head *head, char *out, size_t n, int precise)
{
	const char *msg = why != NULL ? why->msg : "";
	int code = why != NULL ? why->code : PHT_OK;
	char detail[PHT_ERR_DETAIL_MAX], ref[128];
	const char *cat;

	if (n == 0)
		return;
	out[0] = '\0';
	detail[0] = '\0';
	if (rc == PHT_OK && o == PHT_STATION_RELEASED)
		return;
	if (rc != PHT_OK) {
		cat = "station error: the station could not process the train";
	} else if (o == PHT_STATION_REJECTED) {
		cat = code == PHT_ERR_POLICY && strncmp(msg, PHT_TRAIN_TOO_FEW_ROWS,
		    strlen(PHT_TRAIN_TOO_FEW_ROWS)) == 0 ? "refused" :
		    refusal_category(code);
		clean_detail(msg, detail, sizeof(detail));
	} else if (o == PHT_STATION_QUEUED) {
		cat = "queued: waiting for a data steward's approval";
	} else if (o == PHT_STATION_WITHHELD) {
		if (code == PHT_ERR_DENIED || strstr(msg, "permit") != NULL)
			cat = "permit: the train read a column outside its permit";
		else if (strstr(msg, "smaller than k") != NULL ||
		    strstr(msg, "row sets") != NULL || strstr(msg, "differ") != NULL ||
		    strstr(msg, "budget") != NULL)
			cat = disclosure_category(msg);
		else
			cat = "output checks: the output failed the station's output checks";
		if (precise)
			clean_detail(msg, detail, sizeof(detail));
	} else {
		if (precise && (code == PHT_ERR_TRAIN || code == PHT_ERR_LIMIT))
			clean_detail(msg, detail, sizeof(detail));
		switch (code) {
		case PHT_ERR_TRAIN: cat = "train error"; break;
		case PHT_ERR_LIMIT: cat = limit_category(msg); break;
		case PHT_ERR_DISCLOSURE: cat = disclosure_category(msg); break;
		case PHT_ERR_DENIED:
			cat = strstr(msg, "halted") != NULL ?
			    "halted: the station was halted while the train ran" :
			    "refused: permit or halt";
			break;
		case PHT_ERR_INVALID:
		case PHT_ERR_MALFORMED:
		case PHT_ERR_IO:
			cat = "data: the dataset could not be loaded";
			break;
		case PHT_ERR_POLICY:
		case PHT_ERR_EXPIRED:
			cat = refusal_category(code);
			break;
		default: cat = "failed: the run failed"; break;
		}
	}
	if (head != NULL && head->seq > 0)
		snprintf(ref, sizeof(ref), " (audit entry seq %" PRIu64 ", hash %s)",
		    head->seq, head->hash);
	else
		snprintf(ref, sizeof(ref), " (see the station's audit log)");
	if (detail[0] != '\0')
		snprintf(out, n, "%s: %s%s", cat, detail, ref);
	else
		snprintf(out, n, "%s%s", cat, ref);
}

void
pht_station_redact(enum pht_station_outcome o, int rc, const struct pht_err *why,
    const struct pht_audit_head *head, char *out, size_t n)
{
	redact(o, rc, why, head, out, n, 0);
}

void
pht_station_answer(const struct pht_station_result *res, int rc,
    const struct pht_err *why, const char **status, const char **error,
    char *out, size_t n)
{
	if (rc == PHT_OK && res->outcome != PHT_STATION_RELEASED && res->data_dependent) {
		*status = PHT_STATION_NO_RESULT_STATUS;
		*error = PHT_STATION_NO_RESULT_ERROR;
		if (n > 0)
			snprintf(out, n, "%s", PHT_STATION_NO_RESULT_REASON);
		return;
	}
	if (rc != PHT_OK) {
		*status = "failed";
		*error = pht_strerror(why->code);
	} else {
		switch (res->outcome) {
		case PHT_STATION_RELEASED: *status = "released"; break;
		case PHT_STATION_REJECTED: *status = "rejected"; break;
		case PHT_STATION_WITHHELD: *status = "withheld"; break;
		default: *status = "failed"; break;
		}
		*error = res->outcome == PHT_STATION_RELEASED ? "" : pht_strerror(why->code);
	}
	/* here the run, if any, touched no data: its own message is public */
	redact(res->outcome, rc, why, &res->head, out, n, rc == PHT_OK);
}
