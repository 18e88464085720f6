/* pht_enc.c — hex and base64. */
#include "pht_enc.h"
#include "pht_err.h"

#include <stdlib.h>

static const char hexdig[] = "0123456789abcdef";
static const char b64dig[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
pht_hex_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pht_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax,
    size_t *outlen)
{
	size_t i;
	int hi, lo;

	if (outlen != NULL)
		*outlen = 0;
	if (inlen % 2 != 0)
		return PHT_ERR_MALFORMED;
	if (inlen / 2 > outmax)
		return PHT_ERR_TOO_LARGE;
	for (i = 0; i < inlen / 2; i++) {
		hi = hexval(in[2 * i]);
		lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return PHT_ERR_MALFORMED;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (outlen != NULL)
		*outlen = inlen / 2;
	return PHT_OK;
}

size_t
pht_b64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void
pht_b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64dig[v >> 18 & 63];
		out[o++] = b64dig[v >> 12 & 63];
		out[o++] = b64dig[v >> 6 & 63];
		out[o++] = b64dig[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64dig[v >> 18 & 63];
		out[o++] = b64dig[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64dig[v >> 18 & 63];
		out[o++] = b64dig[v >> 12 & 63];
		out[o++] = b64dig[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
pht_b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax,
    size_t *outlen)
{
	size_t i, o = 0, pad = 0;
	int a, b, c, d;

	if (outlen != NULL)
		*outlen = 0;
	if (inlen % 4 != 0)
		return PHT_ERR_MALFORMED;
	if (inlen == 0)
		return PHT_OK;
	if (in[inlen - 1] == '=')
		pad++;
	if (in[inlen - 2] == '=')
		pad++;
	if (pad == 1 && in[inlen - 2] == '=')
		return PHT_ERR_MALFORMED;
	if (inlen / 4 * 3 - pad > outmax)
		return PHT_ERR_TOO_LARGE;
	for (i = 0; i < inlen; i += 4) {
		int last = (i + 4 == inlen);

		a = b64val(in[i]);
		b = b64val(in[i + 1]);
		c = (last && pad == 2) ? 0 : b64val(in[i + 2]);
		d = (last && pad >= 1) ? 0 : b64val(in[i + 3]);
		if (a < 0 || b < 0 || c < 0 || d < 0)
			return PHT_ERR_MALFORMED;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		if (last && pad == 2) {
			if ((b & 15) != 0)
				return PHT_ERR_MALFORMED;
			break;
		}
		out[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
		if (last && pad == 1) {
			if ((c & 3) != 0)
				return PHT_ERR_MALFORMED;
			break;
		}
		out[o++] = (uint8_t)((c & 3) << 6 | d);
	}
	if (outlen != NULL)
		*outlen = o;
	return PHT_OK;
}

char *
pht_b64_encode_alloc(const uint8_t *in, size_t n)
{
	char *s;

	if ((s = malloc(pht_b64_encoded_len(n) + 1)) == NULL)
		return NULL;
	pht_b64_encode(in, n, s);
	return s;
}

int
pht_b64_decode_alloc(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	uint8_t *p;
	size_t cap = inlen / 4 * 3 + 1;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((p = malloc(cap)) == NULL)
		return PHT_ERR_NOMEM;
	if ((r = pht_b64_decode(in, inlen, p, cap, outlen)) != PHT_OK) {
		free(p);
		return r;
	}
	*out = p;
	return PHT_OK;
}

int
pht_hex_lower_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}
