/* Bounded appends; see strbuf.h. */
#include <stdarg.h>
#include <stdio.h>

#include "util/strbuf.h"

void buf_appendf(char *buf, size_t n, size_t *pos, const char *fmt, ...)
{
        va_list ap;
        int r;

        if (*pos + 1 >= n)
                return;
        va_start(ap, fmt);
        r = vsnprintf(buf + *pos, n - *pos, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        *pos = *pos + (size_t)r >= n ? n - 1 : *pos + (size_t)r;
}
