/* pht_train_assemble.h — a train file and its --#include lines assembled into the one text that is signed and run. */
#ifndef PHT_TRAIN_ASSEMBLE_H
#define PHT_TRAIN_ASSEMBLE_H

#include <stddef.h>

struct pht_buf;
struct pht_err;

/* Nesting depth of includes (the train itself is depth 0). */
#define PHT_TRAIN_INCLUDE_DEPTH_MAX 8
/* Files in one assembly, the train itself included. */
#define PHT_TRAIN_INCLUDE_FILES_MAX 64

/*
 * Reads the train at path and replaces each directive line
 *
 *     --#include "NAME"
 *
 * by the text of the file NAME between the marker lines
 * `--#begin "NAME"` and `--#end "NAME"` (the markers are Lua comments, so
 * the result is one self-contained Lua chunk; assembling it again gives the
 * same text). NAME is a relative path of components [A-Za-z0-9_.-] (no
 * empty, ".", ".." or hidden component) ending in ".lua". "lib/REST" is
 * REST in the train library folder libdir (NULL: the folder "lib" beside
 * the train's folder, i.e. DIR/../lib for a train in DIR); any other NAME
 * is under the folder of the top-level train. The resolved file must lie
 * under that root after symbolic links are followed. Included files may
 * include others (at most PHT_TRAIN_INCLUDE_DEPTH_MAX deep); every file is
 * included at most once (a second include of a file, or a cycle, is an
 * error), at most PHT_TRAIN_INCLUDE_FILES_MAX files in all. Any other line
 * starting with "--#" is an error. A train without directives comes back
 * byte for byte.
 *
 * On success *out is a new buffer (the assembled text, at most max bytes;
 * free with pht_buf_free). Errors, with the detail naming the file and line
 * of the directive ("cox.lua:12: lib/nosuch.lua: not found in the train
 * library /x/trains/lib"): PHT_ERR_IO (the train or an included file
 * cannot be read), PHT_ERR_INVALID (a bad directive or name, an escape from
 * the root, a cycle, a file included twice, too deep, too many files),
 * PHT_ERR_TOO_LARGE (the assembled text exceeds max), PHT_ERR_NOMEM.
 */
int pht_train_assemble(const char *path, const char *libdir, size_t max,
    struct pht_buf **out, struct pht_err *err);

#endif
