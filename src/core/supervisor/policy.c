/*
 * Backoff and breaker arithmetic.  Nothing here reads the clock or
 * allocates after init; the state machine calls it with `now`.
 */
#include <errno.h>
#include <stdlib.h>

#include "supervisor/policy.h"

usec_t backoff_delay(const struct backoff_spec *b, unsigned attempt, uint32_t rand)
{
        usec_t d = b->initial;

        for (unsigned i = 0; i < attempt && d < b->max; i++)
                d = d > b->max / 2 ? b->max : d * 2;
        if (d > b->max)
                d = b->max;
        if (b->jitter_pc && d) {
                /* span = d * jitter%, offset uniform in [-span, +span] */
                usec_t span = d / 100 * b->jitter_pc + d % 100 * b->jitter_pc / 100;
                usec_t off = span ? (usec_t)((double)rand / UINT32_MAX * (double)(2 * span)) : 0;
                d = d - span + off;
                if (d > b->max)
                        d = b->max;
        }
        return d;
}

int crash_window_init(struct crash_window *w, unsigned cap)
{
        *w = (struct crash_window){0};
        if (!cap)
                return 0;
        w->times = calloc(cap, sizeof(*w->times));
        if (!w->times)
                return -ENOMEM;
        w->cap = cap;
        return 0;
}

void crash_window_deinit(struct crash_window *w)
{
        free(w->times);
        *w = (struct crash_window){0};
}

void crash_window_clear(struct crash_window *w)
{
        w->n = w->head = 0;
}

unsigned crash_window_add(struct crash_window *w, usec_t now, usec_t window)
{
        unsigned in_window = 0;

        if (!w->cap)
                return 0;
        w->times[w->head] = now;
        w->head = (w->head + 1) % w->cap;
        if (w->n < w->cap)
                w->n++;
        for (unsigned i = 0; i < w->n; i++)
                if (now - w->times[i] < window || window == 0)
                        in_window++;
        return in_window;
}
