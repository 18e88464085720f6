/* pht_udiff.h — a unified diff of two texts, line by line (the shortest edit script, Myers 1986). */
#ifndef PHT_UDIFF_H
#define PHT_UDIFF_H

#include <stddef.h>

struct pht_buf;
struct pht_err;

/* Most lines added plus removed a diff looks for; past it PHT_ERR_LIMIT. */
#define PHT_UDIFF_MAX_EDITS 2000

/*
 * Appends to out the unified diff that turns text a (alen bytes) into b,
 * as `diff -u` writes it: "--- aname" and "+++ bname" lines, then hunks
 * "@@ -L,N +L,N @@" (",N" left out when N is 1; an empty side's L is the
 * line before it) with context lines of common text around each change
 * (hunks closer than 2 * context lines merge), lines " ", "-" and "+"
 * prefixed, and "\ No newline at end of file" after a last line without
 * one. A line is its bytes up to and including '\n'. The edit script is a
 * shortest one (fewest lines added plus removed). Equal texts append
 * nothing. PHT_ERR_LIMIT when more than PHT_UDIFF_MAX_EDITS lines would be
 * added and removed (nothing appended), PHT_ERR_TOO_LARGE when out is
 * full, PHT_ERR_NOMEM.
 */
int pht_udiff(const char *a, size_t alen, const char *b, size_t blen,
    const char *aname, const char *bname, int context, struct pht_buf *out,
    struct pht_err *err);

#endif
