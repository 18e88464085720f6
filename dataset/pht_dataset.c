/* pht_dataset.c — loads a CSV and its dictionary into typed, validated columns: the header map, the columns, the pass over the rows (cells in pht_dataset_cell.c), accessors and opt-out row removal. */
#include "pht_dataset.h"
#include "pht_dataset_int.h"
#include "pht_buf.h"
#include "pht_csv.h"
#include "pht_dict.h"
#include "pht_enc.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_limits.h"

#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <locale.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSV_DEFAULT_MAX ((size_t)4 << 30)

int
pht_column_level_code(const struct pht_column *c, const char *name)
{
	size_t i;

	if (c->type != PHT_COL_CATEGORY)
		return -1;
	for (i = 0; i < c->nlevels; i++)
		if (strcmp(c->levels[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * Gives back the pages of a mapped CSV below upto (page-aligned down), so
 * that a load's resident memory is the columns, not the file. The mapping
 * is private and read-only: a later touch would just read the file again.
 */
static void
release_below(struct loader *L, size_t upto)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (!L->mapped)
		return;
	upto -= upto % pg;
	if (upto <= L->released)
		return;
	(void)madvise((void *)(uintptr_t)(L->csv + L->released),
	    upto - L->released, MADV_DONTNEED);
	L->released = upto;
}

/* A pass over a mapping drops what it read in steps of this size. */
#define RELEASE_STEP ((size_t)8 << 20)

/* SHA-256 of data as lower-case hex; out[0] is NUL if OpenSSL fails. */
static void
sha256_hex(struct loader *L, const char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	size_t off = 0, n;
	int ok;

	out[0] = '\0';
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	while (ok && off < len) {
		n = len - off < RELEASE_STEP ? len - off : RELEASE_STEP;
		ok = EVP_DigestUpdate(ctx, data + off, n) == 1;
		off += n;
		if (L != NULL)
			release_below(L, off);
	}
	if (ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32)
		pht_hex_encode(md, 32, out);
	EVP_MD_CTX_free(ctx);
}

/* Line feeds in [from, end), dropping mapped pages behind the count. */
static size_t
count_newlines(struct loader *L, const char *from, const char *end)
{
	const char *q = from, *stop;
	size_t n = 0;

	while (q < end) {
		stop = (size_t)(end - q) < RELEASE_STEP ? end : q + RELEASE_STEP;
		while (q < stop && (q = memchr(q, '\n', (size_t)(stop - q))) != NULL) {
			n++;
			q++;
		}
		q = stop;
		release_below(L, (size_t)(q - L->csv));
	}
	return n;
}

static size_t
elem_size(enum pht_coltype t)
{
	switch (t) {
	case PHT_COL_NUMBER: return sizeof(double);
	case PHT_COL_INTEGER: return sizeof(int64_t);
	case PHT_COL_CATEGORY: return sizeof(int32_t);
	case PHT_COL_DATE: return sizeof(int32_t);
	case PHT_COL_BOOLEAN: return sizeof(uint8_t);
	}
	return sizeof(double);
}

void
pht_dataset_free(struct pht_dataset *ds)
{
	size_t i;

	if (ds == NULL)
		return;
	if (ds->store != NULL) {
		for (i = 0; i < ds->ncols; i++) {
			free(ds->store[i].data);
			free(ds->store[i].missing);
			free(ds->store[i].levels.slot);
		}
	}
	free(ds->store);
	free(ds->cols);
	free(ds->file_row);
	pht_dict_free(ds->dict);
	free(ds);
}

/*
 * Maps n column names (a CSV's header fields, or a query's result
 * columns) onto the dictionary's columns (L->map). loc names the place in
 * details ("reg.csv:1"), what the row of names ("header").
 */
static int
map_names(struct loader *L, const struct pht_csv_field *f, size_t n,
    const char *loc, const char *what, struct pht_err *err)
{
	const struct pht_dict *d = L->ds->dict;
	struct strtab names = { 0 };
	const char **nm = NULL;
	size_t *nl = NULL, *map = NULL, i, len;
	uint8_t *seen = NULL;
	char shown[SHOW_MAX * 4 + 8], *hdr = NULL;
	const char *p;
	long k;
	int r;

	if ((nm = calloc(d->ncols, sizeof(*nm))) == NULL ||
	    (nl = calloc(d->ncols, sizeof(*nl))) == NULL ||
	    (seen = calloc(d->ncols, 1)) == NULL ||
	    (map = calloc(n ? n : 1, sizeof(*map))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", L->csv_name);
		goto out;
	}
	for (i = 0; i < d->ncols; i++) {
		nm[i] = d->cols[i].name;
		nl[i] = strlen(nm[i]);
	}
	if (pht_dataset_strtab_build(&names, nm, nl, d->ncols) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", L->csv_name);
		goto out;
	}
	for (i = 0; i < n; i++) {
		p = f[i].p;
		len = f[i].len;
		if (f[i].escaped) {
			free(hdr);
			if ((hdr = malloc(len ? len : 1)) == NULL) {
				r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory",
				    L->csv_name);
				goto out;
			}
			len = pht_csv_unescape(&f[i], L->quote, hdr);
			p = hdr;
		}
		if ((k = pht_dataset_strtab_find(&names, p, len)) < 0) {
			pht_dataset_show(p, len, shown, sizeof(shown));
			r = pht_errf(err, PHT_ERR_INVALID, "%s: %s column %zu "
			    "%s is not in the dictionary", loc, what, i + 1, shown);
			goto out;
		}
		if (seen[k]) {
			pht_dataset_show(p, len, shown, sizeof(shown));
			r = pht_errf(err, PHT_ERR_INVALID, "%s: %s column %zu "
			    "%s appears twice", loc, what, i + 1, shown);
			goto out;
		}
		seen[k] = 1;
		map[i] = (size_t)k;
	}
	for (i = 0; i < d->ncols; i++) {
		if (!seen[i]) {
			pht_dataset_show(nm[i], nl[i], shown, sizeof(shown));
			r = pht_errf(err, PHT_ERR_INVALID, "%s: column %s of the "
			    "dictionary is missing from the %s", loc, shown, what);
			goto out;
		}
	}
	L->map = map;
	map = NULL; /* transferred */
	r = PHT_OK;
out:
	free(hdr);
	free(names.slot);
	free(seen);
	free(nl);
	free(nm);
	free(map);
	return r;
}

/* Reads the CSV's header and maps it onto the dictionary's columns. */
static int
read_header(struct loader *L, struct pht_csv *c, struct pht_err *err)
{
	char loc[256];
	int r;

	if ((r = pht_csv_next(c, err)) < 0)
		return r;
	if (r == 0)
		return pht_errf(err, PHT_ERR_MALFORMED,
		    "%s: empty file (no header line)", L->csv_name);
	snprintf(loc, sizeof(loc), "%s:%zu", L->csv_name, c->rec_line);
	return map_names(L, c->fields, c->nfields, loc, "header", err);
}

#define HUGE_COLUMN ((size_t)4 << 20)   /* column arrays offered huge pages */
#define HUGE_ALIGN ((size_t)2 << 20)

/*
 * A column array of size bytes. One of 4 MiB or more is offered
 * transparent huge pages over its 2 MiB-aligned interior before its first
 * write (THP "madvise" mode; a hint, its failure ignored): trains run in
 * forked children that read the parent's columns, and where the kernel
 * (or a hypervisor's shadow page tables) maps the child's pages one by one
 * on first touch, 4 KiB pages cost a fault per page per run — about 100 ms
 * per 80 MB column measured on the benchmark machine, against under 5 ms
 * with huge pages (bench/PROFILE.md section 2).
 */
static void *
column_alloc(size_t size)
{
	void *p = malloc(size);
	uintptr_t a, e;

	if (p != NULL && size >= HUGE_COLUMN) {
		a = ((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1);
		e = ((uintptr_t)p + size) & ~(uintptr_t)(HUGE_ALIGN - 1);
		if (e > a)
			(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
	return p;
}

/* Sets up the columns, with room for cap rows each. */
static int
alloc_columns(struct pht_dataset *ds, size_t cap)
{
	const struct pht_dict_col *dc;
	struct col_store *st;
	size_t i, k;

	ds->ncols = ds->dict->ncols;
	if ((ds->cols = calloc(ds->ncols, sizeof(*ds->cols))) == NULL ||
	    (ds->store = calloc(ds->ncols, sizeof(*ds->store))) == NULL)
		return PHT_ERR_NOMEM;
	for (i = 0; i < ds->ncols; i++) {
		dc = &ds->dict->cols[i];
		st = &ds->store[i];
		st->elem = elem_size(dc->type);
		for (k = 0; k < dc->nmissing; k++)
			st->misslen |= (uint64_t)1 << (dc->missing_len[k] < 63 ?
			    dc->missing_len[k] : 63);
		if (cap > SIZE_MAX / st->elem ||
		    (st->data = column_alloc(cap * st->elem)) == NULL)
			return PHT_ERR_NOMEM;
		if (dc->type == PHT_COL_CATEGORY &&
		    pht_dataset_strtab_build(&st->levels, dc->levels, dc->level_len,
		    dc->nlevels) != PHT_OK)
			return PHT_ERR_NOMEM;
		ds->cols[i].name = dc->name;
		ds->cols[i].type = dc->type;
		ds->cols[i].unit = dc->unit;
		ds->cols[i].description = dc->description;
		ds->cols[i].role = dc->role;
		ds->cols[i].datetime = dc->datetime;
		ds->cols[i].nlevels = dc->nlevels;
		ds->cols[i].levels = dc->levels;
	}
	return PHT_OK;
}

/* Trims every column to nrows and publishes the arrays in the views. */
static void
finish_columns(struct pht_dataset *ds)
{
	struct col_store *st;
	struct pht_column *col;
	size_t i, n = ds->nrows ? ds->nrows : 1;
	void *p;

	for (i = 0; i < ds->ncols; i++) {
		st = &ds->store[i];
		col = &ds->cols[i];
		if ((p = realloc(st->data, n * st->elem)) != NULL)
			st->data = p; /* a failed shrink keeps the larger block */
		if (st->missing != NULL &&
		    (p = realloc(st->missing, (n + 7) / 8)) != NULL)
			st->missing = p;
		col->v.f64 = st->data; /* the union: one pointer for every type */
		col->missing = st->missing;
	}
}

static const char *const encoding_names[] = {
	[PHT_ENC_UTF8] = "utf-8",
	[PHT_ENC_LATIN1] = "latin-1",
	[PHT_ENC_WINDOWS1252] = "windows-1252",
};

const char *
pht_encoding_name(enum pht_encoding e)
{
	if ((unsigned)e < sizeof(encoding_names) / sizeof(encoding_names[0]))
		return encoding_names[e];
	return "unknown";
}

int
pht_encoding_parse(const char *s)
{
	static const struct { const char *n; enum pht_encoding e; } alias[] = {
		{ "utf-8", PHT_ENC_UTF8 }, { "utf8", PHT_ENC_UTF8 },
		{ "latin-1", PHT_ENC_LATIN1 }, { "latin1", PHT_ENC_LATIN1 },
		{ "iso-8859-1", PHT_ENC_LATIN1 },
		{ "windows-1252", PHT_ENC_WINDOWS1252 }, { "cp1252", PHT_ENC_WINDOWS1252 },
	};
	size_t i;

	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcasecmp(s, alias[i].n) == 0)
			return (int)alias[i].e;
	return -1;
}

int
pht_dataset_to_utf8(const char *in, size_t len, enum pht_encoding enc, const char *name,
    char **out, size_t *outlen, struct pht_err *err)
{
	iconv_t cd;
	char *buf = NULL, *ip = (char *)(uintptr_t)in, *op;
	size_t il = len, ol, cap, line;
	const char *q;
	int r;

	*out = NULL;
	*outlen = 0;
	if (len > (SIZE_MAX - 1) / 3)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "%s: too large", name);
	cap = len * 3 + 1; /* one byte becomes at most 3 in UTF-8 */
	if ((cd = iconv_open("UTF-8", enc == PHT_ENC_LATIN1 ? "ISO-8859-1" :
	    "WINDOWS-1252")) == (iconv_t)-1)
		return pht_errf(err, PHT_ERR_INTERNAL, "%s: iconv cannot convert "
		    "from %s", name, pht_encoding_name(enc));
	if ((buf = malloc(cap)) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
		goto out;
	}
	op = buf;
	ol = cap;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
		for (line = 1, q = in; q < ip; q++)
			line += *q == '\n';
		r = pht_errf(err, PHT_ERR_INVALID, "%s:%zu: byte 0x%02x is not a "
		    "character in %s", name, line, (unsigned)(uint8_t)*ip,
		    pht_encoding_name(enc));
		goto out;
	}
	*outlen = (size_t)(op - buf);
	*out = buf;
	buf = NULL; /* transferred */
	r = PHT_OK;
out:
	free(buf);
	iconv_close(cd);
	return r;
}

/*
 * Takes the dialect's quote, decimal point and per-column formats into L
 * (after the dictionary is parsed). PHT_ERR_INVALID names what is wrong.
 */
static int
apply_dialect(struct loader *L, const struct pht_dataset_dialect *dl,
    struct pht_err *err)
{
	const struct pht_dict *d = L->ds->dict;
	const struct pht_dataset_format *f;
	char why[160];
	size_t i, k;

	L->quote = dl != NULL && dl->quote != '\0' ? dl->quote : '"';
	if (dl == NULL)
		return PHT_OK;
	if (dl->decimal != '\0' && dl->decimal != '.' && dl->decimal != ',')
		return pht_errf(err, PHT_ERR_INVALID, "%s: decimal point '%c': "
		    "only '.' or ','", L->csv_name, dl->decimal);
	L->decimal_comma = dl->decimal == ',';
	if (dl->nformats == 0)
		return PHT_OK;
	if ((L->fmt = calloc(d->ncols, sizeof(*L->fmt))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", L->csv_name);
	for (i = 0; i < dl->nformats; i++) {
		f = &dl->formats[i];
		for (k = 0; k < d->ncols; k++)
			if (strcmp(d->cols[k].name, f->column) == 0)
				break;
		if (k == d->ncols)
			return pht_errf(err, PHT_ERR_INVALID, "%s: format for column "
			    "%.64s: no such column in the dictionary", L->csv_name,
			    f->column);
		if (d->cols[k].type != PHT_COL_DATE && !d->cols[k].datetime)
			return pht_errf(err, PHT_ERR_INVALID, "%s: format for column "
			    "%.64s: only date and datetime columns take a format",
			    L->csv_name, f->column);
		if (L->fmt[k] != NULL)
			return pht_errf(err, PHT_ERR_INVALID, "%s: format for column "
			    "%.64s: given twice", L->csv_name, f->column);
		if (pht_dataset_datefmt_check(f->format, d->cols[k].datetime, why,
		    sizeof(why)) != PHT_OK)
			return pht_errf(err, PHT_ERR_INVALID, "%s: format for column "
			    "%.64s: \"%.64s\": %s", L->csv_name, f->column, f->format,
			    why);
		L->fmt[k] = f->format;
	}
	return PHT_OK;
}

/* Frees what a load holds besides the dataset under construction. */
static void
loader_clear(struct loader *L)
{
	if (L->cloc != (locale_t)0)
		freelocale(L->cloc);
	free(L->scratch);
	free(L->map);
	free(L->fmt);
	pht_dataset_free(L->ds);
}

/*
 * The start of every load: the dataset, the C locale, the dictionary
 * (with its hash) and the dialect.
 */
static int
loader_start(struct loader *L, const char *dict, size_t dict_len,
    const char *name, const char *dict_name,
    const struct pht_dataset_dialect *dl, struct pht_err *err)
{
	int r;

	L->csv_name = name;
	if ((L->ds = calloc(1, sizeof(*L->ds))) == NULL ||
	    (L->cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) == (locale_t)0)
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
	sha256_hex(NULL, dict, dict_len, L->ds->dict_sha256);
	if (L->ds->dict_sha256[0] == '\0')
		return pht_errf(err, PHT_ERR_CRYPTO, "%s: SHA-256 failed", name);
	if ((r = pht_dict_parse(dict, dict_len, dict_name, &L->ds->dict, err)) !=
	    PHT_OK)
		return r;
	return apply_dialect(L, dl, err);
}

/* The end of every load: the count of bad cells, or the columns trimmed. */
static int
loader_finish(struct loader *L, struct pht_dataset **out, struct pht_err *err)
{
	if (L->nbad > 0)
		return pht_errf(err, PHT_ERR_INVALID, "%s (%zu bad cell%s in all)",
		    L->first, L->nbad, L->nbad == 1 ? "" : "s");
	finish_columns(L->ds);
	*out = L->ds;
	L->ds = NULL; /* transferred */
	return PHT_OK;
}

/*
 * The CSV loader. mapped says csv is the loader's own read-only file
 * mapping, whose pages it may drop as it goes.
 */
static int
load_buffers(const char *csv, size_t csv_len, int mapped, const char *dict,
    size_t dict_len, const char *csv_name, const char *dict_name,
    const struct pht_dataset_dialect *dl, struct pht_dataset **out,
    struct pht_err *err)
{
	struct loader L;
	struct pht_csv c;
	char csv_sha[65], *conv = NULL;
	size_t conv_len;
	int r;

	*out = NULL;
	memset(&L, 0, sizeof(L));
	pht_csv_init(&c, csv_name, "", 0);
	if ((r = loader_start(&L, dict, dict_len, csv_name, dict_name, dl, err)) !=
	    PHT_OK)
		goto out;
	L.csv = csv;
	L.mapped = mapped;
	sha256_hex(&L, csv, csv_len, csv_sha);
	L.released = 0; /* the parse reads the file again from the start */
	if (csv_sha[0] == '\0') {
		r = pht_errf(err, PHT_ERR_CRYPTO, "%s: SHA-256 failed", csv_name);
		goto out;
	}
	memcpy(L.ds->csv_sha256, csv_sha, sizeof(csv_sha));
	if (dl != NULL && dl->encoding != PHT_ENC_UTF8) {
		if ((r = pht_dataset_to_utf8(csv, csv_len, dl->encoding, csv_name, &conv,
		    &conv_len, err)) != PHT_OK)
			goto out;
		csv = conv;
		csv_len = conv_len;
		L.csv = csv;
		L.mapped = 0;
	}
	pht_csv_init(&c, csv_name, csv, csv_len);
	if (dl != NULL && pht_csv_set_dialect(&c, dl->delimiter ? dl->delimiter :
	    ',', L.quote) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: delimiter and quote must be "
		    "two different bytes, neither NUL, CR nor LF", csv_name);
		goto out;
	}
	if (L.decimal_comma && c.delim == ',') {
		r = pht_errf(err, PHT_ERR_INVALID, "%s: a decimal comma needs a "
		    "delimiter other than ','", csv_name);
		goto out;
	}
	if ((r = read_header(&L, &c, err)) != PHT_OK)
		goto out;
	/*
	 * A bound on the rows: every record after the header ends a line or
	 * the input, and holds at least nfields - 1 separators and a line feed.
	 */
	L.cap = count_newlines(&L, c.pos, csv + csv_len) + 1;
	if ((size_t)(csv + csv_len - c.pos) / c.nfields + 1 < L.cap)
		L.cap = (size_t)(csv + csv_len - c.pos) / c.nfields + 1;
	L.released = 0;
	if ((r = alloc_columns(L.ds, L.cap)) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory for %zu rows",
		    csv_name, L.cap);
		goto out;
	}
	c.expect = c.nfields;
	for (;;) {
		if ((r = pht_csv_next(&c, err)) < 0)
			goto out;
		if (r == 0)
			break;
		if (L.ds->nrows >= L.cap) {
			r = pht_errf(err, PHT_ERR_INTERNAL, "%s:%zu: more records "
			    "than lines", csv_name, c.rec_line);
			goto out;
		}
		if (pht_dataset_record(&L, c.fields, c.nfields, c.rec_line) != PHT_OK) {
			r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", csv_name);
			goto out;
		}
		L.ds->nrows++;
		if ((size_t)(c.pos - csv) - L.released >= RELEASE_STEP)
			release_below(&L, (size_t)(c.pos - csv));
	}
	r = loader_finish(&L, out, err);
out:
	pht_csv_clear(&c);
	loader_clear(&L);
	free(conv);
	return r;
}

int
pht_dataset_load_table(const struct pht_dataset_table *t, const char *dict,
    size_t dict_len, const char *name, const char *dict_name,
    const struct pht_dataset_dialect *dl, struct pht_dataset **out,
    struct pht_err *err)
{
	struct pht_dataset_dialect cells = { 0 };
	struct loader L;
	size_t row;
	int r;

	*out = NULL;
	memset(&L, 0, sizeof(L));
	if (dl != NULL) {
		/* a query's cells are text as the database gives it: formats only */
		cells.nformats = dl->nformats;
		cells.formats = dl->formats;
	}
	if ((r = loader_start(&L, dict, dict_len, name, dict_name, &cells, err)) !=
	    PHT_OK)
		goto out;
	memcpy(L.ds->csv_sha256, t->sha256, sizeof(L.ds->csv_sha256));
	L.rows_not_lines = 1;
	if ((r = map_names(&L, t->names, t->ncols, name, "query result", err)) !=
	    PHT_OK)
		goto out;
	L.cap = t->nrows + 1;
	if ((r = alloc_columns(L.ds, L.cap)) != PHT_OK) {
		r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory for %zu rows",
		    name, L.cap);
		goto out;
	}
	for (row = 0; row < t->nrows; row++) {
		if (pht_dataset_record(&L, t->cells + row * t->ncols, t->ncols,
		    row + 1) != PHT_OK) {
			r = pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
			goto out;
		}
		L.ds->nrows++;
	}
	r = loader_finish(&L, out, err);
out:
	loader_clear(&L);
	return r;
}

int
pht_dataset_load_mem(const char *csv, size_t csv_len, const char *dict,
    size_t dict_len, const char *name, struct pht_dataset **out,
    struct pht_err *err)
{
	return pht_dataset_load_mem_dialect(csv, csv_len, dict, dict_len, name,
	    NULL, out, err);
}

int
pht_dataset_load_mem_dialect(const char *csv, size_t csv_len,
    const char *dict, size_t dict_len, const char *name,
    const struct pht_dataset_dialect *dialect, struct pht_dataset **out,
    struct pht_err *err)
{
	struct pht_buf *dn = NULL;
	size_t n = strlen(name);
	int r;

	*out = NULL;
	/* The dictionary is named after the CSV: NAME.csv -> NAME.dict.json. */
	if ((dn = pht_buf_new(n + 16)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
	if (n >= 4 && strcmp(name + n - 4, ".csv") == 0)
		r = pht_buf_put(dn, name, n - 4);
	else
		r = pht_buf_puts(dn, name);
	if (r == PHT_OK)
		r = pht_buf_puts(dn, ".dict.json");
	if (r != PHT_OK) {
		pht_buf_free(dn);
		return pht_errf(err, PHT_ERR_NOMEM, "%s: out of memory", name);
	}
	r = load_buffers(csv, csv_len, 0, dict, dict_len, name, pht_buf_str(dn),
	    dialect, out, err);
	pht_buf_free(dn);
	return r;
}

int
pht_dataset_load(const char *csv_path, const char *dict_path,
    const struct pht_dataset_opts *opts, struct pht_dataset **out,
    struct pht_err *err)
{
	size_t max = opts != NULL && opts->max_bytes != 0 ? opts->max_bytes :
	    CSV_DEFAULT_MAX;
	struct pht_buf *dict = NULL;
	void *map = MAP_FAILED;
	struct stat st;
	size_t len = 0;
	int fd = -1, r;

	*out = NULL;
	if ((r = pht_file_read(dict_path, PHT_DICT_MAX, &dict, err)) != PHT_OK)
		goto out;
	if ((fd = open(csv_path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", csv_path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", csv_path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = pht_errf(err, PHT_ERR_IO, "%s: not a regular file", csv_path);
		goto out;
	}
	if ((uint64_t)st.st_size > (uint64_t)max) {
		r = pht_errf(err, PHT_ERR_TOO_LARGE, "%s: larger than %zu bytes",
		    csv_path, max);
		goto out;
	}
	len = (size_t)st.st_size;
	if (len > 0) {
		/* Read-only mapping: file pages, not heap, and gone after load. */
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			r = pht_errf(err, PHT_ERR_IO, "%s: %s", csv_path,
			    strerror(errno));
			goto out;
		}
		(void)madvise(map, len, MADV_SEQUENTIAL);
	}
	r = load_buffers(len > 0 ? map : "", len, len > 0, pht_buf_str(dict),
	    pht_buf_len(dict), csv_path, dict_path, opts != NULL ? opts->dialect :
	    NULL, out, err);
out:
	if (map != MAP_FAILED)
		munmap(map, len);
	if (fd >= 0)
		close(fd);
	pht_buf_free(dict);
	return r;
}

const char *
pht_dataset_name(const struct pht_dataset *ds)
{
	return ds->dict->dataset;
}

size_t
pht_dataset_nrows(const struct pht_dataset *ds)
{
	return ds->nrows;
}

size_t
pht_dataset_ncols(const struct pht_dataset *ds)
{
	return ds->ncols;
}

const struct pht_column *
pht_dataset_column(const struct pht_dataset *ds, size_t i)
{
	return i < ds->ncols ? &ds->cols[i] : NULL;
}

int
pht_dataset_find_index(const struct pht_dataset *ds, const char *name)
{
	size_t i;

	for (i = 0; i < ds->ncols; i++)
		if (strcmp(ds->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct pht_column *
pht_dataset_identifier(const struct pht_dataset *ds)
{
	size_t i;

	for (i = 0; i < ds->ncols; i++)
		if (ds->cols[i].role == PHT_ROLE_IDENTIFIER)
			return &ds->cols[i];
	return NULL;
}

const struct pht_column *
pht_dataset_find(const struct pht_dataset *ds, const char *name)
{
	int i = pht_dataset_find_index(ds, name);

	return i < 0 ? NULL : &ds->cols[i];
}

const char *
pht_dataset_csv_sha256(const struct pht_dataset *ds)
{
	return ds->csv_sha256;
}

const char *
pht_dataset_dict_sha256(const struct pht_dataset *ds)
{
	return ds->dict_sha256;
}

int
pht_dataset_drop_rows(struct pht_dataset *ds, const uint8_t *drop, size_t *ndropped,
    struct pht_err *err)
{
	struct col_store *st;
	size_t i, row, w, n = 0, keep;
	uint32_t *file_row;
	uint8_t *bm;

	if (ndropped != NULL)
		*ndropped = 0;
	for (row = 0; row < ds->nrows; row++)
		n += (drop[row >> 3] >> (row & 7)) & 1;
	if (n == 0)
		return PHT_OK;
	if (ds->nrows > UINT32_MAX)
		return pht_errf(err, PHT_ERR_TOO_LARGE, "%zu rows: too many to drop rows "
		    "from", ds->nrows);
	keep = ds->nrows - n;
	/* which row of the file each kept row is (through earlier drops too) */
	if ((file_row = malloc((keep + 1) * sizeof(*file_row))) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	for (row = 0, w = 0; row < ds->nrows; row++)
		if (!((drop[row >> 3] >> (row & 7)) & 1))
			file_row[w++] = ds->file_row != NULL ? ds->file_row[row] : (uint32_t)row;
	if (ds->file_row == NULL)
		ds->file_nrows = ds->nrows;
	free(ds->file_row);
	ds->file_row = file_row;
	for (i = 0; i < ds->ncols; i++) {
		st = &ds->store[i];
		bm = NULL;
		if (st->missing != NULL &&
		    (bm = calloc(keep / 8 + 1, 1)) == NULL)
			return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		ds->cols[i].nmissing = 0;
		for (row = 0, w = 0; row < ds->nrows; row++) {
			if ((drop[row >> 3] >> (row & 7)) & 1)
				continue;
			if (w != row)
				memmove((char *)st->data + w * st->elem,
				    (char *)st->data + row * st->elem, st->elem);
			if (bm != NULL && ((st->missing[row >> 3] >> (row & 7)) & 1)) {
				bm[w >> 3] |= (uint8_t)(1u << (w & 7));
				ds->cols[i].nmissing++;
			}
			w++;
		}
		free(st->missing);
		st->missing = bm;
		if (bm != NULL && ds->cols[i].nmissing == 0) {
			free(bm);
			st->missing = NULL;
		}
	}
	ds->nrows = keep;
	finish_columns(ds);
	if (ndropped != NULL)
		*ndropped = n;
	return PHT_OK;
}

const uint32_t *
pht_dataset_file_rows(const struct pht_dataset *ds, size_t *file_nrows)
{
	*file_nrows = ds->file_row != NULL ? ds->file_nrows : ds->nrows;
	return ds->file_row;
}

const json_t *
pht_dataset_dict(const struct pht_dataset *ds)
{
	return ds->dict->json;
}

int
pht_dataset_columns_sha256(const struct pht_dataset *ds, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	const struct pht_column *c;
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	uint64_t n = ds->nrows;
	size_t i, k;
	uint8_t bit, t;
	int ok;

	out[0] = '\0';
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return PHT_ERR_CRYPTO;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, &n, sizeof(n)) == 1;
	for (i = 0; ok && i < ds->ncols; i++) {
		c = &ds->cols[i];
		t = (uint8_t)(c->type + (c->datetime ? 16 : 0));
		ok = EVP_DigestUpdate(ctx, c->name, strlen(c->name) + 1) == 1 &&
		    EVP_DigestUpdate(ctx, &t, 1) == 1 && (ds->nrows == 0 ||
		    EVP_DigestUpdate(ctx, c->v.f64, ds->nrows * ds->store[i].elem) == 1);
		for (k = 0; ok && k < c->nlevels; k++)
			ok = EVP_DigestUpdate(ctx, c->levels[k], strlen(c->levels[k]) + 1) == 1;
		/* bits past nrows are always 0; no bitmap: no missing cell */
		bit = c->missing != NULL;
		ok = ok && EVP_DigestUpdate(ctx, &bit, 1) == 1 && (!bit ||
		    EVP_DigestUpdate(ctx, c->missing, (ds->nrows + 7) / 8) == 1);
	}
	if (ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32)
		pht_hex_encode(md, 32, out);
	EVP_MD_CTX_free(ctx);
	return out[0] != '\0' ? PHT_OK : PHT_ERR_CRYPTO;
}

size_t
pht_dataset_column_bytes(const struct pht_dataset *ds)
{
	size_t i, total = 0;

	for (i = 0; i < ds->ncols; i++) {
		total += ds->nrows * ds->store[i].elem;
		if (ds->store[i].missing != NULL)
			total += (ds->nrows + 7) / 8;
	}
	return total;
}
