/*
 * Configuration schemas: one YAML file per subtree, loaded side by side
 * into a schema set.  The format is in docs/config.md.
 *
 * A schema is a tree of nodes: containers (named groups), keyed lists
 * (entries addressed as list[KEY], each entry a container with one key
 * leaf) and typed leaves.  A set holds several files whose subtrees are
 * disjoint; refs may cross files and are resolved once all are loaded
 * (schema_set_link()).
 */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/change.h"
#include "config/path.h"
#include "util/diag.h"

#define SCHEMA_VALUE_MAX 65536 /* bytes of a string value */

enum {
        SCHEMA_E_INVALID = 1, /* a schema file was refused; the diag says where and why */
        SCHEMA_E_NO_NODE,     /* a path names nothing in the schema set */
        SCHEMA_E_VALUE,       /* a value does not fit its leaf */
};

enum schema_kind {
        SCHEMA_CONTAINER,
        SCHEMA_LIST,
        SCHEMA_LEAF,
};

enum schema_type {
        SCHEMA_STRING,
        SCHEMA_INT,
        SCHEMA_BOOL,
        SCHEMA_ENUM,
        SCHEMA_REF,
};

struct schema_file;

struct schema_node {
        char *name;                     /* owned; a subtree root holds the whole subtree path */
        enum schema_kind kind;
        struct schema_node *parent;     /* borrowed; NULL at a subtree root */
        struct schema_node **children;  /* owned, sorted by name; containers and lists */
        unsigned n_children;
        const struct schema_file *file; /* borrowed, where the node was declared */
        unsigned line, column;          /* of its declaration */

        struct schema_node *key;        /* lists: borrowed, the key leaf among children */

        enum schema_type type;          /* leaves, from here down */
        bool is_required;
        bool is_key;                    /* the key leaf of its list */
        bool has_default;
        bool has_range;                 /* int: min..max; string: length min..max bytes */
        bool has_pattern;
        struct cfg_value def;           /* if has_default; owned */
        int64_t min, max;
        char *pattern;                  /* owned, POSIX ERE source */
        regex_t re;                     /* compiled pattern, if has_pattern */
        char **values;                  /* enum: owned names */
        unsigned n_values;
        char *target;                   /* ref: owned path of a keyed list */
        const struct schema_node *target_list; /* ref: borrowed, set by schema_set_link() */
        unsigned target_line, target_column;
};

struct schema_file {
        char *name;               /* owned, the file name given at load */
        struct schema_node *root; /* owned container; root->name is the subtree path */
        unsigned n_subtree_segs;  /* segments of the subtree path */
        unsigned line, column;    /* of the subtree value */
};

struct schema_set {
        struct schema_file **files; /* owned */
        unsigned n_files;
        bool is_linked;             /* refs resolved since the last add */
};

#define SCHEMA_SET_INIT { 0 }

void schema_set_deinit(struct schema_set *s);
int schema_set_add(struct schema_set *s, const char *text, size_t len, const char *file, struct orb_diag *d);
int schema_set_add_file(struct schema_set *s, const char *filename, struct orb_diag *d);
int schema_set_link(struct schema_set *s, struct orb_diag *d);

/* What a path names: a node, and for a list whether one entry (list[KEY]) or the whole list. */
int schema_resolve(const struct schema_set *s, const struct path *p, const struct schema_node **out,
                   bool *is_entry, char *why, size_t n);
const struct schema_node *schema_child(const struct schema_node *n, const char *name, size_t len);

int schema_parse_value(const struct schema_node *leaf, const char *text, struct cfg_value *out, char *why,
                       size_t n);
int schema_check_value(const struct schema_node *leaf, const struct cfg_value *v, char *why, size_t n);
const char *schema_type_name(enum schema_type t);
char *schema_node_path(const struct schema_node *n, char *buf, size_t size);
