/* pht_dataset_int.h — the dataset loader's insides, shared by pht_dataset.c and pht_dataset_cell.c (not for use outside dataset/). */
#ifndef PHT_DATASET_INT_H
#define PHT_DATASET_INT_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>

#include "pht_dataset.h"

struct pht_csv_field;

#define SHOW_MAX 40             /* bytes of a bad cell quoted in a detail */
#define FIRST_MAX 420           /* room left for " (N bad cells in all)" */

/*
 * An exact-match table over n byte strings (open addressing, FNV-1a):
 * slot[h] holds index+1 of a string, 0 when empty; the table is at least
 * twice as large as n, so probes stay short.
 */
struct strtab {
	uint32_t *slot;
	size_t mask;
	const char *const *s;
	const size_t *len;
};

/*
 * The owning side of one column: data has room for the loader's row
 * capacity (then exactly nrows after loading); missing is NULL until the
 * first missing cell, then has a bit per row of capacity.
 */
struct col_store {
	void *data;
	uint8_t *missing;
	size_t elem;
	uint64_t misslen;           /* bit n: a missing code of n bytes (n < 63);
	                               bit 63: one of 63 bytes or more */
	struct strtab levels;       /* category only */
};

struct pht_dataset {
	struct pht_dict *dict;
	size_t nrows;
	size_t ncols;
	struct pht_column *cols;    /* public views, dictionary order */
	struct col_store *store;    /* same order */
	char csv_sha256[65];
	char dict_sha256[65];
	uint32_t *file_row;         /* after drop_rows: row -> row of the file */
	size_t file_nrows;          /* after drop_rows: data rows of the file */
};

/*
 * State of one load: the header map, a scratch buffer for unescaped cells,
 * and, when the CSV is a file mapping, how much of it has been given back.
 */
struct loader {
	struct pht_dataset *ds;
	const char *csv;
	int mapped;                 /* csv is our own read-only mapping */
	size_t released;            /* bytes of csv already dropped */
	const char *csv_name;
	size_t *map;                /* CSV field index -> column index */
	size_t cap;                 /* rows of room in every column */
	char *scratch;
	size_t scratch_cap;
	locale_t cloc;
	size_t nbad;
	char first[FIRST_MAX];
};

/*
 * Builds t over the n strings s[i] of len[i] bytes (borrowed: they must
 * outlive t); free t->slot when done. PHT_OK or PHT_ERR_NOMEM.
 */
int pht_dataset_strtab_build(struct strtab *t, const char *const *s,
    const size_t *len, size_t n);

/* Index of p[0..len) in the table, or -1. */
long pht_dataset_strtab_find(const struct strtab *t, const char *p, size_t len);

/*
 * Writes p[0..len) quoted for a detail: at most SHOW_MAX bytes, control
 * bytes, quotes, backslashes and (when the cell is not valid UTF-8) every
 * non-ASCII byte escaped; "..." marks a cut. out needs SHOW_MAX * 4 + 8.
 */
void pht_dataset_show(const char *p, size_t len, char *out, size_t outsz);

/*
 * Validates the nfields fields f of one record (file line line) as row
 * L->ds->nrows, field i as column L->map[i], and stores them; a bad cell
 * is counted in L (the first one's detail kept), not fatal. One call a
 * record, so that the per-cell work stays inlined. PHT_OK, or
 * PHT_ERR_NOMEM.
 */
int pht_dataset_record(struct loader *L, const struct pht_csv_field *f,
    size_t nfields, size_t line);

#endif
