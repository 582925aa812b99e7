#undef NDEBUG

/* Tests for util/burst.c: a burst of reports, then one per period, the
 * rest counted into the next report. */

#include <assert.h>
#include <stdio.h>

#include "util/burst.h"

int main(void)
{
        struct burst b = {0};
        uint64_t held = 99;
        unsigned admitted = 0;

        for (unsigned i = 0; i < 100; i++)
                admitted += burst_admit(&b, 1000 + i, 5, 1000000, &held);
        assert(admitted == 5 && held == 0 && b.suppressed == 95);
        /* Within the period: still held back. */
        assert(!burst_admit(&b, 900000, 5, 1000000, &held) && b.suppressed == 96);
        /* A period after the last report: one goes through, carrying the count. */
        assert(burst_admit(&b, 1004 + 1000000, 5, 1000000, &held) && held == 96 && b.suppressed == 0);
        assert(!burst_admit(&b, 1005 + 1000000, 5, 1000000, &held));
        printf("test-burst: ok\n");
        return 0;
}
