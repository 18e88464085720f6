/* test_train_frame.c — the child-to-parent frame: round trip and every refusal of the strict decoder. */
#include "tap.h"

#include "pht_buf.h"
#include "pht_err.h"
#include "pht_train_frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Builds a frame by hand, little-endian as on the hosts PHT runs on. */
static size_t
raw2(uint8_t *out, uint32_t magic, int32_t code, uint32_t clen, uint32_t plen,
    uint32_t rlen, uint32_t flags, const char *body, size_t blen)
{
	uint64_t z = 7;

	memcpy(out, &magic, 4);
	memcpy(out + 4, &code, 4);
	memcpy(out + 8, &z, 8);
	memcpy(out + 16, &z, 8);
	memcpy(out + 24, &z, 8);
	memcpy(out + 32, &clen, 4);
	memcpy(out + 36, &plen, 4);
	memcpy(out + 40, &rlen, 4);
	memcpy(out + 44, &flags, 4);
	memcpy(out + 48, body, blen);
	return 48 + blen;
}

static size_t
raw(uint8_t *out, uint32_t magic, int32_t code, uint32_t clen, uint32_t plen,
    const char *body, size_t blen)
{
	return raw2(out, magic, code, clen, plen, 0, 0, body, blen);
}

int
main(void)
{
	struct pht_train_frame f;
	struct pht_err err;
	struct pht_buf *b = pht_buf_new(1 << 16);
	uint8_t buf[4096];
	char big[2048];
	size_t n;

	tap_ok(pht_train_frame_header_size() == 48, "the header is 48 bytes");
	tap_ok(pht_train_frame_encode(b, PHT_OK, 12000, 65536, 300, 0, "age,sex",
	    "{\"n\":3}", 7, NULL, 0) == PHT_OK, "encode");
	tap_ok(pht_train_frame_decode(pht_buf_data(b), pht_buf_len(b), 100, &f, &err) == PHT_OK &&
	    f.code == PHT_OK && f.instructions == 12000 && f.peak_memory == 65536 &&
	    f.rows_read == 300 && strcmp(f.columns, "age,sex") == 0 && f.payload_len == 7 &&
	    memcmp(f.payload, "{\"n\":3}", 7) == 0 && f.data_touched == 0,
	    "decode gives back every field");
	tap_ok(pht_train_frame_decode(pht_buf_data(b), pht_buf_len(b), 6, &f, &err) ==
	    PHT_ERR_MALFORMED, "an output larger than the cap is refused");
	tap_str(err.msg, "train frame: payload of 7 bytes too long", "its detail");
	tap_ok(pht_train_frame_decode(pht_buf_data(b), 47, 100, &f, &err) == PHT_ERR_MALFORMED,
	    "a short frame is refused");
	tap_str(err.msg, "train frame: 47 bytes, shorter than its header", "its detail");
	tap_ok(pht_train_frame_decode(pht_buf_data(b), pht_buf_len(b) - 1, 100, &f, &err) ==
	    PHT_ERR_MALFORMED, "a truncated payload is refused");
	tap_str(err.msg, "train frame: lengths do not add up to 61 bytes", "its detail");

	n = raw(buf, 0x52544851u, 0, 0, 2, "{}", 2);
	tap_ok(pht_train_frame_decode(buf, n, 100, &f, &err) == PHT_ERR_MALFORMED &&
	    strcmp(err.msg, "train frame: bad magic") == 0, "a bad magic is refused");
	n = raw(buf, 0x52544850u, PHT_ERR_POLICY, 0, 2, "no", 2);
	tap_ok(pht_train_frame_decode(buf, n, 100, &f, &err) == PHT_ERR_MALFORMED &&
	    strcmp(err.msg, "train frame: code -15 not allowed") == 0,
	    "a code the child may not send is refused: %s", err.msg);
	n = raw(buf, 0x52544850u, 0, UINT32_MAX, 1, "x", 1);
	tap_ok(pht_train_frame_decode(buf, n, 100, &f, &err) == PHT_ERR_MALFORMED &&
	    strcmp(err.msg, "train frame: columns text too long") == 0,
	    "an oversized columns length is refused");
	n = raw(buf, 0x52544850u, 0, 1, UINT32_MAX, "x", 1);
	tap_ok(pht_train_frame_decode(buf, n, 100, &f, &err) == PHT_ERR_MALFORMED &&
	    strstr(err.msg, "lengths do not add up") != NULL,
	    "lengths that overflow 32 bits are refused");
	memset(big, 'e', sizeof(big));
	n = raw(buf, 0x52544850u, PHT_ERR_TRAIN, 0, 1024, big, 1024);
	tap_ok(pht_train_frame_decode(buf, n, 1 << 20, &f, &err) == PHT_ERR_MALFORMED &&
	    strcmp(err.msg, "train frame: payload of 1024 bytes too long") == 0,
	    "an error text of 1024 bytes is refused");
	n = raw(buf, 0x52544850u, PHT_ERR_TRAIN, 3, 4, "a\x1b" "bboom", 7);
	tap_ok(pht_train_frame_decode(buf, n, 100, &f, &err) == PHT_OK &&
	    f.code == PHT_ERR_TRAIN && strcmp(f.columns, "a?b") == 0 && f.payload_len == 4,
	    "control bytes in the columns text are replaced");

	n = raw2(buf, 0x52544850u, 0, 0, 2, 3, 0, "{}abc", 5);
	tap_ok(pht_train_frame_decode(buf, n, 100, &f, &err) == PHT_OK && f.payload_len == 2 &&
	    f.rowsets_len == 3 && memcmp(f.rowsets, "abc", 3) == 0,
	    "row-set bytes after the payload are handed back (checked later by their own decoder)");
	n = raw2(buf, 0x52544850u, 0, 0, 2, 0, 2, "{}", 2);
	tap_ok(pht_train_frame_decode(buf, n, 100, &f, &err) == PHT_ERR_MALFORMED &&
	    strcmp(err.msg, "train frame: unknown flags 0x2") == 0,
	    "an undefined flag bit is refused: %s", err.msg);
	n = raw2(buf, 0x52544850u, 0, 0, 2, 0, 1, "{}", 2);
	tap_ok(pht_train_frame_decode(buf, n, 100, &f, &err) == PHT_OK && f.data_touched == 1,
	    "the data-touched flag is read");
	n = raw2(buf, 0x52544850u, 0, 0, 2, (16u << 20) + 1, 0, "{}", 2);
	tap_ok(pht_train_frame_decode(buf, n, 100, &f, &err) == PHT_ERR_MALFORMED &&
	    strcmp(err.msg, "train frame: row sets of 16777217 bytes too long") == 0,
	    "row sets over 16 MiB are refused: %s", err.msg);
	n = raw2(buf, 0x52544850u, 0, 0, 2, 4, 0, "{}abc", 5);
	tap_ok(pht_train_frame_decode(buf, n, 100, &f, &err) == PHT_ERR_MALFORMED &&
	    strstr(err.msg, "lengths do not add up") != NULL,
	    "a row-set length past the end is refused");
	pht_buf_free(b);
	b = pht_buf_new(1 << 16);
	tap_ok(pht_train_frame_encode(b, PHT_OK, 1, 2, 3, PHT_TRAIN_FRAME_DATA_TOUCHED, "a", "{}", 2, "xyz", 3) == PHT_OK &&
	    pht_train_frame_decode(pht_buf_data(b), pht_buf_len(b), 10, &f, &err) == PHT_OK &&
	    f.rowsets_len == 3 && memcmp(f.rowsets, "xyz", 3) == 0 && f.payload_len == 2 &&
	    f.data_touched == 1, "encode with row sets and the data-touched flag round-trips");

	pht_buf_free(b);
	b = pht_buf_new(53);
	tap_ok(pht_train_frame_encode(b, PHT_OK, 0, 0, 0, 0, "", "123456", 6, NULL, 0) ==
	    PHT_ERR_TOO_LARGE,
	    "encode into a buffer too small fails");
	pht_buf_free(b);
	b = pht_buf_new(1 << 16);
	memset(big, 'c', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	tap_ok(pht_train_frame_encode(b, PHT_OK, 0, 0, 0, 0, big, "1", 1, NULL, 0) == PHT_OK &&
	    pht_train_frame_decode(pht_buf_data(b), pht_buf_len(b), 10, &f, &err) == PHT_OK &&
	    strlen(f.columns) == PHT_TRAIN_FRAME_COLS_MAX - 1, "a long columns text is cut to fit");
	pht_buf_free(b);
	return tap_done();
}
