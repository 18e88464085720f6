/* fuzz_dataset.c — fuzz target: an optional dialect line, a data dictionary, a NUL byte, then a CSV, through pht_dataset_load_mem_dialect. */
#include "pht_dataset.h"
#include "pht_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the invariants of a loaded dataset; aborts on a broken one. */
static void
check(const struct pht_dataset *ds)
{
	const struct pht_column *c;
	size_t i, r, nrows = pht_dataset_nrows(ds), nmiss;
	uint64_t sink = 0; /* touches every value; wraps freely */
	volatile uint64_t keep; /* so the reads are not optimised out */

	for (i = 0; i < pht_dataset_ncols(ds); i++) {
		c = pht_dataset_column(ds, i);
		if (c == NULL || pht_dataset_find(ds, c->name) != c)
			abort();
		/* at most one identifier, and it is the one the dataset names */
		if (c->role == PHT_ROLE_IDENTIFIER && pht_dataset_identifier(ds) != c)
			abort();
		nmiss = 0;
		for (r = 0; r < nrows; r++) {
			if (pht_column_is_missing(c, r))
				nmiss++;
			switch (c->type) {
			case PHT_COL_NUMBER: sink += c->v.f64[r] != 0; break;
			case PHT_COL_INTEGER: sink += (uint64_t)c->v.i64[r]; break;
			case PHT_COL_CATEGORY:
				if (c->v.i32[r] < 0 || (size_t)c->v.i32[r] >= c->nlevels)
					abort();
				sink += strlen(c->levels[c->v.i32[r]]);
				break;
			case PHT_COL_DATE: sink += (uint64_t)(int64_t)c->v.i32[r]; break;
			case PHT_COL_BOOLEAN:
				if (c->v.u8[r] > 1)
					abort();
				break;
			}
		}
		if (nmiss != c->nmissing || (nmiss == 0) != (c->missing == NULL))
			abort();
	}
	keep = sink;
	(void)keep;
	if (strlen(pht_dataset_csv_sha256(ds)) != 64)
		abort();
}

/* Most date formats a dialect line may carry. */
#define FUZZ_MAX_FORMATS 8

/*
 * An input starting with "#!" has a dialect line first: "#!" then the
 * delimiter, the quote, the decimal point and the encoding ('0' UTF-8,
 * '1' Latin-1, '2' Windows-1252; bytes taken as they are, so bad dialects
 * are fuzzed too), then " COLUMN=FORMAT" words up to the line feed.
 * Returns the bytes the line took (0 without one); the format strings
 * live in buf.
 */
static size_t
dialect_line(const uint8_t *data, size_t size, struct pht_dataset_dialect *dl,
    struct pht_dataset_format *fm, char *buf, size_t bufsz)
{
	const uint8_t *nl;
	char *p, *word, *eq, *save = NULL;
	size_t len;

	memset(dl, 0, sizeof(*dl));
	if (size < 7 || data[0] != '#' || data[1] != '!' ||
	    (nl = memchr(data + 6, '\n', size - 6)) == NULL)
		return 0;
	dl->delimiter = (char)data[2];
	dl->quote = (char)data[3];
	dl->decimal = (char)data[4];
	dl->encoding = (enum pht_encoding)(data[5] == '1' ? PHT_ENC_LATIN1 :
	    data[5] == '2' ? PHT_ENC_WINDOWS1252 : PHT_ENC_UTF8);
	len = (size_t)(nl - data) - 6;
	if (len >= bufsz)
		len = bufsz - 1;
	memcpy(buf, data + 6, len);
	buf[len] = '\0';
	for (p = buf; (word = strtok_r(p, " ", &save)) != NULL; p = NULL) {
		if ((eq = strchr(word, '=')) == NULL || dl->nformats == FUZZ_MAX_FORMATS)
			continue;
		*eq = '\0';
		fm[dl->nformats].column = word;
		fm[dl->nformats].format = eq + 1;
		dl->nformats++;
	}
	dl->formats = fm;
	return (size_t)(nl - data) + 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pht_dataset_format fm[FUZZ_MAX_FORMATS];
	struct pht_dataset_dialect dl;
	char fbuf[512];
	size_t skip = dialect_line(data, size, &dl, fm, fbuf, sizeof(fbuf));
	const uint8_t *nul = memchr(data + skip, '\0', size - skip);
	size_t dlen = nul ? (size_t)(nul - data) - skip : size - skip;
	const char *csv = nul ? (const char *)nul + 1 : "";
	size_t clen = nul ? size - skip - dlen - 1 : 0;
	struct pht_dataset *ds = NULL;
	struct pht_err err;
	int r;

	r = pht_dataset_load_mem_dialect(csv, clen, (const char *)data + skip, dlen,
	    "fuzz.csv", skip > 0 ? &dl : NULL, &ds, &err);
	if (r == PHT_OK) {
		if (ds == NULL)
			abort();
		check(ds);
	} else if (ds != NULL || err.msg[0] == '\0')
		abort();
	pht_dataset_free(ds);
	return 0;
}
