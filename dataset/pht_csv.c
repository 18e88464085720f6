/* pht_csv.c — RFC 4180 tokenizer: one pass, no allocation per field. */
#include "pht_csv.h"
#include "pht_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The bytes that end an unquoted run: the separator, LF, CR, the quote, NUL. */
static void
set_stop(struct pht_csv *c)
{
	memset(c->stop, 0, sizeof(c->stop));
	c->stop[0] = c->stop['\n'] = c->stop['\r'] = 1;
	c->stop[(uint8_t)c->delim] = c->stop[(uint8_t)c->quote] = 1;
}

void
pht_csv_init(struct pht_csv *c, const char *name, const char *buf, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->pos = buf;
	c->end = buf + len;
	c->line = 1;
	c->delim = ',';
	c->quote = '"';
	set_stop(c);
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c->pos += 3;
}

int
pht_csv_set_dialect(struct pht_csv *c, char delim, char quote)
{
	if (delim == '\0' || delim == '\n' || delim == '\r' || quote == '\0' ||
	    quote == '\n' || quote == '\r' || delim == quote)
		return PHT_ERR_INVALID;
	c->delim = delim;
	c->quote = quote;
	set_stop(c);
	return PHT_OK;
}

void
pht_csv_clear(struct pht_csv *c)
{
	if (c == NULL)
		return;
	free(c->fields);
	c->fields = NULL;
	c->nfields = c->cap = 0;
}

/* Appends f unless the record is already too wide to be kept. */
static int
store(struct pht_csv *c, size_t n, const char *p, size_t len, int escaped)
{
	struct pht_csv_field *nf;
	size_t ncap;

	if (n >= c->cap) {
		if (c->expect != 0 && n >= c->expect)
			return PHT_OK; /* counted, not kept: the count is an error */
		ncap = c->cap == 0 ? 16 : c->cap * 2;
		if (c->expect != 0 && ncap > c->expect)
			ncap = c->expect;
		if (ncap > PHT_CSV_MAX_FIELDS)
			ncap = PHT_CSV_MAX_FIELDS;
		if ((nf = realloc(c->fields, ncap * sizeof(*nf))) == NULL)
			return PHT_ERR_NOMEM;
		c->fields = nf;
		c->cap = ncap;
	}
	c->fields[n].p = p;
	c->fields[n].len = len;
	c->fields[n].escaped = escaped;
	return PHT_OK;
}

int
pht_csv_next(struct pht_csv *c, struct pht_err *err)
{
	const char *p = c->pos, *end = c->end, *s;
	const char q = c->quote, delim = c->delim;
	size_t n = 0, qline;
	int escaped;

	if (p >= end)
		return 0;
	c->rec_line = c->line;
	c->nfields = 0;
	for (;;) {
		if (p < end && *p == q) {
			qline = c->line;
			escaped = 0;
			s = ++p;
			for (;;) {
				if (p >= end)
					return pht_errf(err, PHT_ERR_MALFORMED,
					    "%s:%zu: quoted field opened on this line is "
					    "never closed", c->name, qline);
				if (*p == q) {
					if (p + 1 < end && p[1] == q) {
						escaped = 1;
						p += 2;
						continue;
					}
					break;
				}
				if (*p == '\n')
					c->line++;
				else if (*p == '\0')
					return pht_errf(err, PHT_ERR_MALFORMED,
					    "%s:%zu: NUL byte in the data", c->name,
					    c->line);
				p++;
			}
			if (n < PHT_CSV_MAX_FIELDS &&
			    store(c, n, s, (size_t)(p - s), escaped) != PHT_OK)
				return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory",
				    c->name);
			p++; /* the closing quote */
			if (p < end && *p != delim && *p != '\n' && *p != '\r')
				return pht_errf(err, PHT_ERR_MALFORMED,
				    "%s:%zu: field %zu: unexpected character after "
				    "a closing quote", c->name, c->line, n + 1);
		} else {
			s = p;
			while (p < end && !c->stop[(uint8_t)*p])
				p++;
			if (p < end && *p == q)
				return pht_errf(err, PHT_ERR_MALFORMED,
				    "%s:%zu: field %zu: quote inside an unquoted field",
				    c->name, c->line, n + 1);
			if (p < end && *p == '\0')
				return pht_errf(err, PHT_ERR_MALFORMED,
				    "%s:%zu: NUL byte in the data", c->name, c->line);
			if (n < PHT_CSV_MAX_FIELDS &&
			    store(c, n, s, (size_t)(p - s), 0) != PHT_OK)
				return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory",
				    c->name);
		}
		n++;
		if (c->expect == 0 && n > PHT_CSV_MAX_FIELDS)
			return pht_errf(err, PHT_ERR_MALFORMED,
			    "%s:%zu: more than %d fields in a record", c->name,
			    c->rec_line, PHT_CSV_MAX_FIELDS);
		if (p >= end)
			break;
		if (*p == delim) {
			p++;
			continue;
		}
		if (*p == '\r') {
			if (p + 1 >= end || p[1] != '\n')
				return pht_errf(err, PHT_ERR_MALFORMED,
				    "%s:%zu: carriage return not followed by a line "
				    "feed", c->name, c->line);
			p++;
		}
		p++; /* the line feed */
		c->line++;
		break;
	}
	c->pos = p;
	if (c->expect != 0 && n != c->expect)
		return pht_errf(err, PHT_ERR_MALFORMED,
		    "%s:%zu: record has %zu field%s, expected %zu", c->name,
		    c->rec_line, n, n == 1 ? "" : "s", c->expect);
	c->nfields = n;
	return 1;
}

size_t
pht_csv_unescape(const struct pht_csv_field *f, char quote, char *dst)
{
	const char *p = f->p, *end = f->p + f->len;
	size_t n = 0;

	if (!f->escaped) {
		memcpy(dst, p, f->len);
		return f->len;
	}
	while (p < end) {
		dst[n++] = *p;
		p += (*p == quote) ? 2 : 1;
	}
	return n;
}
