/* pht_buf.h — the bounded byte buffer every untrusted byte goes through. */
#ifndef PHT_BUF_H
#define PHT_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A growable buffer with a hard maximum size fixed at creation, and a read
 * cursor for checked reads. The contents are always followed by a NUL byte
 * (not counted in the length), so text can be read as a C string.
 */
struct pht_buf;

/* New empty buffer that may never hold more than max bytes. NULL on OOM. */
struct pht_buf *pht_buf_new(size_t max);

/* Frees buf and its contents; accepts NULL. Wipes the contents first. */
void pht_buf_free(struct pht_buf *buf);

/* Appends n bytes. PHT_ERR_TOO_LARGE if the maximum would be exceeded. */
int pht_buf_put(struct pht_buf *buf, const void *data, size_t n);

/* Appends one byte. */
int pht_buf_putc(struct pht_buf *buf, int c);

/* Appends a NUL-terminated string (without its NUL). */
int pht_buf_puts(struct pht_buf *buf, const char *s);

/* Appends printf-formatted text. */
int pht_buf_putf(struct pht_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int pht_buf_vputf(struct pht_buf *buf, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Contents (NUL-terminated) and length; valid until the next change. */
const uint8_t *pht_buf_data(const struct pht_buf *buf);
const char *pht_buf_str(const struct pht_buf *buf);
size_t pht_buf_len(const struct pht_buf *buf);
size_t pht_buf_max(const struct pht_buf *buf);

/* Empties the buffer and rewinds the read cursor. */
void pht_buf_reset(struct pht_buf *buf);

/* Checked read of exactly n bytes at the cursor; PHT_ERR_MALFORMED if short. */
int pht_buf_get(struct pht_buf *buf, void *out, size_t n);

/* Bytes left after the read cursor. */
size_t pht_buf_remaining(const struct pht_buf *buf);

/*
 * Hands the contents over to the caller (free() them; NUL-terminated) and
 * empties the buffer. *len receives the length if len is not NULL.
 */
char *pht_buf_steal(struct pht_buf *buf, size_t *len);

#endif
