#include "util/burst.h"

bool burst_admit(struct burst *b, usec_t now, unsigned burst, usec_t every, uint64_t *suppressed)
{
        if (b->n >= burst && now - b->last < every) {
                b->suppressed++;
                return false;
        }
        if (b->n < burst)
                b->n++;
        b->last = now;
        *suppressed = b->suppressed;
        b->suppressed = 0;
        return true;
}
