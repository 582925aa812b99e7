/*
 * probe - the supervised program of the supervision benchmark.
 *
 * Every supervisor under test (orbitald, s6, runit and the floor) runs this
 * same program, so the only thing that differs between them is how they
 * notice a death and start the next process.
 *
 * On start the probe reads CLOCK_MONOTONIC and sends one datagram
 * "<pid> <ns>" to the AF_UNIX SOCK_DGRAM socket named by the environment
 * variable BENCH_SOCK or, when that is unset, by argv[1].  The environment
 * comes first because an s6 or runit ./run that is a symlink to this binary
 * gets the supervisor's arguments, not ours: s6-supervise 2.11 passes the
 * service name as argv[1].  The benchmark
 * driver listens on that socket, so it sees "running" without polling, and
 * the timestamp is taken in the new process itself: the driver's own
 * wake-up latency is not part of what it measures.
 *
 * With BENCH_NOTIFY_FD=N in the environment it then writes "\n" to fd N
 * and closes it: s6's readiness protocol (the service directory's
 * notification-fd file).  s6-supervise 2.11 waits 1 s before every restart
 * unless the service reported ready at least 1 s before it died, so this is
 * the one knob that lets s6 restart at once.
 *
 * Then it pause()s forever.  SIGTERM (default action) or SIGKILL ends it.
 * It never exits on its own, even when the datagram cannot be sent, so a
 * missing listener does not turn into a crash loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void announce(const char *path, long long now_ns)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char msg[64];
        int fd, n;

        if (!path || strlen(path) >= sizeof(sa.sun_path))
                return;
        strcpy(sa.sun_path, path);
        n = snprintf(msg, sizeof(msg), "%ld %lld", (long)getpid(), now_ns);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        /* Blocking send: if the driver's queue is full we wait, never drop. */
        sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
}

static void notify_ready(void)
{
        const char *s = getenv("BENCH_NOTIFY_FD");
        int fd = s && *s ? atoi(s) : -1;

        if (fd < 0)
                return;
        if (write(fd, "\n", 1) == 1)
                close(fd);
}

int main(int argc, char **argv)
{
        struct timespec ts;
        const char *path;

        clock_gettime(CLOCK_MONOTONIC, &ts); /* first: "running" is now */
        path = getenv("BENCH_SOCK");
        if (!path || !*path)
                path = argc > 1 ? argv[1] : NULL;
        announce(path, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
        notify_ready();
        for (;;)
                pause();
}
