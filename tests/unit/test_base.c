/* test_base.c — unit tests for errors, buffers, encodings, JSON and time. */
#include "tap.h"

#include "pht_buf.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_time.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
test_err(void)
{
	struct pht_err e;

	pht_err_clear(&e);
	tap_ok(e.code == PHT_OK && e.msg[0] == 0, "clear resets");
	tap_ok(pht_errf(&e, PHT_ERR_EXPIRED, "train %s", "x") == PHT_ERR_EXPIRED,
	    "errf returns its code");
	tap_str(pht_err_msg(&e), "train x", "errf records detail");
	pht_err_prefix(&e, "file %d", 3);
	tap_str(pht_err_msg(&e), "file 3: train x", "prefix prepends");
	tap_ok(pht_errf(NULL, PHT_ERR_IO, "x") == PHT_ERR_IO, "errf accepts NULL");
	tap_str(pht_strerror(PHT_ERR_BAD_SIGNATURE), "bad signature", "strerror");
	tap_str(pht_strerror(12345), "unknown error", "strerror of unknown code");
}

static void
test_buf(void)
{
	struct pht_buf *b = pht_buf_new(8);
	uint8_t out[8];
	char *s;
	size_t n;

	tap_ok(b != NULL, "buf_new");
	tap_ok(pht_buf_put(b, "abcd", 4) == PHT_OK, "put within bound");
	tap_ok(pht_buf_putf(b, "%d", 1234) == PHT_OK, "putf to exactly max");
	tap_ok(pht_buf_putc(b, 'x') == PHT_ERR_TOO_LARGE, "putc past max refused");
	tap_ok(pht_buf_len(b) == 8, "length unchanged by refused put");
	tap_str(pht_buf_str(b), "abcd1234", "contents NUL-terminated");
	tap_ok(pht_buf_get(b, out, 5) == PHT_OK && memcmp(out, "abcd1", 5) == 0,
	    "checked read");
	tap_ok(pht_buf_remaining(b) == 3, "remaining after read");
	tap_ok(pht_buf_get(b, out, 4) == PHT_ERR_MALFORMED, "short read refused");
	tap_ok(pht_buf_putf(b, "%s", "toolong") == PHT_ERR_TOO_LARGE, "putf past max");
	s = pht_buf_steal(b, &n);
	tap_ok(s != NULL && n == 8 && strcmp(s, "abcd1234") == 0, "steal");
	tap_ok(pht_buf_len(b) == 0, "empty after steal");
	free(s);
	pht_buf_free(b);
	pht_buf_free(NULL);
}

static void
test_enc(void)
{
	const uint8_t raw[] = {0x00, 0xff, 0x10, 0xab};
	char hex[9], b64[16];
	uint8_t out[16];
	size_t n;
	/* RFC 4648 test vectors */
	const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	size_t i;

	pht_hex_encode(raw, 4, hex);
	tap_str(hex, "00ff10ab", "hex encode");
	tap_ok(pht_hex_decode("00FF10ab", 8, out, sizeof(out), &n) == PHT_OK && n == 4 &&
	    memcmp(out, raw, 4) == 0, "hex decode either case");
	tap_ok(pht_hex_decode("0", 1, out, sizeof(out), &n) == PHT_ERR_MALFORMED, "odd hex");
	tap_ok(pht_hex_decode("0g", 2, out, sizeof(out), &n) == PHT_ERR_MALFORMED, "bad digit");
	tap_ok(pht_hex_decode("0000", 4, out, 1, &n) == PHT_ERR_TOO_LARGE, "hex too large");
	for (i = 0; i < 7; i++) {
		pht_b64_encode((const uint8_t *)plain[i], strlen(plain[i]), b64);
		tap_str(b64, enc[i], "b64 encode RFC 4648 vector %zu", i);
		tap_ok(pht_b64_decode(enc[i], strlen(enc[i]), out, sizeof(out), &n) == PHT_OK &&
		    n == strlen(plain[i]) && memcmp(out, plain[i], n) == 0,
		    "b64 decode RFC 4648 vector %zu", i);
	}
	tap_ok(pht_b64_decode("Zg=", 3, out, sizeof(out), &n) == PHT_ERR_MALFORMED, "b64 bad length");
	tap_ok(pht_b64_decode("Zh==", 4, out, sizeof(out), &n) == PHT_ERR_MALFORMED,
	    "b64 non-zero unused bits refused");
	tap_ok(pht_b64_decode("Z=g=", 4, out, sizeof(out), &n) == PHT_ERR_MALFORMED,
	    "b64 padding in the middle refused");
	tap_ok(pht_b64_decode("Zm9v\nYg==", 9, out, sizeof(out), &n) == PHT_ERR_MALFORMED,
	    "b64 whitespace refused");
	tap_ok(pht_b64_decode("Zm9vYmFy", 8, out, 5, &n) == PHT_ERR_TOO_LARGE, "b64 too large");
}

static void
test_json(void)
{
	struct pht_err e;
	json_t *v = NULL;
	const char *s = NULL;
	int64_t i = 0;
	char deep[200];

	tap_ok(pht_json_parse("{\"a\":1,\"a\":2}", 13, "msg", &v, &e) == PHT_ERR_MALFORMED &&
	    v == NULL, "duplicate keys refused");
	tap_ok(strstr(e.msg, "msg: ") == e.msg, "detail names the input: %s", e.msg);
	tap_ok(pht_json_parse("{\"a\":\"\xff\"}", 9, "msg", &v, &e) == PHT_ERR_MALFORMED,
	    "invalid UTF-8 refused");
	tap_ok(pht_json_parse("{\"a\":1}\0", 8, "msg", &v, &e) == PHT_ERR_MALFORMED,
	    "NUL byte refused");
	tap_ok(pht_json_parse("{\"a\":1", 6, "msg", &v, &e) == PHT_ERR_MALFORMED,
	    "truncated refused");
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	tap_ok(pht_json_parse(deep, 200, "msg", &v, &e) == PHT_ERR_MALFORMED,
	    "nesting beyond 64 refused");
	tap_ok(pht_json_parse("{\"s\":\"x\",\"i\":7}", 15, "msg", &v, &e) == PHT_OK, "parses");
	tap_ok(pht_json_get_str(v, "s", "msg", &s, &e) == PHT_OK && strcmp(s, "x") == 0, "get_str");
	tap_ok(pht_json_get_int(v, "i", "msg", &i, &e) == PHT_OK && i == 7, "get_int");
	tap_ok(pht_json_get_str(v, "i", "msg", &s, &e) == PHT_ERR_MALFORMED, "wrong type");
	tap_str(e.msg, "msg: field i: not a string", "wrong type detail");
	tap_ok(pht_json_get_str(v, "zz", "msg", &s, &e) == PHT_ERR_MALFORMED, "missing field");
	tap_str(e.msg, "msg: field zz: missing", "missing field detail");
	s = "keep";
	tap_ok(pht_json_get_str_opt(v, "zz", "msg", &s, &e) == PHT_OK && strcmp(s, "keep") == 0,
	    "optional missing field leaves value");
	json_decref(v);
}

static void
test_time(void)
{
	char s[21];
	int64_t t = 0, d = 0;

	pht_time_format(0, s);
	tap_str(s, "1970-01-01T00:00:00Z", "epoch formats");
	pht_time_format(1709210096, s);
	tap_str(s, "2024-02-29T12:34:56Z", "leap day formats");
	tap_ok(pht_time_parse("2024-02-29T12:34:56Z", &t) == PHT_OK && t == 1709210096,
	    "parse round trip");
	tap_ok(pht_time_parse("2023-02-29T00:00:00Z", &t) == PHT_ERR_MALFORMED,
	    "non-leap Feb 29 refused");
	tap_ok(pht_time_parse("2024-01-01T00:00:00+01:00", &t) == PHT_ERR_MALFORMED,
	    "offsets refused");
	tap_ok(pht_time_parse("2024-13-01T00:00:00Z", &t) == PHT_ERR_MALFORMED, "month 13");
	tap_ok(pht_duration_parse("1h", &d) == PHT_OK && d == 3600, "1h");
	tap_ok(pht_duration_parse("7d", &d) == PHT_OK && d == 7 * 86400, "7d");
	tap_ok(pht_duration_parse("1x", &d) == PHT_ERR_MALFORMED, "bad unit");
	tap_ok(pht_duration_parse("0s", &d) == PHT_ERR_MALFORMED, "zero refused");
	tap_ok(pht_duration_parse("h", &d) == PHT_ERR_MALFORMED, "no number");
	tap_ok(pht_days_from_civil(2000, 3, 1) == 11017, "days_from_civil 2000-03-01");
}

static void
test_file(void)
{
	char dir[] = "/tmp/pht-test-XXXXXX", *p, *q;
	struct pht_buf *b = NULL;
	struct pht_err e;
	struct stat st;

	tap_ok(mkdtemp(dir) != NULL, "temp dir");
	p = pht_path_join(dir, "a/b/c");
	tap_ok(pht_mkdir_p(p, 0700, &e) == PHT_OK, "mkdir_p");
	q = pht_path_join(p, "f");
	tap_ok(pht_file_write_atomic(q, "hello", 5, 0600, &e) == PHT_OK, "atomic write");
	tap_ok(stat(q, &st) == 0 && (st.st_mode & 0777) == 0600, "mode applied");
	tap_ok(pht_file_read(q, 5, &b, &e) == PHT_OK && pht_buf_len(b) == 5, "read back");
	pht_buf_free(b);
	tap_ok(pht_file_read(q, 4, &b, &e) == PHT_ERR_TOO_LARGE && b == NULL,
	    "read larger than max refused");
	tap_ok(pht_file_read("/nonexistent/x", 4, &b, &e) == PHT_ERR_IO &&
	    strstr(e.msg, "/nonexistent/x") != NULL, "missing file named in error");
	unlink(q);
	free(q);
	free(p);
}

int
main(void)
{
	test_err();
	test_buf();
	test_enc();
	test_json();
	test_time();
	test_file();
	return tap_done();
}
