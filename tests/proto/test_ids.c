/* test_ids.c — every component that takes an id accepts and refuses the same ones (pht_id.h). */
#include "pht_err.h"
#include "pht_id.h"
#include "pht_node_req.h"
#include "pht_station_queue.h"
#include "pht_station_seen.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *id;
	int ok;
} cases[] = {
	{"a", 1}, {"abc-DEF_09", 1}, {"1.2.3", 1}, {".hidden", 1}, {"..x", 1},
	{"x..", 1}, {"-lead", 1}, {"0123456789abcdef0123456789abcdef", 1},
	{"", 0}, {".", 0}, {"..", 0}, {"a/b", 0}, {"a b", 0}, {"a\\b", 0},
	{"a%2f", 0}, {"\xc3\xa4", 0}, {"a\n", 0}, {"a:b", 0},
};

int
main(void)
{
	char dir[] = "/tmp/pht-test-ids.XXXXXX", *qdir, *seen, longid[PHT_ID_MAX + 2];
	char path[PHT_ID_MAX + 16], seg[PHT_NODE_REQ_SEGS][PHT_NODE_ID_MAX + 1];
	struct pht_err e;
	json_t *item, *list = NULL;
	size_t i, listed = 0, accepted = 0;

	if (mkdtemp(dir) == NULL || asprintf(&qdir, "%s/queue", dir) < 0 ||
	    asprintf(&seen, "%s/seen", dir) < 0)
		return 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *id = cases[i].id;
		int want = cases[i].ok, node, queue, seenok, r;

		tap_ok(pht_id_ok(id) == want, "pht_id_ok(\"%s\") is %d", id, want);
		snprintf(path, sizeof(path), "/v1/inbox/%s", id);
		node = pht_node_req_split_path(path, seg) == 2;
		tap_ok(node == want, "node request path with \"%s\": %s", id,
		    want ? "accepted" : "refused");
		item = json_pack("{s:s,s:s}", "train", id, "envelope", "e");
		r = pht_station_queue_add(qdir, item, &e);
		json_decref(item);
		queue = r == PHT_OK;
		tap_ok(queue == want && (want || r == PHT_ERR_INVALID),
		    "approval queue with \"%s\": %s", id, want ? "accepted" : "refused");
		r = pht_station_seen_add(seen, id, &e);
		seenok = r == PHT_OK;
		tap_ok(seenok == want && (want || r == PHT_ERR_INVALID),
		    "seen ids with \"%s\": %s", id, want ? "accepted" : "refused");
		if (want) {
			accepted++;
			tap_ok(pht_station_seen_has(seen, id, &e) == 1,
			    "seen ids: \"%s\" is found again", id);
		}
	}
	if (pht_station_queue_list(qdir, &list, &e) == PHT_OK)
		listed = json_array_size(list);
	tap_ok(listed == accepted,
	    "the queue lists every accepted id (%zu of %zu)", listed, accepted);
	json_decref(list);

	memset(longid, 'a', sizeof(longid));
	longid[PHT_ID_MAX] = '\0';
	tap_ok(pht_id_ok(longid), "an id of PHT_ID_MAX characters is accepted");
	snprintf(path, sizeof(path), "/v1/inbox/%s", longid);
	tap_ok(pht_node_req_split_path(path, seg) == 2, "... by the node too");
	longid[PHT_ID_MAX] = 'a';
	longid[PHT_ID_MAX + 1] = '\0';
	tap_ok(!pht_id_ok(longid), "one more character is refused");
	tap_ok(pht_station_seen_add(seen, longid, &e) == PHT_ERR_INVALID,
	    "... by the seen ids too");
	tap_ok(pht_name_ok("station-1") && !pht_name_ok(longid + PHT_ID_MAX - PHT_NAME_MAX),
	    "names follow the same alphabet with PHT_NAME_MAX characters");
	tap_ok(!pht_name_ok(".") && !pht_name_ok("..") && pht_name_ok("a.b"),
	    "a name is never \".\" or \"..\" either");
	tap_ok(pht_ident_ok("ab", 1, 1) && !pht_ident_ok(".", 1, 1) && !pht_ident_ok(NULL, 0, 8),
	    "pht_ident_ok looks at n bytes only");

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		tap_ok(0, "removing %s", dir);
	free(qdir);
	free(seen);
	return tap_done();
}
