/* pht_err.c — error codes to text and the detail buffer. */
#include "pht_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
pht_strerror(int code)
{
	switch (code) {
	case PHT_OK: return "ok";
	case PHT_ERR_NOMEM: return "out of memory";
	case PHT_ERR_IO: return "input/output error";
	case PHT_ERR_INVALID: return "invalid input";
	case PHT_ERR_MALFORMED: return "malformed";
	case PHT_ERR_TOO_LARGE: return "too large";
	case PHT_ERR_CRYPTO: return "cryptographic failure";
	case PHT_ERR_BAD_SIGNATURE: return "bad signature";
	case PHT_ERR_UNKNOWN_SIGNER: return "unknown signer";
	case PHT_ERR_EXPIRED: return "expired";
	case PHT_ERR_NOT_YET_VALID: return "not yet valid";
	case PHT_ERR_HASH_MISMATCH: return "hash mismatch";
	case PHT_ERR_DECRYPT: return "decryption failed";
	case PHT_ERR_NOT_FOUND: return "not found";
	case PHT_ERR_REPLAY: return "replayed";
	case PHT_ERR_POLICY: return "refused by policy";
	case PHT_ERR_LIMIT: return "limit exceeded";
	case PHT_ERR_TRAIN: return "train error";
	case PHT_ERR_DISCLOSURE: return "disclosure control";
	case PHT_ERR_TAMPERED: return "tampered";
	case PHT_ERR_NETWORK: return "network error";
	case PHT_ERR_DENIED: return "denied";
	case PHT_ERR_USAGE: return "bad usage";
	case PHT_ERR_INTERNAL: return "internal error";
	case PHT_ERR_NOSPACE: return "no space left on the device";
	}
	return "unknown error";
}

int
pht_errf(struct pht_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
pht_err_prefix(struct pht_err *err, const char *fmt, ...)
{
	char pre[PHT_ERR_DETAIL_MAX], old[PHT_ERR_DETAIL_MAX];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	if (old[0] == '\0')
		snprintf(err->msg, sizeof(err->msg), "%s: %s", pre, pht_strerror(err->code));
	else
		snprintf(err->msg, sizeof(err->msg), "%s: %s", pre, old);
}

void
pht_err_clear(struct pht_err *err)
{
	if (err == NULL)
		return;
	err->code = PHT_OK;
	err->msg[0] = '\0';
}

const char *
pht_err_msg(const struct pht_err *err)
{
	if (err == NULL)
		return "";
	if (err->msg[0] != '\0')
		return err->msg;
	return pht_strerror(err->code);
}

void
pht_err_scrub(struct pht_err *err)
{
	char *c;

	if (err == NULL)
		return;
	for (c = err->msg; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
}
