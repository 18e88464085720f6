/* fuzz_train_decl.c — fuzz target: a train's declared params (trains/pht_train_decl.c) parsed and checked on arbitrary JSON. */
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_train_decl.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is a JSON object: the description pht_train_describe hands
 * over ({"name", "version", "params", "releases"}), with the params to
 * check under "p" and a dictionary under "dict" (a fixed one when absent).
 * Every function must return a code and a NUL-terminated message, never
 * crash; a declaration that parses must describe within the buffer.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *dict_text = "{\"dataset\": \"d\", \"columns\": ["
	    "{\"name\": \"pid\", \"type\": \"integer\", \"role\": \"identifier\"},"
	    "{\"name\": \"age\", \"type\": \"integer\"}, {\"name\": \"sex\", \"type\": \"category\"}]}";
	struct pht_train_decl *d = NULL;
	struct pht_buf *b = NULL;
	struct pht_err err;
	json_t *meta, *dict;
	const json_t *p;
	int flags;

	meta = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (meta == NULL)
		return 0;
	dict = json_incref(json_object_get(meta, "dict"));
	if (dict == NULL)
		dict = json_loads(dict_text, 0, NULL);
	pht_err_clear(&err);
	if (pht_train_decl_parse(meta, &d, &err) != PHT_OK) {
		if (d != NULL || err.msg[0] == '\0')
			abort();
		goto out;
	}
	p = json_object_get(meta, "p");
	for (flags = 0; flags <= PHT_TRAIN_DECL_ANALYST; flags++) {
		pht_err_clear(&err);
		if (pht_train_decl_check_params(d, p, flags, &err) != PHT_OK &&
		    strlen(err.msg) >= sizeof(err.msg))
			abort();
		pht_err_clear(&err);
		(void)pht_train_decl_check_columns(d, p, dict, flags ? "s" : NULL, flags, &err);
	}
	if ((b = pht_buf_new(1 << 20)) == NULL || pht_train_decl_format(d, meta, b) != PHT_OK)
		abort();
out:
	pht_buf_free(b);
	pht_train_decl_free(d);
	json_decref(dict);
	json_decref(meta);
	return 0;
}
