/*
 * nats-peer - NATS request/reply through a loopback nats-server, with the
 * C client library (libnats, "cnats", Debian's libnats-dev).
 *
 *     nats-peer serve URL
 *     nats-peer client --addr URL [bench options]     (see bench.h)
 *
 * The server has one connection, with SendAsap (each reply is written at
 * once rather than left to the library's flusher thread), and one
 * synchronous subscription to "bench.>" read by its main thread:
 *
 *   bench.echo   request/reply: the payload is published back to the
 *                request's reply subject;
 *   bench.sink   without a reply subject: counted; with one (an empty
 *                request, "done"): answered with the count (8 bytes).
 *                Sink and done share a subject, so one subscription sees
 *                them in the order they were published.
 *
 * The client calls natsConnection_Request() (which sends at once; the
 * library matches the reply on its shared inbox subscription, read by its
 * reader thread) and natsConnection_Publish() (buffered; the request of
 * the next done flushes it).
 *
 * Core NATS has no flow control: a subscriber that falls behind is dropped
 * as a slow consumer and messages are lost.  So the run script gives the
 * throughput run a --window (a done every W messages, a few MiB in flight).
 */
#include <nats/nats.h>

#include "bench.h"

#define TIMEOUT_MS 30000

static natsConnection *nats_open(const char *url, bool send_asap)
{
        natsConnection *nc = NULL;
        natsOptions *opts = NULL;
        natsStatus s = natsOptions_Create(&opts);

        if (s == NATS_OK)
                s = natsOptions_SetURL(opts, url);
        if (s == NATS_OK)
                s = natsOptions_SetSendAsap(opts, send_asap);
        if (s == NATS_OK)
                s = natsOptions_SetTimeout(opts, 10000);
        for (int i = 0; s == NATS_OK; i++) {
                s = natsConnection_Connect(&nc, opts);
                if (s != NATS_NO_SERVER || i == 200)
                        break;
                s = NATS_OK; /* the server may still be starting */
                usleep(10000);
        }
        if (s != NATS_OK)
                bench_die("nats: connect to %s: %s", url, natsStatus_GetText(s));
        natsOptions_Destroy(opts);
        return nc;
}

/* Connects, then waits until the server's subscription is in place. */
static void *n_connect(const struct bench_opts *o, long index)
{
        natsConnection *nc;
        natsMsg *reply = NULL;
        natsStatus s;

        (void)index;
        if (!o->addr)
                return NULL;
        nc = nats_open(o->addr, false);
        for (int i = 0; (s = natsConnection_Request(&reply, nc, "bench.sink", NULL, 0, TIMEOUT_MS)) != NATS_OK;
             i++) {
                if (s != NATS_NO_RESPONDERS || i == 1000)
                        bench_die("nats: no server on bench.sink: %s", natsStatus_GetText(s));
                usleep(10000);
        }
        natsMsg_Destroy(reply);
        return nc;
}

static int n_echo(void *ctx, const uint8_t *buf, size_t n)
{
        natsMsg *reply = NULL;
        natsStatus s = natsConnection_Request(&reply, ctx, "bench.echo", buf, (int)n, TIMEOUT_MS);
        int ok;

        if (s != NATS_OK) {
                fprintf(stderr, "nats: request: %s\n", natsStatus_GetText(s));
                return -1;
        }
        ok = bench_check(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), n);
        natsMsg_Destroy(reply);
        return ok ? 0 : -1;
}

static int n_sink(void *ctx, const uint8_t *buf, size_t n)
{
        natsStatus s = natsConnection_Publish(ctx, "bench.sink", buf, (int)n);

        if (s != NATS_OK)
                fprintf(stderr, "nats: publish: %s\n", natsStatus_GetText(s));
        return s == NATS_OK ? 0 : -1;
}

static int n_done(void *ctx, uint64_t *count)
{
        natsMsg *reply = NULL;
        natsStatus s = natsConnection_Request(&reply, ctx, "bench.sink", NULL, 0, TIMEOUT_MS);
        int ok;

        if (s != NATS_OK) {
                fprintf(stderr, "nats: done: %s\n", natsStatus_GetText(s));
                return -1;
        }
        ok = natsMsg_GetDataLength(reply) == 8;
        if (ok)
                memcpy(count, natsMsg_GetData(reply), 8);
        natsMsg_Destroy(reply);
        return ok ? 0 : -1;
}

static void n_disconnect(void *ctx)
{
        natsConnection_Destroy(ctx);
}

static const struct bench_ops nats_ops = {
        .name = "nats",
        .connect = n_connect,
        .echo = n_echo,
        .sink = n_sink,
        .done = n_done,
        .disconnect = n_disconnect,
};

static int serve(const char *url)
{
        natsConnection *nc = nats_open(url, true);
        natsSubscription *sub = NULL;
        uint64_t count = 0;
        natsStatus s;

        s = natsConnection_SubscribeSync(&sub, nc, "bench.>");
        if (s == NATS_OK)
                s = natsSubscription_SetPendingLimits(sub, -1, -1);
        if (s == NATS_OK)
                s = natsConnection_Flush(nc); /* the subscription is known to the server */
        if (s != NATS_OK)
                bench_die("nats: subscribe: %s", natsStatus_GetText(s));
        for (;;) {
                natsMsg *m = NULL;
                const char *reply;

                s = natsSubscription_NextMsg(&m, sub, 3600 * 1000);
                if (s == NATS_TIMEOUT)
                        continue;
                if (s != NATS_OK)
                        bench_die("nats: next message: %s", natsStatus_GetText(s));
                reply = natsMsg_GetReply(m);
                if (strcmp(natsMsg_GetSubject(m), "bench.echo") == 0) {
                        if (reply)
                                s = natsConnection_Publish(nc, reply, natsMsg_GetData(m), natsMsg_GetDataLength(m));
                } else if (!reply) {
                        count++;
                } else {
                        s = natsConnection_Publish(nc, reply, &count, 8);
                }
                natsMsg_Destroy(m);
                if (s != NATS_OK)
                        bench_die("nats: reply: %s", natsStatus_GetText(s));
        }
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "serve") == 0)
                return serve(argv[2]);
        if (argc >= 2 && strcmp(argv[1], "client") == 0)
                return bench_client_main(&nats_ops, argc - 1, argv + 1);
        fprintf(stderr, "usage: %s serve URL | client --addr URL [options]\n", argv[0]);
        return 100;
}
