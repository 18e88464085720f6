/* pht_csv.h — an RFC 4180 CSV tokenizer over a memory buffer, one record at a time. */
#ifndef PHT_CSV_H
#define PHT_CSV_H

#include <stddef.h>

struct pht_err;

/* Most fields a record may have when no count is expected. */
#define PHT_CSV_MAX_FIELDS 65536

/*
 * One field of the current record. p points into the caller's buffer: for
 * a quoted field, at the bytes between the quotes. When escaped is set the
 * field contains "" pairs that stand for one quote each; use
 * pht_csv_unescape to get the value. Valid until the next pht_csv_next.
 */
struct pht_csv_field {
	const char *p;
	size_t len;
	int escaped;
};

/*
 * Tokenizer state over a caller-owned buffer (which must outlive it).
 * Fields are stored in one array reused from record to record, so reading
 * allocates only while the widest record seen so far grows.
 * Invariants: buf <= pos <= end; line is the 1-based line at pos.
 */
struct pht_csv {
	const char *name;             /* for error details */
	char delim;                   /* field separator (',' unless set) */
	char quote;                   /* quote character ('"' unless set) */
	unsigned char stop[256];      /* bytes ending an unquoted run */
	const char *pos, *end;
	size_t line;
	size_t expect;                /* fields per record; 0 = any */
	struct pht_csv_field *fields; /* the current record */
	size_t nfields;
	size_t cap;
	size_t rec_line;              /* line where the current record starts */
};

/*
 * Starts tokenizing len bytes at buf; a leading UTF-8 BOM is skipped.
 * name is borrowed and used in error details ("NAME:LINE: reason").
 */
void pht_csv_init(struct pht_csv *c, const char *name, const char *buf,
    size_t len);

/*
 * Sets the field separator and the quote character (after pht_csv_init,
 * before the first record): any bytes other than NUL, CR, LF and each
 * other. PHT_OK, or PHT_ERR_INVALID leaving c as it was.
 */
int pht_csv_set_dialect(struct pht_csv *c, char delim, char quote);

/* Frees the field array; c may be reused after pht_csv_init. */
void pht_csv_clear(struct pht_csv *c);

/*
 * Reads the next record into c->fields / c->nfields / c->rec_line.
 * Returns 1 for a record, 0 at the end of the input, or PHT_ERR_MALFORMED
 * with a detail "NAME:LINE: reason" for: a record whose field count is not
 * c->expect (when non-zero), an unterminated quoted field (LINE is where it
 * opened), a quote inside an unquoted field, a character after a closing
 * quote, a carriage return not followed by a line feed outside quotes, a
 * NUL byte, more than PHT_CSV_MAX_FIELDS fields. PHT_ERR_NOMEM on OOM.
 * A line feed or CRLF ends a record; the last record need not end with one.
 */
int pht_csv_next(struct pht_csv *c, struct pht_err *err);

/*
 * Writes the value of f (with a doubled quote collapsed to one) to dst, which holds at
 * least f->len bytes; returns its length. Not NUL-terminated.
 */
size_t pht_csv_unescape(const struct pht_csv_field *f, char quote, char *dst);

#endif
