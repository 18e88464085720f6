/* test_output.c — the station's output checks: plain data within the policy caps. */
#include "tap.h"

#include "pht_err.h"
#include "pht_output.h"

#include <stdlib.h>
#include <string.h>

static int
check(const json_t *v, const struct pht_output_caps *caps, struct pht_err *e)
{
	pht_err_clear(e);
	return pht_output_check(v, caps, e);
}

int
main(void)
{
	struct pht_output_caps caps, tight;
	struct pht_err e;
	json_t *v, *a, *b, *deep, *cur;
	char *big;
	size_t i;

	pht_output_caps_default(&caps);
	tap_ok(caps.max_bytes == 1048576 && caps.max_numbers == 100000 &&
	    caps.max_string == 1024, "default caps");

	v = json_pack("{s:i, s:f, s:b, s:n, s:s, s:{s:[i,f,s]}}", "n", 12, "mean", 3.5,
	    "ok", 1, "none", "note", "fine", "result", "table", 1, 2.5, "x");
	tap_ok(check(v, &caps, &e) == PHT_OK, "plain nested data passes");
	json_decref(v);
	tap_ok(check(json_null(), &caps, &e) == PHT_OK, "a bare null passes");
	tap_ok(check(NULL, &caps, &e) == PHT_ERR_DISCLOSURE &&
	    strstr(e.msg, "no value") != NULL, "no value refused");

	/* number count cap, with the path of the first number over it */
	tight = caps;
	tight.max_numbers = 3;
	v = json_pack("{s:{s:[i,i,i,i]}}", "result", "table", 1, 2, 3, 4);
	tap_ok(check(v, &tight, &e) == PHT_ERR_DISCLOSURE, "4 numbers over a cap of 3");
	tap_str(e.msg, "output $.result.table[3]: more than 3 numeric values",
	    "numbers cap: reason and path");
	tight.max_numbers = 4;
	tap_ok(check(v, &tight, &e) == PHT_OK, "4 numbers at a cap of 4 pass");
	json_decref(v);

	/* byte cap: {"a":"xxxxxxxx"} is 16 bytes compact */
	tight = caps;
	tight.max_bytes = 15;
	v = json_pack("{s:s}", "a", "xxxxxxxx");
	tap_ok(check(v, &tight, &e) == PHT_ERR_DISCLOSURE, "16 bytes over a cap of 15");
	tap_str(e.msg, "output $: 16 bytes exceeds the cap of 15", "bytes cap: reason");
	tight.max_bytes = 16;
	tap_ok(check(v, &tight, &e) == PHT_OK, "16 bytes at a cap of 16 pass");
	json_decref(v);

	/* string cap on values and keys */
	tight = caps;
	tight.max_string = 4;
	v = json_pack("{s:[s,s]}", "nm", "abcd", "abcde");
	tap_ok(check(v, &tight, &e) == PHT_ERR_DISCLOSURE, "5-byte string over a cap of 4");
	tap_str(e.msg, "output $.nm[1]: string of 5 bytes exceeds the cap of 4",
	    "string cap: reason and path");
	json_decref(v);
	v = json_pack("{s:i}", "a key", 1);
	tap_ok(check(v, &tight, &e) == PHT_ERR_DISCLOSURE, "5-byte key over a cap of 4");
	tap_str(e.msg, "output $[\"a key\"]: object key of 5 bytes exceeds the cap of 4",
	    "key cap: reason and quoted path");
	json_decref(v);

	/* NUL bytes in strings */
	v = json_object();
	json_object_set_new(v, "s", json_stringn("a\0b", 3));
	tap_ok(check(v, &caps, &e) == PHT_ERR_DISCLOSURE, "NUL in a string refused");
	tap_str(e.msg, "output $.s: string contains a NUL byte", "NUL: reason and path");
	json_decref(v);

	/* a cycle through two containers */
	a = json_array();
	b = json_object();
	json_array_append(a, b);
	json_object_set(b, "back", a);
	tap_ok(check(a, &caps, &e) == PHT_ERR_DISCLOSURE, "a cycle is refused");
	tap_str(e.msg, "output $[0].back: value contains itself (a cycle)",
	    "cycle: reason and path");
	json_object_del(b, "back");
	json_decref(b);
	json_decref(a);

	/* too deep */
	deep = json_array();
	cur = deep;
	for (i = 0; i < 70; i++) {
		json_t *n = json_array();
		json_array_append_new(cur, n);
		cur = n;
	}
	tap_ok(check(deep, &caps, &e) == PHT_ERR_DISCLOSURE &&
	    strstr(e.msg, "nested deeper than 64") != NULL &&
	    strncmp(e.msg, "output $[0][0][0]", 17) == 0, "nesting deeper than 64 refused");
	json_decref(deep);

	/* long paths are cut, not overflowed */
	deep = json_object();
	cur = deep;
	for (i = 0; i < 60; i++) {
		json_t *n = json_object();
		json_object_set_new(cur, "abcdefghijklmnop", n);
		cur = n;
	}
	json_object_set_new(cur, "s", json_stringn("\0", 1));
	tap_ok(check(deep, &caps, &e) == PHT_ERR_DISCLOSURE &&
	    strstr(e.msg, "...: string contains a NUL byte") != NULL,
	    "an overlong path is shortened with ... (%s)", e.msg);
	json_decref(deep);

	/* from text */
	pht_err_clear(&e);
	tap_ok(pht_output_check_text("{\"n\":1}", 7, &caps, &v, &e) == PHT_OK &&
	    json_integer_value(json_object_get(v, "n")) == 1, "text output parsed and checked");
	json_decref(v);
	pht_err_clear(&e);
	tap_ok(pht_output_check_text("{\"n\":NaN}", 9, &caps, &v, &e) == PHT_ERR_DISCLOSURE &&
	    v == NULL && strstr(e.msg, "output: line 1") != NULL, "NaN text refused");
	pht_err_clear(&e);
	tap_ok(pht_output_check_text("[1e999]", 7, &caps, &v, &e) == PHT_ERR_DISCLOSURE &&
	    v == NULL, "an infinite number refused");
	pht_err_clear(&e);
	tap_ok(pht_output_check_text("{\"a\":1,\"a\":2}", 13, &caps, &v, &e) ==
	    PHT_ERR_DISCLOSURE && strstr(e.msg, "duplicate") != NULL,
	    "duplicate keys refused");
	tight = caps;
	tight.max_numbers = 1;
	pht_err_clear(&e);
	tap_ok(pht_output_check_text("[1,2]", 5, &tight, &v, &e) == PHT_ERR_DISCLOSURE &&
	    v == NULL && strstr(e.msg, "$[1]: more than 1 numeric values") != NULL,
	    "text over a cap refused with path");
	tight = caps;
	tight.max_bytes = 10;
	big = malloc(100);
	memset(big, ' ', 99);
	big[0] = '1';
	big[99] = 0;
	pht_err_clear(&e);
	tap_ok(pht_output_check_text(big, 99, &tight, &v, &e) == PHT_OK,
	    "whitespace does not count against the byte cap");
	json_decref(v);
	free(big);
	big = malloc(2000);
	memset(big, ' ', 1999);
	big[0] = '1';
	pht_err_clear(&e);
	tap_ok(pht_output_check_text(big, 1999, &tight, &v, &e) == PHT_ERR_DISCLOSURE &&
	    strstr(e.msg, "1999 bytes of text") != NULL, "absurdly long text refused unparsed");
	free(big);
	return tap_done();
}
