/*
 * zmq-peer - ZeroMQ (libzmq) over ipc:// endpoints in a directory.
 *
 *     zmq-peer serve DIR
 *     zmq-peer client --addr DIR [bench options]     (see bench.h)
 *
 * The server binds three sockets and serves them from two processes (each
 * a plain blocking loop, no zmq_poll on the data path):
 *
 *   ipc://DIR/rr   REP: echo, the request sent back as the reply;
 *   ipc://DIR/pp   PULL: counts each message; an empty message is "done",
 *                  answered with the count (8 bytes) on
 *   ipc://DIR/ack  PUSH, which the client PULLs.
 *
 * Round trips are REQ/REP; the throughput run is PUSH/PULL, whose send
 * high-water mark (1000 messages by default) pushes back on the sender.
 * Every process has libzmq's I/O thread besides its own.
 */
#include <sys/prctl.h>
#include <zmq.h>

#include "bench.h"

struct zctx {
        void *ctx, *req, *push, *ack;
        uint8_t rbuf[BENCH_MAX_SIZE];
};

static void *zsock(void *ctx, int type, const char *dir, const char *name, bool bind)
{
        char ep[4096];
        void *s = zmq_socket(ctx, type);
        int zero = 0;

        snprintf(ep, sizeof(ep), "ipc://%s/%s", dir, name);
        if (!s || zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero)) < 0 ||
            (bind ? zmq_bind(s, ep) : zmq_connect(s, ep)) < 0)
                bench_die("zmq: %s %s: %s", bind ? "bind" : "connect", ep, zmq_strerror(zmq_errno()));
        return s;
}

static void *z_connect(const struct bench_opts *o, long index)
{
        struct zctx *z = calloc(1, sizeof(*z));

        (void)index;
        if (!z || !o->addr)
                return NULL;
        z->ctx = zmq_ctx_new();
        z->req = zsock(z->ctx, ZMQ_REQ, o->addr, "rr", false);
        z->push = zsock(z->ctx, ZMQ_PUSH, o->addr, "pp", false);
        z->ack = zsock(z->ctx, ZMQ_PULL, o->addr, "ack", false);
        return z;
}

static int z_echo(void *ctx, const uint8_t *buf, size_t n)
{
        struct zctx *z = ctx;
        int r;

        if (zmq_send(z->req, buf, n, 0) != (int)n)
                return -1;
        r = zmq_recv(z->req, z->rbuf, sizeof(z->rbuf), 0);
        return r >= 0 && bench_check(z->rbuf, (size_t)r, n) ? 0 : -1;
}

static int z_sink(void *ctx, const uint8_t *buf, size_t n)
{
        struct zctx *z = ctx;

        return zmq_send(z->push, buf, n, 0) == (int)n ? 0 : -1;
}

static int z_done(void *ctx, uint64_t *count)
{
        struct zctx *z = ctx;

        if (zmq_send(z->push, "", 0, 0) != 0 || zmq_recv(z->ack, count, 8, 0) != 8)
                return -1;
        return 0;
}

static void z_disconnect(void *ctx)
{
        struct zctx *z = ctx;

        zmq_close(z->req);
        zmq_close(z->push);
        zmq_close(z->ack);
        zmq_ctx_term(z->ctx);
        free(z);
}

static const struct bench_ops zmq_ops = {
        .name = "zmq",
        .connect = z_connect,
        .echo = z_echo,
        .sink = z_sink,
        .done = z_done,
        .disconnect = z_disconnect,
};

static int serve(const char *dir)
{
        static uint8_t buf[BENCH_MAX_SIZE];
        pid_t child;
        void *ctx;

        child = fork();
        if (child < 0)
                bench_die("fork: %s", strerror(errno));
        if (child == 0) {
                void *pull, *ack;
                uint64_t count = 0;

                prctl(PR_SET_PDEATHSIG, SIGTERM);
                ctx = zmq_ctx_new();
                pull = zsock(ctx, ZMQ_PULL, dir, "pp", true);
                ack = zsock(ctx, ZMQ_PUSH, dir, "ack", true);
                for (;;) {
                        int r = zmq_recv(pull, buf, sizeof(buf), 0);

                        if (r < 0)
                                bench_die("zmq: recv (pull): %s", zmq_strerror(zmq_errno()));
                        if (r > 0)
                                count++;
                        else if (zmq_send(ack, &count, 8, 0) != 8)
                                bench_die("zmq: send (ack): %s", zmq_strerror(zmq_errno()));
                }
        }
        ctx = zmq_ctx_new();
        void *rep = zsock(ctx, ZMQ_REP, dir, "rr", true);
        for (;;) {
                int r = zmq_recv(rep, buf, sizeof(buf), 0);

                if (r < 0)
                        bench_die("zmq: recv (rep): %s", zmq_strerror(zmq_errno()));
                if (zmq_send(rep, buf, (size_t)r, 0) != r)
                        bench_die("zmq: send (rep): %s", zmq_strerror(zmq_errno()));
        }
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "serve") == 0)
                return serve(argv[2]);
        if (argc >= 2 && strcmp(argv[1], "client") == 0)
                return bench_client_main(&zmq_ops, argc - 1, argv + 1);
        fprintf(stderr, "usage: %s serve DIR | client --addr DIR [options]\n", argv[0]);
        return 100;
}
