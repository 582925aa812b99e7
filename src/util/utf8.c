/* UTF-8 validation and repair (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). */
#include <string.h>

#include "util/utf8.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
        unsigned c = s[0];
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
                len = 3;
                if (c == 0xE0)
                        lo = 0xA0; /* overlong */
                if (c == 0xED)
                        hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
                len = 4;
                if (c == 0xF0)
                        lo = 0x90;
                if (c == 0xF4)
                        hi = 0x8F; /* > U+10FFFF */
        } else {
                return 0;
        }
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (s[i] < 0x80 || s[i] > 0xBF)
                        return 0;
        return len;
}

size_t utf8_sanitized_len(const char *in, size_t n)
{
        const unsigned char *s = (const unsigned char *)in;
        size_t out = 0;

        for (size_t i = 0; i < n;) {
                size_t len = utf8_seq_len(s + i, n - i);
                out += len ? len : sizeof(replacement) - 1;
                i += len ? len : 1;
        }
        return out;
}

size_t utf8_sanitize(const char *in, size_t n, char *out)
{
        const unsigned char *s = (const unsigned char *)in;
        size_t o = 0;

        for (size_t i = 0; i < n;) {
                size_t len = utf8_seq_len(s + i, n - i);
                if (len) {
                        memcpy(out + o, in + i, len);
                        o += len;
                        i += len;
                } else {
                        memcpy(out + o, replacement, sizeof(replacement) - 1);
                        o += sizeof(replacement) - 1;
                        i++;
                }
        }
        out[o] = '\0';
        return o;
}

bool utf8_is_valid(const char *s, size_t n)
{
        const unsigned char *u = (const unsigned char *)s;

        for (size_t i = 0; i < n;) {
                size_t len = utf8_seq_len(u + i, n - i);
                if (!len)
                        return false;
                i += len;
        }
        return true;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
        if (n <= max)
                return n;
        while (max && ((unsigned char)s[max] & 0xC0) == 0x80)
                max--; /* s[max] continues a sequence: cut before it */
        return max;
}
