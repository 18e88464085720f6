/* pht_enc.h — hex and base64 text encodings, strict on decode. */
#ifndef PHT_ENC_H
#define PHT_ENC_H

#include <stddef.h>
#include <stdint.h>

/* 1 if the n bytes at s are all lower-case hex digits [0-9a-f], else 0. */
int pht_hex_lower_ok(const char *s, size_t n);

/* Writes 2*n lower-case hex digits and a NUL to out (size >= 2*n+1). */
void pht_hex_encode(const uint8_t *in, size_t n, char *out);

/*
 * Decodes exactly inlen hex digits (either case) into out, which holds
 * outmax bytes. PHT_ERR_MALFORMED on odd length or a non-hex digit,
 * PHT_ERR_TOO_LARGE if out is too small. *outlen gets the byte count.
 */
int pht_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax,
    size_t *outlen);

/* Length of the base64 text for n bytes, without NUL. */
size_t pht_b64_encoded_len(size_t n);

/* Standard base64 with padding; out holds pht_b64_encoded_len(n)+1 bytes. */
void pht_b64_encode(const uint8_t *in, size_t n, char *out);

/*
 * Strict standard base64 decode: length a multiple of 4, padding only at
 * the end, no whitespace, unused bits zero. Returns PHT_ERR_MALFORMED
 * otherwise; PHT_ERR_TOO_LARGE if outmax is too small (needs inlen/4*3).
 */
int pht_b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax,
    size_t *outlen);

/* Heap-allocating variants; caller frees. NULL on OOM / error. */
char *pht_b64_encode_alloc(const uint8_t *in, size_t n);
int pht_b64_decode_alloc(const char *in, size_t inlen, uint8_t **out, size_t *outlen);

#endif
