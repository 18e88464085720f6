/* pht_err.h — the one error enum of PHT and the detail buffer that says where. */
#ifndef PHT_ERR_H
#define PHT_ERR_H

#include <stddef.h>

/*
 * Every library function that can fail returns PHT_OK (0) or one of these
 * negative codes. Where the position matters (a file, a row, a field) the
 * function also writes a one-line detail into a caller-provided
 * struct pht_err, e.g. "reg.csv:812:age: \"7x\" is not an integer".
 */
enum pht_errcode {
	PHT_OK = 0,
	PHT_ERR_NOMEM = -1,         /* allocation failed */
	PHT_ERR_IO = -2,            /* read/write/open failed (errno in detail) */
	PHT_ERR_INVALID = -3,       /* bad argument or bad input value */
	PHT_ERR_MALFORMED = -4,     /* message or file does not parse */
	PHT_ERR_TOO_LARGE = -5,     /* input exceeds a size bound */
	PHT_ERR_CRYPTO = -6,        /* a cryptographic primitive failed */
	PHT_ERR_BAD_SIGNATURE = -7, /* signature does not verify */
	PHT_ERR_UNKNOWN_SIGNER = -8,/* signer not in the trust list */
	PHT_ERR_EXPIRED = -9,       /* past its expiry time */
	PHT_ERR_NOT_YET_VALID = -10,/* issued in the future / permit not yet valid */
	PHT_ERR_HASH_MISMATCH = -11,/* content does not match its recorded hash */
	PHT_ERR_DECRYPT = -12,      /* sealed data fails authentication */
	PHT_ERR_NOT_FOUND = -13,    /* no such item */
	PHT_ERR_REPLAY = -14,       /* id seen before */
	PHT_ERR_POLICY = -15,       /* refused by station policy */
	PHT_ERR_LIMIT = -16,        /* a sandbox limit was hit */
	PHT_ERR_TRAIN = -17,        /* the train's code raised an error */
	PHT_ERR_DISCLOSURE = -18,   /* output or subset fails disclosure control */
	PHT_ERR_TAMPERED = -19,     /* log or bundle fails verification */
	PHT_ERR_NETWORK = -20,      /* transport failure */
	PHT_ERR_DENIED = -21,       /* authenticated but not allowed */
	PHT_ERR_USAGE = -22,        /* bad command-line usage */
	PHT_ERR_INTERNAL = -23,     /* a bug or an impossible state */
	PHT_ERR_NOSPACE = -24,      /* no space left on the device: retry later */
};

#define PHT_ERR_DETAIL_MAX 512

/* Caller-owned detail buffer; msg is always NUL-terminated. */
struct pht_err {
	int code;
	char msg[PHT_ERR_DETAIL_MAX];
};

/* Returns a static, short, lower-case description of code. Never NULL. */
const char *pht_strerror(int code);

/*
 * Records code and a printf-style detail in err (err may be NULL).
 * Returns code, so that callers can write: return pht_errf(err, PHT_ERR_X, ...).
 */
int pht_errf(struct pht_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing detail with "prefix: " (err may be NULL). */
void pht_err_prefix(struct pht_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Replaces every byte of the detail outside printable ASCII with '?' (for
 * details that quote untrusted input, as jansson's do). err may be NULL.
 */
void pht_err_scrub(struct pht_err *err);

/* Clears err to PHT_OK and an empty message (err may be NULL). */
void pht_err_clear(struct pht_err *err);

/* The detail if one was set, else pht_strerror(err->code). */
const char *pht_err_msg(const struct pht_err *err);

#endif
