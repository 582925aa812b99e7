/*
 * epoll + one timerfd.  Timers live in a binary min-heap keyed by
 * deadline; each timer records its heap position so disarm is O(log n).
 * The timerfd is re-armed only when the earliest deadline changes, so
 * arming many later timers costs no system call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/loop.h"

#define LOOP_MAX_EVENTS 64

static void loop_on_timerfd(struct loop_io *io, uint32_t revents);

int loop_init(struct loop *l)
{
        *l = (struct loop){.epoll_fd = -1, .timer_fd = -1, .timer_io = LOOP_IO_INIT};
        l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epoll_fd < 0)
                return -errno;
        l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (l->timer_fd < 0) {
                int r = -errno;
                loop_deinit(l);
                return r;
        }
        l->now = now_mono();
        return loop_io_add(l, &l->timer_io, l->timer_fd, EPOLLIN, loop_on_timerfd);
}

void loop_deinit(struct loop *l)
{
        l->epoll_fd = safe_close(l->epoll_fd);
        l->timer_fd = safe_close(l->timer_fd);
        free(l->heap);
        l->heap = NULL;
        l->n_heap = l->cap_heap = 0;
}

int loop_io_add(struct loop *l, struct loop_io *io, int fd, uint32_t events, loop_io_fn fn)
{
        struct epoll_event ev = {.events = events, .data.ptr = io};

        io->fd = fd;
        io->fn = fn;
        io->events = events;
        if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return -errno;
        io->is_added = true;
        return 0;
}

int loop_io_modify(struct loop *l, struct loop_io *io, uint32_t events)
{
        struct epoll_event ev = {.events = events, .data.ptr = io};

        if (io->events == events)
                return 0;
        if (epoll_ctl(l->epoll_fd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
                return -errno;
        io->events = events;
        return 0;
}

void loop_io_remove(struct loop *l, struct loop_io *io)
{
        if (!io->is_added)
                return;
        epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, io->fd, NULL);
        io->is_added = false;
}

/* ---- timer heap ---- */

static void heap_set(struct loop *l, unsigned pos, struct loop_timer *t)
{
        l->heap[pos] = t;
        t->heap_pos = pos;
}

static void heap_up(struct loop *l, unsigned pos)
{
        struct loop_timer *t = l->heap[pos];

        while (pos > 0) {
                unsigned parent = (pos - 1) / 2;
                if (l->heap[parent]->deadline <= t->deadline)
                        break;
                heap_set(l, pos, l->heap[parent]);
                pos = parent;
        }
        heap_set(l, pos, t);
}

static void heap_down(struct loop *l, unsigned pos)
{
        struct loop_timer *t = l->heap[pos];

        for (;;) {
                unsigned child = 2 * pos + 1;
                if (child >= l->n_heap)
                        break;
                if (child + 1 < l->n_heap && l->heap[child + 1]->deadline < l->heap[child]->deadline)
                        child++;
                if (t->deadline <= l->heap[child]->deadline)
                        break;
                heap_set(l, pos, l->heap[child]);
                pos = child;
        }
        heap_set(l, pos, t);
}

static void heap_remove(struct loop *l, struct loop_timer *t)
{
        unsigned pos = t->heap_pos;
        struct loop_timer *last = l->heap[--l->n_heap];

        t->heap_pos = UINT32_MAX;
        if (last == t)
                return;
        heap_set(l, pos, last);
        heap_up(l, pos);
        heap_down(l, last->heap_pos);
}

/* Points the timerfd at the earliest deadline, if that changed. */
static void loop_rearm(struct loop *l)
{
        usec_t next = l->n_heap ? l->heap[0]->deadline : 0;
        struct itimerspec its = {0};

        if (next == l->armed_for)
                return;
        if (next) {
                /* {0,0} would disarm: a deadline of 0 means "now", use 1ns. */
                its.it_value.tv_sec = (time_t)(next / USEC_PER_SEC);
                its.it_value.tv_nsec = (long)(next % USEC_PER_SEC) * 1000;
                if (next == 0 || (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0))
                        its.it_value.tv_nsec = 1;
        }
        timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
        l->armed_for = next;
}

int loop_timer_arm(struct loop *l, struct loop_timer *t, usec_t deadline)
{
        if (deadline == 0)
                deadline = 1;
        if (loop_timer_is_armed(t)) {
                t->deadline = deadline;
                heap_up(l, t->heap_pos);
                heap_down(l, t->heap_pos);
        } else {
                if (l->n_heap == l->cap_heap) {
                        unsigned cap = l->cap_heap ? 2 * l->cap_heap : 16;
                        struct loop_timer **h = realloc(l->heap, cap * sizeof(*h));
                        if (!h)
                                return -ENOMEM;
                        l->heap = h;
                        l->cap_heap = cap;
                }
                t->deadline = deadline;
                heap_set(l, l->n_heap++, t);
                heap_up(l, t->heap_pos);
        }
        loop_rearm(l);
        return 0;
}

void loop_timer_disarm(struct loop *l, struct loop_timer *t)
{
        if (!loop_timer_is_armed(t))
                return;
        heap_remove(l, t);
        loop_rearm(l);
}

static void loop_on_timerfd(struct loop_io *io, uint32_t revents)
{
        struct loop *l = container_of(io, struct loop, timer_io);
        uint64_t expirations;

        (void)!read(l->timer_fd, &expirations, sizeof(expirations));
        l->armed_for = 0; /* the kernel disarmed it by firing */
        while (l->n_heap && l->heap[0]->deadline <= l->now) {
                struct loop_timer *t = l->heap[0];
                heap_remove(l, t);
                t->fn(t);
        }
        loop_rearm(l);
}

void loop_defer(struct loop *l, struct loop_defer *d, void (*fn)(struct loop_defer *d))
{
        if (d->is_queued)
                return;
        d->fn = fn;
        d->next = l->deferred;
        d->is_queued = true;
        l->deferred = d;
}

void loop_run_deferred(struct loop *l)
{
        while (l->deferred) {
                struct loop_defer *d = l->deferred;
                l->deferred = d->next;
                d->is_queued = false;
                d->fn(d);
        }
}

int loop_dispatch(struct loop *l, int timeout_ms)
{
        struct epoll_event events[LOOP_MAX_EVENTS];
        int n = epoll_wait(l->epoll_fd, events, LOOP_MAX_EVENTS, timeout_ms);

        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        l->n_wakeups++;
        l->now = now_mono();
        for (int i = 0; i < n; i++) {
                struct loop_io *io = events[i].data.ptr;
                io->fn(io, events[i].events);
        }
        loop_run_deferred(l);
        return 0;
}

int loop_run(struct loop *l)
{
        while (!l->is_quitting) {
                int r = loop_dispatch(l, -1);
                if (r < 0)
                        return r;
        }
        return 0;
}
