/*
 * A tiny epoll event loop.  Objects embed a struct loop_io or struct
 * loop_timer and find themselves with container_of() in the callback; the
 * loop never allocates per event.  All timers share one timerfd armed for
 * the earliest deadline, so an idle loop with no timer due never wakes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/time.h"

struct loop_io;
struct loop_timer;

typedef void (*loop_io_fn)(struct loop_io *io, uint32_t revents);
typedef void (*loop_timer_fn)(struct loop_timer *timer);

struct loop_io {
        int fd;            /* borrowed: the owner closes it after removal */
        uint32_t events;   /* EPOLLIN | EPOLLOUT ... currently registered */
        loop_io_fn fn;
        bool is_added;
};

#define LOOP_IO_INIT {.fd = -1}

struct loop_timer {
        usec_t deadline;   /* CLOCK_MONOTONIC; valid while armed */
        unsigned heap_pos; /* position in the loop's heap, or UINT32_MAX */
        loop_timer_fn fn;
};

#define LOOP_TIMER_INIT(f) {.deadline = 0, .heap_pos = UINT32_MAX, .fn = (f)}

/* Work run after the current batch of events: frees objects whose
 * descriptors may still be pending in that batch. */
struct loop_defer {
        struct loop_defer *next;
        void (*fn)(struct loop_defer *d);
        bool is_queued;
};

struct loop {
        int epoll_fd;
        int timer_fd;
        struct loop_io timer_io;
        struct loop_timer **heap; /* owned array of borrowed timers */
        unsigned n_heap, cap_heap;
        usec_t armed_for;         /* deadline the timerfd holds, 0 = none */
        usec_t now;               /* cached at each wake-up */
        unsigned long n_wakeups;  /* epoll_wait returns, for tests/metrics */
        struct loop_defer *deferred; /* borrowed list, run after the batch */
        bool is_quitting;
};

int loop_init(struct loop *l);
void loop_deinit(struct loop *l);

/* Return: 0, -errno from epoll_ctl. */
int loop_io_add(struct loop *l, struct loop_io *io, int fd, uint32_t events, loop_io_fn fn);
int loop_io_modify(struct loop *l, struct loop_io *io, uint32_t events);
void loop_io_remove(struct loop *l, struct loop_io *io);

/* Arms (or re-arms) @t for @deadline; a past deadline fires on the next
 * iteration.  Return: 0 or -ENOMEM. */
int loop_timer_arm(struct loop *l, struct loop_timer *t, usec_t deadline);
void loop_timer_disarm(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_is_armed(const struct loop_timer *t)
{
        return t->heap_pos != UINT32_MAX;
}

/* Queues @d to run after the current batch (once, however often queued). */
void loop_defer(struct loop *l, struct loop_defer *d, void (*fn)(struct loop_defer *d));

/* Runs whatever is deferred now (also used after the loop has ended). */
void loop_run_deferred(struct loop *l);

/* Waits for and dispatches one batch of events.  @timeout_ms as epoll_wait.
 * Return: 0, or -errno if waiting failed. */
int loop_dispatch(struct loop *l, int timeout_ms);
/* Dispatches until loop_quit(). */
int loop_run(struct loop *l);
static inline void loop_quit(struct loop *l)
{
        l->is_quitting = true;
}
static inline usec_t loop_now(const struct loop *l)
{
        return l->now;
}
