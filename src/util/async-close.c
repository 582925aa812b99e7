/*
 * One worker thread reading (descriptor, due time) pairs from a pipe,
 * sleeping until each is due and closing it, in the order they came: a
 * descriptor due sooner than one queued before it waits for that one (at
 * most the longest delay a caller uses, 200 ms), which costs nothing but
 * the wait.  A descriptor stays allocated in our table until the worker
 * closes it, so the main thread cannot reuse its number too early.  The
 * worker runs with every signal blocked (it must never take orbitald's)
 * and is never joined: at exit the kernel closes whatever is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/async-close.h"
#include "util/log.h"

struct pending_close {
        int fd;
        struct timespec due; /* CLOCK_MONOTONIC */
};

static int queue_fd = -1; /* write end; -1: no worker (yet, or ever) */
static bool has_failed;

static void *worker(void *arg)
{
        int rd = (int)(long)arg;
        struct pending_close p;

        while (read(rd, &p, sizeof(p)) == (ssize_t)sizeof(p)) {
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &p.due, NULL) == EINTR)
                        ;
                close(p.fd);
        }
        return NULL;
}

static bool worker_start(void)
{
        sigset_t all, old;
        pthread_attr_t attr;
        pthread_t t;
        int p[2], r;

        if (pipe2(p, O_CLOEXEC) < 0) {
                r = errno;
                goto fail;
        }
        fcntl(p[1], F_SETFL, O_NONBLOCK); /* a full queue: close here instead */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 << 10);
        r = pthread_create(&t, &attr, worker, (void *)(long)p[0]);
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0) {
                close(p[0]);
                close(p[1]);
                goto fail;
        }
        queue_fd = p[1];
        return true;
fail:
        has_failed = true;
        log_warn("unable to start the closing thread (%s): slow closes run on the event loop", strerror(r));
        return false;
}

void async_close_later(int fd, uint64_t delay_usec)
{
        struct pending_close p = {.fd = fd};

        if (fd < 0)
                return;
        clock_gettime(CLOCK_MONOTONIC, &p.due);
        p.due.tv_sec += (time_t)(delay_usec / 1000000);
        p.due.tv_nsec += (long)(delay_usec % 1000000) * 1000;
        if (p.due.tv_nsec >= 1000000000L) {
                p.due.tv_sec++;
                p.due.tv_nsec -= 1000000000L;
        }
        if ((queue_fd >= 0 || (!has_failed && worker_start())) &&
            write(queue_fd, &p, sizeof(p)) == (ssize_t)sizeof(p))
                return;
        close(fd);
}
