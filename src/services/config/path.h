/*
 * Configuration paths: `system.hostname`, `net.iface[eth0].mtu`.
 *
 * A path is dot-separated segments; a segment is a name ([a-z0-9_-]+),
 * optionally followed by a key in brackets that picks one entry of a keyed
 * list.  A key is any printable character but `]` (bytes 0x20..0x7e and
 * valid UTF-8), at least one.  The text form is canonical: there is no
 * quoting and no other spelling, so two paths are equal exactly when their
 * texts are, and byte order of texts (strcmp, SQLite's BINARY collation)
 * keeps every subtree contiguous (see path_subtree_ranges()).
 *
 * A parsed path borrows its text: segments point into it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/diag.h"

#define PATH_TEXT_MAX 1024 /* bytes of a path's text */
#define PATH_SEGS_MAX 32   /* segments of one path */

enum {
        PATH_E_INVALID = 1, /* bad syntax; the diag says where */
};

struct path_seg {
        const char *name; /* borrowed, into the text; not terminated */
        size_t name_len;
        const char *key;  /* borrowed, into the text, NULL without a key */
        size_t key_len;
        size_t end;       /* offset just past this segment in the text */
};

struct path {
        const char *text; /* borrowed */
        size_t len;
        unsigned n_segs;
        struct path_seg segs[PATH_SEGS_MAX];
};

int path_parse(const char *text, struct path *out, struct orb_diag *d);
bool path_is_valid(const char *text);
bool path_name_is_valid(const char *s, size_t len);
bool path_key_is_valid(const char *s, size_t len);
/* Length of the text of the first @n segments of @p (0 when n is 0). */
size_t path_prefix_len(const struct path *p, unsigned n);
/* "base[key]" into buf; false when it does not fit or the key is invalid. */
bool path_format_entry(char *buf, size_t n, const char *list, const char *key, size_t key_len);
/* Is @path @prefix itself or inside its subtree?  Both must be valid. */
bool path_has_prefix(const char *path, const char *prefix);
int path_compare(const char *a, const char *b);
/*
 * The two half-open ranges [lo, hi) of texts strictly inside the subtree of
 * @prefix: children "prefix." and list entries "prefix[".  Each bound has
 * room for PATH_TEXT_MAX + 2 bytes.
 */
void path_subtree_ranges(const char *prefix, char lo[2][PATH_TEXT_MAX + 2], char hi[2][PATH_TEXT_MAX + 2]);
