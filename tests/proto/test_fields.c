/* test_fields.c — the strict message field readers of pht_json.h that every message parser uses. */
#include "pht_err.h"
#include "pht_json.h"
#include "tap.h"

#include <string.h>

int
main(void)
{
	static const char *const known[] = {"kind", "n", "s", "t", NULL};
	const char *doc = "{\"kind\":\"k\",\"n\":5,\"s\":\"ab\",\"t\":\"2026-01-02T03:04:05Z\"}";
	struct pht_err e;
	json_t *o = NULL, *bad = NULL;
	const char *s;
	size_t len = 0;
	int64_t n = 0, t = 0;

	if (pht_json_parse(doc, strlen(doc), "test", &o, &e) != PHT_OK)
		return 1;
	tap_ok(pht_json_only_known(o, "msg", known, &e) == PHT_OK, "known members pass");
	tap_ok(pht_json_unknown(o, known) == NULL, "no unknown member");
	tap_ok(pht_json_field_kind(o, "msg", "k", &e) == PHT_OK, "kind matches");
	tap_ok(pht_json_field_kind(o, "msg", "x", &e) == PHT_ERR_MALFORMED &&
	    strcmp(e.msg, "msg: malformed field kind: not \"x\"") == 0, "kind differs: %s", e.msg);
	tap_ok(pht_json_field_str(o, "msg", "s", 0, &s, &len, &e) == PHT_OK &&
	    strcmp(s, "ab") == 0 && len == 2, "a string and its length");
	tap_ok(pht_json_field_str(o, "msg", "zz", 1, &s, NULL, &e) == PHT_OK && s == NULL,
	    "an absent optional string is NULL");
	tap_ok(pht_json_field_str(o, "msg", "zz", 0, &s, NULL, &e) == PHT_ERR_MALFORMED &&
	    strcmp(e.msg, "msg: malformed field zz: missing") == 0, "missing: %s", e.msg);
	tap_ok(pht_json_field_str(o, "msg", "n", 0, &s, NULL, &e) == PHT_ERR_MALFORMED &&
	    strcmp(e.msg, "msg: malformed field n: not a string") == 0, "wrong type: %s", e.msg);
	tap_ok(pht_json_field_int(o, "msg", "n", 0, 1, 9, &n, &e) == PHT_OK && n == 5,
	    "an integer in range");
	tap_ok(pht_json_field_int(o, "msg", "n", 0, 6, 9, &n, &e) == PHT_ERR_MALFORMED &&
	    strcmp(e.msg, "msg: malformed field n: not between 6 and 9") == 0 && n == 5,
	    "out of range, untouched: %s", e.msg);
	tap_ok(pht_json_field_time(o, "msg", "t", 0, &t, &e) == PHT_OK && t > 0, "a time");
	tap_ok(pht_json_field_time(o, "msg", "s", 0, &t, &e) == PHT_ERR_MALFORMED &&
	    strstr(e.msg, "not an RFC 3339 UTC time") != NULL, "not a time: %s", e.msg);

	bad = json_pack("{s:i,s:s%}", "kind", 1, "s", "a\0b", (size_t)3);
	tap_ok(bad != NULL && pht_json_field_str(bad, "msg", "s", 0, &s, NULL, &e) ==
	    PHT_ERR_MALFORMED && strstr(e.msg, "contains a NUL byte") != NULL,
	    "a string with a NUL byte is refused");
	json_object_set_new(bad, "an-unknown-member-with-a-very-long-name\x01",
	    json_true());
	tap_ok(pht_json_unknown(bad, known) != NULL, "an unknown member is found");
	tap_ok(pht_json_only_known(bad, "msg", known, &e) == PHT_ERR_MALFORMED &&
	    strcmp(e.msg, "msg: malformed: unknown field an-unknown-member-with-a-very-lo...")
	    == 0, "... named printable and cut at 32 characters: %s", e.msg);
	json_decref(bad);
	json_decref(o);
	return tap_done();
}
