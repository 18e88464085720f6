/* test_optout_rows.c — the rows of the file behind a dataset with opt-outs (pht_dataset_file_rows) and row sets moved into them (pht_train_rowsets_remap), which the station's differencing check compares. */
#include "tap.h"

#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_train_rowsets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/pht-optrows-XXXXXX";

static void
write_file(const char *name, const char *text, char *path, size_t n)
{
	FILE *f;

	snprintf(path, n, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

/* 1 if the n entries of got equal want */
static int
same_rows(const uint32_t *got, const uint32_t *want, size_t n)
{
	return got != NULL && memcmp(got, want, n * sizeof(*want)) == 0;
}

/* A list over nrows rows holding the one set rows[0..n) (all: every row). */
static struct pht_train_rowsets *
one_set(uint32_t nrows, const uint32_t *rows, size_t n, int all)
{
	struct pht_train_rowsets *rs = pht_train_rowsets_new(nrows);

	if (rs == NULL || pht_train_rowsets_add(rs, rows, n, all) != PHT_OK)
		abort();
	return rs;
}

static void
test_file_rows(void)
{
	char csv[1200], dict[1200];
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	const uint32_t *map;
	size_t fn = 0, dropped = 0;
	uint8_t drop[2] = {0, 0};
	static const uint32_t after1[] = {0, 2, 4, 5, 6, 7, 8, 9};
	static const uint32_t after2[] = {2, 4, 5, 6, 8, 9};
	int r;

	write_file("c.dict.json", "{\"dataset\":\"c\",\"columns\":["
	    "{\"name\":\"pid\",\"type\":\"integer\"},{\"name\":\"w\",\"type\":\"number\"}]}",
	    dict, sizeof(dict));
	write_file("c.csv", "pid,w\n10,1.5\n11,2.5\n12,3.5\n13,4.5\n14,5.5\n"
	    "15,6.5\n16,7.5\n17,8.5\n18,9.5\n19,10.5\n", csv, sizeof(csv));
	pht_err_clear(&err);
	r = pht_dataset_load(csv, dict, NULL, &ds, &err);
	if (!tap_ok(r == PHT_OK && pht_dataset_nrows(ds) == 10, "a 10-row dataset loads (%s)",
	    pht_err_msg(&err)))
		return;
	map = pht_dataset_file_rows(ds, &fn);
	tap_ok(map == NULL && fn == 10, "no row dropped: no map, the file's 10 rows");

	drop[0] = 0x00;
	r = pht_dataset_drop_rows(ds, drop, &dropped, &err);
	map = pht_dataset_file_rows(ds, &fn);
	tap_ok(r == PHT_OK && dropped == 0 && map == NULL && fn == 10,
	    "dropping nothing keeps it so");

	drop[0] = (1u << 1) | (1u << 3);   /* file rows 1 and 3 */
	r = pht_dataset_drop_rows(ds, drop, &dropped, &err);
	map = pht_dataset_file_rows(ds, &fn);
	tap_ok(r == PHT_OK && dropped == 2 && pht_dataset_nrows(ds) == 8 && fn == 10 &&
	    same_rows(map, after1, 8), "after dropping rows 1 and 3: 8 rows, each mapped to "
	    "its row in the 10-row file");

	drop[0] = (1u << 0) | (1u << 5);   /* rows 0 and 5 of the cut: file rows 0 and 7 */
	r = pht_dataset_drop_rows(ds, drop, &dropped, &err);
	map = pht_dataset_file_rows(ds, &fn);
	tap_ok(r == PHT_OK && dropped == 2 && pht_dataset_nrows(ds) == 6 && fn == 10 &&
	    same_rows(map, after2, 6), "a second drop maps through the first: "
	    "file rows 2, 4, 5, 6, 8, 9 of 10");
	tap_ok(pht_dataset_column(ds, 0) != NULL && pht_dataset_column(ds, 0)->v.i64 != NULL &&
	    pht_dataset_column(ds, 0)->v.i64[0] == 12 && pht_dataset_column(ds, 0)->v.i64[5] == 19,
	    "and the rows held are those rows (pid 12 first, 19 last)");
	pht_dataset_free(ds);
}

static void
test_remap(void)
{
	/* a cut of 20 rows kept the odd rows 1, 3, ..., 39 of a 40-row file */
	uint32_t map[20], all_in_file[20], dense[15], dense_in_file[15], r32;
	static const uint32_t list[] = {1, 4}, list_in_file[] = {3, 9}, near[] = {3, 9, 10};
	static const uint32_t identity[] = {0, 1, 2, 3, 4, 5};
	struct pht_train_rowsets *rs, *out = NULL, *w_all, *w_list, *w_dense, *w_near, *x;
	const uint8_t *enc;
	size_t len;
	int r;

	for (r32 = 0; r32 < 20; r32++)
		map[r32] = all_in_file[r32] = 2 * r32 + 1;
	for (r32 = 0; r32 < 15; r32++) {
		dense[r32] = r32;
		dense_in_file[r32] = 2 * r32 + 1;
	}
	rs = pht_train_rowsets_new(20);
	if (rs == NULL || pht_train_rowsets_add(rs, NULL, 0, 1) != PHT_OK ||
	    pht_train_rowsets_add(rs, list, 2, 0) != PHT_OK ||
	    pht_train_rowsets_add(rs, dense, 15, 0) != PHT_OK)
		abort();
	/* the encoding: header 8 bytes, ALL (5), LIST {1, 4} (5 + 2), BITMAP (5 + 3) */
	enc = pht_train_rowsets_bytes(rs, &len);
	tap_ok(len == 8 + 5 + 7 + 8 && enc[8] == 0 && enc[13] == 1 && enc[20] == 2,
	    "the cut's sets are one of each kind: ALL, LIST, BITMAP");
	w_all = one_set(40, all_in_file, 20, 0);
	w_list = one_set(40, list_in_file, 2, 0);
	w_dense = one_set(40, dense_in_file, 15, 0);
	w_near = one_set(40, near, 3, 0);

	r = pht_train_rowsets_remap(rs, map, 40, &out);
	tap_ok(r == PHT_OK && out != NULL && pht_train_rowsets_nrows(out) == 40 &&
	    pht_train_rowsets_count(out) == 3, "remap: 3 sets over the file's 40 rows");
	if (out != NULL && pht_train_rowsets_count(out) == 3) {
		tap_ok(pht_train_rowsets_equal(out, 0, w_all, 0),
		    "  every row of the cut (ALL) is the 20 kept rows of the file");
		tap_ok(pht_train_rowsets_equal(out, 1, w_list, 0),
		    "  the LIST set {1, 4} is file rows {3, 9}");
		tap_ok(pht_train_rowsets_equal(out, 2, w_dense, 0),
		    "  the BITMAP set of rows 0..14 is file rows 1, 3, ..., 29");
		tap_ok(pht_train_rowsets_symdiff(out, 1, w_near, 0, 100) == 1,
		    "  and {3, 9} differs from file rows {3, 9, 10} by 1 row");
	}
	pht_train_rowsets_free(out);

	map[7] = map[6];
	out = rs;
	r = pht_train_rowsets_remap(rs, map, 40, &out);
	tap_ok(r == PHT_ERR_INVALID && out == NULL, "a map that is not strictly ascending: "
	    "PHT_ERR_INVALID, *out NULL");
	map[7] = 15;
	map[19] = 40;
	out = rs;
	r = pht_train_rowsets_remap(rs, map, 40, &out);
	tap_ok(r == PHT_ERR_INVALID && out == NULL, "a map reaching nrows: PHT_ERR_INVALID");

	x = pht_train_rowsets_new(6);
	if (x == NULL || pht_train_rowsets_add(x, NULL, 0, 1) != PHT_OK)
		abort();
	r = pht_train_rowsets_remap(x, identity, 6, &out);
	tap_ok(r == PHT_OK && out != NULL && pht_train_rowsets_count(out) == 1 &&
	    pht_train_rowsets_equal(out, 0, x, 0), "the identity map keeps ALL as ALL");
	pht_train_rowsets_free(out);
	pht_train_rowsets_free(x);

	x = pht_train_rowsets_new(0);
	out = rs;
	r = pht_train_rowsets_remap(x, map, 40, &out);
	tap_ok(r == PHT_OK && out != NULL && pht_train_rowsets_count(out) == 0 &&
	    pht_train_rowsets_nrows(out) == 40, "an empty list stays empty, over the new rows");
	pht_train_rowsets_free(out);
	pht_train_rowsets_free(x);

	pht_train_rowsets_free(rs);
	pht_train_rowsets_free(w_all);
	pht_train_rowsets_free(w_list);
	pht_train_rowsets_free(w_dense);
	pht_train_rowsets_free(w_near);
}

int
main(void)
{
	char path[1200];

	if (mkdtemp(dir) == NULL)
		abort();
	test_file_rows();
	test_remap();
	snprintf(path, sizeof(path), "%s/c.csv", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/c.dict.json", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
