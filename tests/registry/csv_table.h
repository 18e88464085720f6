/* csv_table.h — a plain-CSV reader for tests: whole file, split in place, no quoting. */
#ifndef PHT_TEST_CSV_TABLE_H
#define PHT_TEST_CSV_TABLE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * For test programs that check files written by PHT's own tools (which never
 * quote fields): reads a whole file, and splits it at commas and newlines.
 * A row with the wrong number of fields sets `ragged`, a quote character
 * `quoted`; callers treat either as a failure. Independent of the dataset
 * loader on purpose.
 */

/* Reads a whole file (NUL-terminated); NULL if unreadable. Caller frees. */
static inline char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (s = malloc((size_t)n + 1)) != NULL) {
		if (fread(s, 1, (size_t)n, f) != (size_t)n) {
			free(s);
			s = NULL;
		} else {
			s[n] = '\0';
			if (len != NULL)
				*len = (size_t)n;
		}
	}
	fclose(f);
	return s;
}

/* A CSV table split in place: cells[row * ncols + col]; row 0 is the header. */
struct table {
	char *text;
	char **cells;
	size_t ncols, nrows;   /* nrows excludes the header */
	int ragged;            /* a row with the wrong number of fields */
	int quoted;            /* a quote character appeared */
};

/* Frees what table_read allocated and zeroes t. */
static inline void
table_free(struct table *t)
{
	free(t->text);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Reads and splits path into t; 0 on success, -1 if unreadable or out of memory. */
static inline int
table_read(const char *path, struct table *t)
{
	size_t len, lines = 0, i, cap, n = 0, col = 0;
	char *p, *start;

	memset(t, 0, sizeof(*t));
	if ((t->text = slurp(path, &len)) == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		if (t->text[i] == '\n')
			lines++;
		if (t->text[i] == '"')
			t->quoted = 1;
	}
	for (p = t->text, t->ncols = 1; *p != '\n' && *p != '\0'; p++)
		if (*p == ',')
			t->ncols++;
	cap = (lines + 1) * t->ncols;
	if ((t->cells = calloc(cap, sizeof(char *))) == NULL)
		return -1;
	start = t->text;
	for (p = t->text; p < t->text + len; p++) {
		if (*p != ',' && *p != '\n')
			continue;
		if (col >= t->ncols)
			t->ragged = 1;
		else if (n < cap)
			t->cells[n++] = start;
		col++;
		if (*p == '\n') {
			if (col != t->ncols)
				t->ragged = 1;
			while (col < t->ncols && n < cap) {   /* keep the grid aligned */
				t->cells[n++] = start;
				col++;
			}
			col = 0;
		}
		*p = '\0';
		start = p + 1;
	}
	if (start != t->text + len)
		t->ragged = 1;   /* last line without newline */
	t->nrows = lines > 0 ? lines - 1 : 0;
	return 0;
}

/* Data cell (row 0 = first record after the header). */
static inline const char *
cell(const struct table *t, size_t row, size_t col)
{
	return t->cells[(row + 1) * t->ncols + col];
}

/* Index of the header column called name, or -1. */
static inline int
col_index(const struct table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->cells[i], name) == 0)
			return (int)i;
	return -1;
}

#endif
