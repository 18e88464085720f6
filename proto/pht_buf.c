/* pht_buf.c — bounded byte buffer. */
#include "pht_buf.h"
#include "pht_err.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pht_buf {
	uint8_t *d;     /* contents, d[len] == 0 */
	size_t len;     /* bytes used */
	size_t cap;     /* bytes allocated, > len */
	size_t max;     /* hard maximum for len */
	size_t off;     /* read cursor */
};

struct pht_buf *
pht_buf_new(size_t max)
{
	struct pht_buf *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->cap = 64;
	if ((b->d = malloc(b->cap)) == NULL) {
		free(b);
		return NULL;
	}
	b->d[0] = 0;
	b->max = max;
	return b;
}

void
pht_buf_free(struct pht_buf *b)
{
	if (b == NULL)
		return;
	if (b->d != NULL) {
		OPENSSL_cleanse(b->d, b->cap);
		free(b->d);
	}
	free(b);
}

static int
reserve(struct pht_buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *nd;

	if (n > b->max || b->len > b->max - n)
		return PHT_ERR_TOO_LARGE;
	need = b->len + n + 1;
	if (need <= b->cap)
		return PHT_OK;
	ncap = b->cap;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if ((nd = realloc(b->d, ncap)) == NULL)
		return PHT_ERR_NOMEM;
	b->d = nd;
	b->cap = ncap;
	return PHT_OK;
}

int
pht_buf_put(struct pht_buf *b, const void *data, size_t n)
{
	int r;

	if (n == 0)
		return PHT_OK;
	if ((r = reserve(b, n)) != PHT_OK)
		return r;
	memcpy(b->d + b->len, data, n);
	b->len += n;
	b->d[b->len] = 0;
	return PHT_OK;
}

int
pht_buf_putc(struct pht_buf *b, int c)
{
	uint8_t ch = (uint8_t)c;

	return pht_buf_put(b, &ch, 1);
}

int
pht_buf_puts(struct pht_buf *b, const char *s)
{
	return pht_buf_put(b, s, strlen(s));
}

int
pht_buf_vputf(struct pht_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, r;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return PHT_ERR_INVALID;
	if ((r = reserve(b, (size_t)n)) != PHT_OK)
		return r;
	vsnprintf((char *)b->d + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return PHT_OK;
}

int
pht_buf_putf(struct pht_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pht_buf_vputf(b, fmt, ap);
	va_end(ap);
	return r;
}

const uint8_t *
pht_buf_data(const struct pht_buf *b)
{
	return b->d;
}

const char *
pht_buf_str(const struct pht_buf *b)
{
	return (const char *)b->d;
}

size_t
pht_buf_len(const struct pht_buf *b)
{
	return b->len;
}

size_t
pht_buf_max(const struct pht_buf *b)
{
	return b->max;
}

void
pht_buf_reset(struct pht_buf *b)
{
	b->len = 0;
	b->off = 0;
	b->d[0] = 0;
}

int
pht_buf_get(struct pht_buf *b, void *out, size_t n)
{
	if (n > b->len - b->off)
		return PHT_ERR_MALFORMED;
	memcpy(out, b->d + b->off, n);
	b->off += n;
	return PHT_OK;
}

size_t
pht_buf_remaining(const struct pht_buf *b)
{
	return b->len - b->off;
}

char *
pht_buf_steal(struct pht_buf *b, size_t *len)
{
	char *s;
	uint8_t *nd;

	if ((nd = malloc(64)) == NULL)
		return NULL;
	nd[0] = 0;
	s = (char *)b->d;
	if (len != NULL)
		*len = b->len;
	b->d = nd;
	b->cap = 64;
	b->len = b->off = 0;
	return s;
}
