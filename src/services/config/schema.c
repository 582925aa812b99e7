/*
 * Schema parser and schema sets: YAML bytes in, a checked tree of
 * schema_node out; then lookups of paths and checks of values.
 *
 * Two passes, as in the manifest parser:
 *
 *  1. build: util/yamltree.c turns libyaml's events into a small tree of
 *     YAML nodes (scalar, list, mapping), each with the line and column of
 *     its start mark.  Refused here: aliases, anchors, tags, non-text keys,
 *     duplicate keys, a second document, NUL bytes, more than DEPTH_MAX
 *     levels, more than ITEMS_MAX entries in one collection or NODES_MAX
 *     values in all.
 *  2. walk: the top mapping (subtree, nodes), then each node definition.
 *     A definition with `list:` is a keyed list, with `nodes:` a
 *     container, with `type:` a leaf; each kind has its table of allowed
 *     keys and an unknown key is refused with that list.
 *
 * Every refusal fills the caller's orb_diag: file, line, column, the
 * dotted YAML key path ("nodes.iface.nodes.mtu.range") and "expected X,
 * found Y".  Input values shown in messages go through diag_quote().
 *
 * Patterns are POSIX extended regular expressions compiled with regcomp()
 * and matched with regexec(): unanchored unless the pattern says ^...$.
 * glibc expands counted repetitions at compile time and slows down badly
 * on runs of repetitions and on back-references, so pattern_refusal()
 * turns those away before regcomp() sees them: a hostile schema can
 * exhaust neither memory nor time.
 *
 * The set: files are kept in load order; subtrees must be disjoint (no
 * subtree is inside another's).  schema_set_link() resolves each ref's
 * target to a keyed list that is not itself inside a list, so that a
 * ref's value (an entry key) names exactly one entry: TARGET[value].
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/schema.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/utf8.h"
#include "util/yamltree.h"

_Static_assert((int)SCHEMA_E_INVALID == (int)YAMLTREE_E_INVALID, "a refusal of the YAML is a refusal of the schema");

#define DEPTH_MAX 64             /* YAML nesting; a config level takes two */
#define ITEMS_MAX 4096u          /* entries in one list or mapping */
#define NODES_MAX 65536u         /* YAML values in one file */
#define PATTERN_MAX 512          /* bytes of a pattern */
#define PATTERN_WEIGHT_MAX 1000 /* atoms after expanding counted repetitions */
#define SCHEMA_FILE_MAX (4u << 20)

/* ------------------------------------------------------------------------
 * The YAML tree (util/yamltree.c) and the field path
 */

struct parser {
        struct yamltree tree;     /* input, diag and field path */
        struct schema_file *file; /* the file being built */
};

#define fail(p, n, ...) yamltree_fail(&(p)->tree, (n), __VA_ARGS__)
#define fail_at(p, line, column, ...) yamltree_fail_at(&(p)->tree, (line), (column), __VA_ARGS__)
/* Appends ".key" (or "key" at the top) to the field path; returns the old length. */
#define path_push(p, key, len) yamltree_path_push_key(&(p)->tree, (key), (len))
#define path_push_index(p, i) yamltree_path_push_index(&(p)->tree, (i))
#define path_pop(p, old) yamltree_path_pop(&(p)->tree, (old))

/* Keys shown in field paths as they are; anything else is quoted. */
static bool key_is_plain(const char *key, size_t len)
{
        return path_name_is_valid(key, len) || (len < 32 && path_key_is_valid(key, len) && !memchr(key, ' ', len));
}

static const struct yamltree_rules schema_yaml_rules = {
        .document = "schema",
        .empty = "empty schema: expected a mapping with 'subtree' and 'nodes'",
        .depth_max = DEPTH_MAX,
        .items_max = ITEMS_MAX,
        .nodes_max = NODES_MAX,
        .key_is_plain = key_is_plain,
        .wording = {
                .alias = { "expected a value, found alias ", " (aliases are not supported)" },
                .anchor = { "expected a plain value, found anchor ", " (anchors are not supported)" },
                .tag = { "expected a plain value, found tag ", " (tags are not supported)" },
                .duplicate_key = { "expected each key once, found ", " again" },
        },
};

/* ------------------------------------------------------------------------
 * Schema nodes
 */

static struct schema_node *snode_free(struct schema_node *n)
{
        if (!n)
                return NULL;
        for (unsigned i = 0; i < n->n_children; i++)
                snode_free(n->children[i]);
        free(n->children);
        free(n->name);
        if (n->has_default)
                value_deinit(&n->def);
        if (n->has_pattern)
                regfree(&n->re);
        free(n->pattern);
        for (unsigned i = 0; i < n->n_values; i++)
                free(n->values[i]);
        free(n->values);
        free(n->target);
        free(n);
        return NULL;
}

DEFINE_CLEANUP(struct schema_node *, snode_free)

static struct schema_file *file_free(struct schema_file *f)
{
        if (!f)
                return NULL;
        snode_free(f->root);
        free(f->name);
        free(f);
        return NULL;
}

DEFINE_CLEANUP(struct schema_file *, file_free)

static int child_cmp(const void *a, const void *b)
{
        return strcmp((*(struct schema_node *const *)a)->name, (*(struct schema_node *const *)b)->name);
}

const struct schema_node *schema_child(const struct schema_node *n, const char *name, size_t len)
{
        size_t lo = 0, hi = n->n_children;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                const char *c = n->children[mid]->name;
                int cmp = strncmp(c, name, len);

                if (!cmp)
                        cmp = c[len] ? 1 : 0;
                if (!cmp)
                        return n->children[mid];
                if (cmp < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/**
 * schema_node_path() - where a node sits: "net.iface.mtu" (lists without keys).
 *
 * Return: @buf.
 */
char *schema_node_path(const struct schema_node *n, char *buf, size_t size)
{
        const struct schema_node *chain[PATH_SEGS_MAX + 1];
        unsigned k = 0;
        size_t pos = 0;

        buf[0] = '\0';
        for (; n && k < ARRAY_SIZE(chain); n = n->parent)
                chain[k++] = n;
        while (k--)
                buf_appendf(buf, size, &pos, "%s%s", pos ? "." : "", chain[k]->name);
        return buf;
}

const char *schema_type_name(enum schema_type t)
{
        static const char *const names[] = { "string", "int", "bool", "enum", "ref" };

        return (unsigned)t < ARRAY_SIZE(names) ? names[t] : "unknown";
}

/* ------------------------------------------------------------------------
 * Values
 */

static bool parse_int(const char *s, int64_t *out)
{
        bool neg = *s == '-';
        uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

        if (neg)
                s++;
        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                if (v > (lim - (uint64_t)(*s - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *out = neg ? (int64_t)(0 - v) : (int64_t)v;
        return true;
}

/**
 * schema_parse_value() - text to a value of @leaf's type (syntax only).
 * @leaf: a leaf
 * @text: what a person typed: "1500", "true", "eth0"
 * @out: the value; owns its text
 * @why, @n: the reason on refusal
 *
 * Ranges, patterns, enum names and ref targets are schema_check_value()'s.
 *
 * Return: 0, SCHEMA_E_VALUE, -ENOMEM.
 */
int schema_parse_value(const struct schema_node *leaf, const char *text, struct cfg_value *out, char *why, size_t n)
{
        char q[DIAG_QUOTE_SIZE];

        *out = (struct cfg_value)CFG_VALUE_INIT;
        switch (leaf->type) {
        case SCHEMA_INT:
                out->kind = CFG_KIND_INT;
                if (!parse_int(text, &out->i)) {
                        snprintf(why, n, "expected a 64-bit integer, found %s",
                                 diag_quote(q, sizeof(q), text, strlen(text)));
                        return SCHEMA_E_VALUE;
                }
                return 0;
        case SCHEMA_BOOL:
                out->kind = CFG_KIND_BOOL;
                if (strcmp(text, "true") && strcmp(text, "false")) {
                        snprintf(why, n, "expected true or false, found %s",
                                 diag_quote(q, sizeof(q), text, strlen(text)));
                        return SCHEMA_E_VALUE;
                }
                out->i = !strcmp(text, "true");
                return 0;
        default:
                out->s = strdup(text);
                return out->s ? 0 : -ENOMEM;
        }
}

static int check_text(const struct schema_node *leaf, const char *s, char *why, size_t n)
{
        size_t len = strlen(s);
        char q[DIAG_QUOTE_SIZE];

        if (len > SCHEMA_VALUE_MAX || !utf8_is_valid(s, len)) {
                snprintf(why, n, "expected UTF-8 text of at most %d bytes", SCHEMA_VALUE_MAX);
                return SCHEMA_E_VALUE;
        }
        if (leaf->type == SCHEMA_STRING && leaf->has_range && ((int64_t)len < leaf->min || (int64_t)len > leaf->max)) {
                snprintf(why, n, "expected %" PRId64 " to %" PRId64 " bytes, found %zu in %s", leaf->min, leaf->max,
                         len, diag_quote(q, sizeof(q), s, len));
                return SCHEMA_E_VALUE;
        }
        if (leaf->has_pattern && regexec(&leaf->re, s, 0, NULL, 0)) {
                char qp[DIAG_QUOTE_SIZE];

                snprintf(why, n, "expected text matching %s, found %s",
                         diag_quote(qp, sizeof(qp), leaf->pattern, strlen(leaf->pattern)), diag_quote(q, sizeof(q), s, len));
                return SCHEMA_E_VALUE;
        }
        if (leaf->type == SCHEMA_ENUM) {
                size_t pos = 0;

                for (unsigned i = 0; i < leaf->n_values; i++)
                        if (!strcmp(leaf->values[i], s))
                                return 0;
                buf_appendf(why, n, &pos, "expected one of ");
                for (unsigned i = 0; i < leaf->n_values; i++)
                        buf_appendf(why, n, &pos, "%s%s", i ? ", " : "", leaf->values[i]);
                buf_appendf(why, n, &pos, "; found %s", diag_quote(q, sizeof(q), s, len));
                return SCHEMA_E_VALUE;
        }
        if (leaf->type == SCHEMA_REF && !path_key_is_valid(s, len)) {
                snprintf(why, n, "expected the key of an entry of %s, found %s", leaf->target,
                         diag_quote(q, sizeof(q), s, len));
                return SCHEMA_E_VALUE;
        }
        return 0;
}

/**
 * schema_check_value() - does @v fit @leaf: kind, range, length, pattern, enum?
 * @leaf: a leaf
 * @v: the value
 * @why, @n: the reason on refusal ("expected 68 to 9000, found 9001")
 *
 * A ref's value must be a valid key; that the entry exists is the
 * validator's business.
 *
 * Return: 0 or SCHEMA_E_VALUE.
 */
int schema_check_value(const struct schema_node *leaf, const struct cfg_value *v, char *why, size_t n)
{
        enum cfg_kind want = leaf->type == SCHEMA_INT ? CFG_KIND_INT
                             : leaf->type == SCHEMA_BOOL ? CFG_KIND_BOOL
                                                         : CFG_KIND_TEXT;

        if (v->kind != want) {
                snprintf(why, n, "expected a value of type %s", schema_type_name(leaf->type));
                return SCHEMA_E_VALUE;
        }
        if (want == CFG_KIND_TEXT)
                return check_text(leaf, v->s ? v->s : "", why, n);
        if (want == CFG_KIND_INT && leaf->has_range && (v->i < leaf->min || v->i > leaf->max)) {
                snprintf(why, n, "expected %" PRId64 " to %" PRId64 ", found %" PRId64, leaf->min, leaf->max, v->i);
                return SCHEMA_E_VALUE;
        }
        return 0;
}

/* ------------------------------------------------------------------------
 * Walking definitions
 */

static const struct yamltree_node *map_get(const struct yamltree_node *map, const char *key)
{
        for (unsigned i = 0; i + 1 < map->n_items; i += 2)
                if (!strcmp(map->items[i]->value, key))
                        return map->items[i + 1];
        return NULL;
}

static const char *kind_name(const struct yamltree_node *n)
{
        return n->kind == YAMLTREE_SCALAR ? "text" : n->kind == YAMLTREE_LIST ? "a list" : "a mapping";
}

/* Refuses keys of @map that are not in @allowed (NULL-terminated). */
static int check_keys(struct parser *p, const struct yamltree_node *map, const char *const *allowed, const char *what)
{
        char q[DIAG_QUOTE_SIZE], list[256];

        for (unsigned i = 0; i < map->n_items; i += 2) {
                const struct yamltree_node *k = map->items[i];
                bool ok = false;
                size_t pos = 0;

                for (const char *const *a = allowed; *a && !ok; a++)
                        ok = !strcmp(*a, k->value);
                if (ok)
                        continue;
                list[0] = '\0';
                for (const char *const *a = allowed; *a; a++)
                        buf_appendf(list, sizeof(list), &pos, "%s%s", a == allowed ? "" : ", ", *a);
                return fail(p, k, "expected one of the keys of %s (%s), found %s", what, list,
                            diag_quote(q, sizeof(q), k->value, k->len));
        }
        return 0;
}

static int want_scalar(struct parser *p, const struct yamltree_node *n, const char *what)
{
        if (n->kind != YAMLTREE_SCALAR)
                return fail(p, n, "expected %s, found %s", what, kind_name(n));
        return 0;
}

static int parse_bool_field(struct parser *p, const struct yamltree_node *n, bool *out)
{
        char q[DIAG_QUOTE_SIZE];
        int r = want_scalar(p, n, "true or false");

        if (r)
                return r;
        if (strcmp(n->value, "true") && strcmp(n->value, "false"))
                return fail(p, n, "expected true or false, found %s", diag_quote(q, sizeof(q), n->value, n->len));
        *out = !strcmp(n->value, "true");
        return 0;
}

/* [min, max] of integers, min <= max, both >= @floor. */
static int parse_range(struct parser *p, const struct yamltree_node *n, int64_t floor, int64_t *min, int64_t *max)
{
        char q[DIAG_QUOTE_SIZE];
        int64_t v[2];

        if (n->kind != YAMLTREE_LIST || n->n_items != 2)
                return fail(p, n, "expected [MIN, MAX], found %s",
                            n->kind == YAMLTREE_LIST ? "a list of other than 2 items" : kind_name(n));
        for (int i = 0; i < 2; i++) {
                const struct yamltree_node *it = n->items[i];

                if (it->kind != YAMLTREE_SCALAR || !parse_int(it->value, &v[i]))
                        return fail(p, it, "expected a 64-bit integer, found %s",
                                    it->kind == YAMLTREE_SCALAR ? diag_quote(q, sizeof(q), it->value, it->len)
                                                         : kind_name(it));
                if (v[i] < floor)
                        return fail(p, it, "expected at least %" PRId64 ", found %" PRId64, floor, v[i]);
        }
        if (v[0] > v[1])
                return fail(p, n, "expected MIN <= MAX, found %" PRId64 " > %" PRId64, v[0], v[1]);
        *min = v[0];
        *max = v[1];
        return 0;
}

/* Index of the ']' closing the bracket expression opened at s[i], or of the NUL. */
static size_t bracket_end(const char *s, size_t i)
{
        size_t j = i + 1;

        if (s[j] == '^')
                j++;
        if (s[j] == ']')
                j++;
        while (s[j] && s[j] != ']') {
                if (s[j] == '[' && (s[j + 1] == ':' || s[j + 1] == '.' || s[j + 1] == '=')) {
                        char close = s[j + 1];

                        j += 2;
                        while (s[j] && !(s[j] == close && s[j + 1] == ']'))
                                j++;
                        if (s[j])
                                j++;
                }
                if (s[j])
                        j++;
        }
        return j;
}

/* The largest number in "{m}", "{m,}" or "{m,n}" at s[*i]; *i ends on the '}' (or the NUL). */
static uint64_t bound_max(const char *s, size_t *i)
{
        uint64_t m = 0, k = 0;

        for ((*i)++; s[*i] && s[*i] != '}'; (*i)++) {
                if (s[*i] >= '0' && s[*i] <= '9') {
                        k = k * 10 + (uint64_t)(s[*i] - '0');
                        if (k > PATTERN_WEIGHT_MAX)
                                k = PATTERN_WEIGHT_MAX + 1;
                } else {
                        m = k > m ? k : m;
                        k = 0;
                }
        }
        if (!s[*i])
                (*i)--;
        return k > m ? k : m;
}

/*
 * What regcomp() and regexec() must not be given, from a schema that may
 * be hostile: NULL if @s is fine, else the reason.
 *
 *  - a repetition right after another ("a++", "a*{2}"): undefined in
 *    POSIX EREs, and glibc's matcher slows down exponentially with a run
 *    of them;
 *  - back-references ("\1"): not EREs, and they make matching
 *    exponential;
 *  - more than PATTERN_WEIGHT_MAX atoms once "{m,n}" is expanded (glibc
 *    expands it at compile time, and its compile time grows faster than
 *    the square of that size when the parts can match nothing, e.g.
 *    "(()){10000}" takes seconds): groups sum their atoms (at least 1),
 *    "{m,n}" multiplies what it follows by max(m, n, 1).  1000 leaves
 *    room for real patterns ("^[a-z0-9-]{1,63}$" weighs 65, a dotted quad
 *    about 60) and bounds the worst compile to tens of milliseconds.
 */
static const char *pattern_refusal(const char *s)
{
        uint64_t stack[PATTERN_MAX + 2], last = 0, cur = 0;
        unsigned depth = 0;
        bool after_repeat = false;

        for (size_t i = 0; s[i]; i++) {
                char c = s[i];
                bool is_repeat = c == '*' || c == '+' || c == '?' || c == '{';

                if (is_repeat && after_repeat)
                        return "expected no repetition right after another ('a++', 'a*{2}')";
                after_repeat = is_repeat;
                if (c == '\\' && s[i + 1] >= '1' && s[i + 1] <= '9')
                        return "expected no back-references ('\\1'): they are not extended regular expressions";
                if (c == '\\' && s[i + 1]) {
                        i++;
                        last = 1;
                } else if (c == '[') {
                        size_t j = bracket_end(s, i);

                        i = s[j] ? j : j - 1;
                        last = 1;
                } else if (c == '(') {
                        stack[depth++] = cur;
                        cur = 0;
                        last = 0;
                        continue;
                } else if (c == ')' && depth) {
                        last = cur ? cur : 1; /* "()" still costs glibc a node */
                        cur = stack[--depth];
                } else if (c == '{') {
                        uint64_t m = bound_max(s, &i);

                        /* The atom before was already counted once; "x{0}" costs as much as "x{1}". */
                        m = m ? m : 1;
                        cur += last * (m - 1);
                        last *= m;
                        if (cur > PATTERN_WEIGHT_MAX || last > PATTERN_WEIGHT_MAX)
                                goto heavy;
                        continue;
                } else if (is_repeat || c == '|' || c == '^' || c == '$') {
                        continue;
                } else {
                        last = 1;
                }
                cur += last;
                if (cur > PATTERN_WEIGHT_MAX)
                        goto heavy;
        }
        while (depth)
                cur += stack[--depth];
        if (cur <= PATTERN_WEIGHT_MAX)
                return NULL;
heavy:
        return "expected a pattern of at most 1000 atoms once {m,n} repetitions are expanded";
}

static int parse_pattern(struct parser *p, const struct yamltree_node *n, struct schema_node *leaf)
{
        const char *refusal;
        char err[160];
        int r = want_scalar(p, n, "a POSIX extended regular expression");

        if (r)
                return r;
        if (n->len > PATTERN_MAX)
                return fail(p, n, "expected a pattern of at most %d bytes, found %zu", PATTERN_MAX, n->len);
        if ((refusal = pattern_refusal(n->value)))
                return fail(p, n, "%s", refusal);
        leaf->pattern = strdup(n->value);
        if (!leaf->pattern)
                return -ENOMEM;
        r = regcomp(&leaf->re, n->value, REG_EXTENDED | REG_NOSUB);
        if (r == REG_ESPACE)
                return -ENOMEM;
        if (r) {
                regerror(r, &leaf->re, err, sizeof(err));
                return fail(p, n, "expected a POSIX extended regular expression: %s", err);
        }
        leaf->has_pattern = true;
        return 0;
}

static int parse_values(struct parser *p, const struct yamltree_node *n, struct schema_node *leaf)
{
        char q[DIAG_QUOTE_SIZE];

        if (n->kind != YAMLTREE_LIST || !n->n_items)
                return fail(p, n, "expected a list of at least one name, found %s",
                            n->kind == YAMLTREE_LIST ? "an empty list" : kind_name(n));
        leaf->values = calloc(n->n_items, sizeof(*leaf->values));
        if (!leaf->values)
                return -ENOMEM;
        for (unsigned i = 0; i < n->n_items; i++) {
                const struct yamltree_node *it = n->items[i];
                size_t old = path_push_index(p, i);

                if (it->kind != YAMLTREE_SCALAR || !path_key_is_valid(it->value, it->len)) {
                        int r = fail(p, it, "expected a name of printable characters, found %s",
                                     it->kind == YAMLTREE_SCALAR ? diag_quote(q, sizeof(q), it->value, it->len)
                                                          : kind_name(it));
                        path_pop(p, old);
                        return r;
                }
                for (unsigned j = 0; j < i; j++)
                        if (!strcmp(leaf->values[j], it->value)) {
                                int r = fail(p, it, "expected each name once, found %s again",
                                             diag_quote(q, sizeof(q), it->value, it->len));
                                path_pop(p, old);
                                return r;
                        }
                path_pop(p, old);
                leaf->values[i] = strdup(it->value);
                if (!leaf->values[i])
                        return -ENOMEM;
                leaf->n_values++;
        }
        return 0;
}

static int parse_target(struct parser *p, const struct yamltree_node *n, struct schema_node *leaf)
{
        struct orb_diag d = ORB_DIAG_INIT;
        struct path path;
        int r = want_scalar(p, n, "the path of a keyed list");

        if (r)
                return r;
        if (path_parse(n->value, &path, &d))
                return fail(p, n, "expected the path of a keyed list: %s", d.message);
        for (unsigned i = 0; i < path.n_segs; i++)
                if (path.segs[i].key)
                        return fail(p, n, "expected the path of a keyed list without keys (net.bridge), found %s",
                                    diag_quote((char[DIAG_QUOTE_SIZE]){ 0 }, DIAG_QUOTE_SIZE, n->value, n->len));
        leaf->target = strdup(n->value);
        if (!leaf->target)
                return -ENOMEM;
        leaf->target_line = n->line;
        leaf->target_column = n->column;
        return 0;
}

static int parse_type(struct parser *p, const struct yamltree_node *n, enum schema_type *out)
{
        char q[DIAG_QUOTE_SIZE];
        int r = want_scalar(p, n, "a type");

        if (r)
                return r;
        for (enum schema_type t = SCHEMA_STRING; t <= SCHEMA_REF; t++)
                if (!strcmp(n->value, schema_type_name(t))) {
                        *out = t;
                        return 0;
                }
        return fail(p, n, "expected a type (string, int, bool, enum, ref), found %s",
                    diag_quote(q, sizeof(q), n->value, n->len));
}

/* The options that apply to a type, with the key used to check each. */
static int leaf_option(struct parser *p, const struct yamltree_node *def, const char *key, bool allowed,
                       const struct schema_node *leaf, const struct yamltree_node **out)
{
        const struct yamltree_node *v = map_get(def, key);
        size_t old;

        *out = NULL;
        if (!v)
                return 0;
        old = path_push(p, key, strlen(key));
        if (!allowed) {
                int r = fail(p, v, "expected no '%s' on a leaf of type %s", key, schema_type_name(leaf->type));

                path_pop(p, old);
                return r;
        }
        path_pop(p, old);
        *out = v;
        return 0;
}

/* Runs @fn on option @key of @def with the field path pushed. */
#define WITH_KEY(p, key, expr)                                                                                         \
        ({                                                                                                             \
                size_t _old = path_push((p), (key), strlen(key));                                                      \
                int _r = (expr);                                                                                       \
                path_pop((p), _old);                                                                                   \
                _r;                                                                                                    \
        })

static int parse_default(struct parser *p, const struct yamltree_node *v, struct schema_node *leaf)
{
        char why[256];
        int r;

        if (v->kind != YAMLTREE_SCALAR)
                return fail(p, v, "expected a %s value, found %s", schema_type_name(leaf->type), kind_name(v));
        if (leaf->type == SCHEMA_REF)
                return fail(p, v, "expected no default on a ref (the entry it names may not exist)");
        r = schema_parse_value(leaf, v->value, &leaf->def, why, sizeof(why));
        if (!r)
                r = schema_check_value(leaf, &leaf->def, why, sizeof(why));
        if (r < 0)
                return r;
        if (r) {
                value_deinit(&leaf->def);
                return fail(p, v, "default: %s", why);
        }
        leaf->has_default = true;
        return 0;
}

static int parse_leaf(struct parser *p, const struct yamltree_node *def, struct schema_node *leaf)
{
        static const char *const keys[] = { "type",   "required", "default", "description", "pattern",
                                            "length", "range",    "values",  "target",      NULL };
        const struct yamltree_node *v;
        int r;

        r = check_keys(p, def, keys, "a leaf");
        if (!r)
                r = WITH_KEY(p, "type", parse_type(p, map_get(def, "type"), &leaf->type));
        if (r)
                return r;
        leaf->kind = SCHEMA_LEAF;
        if ((v = map_get(def, "required")) && (r = WITH_KEY(p, "required", parse_bool_field(p, v, &leaf->is_required))))
                return r;
        if ((r = leaf_option(p, def, "pattern", leaf->type == SCHEMA_STRING, leaf, &v)))
                return r;
        if (v && (r = WITH_KEY(p, "pattern", parse_pattern(p, v, leaf))))
                return r;
        if ((r = leaf_option(p, def, "length", leaf->type == SCHEMA_STRING, leaf, &v)))
                return r;
        if (v && (r = WITH_KEY(p, "length", parse_range(p, v, 0, &leaf->min, &leaf->max))))
                return r;
        leaf->has_range = v != NULL;
        if ((r = leaf_option(p, def, "range", leaf->type == SCHEMA_INT, leaf, &v)))
                return r;
        if (v && (r = WITH_KEY(p, "range", parse_range(p, v, INT64_MIN, &leaf->min, &leaf->max))))
                return r;
        leaf->has_range = leaf->has_range || v;
        if ((r = leaf_option(p, def, "values", leaf->type == SCHEMA_ENUM, leaf, &v)))
                return r;
        if (leaf->type == SCHEMA_ENUM && !v)
                return fail(p, def, "expected 'values' on a leaf of type enum");
        if (v && (r = WITH_KEY(p, "values", parse_values(p, v, leaf))))
                return r;
        if ((r = leaf_option(p, def, "target", leaf->type == SCHEMA_REF, leaf, &v)))
                return r;
        if (leaf->type == SCHEMA_REF && !v)
                return fail(p, def, "expected 'target' (the path of a keyed list) on a leaf of type ref");
        if (v && (r = WITH_KEY(p, "target", parse_target(p, v, leaf))))
                return r;
        if ((v = map_get(def, "default")) && (r = WITH_KEY(p, "default", parse_default(p, v, leaf))))
                return r;
        return 0;
}

static int parse_nodes(struct parser *p, const struct yamltree_node *nodes, struct schema_node *parent);

static int parse_list(struct parser *p, const struct yamltree_node *def, struct schema_node *list)
{
        static const char *const keys[] = { "list", "nodes", "description", NULL };
        const struct yamltree_node *key = map_get(def, "list"), *nodes = map_get(def, "nodes");
        struct schema_node *k;
        char q[DIAG_QUOTE_SIZE];
        int r;

        list->kind = SCHEMA_LIST;
        r = check_keys(p, def, keys, "a keyed list");
        if (!r)
                r = WITH_KEY(p, "list", want_scalar(p, key, "the name of the key leaf"));
        if (r)
                return r;
        if (!nodes)
                return fail(p, def, "expected 'nodes' (the leaves of each entry) in a keyed list");
        r = WITH_KEY(p, "nodes", parse_nodes(p, nodes, list));
        if (r)
                return r;
        k = (struct schema_node *)schema_child(list, key->value, key->len);
        if (!k || k->kind != SCHEMA_LEAF)
                return WITH_KEY(p, "list", fail(p, key, "expected the name of a leaf in 'nodes', found %s",
                                                diag_quote(q, sizeof(q), key->value, key->len)));
        if (k->type == SCHEMA_BOOL || k->type == SCHEMA_REF)
                return WITH_KEY(p, "list", fail(p, key, "expected a key leaf of type string, int or enum, found %s",
                                                schema_type_name(k->type)));
        if (k->has_default)
                return WITH_KEY(p, "list", fail(p, key, "expected a key leaf without a default"));
        k->is_key = true;
        k->is_required = true;
        list->key = k;
        return 0;
}

static int parse_def(struct parser *p, const struct yamltree_node *name, const struct yamltree_node *def,
                     struct schema_node *parent)
{
        static const char *const container_keys[] = { "nodes", "description", NULL };
        _cleanup_(snode_freep) struct schema_node *n = NULL;
        char q[DIAG_QUOTE_SIZE];
        int r;

        if (!path_name_is_valid(name->value, name->len))
                return fail(p, name, "expected a node name of a-z, 0-9, '_' or '-', found %s",
                            diag_quote(q, sizeof(q), name->value, name->len));
        if (def->kind != YAMLTREE_MAP)
                return fail(p, def, "expected a mapping with 'type', 'nodes' or 'list', found %s", kind_name(def));
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->name = strdup(name->value);
        if (!n->name)
                return -ENOMEM;
        n->parent = parent;
        n->file = p->file;
        n->line = name->line;
        n->column = name->column;
        if (map_get(def, "list"))
                r = parse_list(p, def, n);
        else if (map_get(def, "type"))
                r = parse_leaf(p, def, n);
        else if (map_get(def, "nodes")) {
                n->kind = SCHEMA_CONTAINER;
                r = check_keys(p, def, container_keys, "a container");
                if (!r)
                        r = WITH_KEY(p, "nodes", parse_nodes(p, map_get(def, "nodes"), n));
        } else
                r = fail(p, def, "expected 'type' (a leaf), 'nodes' (a container) or 'list' (a keyed list)");
        if (r)
                return r;
        parent->children[parent->n_children++] = take_ptr(n);
        return 0;
}

static int parse_nodes(struct parser *p, const struct yamltree_node *nodes, struct schema_node *parent)
{
        int r;

        if (nodes->kind != YAMLTREE_MAP || !nodes->n_items)
                return fail(p, nodes, "expected a mapping of at least one node name to its definition, found %s",
                            nodes->kind == YAMLTREE_MAP ? "an empty mapping" : kind_name(nodes));
        parent->children = calloc(nodes->n_items / 2, sizeof(*parent->children));
        if (!parent->children)
                return -ENOMEM;
        for (unsigned i = 0; i + 1 < nodes->n_items; i += 2) {
                size_t old = path_push(p, nodes->items[i]->value, nodes->items[i]->len);

                r = parse_def(p, nodes->items[i], nodes->items[i + 1], parent);
                path_pop(p, old);
                if (r)
                        return r;
        }
        qsort(parent->children, parent->n_children, sizeof(*parent->children), child_cmp);
        return 0;
}

static int parse_top(struct parser *p, const struct yamltree_node *top)
{
        static const char *const keys[] = { "subtree", "nodes", "description", NULL };
        struct orb_diag d = ORB_DIAG_INIT;
        const struct yamltree_node *subtree, *nodes;
        struct schema_node *root;
        struct path path;
        int r;

        if (top->kind != YAMLTREE_MAP)
                return fail(p, top, "expected a mapping with 'subtree' and 'nodes', found %s", kind_name(top));
        r = check_keys(p, top, keys, "a schema");
        if (r)
                return r;
        subtree = map_get(top, "subtree");
        nodes = map_get(top, "nodes");
        if (!subtree)
                return fail(p, top, "expected 'subtree' (the path this schema owns, e.g. net)");
        if (!nodes)
                return fail(p, top, "expected 'nodes' (the nodes of the subtree)");
        r = WITH_KEY(p, "subtree", want_scalar(p, subtree, "a path of names (net, services.web)"));
        if (r)
                return r;
        if (path_parse(subtree->value, &path, &d))
                return WITH_KEY(p, "subtree", fail(p, subtree, "expected a path of names: %s", d.message));
        for (unsigned i = 0; i < path.n_segs; i++)
                if (path.segs[i].key)
                        return WITH_KEY(p, "subtree",
                                        fail(p, subtree, "expected a path of names without keys, found %s",
                                             diag_quote((char[DIAG_QUOTE_SIZE]){ 0 }, DIAG_QUOTE_SIZE,
                                                        subtree->value, subtree->len)));
        root = calloc(1, sizeof(*root));
        if (!root)
                return -ENOMEM;
        p->file->root = root;
        p->file->n_subtree_segs = path.n_segs;
        p->file->line = subtree->line;
        p->file->column = subtree->column;
        root->kind = SCHEMA_CONTAINER;
        root->file = p->file;
        root->line = subtree->line;
        root->column = subtree->column;
        root->name = strdup(subtree->value);
        if (!root->name)
                return -ENOMEM;
        return WITH_KEY(p, "nodes", parse_nodes(p, nodes, root));
}

/* Is one subtree inside (or equal to) the other? */
static bool subtrees_overlap(const char *a, const char *b)
{
        return path_has_prefix(a, b) || path_has_prefix(b, a);
}

/**
 * schema_set_add() - parse one schema file into the set.
 * @s: the set
 * @text, @len: the file's bytes
 * @file: its name, for messages
 * @d: filled on refusal; may be NULL
 *
 * All or nothing: on refusal the set is unchanged.  Refs are resolved by
 * schema_set_link(), which must run again after the last add.
 *
 * Return: 0, SCHEMA_E_INVALID, -ENOMEM.
 */
int schema_set_add(struct schema_set *s, const char *text, size_t len, const char *file, struct orb_diag *d)
{
        struct parser p = { .tree = YAMLTREE_INIT(&schema_yaml_rules, text, len, file, d) };
        _cleanup_(yamltree_node_freep) struct yamltree_node *top = NULL;
        _cleanup_(file_freep) struct schema_file *f = NULL;
        struct schema_file **files;
        int r;

        diag_set_file(d, file);
        f = calloc(1, sizeof(*f));
        if (!f || !(f->name = strdup(file)))
                return -ENOMEM;
        p.file = f;
        r = yamltree_build(&p.tree, &top);
        if (!r)
                r = parse_top(&p, top);
        if (r)
                return r;
        for (unsigned i = 0; i < s->n_files; i++)
                if (subtrees_overlap(s->files[i]->root->name, f->root->name)) {
                        path_pop(&p, 0);
                        path_push(&p, "subtree", 7);
                        return fail_at(&p, f->line, f->column,
                                       "expected a subtree disjoint from the others, found %s, which overlaps %s "
                                       "of %s (line %u)",
                                       f->root->name, s->files[i]->root->name, s->files[i]->name,
                                       s->files[i]->line);
                }
        files = reallocarray(s->files, s->n_files + 1, sizeof(*files));
        if (!files)
                return -ENOMEM;
        s->files = files;
        s->files[s->n_files++] = take_ptr(f);
        s->is_linked = false;
        return 0;
}

/**
 * schema_set_add_file() - read and add one schema file.
 *
 * Return: as schema_set_add(), or a negative errno from reading the file.
 */
int schema_set_add_file(struct schema_set *s, const char *filename, struct orb_diag *d)
{
        _cleanup_close_ int fd = open(filename, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;

        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size > SCHEMA_FILE_MAX) {
                diag_set_file(d, filename);
                diag_set(d, 0, 0, NULL, "expected a schema of at most %u bytes, found %jd", SCHEMA_FILE_MAX,
                         (intmax_t)st.st_size);
                return SCHEMA_E_INVALID;
        }
        buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (len < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        return schema_set_add(s, buf, len, filename, d);
}

void schema_set_deinit(struct schema_set *s)
{
        for (unsigned i = 0; i < s->n_files; i++)
                file_free(s->files[i]);
        free(s->files);
        *s = (struct schema_set)SCHEMA_SET_INIT;
}

/* ------------------------------------------------------------------------
 * Lookups
 */

/**
 * schema_resolve() - the node a path names.
 * @s: the set
 * @p: a parsed path
 * @out: the node
 * @is_entry: for a list, whether @p names one entry (list[KEY]) rather than the list
 * @why, @n: the reason on SCHEMA_E_NO_NODE
 *
 * Return: 0 or SCHEMA_E_NO_NODE.
 */
int schema_resolve(const struct schema_set *s, const struct path *p, const struct schema_node **out, bool *is_entry,
                   char *why, size_t n)
{
        const struct schema_file *f = NULL;
        const struct schema_node *node;
        unsigned i;

        for (unsigned k = 0; k < s->n_files && !f; k++) {
                size_t l = strlen(s->files[k]->root->name);
                unsigned segs = s->files[k]->n_subtree_segs;

                if (segs <= p->n_segs && path_prefix_len(p, segs) == l && !memcmp(p->text, s->files[k]->root->name, l))
                        f = s->files[k];
        }
        if (!f) {
                snprintf(why, n, "no schema owns %.*s", (int)p->segs[0].name_len, p->segs[0].name);
                return SCHEMA_E_NO_NODE;
        }
        for (i = 0; i < f->n_subtree_segs; i++)
                if (p->segs[i].key) {
                        snprintf(why, n, "%.*s is not a list: it takes no [KEY]", (int)p->segs[i].end, p->text);
                        return SCHEMA_E_NO_NODE;
                }
        node = f->root;
        *is_entry = false;
        for (; i < p->n_segs; i++) {
                const struct path_seg *seg = &p->segs[i];
                const struct schema_node *c = node->kind == SCHEMA_LEAF ? NULL : schema_child(node, seg->name, seg->name_len);
                size_t start = i ? p->segs[i - 1].end + 1 : 0;

                if (!c) {
                        snprintf(why, n, "%.*s: no node %.*s in the schema (%s)", (int)seg->end, p->text,
                                 (int)seg->name_len, seg->name, f->name);
                        return SCHEMA_E_NO_NODE;
                }
                if (c->kind == SCHEMA_LIST && !seg->key && i + 1 < p->n_segs) {
                        snprintf(why, n, "%.*s is a keyed list: expected %.*s[KEY]", (int)seg->end, p->text,
                                 (int)(seg->end - start), p->text + start);
                        return SCHEMA_E_NO_NODE;
                }
                if (c->kind != SCHEMA_LIST && seg->key) {
                        snprintf(why, n, "%.*s is not a list: it takes no [KEY]", (int)(seg->key - p->text - 1),
                                 p->text);
                        return SCHEMA_E_NO_NODE;
                }
                node = c;
                *is_entry = seg->key != NULL;
        }
        *out = node;
        return 0;
}

static int link_node(struct schema_set *s, const struct schema_node *n, struct orb_diag *d)
{
        char why[256];
        int r;

        for (unsigned i = 0; i < n->n_children; i++) {
                r = link_node(s, n->children[i], d);
                if (r)
                        return r;
        }
        if (n->kind == SCHEMA_LEAF && n->type == SCHEMA_REF) {
                struct schema_node *leaf = (struct schema_node *)n;
                const struct schema_node *t = NULL;
                struct path path;
                bool is_entry;

                if (path_parse(n->target, &path, NULL) == 0 &&
                    schema_resolve(s, &path, &t, &is_entry, why, sizeof(why)) == 0 && t->kind != SCHEMA_LIST)
                        snprintf(why, sizeof(why), "%s is a %s", n->target,
                                 t->kind == SCHEMA_LEAF ? "leaf" : "container");
                if (t && t->kind == SCHEMA_LIST) {
                        for (const struct schema_node *a = t->parent; a; a = a->parent)
                                if (a->kind == SCHEMA_LIST) {
                                        snprintf(why, sizeof(why), "%s is inside the list %s", n->target, a->name);
                                        t = NULL;
                                        break;
                                }
                }
                if (!t || t->kind != SCHEMA_LIST) {
                        char field[128];

                        diag_set_file(d, n->file->name);
                        diag_set(d, n->target_line, n->target_column, schema_node_path(n, field, sizeof(field)),
                                 "expected target to name a keyed list outside any list: %s", why);
                        return SCHEMA_E_INVALID;
                }
                leaf->target_list = t;
        }
        return 0;
}

/**
 * schema_set_link() - resolve every ref's target across the set.
 * @s: the set
 * @d: filled on refusal, with the ref's file, line and column
 *
 * Return: 0 or SCHEMA_E_INVALID (a target that is not a keyed list
 * outside any list).
 */
int schema_set_link(struct schema_set *s, struct orb_diag *d)
{
        for (unsigned i = 0; i < s->n_files; i++) {
                int r = link_node(s, s->files[i]->root, d);

                if (r)
                        return r;
        }
        s->is_linked = true;
        return 0;
}
