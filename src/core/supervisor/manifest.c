/*
 * Manifest parser: YAML bytes in, a fully checked struct manifest out.
 *
 * This module owns the whole way from text to struct, in two passes:
 *
 *  1. build: util/yamltree.c drives libyaml's event parser to a small
 *     tree of nodes (scalar, list, mapping), each with the line and column
 *     of its start mark.  This pass refuses what YAML allows but a manifest
 *     does not: aliases, anchors, tags, non-text keys, duplicate keys, a
 *     second document, NUL bytes in a value, more than DEPTH_MAX levels,
 *     more than ITEMS_MAX entries in one collection or NODES_MAX values in
 *     all.  Each event is also folded into the digest (below).
 *
 *  2. walk: each mapping is decoded with one table of struct field (key,
 *     type, offset, range), after openwrt/procd's policy tables.  Plain
 *     types (duration, integer, percentage) are handled by one shared
 *     routine; the rest has a small parse function per key.  Unknown keys
 *     are refused with the nearest known key as a hint.
 *
 * Every scalar is text.  YAML 1.1's implicit typing (`no` as false, `010`
 * as octal, `1e3` as a float) never applies: each field converts its own
 * text, and `enabled` takes exactly `true` or `false`.
 *
 * Every refusal fills the caller's struct orb_diag with the source name,
 * the line and column of the offending node, the dotted field path
 * ("backoff.initial", "command[2]", "environment.FOO") and a message in
 * the form "expected <what>, found <what was there>".  Input values in
 * messages go through diag_quote().  Field paths only hold keys that look
 * like keys; anything else is quoted too.
 *
 * The digest is 64-bit FNV-1a over the event stream: event types and
 * scalar values (length, then bytes).  Comments, quoting style, block or
 * flow layout and indentation produce the same events, so they do not
 * change it; any value, key or order change does.  The file name is not
 * part of it.
 *
 * Nothing here knows other manifests: names of `requires` and `after` are
 * checked for form only; manifest_set.c checks that they exist.  Values
 * such as user names are kept as text and resolved at spawn.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "broker/capspec.h"
#include "supervisor/manifest.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/time.h"
#include "util/yamltree.h"

_Static_assert((int)MANIFEST_E_INVALID == (int)YAMLTREE_E_INVALID, "a refusal of the YAML is a refusal of the manifest");

#define DEPTH_MAX 8      /* nesting levels; a manifest needs 3 */
#define ITEMS_MAX 1024u  /* entries in one list or mapping */
#define NODES_MAX 8192u  /* values in one manifest */
#define KEY_MAX 32       /* longest known key, for the edit distance */
#define MEMORY_MIN (1ull << 20)
#define IDENT_MAX 64     /* user and group names */
#define CAPABILITY_MAX 128
#define SIGNAL_MAX 64

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

/* ------------------------------------------------------------------------
 * The parse: yamltree's, plus the digest
 */

struct parser {
        struct yamltree tree; /* input, diag and field path */
        uint64_t digest;
};

static char **strv_free(char **v)
{
        for (char **s = v; s && *s; s++)
                free(*s);
        free(v);
        return NULL;
}

DEFINE_CLEANUP(char **, strv_free)

/* ------------------------------------------------------------------------
 * Field paths and diagnostics
 */

#define fail(p, n, ...) yamltree_fail(&(p)->tree, (n), __VA_ARGS__)
#define fail_at(p, line, column, ...) yamltree_fail_at(&(p)->tree, (line), (column), __VA_ARGS__)
#define path_push(p, ...) yamltree_path_push(&(p)->tree, __VA_ARGS__)
#define path_push_key(p, key, len) yamltree_path_push_key(&(p)->tree, (key), (len))
#define path_push_index(p, i) yamltree_path_push_index(&(p)->tree, (i))
#define path_pop(p, old) yamltree_path_pop(&(p)->tree, (old))

static bool is_key_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_';
}

/* Keys shown in field paths as they are; anything else is quoted. */
static bool key_is_plain(const char *key, size_t len)
{
        bool plain = len > 0 && len <= KEY_MAX * 2;

        for (size_t i = 0; plain && i < len; i++)
                plain = is_key_char(key[i]);
        return plain;
}

static const char *describe(const struct yamltree_node *n, char *buf, size_t size)
{
        switch (n->kind) {
        case YAMLTREE_LIST:
                return n->n_items ? "a list" : "an empty list";
        case YAMLTREE_MAP:
                return n->n_items ? "a mapping" : "an empty mapping";
        case YAMLTREE_SCALAR:
                break;
        }
        return n->len ? diag_quote(buf, size, n->value, n->len) : "an empty value";
}

/* "expected <what>, found <n>" */
static int expected(struct parser *p, const struct yamltree_node *n, const char *what)
{
        char q[DIAG_QUOTE_SIZE];

        return fail(p, n, "expected %s, found %s", what, describe(n, q, sizeof(q)));
}

/* expected() about item @i of list @n, with "[i]" on the path. */
static int expected_item(struct parser *p, const struct yamltree_node *n, unsigned i, const char *what)
{
        size_t old = path_push_index(p, i);
        int r = expected(p, n->items[i], what);

        path_pop(p, old);
        return r;
}

static int missing_key(struct parser *p, const struct yamltree_node *map, const char *key)
{
        size_t old = path_push_key(p, key, strlen(key));
        int r = fail(p, map, "missing required key '%s'", key);

        path_pop(p, old);
        return r;
}

/* ------------------------------------------------------------------------
 * Pass 1: events to tree (yamltree), folded into the digest
 */

static void digest_bytes(struct parser *p, const void *data, size_t len)
{
        const unsigned char *b = data;

        for (size_t i = 0; i < len; i++) {
                p->digest ^= b[i];
                p->digest *= FNV_PRIME;
        }
}

static void digest_event(struct yamltree *t, const yaml_event_t *ev)
{
        struct parser *p = container_of(t, struct parser, tree);
        unsigned char type = (unsigned char)ev->type;
        unsigned char len[8];

        digest_bytes(p, &type, 1);
        if (ev->type != YAML_SCALAR_EVENT)
                return;
        for (unsigned i = 0; i < 8; i++)
                len[i] = (unsigned char)((uint64_t)ev->data.scalar.length >> (8 * i));
        digest_bytes(p, len, sizeof(len));
        digest_bytes(p, ev->data.scalar.value, ev->data.scalar.length);
}

static const struct yamltree_rules manifest_yaml_rules = {
        .document = "manifest",
        .empty = "empty manifest: expected a mapping with at least 'command'",
        .depth_max = DEPTH_MAX,
        .items_max = ITEMS_MAX,
        .nodes_max = NODES_MAX,
        .reader_error_shows_byte = true,
        .key_is_plain = key_is_plain,
        .on_event = digest_event,
        .wording = {
                .alias = { "YAML aliases are not supported, found alias ", "; write the value out in full" },
                .anchor = { "YAML anchors are not supported, found anchor ", "; write the value out in full" },
                .tag = { "YAML tags are not supported, found tag ", "; every value is read as text" },
                .duplicate_key = { "duplicate key ", "" },
        },
};

/* ------------------------------------------------------------------------
 * Text to values
 */

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Decimal, no sign, no leading zero, no overflow: "0", "42". */
static bool parse_decimal(const char *s, size_t len, uint64_t *out)
{
        uint64_t v = 0;

        if (!len || (s[0] == '0' && len > 1))
                return false;
        for (size_t i = 0; i < len; i++) {
                if (!is_digit(s[i]))
                        return false;
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
                        return false;
        }
        *out = v;
        return true;
}

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || is_digit(c);
}

/**
 * manifest_name_valid() - check a service name.
 * @name: NUL-terminated text
 *
 * Return: true if @name matches [a-z0-9][a-z0-9._-]* and is shorter than
 * MANIFEST_NAME_MAX.
 */
bool manifest_name_valid(const char *name)
{
        size_t len = strlen(name);

        if (!len || len >= MANIFEST_NAME_MAX || !is_lower_alnum(name[0]))
                return false;
        for (size_t i = 1; i < len; i++) {
                if (!is_lower_alnum(name[i]) && !strchr("._-", name[i]))
                        return false;
        }
        return true;
}

/* [A-Za-z_][A-Za-z0-9_]* */
static bool env_name_valid(const char *s)
{
        if (!*s || is_digit(*s))
                return false;
        for (; *s; s++) {
                if (!is_key_char(*s) || *s == '-')
                        return false;
        }
        return true;
}

/* [a-z][a-z0-9._:-]*, as in `net.configure` */
static bool capability_valid(const char *s)
{
        size_t len = strlen(s);

        if (!len || len > CAPABILITY_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
                return false;
        for (size_t i = 1; i < len; i++) {
                if (!is_lower_alnum(s[i]) && !strchr("._:-", s[i]))
                        return false;
        }
        return true;
}

/* A numeric id below (uid_t)-1, or a portable name with an optional '$'. */
static bool ident_valid(const char *s, size_t len)
{
        uint64_t id;

        if (is_digit(s[0]))
                return parse_decimal(s, len, &id) && id < UINT32_MAX;
        if (!len || len > IDENT_MAX || !(is_key_char(s[0]) && s[0] != '-'))
                return false;
        for (size_t i = 1; i < len; i++) {
                if (!is_key_char(s[i]) && s[i] != '.' && !(s[i] == '$' && i == len - 1))
                        return false;
        }
        return true;
}

static const struct {
        const char *name;
        int number;
} signal_names[] = {
        { "HUP", SIGHUP },       { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
        { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },     { "BUS", SIGBUS },     { "FPE", SIGFPE },
        { "KILL", SIGKILL },     { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },   { "USR2", SIGUSR2 },
        { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },     { "TERM", SIGTERM },   { "CHLD", SIGCHLD },
        { "CONT", SIGCONT },     { "STOP", SIGSTOP },     { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },
        { "TTOU", SIGTTOU },     { "URG", SIGURG },       { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },
        { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },     { "WINCH", SIGWINCH }, { "IO", SIGIO },
        { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

/* "TERM", "SIGTERM" or "15"; 0 if none of these. */
static int signal_from_text(const char *s, size_t len)
{
        uint64_t v;

        if (parse_decimal(s, len, &v))
                return v >= 1 && v <= SIGNAL_MAX ? (int)v : 0;
        if (!strncmp(s, "SIG", 3))
                s += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++) {
                if (!strcmp(s, signal_names[i].name))
                        return signal_names[i].number;
        }
        return 0;
}

static bool is_text(const struct yamltree_node *n, const char *text)
{
        return n->kind == YAMLTREE_SCALAR && !strcmp(n->value, text);
}

static struct manifest_pos node_pos(const struct yamltree_node *n)
{
        return (struct manifest_pos){ .line = n->line, .column = n->column };
}

static int text_dup(struct parser *p, const struct yamltree_node *n, const char *what, char **out)
{
        char *s;

        if (n->kind != YAMLTREE_SCALAR)
                return expected(p, n, what);
        s = strdup(n->value);
        if (!s)
                return -ENOMEM;
        free(*out);
        *out = s;
        return 0;
}

/* ------------------------------------------------------------------------
 * Pass 2: field tables
 */

enum field_type {
        FIELD_CUSTOM,   /* ->parse does it all */
        FIELD_DURATION, /* usec_t at ->offset, at least ->min */
        FIELD_UINT,     /* unsigned at ->offset, in [->min, ->max] */
        FIELD_PERCENT,  /* unsigned at ->offset, "N%" (or "N"), in range */
        FIELD_REJECT,   /* a known key that is refused: ->reject says why */
};

enum {
        FIELD_F_UNLIMITED = 1 << 0, /* "unlimited" stores 0 */
        FIELD_F_SIGN = 1 << 1,      /* FIELD_PERCENT needs the '%' */
};

struct field {
        const char *key;
        enum field_type type;
        size_t offset;        /* into the target struct */
        uint64_t min, max;
        unsigned flags;       /* FIELD_F_* */
        int (*parse)(struct parser *p, const struct yamltree_node *n, void *target);
        const char *reject;   /* FIELD_REJECT only */
};

#define F_CUSTOM(k, fn) { .key = (k), .type = FIELD_CUSTOM, .parse = (fn) }
#define F_DURATION(k, t, m, lo) { .key = (k), .type = FIELD_DURATION, .offset = offsetof(t, m), .min = (lo) }
#define F_UINT(k, t, m, lo, hi, fl)                                                                     \
        { .key = (k), .type = FIELD_UINT, .offset = offsetof(t, m), .min = (lo), .max = (hi), .flags = (fl) }
#define F_PERCENT(k, t, m, lo, hi, fl)                                                                  \
        { .key = (k), .type = FIELD_PERCENT, .offset = offsetof(t, m), .min = (lo), .max = (hi), .flags = (fl) }
#define F_REJECT(k, why) { .key = (k), .type = FIELD_REJECT, .reject = (why) }

static int parse_duration_field(struct parser *p, const struct field *f, const struct yamltree_node *n, usec_t *out)
{
        char what[96], min[32];
        usec_t d;

        if (n->kind != YAMLTREE_SCALAR || !parse_duration(n->value, &d))
                return expected(p, n, "a duration such as 250ms, 5s or 1m30s");
        if (d < f->min) {
                if (f->min == 1)
                        return expected(p, n, "a duration greater than 0");
                format_duration(min, sizeof(min), f->min);
                snprintf(what, sizeof(what), "a duration of at least %s", min);
                return expected(p, n, what);
        }
        *out = d;
        return 0;
}

static int parse_uint_field(struct parser *p, const struct field *f, const struct yamltree_node *n, unsigned *out)
{
        bool unlimited = f->flags & FIELD_F_UNLIMITED;
        char what[96];
        uint64_t v;

        if (unlimited && is_text(n, "unlimited")) {
                *out = 0;
                return 0;
        }
        if (n->kind == YAMLTREE_SCALAR && parse_decimal(n->value, n->len, &v) && v >= f->min && v <= f->max) {
                *out = (unsigned)v;
                return 0;
        }
        snprintf(what, sizeof(what), "an integer from %" PRIu64 " to %" PRIu64 "%s", f->min, f->max,
                 unlimited ? " or 'unlimited'" : "");
        return expected(p, n, what);
}

static int parse_percent_field(struct parser *p, const struct field *f, const struct yamltree_node *n, unsigned *out)
{
        bool unlimited = f->flags & FIELD_F_UNLIMITED, sign = f->flags & FIELD_F_SIGN;
        char what[128];
        size_t len;
        uint64_t v;

        if (unlimited && is_text(n, "unlimited")) {
                *out = 0;
                return 0;
        }
        if (n->kind == YAMLTREE_SCALAR) {
                len = n->len;
                if (len && n->value[len - 1] == '%')
                        len--;
                if ((len < n->len || !sign) && parse_decimal(n->value, len, &v) && v >= f->min && v <= f->max) {
                        *out = (unsigned)v;
                        return 0;
                }
        }
        snprintf(what, sizeof(what),
                 "a percentage from %" PRIu64 "%% to %" PRIu64 "%% such as %" PRIu64 "%%%s%s", f->min, f->max, f->min > 50 ? f->min : 50, sign ? " (with the % sign)" : "",
                 unlimited ? ", or 'unlimited'" : "");
        return expected(p, n, what);
}

static int parse_field_value(struct parser *p, const struct field *f, const struct yamltree_node *n, void *target)
{
        void *slot = (char *)target + f->offset;

        switch (f->type) {
        case FIELD_DURATION:
                return parse_duration_field(p, f, n, slot);
        case FIELD_UINT:
                return parse_uint_field(p, f, n, slot);
        case FIELD_PERCENT:
                return parse_percent_field(p, f, n, slot);
        case FIELD_CUSTOM:
        case FIELD_REJECT:
                break;
        }
        return f->parse(p, n, target);
}

/* Levenshtein distance; @b is a known key, at most KEY_MAX long. */
static unsigned edit_distance(const char *a, const char *b)
{
        size_t lb = strlen(b);
        unsigned row[KEY_MAX + 1];

        for (size_t j = 0; j <= lb; j++)
                row[j] = (unsigned)j;
        for (size_t i = 1; *a; a++, i++) {
                unsigned diag = row[0];

                row[0] = (unsigned)i;
                for (size_t j = 1; j <= lb; j++) {
                        unsigned up = row[j];
                        unsigned best = diag + (*a != b[j - 1]);

                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        diag = up;
                        row[j] = best;
                }
        }
        return row[lb];
}

/* The known key nearest to @key, within 2 edits; NULL if none. */
static const char *suggest_key(const char *key, const struct field *fields, size_t n_fields)
{
        const char *best = NULL;
        unsigned best_d = 3;

        if (strlen(key) > 2 * KEY_MAX)
                return NULL;
        for (size_t i = 0; i < n_fields; i++) {
                unsigned d;

                if (fields[i].type == FIELD_REJECT)
                        continue;
                d = edit_distance(key, fields[i].key);
                if (d < best_d && d < strlen(fields[i].key)) {
                        best = fields[i].key;
                        best_d = d;
                }
        }
        return best;
}

/* "; expected one of a, b, c" for a short table, "" for a long one. */
static void list_keys(const struct field *fields, size_t n_fields, char *buf, size_t size)
{
        size_t pos = 0;

        buf[0] = '\0';
        for (size_t i = 0; n_fields <= 8 && i < n_fields && pos < size; i++) {
                if (fields[i].type != FIELD_REJECT)
                        pos += (size_t)snprintf(buf + pos, size - pos, "%s%s", pos ? ", " : "; expected one of ",
                                                fields[i].key);
        }
}

static int unknown_key(struct parser *p, const struct yamltree_node *key, const struct field *fields, size_t n_fields)
{
        const char *hint = suggest_key(key->value, fields, n_fields);
        char q[DIAG_QUOTE_SIZE], known[256];

        diag_quote(q, sizeof(q), key->value, key->len);
        if (hint)
                return fail(p, key, "unknown key %s; did you mean '%s'?", q, hint);
        list_keys(fields, n_fields, known, sizeof(known));
        return fail(p, key, "unknown key %s%s", q, known);
}

static const struct field *field_find(const struct field *fields, size_t n_fields, const char *key)
{
        for (size_t i = 0; i < n_fields; i++) {
                if (!strcmp(fields[i].key, key))
                        return &fields[i];
        }
        return NULL;
}

/*
 * Decodes mapping @map into @target with @fields, in document order.
 * @found[i] is set to the value node of fields[i]; NULL if absent.
 */
static int parse_fields(struct parser *p, const struct yamltree_node *map, const struct field *fields, size_t n_fields,
                        void *target, const struct yamltree_node **found)
{
        for (unsigned i = 0; i + 1 < map->n_items; i += 2) {
                const struct yamltree_node *key = map->items[i], *value = map->items[i + 1];
                const struct field *f = field_find(fields, n_fields, key->value);
                size_t old;
                int r;

                if (!f)
                        return unknown_key(p, key, fields, n_fields);
                found[f - fields] = value;
                old = path_push_key(p, f->key, strlen(f->key));
                if (f->type == FIELD_REJECT)
                        r = fail(p, key, "%s", f->reject);
                else
                        r = parse_field_value(p, f, value, target);
                path_pop(p, old);
                if (r)
                        return r;
        }
        return 0;
}

static const struct yamltree_node *found_value(const struct field *fields, size_t n_fields,
                                               const struct yamltree_node **found, const char *key)
{
        const struct field *f = field_find(fields, n_fields, key);

        return f ? found[f - fields] : NULL;
}

/* ------------------------------------------------------------------------
 * Pass 2: the fields
 */

/* argv from a list of strings, or ["/bin/sh", "-c", text] from one string. */
static int parse_argv(struct parser *p, const struct yamltree_node *n, char ***out)
{
        static const char what[] = "a command: a list of strings, or one string for /bin/sh -c";
        _cleanup_(strv_freep) char **v = NULL;
        const char *shell[] = { "/bin/sh", "-c", n->value };
        unsigned count = n->kind == YAMLTREE_LIST ? n->n_items : 3;

        if ((n->kind == YAMLTREE_SCALAR && !n->len) || n->kind == YAMLTREE_MAP || (n->kind == YAMLTREE_LIST && !count))
                return expected(p, n, what);
        v = calloc(count + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (unsigned i = 0; i < count; i++) {
                const struct yamltree_node *item = n->kind == YAMLTREE_LIST ? n->items[i] : NULL;

                if (item && (item->kind != YAMLTREE_SCALAR || (i == 0 && !item->len)))
                        return expected_item(p, n, i, i == 0 ? "a program name or path" : "a string");
                v[i] = strdup(item ? item->value : shell[i]);
                if (!v[i])
                        return -ENOMEM;
        }
        strv_free(*out);
        *out = take_ptr(v);
        return 0;
}

/* A list of checked names, or one name; no name twice. */
static int parse_names(struct parser *p, const struct yamltree_node *n, bool (*valid)(const char *), const char *what,
                       char ***out, struct manifest_pos **out_pos)
{
        _cleanup_(strv_freep) char **v = NULL;
        _cleanup_free_ struct manifest_pos *pos = NULL;
        bool is_list = n->kind == YAMLTREE_LIST;
        unsigned count = is_list ? n->n_items : 1;
        char q[DIAG_QUOTE_SIZE];

        if (n->kind == YAMLTREE_MAP)
                return expected(p, n, what);
        v = calloc(count + 1, sizeof(*v));
        pos = calloc(count ? count : 1, sizeof(*pos));
        if (!v || !pos)
                return -ENOMEM;
        for (unsigned i = 0; i < count; i++) {
                const struct yamltree_node *item = is_list ? n->items[i] : n;

                if (item->kind != YAMLTREE_SCALAR || !valid(item->value))
                        return is_list ? expected_item(p, n, i, what) : expected(p, n, what);
                for (unsigned j = 0; j < i; j++) {
                        if (!strcmp(v[j], item->value))
                                return fail(p, item, "%s is listed twice (first at line %u)",
                                            diag_quote(q, sizeof(q), item->value, item->len), pos[j].line);
                }
                v[i] = strdup(item->value);
                if (!v[i])
                        return -ENOMEM;
                pos[i] = node_pos(item);
        }
        strv_free(*out);
        *out = take_ptr(v);
        if (out_pos) {
                free(*out_pos);
                *out_pos = take_ptr(pos);
        }
        return 0;
}

static int parse_name(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct manifest *m = target;

        if (n->kind != YAMLTREE_SCALAR || !manifest_name_valid(n->value))
                return expected(p, n,
                                "a service name (a-z, 0-9, '.', '_', '-', starting with a letter or digit, "
                                "at most 63 characters)");
        memcpy(m->name, n->value, n->len + 1);
        m->name_pos = node_pos(n);
        return 0;
}

static int parse_description(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct manifest *m = target;

        return text_dup(p, n, "a text", &m->description);
}

static int parse_command(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct manifest *m = target;

        return parse_argv(p, n, &m->argv);
}

static int parse_env_entry(struct parser *p, const struct yamltree_node *key, const struct yamltree_node *value,
                           struct env_var *e)
{
        size_t old;
        int r = 0;

        if (!env_name_valid(key->value))
                return expected(p, key, "a variable name of A-Z, a-z, 0-9 and '_', not starting with a digit");
        old = path_push_key(p, key->value, key->len);
        if (value->kind != YAMLTREE_SCALAR)
                r = expected(p, value, "a text value");
        path_pop(p, old);
        if (r)
                return r;
        e->name = strdup(key->value);
        e->value = strdup(value->value);
        return e->name && e->value ? 0 : -ENOMEM;
}

static int parse_environment(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct manifest *m = target;

        if (n->kind != YAMLTREE_MAP)
                return expected(p, n, "a mapping of NAME: value");
        if (!n->n_items)
                return 0;
        m->env = calloc(n->n_items / 2, sizeof(*m->env));
        if (!m->env)
                return -ENOMEM;
        for (unsigned i = 0; i + 1 < n->n_items; i += 2) {
                /* Counted first, so manifest_free() releases a half-filled entry. */
                int r = parse_env_entry(p, n->items[i], n->items[i + 1], &m->env[m->n_env++]);

                if (r)
                        return r;
        }
        return 0;
}

static int parse_working_directory(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct manifest *m = target;

        if (n->kind != YAMLTREE_SCALAR || n->value[0] != '/' || n->len >= PATH_MAX)
                return expected(p, n, "an absolute path");
        return text_dup(p, n, "an absolute path", &m->working_directory);
}

static int parse_ident(struct parser *p, const struct yamltree_node *n, char **out)
{
        static const char what[] = "a name of A-Z, a-z, 0-9, '.', '_', '-' or a numeric id";

        if (n->kind != YAMLTREE_SCALAR || !ident_valid(n->value, n->len))
                return expected(p, n, what);
        return text_dup(p, n, what, out);
}

static int parse_user(struct parser *p, const struct yamltree_node *n, void *target)
{
        return parse_ident(p, n, &((struct manifest *)target)->user);
}

static int parse_group(struct parser *p, const struct yamltree_node *n, void *target)
{
        return parse_ident(p, n, &((struct manifest *)target)->group);
}

static int parse_requires(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct manifest *m = target;

        return parse_names(p, n, manifest_name_valid, "a service name or a list of them", &m->requires,
                           &m->requires_pos);
}

static int parse_after(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct manifest *m = target;

        return parse_names(p, n, manifest_name_valid, "a service name or a list of them", &m->after,
                           &m->after_pos);
}

static int parse_capabilities(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct manifest *m = target;

        static const char what[] = "a capability such as provide:echo, call:storage:r, publish:net, "
                                   "subscribe:net or net.configure, or a list of them";
        struct capspec spec;
        char why[160];
        int r = parse_names(p, n, capability_valid, what, &m->capabilities, NULL);

        if (r != 0)
                return r;
        for (unsigned i = 0; m->capabilities[i]; i++) {
                if (!capspec_parse(m->capabilities[i], &spec, why, sizeof(why)))
                        return n->kind == YAMLTREE_LIST ? expected_item(p, n, i, why) : expected(p, n, why);
        }
        return 0;
}

static int parse_restart(struct parser *p, const struct yamltree_node *n, void *target)
{
        static const char limited[] = "limited(";
        const size_t pre = sizeof(limited) - 1;
        struct manifest *m = target;
        uint64_t v;

        if (is_text(n, "never") || is_text(n, "always") || is_text(n, "on-failure")) {
                m->restart = n->value[0] == 'n' ? RESTART_NEVER : n->value[0] == 'a' ? RESTART_ALWAYS
                                                                                      : RESTART_ON_FAILURE;
                return 0;
        }
        if (n->kind != YAMLTREE_SCALAR || strncmp(n->value, limited, pre) || n->value[n->len - 1] != ')')
                return expected(p, n, "never, always, on-failure or limited(N)");
        if (!parse_decimal(n->value + pre, n->len - pre - 1, &v) || v < 1 || v > 1000000)
                return expected(p, n, "limited(N) with N from 1 to 1000000");
        m->restart = RESTART_LIMITED;
        m->restart_limit = (unsigned)v;
        return 0;
}

static const struct field backoff_fields[] = {
        F_DURATION("initial", struct backoff_spec, initial, 0),
        F_DURATION("max", struct backoff_spec, max, 0),
        F_PERCENT("jitter", struct backoff_spec, jitter_pc, 0, 100, 0),
        F_DURATION("reset-after", struct backoff_spec, reset_after, 0),
};

static int parse_backoff(struct parser *p, const struct yamltree_node *n, void *target)
{
        const struct yamltree_node *found[ARRAY_SIZE(backoff_fields)] = { 0 }, *max, *initial;
        struct backoff_spec *b = &((struct manifest *)target)->backoff;
        char what[96], buf[32];
        size_t old;
        int r;

        if (n->kind != YAMLTREE_MAP)
                return expected(p, n, "a mapping with initial, max, jitter or reset-after");
        r = parse_fields(p, n, backoff_fields, ARRAY_SIZE(backoff_fields), b, found);
        if (r || b->max >= b->initial)
                return r;
        max = found_value(backoff_fields, ARRAY_SIZE(backoff_fields), found, "max");
        initial = found_value(backoff_fields, ARRAY_SIZE(backoff_fields), found, "initial");
        if (max) {
                snprintf(what, sizeof(what), "a duration of at least initial (%s)",
                         format_duration(buf, sizeof(buf), b->initial));
                old = path_push(p, ".max");
        } else {
                snprintf(what, sizeof(what), "a duration of at most max (%s, the default)",
                         format_duration(buf, sizeof(buf), b->max));
                old = path_push(p, ".initial");
        }
        r = expected(p, max ? max : initial, what);
        path_pop(p, old);
        return r;
}

static const struct field breaker_fields[] = {
        F_UINT("crashes", struct breaker_spec, crashes, 1, 1000, 0),
        F_DURATION("window", struct breaker_spec, window, 1),
        F_DURATION("cooldown", struct breaker_spec, cooldown, 1),
};

static int parse_breaker(struct parser *p, const struct yamltree_node *n, void *target)
{
        const struct yamltree_node *found[ARRAY_SIZE(breaker_fields)] = { 0 };
        struct breaker_spec *b = &((struct manifest *)target)->breaker;

        if (is_text(n, "off")) {
                b->crashes = 0;
                return 0;
        }
        if (n->kind != YAMLTREE_MAP)
                return expected(p, n, "a mapping with crashes, window or cooldown, or 'off'");
        return parse_fields(p, n, breaker_fields, ARRAY_SIZE(breaker_fields), b, found);
}

static int parse_health_command(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct health_spec *h = target;
        int r = parse_argv(p, n, &h->argv);

        if (!r)
                h->kind = HEALTH_COMMAND;
        return r;
}

static const struct field health_fields[] = {
        F_CUSTOM("command", parse_health_command),
        F_DURATION("interval", struct health_spec, interval, 1),
        F_DURATION("timeout", struct health_spec, timeout, 1),
        F_UINT("failures", struct health_spec, failures, 1, 100, 0),
        F_DURATION("start-delay", struct health_spec, start_delay, 0),
        F_REJECT("ping", "IPC ping health checks are not supported yet; "
                         "use 'command' instead"),
};

static int parse_health(struct parser *p, const struct yamltree_node *n, void *target)
{
        const struct yamltree_node *found[ARRAY_SIZE(health_fields)] = { 0 };
        struct health_spec *h = &((struct manifest *)target)->health;
        int r;

        if (n->kind != YAMLTREE_MAP)
                return expected(p, n, "a mapping with command, interval, timeout, failures or start-delay");
        r = parse_fields(p, n, health_fields, ARRAY_SIZE(health_fields), h, found);
        if (!r && !h->argv)
                r = missing_key(p, n, "command");
        return r;
}

static int readiness_kind_from(const struct yamltree_node *n, enum readiness_kind *out)
{
        if (is_text(n, "none"))
                *out = READINESS_NONE;
        else if (is_text(n, "notify"))
                *out = READINESS_NOTIFY;
        else
                return -1;
        return 0;
}

static int parse_readiness_type(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct readiness_spec *rs = target;

        if (readiness_kind_from(n, &rs->kind) < 0)
                return expected(p, n, "none or notify");
        return 0;
}

static const struct field readiness_fields[] = {
        F_CUSTOM("type", parse_readiness_type),
        F_UINT("fd", struct readiness_spec, fd, 3, 1023, 0),
        F_DURATION("timeout", struct readiness_spec, timeout, 0),
};

static int parse_readiness(struct parser *p, const struct yamltree_node *n, void *target)
{
        const struct yamltree_node *found[ARRAY_SIZE(readiness_fields)] = { 0 };
        struct readiness_spec *rs = &((struct manifest *)target)->readiness;
        int r;

        if (n->kind == YAMLTREE_SCALAR && readiness_kind_from(n, &rs->kind) == 0)
                return 0;
        if (n->kind != YAMLTREE_MAP)
                return expected(p, n, "none, notify, or a mapping with type, fd or timeout");
        r = parse_fields(p, n, readiness_fields, ARRAY_SIZE(readiness_fields), rs, found);
        if (!r && !found_value(readiness_fields, ARRAY_SIZE(readiness_fields), found, "type"))
                r = missing_key(p, n, "type");
        return r;
}

static int parse_stop_signal(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct stop_spec *s = target;
        int sig = n->kind == YAMLTREE_SCALAR ? signal_from_text(n->value, n->len) : 0;

        if (!sig)
                return expected(p, n, "a signal name such as TERM or SIGINT, or a number from 1 to 64");
        s->signal = sig;
        return 0;
}

static const struct field stop_fields[] = {
        F_CUSTOM("signal", parse_stop_signal),
        F_DURATION("timeout", struct stop_spec, timeout, 0),
};

static int parse_stop(struct parser *p, const struct yamltree_node *n, void *target)
{
        const struct yamltree_node *found[ARRAY_SIZE(stop_fields)] = { 0 };

        if (n->kind != YAMLTREE_MAP)
                return expected(p, n, "a mapping with signal or timeout");
        return parse_fields(p, n, stop_fields, ARRAY_SIZE(stop_fields), &((struct manifest *)target)->stop,
                            found);
}

static int parse_limit_memory(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct limits_spec *l = target;
        uint64_t v;

        if (is_text(n, "unlimited")) {
                l->memory = 0;
                return 0;
        }
        if (n->kind != YAMLTREE_SCALAR || !parse_size(n->value, &v) || v < MEMORY_MIN)
                return expected(p, n, "a size of at least 1M such as 64M or 1G, or 'unlimited'");
        l->memory = v;
        return 0;
}

static const struct field limits_fields[] = {
        F_CUSTOM("memory", parse_limit_memory),
        F_UINT("pids", struct limits_spec, pids, 1, 1000000, FIELD_F_UNLIMITED),
        F_PERCENT("cpu", struct limits_spec, cpu_pc, 1, 10000, FIELD_F_UNLIMITED | FIELD_F_SIGN),
        F_UINT("files", struct limits_spec, files, 16, 1048576, 0),
        F_UINT("ipc-rate", struct limits_spec, ipc_rate, 1, 100000000, FIELD_F_UNLIMITED),
};

static int parse_limits(struct parser *p, const struct yamltree_node *n, void *target)
{
        const struct yamltree_node *found[ARRAY_SIZE(limits_fields)] = { 0 };

        if (n->kind != YAMLTREE_MAP)
                return expected(p, n, "a mapping with memory, pids, cpu or files");
        return parse_fields(p, n, limits_fields, ARRAY_SIZE(limits_fields), &((struct manifest *)target)->limits,
                            found);
}

/* ---- sandbox ---- */

#define SANDBOX_PATHS_MAX 32

/* Absolute, no "." or ".." component, no empty component, printable. */
static bool sandbox_path_valid(const char *s)
{
        size_t len = strlen(s);

        if (s[0] != '/' || len >= 1024 || strstr(s, "//") || (len > 1 && s[len - 1] == '/'))
                return false;
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return false;
        for (const char *c = s; (c = strchr(c, '/')); c++)
                if (!strncmp(c, "/./", 3) || !strcmp(c, "/.") || !strncmp(c, "/../", 4) || !strcmp(c, "/.."))
                        return false;
        return true;
}

static bool syscall_name_valid(const char *s)
{
        size_t len = strlen(s);

        if (!len || len > 31)
                return false;
        for (; *s; s++)
                if (!is_lower_alnum(*s) && *s != '_')
                        return false;
        return true;
}

static int parse_sandbox_paths(struct parser *p, const struct yamltree_node *n, char ***out)
{
        if (n->kind == YAMLTREE_LIST && n->n_items > SANDBOX_PATHS_MAX)
                return fail(p, n, "at most %u paths", SANDBOX_PATHS_MAX);
        return parse_names(p, n, sandbox_path_valid,
                           "an absolute path without '.' or '..' components (such as /var/lib/web), or a list of "
                           "them",
                           out, NULL);
}

static int parse_sandbox_ro(struct parser *p, const struct yamltree_node *n, void *target)
{
        return parse_sandbox_paths(p, n, &((struct sandbox_spec *)target)->read_only);
}

static int parse_sandbox_rw(struct parser *p, const struct yamltree_node *n, void *target)
{
        return parse_sandbox_paths(p, n, &((struct sandbox_spec *)target)->read_write);
}

static int parse_syscall_names(struct parser *p, const struct yamltree_node *n, char ***out)
{
        return parse_names(p, n, syscall_name_valid, "a system call name such as ptrace, or a list of them", out,
                           NULL);
}

static int parse_syscalls_allow(struct parser *p, const struct yamltree_node *n, void *target)
{
        return parse_syscall_names(p, n, &((struct sandbox_spec *)target)->syscalls_allow);
}

static int parse_syscalls_deny(struct parser *p, const struct yamltree_node *n, void *target)
{
        return parse_syscall_names(p, n, &((struct sandbox_spec *)target)->syscalls_deny);
}

static const struct field syscalls_fields[] = {
        F_CUSTOM("allow", parse_syscalls_allow),
        F_CUSTOM("deny", parse_syscalls_deny),
};

static int parse_sandbox_syscalls(struct parser *p, const struct yamltree_node *n, void *target)
{
        const struct yamltree_node *found[ARRAY_SIZE(syscalls_fields)] = { 0 };

        if (n->kind != YAMLTREE_MAP)
                return expected(p, n, "a mapping with allow or deny");
        return parse_fields(p, n, syscalls_fields, ARRAY_SIZE(syscalls_fields), target, found);
}

static int parse_sandbox_action(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct sandbox_spec *sb = target;

        if (is_text(n, "eperm"))
                sb->on_violation = SANDBOX_EPERM;
        else if (is_text(n, "kill"))
                sb->on_violation = SANDBOX_KILL;
        else
                return expected(p, n, "eperm or kill");
        return 0;
}

static const struct field sandbox_fields[] = {
        F_CUSTOM("read-only", parse_sandbox_ro),
        F_CUSTOM("read-write", parse_sandbox_rw),
        F_CUSTOM("syscalls", parse_sandbox_syscalls),
        F_CUSTOM("on-violation", parse_sandbox_action),
};

static int parse_sandbox(struct parser *p, const struct yamltree_node *n, void *target)
{
        const struct yamltree_node *found[ARRAY_SIZE(sandbox_fields)] = { 0 };
        struct sandbox_spec *sb = &((struct manifest *)target)->sandbox;

        if (is_text(n, "off") || is_text(n, "on")) {
                sb->enabled = n->value[1] == 'n';
                return 0;
        }
        if (n->kind != YAMLTREE_MAP)
                return expected(p, n, "on, off, or a mapping with read-only, read-write, syscalls or on-violation");
        sb->enabled = true;
        return parse_fields(p, n, sandbox_fields, ARRAY_SIZE(sandbox_fields), sb, found);
}

/* ---- config: reactions to configuration commits ---- */

/* A configuration path as orb-config spells it (net.iface[eth0].mtu):
 * printable, no spaces or quotes; orb-config's parser is the judge of
 * the rest, and a path it never sends simply never matches. */
static bool config_path_valid(const char *s)
{
        size_t n = strlen(s);

        if (!n || n > 255 || s[0] == '.' || s[0] == '[')
                return false;
        for (; *s; s++)
                if (*s <= ' ' || *s > '~' || *s == '"' || *s == '\'')
                        return false;
        return true;
}

static int parse_config_watch(struct parser *p, const struct yamltree_node *n, void *target)
{
        return parse_names(p, n, config_path_valid, "a configuration path such as net.iface, or a list of them",
                           &((struct config_binding *)target)->watch, NULL);
}

static int parse_config_action(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct config_binding *c = target;

        if (is_text(n, "restart"))
                c->on_change = CONFIG_RESTART;
        else if (is_text(n, "reload"))
                c->on_change = CONFIG_RELOAD;
        else
                return expected(p, n, "restart or reload");
        return 0;
}

static const struct field config_fields[] = {
        F_CUSTOM("watch", parse_config_watch),
        F_CUSTOM("on-change", parse_config_action),
};

static int parse_config(struct parser *p, const struct yamltree_node *n, void *target)
{
        const struct yamltree_node *found[ARRAY_SIZE(config_fields)] = { 0 };
        struct config_binding *c = &((struct manifest *)target)->config;
        int r;

        if (n->kind != YAMLTREE_MAP)
                return expected(p, n, "a mapping with watch and on-change");
        r = parse_fields(p, n, config_fields, ARRAY_SIZE(config_fields), c, found);
        if (r == 0 && !c->watch)
                return missing_key(p, n, "watch");
        return r;
}

static int parse_enabled(struct parser *p, const struct yamltree_node *n, void *target)
{
        struct manifest *m = target;

        if (!is_text(n, "true") && !is_text(n, "false"))
                return expected(p, n, "true or false");
        m->enabled = n->value[0] == 't';
        return 0;
}

static const struct field manifest_fields[] = {
        F_CUSTOM("name", parse_name),
        F_CUSTOM("description", parse_description),
        F_CUSTOM("command", parse_command),
        F_CUSTOM("environment", parse_environment),
        F_CUSTOM("working-directory", parse_working_directory),
        F_CUSTOM("user", parse_user),
        F_CUSTOM("group", parse_group),
        F_CUSTOM("requires", parse_requires),
        F_CUSTOM("after", parse_after),
        F_CUSTOM("restart", parse_restart),
        F_CUSTOM("backoff", parse_backoff),
        F_CUSTOM("breaker", parse_breaker),
        F_CUSTOM("health", parse_health),
        F_CUSTOM("readiness", parse_readiness),
        F_CUSTOM("stop", parse_stop),
        F_CUSTOM("limits", parse_limits),
        F_CUSTOM("capabilities", parse_capabilities),
        F_CUSTOM("sandbox", parse_sandbox),
        F_CUSTOM("config", parse_config),
        F_CUSTOM("enabled", parse_enabled),
};

/* ------------------------------------------------------------------------
 * The manifest
 */

static int manifest_new(const char *source, struct manifest **out)
{
        _cleanup_(manifest_freep) struct manifest *m = calloc(1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        m->source = strdup(source ? source : "");
        m->requires = calloc(1, sizeof(char *));
        m->after = calloc(1, sizeof(char *));
        m->capabilities = calloc(1, sizeof(char *));
        m->sandbox.read_only = calloc(1, sizeof(char *));
        m->sandbox.read_write = calloc(1, sizeof(char *));
        m->sandbox.syscalls_allow = calloc(1, sizeof(char *));
        m->sandbox.syscalls_deny = calloc(1, sizeof(char *));
        if (!m->source || !m->requires || !m->after || !m->capabilities || !m->sandbox.read_only ||
            !m->sandbox.read_write || !m->sandbox.syscalls_allow || !m->sandbox.syscalls_deny)
                return -ENOMEM;
        m->sandbox.enabled = true; /* a service starts with nothing: `sandbox: off` opts out */
        m->restart = RESTART_ON_FAILURE;
        m->backoff = (struct backoff_spec){ 100 * USEC_PER_MSEC, 30 * USEC_PER_SEC, 10, 30 * USEC_PER_SEC };
        m->breaker = (struct breaker_spec){ 5, 60 * USEC_PER_SEC, 60 * USEC_PER_SEC };
        m->health = (struct health_spec){ HEALTH_NONE, NULL, 10 * USEC_PER_SEC, 5 * USEC_PER_SEC, 3, 0 };
        m->readiness = (struct readiness_spec){ READINESS_NONE, 3, 30 * USEC_PER_SEC };
        m->stop = (struct stop_spec){ SIGTERM, 10 * USEC_PER_SEC };
        m->limits = (struct limits_spec){ LIMIT_MEMORY_DEFAULT, LIMIT_PIDS_DEFAULT, LIMIT_CPU_DEFAULT_PC,
                                          LIMIT_FILES_DEFAULT, LIMIT_IPC_RATE_DEFAULT };
        m->enabled = true;
        *out = take_ptr(m);
        return 0;
}

static int parse_root(struct parser *p, const struct yamltree_node *root, const char *default_name, struct manifest *m)
{
        const struct yamltree_node *found[ARRAY_SIZE(manifest_fields)] = { 0 };
        char q[DIAG_QUOTE_SIZE];
        size_t old;
        int r;

        if (root->kind == YAMLTREE_SCALAR && !root->len)
                return fail(p, root, "empty manifest: expected a mapping with at least 'command'");
        if (root->kind != YAMLTREE_MAP)
                return expected(p, root, "a mapping of manifest keys such as 'command'");
        r = parse_fields(p, root, manifest_fields, ARRAY_SIZE(manifest_fields), m, found);
        if (r)
                return r;
        if (!m->argv)
                return missing_key(p, root, "command");
        if (m->name[0])
                return 0;
        if (!default_name)
                return missing_key(p, root, "name");
        if (manifest_name_valid(default_name)) {
                memcpy(m->name, default_name, strlen(default_name) + 1);
                return 0;
        }
        old = path_push(p, "name");
        r = fail_at(p, 0, 0, "the file name gives the service name %s, which is not valid; rename the file or "
                             "set 'name'", diag_quote(q, sizeof(q), default_name, strlen(default_name)));
        path_pop(p, old);
        return r;
}

/**
 * manifest_parse() - parse one manifest from memory.
 * @text, @len: YAML bytes (need not be NUL-terminated; NULL if @len is 0)
 * @source: file name used in diagnostics and kept in ->source
 * @default_name: name used when the manifest has no `name:` (file stem);
 *                NULL makes `name:` required
 * @out: on success, a new manifest owned by the caller
 * @diag: on MANIFEST_E_INVALID, where and why; may be NULL
 *
 * Return: 0 on success, MANIFEST_E_INVALID on bad input (diag filled),
 * -ENOMEM.
 */
int manifest_parse(const char *text, size_t len, const char *source, const char *default_name,
                   struct manifest **out, struct orb_diag *diag)
{
        struct parser p = {
                .tree = YAMLTREE_INIT(&manifest_yaml_rules, text ? text : "", len, source, diag),
                .digest = FNV_OFFSET,
        };
        _cleanup_(yamltree_node_freep) struct yamltree_node *root = NULL;
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        int r;

        if (len > MANIFEST_SIZE_MAX)
                return fail_at(&p, 0, 0, "manifest too large: %zu bytes (max %u)", len, MANIFEST_SIZE_MAX);
        r = yamltree_build(&p.tree, &root);
        if (r)
                return r;
        r = manifest_new(source, &m);
        if (!r)
                r = parse_root(&p, root, default_name, m);
        if (r)
                return r;
        m->digest = p.digest;
        *out = take_ptr(m);
        return 0;
}

static int read_error(const char *path, int r, struct orb_diag *diag)
{
        diag_set_file(diag, path);
        diag_set(diag, 0, 0, NULL, "unable to read: %s", strerror(-r));
        return r;
}

static int too_large(const char *path, struct orb_diag *diag)
{
        diag_set_file(diag, path);
        diag_set(diag, 0, 0, NULL, "file too large (max %u bytes)", MANIFEST_SIZE_MAX);
        return MANIFEST_E_INVALID;
}

/* Reads all of @fd, at most MANIFEST_SIZE_MAX + 1 bytes; *out is NUL-terminated. */
static int read_all(int fd, size_t hint, char **out, size_t *out_len)
{
        size_t cap = (hint < MANIFEST_SIZE_MAX ? hint : MANIFEST_SIZE_MAX) + 2, len = 0;
        _cleanup_free_ char *buf = malloc(cap);

        if (!buf)
                return -ENOMEM;
        while (len + 1 < cap) {
                ssize_t n = read(fd, buf + len, cap - 1 - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len + 1 == cap && cap < MANIFEST_SIZE_MAX + 2) {
                        size_t c = cap * 2 < MANIFEST_SIZE_MAX + 2 ? cap * 2 : MANIFEST_SIZE_MAX + 2;
                        char *b = realloc(buf, c);

                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        cap = c;
                }
        }
        buf[len] = '\0';
        *out = take_ptr(buf);
        *out_len = len;
        return 0;
}

static int read_manifest_file(const char *path, char **out, size_t *len, struct orb_diag *diag)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        int r;

        if (fd < 0 || fstat(fd, &st) < 0)
                return read_error(path, -errno, diag);
        if (!S_ISREG(st.st_mode)) {
                diag_set_file(diag, path);
                diag_set(diag, 0, 0, NULL, "not a regular file");
                return MANIFEST_E_INVALID;
        }
        r = read_all(fd, (size_t)st.st_size, out, len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return read_error(path, r, diag);
        if (*len > MANIFEST_SIZE_MAX) {
                free(*out);
                *out = NULL;
                return too_large(path, diag);
        }
        return 0;
}

/* "dir/web.yaml" -> "web"; only the last extension goes. */
void manifest_file_stem(const char *path, char *buf, size_t n)
{
        const char *base = strrchr(path, '/'), *dot;
        size_t len;

        base = base ? base + 1 : path;
        dot = strrchr(base, '.');
        len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        snprintf(buf, n, "%.*s", (int)len, base);
}

/**
 * manifest_load_file() - read a manifest file and parse it.
 * @path: file to read; also the source name in ->source and diagnostics
 * @out: on success, a new manifest owned by the caller
 * @diag: on error, where and why; may be NULL
 *
 * The default name is the file's stem: "/etc/orbital/web.yaml" -> "web".
 *
 * Return: 0, MANIFEST_E_INVALID (bad content, not a regular file, larger
 * than MANIFEST_SIZE_MAX), -errno when the file cannot be opened or read
 * (diag names the file), -ENOMEM.
 */
int manifest_load_file(const char *path, struct manifest **out, struct orb_diag *diag)
{
        _cleanup_free_ char *text = NULL;
        char stem[NAME_MAX + 1];
        size_t len = 0;
        int r;

        r = read_manifest_file(path, &text, &len, diag);
        if (r)
                return r;
        manifest_file_stem(path, stem, sizeof(stem));
        return manifest_parse(text, len, path, stem, out, diag);
}

/**
 * manifest_free() - release a manifest and everything it owns.
 * @m: manifest, or NULL
 *
 * Return: NULL.
 */
struct manifest *manifest_free(struct manifest *m)
{
        if (!m)
                return NULL;
        free(m->description);
        free(m->source);
        strv_free(m->argv);
        for (unsigned i = 0; i < m->n_env; i++) {
                free(m->env[i].name);
                free(m->env[i].value);
        }
        free(m->env);
        free(m->working_directory);
        free(m->user);
        free(m->group);
        strv_free(m->requires);
        strv_free(m->after);
        free(m->requires_pos);
        free(m->after_pos);
        strv_free(m->capabilities);
        strv_free(m->sandbox.read_only);
        strv_free(m->sandbox.read_write);
        strv_free(m->sandbox.syscalls_allow);
        strv_free(m->sandbox.syscalls_deny);
        strv_free(m->config.watch);
        strv_free(m->health.argv);
        free(m);
        return NULL;
}

/**
 * restart_policy_name() - the manifest spelling of a restart policy.
 * @p: policy
 *
 * Return: "never", "always", "on-failure", "limited", or "unknown".
 */
const char *restart_policy_name(enum restart_policy p)
{
        switch (p) {
        case RESTART_NEVER:
                return "never";
        case RESTART_ALWAYS:
                return "always";
        case RESTART_ON_FAILURE:
                return "on-failure";
        case RESTART_LIMITED:
                return "limited";
        }
        return "unknown";
}
