/* pht_train_assemble.c — resolves a train's --#include lines into one self-contained text (build-time assembly). */
#include "pht_train_assemble.h"

#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 255

/* One file of the assembly: its real path, and where it was included. */
struct asm_file {
	char *real;
	char *name;       /* as written in the directive (the train: its path) */
	char *from;       /* "FILE:LINE" of the directive, or NULL for the train */
};

/*
 * The state of one assembly. files[] holds every file read so far (each
 * at most once); stack[] the indices of the files being read, outermost
 * first, for cycle messages.
 */
struct asm_state {
	char *train_root;        /* real path of the train's folder */
	char *lib_root;          /* real path of the library folder, or NULL */
	const char *lib_shown;   /* the library folder as configured */
	struct asm_file files[PHT_TRAIN_INCLUDE_FILES_MAX];
	size_t nfiles;
	size_t stack[PHT_TRAIN_INCLUDE_DEPTH_MAX + 1];
	size_t depth;
	struct pht_buf *out;
	size_t max;
};

static int assemble_file(struct asm_state *st, size_t idx, struct pht_err *err);

/* The folder of path ("." when it has none); caller frees. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* A directive's NAME: components [A-Za-z0-9_.-]+, none hidden, ends ".lua". */
static int
name_ok(const char *name, size_t len)
{
	size_t i, start = 0;

	if (len == 0 || len > NAME_MAX_LEN || len < 4 || strncmp(name + len - 4, ".lua", 4) != 0)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '/') {
			if (i == start || name[start] == '.')
				return 0;
			start = i + 1;
			continue;
		}
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '.' ||
		    name[i] == '-'))
			return 0;
	}
	return 1;
}

/*
 * Parses a directive line (it starts with "--#"): its keyword
 * ("include", "begin", "end") and NAME. Returns 0 and sets *kw, *name,
 * *nlen, or -1 when the line is not a well-formed directive.
 */
static int
parse_directive(const char *line, size_t len, const char **kw, const char **name, size_t *nlen)
{
	static const char *const kws[] = { "include", "begin", "end" };
	size_t i, pos = 3, klen, q;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	for (i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		klen = strlen(kws[i]);
		if (len >= pos + klen && strncmp(line + pos, kws[i], klen) == 0)
			break;
	}
	if (i == sizeof(kws) / sizeof(kws[0]))
		return -1;
	*kw = kws[i];
	pos += klen;
	if (pos >= len || (line[pos] != ' ' && line[pos] != '\t'))
		return -1;
	while (pos < len && (line[pos] == ' ' || line[pos] == '\t'))
		pos++;
	if (pos >= len || line[pos] != '"')
		return -1;
	q = ++pos;
	while (pos < len && line[pos] != '"')
		pos++;
	if (pos >= len)
		return -1;
	*name = line + q;
	*nlen = pos - q;
	for (pos++; pos < len; pos++)
		if (line[pos] != ' ' && line[pos] != '\t')
			return -1;
	return 0;
}

/* Appends to the output, turning a full buffer into the size error. */
static int
put(struct asm_state *st, const void *p, size_t n, struct pht_err *err)
{
	int r = pht_buf_put(st->out, p, n);

	if (r == PHT_ERR_TOO_LARGE)
		return pht_errf(err, r, "%s: the assembled train exceeds %zu bytes",
		    st->files[0].name, st->max);
	if (r != PHT_OK)
		return pht_errf(err, r, "out of memory");
	return PHT_OK;
}

/*
 * Resolves NAME (checked by name_ok) to a real path under its root.
 * *real is a new string. where is "FILE:LINE" for messages.
 */
static int
resolve(struct asm_state *st, const char *name, const char *where, char **real,
    struct pht_err *err)
{
	const char *root, *rest = name;
	char *cand = NULL, *r = NULL;
	size_t rl;
	int lib = strncmp(name, "lib/", 4) == 0;

	*real = NULL;
	if (lib) {
		rest = name + 4;
		if (st->lib_root == NULL)
			return pht_errf(err, PHT_ERR_IO, "%s: %s: the train library %s "
			    "does not exist (set PHT_TRAIN_LIB)", where, name, st->lib_shown);
		root = st->lib_root;
	} else
		root = st->train_root;
	if ((cand = pht_path_join(root, rest)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = realpath(cand, NULL)) == NULL) {
		int e = errno;
		free(cand);
		if (e == ENOMEM)
			return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		if (lib)
			return pht_errf(err, PHT_ERR_IO, "%s: %s: not found in the train "
			    "library %s", where, name, st->lib_shown);
		return pht_errf(err, PHT_ERR_IO, "%s: %s: not found in the train's folder",
		    where, name);
	}
	free(cand);
	rl = strlen(root);
	if (strncmp(r, root, rl) != 0 || (r[rl] != '/' && strcmp(root, "/") != 0)) {
		free(r);
		return pht_errf(err, PHT_ERR_INVALID, "%s: %s: resolves outside %s "
		    "(a symbolic link?); includes stay under the train's folder or the "
		    "train library", where, name, lib ? "the train library" : "the train's folder");
	}
	*real = r;
	return PHT_OK;
}

/* Handles `--#include "NAME"` found at where (FILE:LINE). */
static int
include(struct asm_state *st, const char *name, const char *where, struct pht_err *err)
{
	char *real = NULL;
	size_t i, j, idx;
	int r;

	if ((r = resolve(st, name, where, &real, err)) != PHT_OK)
		return r;
	for (i = 0; i < st->nfiles; i++) {
		if (strcmp(st->files[i].real, real) != 0)
			continue;
		free(real);
		for (j = 0; j < st->depth; j++)
			if (st->stack[j] == i)
				break;
		if (j < st->depth) {
			char chain[PHT_ERR_DETAIL_MAX];
			size_t off = 0;
			for (; j < st->depth && off < sizeof(chain); j++)
				off += (size_t)snprintf(chain + off, sizeof(chain) - off, "%s -> ",
				    st->files[st->stack[j]].name);
			if (off < sizeof(chain))
				snprintf(chain + off, sizeof(chain) - off, "%s", name);
			return pht_errf(err, PHT_ERR_INVALID, "%s: include cycle: %s", where, chain);
		}
		return pht_errf(err, PHT_ERR_INVALID, "%s: %s is included twice (first at "
		    "%s); include each file once", where, name, st->files[i].from);
	}
	if (st->depth > PHT_TRAIN_INCLUDE_DEPTH_MAX) {
		free(real);
		return pht_errf(err, PHT_ERR_INVALID, "%s: %s: includes nested more than %d "
		    "deep", where, name, PHT_TRAIN_INCLUDE_DEPTH_MAX);
	}
	if (st->nfiles == PHT_TRAIN_INCLUDE_FILES_MAX) {
		free(real);
		return pht_errf(err, PHT_ERR_INVALID, "%s: %s: more than %d files in one "
		    "train", where, name, PHT_TRAIN_INCLUDE_FILES_MAX);
	}
	idx = st->nfiles++;
	st->files[idx].real = real;
	if ((st->files[idx].name = strdup(name)) == NULL ||
	    (st->files[idx].from = strdup(where)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if ((r = put(st, "--#begin \"", 10, err)) != PHT_OK ||
	    (r = put(st, name, strlen(name), err)) != PHT_OK ||
	    (r = put(st, "\"\n", 2, err)) != PHT_OK ||
	    (r = assemble_file(st, idx, err)) != PHT_OK ||
	    (r = put(st, "--#end \"", 8, err)) != PHT_OK ||
	    (r = put(st, name, strlen(name), err)) != PHT_OK ||
	    (r = put(st, "\"\n", 2, err)) != PHT_OK)
		return r;
	return PHT_OK;
}

/* Copies file files[idx] to the output, resolving its directives. */
static int
assemble_file(struct asm_state *st, size_t idx, struct pht_err *err)
{
	struct pht_buf *b = NULL;
	const char *text, *line, *nl, *kw, *name;
	char where[NAME_MAX_LEN + 32], nm[NAME_MAX_LEN + 1];
	size_t len, llen, nlen, lineno = 0;
	int r;

	if ((r = pht_file_read(st->files[idx].real, st->max, &b, err)) != PHT_OK) {
		if (r == PHT_ERR_TOO_LARGE)
			return pht_errf(err, r, "%s: the assembled train exceeds %zu bytes",
			    st->files[0].name, st->max);
		pht_err_prefix(err, "%s", st->files[idx].name);
		return r;
	}
	st->stack[st->depth++] = idx;
	text = pht_buf_str(b);
	len = pht_buf_len(b);
	for (line = text; line < text + len; line = nl) {
		lineno++;
		nl = memchr(line, '\n', (size_t)(text + len - line));
		nl = nl != NULL ? nl + 1 : text + len;
		llen = (size_t)(nl - line);
		if (llen < 3 || strncmp(line, "--#", 3) != 0) {
			if ((r = put(st, line, llen, err)) != PHT_OK)
				goto out;
			continue;
		}
		snprintf(where, sizeof(where), "%s:%zu", st->files[idx].name, lineno);
		if (parse_directive(line, llen - (line[llen - 1] == '\n'), &kw, &name, &nlen) != 0) {
			r = pht_errf(err, PHT_ERR_INVALID, "%s: not a directive: lines starting "
			    "with --# must read --#include \"NAME\"", where);
			goto out;
		}
		if (!name_ok(name, nlen)) {
			r = pht_errf(err, PHT_ERR_INVALID, "%s: bad include name \"%.*s\": a "
			    "relative path of letters, digits, _ . - ending in .lua, without "
			    "\"..\" or hidden parts", where, (int)(nlen > 64 ? 64 : nlen), name);
			goto out;
		}
		if (strcmp(kw, "include") != 0) {
			/* the markers of an earlier assembly pass through */
			if ((r = put(st, line, llen, err)) != PHT_OK)
				goto out;
			continue;
		}
		memcpy(nm, name, nlen);
		nm[nlen] = '\0';
		if ((r = include(st, nm, where, err)) != PHT_OK)
			goto out;
	}
	if (len > 0 && text[len - 1] != '\n' && idx != 0)
		r = put(st, "\n", 1, err);
	else
		r = PHT_OK;
out:
	st->depth--;
	pht_buf_free(b);
	return r;
}

int
pht_train_assemble(const char *path, const char *libdir, size_t max,
    struct pht_buf **out, struct pht_err *err)
{
	struct asm_state st;
	char *dir = NULL, *libguess = NULL;
	size_t i;
	int r = PHT_ERR_NOMEM;

	*out = NULL;
	memset(&st, 0, sizeof(st));
	st.max = max;
	if ((dir = dir_of(path)) == NULL)
		goto nomem;
	if ((st.train_root = realpath(dir, NULL)) == NULL) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (libdir == NULL) {
		if ((libguess = pht_path_join(dir, "../lib")) == NULL)
			goto nomem;
		libdir = libguess;
	}
	st.lib_shown = libdir;
	st.lib_root = realpath(libdir, NULL);   /* NULL: reported when used */
	if ((st.files[0].real = realpath(path, NULL)) == NULL) {
		r = pht_errf(err, PHT_ERR_IO, "%s: %s", path, strerror(errno));
		goto done;
	}
	if ((st.files[0].name = strdup(path)) == NULL)
		goto nomem;
	st.nfiles = 1;
	if ((st.out = pht_buf_new(max)) == NULL)
		goto nomem;
	if ((r = assemble_file(&st, 0, err)) != PHT_OK)
		goto done;
	*out = st.out;
	st.out = NULL; /* transferred */
	r = PHT_OK;
	goto done;
nomem:
	r = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
done:
	for (i = 0; i < st.nfiles; i++) {
		free(st.files[i].real);
		free(st.files[i].name);
		free(st.files[i].from);
	}
	if (st.nfiles == 0)
		free(st.files[0].real);
	pht_buf_free(st.out);
	free(st.train_root);
	free(st.lib_root);
	free(libguess);
	free(dir);
	return r;
}
