/*
 * Configuration paths: parse, check, compare, and the subtree ranges the
 * store scans.
 *
 * Grammar (path.h):
 *
 *     path    = segment *( "." segment )
 *     segment = name [ "[" key "]" ]
 *     name    = 1*( a-z / 0-9 / "_" / "-" )
 *     key     = 1*( printable but "]" )
 *
 * A refusal names the 1-based byte position and what was expected there.
 * No position past the text is ever reported but one: the end, where a
 * name or a closing bracket may be missing.
 *
 * Ordering: texts compare bytewise.  A subtree is contiguous because a
 * valid path never has '.' or '[' right after a name except as a
 * separator, and a key holds no ']': every path inside P starts with
 * "P." or "P[" and nothing else does (path_subtree_ranges()).
 */

#include <string.h>

#include "config/path.h"
#include "util/utf8.h"

static bool is_name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool path_name_is_valid(const char *s, size_t len)
{
        if (!len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_name_char(s[i]))
                        return false;
        return true;
}

/* Length of the key character at s (1..4), 0 if it cannot be in a key. */
static size_t key_char_len(const char *s, size_t n)
{
        unsigned char c = (unsigned char)s[0];

        if (c >= 0x80)
                return utf8_seq_len((const unsigned char *)s, n);
        if (c < 0x20 || c == 0x7f || c == ']')
                return 0;
        return 1;
}

bool path_key_is_valid(const char *s, size_t len)
{
        if (!len)
                return false;
        for (size_t i = 0; i < len;) {
                size_t l = key_char_len(s + i, len - i);

                if (!l)
                        return false;
                i += l;
        }
        return true;
}

static int fail(struct orb_diag *d, const char *text, size_t pos, const char *expected)
{
        char q[DIAG_QUOTE_SIZE], f[DIAG_QUOTE_SIZE];
        size_t len = strlen(text);

        if (pos >= len)
                diag_set(d, 0, 0, NULL, "bad path %s: position %zu: expected %s, found the end",
                         diag_quote(q, sizeof(q), text, len), pos + 1, expected);
        else
                diag_set(d, 0, 0, NULL, "bad path %s: position %zu: expected %s, found %s",
                         diag_quote(q, sizeof(q), text, len), pos + 1, expected,
                         diag_quote(f, sizeof(f), text + pos, 1));
        return PATH_E_INVALID;
}

/* One segment at text[*pos]; *pos ends past it. */
static int parse_seg(const char *text, size_t len, size_t *pos, struct path_seg *seg, struct orb_diag *d)
{
        size_t i = *pos;

        seg->name = text + i;
        while (i < len && is_name_char(text[i]))
                i++;
        seg->name_len = (size_t)(text + i - seg->name);
        if (!seg->name_len)
                return fail(d, text, i, "a name of a-z, 0-9, '_' or '-'");
        seg->key = NULL;
        seg->key_len = 0;
        if (i < len && text[i] == '[') {
                i++;
                seg->key = text + i;
                while (i < len && text[i] != ']') {
                        size_t l = key_char_len(text + i, len - i);

                        if (!l)
                                return fail(d, text, i, "a printable key character");
                        i += l;
                }
                seg->key_len = (size_t)(text + i - seg->key);
                if (i >= len)
                        return fail(d, text, i, "']' to close the key");
                if (!seg->key_len)
                        return fail(d, text, i, "a key of at least one character");
                i++;
        }
        if (i < len && text[i] != '.')
                return fail(d, text, i, seg->key ? "'.' or the end" : "'.', '[' or the end");
        seg->end = i;
        *pos = i;
        return 0;
}

/**
 * path_parse() - split a path into segments.
 * @text: NUL-terminated text; borrowed by @out
 * @out: the parsed path
 * @d: filled on refusal; may be NULL
 *
 * Return: 0, or PATH_E_INVALID (too long, too many segments, bad syntax).
 */
int path_parse(const char *text, struct path *out, struct orb_diag *d)
{
        size_t len = strlen(text), pos = 0;
        char q[DIAG_QUOTE_SIZE];
        int r;

        out->text = text;
        out->len = len;
        out->n_segs = 0;
        if (len > PATH_TEXT_MAX) {
                diag_set(d, 0, 0, NULL, "bad path %s: longer than %d bytes", diag_quote(q, sizeof(q), text, len),
                         PATH_TEXT_MAX);
                return PATH_E_INVALID;
        }
        for (;;) {
                if (out->n_segs == PATH_SEGS_MAX)
                        return fail(d, text, pos, "the end (at most 32 segments)");
                r = parse_seg(text, len, &pos, &out->segs[out->n_segs], d);
                if (r)
                        return r;
                out->n_segs++;
                if (pos == len)
                        return 0;
                pos++; /* the '.' */
        }
}

bool path_is_valid(const char *text)
{
        struct path p;

        return path_parse(text, &p, NULL) == 0;
}

size_t path_prefix_len(const struct path *p, unsigned n)
{
        return n ? p->segs[n - 1].end : 0;
}

bool path_format_entry(char *buf, size_t n, const char *list, const char *key, size_t key_len)
{
        size_t l = strlen(list);

        if (!path_key_is_valid(key, key_len) || l + key_len + 3 > n || l + key_len + 2 > PATH_TEXT_MAX)
                return false;
        memcpy(buf, list, l);
        buf[l] = '[';
        memcpy(buf + l + 1, key, key_len);
        buf[l + 1 + key_len] = ']';
        buf[l + 2 + key_len] = '\0';
        return true;
}

bool path_has_prefix(const char *path, const char *prefix)
{
        size_t l = strlen(prefix);

        if (strncmp(path, prefix, l))
                return false;
        if (path[l] == '\0' || path[l] == '.')
                return true;
        /* "a.l[k]" is inside "a.l"; after a key, only '.' may follow. */
        return path[l] == '[' && l && prefix[l - 1] != ']';
}

int path_compare(const char *a, const char *b)
{
        return strcmp(a, b);
}

void path_subtree_ranges(const char *prefix, char lo[2][PATH_TEXT_MAX + 2], char hi[2][PATH_TEXT_MAX + 2])
{
        size_t l = strnlen(prefix, PATH_TEXT_MAX);
        static const char sep[2] = { '.', '[' };

        for (int i = 0; i < 2; i++) {
                memcpy(lo[i], prefix, l);
                memcpy(hi[i], prefix, l);
                lo[i][l] = sep[i];
                hi[i][l] = (char)(sep[i] + 1);
                lo[i][l + 1] = hi[i][l + 1] = '\0';
        }
}
