/* pht_udiff.c — unified diffs: Myers' greedy shortest edit script over lines, then hunks with context. */
#include "pht_udiff.h"
#include "pht_buf.h"
#include "pht_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct line {
	const char *p;
	size_t len;          /* with its '\n' when it has one */
};

/* One step of the edit script: keep a[ai] (= b[bi]), delete a[ai], insert b[bi]. */
enum op_kind { OP_EQ, OP_DEL, OP_INS };
struct op {
	enum op_kind kind;
	size_t ai, bi;       /* the line in a (EQ, DEL) and b (EQ, INS); next positions otherwise */
};

static int
split_lines(const char *t, size_t len, struct line **out, size_t *n)
{
	size_t i, start = 0, k = 0, cnt = 0;

	for (i = 0; i < len; i++)
		cnt += t[i] == '\n';
	cnt += len > 0 && t[len - 1] != '\n';
	*n = cnt;
	if ((*out = calloc(cnt + 1, sizeof(**out))) == NULL)
		return -1;
	for (i = 0; i < len; i++)
		if (t[i] == '\n') {
			(*out)[k].p = t + start;
			(*out)[k++].len = i + 1 - start;
			start = i + 1;
		}
	if (start < len) {
		(*out)[k].p = t + start;
		(*out)[k].len = len - start;
	}
	return 0;
}

static int
same(const struct line *x, const struct line *y)
{
	return x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

/*
 * Myers' greedy algorithm: v[k] is the furthest x on diagonal k = x - y
 * after d edits; trace keeps v's diagonals -d+1..d-1 before round d, so
 * the path can be walked back. *ops (n + m at most) gets the script in
 * order. -1 on OOM, -2 past max edits.
 */
static int
edit_script(const struct line *a, size_t n, const struct line *b, size_t m, size_t max,
    struct op **ops, size_t *nops)
{
	size_t dmax = n + m < max ? n + m : max, d, off = dmax + 1, tpos = 0, tcap;
	int64_t *v = NULL, k, x, y, px, py, pk;
	int32_t *trace = NULL;
	size_t *tstart = NULL, found = SIZE_MAX, i, cnt;
	struct op *o = NULL;
	int r = -1;

	*ops = NULL;
	*nops = 0;
	tcap = (dmax + 1) * (dmax + 1) + 1;
	if ((v = calloc(2 * off + 1, sizeof(*v))) == NULL ||
	    (trace = malloc(tcap * sizeof(*trace))) == NULL ||
	    (tstart = calloc(dmax + 2, sizeof(*tstart))) == NULL)
		goto out;
	for (d = 0; d <= dmax && found == SIZE_MAX; d++) {
		tstart[d] = tpos;
		for (k = -(int64_t)d + 1; k <= (int64_t)d - 1; k++)
			trace[tpos++] = (int32_t)v[off + k];
		for (k = -(int64_t)d; k <= (int64_t)d; k += 2) {
			if (k == -(int64_t)d || (k != (int64_t)d &&
			    v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];          /* down: insert b[y] */
			else
				x = v[off + k - 1] + 1;      /* right: delete a[x] */
			y = x - k;
			while (x < (int64_t)n && y < (int64_t)m && same(&a[x], &b[y])) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= (int64_t)n && y >= (int64_t)m) {
				found = d;
				break;
			}
		}
	}
	if (found == SIZE_MAX) {
		r = -2;
		goto out;
	}
	/* walk back from (n, m): each round d adds one edit and a snake */
	cnt = n + m - found;   /* equal lines: (n + m - d) / 2, edits: d; bound both */
	if ((o = calloc(cnt + found + 1, sizeof(*o))) == NULL)
		goto out;
	i = cnt + found;
	x = (int64_t)n;
	y = (int64_t)m;
	for (d = found; ; d--) {
		k = x - y;
		if (d == 0) {
			px = py = 0;
		} else {
			const int32_t *tv = trace + tstart[d] - (-(int64_t)d + 1);
			if (k == -(int64_t)d || (k != (int64_t)d && tv[k - 1] < tv[k + 1]))
				pk = k + 1;
			else
				pk = k - 1;
			px = tv[pk];
			py = px - pk;
		}
		while (x > px && y > py) {
			x--;
			y--;
			o[--i] = (struct op){OP_EQ, (size_t)x, (size_t)y};
		}
		if (d == 0)
			break;
		if (x == px) {                        /* came down: inserted b[py] */
			y--;
			o[--i] = (struct op){OP_INS, (size_t)x, (size_t)y};
		} else {                              /* came right: deleted a[px] */
			x--;
			o[--i] = (struct op){OP_DEL, (size_t)x, (size_t)y};
		}
	}
	*nops = cnt + found - i;
	memmove(o, o + i, *nops * sizeof(*o));
	*ops = o;
	o = NULL; /* transferred */
	r = 0;
out:
	free(o);
	free(tstart);
	free(trace);
	free(v);
	return r;
}

static int
put_line(struct pht_buf *out, char tag, const struct line *l)
{
	if (pht_buf_putc(out, tag) != 0 || pht_buf_put(out, l->p, l->len) != 0)
		return -1;
	if (l->len == 0 || l->p[l->len - 1] != '\n')
		return pht_buf_puts(out, "\n\\ No newline at end of file\n");
	return 0;
}

/* "L,N" of one side of a hunk header as diff -u writes it. */
static int
put_range(struct pht_buf *out, char tag, size_t first, size_t count)
{
	if (count == 1)
		return pht_buf_putf(out, "%c%zu", tag, first + 1);
	return pht_buf_putf(out, "%c%zu,%zu", tag, count == 0 ? first : first + 1, count);
}

/* The hunk of ops[from..to) (context included). */
static int
put_hunk(struct pht_buf *out, const struct line *a, const struct line *b,
    const struct op *ops, size_t from, size_t to)
{
	size_t i, na = 0, nb = 0;

	for (i = from; i < to; i++) {
		na += ops[i].kind != OP_INS;
		nb += ops[i].kind != OP_DEL;
	}
	if (pht_buf_puts(out, "@@ ") != 0 || put_range(out, '-', ops[from].ai, na) != 0 ||
	    pht_buf_putc(out, ' ') != 0 || put_range(out, '+', ops[from].bi, nb) != 0 ||
	    pht_buf_puts(out, " @@\n") != 0)
		return -1;
	for (i = from; i < to; i++) {
		const struct op *o = &ops[i];
		if ((o->kind == OP_EQ && put_line(out, ' ', &a[o->ai]) != 0) ||
		    (o->kind == OP_DEL && put_line(out, '-', &a[o->ai]) != 0) ||
		    (o->kind == OP_INS && put_line(out, '+', &b[o->bi]) != 0))
			return -1;
	}
	return 0;
}

static int
put_hunks(struct pht_buf *out, const struct line *a, const struct line *b,
    const struct op *ops, size_t nops, size_t ctx)
{
	size_t i = 0, start, end, last, j;

	while (i < nops) {
		while (i < nops && ops[i].kind == OP_EQ)
			i++;
		if (i == nops)
			break;
		start = i > ctx ? i - ctx : 0;
		/* extend while the next change is within 2 * ctx equal lines */
		last = i;
		for (j = i; j < nops; j++) {
			if (ops[j].kind != OP_EQ)
				last = j;
			else if (j - last > 2 * ctx)
				break;
		}
		end = last + 1 + ctx < nops ? last + 1 + ctx : nops;
		if (put_hunk(out, a, b, ops, start, end) != 0)
			return -1;
		i = last + 1;
	}
	return 0;
}

int
pht_udiff(const char *a, size_t alen, const char *b, size_t blen, const char *aname,
    const char *bname, int context, struct pht_buf *out, struct pht_err *err)
{
	struct line *la = NULL, *lb = NULL;
	struct op *ops = NULL;
	struct pht_buf *tmp = NULL;
	size_t na, nb, nops;
	int r = PHT_OK, e;

	if (context < 0)
		context = 0;
	if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0))
		return PHT_OK;
	if (split_lines(a, alen, &la, &na) != 0 || split_lines(b, blen, &lb, &nb) != 0) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((e = edit_script(la, na, lb, nb, PHT_UDIFF_MAX_EDITS, &ops, &nops)) != 0) {
		r = e == -2 ? pht_errf(err, PHT_ERR_LIMIT, "the texts differ in more than %d "
		    "lines", PHT_UDIFF_MAX_EDITS) : pht_errf(err, PHT_ERR_NOMEM,
		    "out of memory");
		goto out;
	}
	/* written aside first: out gets the whole diff or nothing */
	if ((tmp = pht_buf_new(pht_buf_max(out) - pht_buf_len(out))) == NULL) {
		r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (pht_buf_putf(tmp, "--- %s\n+++ %s\n", aname, bname) != 0 ||
	    put_hunks(tmp, la, lb, ops, nops, (size_t)context) != 0 ||
	    pht_buf_put(out, pht_buf_data(tmp), pht_buf_len(tmp)) != 0)
		r = pht_errf(err, PHT_ERR_TOO_LARGE, "the diff does not fit its buffer");
out:
	pht_buf_free(tmp);
	free(ops);
	free(la);
	free(lb);
	return r;
}
