/* cmd_permit.h — what pht permit shares with pht train, run and station: signed governance files (cmd_permit_files.c). */
#ifndef CMD_PERMIT_H
#define CMD_PERMIT_H

#include "pht_key.h"

#include <stddef.h>

struct pht_trust;
struct pht_err;

/* What a signed governance file holds, parsed as whichever kind it is (one set). */
struct pht_cli_signed {
	struct pht_permit *permit;
	struct pht_revocations *rev;
	struct pht_halt *halt;
	struct pht_code_approval *approval;
};

/*
 * Reads the envelope at path, opens it (verifying the signature against
 * trust when trust is not NULL) and parses its payload by its "kind":
 * permit, revocation list, halt order or code approval. fp and name get the
 * signer's fingerprint and key name ("" if none). On failure returns the
 * error code with err prefixed by path; p is then empty.
 */
int pht_cli_signed_load(const char *path, const struct pht_trust *trust,
    struct pht_cli_signed *p, char fp[PHT_KEY_FP_LEN + 1],
    char name[PHT_KEY_NAME_MAX + 1], struct pht_err *err);

/* Frees what p holds and empties it. */
void pht_cli_signed_clear(struct pht_cli_signed *p);

struct pht_buf;
struct pht_permit;

/*
 * Reads the signed permit at path (pht permit issue) that a train carries
 * (pht train sign and pht run --permit-file): *text gets the envelope as
 * read, *permit its payload parsed (the signature is the station's to check
 * against its authorities). On failure returns the error code with err
 * prefixed "--permit-file"; *text and *permit are then NULL.
 */
int pht_cli_read_permit(const char *path, struct pht_buf **text,
    struct pht_permit **permit, struct pht_err *err);

/*
 * Reads a reviewer's code approval envelope (pht permit approve) from path
 * for a train whose code is code[0..len): checks that it parses as a code
 * approval and lists the code's SHA-256 (the signature is the station's to
 * check against the permit's reviewers). On success *out holds the file's
 * text and 0 is returned; otherwise prints "pht CMD: --approval ..." and
 * returns the exit code.
 */
int pht_cli_load_approval(const char *cmd, const char *path, const char *code,
    size_t len, struct pht_buf **out);

#endif
