/*
 * YAML text to a small tree of nodes, for parsers of hand-written files
 * (service manifests, orb-config schemas).  See yamltree.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "util/cleanup.h"
#include "util/diag.h"

enum {
        YAMLTREE_E_INVALID = 1, /* the input was refused; the diag says where and why */
};

enum yamltree_kind {
        YAMLTREE_SCALAR,
        YAMLTREE_LIST,
        YAMLTREE_MAP,
};

struct yamltree_node {
        enum yamltree_kind kind;
        unsigned line, column;         /* 1-based, of the start mark */
        char *value;                   /* owned, NUL-terminated; YAMLTREE_SCALAR only */
        size_t len;                    /* of value */
        struct yamltree_node **items;  /* owned; list items, or key, value, key, value */
        unsigned n_items;
        unsigned n_alloc;
};

struct yamltree;

/*
 * How a parser words what the builder refuses.  Each pair is the text
 * before and after the quoted input: alias name, anchor name, tag, key.
 */
struct yamltree_wording {
        const char *alias[2];
        const char *anchor[2];
        const char *tag[2];
        const char *duplicate_key[2]; /* " (first at line L, column C)" follows */
};

/* What one parser accepts and how it says no; parsers keep one static copy. */
struct yamltree_rules {
        const char *document;          /* "manifest", in "too many values in one manifest" */
        const char *empty;             /* the message for a stream without a document */
        unsigned depth_max;            /* nesting levels of lists and mappings */
        unsigned items_max;            /* entries in one list or mapping */
        unsigned nodes_max;            /* values in one document */
        bool reader_error_shows_byte;  /* "invalid input: ... (byte 0xNN)" */
        bool (*key_is_plain)(const char *key, size_t len); /* shown unquoted in field paths */
        void (*on_event)(struct yamltree *t, const yaml_event_t *ev); /* sees each event; may be NULL */
        struct yamltree_wording wording;
};

/*
 * One parse: the input, where refusals go, and the field path of the node
 * at hand.  Parsers embed it and find themselves with container_of().
 */
struct yamltree {
        const struct yamltree_rules *rules; /* borrowed */
        const char *text;                   /* borrowed input, for reader error positions */
        size_t len;
        const char *source;                 /* borrowed, for diag->file */
        struct orb_diag *diag;              /* borrowed, may be NULL */
        char path[sizeof(((struct orb_diag *)0)->field)]; /* of the node at hand */
        size_t path_len;
        yaml_parser_t *yaml;                /* borrowed, while building */
        unsigned depth;                     /* while building */
        unsigned n_nodes;
};

#define YAMLTREE_INIT(rules_, text_, len_, source_, diag_)                                                     \
        { .rules = (rules_), .text = (text_), .len = (len_), .source = (source_), .diag = (diag_) }

int yamltree_build(struct yamltree *t, struct yamltree_node **out);
struct yamltree_node *yamltree_node_free(struct yamltree_node *n);
DEFINE_CLEANUP(struct yamltree_node *, yamltree_node_free)

__attribute__((format(printf, 2, 3))) size_t yamltree_path_push(struct yamltree *t, const char *fmt, ...);
size_t yamltree_path_push_key(struct yamltree *t, const char *key, size_t len);
size_t yamltree_path_push_index(struct yamltree *t, unsigned i);
void yamltree_path_pop(struct yamltree *t, size_t old);

__attribute__((format(printf, 4, 5))) int yamltree_fail_at(struct yamltree *t, unsigned line, unsigned column,
                                                           const char *fmt, ...);
__attribute__((format(printf, 3, 4))) int yamltree_fail(struct yamltree *t, const struct yamltree_node *n,
                                                        const char *fmt, ...);
