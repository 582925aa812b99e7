/*
 * Restart policy arithmetic: exponential backoff with jitter, and the
 * crash window of the circuit breaker.  Pure functions of their inputs
 * (time and randomness are passed in), so tests need no clock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "supervisor/manifest.h"

/*
 * backoff_delay() - delay before restart number @attempt (0-based) since
 * the last stable run: initial * 2^attempt, capped at max, then moved by
 * up to +/- jitter percent using @rand (uniform 32-bit), capped again.
 */
usec_t backoff_delay(const struct backoff_spec *b, unsigned attempt, uint32_t rand);

/* The times of the last `crashes` deaths, oldest overwritten first. */
struct crash_window {
        usec_t *times;    /* owned, capacity cap */
        unsigned cap, n, head;
};

int crash_window_init(struct crash_window *w, unsigned cap);
void crash_window_deinit(struct crash_window *w);
void crash_window_clear(struct crash_window *w);
/* Records a death at @now; returns how many deaths fall in (now-window, now]. */
unsigned crash_window_add(struct crash_window *w, usec_t now, usec_t window);

/* xorshift32: small, seedable randomness for jitter. */
static inline uint32_t rng_next(uint32_t *state)
{
        uint32_t x = *state ? *state : 0x9e3779b9u;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return *state = x;
}
