/* Unit test of the event loop: timer ordering, re-arming, disarm, io. */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/loop.h"

static struct loop L;
static int fired[8], n_fired;

struct tt {
        struct loop_timer t;
        int id;
};

static void on_timer(struct loop_timer *t)
{
        fired[n_fired++] = container_of(t, struct tt, t)->id;
}

static void test_timer_order(void)
{
        struct tt a = {LOOP_TIMER_INIT(on_timer), 1}, b = {LOOP_TIMER_INIT(on_timer), 2},
                  c = {LOOP_TIMER_INIT(on_timer), 3}, d = {LOOP_TIMER_INIT(on_timer), 4};
        usec_t now = now_mono();

        n_fired = 0;
        assert(loop_timer_arm(&L, &a.t, now + 30 * USEC_PER_MSEC) == 0);
        assert(loop_timer_arm(&L, &b.t, now + 10 * USEC_PER_MSEC) == 0);
        assert(loop_timer_arm(&L, &c.t, now + 20 * USEC_PER_MSEC) == 0);
        assert(loop_timer_arm(&L, &d.t, now + 5 * USEC_PER_MSEC) == 0);
        loop_timer_disarm(&L, &d.t);
        assert(!loop_timer_is_armed(&d.t));
        /* re-arm a later: now it is first */
        assert(loop_timer_arm(&L, &a.t, now + 1 * USEC_PER_MSEC) == 0);
        while (n_fired < 3)
                assert(loop_dispatch(&L, 1000) == 0);
        assert(fired[0] == 1 && fired[1] == 2 && fired[2] == 3);
        assert(L.n_heap == 0);
}

static void test_past_deadline_fires(void)
{
        struct tt a = {LOOP_TIMER_INIT(on_timer), 7};

        n_fired = 0;
        assert(loop_timer_arm(&L, &a.t, 0) == 0);
        assert(loop_dispatch(&L, 1000) == 0);
        assert(n_fired == 1 && fired[0] == 7);
}

static void test_idle_no_wakeup(void)
{
        unsigned long before = L.n_wakeups;

        assert(loop_dispatch(&L, 50) == 0); /* nothing armed: times out */
        assert(L.n_wakeups == before + 1);  /* one epoll_wait return, no events */
        assert(L.armed_for == 0);
}

static int io_hits;
static void on_io(struct loop_io *io, uint32_t revents)
{
        char c;
        assert(revents & EPOLLIN);
        assert(read(io->fd, &c, 1) == 1);
        io_hits++;
}

static void test_io(void)
{
        int p[2];
        struct loop_io io = LOOP_IO_INIT;

        assert(pipe2(p, O_CLOEXEC) == 0);
        assert(loop_io_add(&L, &io, p[0], EPOLLIN, on_io) == 0);
        assert(write(p[1], "x", 1) == 1);
        assert(loop_dispatch(&L, 1000) == 0);
        assert(io_hits == 1);
        loop_io_remove(&L, &io);
        close(p[0]);
        close(p[1]);
}

int main(void)
{
        assert(loop_init(&L) == 0);
        test_timer_order();
        test_past_deadline_fires();
        test_idle_no_wakeup();
        test_io();
        loop_deinit(&L);
        printf("test-loop: ok\n");
        return 0;
}
