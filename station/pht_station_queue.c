/* pht_station_queue.c — queued trains as one JSON file each in a directory beside the audit log. */
#include "pht_station_queue.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_id.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_envelope.h"
#include "pht_station_config.h"
#include "pht_trainmsg.h"
#include "pht_time.h"
#include "pht_limits.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


char *
pht_station_queue_dir(const struct pht_station_config *cfg)
{
	const char *log = pht_station_config_audit_log(cfg);
	size_t n = strlen(log);
	char *p = malloc(n + sizeof(".queue"));

	if (p != NULL) {
		memcpy(p, log, n);
		memcpy(p + n, ".queue", sizeof(".queue"));
	}
	return p;
}

/* "<dir>/<id>.json" or NULL (bad id: err set). */
static char *
item_path(const char *dir, const char *id, struct pht_err *err)
{
	char name[160], *p;

	if (!pht_id_ok(id)) {
		pht_errf(err, PHT_ERR_INVALID, "queue id \"%.40s\": not a train id", id);
		return NULL;
	}
	snprintf(name, sizeof(name), "%s.json", id);
	if ((p = pht_path_join(dir, name)) == NULL)
		pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	return p;
}

static int
write_item(const char *path, const json_t *item, struct pht_err *err)
{
	char *text = pht_json_dump(item);
	int r;

	if (text == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	r = pht_file_write_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return r;
}

static int
read_item(const char *path, json_t **out, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	int r;

	*out = NULL;
	if ((r = pht_file_read(path, PHT_QUEUE_ITEM_MAX, &b, err)) != PHT_OK)
		return r;
	r = pht_json_parse(pht_buf_str(b), pht_buf_len(b), path, out, err);
	pht_buf_free(b);
	if (r == PHT_OK && (!json_is_object(*out) ||
	    !json_is_string(json_object_get(*out, "train")) ||
	    !json_is_string(json_object_get(*out, "envelope")) ||
	    !json_is_string(json_object_get(*out, "state")))) {
		json_decref(*out);
		*out = NULL;
		r = pht_errf(err, PHT_ERR_MALFORMED, "%s: not a queue item (train, "
		    "envelope and state are required)", path);
	}
	return r;
}

int
pht_station_queue_add(const char *dir, json_t *item, struct pht_err *err)
{
	const char *id = json_string_value(json_object_get(item, "train"));
	char now[21], *path = NULL;
	int r;

	if (!json_is_string(json_object_get(item, "envelope")))
		return pht_errf(err, PHT_ERR_INVALID, "queue item without an envelope");
	if ((path = item_path(dir, id, err)) == NULL)
		return err != NULL ? err->code : PHT_ERR_INVALID;
	if ((r = pht_mkdir_p(dir, 0700, err)) != PHT_OK)
		goto out;
	if (access(path, F_OK) == 0) {
		r = pht_errf(err, PHT_ERR_REPLAY, "train %s is queued already", id);
		goto out;
	}
	pht_time_format(pht_time_now(), now);
	if (json_object_set_new(item, "state", json_string("pending")) != 0 ||
	    json_object_set_new(item, "queued", json_string(now)) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = write_item(path, item, err);
out:
	free(path);
	return r;
}

static int
by_queued(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *qx = json_string_value(json_object_get(x, "queued"));
	const char *qy = json_string_value(json_object_get(y, "queued"));
	int c = strcmp(qx != NULL ? qx : "", qy != NULL ? qy : "");

	if (c != 0)
		return c;
	return strcmp(json_string_value(json_object_get(x, "train")),
	    json_string_value(json_object_get(y, "train")));
}

int
pht_station_queue_list(const char *dir, json_t **out, struct pht_err *err)
{
	DIR *d = NULL;
	struct dirent *de;
	json_t **items = NULL, *arr = NULL, *it = NULL;
	size_t n = 0, cap = 0, i, len;
	char *path = NULL;
	int r = PHT_OK;

	*out = NULL;
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			return pht_errf(err, PHT_ERR_IO, "%s: %s", dir, strerror(errno));
		if ((*out = json_array()) == NULL)
			return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		return PHT_OK;
	}
	while ((de = readdir(d)) != NULL) {
		/* "<id>.json": temporary files and anything else are passed over */
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0 ||
		    !pht_ident_ok(de->d_name, len - 5, PHT_ID_MAX))
			continue;
		if ((path = pht_path_join(dir, de->d_name)) == NULL) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((r = read_item(path, &it, err)) != PHT_OK)
			goto out;
		free(path);
		path = NULL;
		if (n == cap) {
			json_t **p = realloc(items, (cap = cap ? cap * 2 : 16) * sizeof(*p));
			if (p == NULL) {
				r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
				goto out;
			}
			items = p;
		}
		items[n++] = it;
		it = NULL;
	}
	if (n > 0)
		qsort(items, n, sizeof(*items), by_queued);
	if ((arr = json_array()) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (json_array_append(arr, items[i]) != 0) {
			r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	*out = arr;
	arr = NULL; /* transferred */
out:
	for (i = 0; i < n; i++)
		json_decref(items[i]);
	free(items);
	free(path);
	json_decref(it);
	json_decref(arr);
	closedir(d);
	return r;
}

int
pht_station_queue_get(const char *dir, const char *id, json_t **out,
    struct pht_err *err)
{
	char *path;
	int r;

	*out = NULL;
	if ((path = item_path(dir, id, err)) == NULL)
		return err != NULL ? err->code : PHT_ERR_INVALID;
	if (access(path, F_OK) != 0)
		r = pht_errf(err, PHT_ERR_NOT_FOUND, "no queued train %s", id);
	else
		r = read_item(path, out, err);
	free(path);
	return r;
}

int
pht_station_queue_decide(const char *dir, const char *id, int approve,
    const char *by, struct pht_err *err)
{
	json_t *item = NULL;
	char now[21], *path = NULL;
	size_t i, n = by != NULL ? strlen(by) : 0;
	int r;

	if (n == 0 || n > 128)
		return pht_errf(err, PHT_ERR_INVALID, "the decider's name must be 1 to "
		    "128 printable characters");
	for (i = 0; i < n; i++)
		if (by[i] < 0x20 || by[i] > 0x7e)
			return pht_errf(err, PHT_ERR_INVALID, "the decider's name must be "
			    "printable ASCII");
	if ((r = pht_station_queue_get(dir, id, &item, err)) != PHT_OK)
		return r;
	if ((r = pht_station_queue_may_decide(item, approve, pht_time_now(), err)) !=
	    PHT_OK)
		goto out;
	pht_time_format(pht_time_now(), now);
	if (json_object_set_new(item, "state", json_string(approve ? "approved" :
	    "refused")) != 0 || json_object_set_new(item, "by", json_string(by)) != 0 ||
	    json_object_set_new(item, "decided", json_string(now)) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((path = item_path(dir, id, err)) == NULL) {
		r = PHT_ERR_NOMEM;
		goto out;
	}
	r = write_item(path, item, err);
out:
	free(path);
	json_decref(item);
	return r;
}

int
pht_station_queue_train(const json_t *item, struct pht_trainmsg **msg,
    struct pht_err *err)
{
	const char *text = json_string_value(json_object_get(item, "envelope"));
	struct pht_envelope *env = NULL;
	const uint8_t *payload;
	size_t plen;
	int r;

	*msg = NULL;
	if (text == NULL)
		return pht_errf(err, PHT_ERR_MALFORMED, "queue item without an envelope");
	if ((r = pht_envelope_parse(text, strlen(text), &env, err)) == PHT_OK) {
		payload = pht_envelope_payload(env, &plen);
		r = pht_trainmsg_parse(payload, plen, PHT_TRAINMSG_AT_ISSUE, msg, err);
	}
	pht_envelope_free(env);
	return r;
}

int
pht_station_queue_may_decide(const json_t *item, int approve, int64_t now,
    struct pht_err *err)
{
	const char *id = json_string_value(json_object_get(item, "train"));
	const char *state = json_string_value(json_object_get(item, "state"));
	const char *who = json_string_value(json_object_get(item, "by"));
	struct pht_trainmsg *msg = NULL;
	char t[21], n[21];
	int r;

	if (state == NULL || strcmp(state, "pending") != 0)
		return pht_errf(err, PHT_ERR_DENIED, "train %s was already %s by %s", id,
		    state != NULL ? state : "decided", who != NULL ? who : "someone");
	if (!approve)
		return PHT_OK;
	if ((r = pht_station_queue_train(item, &msg, err)) != PHT_OK)
		return r;
	if (now >= pht_trainmsg_expires(msg)) {
		pht_time_format(pht_trainmsg_expires(msg), t);
		pht_time_format(now, n);
		r = pht_errf(err, PHT_ERR_EXPIRED, "train %s expired at %s, before this "
		    "approval (now %s): refuse it, or ask the analyst to send it again "
		    "with a longer --expires", id, t, n);
	}
	pht_trainmsg_free(msg);
	return r;
}

int
pht_station_queue_remove(const char *dir, const char *id, struct pht_err *err)
{
	char *path;
	int r = PHT_OK;

	if ((path = item_path(dir, id, err)) == NULL)
		return err != NULL ? err->code : PHT_ERR_INVALID;
	if (unlink(path) != 0)
		r = pht_errf(err, errno == ENOENT ? PHT_ERR_NOT_FOUND : PHT_ERR_IO,
		    "%s: %s", path, strerror(errno));
	free(path);
	return r;
}

/* Adds every string in v (recursively) to set (an object used as a set). */
static void
collect_strings(const json_t *v, json_t *set, int depth)
{
	const char *k;
	json_t *x;
	size_t i;

	if (depth > 32)
		return;
	if (json_is_string(v))
		json_object_set_new(set, json_string_value(v), json_true());
	else if (json_is_array(v))
		json_array_foreach(v, i, x)
			collect_strings(x, set, depth + 1);
	else if (json_is_object(v))
		json_object_foreach((json_t *)v, k, x)
			collect_strings(x, set, depth + 1);
}

int
pht_station_queue_columns(const char *dict_path, const json_t *params,
    json_t **out, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	json_t *dict = NULL, *set = NULL, *cols, *c, *arr;
	const char *name;
	size_t i;

	*out = NULL;
	if ((arr = json_array()) == NULL || (set = json_object()) == NULL) {
		json_decref(arr);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	collect_strings(params, set, 0);
	if (dict_path != NULL &&
	    pht_file_read(dict_path, PHT_DICT_MAX, &b, NULL) == PHT_OK &&
	    pht_json_parse(pht_buf_str(b), pht_buf_len(b), dict_path, &dict, NULL) ==
	    PHT_OK && json_is_array(cols = json_object_get(dict, "columns"))) {
		json_array_foreach(cols, i, c) {
			name = json_string_value(json_object_get(c, "name"));
			if (name != NULL && json_object_get(set, name) != NULL)
				json_array_append_new(arr, json_string(name));
		}
	}
	pht_buf_free(b);
	json_decref(dict);
	json_decref(set);
	*out = arr;
	return PHT_OK;
}
