/*
 * UTF-8 validation for message.c and contract.c (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF).  Header-only, because
 * liborbital compiles the orb-wire sources in directly and must not pick
 * up symbols from src/util; util/utf8.c has the same rules.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid sequence at @s (at most @n bytes): 1..4, or 0. */
static inline size_t wire_utf8_char(const unsigned char *s, size_t n)
{
        unsigned lo = 0x80, hi = 0xbf;
        size_t len;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                len = 2;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                len = 3;
                lo = s[0] == 0xe0 ? 0xa0 : lo; /* overlong */
                hi = s[0] == 0xed ? 0x9f : hi; /* surrogates */
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                len = 4;
                lo = s[0] == 0xf0 ? 0x90 : lo; /* overlong */
                hi = s[0] == 0xf4 ? 0x8f : hi; /* past U+10FFFF */
        } else {
                return 0;
        }
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return len;
}

static inline bool wire_utf8_valid(const char *text, size_t n)
{
        const unsigned char *s = (const unsigned char *)text;

        for (size_t i = 0; i < n;) {
                size_t len = s[i] < 0x80 ? 1 : wire_utf8_char(s + i, n - i);

                if (!len)
                        return false;
                i += len;
        }
        return true;
}
