/* Unit test of UTF-8 repair: valid text passes unchanged, every kind of
 * invalid sequence becomes U+FFFD, lengths agree. */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

static void check(const char *in, size_t n, const char *expect)
{
        char out[256];
        size_t len = utf8_sanitize(in, n, out);

        assert(len == utf8_sanitized_len(in, n));
        assert(len == strlen(expect));
        assert(memcmp(out, expect, len) == 0);
}

int main(void)
{
#define R "\xEF\xBF\xBD"
        check("plain ascii", 11, "plain ascii");
        check("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80", 15, "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80");
        check("\xFF", 1, R);                          /* never valid */
        check("a\xC3", 2, "a" R);                     /* truncated */
        check("\xC0\xAF", 2, R R);                    /* overlong '/' */
        check("\xE0\x80\xAF", 3, R R R);              /* overlong */
        check("\xED\xA0\x80", 3, R R R);              /* surrogate */
        check("\xF4\x90\x80\x80", 4, R R R R);        /* > U+10FFFF */
        check("\x80x", 2, R "x");                     /* stray continuation */
        assert(utf8_is_valid("ok \xC3\xA9", 5));
        assert(!utf8_is_valid("\xC3", 1));
        assert(utf8_cut("ab\xE2\x82\xAC", 5, 4) == 2); /* not inside the euro sign */
        assert(utf8_cut("ab\xE2\x82\xAC", 5, 5) == 5);
        assert(utf8_cut("abc", 3, 2) == 2);
        printf("test-utf8: ok\n");
        return 0;
}
