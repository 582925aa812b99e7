/*
 * floor - the least two processes can do to talk, as the IPC benchmark's
 * baseline: an AF_UNIX SOCK_SEQPACKET socketpair, no daemon, no library.
 *
 *     floor client [bench options]      (see bench.h)
 *
 * Makes one socketpair per client (--clients K, else one), forks the
 * server, then runs the common client loop on the other ends.  Every record
 * is one opcode byte followed by the payload (sent with one sendmsg of two
 * iovecs, so the payload is never copied in user space):
 *
 *   'E'  echo: the server sends the record back as is;
 *   'S'  sink: the server counts it, no reply;
 *   'D'  done: the server replies with its count (8 bytes).
 *
 * One client: the server is a blocking recv()/send() loop on its end.
 * K clients: the server watches the K ends with one epoll set (as a real
 * service with many clients must), recv(MSG_DONTWAIT) until empty.  The
 * server exits when every client end is closed.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "bench.h"

static int *client_ends; /* one per client */

struct floor_ctx {
        int fd;
        uint8_t rbuf[BENCH_MAX_SIZE + 1];
};

static ssize_t send_op(int fd, uint8_t op, const uint8_t *buf, size_t n)
{
        struct iovec iov[2] = {{&op, 1}, {(void *)buf, n}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n ? 2 : 1};

        return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

static void *floor_connect(const struct bench_opts *o, long index)
{
        struct floor_ctx *c = calloc(1, sizeof(*c));

        (void)o;
        if (!c)
                return NULL;
        c->fd = client_ends[index];
        return c;
}

static int floor_echo(void *ctx, const uint8_t *buf, size_t n)
{
        struct floor_ctx *c = ctx;
        ssize_t r;

        if (send_op(c->fd, 'E', buf, n) != (ssize_t)n + 1)
                return -1;
        r = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
        return r > 0 && c->rbuf[0] == 'E' && bench_check(c->rbuf + 1, (size_t)r - 1, n) ? 0 : -1;
}

static int floor_sink(void *ctx, const uint8_t *buf, size_t n)
{
        struct floor_ctx *c = ctx;

        return send_op(c->fd, 'S', buf, n) == (ssize_t)n + 1 ? 0 : -1;
}

static int floor_done(void *ctx, uint64_t *count)
{
        struct floor_ctx *c = ctx;

        if (send_op(c->fd, 'D', NULL, 0) != 1 || recv(c->fd, c->rbuf, sizeof(c->rbuf), 0) != 8)
                return -1;
        memcpy(count, c->rbuf, 8);
        return 0;
}

/* Handles one record; returns false if the end is closed or broken. */
static bool serve_one(int fd, uint8_t *buf, size_t cap, uint64_t *count, int flags)
{
        ssize_t r = recv(fd, buf, cap, flags);

        if (r < 0 && errno == EAGAIN)
                return true;
        if (r <= 0)
                return false;
        switch (buf[0]) {
        case 'E': return send(fd, buf, (size_t)r, MSG_NOSIGNAL) == r;
        case 'S': ++*count; return true;
        case 'D': return send(fd, count, 8, MSG_NOSIGNAL) == 8;
        default: return false;
        }
}

static void serve_blocking(int fd)
{
        static uint8_t buf[BENCH_MAX_SIZE + 1];
        uint64_t count = 0;

        while (serve_one(fd, buf, sizeof(buf), &count, 0))
                ;
        _exit(0);
}

static void serve_epoll(const int *fds, long k)
{
        static uint8_t buf[BENCH_MAX_SIZE + 1];
        uint64_t *counts = calloc((size_t)k, sizeof(*counts));
        struct epoll_event evs[64];
        int ep = epoll_create1(0);
        long open_ends = k;

        if (ep < 0 || !counts)
                _exit(111);
        for (long i = 0; i < k; i++) {
                struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};

                if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
                        _exit(111);
        }
        while (open_ends > 0) {
                int n = epoll_wait(ep, evs, 64, -1);

                for (int e = 0; e < n; e++) {
                        long i = (long)evs[e].data.u64;

                        /* One record per wake-up, as a fair event loop does. */
                        if (!serve_one(fds[i], buf, sizeof(buf), &counts[i], MSG_DONTWAIT)) {
                                close(fds[i]); /* also leaves the epoll set */
                                open_ends--;
                        }
                }
        }
        _exit(0);
}

static const struct bench_ops floor_ops = {
        .name = "floor",
        .connect = floor_connect,
        .echo = floor_echo,
        .sink = floor_sink,
        .done = floor_done,
};

int main(int argc, char **argv)
{
        long k = 1;
        int *server_ends, rc, st;
        pid_t server;

        if (argc < 2 || strcmp(argv[1], "client") != 0) {
                bench_usage(argv[0]);
                return 100;
        }
        for (int i = 2; i + 1 < argc; i++)
                if (strcmp(argv[i], "--clients") == 0)
                        k = strtol(argv[i + 1], NULL, 10);
        if (k < 1)
                k = 1;
        client_ends = calloc((size_t)k, sizeof(int));
        server_ends = calloc((size_t)k, sizeof(int));
        if (!client_ends || !server_ends)
                bench_die("out of memory");
        for (long i = 0; i < k; i++) {
                int sv[2];

                if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                        bench_die("socketpair: %s", strerror(errno));
                client_ends[i] = sv[0];
                server_ends[i] = sv[1];
        }
        fflush(stdout);
        server = fork();
        if (server < 0)
                bench_die("fork: %s", strerror(errno));
        if (server == 0) {
                for (long i = 0; i < k; i++)
                        close(client_ends[i]);
                if (k == 1)
                        serve_blocking(server_ends[0]);
                serve_epoll(server_ends, k);
        }
        for (long i = 0; i < k; i++)
                close(server_ends[i]);
        rc = bench_client_main(&floor_ops, argc - 1, argv + 1);
        fflush(stdout);
        for (long i = 0; i < k; i++)
                close(client_ends[i]);
        if (waitpid(server, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                bench_die("the floor server failed");
        return rc;
}
