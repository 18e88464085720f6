/* pht_permit.h — data permits, revocation lists and halt orders signed by a permit authority: build, strict parse, coverage checks. */
#ifndef PHT_PERMIT_H
#define PHT_PERMIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_limits.h"

struct pht_err;

/*
 * Three payload kinds, each carried in the standard signed envelope
 * (pht_envelope.h) made with a permit authority's Ed25519 key. Each is one
 * JSON object (compact, keys sorted when written); every parser refuses
 * unknown fields and requires its own "kind", so none parses as another or
 * as a train or result payload. proto/PROTOCOL-permit.md has the wire form.
 *
 * Permit ("kind": "pht-permit"):
 *   id           1..128 of [A-Za-z0-9_.-]
 *   issued       RFC 3339 UTC time the authority signed it
 *   purpose      1..4096 bytes of text (no NUL)
 *   users        1..256 data users {"name": NAME, "key": FPR}: NAME 1..64 of
 *                [A-Za-z0-9_.-], FPR the 64 lower-case hex fingerprint of the
 *                analyst's signing key; fingerprints distinct
 *   stations     1..256 distinct station ids (1..64 of [A-Za-z0-9_.-])
 *   datasets     object, 1..256 entries: dataset name (as station ids) ->
 *                1..1024 distinct allowed column names (1..128 printable
 *                ASCII characters each)
 *   code_sha256  1..1024 distinct SHA-256 hashes (64 lower-case hex) of the
 *                train code the permit allows; optional when reviewers is
 *                given (a permit names at least one of the two)
 *   reviewers    optional, 1..256 code reviewers {"name": NAME, "key": B64}:
 *                B64 the standard base64 of the reviewer's raw 32-byte
 *                Ed25519 public key (the key itself, so that stations can
 *                verify the reviewer's signature); keys distinct. Any train
 *                whose code hash is listed in a code approval signed by
 *                one of them is allowed too
 *   valid_from, valid_until  RFC 3339 UTC; valid_until later than valid_from
 *   max_runs     optional integer 1..1000000000: runs allowed per station
 *   max_rounds   optional integer 1..1000000: highest round a train may have
 *   row_access   optional, 1..1024 distinct code hashes, each also in
 *                code_sha256 (never code known only from a reviewer's
 *                approval): trains with that code run with row access
 *                (col:values()), e.g. a steward's data-quality train.
 *                Nothing else ever gets row-level values
 *
 * Revocation list ("kind": "pht-revocations"):
 *   seq          integer 1..2^53: strictly increasing per authority
 *   issued       RFC 3339 UTC time
 *   revoked      0..65536 distinct permit ids
 *
 * Code approval ("kind": "pht-code-approval"), signed by a reviewer:
 *   issued       RFC 3339 UTC time
 *   code_sha256  1..1024 distinct SHA-256 hashes of reviewed train code
 *   note         optional 1..1024 bytes of text
 *
 * Halt order ("kind": "pht-halt"):
 *   scope        "all", "permit:ID" or "dataset:NAME"
 *   issued       RFC 3339 UTC time
 *   until        optional; RFC 3339 UTC, not before issued: the order is in
 *                force from issued until then (for ever without it). Per
 *                authority and scope the order issued last replaces earlier
 *                ones, so an order with until == issued lifts a halt.
 *   reason       optional 1..1024 bytes of text
 *
 * Every parse error is PHT_ERR_MALFORMED with a detail naming the kind and
 * the field: "permit: malformed field users: entry 2: key is not 64
 * lower-case hex digits", "halt: malformed: unknown field x".
 */

#define PHT_PERMIT_KIND "pht-permit"
#define PHT_REVOCATIONS_KIND "pht-revocations"
#define PHT_HALT_KIND "pht-halt"
#define PHT_CODE_APPROVAL_KIND "pht-code-approval"
#define PHT_PERMIT_ID_MAX PHT_ID_MAX
#define PHT_PERMIT_MAX_LIST 256
#define PHT_PERMIT_MAX_COLUMNS 1024
#define PHT_PERMIT_MAX_CODES 1024
#define PHT_PERMIT_MAX_PURPOSE 4096
#define PHT_PERMIT_MAX_RUNS 1000000000
#define PHT_PERMIT_MAX_ROUNDS 1000000
#define PHT_REVOCATIONS_MAX_IDS 65536
#define PHT_REVOCATIONS_MAX_SEQ (INT64_C(1) << 53)

/* ---- permits ---- */

struct pht_permit;

/* One data user of a permit. */
struct pht_permit_user {
	const char *name;
	const char *key;            /* signing-key fingerprint, 64 hex */
};

/* The allowed columns of one dataset. */
struct pht_permit_dataset {
	const char *name;
	const char *const *columns;
	size_t ncolumns;
};

/* What the authority gives to build a permit payload. */
struct pht_permit_spec {
	const char *id;
	int64_t issued;
	const char *purpose;
	const struct pht_permit_user *users;
	size_t nusers;
	const char *const *stations;
	size_t nstations;
	const struct pht_permit_dataset *datasets;
	size_t ndatasets;
	const char *const *code_sha256;
	size_t ncodes;                  /* 0: none (then reviewers are needed) */
	const struct pht_permit_user *reviewers;   /* key: base64 raw public key */
	size_t nreviewers;
	int64_t valid_from, valid_until;
	int64_t max_runs;           /* 0: no cap */
	int64_t max_rounds;         /* 0: no cap */
	const char *const *row_access;  /* code hashes granted row access (in code_sha256) */
	size_t nrow_access;             /* 0: none */
};

/*
 * Serializes spec (compact JSON, sorted keys; *out NUL-terminated, the
 * caller frees it; *outlen its length). The text is checked with
 * pht_permit_parse before it is returned: the same errors apply
 * (PHT_ERR_MALFORMED naming the field), and PHT_ERR_INVALID for a NULL
 * where a string is needed or text that is not UTF-8.
 */
int pht_permit_build(const struct pht_permit_spec *spec, char **out,
    size_t *outlen, struct pht_err *err);

/*
 * Parses len untrusted payload bytes strictly (no time checks: see
 * pht_permit_check_time). PHT_ERR_TOO_LARGE over PHT_PERMIT_MAX,
 * PHT_ERR_MALFORMED otherwise as above. *out is NULL on failure.
 */
int pht_permit_parse(const uint8_t *payload, size_t len,
    struct pht_permit **out, struct pht_err *err);

/* Frees p; accepts NULL. */
void pht_permit_free(struct pht_permit *p);

/* Accessors; strings are borrowed from p. 0 for an absent cap. */
const char *pht_permit_id(const struct pht_permit *p);
const char *pht_permit_purpose(const struct pht_permit *p);
int64_t pht_permit_issued(const struct pht_permit *p);
int64_t pht_permit_valid_from(const struct pht_permit *p);
int64_t pht_permit_valid_until(const struct pht_permit *p);
int64_t pht_permit_max_runs(const struct pht_permit *p);
int64_t pht_permit_max_rounds(const struct pht_permit *p);

/*
 * 1 if the permit grants row access to train code code_sha256 (listed in
 * its row_access), else 0; 0 for p NULL.
 */
int pht_permit_row_access(const struct pht_permit *p, const char *code_sha256);

/* The parsed payload (borrowed), for display. */
const json_t *pht_permit_json(const struct pht_permit *p);

/*
 * PHT_ERR_NOT_YET_VALID ("permit ID: not valid before T (now T)") if
 * now < valid_from, PHT_ERR_EXPIRED ("permit ID: expired at T (now T)") if
 * now >= valid_until, else PHT_OK.
 */
int pht_permit_check_time(const struct pht_permit *p, int64_t now,
    struct pht_err *err);

/*
 * Whether the permit covers a train before it runs: a data user with
 * signing-key fingerprint signer_fp ("permit ID: signer FP is not among
 * its data users"), station ("... does not name station S"), dataset
 * ("... does not name dataset D"), code hash: listed in the permit, or
 * listed in the code approval (approval: its envelope text, may be NULL)
 * signed by one of the permit's reviewers ("... does not allow train code
 * H", "... code approval: ..." saying why the approval does not count),
 * round within max_rounds ("... allows rounds up to N, this train is
 * round R"). PHT_ERR_DENIED with that detail, else PHT_OK. Time,
 * revocation and run counts are checked elsewhere.
 */
int pht_permit_check_train(const struct pht_permit *p, const char *signer_fp,
    const char *station, const char *dataset, const char *code_sha256,
    int64_t round, const char *approval, struct pht_err *err);

/*
 * Whether every one of the n column names is allowed for dataset.
 * PHT_ERR_DENIED ("permit ID: column C of dataset D is not allowed") for
 * the first one that is not (or for the dataset not named), else PHT_OK.
 */
int pht_permit_check_columns(const struct pht_permit *p, const char *dataset,
    const char *const *columns, size_t n, struct pht_err *err);

/* 1 if column is allowed for dataset, else 0. */
int pht_permit_allows_column(const struct pht_permit *p, const char *dataset,
    const char *column);

/* ---- code approvals ---- */

struct pht_code_approval;

/* Serializes a code approval (note NULL: none); as pht_permit_build. */
int pht_code_approval_build(int64_t issued, const char *const *hashes, size_t n,
    const char *note, char **out, size_t *outlen, struct pht_err *err);

/* Parses strictly ("code approval: malformed field ..."). */
int pht_code_approval_parse(const uint8_t *payload, size_t len,
    struct pht_code_approval **out, struct pht_err *err);

/* Frees a; accepts NULL. */
void pht_code_approval_free(struct pht_code_approval *a);

/* 1 if the approval lists code_sha256, else 0. */
int pht_code_approval_has(const struct pht_code_approval *a,
    const char *code_sha256);

/* The parsed payload (borrowed), for display. */
const json_t *pht_code_approval_json(const struct pht_code_approval *a);

/* ---- revocation lists ---- */

struct pht_revocations;

/*
 * Serializes a revocation list (the ids are checked as above). Same
 * contract as pht_permit_build.
 */
int pht_revocations_build(int64_t seq, int64_t issued, const char *const *ids,
    size_t n, char **out, size_t *outlen, struct pht_err *err);

/* Parses strictly; as pht_permit_parse ("revocations: malformed field ..."). */
int pht_revocations_parse(const uint8_t *payload, size_t len,
    struct pht_revocations **out, struct pht_err *err);

/* Frees r; accepts NULL. */
void pht_revocations_free(struct pht_revocations *r);

int64_t pht_revocations_seq(const struct pht_revocations *r);
int64_t pht_revocations_issued(const struct pht_revocations *r);
size_t pht_revocations_count(const struct pht_revocations *r);
/* The i-th revoked id (borrowed), NULL out of range. */
const char *pht_revocations_id(const struct pht_revocations *r, size_t i);
/* 1 if permit_id is revoked, else 0. */
int pht_revocations_has(const struct pht_revocations *r, const char *permit_id);

/* ---- halt orders ---- */

struct pht_halt;

enum pht_halt_scope {
	PHT_HALT_ALL = 1,
	PHT_HALT_PERMIT = 2,
	PHT_HALT_DATASET = 3,
};

/*
 * Serializes a halt order: scope as written ("all", "permit:ID",
 * "dataset:NAME"), until 0 for none, reason NULL for none. Same contract
 * as pht_permit_build.
 */
int pht_halt_build(const char *scope, int64_t issued, int64_t until,
    const char *reason, char **out, size_t *outlen, struct pht_err *err);

/* Parses strictly; as pht_permit_parse ("halt: malformed field ..."). */
int pht_halt_parse(const uint8_t *payload, size_t len, struct pht_halt **out,
    struct pht_err *err);

/* Frees h; accepts NULL. */
void pht_halt_free(struct pht_halt *h);

/* The scope as written ("dataset:reg"), its kind and its name (NULL for all). */
const char *pht_halt_scope(const struct pht_halt *h);
enum pht_halt_scope pht_halt_scope_kind(const struct pht_halt *h);
const char *pht_halt_scope_name(const struct pht_halt *h);
int64_t pht_halt_issued(const struct pht_halt *h);
int64_t pht_halt_until(const struct pht_halt *h);     /* 0: none */
const char *pht_halt_reason(const struct pht_halt *h); /* NULL: none */

/* 1 if the order is in force at now: issued <= now and (no until or now < until). */
int pht_halt_in_force(const struct pht_halt *h, int64_t now);

/*
 * 1 if the order covers a train under permit_id (may be NULL) on dataset
 * (may be NULL): scope all, or the permit or dataset named. Time is not
 * considered.
 */
int pht_halt_covers(const struct pht_halt *h, const char *permit_id,
    const char *dataset);

#endif
