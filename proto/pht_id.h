/* pht_id.h — the one rule for identifiers that travel on the wire and name files. */
#ifndef PHT_ID_H
#define PHT_ID_H

#include <stddef.h>

#include "pht_limits.h"

/*
 * An identifier is 1..max characters of [A-Za-z0-9_.-] and not "." or
 * "..": safe as a URL path segment and as a file name in a directory the
 * station owns. This is what PROTOCOL-node.md allows for a train id on the
 * wire, so every component accepts the ids the node hands out (node train
 * ids, permit ids, queue and seen ids, station and dataset names).
 */

/* 1 if the n bytes at s are an identifier of at most max characters, else 0. */
int pht_ident_ok(const char *s, size_t n, size_t max);

/* 1 if the NUL-terminated s (NULL gives 0) is an id of 1..PHT_ID_MAX characters. */
int pht_id_ok(const char *s);

/* 1 if the NUL-terminated s (NULL gives 0) is a name of 1..PHT_NAME_MAX characters. */
int pht_name_ok(const char *s);

#endif
