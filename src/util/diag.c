/*
 * Diagnostics for people.  A parser that meets bad input fills one
 * struct orb_diag (where, which field, what was expected, what was found)
 * and returns a documented code; it never prints.  The caller decides
 * where the text goes: a log record, an orbctl reply, a test assertion.
 *
 * This module owns the struct's text rules:
 *  - every string is cut to fit its buffer and always NUL-terminated;
 *  - values taken from the input are shown through diag_quote(), which
 *    escapes control characters and invalid UTF-8 and keeps at most
 *    DIAG_QUOTE_MAX bytes, so a hostile file cannot flood a log line or
 *    put escape sequences on a terminal;
 *  - diag_format() renders "file:line:col: field: message" and leaves out
 *    whatever is unknown, so no "::" or ": :" ever shows.
 */

#include <stdio.h>
#include <string.h>

#include "util/diag.h"
#include "util/strbuf.h"

/**
 * diag_set() - record where and why input was refused.
 * @d: diagnostic to fill; NULL is allowed and ignored
 * @line, @column: 1-based position, 0 if unknown
 * @field: dotted field path, NULL or "" if none
 * @fmt: printf format of the message
 *
 * @d->file is left alone: the caller sets it once with diag_set_file().
 */
void diag_set(struct orb_diag *d, unsigned line, unsigned column, const char *field, const char *fmt, ...)
{
        va_list ap;

        if (!d)
                return;
        d->line = line;
        d->column = column;
        snprintf(d->field, sizeof(d->field), "%s", field ? field : "");
        va_start(ap, fmt);
        vsnprintf(d->message, sizeof(d->message), fmt, ap);
        va_end(ap);
}

/**
 * diag_set_file() - name the input a diagnostic is about.
 * @d: diagnostic; NULL is allowed and ignored
 * @file: input name, cut to fit; NULL clears it
 */
void diag_set_file(struct orb_diag *d, const char *file)
{
        if (d)
                snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
}


/**
 * diag_format() - render a diagnostic on one line.
 * @d: the diagnostic
 * @buf, @n: output buffer; cut to fit and always terminated when @n > 0
 *
 * "file:line:col: field: message".  Unknown parts are left out with their
 * separator: "file: message", "3:7: field: message", "message".
 *
 * Return: @buf.
 */
char *diag_format(const struct orb_diag *d, char *buf, unsigned n)
{
        size_t pos = 0;

        if (!n)
                return buf;
        buf[0] = '\0';
        buf_appendf(buf, n, &pos, "%s", d->file);
        if (d->line) {
                buf_appendf(buf, n, &pos, "%s%u", d->file[0] ? ":" : "", d->line);
                if (d->column)
                        buf_appendf(buf, n, &pos, ":%u", d->column);
        }
        if (pos)
                buf_appendf(buf, n, &pos, ": ");
        if (d->field[0])
                buf_appendf(buf, n, &pos, "%s: ", d->field);
        buf_appendf(buf, n, &pos, "%s", d->message);
        return buf;
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
        size_t need;
        unsigned cp;

        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                need = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                need = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                need = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (len < need)
                return 0;
        for (size_t i = 1; i < need; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates, past U+10FFFF. */
        if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
            cp > 0x10ffff)
                return 0;
        return need;
}

/* The printable form of the character at s: into out, returns bytes used. */
static size_t quote_char(const unsigned char *s, size_t len, char out[8])
{
        size_t u;

        switch (s[0]) {
        case '\n':
                memcpy(out, "\\n", 3);
                return 1;
        case '\t':
                memcpy(out, "\\t", 3);
                return 1;
        case '\r':
                memcpy(out, "\\r", 3);
                return 1;
        case '\\':
        case '\'':
                out[0] = '\\', out[1] = (char)s[0], out[2] = '\0';
                return 1;
        }
        if (s[0] >= 0x20 && s[0] < 0x7f) {
                out[0] = (char)s[0], out[1] = '\0';
                return 1;
        }
        u = s[0] >= 0x80 ? utf8_len(s, len) : 0;
        if (u) {
                memcpy(out, s, u);
                out[u] = '\0';
                return u;
        }
        snprintf(out, 8, "\\x%02x", s[0]);
        return 1;
}

/**
 * diag_quote() - show an input value inside a message.
 * @buf, @n: output buffer, DIAG_QUOTE_SIZE is always enough
 * @s, @len: the value; need not be NUL-terminated, may hold any byte
 *
 * The value is put in single quotes.  Newline, tab, CR, backslash and
 * quote get a backslash escape; other control bytes and invalid UTF-8 are
 * written \xNN; valid UTF-8 stays as it is.  After DIAG_QUOTE_MAX input
 * bytes the value is cut at a character boundary and "..." follows the
 * closing quote.
 *
 * Return: @buf.
 */
char *diag_quote(char *buf, size_t n, const char *s, size_t len)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t pos = 1, i = 0;
        char c[8];

        if (n < 3) {
                if (n)
                        buf[0] = '\0';
                return buf;
        }
        buf[0] = '\'';
        while (i < len && i < DIAG_QUOTE_MAX) {
                size_t used = quote_char(u + i, len - i, c), w = strlen(c);

                if (pos + w + 2 > n)
                        break;
                memcpy(buf + pos, c, w);
                pos += w;
                i += used;
        }
        buf[pos++] = '\'';
        buf[pos] = '\0';
        if (i < len && pos + 4 <= n)
                memcpy(buf + pos, "...", 4);
        return buf;
}
