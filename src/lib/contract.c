/*
 * Contracts: the interface language of contract.h, from text to a checked
 * struct orb_contract; the schema check of a message against a field list;
 * version numbers and ranges.
 *
 * The parser reads the text a line at a time.  It first checks the text
 * as a whole (size, UTF-8, no control characters but tab and a CR before
 * LF), so later errors only have to talk about tokens.  A `#` starts a
 * comment that runs to the end of its line: the language has no quoted
 * strings, so a `#` can mean nothing else.  Blanks (space, tab) may stand
 * between any two tokens and are needed only between two words.
 *
 * Each refusal is "line N: expected <what>, found <what was there>", the
 * found part quoted with anything unprintable as \xNN, so an error can go
 * to a terminal as it is.
 *
 * Limits keep a registered contract small: ORB_CONTRACT_MAX bytes of text,
 * METHODS_MAX methods, FIELDS_MAX fields in one list.  Lookups are linear
 * scans: with these limits they cost less than a hash table would.
 *
 * Numbers in the text (ids, tags, versions) are plain decimal without
 * leading zeros, so each has one spelling.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbital/contract.h"
#include "util/cleanup.h"
#include "util/utf8.h"
#include "wire.h"

#define METHODS_MAX 256u
#define FIELDS_MAX 64u
#define NAME_LEN_MAX 63u
#define ID_MAX 65535u
#define VERSION_DIGITS_MAX 9 /* so a component fits any unsigned */
#define FOUND_MAX 24         /* input bytes quoted in an error */

struct parser {
        struct orb_contract *c;
        const char *p, *end; /* the rest of the line at hand, comment cut off */
        unsigned line;       /* 1-based */
        unsigned method_line[METHODS_MAX]; /* where each method is, for duplicates */
        char *err;           /* borrowed, may be NULL */
        size_t err_size;
};

static void field_list_free(struct orb_field *f, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                free(f[i].name);
        free(f);
}

struct orb_contract *orb_contract_free(struct orb_contract *c)
{
        if (!c)
                return NULL;
        for (unsigned i = 0; i < c->n_methods; i++) {
                struct orb_method *m = &c->methods[i];

                free(m->name);
                field_list_free(m->in, m->n_in);
                field_list_free(m->out, m->n_out);
        }
        free(c->methods);
        free(c->name);
        free(c->text);
        free(c);
        return NULL;
}

DEFINE_CLEANUP(struct orb_contract *, orb_contract_free)

/* ------------------------------------------------------------------------
 * Errors
 */

__attribute__((format(printf, 2, 3))) static int fail(struct parser *ps, const char *fmt, ...)
{
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (ps->err && ps->err_size)
                snprintf(ps->err, ps->err_size, "line %u: %s", ps->line, msg);
        return -ORB_E_INVALID;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static bool is_word_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void skip_blanks(struct parser *ps)
{
        while (ps->p < ps->end && is_blank(*ps->p))
                ps->p++;
}

/* What comes next on the line, quoted, for "found ...". */
static const char *found(struct parser *ps, char *buf, size_t size)
{
        size_t pos = 0;
        const char *s;

        skip_blanks(ps);
        if (ps->p == ps->end)
                return "end of line";
        buf[pos++] = '\'';
        for (s = ps->p; s < ps->end && !is_blank(*s) && s - ps->p < FOUND_MAX && pos + 6 < size; s++) {
                unsigned char ch = (unsigned char)*s;

                if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'')
                        buf[pos++] = (char)ch;
                else
                        pos += (size_t)snprintf(buf + pos, size - pos, "\\x%02x", ch);
        }
        buf[pos++] = '\'';
        buf[pos] = '\0';
        if (s < ps->end && !is_blank(*s) && pos + 4 <= size)
                memcpy(buf + pos, "...", 4);
        return buf;
}

static int expected(struct parser *ps, const char *what)
{
        char buf[4 * FOUND_MAX + 8];

        return fail(ps, "expected %s, found %s", what, found(ps, buf, sizeof(buf)));
}

/* ------------------------------------------------------------------------
 * Tokens
 */

static bool at_eol(struct parser *ps)
{
        skip_blanks(ps);
        return ps->p == ps->end;
}

/* Consumes punctuation @tok if it comes next. */
static bool eat(struct parser *ps, const char *tok)
{
        size_t n = strlen(tok);

        skip_blanks(ps);
        if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, tok, n) != 0)
                return false;
        ps->p += n;
        return true;
}

/* The word that comes next (letters of any case, digits, '_'). */
static size_t word(struct parser *ps)
{
        size_t n = 0;

        skip_blanks(ps);
        while (ps->p + n < ps->end && is_word_char(ps->p[n]))
                n++;
        return n;
}

static bool keyword(struct parser *ps, const char *kw)
{
        size_t n = word(ps);

        if (n != strlen(kw) || memcmp(ps->p, kw, n) != 0)
                return false;
        ps->p += n;
        return true;
}

static bool name_valid(const char *s, size_t n)
{
        if (n == 0 || n > NAME_LEN_MAX || s[0] < 'a' || s[0] > 'z')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

/* A name: @what is "a method name" and the like. */
static int name(struct parser *ps, const char *what, char **out)
{
        char buf[96];
        size_t n = word(ps);

        if (!name_valid(ps->p, n)) {
                snprintf(buf, sizeof(buf), "%s ([a-z][a-z0-9_]*, at most %u characters)", what, NAME_LEN_MAX);
                return expected(ps, buf);
        }
        *out = strndup(ps->p, n);
        if (!*out)
                return -ENOMEM;
        ps->p += n;
        return 0;
}

/* Decimal digits at @s, no sign, no leading zero: the end, or NULL. */
static const char *number_scan(const char *s, const char *end, unsigned long *v)
{
        unsigned long n = 0;
        const char *p = s;

        while (p < end && *p >= '0' && *p <= '9') {
                if (p - s == VERSION_DIGITS_MAX)
                        return NULL;
                n = n * 10 + (unsigned long)(*p - '0');
                p++;
        }
        if (p == s || (*s == '0' && p - s > 1))
                return NULL;
        *v = n;
        return p;
}

/* An id or tag: 1..ID_MAX. */
static int id(struct parser *ps, const char *what, uint16_t *out)
{
        char buf[64];
        unsigned long v;
        const char *e;

        skip_blanks(ps);
        e = number_scan(ps->p, ps->end, &v);
        if (!e || v < 1 || v > ID_MAX || (e < ps->end && is_word_char(*e))) {
                snprintf(buf, sizeof(buf), "%s 1..%u", what, ID_MAX);
                return expected(ps, buf);
        }
        *out = (uint16_t)v;
        ps->p = e;
        return 0;
}

/* Grows an array of @size-byte items holding @n, at powers of two. */
static int grow(void **array, unsigned n, size_t size)
{
        void *p;

        if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
                return 0;
        p = realloc(*array, (n ? 2 * n : 4) * size);
        if (!p)
                return -ENOMEM;
        *array = p;
        return 0;
}

/* ------------------------------------------------------------------------
 * Lines
 */

static const struct {
        const char *name;
        uint8_t type;
} type_names[] = {
        {"bool", ORB_TYPE_BOOL}, {"i64", ORB_TYPE_I64},     {"u64", ORB_TYPE_U64},
        {"str", ORB_TYPE_STR},   {"bytes", ORB_TYPE_BYTES},
};

static int field_type(struct parser *ps, struct orb_field *f)
{
        for (size_t i = 0; i < ARRAY_SIZE(type_names); i++) {
                if (keyword(ps, type_names[i].name)) {
                        f->type = type_names[i].type;
                        return 0;
                }
        }
        return expected(ps, "a type (bool, i64, u64, str, bytes)");
}

/* `NAME: TYPE[[]][?]@TAG`, the last of the @n fields in @list. */
static int parse_field(struct parser *ps, struct orb_field *list, unsigned n)
{
        struct orb_field *f = &list[n - 1];
        int r;

        r = name(ps, "a field name", &f->name);
        if (r < 0)
                return r;
        for (unsigned i = 0; i + 1 < n; i++)
                if (!strcmp(list[i].name, f->name))
                        return fail(ps, "expected a unique field name, found '%s' again", f->name);
        if (!eat(ps, ":"))
                return expected(ps, "':' and a type");
        r = field_type(ps, f);
        if (r < 0)
                return r;
        if (eat(ps, "[")) {
                if (!eat(ps, "]"))
                        return expected(ps, "']'");
                f->is_repeated = f->is_optional = true;
        }
        if (eat(ps, "?"))
                f->is_optional = true;
        if (!eat(ps, "@"))
                return expected(ps, "'@' and a field tag");
        r = id(ps, "a field tag", &f->tag);
        if (r < 0)
                return r;
        for (unsigned i = 0; i + 1 < n; i++)
                if (list[i].tag == f->tag)
                        return fail(ps, "expected a unique field tag, found %u again (field '%s')", f->tag,
                                    list[i].name);
        return 0;
}

/* `(FIELDS)`, comma-separated, possibly empty. */
static int parse_fields(struct parser *ps, struct orb_field **list, unsigned *n)
{
        int r;

        if (!eat(ps, "("))
                return expected(ps, "'('");
        if (eat(ps, ")"))
                return 0;
        for (;;) {
                if (*n >= FIELDS_MAX)
                        return fail(ps, "expected at most %u fields in a list", FIELDS_MAX);
                r = grow((void **)list, *n, sizeof(**list));
                if (r < 0)
                        return r;
                (*list)[(*n)++] = (struct orb_field){0};
                r = parse_field(ps, *list, *n);
                if (r < 0)
                        return r;
                if (eat(ps, ")"))
                        return 0;
                if (!eat(ps, ","))
                        return expected(ps, "',' or ')'");
        }
}

static int parse_interface(struct parser *ps)
{
        struct orb_contract *c = ps->c;
        char version[2 * VERSION_DIGITS_MAX + 2];
        const char *start;
        size_t n;
        int r;

        if (!keyword(ps, "interface"))
                return expected(ps, "'interface NAME MAJOR.MINOR'");
        r = name(ps, "an interface name", &c->name);
        if (r < 0)
                return r;
        skip_blanks(ps);
        for (start = ps->p; ps->p < ps->end && !is_blank(*ps->p); ps->p++)
                ;
        n = (size_t)(ps->p - start);
        if (n < sizeof(version)) {
                memcpy(version, start, n);
                version[n] = '\0';
        }
        if (n >= sizeof(version) || !orb_version_parse(version, &c->major, &c->minor)) {
                ps->p = start;
                return expected(ps, "a version MAJOR.MINOR");
        }
        if (!at_eol(ps))
                return expected(ps, "end of line");
        return 0;
}

/* Name and id of the last method, checked against the others. */
static int method_name_id(struct parser *ps, struct orb_method *m)
{
        struct orb_contract *c = ps->c;
        int r;

        r = name(ps, "a method name", &m->name);
        if (r < 0)
                return r;
        for (unsigned i = 0; i + 1 < c->n_methods; i++)
                if (!strcmp(c->methods[i].name, m->name))
                        return fail(ps, "expected a unique method name, found '%s' again (first on line %u)",
                                    m->name, ps->method_line[i]);
        if (!eat(ps, "@"))
                return expected(ps, "'@' and a method id");
        r = id(ps, "a method id", &m->id);
        if (r < 0)
                return r;
        for (unsigned i = 0; i + 1 < c->n_methods; i++)
                if (c->methods[i].id == m->id)
                        return fail(ps, "expected a unique method id, found %u again (method '%s' on line %u)",
                                    m->id, c->methods[i].name, ps->method_line[i]);
        return 0;
}

/* `method NAME@ID RIGHT [oneway] (FIELDS) [-> (FIELDS)]` */
static int parse_method(struct parser *ps)
{
        struct orb_contract *c = ps->c;
        struct orb_method *m;
        int r;

        if (keyword(ps, "interface"))
                return fail(ps, "expected 'method', found a second 'interface'");
        if (!keyword(ps, "method"))
                return expected(ps, "'method'");
        if (c->n_methods >= METHODS_MAX)
                return fail(ps, "expected at most %u methods", METHODS_MAX);
        r = grow((void **)&c->methods, c->n_methods, sizeof(*c->methods));
        if (r < 0)
                return r;
        m = &c->methods[c->n_methods];
        *m = (struct orb_method){0};
        ps->method_line[c->n_methods++] = ps->line;
        r = method_name_id(ps, m);
        if (r < 0)
                return r;
        if (keyword(ps, "read"))
                m->right = ORB_RIGHT_READ;
        else if (keyword(ps, "write"))
                m->right = ORB_RIGHT_WRITE;
        else
                return expected(ps, "'read' or 'write'");
        m->is_oneway = keyword(ps, "oneway");
        r = parse_fields(ps, &m->in, &m->n_in);
        if (r < 0)
                return r;
        if (m->is_oneway) {
                if (!at_eol(ps))
                        return expected(ps, "end of line (a oneway method has no reply)");
                return 0;
        }
        if (eat(ps, "->")) {
                r = parse_fields(ps, &m->out, &m->n_out);
                if (r < 0)
                        return r;
                if (!at_eol(ps))
                        return expected(ps, "end of line");
        } else if (!at_eol(ps)) {
                return expected(ps, "'->' or end of line");
        }
        return 0;
}

/* The text as a whole: what a line can hold, and where it does not. */
static int check_text(struct parser *ps, const char *text, size_t len)
{
        const unsigned char *s = (const unsigned char *)text;

        ps->line = 1;
        for (size_t i = 0; i < len;) {
                size_t n = 1;

                if (s[i] == '\n')
                        ps->line++;
                else if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
                        ;
                else if (s[i] == '\0')
                        return fail(ps, "expected text, found a NUL byte");
                else if (s[i] >= 0x80 && !(n = utf8_seq_len(s + i, len - i)))
                        return fail(ps, "expected UTF-8 text, found byte 0x%02x", s[i]);
                else if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
                        return fail(ps, "expected text, found control character 0x%02x", s[i]);
                i += n;
        }
        return 0;
}

static int parse_lines(struct parser *ps, const char *s, size_t len)
{
        const char *end = s + len;
        int r;

        for (ps->line = 1;; ps->line++) {
                const char *eol = memchr(s, '\n', (size_t)(end - s));
                const char *le = eol ? eol : end;
                const char *hash = memchr(s, '#', (size_t)(le - s));

                ps->p = s;
                ps->end = hash ? hash : le;
                if (!hash && le > s && le[-1] == '\r')
                        ps->end--;
                if (!at_eol(ps)) {
                        r = ps->c->name ? parse_method(ps) : parse_interface(ps);
                        if (r < 0)
                                return r;
                }
                if (!eol)
                        break;
                s = eol + 1;
        }
        if (!ps->c->name)
                return fail(ps, "expected 'interface NAME MAJOR.MINOR', found end of text");
        return 0;
}

/**
 * orb_contract_parse() - parse contract text.
 * @text, @len: the text (need not be NUL-terminated; NULL if @len is 0)
 * @out: on success, a new contract owned by the caller; its ->text is a
 *       NUL-terminated copy of the input
 * @err, @err_size: on -ORB_E_INVALID, "line N: expected ..." (may be NULL)
 *
 * Return: 0, -ORB_E_INVALID, -ENOMEM.
 */
int orb_contract_parse(const char *text, size_t len, struct orb_contract **out, char *err, size_t err_size)
{
        _cleanup_(orb_contract_freep) struct orb_contract *c = NULL;
        struct parser parser = {.line = 1, .err = err, .err_size = err_size};
        struct parser *ps = &parser;
        int r;

        if (err && err_size)
                err[0] = '\0';
        if (len > ORB_CONTRACT_MAX)
                return fail(ps, "expected at most %u bytes of contract, found %zu", ORB_CONTRACT_MAX, len);
        r = check_text(ps, text, len);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->text = malloc(len + 1);
        if (!c->text)
                return -ENOMEM;
        if (len)
                memcpy(c->text, text, len);
        c->text[len] = '\0';
        ps->c = c;
        r = parse_lines(ps, c->text, len);
        if (r < 0)
                return r;
        *out = take_ptr(c);
        return 0;
}

const struct orb_method *orb_contract_method(const struct orb_contract *c, const char *name)
{
        for (unsigned i = 0; name && i < c->n_methods; i++)
                if (!strcmp(c->methods[i].name, name))
                        return &c->methods[i];
        return NULL;
}

const struct orb_method *orb_contract_method_by_id(const struct orb_contract *c, unsigned id)
{
        for (unsigned i = 0; i < c->n_methods; i++)
                if (c->methods[i].id == id)
                        return &c->methods[i];
        return NULL;
}

/* ------------------------------------------------------------------------
 * Schema check
 */

static const char *wire_type_name(uint8_t type)
{
        for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
                if (type_names[i].type == type)
                        return type_names[i].name;
        return type == ORB_TYPE_MEMFD ? "bytes (memfd)" : "an unknown type";
}

/**
 * orb_msg_check() - check a message's fields against a field list.
 * @m: a parsed (or built) message
 * @fields, @n_fields: the schema, e.g. a method's ->in
 * @err, @err_size: on -ORB_E_INVALID, "field 'x' (tag 2): ..." (may be NULL)
 *
 * Checks fields in schema order, so the first problem reported is that of
 * the first field in the schema.  Fields of tags the schema does not know
 * pass: they are how a newer minor version talks to an older peer.
 *
 * Return: 0 or -ORB_E_INVALID.
 */
int orb_msg_check(const struct orb_msg *m, const struct orb_field *fields, unsigned n_fields, char *err,
                  size_t err_size)
{
        for (unsigned i = 0; i < n_fields; i++) {
                const struct orb_field *f = &fields[i];
                unsigned count = 0;

                for (unsigned k = 0; k < m->n_values; k++) {
                        const struct orb_value *v = &m->values[k];

                        if (v->tag != f->tag)
                                continue;
                        if (v->type != f->type && !(f->type == ORB_TYPE_BYTES && v->type == ORB_TYPE_MEMFD))
                                return wire_errorf(-ORB_E_INVALID, err, err_size, "field '%s' (tag %u): expected %s, found %s",
                                               f->name, f->tag, wire_type_name(f->type), wire_type_name(v->type));
                        count++;
                }
                if (count == 0 && !f->is_optional && !f->is_repeated)
                        return wire_errorf(-ORB_E_INVALID, err, err_size, "field '%s' (tag %u): missing", f->name, f->tag);
                if (count > 1 && !f->is_repeated)
                        return wire_errorf(-ORB_E_INVALID, err, err_size, "field '%s' (tag %u): given %u times, expected once",
                                       f->name, f->tag, count);
        }
        if (err && err_size)
                err[0] = '\0';
        return 0;
}

/* ------------------------------------------------------------------------
 * Versions
 */

/*
 * "M.m", or "M" alone when @has_minor is not NULL.  Returns the end, or
 * NULL if there is no version at @s.
 */
static const char *version_scan(const char *s, unsigned *major, unsigned *minor, bool *has_minor)
{
        const char *end = s + strlen(s);
        unsigned long a, b = 0;
        const char *p = number_scan(s, end, &a);

        if (!p)
                return NULL;
        if (*p == '.') {
                p = number_scan(p + 1, end, &b);
                if (!p)
                        return NULL;
                if (has_minor)
                        *has_minor = true;
        } else if (has_minor) {
                *has_minor = false;
        } else {
                return NULL;
        }
        *major = (unsigned)a;
        *minor = (unsigned)b;
        return p;
}

/**
 * orb_version_parse() - read a version "MAJOR.MINOR".
 * @s: the text; each number is decimal, without sign or leading zero, at
 *     most 9 digits; nothing may follow
 * @major, @minor: set on success
 *
 * Return: true if @s is well-formed.
 */
bool orb_version_parse(const char *s, unsigned *major, unsigned *minor)
{
        unsigned a, b;
        const char *e = s ? version_scan(s, &a, &b, NULL) : NULL;

        if (!e || *e)
                return false;
        *major = a;
        *minor = b;
        return true;
}

enum version_op { OP_EQ, OP_GE, OP_GT, OP_LE, OP_LT };

static const char *version_op(const char *s, enum version_op *op)
{
        static const struct {
                const char *text;
                enum version_op op;
        } ops[] = {{">=", OP_GE}, {"<=", OP_LE}, {">", OP_GT}, {"<", OP_LT}, {"=", OP_EQ}};

        for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
                size_t n = strlen(ops[i].text);

                if (!strncmp(s, ops[i].text, n)) {
                        *op = ops[i].op;
                        return s + n;
                }
        }
        *op = OP_EQ;
        return s;
}

/* One condition; a bare major M stands for M.0, but "=M" for any M.x. */
static bool version_holds(enum version_op op, unsigned major, unsigned minor, unsigned want_major,
                          unsigned want_minor, bool has_minor)
{
        int cmp = major != want_major ? (major > want_major) - (major < want_major)
                                      : (minor > want_minor) - (minor < want_minor);

        switch (op) {
        case OP_EQ:
                return has_minor ? cmp == 0 : major == want_major;
        case OP_GE:
                return cmp >= 0;
        case OP_GT:
                return cmp > 0;
        case OP_LE:
                return cmp <= 0;
        case OP_LT:
                return cmp < 0;
        }
        return false;
}

static const char *skip_spaces(const char *s)
{
        while (is_blank(*s))
                s++;
        return s;
}

/**
 * orb_version_match() - does MAJOR.MINOR fall in a version range?
 * @range: conditions as contract.h describes; NULL, "" or "*" is any;
 *         blanks may stand around conditions and operators
 * @major, @minor: the version to test
 * @match: set when @range is well-formed
 *
 * Return: true if @range is well-formed.
 */
bool orb_version_match(const char *range, unsigned major, unsigned minor, bool *match)
{
        const char *p = skip_spaces(range ? range : "");
        bool all = true;

        if (*p == '*')
                p = skip_spaces(p + 1);
        else if (*p)
                for (;;) {
                        enum version_op op;
                        unsigned want_major, want_minor;
                        bool has_minor;

                        p = skip_spaces(version_op(p, &op));
                        p = version_scan(p, &want_major, &want_minor, &has_minor);
                        if (!p)
                                return false;
                        all &= version_holds(op, major, minor, want_major, want_minor, has_minor);
                        p = skip_spaces(p);
                        if (*p != ',')
                                break;
                        p = skip_spaces(p + 1);
                }
        if (*p)
                return false;
        *match = all;
        return true;
}
