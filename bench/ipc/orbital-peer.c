/*
 * orbital-peer - the Orbital bus through liborbital, under a real orbitald.
 *
 *     orbital-peer serve
 *     orbital-peer register PREFIX FIRST COUNT
 *     orbital-peer client --addr BUS_SOCKET [--extra TYPE,...] [bench options]   (see bench.h)
 *
 * serve: a supervised service (its manifest says `capabilities:
 * [provide:bench]`); orb_conn_open() finds its bus connection in
 * $ORB_BUS_FD.  It registers service type "bench" at 1.0 with the contract
 * below and runs orb_conn_run(): one thread, every channel in one loop.
 *
 *   echo  the data field back in the reply;
 *   sink  oneway: counted;
 *   done  the count, after every earlier sink on the channel.
 *
 * register: a supervised helper that registers COUNT service types named
 * PREFIX-NNNNN (from FIRST), each with a one-method contract, so that the
 * broker's registry holds many services while "bench" is measured.  Its
 * manifest lists a provide:PREFIX-NNNNN capability for each.  It says ready
 * (orb_conn_ready) once all are registered, then serves them.
 *
 * client: an outside process.  It connects to orbitald's bus socket with
 * orb_conn_open_path() (as root it may look up any service), waits until
 * each type in --extra can be looked up (the helpers are done), then looks
 * up "bench" (retrying while it is not registered yet) and gets its own
 * channel: from then on calls go straight to the service, not through
 * orbitald.  echo is orb_client_call(), sink orb_client_notify(wait=true:
 * the channel's backpressure), done orb_client_call().
 */
#include <orbital/orbital.h>

#include "bench.h"

#define TYPE "bench"
#define CONTRACT                                                          \
        "interface bench 1.0\n"                                           \
        "method echo@1 read (data: bytes@1) -> (data: bytes@1)\n"         \
        "method sink@2 read oneway (data: bytes@1)\n"                     \
        "method done@3 read () -> (count: u64@1)\n"
#define REG_CONTRACT                                                      \
        "interface benchreg 1.0\n"                                        \
        "method nop@1 read () -> ()\n"
#define TAG_DATA 1
#define TAG_COUNT 1
#define LOOKUP_TRIES 3000 /* 10 ms apart: 30 s */

/* ---- service side ---- */

static int on_echo(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct orb_msg *reply = orb_call_reply_msg(call);
        const void *p;
        size_t n;
        int r = orb_msg_get_bytes(args, TAG_DATA, &p, &n);

        (void)userdata;
        if (r < 0)
                return -ORB_E_INVALID;
        orb_msg_put_bytes(reply, TAG_DATA, p, n);
        return orb_call_reply(call, reply);
}

static int on_sink(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        (void)call;
        (void)args;
        ++*(uint64_t *)userdata;
        return 0;
}

static int on_done(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct orb_msg *reply = orb_call_reply_msg(call);

        (void)args;
        orb_msg_put_u64(reply, TAG_COUNT, *(uint64_t *)userdata);
        return orb_call_reply(call, reply);
}

static int on_nop(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        (void)args;
        (void)userdata;
        return orb_call_reply(call, orb_call_reply_msg(call));
}

static struct orb_conn *bus_or_die(void)
{
        struct orb_conn *c = NULL;
        int r = orb_conn_open(&c);

        if (r < 0)
                bench_die("orbital: unable to open the bus ($ORB_BUS_FD): %s", orb_strerror(r));
        return c;
}

static int serve(void)
{
        static const struct orb_handler handlers[] = {
                {"echo", on_echo}, {"sink", on_sink}, {"done", on_done}, {NULL, NULL},
        };
        static uint64_t count;
        struct orb_conn *c = bus_or_die();
        struct orb_service *svc = NULL;
        int r = orb_conn_serve(c, TYPE, "1.0", CONTRACT, handlers, &count, &svc);

        if (r < 0)
                bench_die("orbital: unable to register %s: %s", TYPE, orb_strerror(r));
        orb_conn_ready(c);
        r = orb_conn_run(c);
        fprintf(stderr, "orbital-peer: run ended: %s\n", orb_strerror(r));
        return r == -EPIPE ? 0 : 1;
}

static int register_many(const char *prefix, long first, long count)
{
        static const struct orb_handler handlers[] = {{"nop", on_nop}, {NULL, NULL}};
        struct orb_conn *c = bus_or_die();
        int64_t t0 = bench_now_ns();
        char type[128];
        int r;

        for (long i = first; i < first + count; i++) {
                struct orb_service *svc = NULL;

                snprintf(type, sizeof(type), "%s-%05ld", prefix, i);
                r = orb_conn_serve(c, type, "1.0", REG_CONTRACT, handlers, NULL, &svc);
                if (r < 0)
                        bench_die("orbital: unable to register %s: %s", type, orb_strerror(r));
        }
        fprintf(stderr, "orbital-peer: registered %ld service types in %.1f ms\n", count,
                (double)(bench_now_ns() - t0) / 1e6);
        orb_conn_ready(c);
        r = orb_conn_run(c);
        return r == -EPIPE ? 0 : 1;
}

/* ---- client side ---- */

struct octx {
        struct orb_conn *conn;
        struct orb_client *cl;
        struct orb_msg *reply; /* kept across calls: orb_client_call reuses it */
};

/* Looks @type up, retrying while it is not there yet. */
static struct orb_client *lookup(struct orb_conn *c, const char *type)
{
        struct orb_client *cl = NULL;
        int r;

        for (int i = 0; (r = orb_conn_lookup(c, type, NULL, &cl)) == -ORB_E_NOT_FOUND && i < LOOKUP_TRIES; i++)
                usleep(10000);
        if (r < 0) {
                fprintf(stderr, "orbital: lookup of %s: %s\n", type, orb_strerror(r));
                return NULL;
        }
        return cl;
}

static void *o_connect(const struct bench_opts *o, long index)
{
        struct octx *x = calloc(1, sizeof(*x));
        int r;

        (void)index;
        if (!x || !o->addr)
                return NULL;
        r = orb_conn_open_path(o->addr, &x->conn);
        if (r < 0) {
                fprintf(stderr, "orbital: unable to connect to %s: %s\n", o->addr, orb_strerror(r));
                return NULL;
        }
        if (o->extra && *o->extra) {
                char *types = strdup(o->extra), *save = NULL;

                for (char *t = strtok_r(types, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        struct orb_client *cl = lookup(x->conn, t);

                        if (!cl)
                                return NULL;
                        orb_client_close(cl);
                }
                free(types);
        }
        x->cl = lookup(x->conn, TYPE);
        return x->cl ? x : NULL;
}

static struct orb_msg *request(struct octx *x, const char *method)
{
        struct orb_msg *m = orb_client_request(x->cl, method);

        if (!m)
                bench_die("orbital: the contract has no method %s", method);
        return m;
}

static int o_echo(void *ctx, const uint8_t *buf, size_t n)
{
        struct octx *x = ctx;
        struct orb_msg *req = request(x, "echo"), *reply = x->reply; /* reused: no allocation */
        const void *p = NULL;
        size_t len = 0;
        int r;

        orb_msg_put_bytes(req, TAG_DATA, buf, n);
        r = orb_client_call(x->cl, req, -1, &reply);
        x->reply = reply;
        if (r == 0)
                r = orb_msg_get_bytes(reply, TAG_DATA, &p, &len);
        if (r == 0 && !bench_check(p, len, n))
                r = -ORB_E_PROTO;
        if (r < 0)
                fprintf(stderr, "orbital: echo: %s\n", orb_strerror(r));
        return r;
}

static int o_sink(void *ctx, const uint8_t *buf, size_t n)
{
        struct octx *x = ctx;
        struct orb_msg *req = request(x, "sink");
        int r;

        orb_msg_put_bytes(req, TAG_DATA, buf, n);
        r = orb_client_notify(x->cl, req, true);
        if (r < 0)
                fprintf(stderr, "orbital: sink: %s\n", orb_strerror(r));
        return r;
}

static int o_done(void *ctx, uint64_t *count)
{
        struct octx *x = ctx;
        struct orb_msg *reply = NULL;
        int r = orb_client_call(x->cl, request(x, "done"), -1, &reply);

        if (r == 0)
                r = orb_msg_get_u64(reply, TAG_COUNT, count);
        if (r < 0)
                fprintf(stderr, "orbital: done: %s\n", orb_strerror(r));
        orb_msg_free(reply);
        return r;
}

static void o_disconnect(void *ctx)
{
        struct octx *x = ctx;

        orb_msg_free(x->reply);
        orb_client_close(x->cl);
        orb_conn_close(x->conn);
        free(x);
}

static const struct bench_ops orbital_ops = {
        .name = "orbital",
        .connect = o_connect,
        .echo = o_echo,
        .sink = o_sink,
        .done = o_done,
        .disconnect = o_disconnect,
};

int main(int argc, char **argv)
{
        if (argc == 2 && strcmp(argv[1], "serve") == 0)
                return serve();
        if (argc == 5 && strcmp(argv[1], "register") == 0)
                return register_many(argv[2], strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10));
        if (argc >= 2 && strcmp(argv[1], "client") == 0)
                return bench_client_main(&orbital_ops, argc - 1, argv + 1);
        fprintf(stderr, "usage: %s serve | register PREFIX FIRST COUNT | client --addr BUS_SOCKET [options]\n",
                argv[0]);
        return 100;
}
