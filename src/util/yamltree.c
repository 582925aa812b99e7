/*
 * YAML tree: the first pass of Orbital's parsers of hand-written YAML
 * (supervisor/manifest.c, config/schema.c).
 *
 * libyaml's event parser is driven to a small tree of nodes (scalar,
 * list, mapping), each with the line and column of its start mark.  The
 * parsers then walk that tree with their own tables; what they share is
 * here: the tree, the refusals, and the field path of the node at hand.
 *
 * The builder refuses what YAML allows but our files do not use:
 * aliases, anchors, tags, non-text keys, duplicate keys, a second
 * document, NUL bytes in a value, and more than the parser's limits of
 * nesting, entries in one collection and values in all (struct
 * yamltree_rules), so a hostile file costs bounded memory and stack.
 *
 * Every scalar is kept as text: YAML 1.1's implicit typing (`no` as
 * false, `010` as octal) never applies, each parser converts its own.
 *
 * Every refusal fills the diag with the source name, the line and column
 * of the offending node, the dotted field path ("backoff.initial",
 * "command[2]") and a message; the rules choose the wording of the
 * messages that differ between parsers.  Input shown in messages goes
 * through diag_quote().  Refusals return YAMLTREE_E_INVALID; libyaml's
 * own allocation failures become -ENOMEM.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/yamltree.h"

/**
 * yamltree_node_free() - release a node and everything below it.
 * @n: node, or NULL
 *
 * Return: NULL.
 */
struct yamltree_node *yamltree_node_free(struct yamltree_node *n)
{
        if (!n)
                return NULL;
        for (unsigned i = 0; i < n->n_items; i++)
                yamltree_node_free(n->items[i]);
        free(n->items);
        free(n->value);
        free(n);
        return NULL;
}

static void event_deletep(yaml_event_t *ev)
{
        yaml_event_delete(ev);
}

/* ------------------------------------------------------------------------
 * Field paths and refusals
 */

/**
 * yamltree_path_push() - append formatted text to the field path.
 * @t: the parse
 * @fmt: printf format; the text is cut where the path is full
 *
 * Return: the old length, for yamltree_path_pop().
 */
size_t yamltree_path_push(struct yamltree *t, const char *fmt, ...)
{
        size_t old = t->path_len, room = sizeof(t->path) - old;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vsnprintf(t->path + old, room, fmt, ap);
        va_end(ap);
        if (r > 0)
                t->path_len = (size_t)r < room ? old + (size_t)r : sizeof(t->path) - 1;
        return old;
}

/**
 * yamltree_path_push_key() - append ".key" ("key" at the top) to the field path.
 * @t: the parse
 * @key, @len: the key; quoted unless the rules' key_is_plain() accepts it
 *
 * Return: the old length, for yamltree_path_pop().
 */
size_t yamltree_path_push_key(struct yamltree *t, const char *key, size_t len)
{
        const char *dot = t->path_len ? "." : "";
        char q[DIAG_QUOTE_SIZE];

        if (t->rules->key_is_plain(key, len))
                return yamltree_path_push(t, "%s%.*s", dot, (int)len, key);
        return yamltree_path_push(t, "%s%s", dot, diag_quote(q, sizeof(q), key, len));
}

/**
 * yamltree_path_push_index() - append "[i]" to the field path.
 * @t: the parse
 * @i: the index of the list item at hand
 *
 * Return: the old length, for yamltree_path_pop().
 */
size_t yamltree_path_push_index(struct yamltree *t, unsigned i)
{
        return yamltree_path_push(t, "[%u]", i);
}

/**
 * yamltree_path_pop() - cut the field path back.
 * @t: the parse
 * @old: what the matching push returned
 */
void yamltree_path_pop(struct yamltree *t, size_t old)
{
        t->path_len = old;
        t->path[old] = '\0';
}

__attribute__((format(printf, 4, 0))) static int vfail_at(struct yamltree *t, unsigned line, unsigned column,
                                                          const char *fmt, va_list ap)
{
        char msg[sizeof(((struct orb_diag *)0)->message)];

        vsnprintf(msg, sizeof(msg), fmt, ap);
        diag_set_file(t->diag, t->source);
        diag_set(t->diag, line, column, t->path, "%s", msg);
        return YAMLTREE_E_INVALID;
}

/**
 * yamltree_fail_at() - refuse the input at a position.
 * @t: the parse; the diag names its source and current field path
 * @line, @column: 1-based, or 0 where the refusal is about no one place
 * @fmt: the message, "expected X, found Y"
 *
 * Return: YAMLTREE_E_INVALID.
 */
int yamltree_fail_at(struct yamltree *t, unsigned line, unsigned column, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail_at(t, line, column, fmt, ap);
        va_end(ap);
        return r;
}

/**
 * yamltree_fail() - refuse node @n: the diag points at its start.
 * @t: the parse; the diag names its source and current field path
 * @n: the offending node
 * @fmt: the message, "expected X, found Y"
 *
 * Return: YAMLTREE_E_INVALID.
 */
int yamltree_fail(struct yamltree *t, const struct yamltree_node *n, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail_at(t, n->line, n->column, fmt, ap);
        va_end(ap);
        return r;
}

/* Refuses with the rules' wording around the quoted @s. */
static int fail_worded(struct yamltree *t, unsigned line, unsigned column, const char *const words[2],
                       const yaml_char_t *s)
{
        char q[DIAG_QUOTE_SIZE];
        const char *text = (const char *)s;

        return yamltree_fail_at(t, line, column, "%s%s%s", words[0], diag_quote(q, sizeof(q), text, strlen(text)),
                                words[1]);
}

/* ------------------------------------------------------------------------
 * Events
 */

static unsigned mark_line(const yaml_mark_t *m)
{
        return (unsigned)m->line + 1;
}

static unsigned mark_column(const yaml_mark_t *m)
{
        return (unsigned)m->column + 1;
}

/*
 * 1-based line and column of byte @offset of the input, for reader errors
 * (which libyaml reports as an offset).  Lines end as libyaml ends them
 * before the bad byte: CR LF, CR or LF; the column counts bytes.
 */
static void offset_position(const struct yamltree *t, size_t offset, unsigned *line, unsigned *column)
{
        size_t start = 0;

        *line = 1;
        for (size_t i = 0; i < offset && i < t->len; i++) {
                if (t->text[i] == '\r' && i + 1 < offset && t->text[i + 1] == '\n')
                        i++;
                if (t->text[i] == '\r' || t->text[i] == '\n') {
                        (*line)++;
                        start = i + 1;
                }
        }
        *column = (unsigned)(offset - start + 1);
}

static int reader_fail(struct yamltree *t, const yaml_parser_t *y, const char *problem)
{
        unsigned line, column;

        offset_position(t, y->problem_offset, &line, &column);
        if (t->rules->reader_error_shows_byte && y->problem_value != -1)
                return yamltree_fail_at(t, line, column, "invalid input: %s (byte 0x%02x)", problem,
                                        (unsigned)y->problem_value & 0xffu);
        return yamltree_fail_at(t, line, column, "invalid input: %s", problem);
}

/* Turns libyaml's error state into a diag. */
static int yaml_fail(struct yamltree *t)
{
        const yaml_parser_t *y = t->yaml;
        const char *problem = y->problem ? y->problem : "unknown error";
        unsigned line = mark_line(&y->problem_mark), column = mark_column(&y->problem_mark);

        if (y->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        yamltree_path_pop(t, 0);
        if (y->error == YAML_READER_ERROR)
                return reader_fail(t, y, problem);
        if (y->context)
                return yamltree_fail_at(t, line, column, "invalid YAML: %s (%s at line %zu, column %zu)", problem,
                                        y->context, y->context_mark.line + 1, y->context_mark.column + 1);
        return yamltree_fail_at(t, line, column, "invalid YAML: %s", problem);
}

static int next_event(struct yamltree *t, yaml_event_t *ev)
{
        if (!yaml_parser_parse(t->yaml, ev))
                return yaml_fail(t);
        if (t->rules->on_event)
                t->rules->on_event(t, ev);
        return 0;
}

/* Reads one event that carries no node: returns its type and position. */
static int skip_event(struct yamltree *t, yaml_event_type_t *type, unsigned *line, unsigned *column)
{
        _cleanup_(event_deletep) yaml_event_t ev = { 0 };
        int r = next_event(t, &ev);

        if (r)
                return r;
        *type = ev.type;
        *line = mark_line(&ev.start_mark);
        *column = mark_column(&ev.start_mark);
        return 0;
}

/* Refuses the YAML features our files do not use. */
static int check_event(struct yamltree *t, const yaml_event_t *ev)
{
        const struct yamltree_wording *w = &t->rules->wording;
        unsigned line = mark_line(&ev->start_mark), column = mark_column(&ev->start_mark);
        const yaml_char_t *anchor = NULL, *tag = NULL;

        switch (ev->type) {
        case YAML_ALIAS_EVENT:
                return fail_worded(t, line, column, w->alias, ev->data.alias.anchor);
        case YAML_SCALAR_EVENT:
                anchor = ev->data.scalar.anchor, tag = ev->data.scalar.tag;
                break;
        case YAML_SEQUENCE_START_EVENT:
                anchor = ev->data.sequence_start.anchor, tag = ev->data.sequence_start.tag;
                break;
        case YAML_MAPPING_START_EVENT:
                anchor = ev->data.mapping_start.anchor, tag = ev->data.mapping_start.tag;
                break;
        default:
                break;
        }
        if (anchor)
                return fail_worded(t, line, column, w->anchor, anchor);
        if (tag)
                return fail_worded(t, line, column, w->tag, tag);
        return 0;
}

/* ------------------------------------------------------------------------
 * Nodes
 */

static int node_new(struct yamltree *t, enum yamltree_kind kind, const yaml_event_t *ev,
                    struct yamltree_node **out)
{
        unsigned line = mark_line(&ev->start_mark), column = mark_column(&ev->start_mark);
        struct yamltree_node *n;

        if (++t->n_nodes > t->rules->nodes_max)
                return yamltree_fail_at(t, line, column, "too many values in one %s (max %u)", t->rules->document,
                                        t->rules->nodes_max);
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->kind = kind;
        n->line = line;
        n->column = column;
        *out = n;
        return 0;
}

static int node_append(struct yamltree_node *n, struct yamltree_node *item)
{
        if (n->n_items == n->n_alloc) {
                unsigned a = n->n_alloc ? 2 * n->n_alloc : 8;
                struct yamltree_node **items = reallocarray(n->items, a, sizeof(*items));

                if (!items)
                        return -ENOMEM;
                n->items = items;
                n->n_alloc = a;
        }
        n->items[n->n_items++] = item;
        return 0;
}

static int build_scalar(struct yamltree *t, const yaml_event_t *ev, struct yamltree_node **out)
{
        _cleanup_(yamltree_node_freep) struct yamltree_node *n = NULL;
        size_t len = ev->data.scalar.length;
        int r;

        r = node_new(t, YAMLTREE_SCALAR, ev, &n);
        if (r)
                return r;
        if (memchr(ev->data.scalar.value, 0, len))
                return yamltree_fail(t, n, "expected text, found a value with a NUL character");
        n->value = malloc(len + 1);
        if (!n->value)
                return -ENOMEM;
        memcpy(n->value, ev->data.scalar.value, len);
        n->value[len] = '\0';
        n->len = len;
        *out = take_ptr(n);
        return 0;
}

static int build_node(struct yamltree *t, const yaml_event_t *ev, struct yamltree_node **out);

static int collection_new(struct yamltree *t, enum yamltree_kind kind, const yaml_event_t *ev,
                          struct yamltree_node **out)
{
        if (t->depth >= t->rules->depth_max)
                return yamltree_fail_at(t, mark_line(&ev->start_mark), mark_column(&ev->start_mark),
                                        "values nested too deeply (max %u levels)", t->rules->depth_max);
        t->depth++;
        return node_new(t, kind, ev, out);
}

/* Reads one item (or one value) and appends it to @n; @end at the end. */
static int build_item(struct yamltree *t, struct yamltree_node *n, yaml_event_type_t end_type, bool *end)
{
        _cleanup_(event_deletep) yaml_event_t ev = { 0 };
        _cleanup_(yamltree_node_freep) struct yamltree_node *item = NULL;
        int r;

        r = next_event(t, &ev);
        if (r)
                return r;
        *end = ev.type == end_type;
        if (*end)
                return 0;
        r = build_node(t, &ev, &item);
        if (r)
                return r;
        r = node_append(n, item);
        if (r)
                return r;
        item = NULL;
        return 0;
}

static int build_list(struct yamltree *t, const yaml_event_t *start, struct yamltree_node **out)
{
        _cleanup_(yamltree_node_freep) struct yamltree_node *n = NULL;
        unsigned items_max = t->rules->items_max;
        bool end = false;
        int r;

        r = collection_new(t, YAMLTREE_LIST, start, &n);
        if (r)
                return r;
        while (!end) {
                size_t old = yamltree_path_push_index(t, n->n_items);

                r = build_item(t, n, YAML_SEQUENCE_END_EVENT, &end);
                yamltree_path_pop(t, old);
                if (r)
                        return r;
                if (n->n_items > items_max)
                        return yamltree_fail(t, n->items[items_max], "too many entries in one list (max %u)",
                                             items_max);
        }
        t->depth--;
        *out = take_ptr(n);
        return 0;
}

/* Refuses @key if @map has it already. */
static int check_duplicate_key(struct yamltree *t, const struct yamltree_node *map,
                               const struct yamltree_node *key)
{
        const char *const *words = t->rules->wording.duplicate_key;
        char q[DIAG_QUOTE_SIZE];

        for (unsigned i = 0; i < map->n_items; i += 2) {
                const struct yamltree_node *k = map->items[i];

                if (k->len == key->len && !memcmp(k->value, key->value, k->len))
                        return yamltree_fail(t, key, "%s%s%s (first at line %u, column %u)", words[0],
                                             diag_quote(q, sizeof(q), key->value, key->len), words[1], k->line,
                                             k->column);
        }
        return 0;
}

/* Reads a key into @map: text only, and not seen before in @map. */
static int build_key(struct yamltree *t, struct yamltree_node *map, bool *end)
{
        _cleanup_(event_deletep) yaml_event_t ev = { 0 };
        _cleanup_(yamltree_node_freep) struct yamltree_node *key = NULL;
        int r;

        r = next_event(t, &ev);
        if (r)
                return r;
        *end = ev.type == YAML_MAPPING_END_EVENT;
        if (*end)
                return 0;
        r = check_event(t, &ev);
        if (r)
                return r;
        if (ev.type != YAML_SCALAR_EVENT)
                return yamltree_fail_at(t, mark_line(&ev.start_mark), mark_column(&ev.start_mark),
                                        "expected a text key, found %s",
                                        ev.type == YAML_SEQUENCE_START_EVENT ? "a list" : "a mapping");
        r = build_scalar(t, &ev, &key);
        if (!r)
                r = check_duplicate_key(t, map, key);
        if (!r)
                r = node_append(map, key);
        if (r)
                return r;
        key = NULL;
        return 0;
}

static int build_map(struct yamltree *t, const yaml_event_t *start, struct yamltree_node **out)
{
        _cleanup_(yamltree_node_freep) struct yamltree_node *n = NULL;
        bool end = false;
        int r;

        r = collection_new(t, YAMLTREE_MAP, start, &n);
        if (r)
                return r;
        for (;;) {
                const struct yamltree_node *key;
                size_t old;

                r = build_key(t, n, &end);
                if (r)
                        return r;
                if (end)
                        break;
                key = n->items[n->n_items - 1];
                if ((n->n_items + 1) / 2 > t->rules->items_max)
                        return yamltree_fail(t, key, "too many keys in one mapping (max %u)", t->rules->items_max);
                old = yamltree_path_push_key(t, key->value, key->len);
                r = build_item(t, n, YAML_MAPPING_END_EVENT, &end);
                yamltree_path_pop(t, old);
                if (r)
                        return r;
                if (end) /* libyaml never ends a mapping between key and value */
                        return -EPROTO;
        }
        t->depth--;
        *out = take_ptr(n);
        return 0;
}

static int build_node(struct yamltree *t, const yaml_event_t *ev, struct yamltree_node **out)
{
        int r = check_event(t, ev);

        if (r)
                return r;
        switch (ev->type) {
        case YAML_SCALAR_EVENT:
                return build_scalar(t, ev, out);
        case YAML_SEQUENCE_START_EVENT:
                return build_list(t, ev, out);
        case YAML_MAPPING_START_EVENT:
                return build_map(t, ev, out);
        default:
                /* libyaml puts only node events where a node belongs. */
                return -EPROTO;
        }
}

/* The one document of the stream, as a tree. */
static int build_document(struct yamltree *t, struct yamltree_node **out)
{
        _cleanup_(event_deletep) yaml_event_t ev = { 0 };
        _cleanup_(yamltree_node_freep) struct yamltree_node *root = NULL;
        yaml_event_type_t type;
        unsigned line, column;
        int r;

        r = skip_event(t, &type, &line, &column); /* stream start */
        if (!r)
                r = skip_event(t, &type, &line, &column);
        if (r)
                return r;
        if (type == YAML_STREAM_END_EVENT)
                return yamltree_fail_at(t, 1, 1, "%s", t->rules->empty);
        r = next_event(t, &ev);
        if (!r)
                r = build_node(t, &ev, &root);
        if (!r)
                r = skip_event(t, &type, &line, &column); /* document end */
        if (!r)
                r = skip_event(t, &type, &line, &column);
        if (r)
                return r;
        if (type != YAML_STREAM_END_EVENT)
                return yamltree_fail_at(t, line, column, "expected one YAML document, found a second one");
        *out = take_ptr(root);
        return 0;
}

/**
 * yamltree_build() - parse @t's input into a tree.
 * @t: the parse, from YAMLTREE_INIT(); its path is empty again on success
 * @out: on success, the root node, owned by the caller
 *
 * The input is read as UTF-8 whatever its byte order mark says.
 *
 * Return: 0, YAMLTREE_E_INVALID (diag filled), -ENOMEM, -EPROTO (libyaml
 * broke its own event grammar).
 */
int yamltree_build(struct yamltree *t, struct yamltree_node **out)
{
        yaml_parser_t yaml;
        int r;

        if (!yaml_parser_initialize(&yaml))
                return -ENOMEM;
        yaml_parser_set_input_string(&yaml, (const unsigned char *)t->text, t->len);
        yaml_parser_set_encoding(&yaml, YAML_UTF8_ENCODING);
        t->yaml = &yaml;
        r = build_document(t, out);
        t->yaml = NULL;
        yaml_parser_delete(&yaml);
        return r;
}
